"""The NVDLA check's Python side without NVDLA's RTL: the player's output parsed into results (a
player that dies or hangs is reported, never taken as a pass), the table, the summary, and the
digest folders handed to the player (a stand-in player script reads them)."""
from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

from nvdla_int8.conformance import find_traces
from nvdla_int8.hw.regmap import REGMAP

from tb.nvdla.run import CRASH, FAIL, HANG, PASS, Result, check, format_line, parse_player, summary, trace_names

ROOT = Path(__file__).resolve().parent.parent.parent


def _line(status="PASS", cycles=100, message=""):
    return json.dumps({"dir": "d", "status": status, "cycles": cycles, "clocks": 1, "read_beats": 0,
                       "write_beats": 0, "seconds": 0.5, "message": message})


def test_parse_reports_every_status_and_a_dead_player():
    out = "\n".join([_line(), _line(HANG, -1, "no interrupt"), "not json", _line(FAIL, 7, "CRC 0x1")])
    rs = parse_player(out, "line one\nsegfault here\n", ["a", "b", "c", "d"])
    assert [r.status for r in rs] == [PASS, HANG, FAIL, CRASH]
    assert rs[1].cycles is None and rs[1].message == "no interrupt"
    assert rs[2].cycles == 7
    assert "segfault here" in rs[3].message  # the player's last words name why the rest is missing


def test_a_hang_names_the_units_still_busy():
    cdma = REGMAP.reg("CDMA", "S_STATUS")
    word = cdma.encode(STATUS_0=cdma.field("STATUS_0").enums["RUNNING"])
    line = json.dumps({"dir": "d", "status": HANG, "cycles": -1, "clocks": 1, "read_beats": 5, "write_beats": 0,
                       "seconds": 0.1, "message": "no interrupt",
                       "probes": {"read_beats": 5, "write_beats": 0, "CDMA.S_STATUS": word, "CSC.S_STATUS": 0}})
    msg = parse_player(line, "", ["a"])[0].message
    assert "CDMA group 0 running" in msg and "CSC" not in msg and "5 read / 0 write beats" in msg


def test_ratio_and_summary_count_only_what_both_ran():
    rs = [Result("a", PASS, 200, PASS, 150), Result("b", PASS, 100, PASS, 90),
          Result("c", HANG, None, PASS, 80), Result("d", FAIL, 50, PASS, 10)]
    assert rs[0].ratio == 150 / 200 and rs[2].ratio is None
    s = summary(rs)
    assert s.startswith("NVDLA's RTL: 2/4 pass, 1 fail, 1 hang")
    assert f"{(150 + 90) / (200 + 100):.3f} of NVDLA's cycles over 2 passing traces" in s
    assert "HANG" in format_line(rs[2]) and "ours PASS" in format_line(rs[2])


def _stand_in_player(tmp: Path, *, die_after: int, verdict: str = "PASS") -> Path:
    """A player that checks each digest folder the real one reads, gives the first die_after
    traces the verdict (PASS when the digest is sound) and then exits without a word, as a
    crashing simulator would."""
    script = tmp / "player.py"
    script.write_text(f"""#!{sys.executable}
import json, sys
from pathlib import Path
dirs = [a for a in sys.argv[1:] if not a.startswith('-') and Path(a).is_dir()]
for i, d in enumerate(dirs):
    if i == {die_after}:
        print("simulated crash", file=sys.stderr); sys.exit(3)
    prog = (Path(d) / "program.txt").read_text().split("\\n")
    ok = prog[0] == "load" and (Path(d) / "mem.bin").stat().st_size > 0 and any(p.startswith("c ") for p in prog)
    print(json.dumps(dict(dir=d, status="{verdict}" if ok else "FAIL", cycles=len(prog), clocks=0, read_beats=0,
                          write_beats=0, seconds=0.0, message="bad digest" if not ok else "" if "{verdict}" == "PASS" else "no interrupt")))
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_check_hands_digests_to_the_player_and_reports_its_crash(tmp_path):
    cfgs = find_traces([ROOT / "vectors" / "nvdla-rules" / "per_kernel"])[:3]
    rs = check(_stand_in_player(tmp_path, die_after=2), cfgs, ours=False, work=tmp_path)
    assert [r.status for r in rs] == [PASS, PASS, CRASH]
    assert [r.name for r in rs] == [c.stem for c in cfgs]
    assert "simulated crash" in rs[2].message


def test_names_tell_apart_the_same_layer_in_two_folders():
    assert trace_names(["a/per-kernel/L00.cfg", "a/per-filter/L00.cfg", "a/x/L01.cfg"]) == \
        ["per-kernel/L00", "per-filter/L00", "L01"]


def test_regression_backend_nvdla_fails_a_seed_that_hangs(tmp_path, monkeypatch):
    from tb.regress.runner import Regression
    from tb.stimulus import Constraints

    monkeypatch.setenv("NVDLA_PLAYER", str(_stand_in_player(tmp_path, die_after=99, verdict=HANG)))
    res = Regression(Constraints.load("smoke"), tmp_path / "run", "nvdla").run_batch([1, 2])
    assert [r.status for r in res] == ["FAIL", "FAIL"]
    assert all(r.message.startswith("hang on NVDLA's RTL") and "BACKEND=nvdla" in r.replay for r in res)
