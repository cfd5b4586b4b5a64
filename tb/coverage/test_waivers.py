"""The waiver list of code-coverage holes (tb/coverage/waivers.py): what an entry matches, the raw
and waived figures side by side, and the entries that must be fixed (they hide a covered point,
or name nothing)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from nvdla_int8.errors import InputError
from tb.coverage import waivers
from tb.coverage.code import apply_waivers, main, report, summarize
from tb.coverage.test_code import _dat, _point
from tb.rtl_build import rtl_dir


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "waivers.yaml"
    p.write_text(text)
    return p


def _toggles(src: Path, line: int, name: str, covered: dict[int, tuple[int, int]]) -> dict[str, int]:
    """Points of one signal: bit -> (count 0->1, count 1->0)."""
    return {_point(src, line, "v_toggle/a", f"{name}[{b}]:{e}", "top.u0"): n
            for b, (up, down) in covered.items() for e, n in (("0->1", up), ("1->0", down))}


def test_entry_matches_signal_bits_and_edge(tmp_path):
    ws = waivers.load(_write(tmp_path, """
- {file: a.sv, signal: "d_q[1][3]", bits: "0-2,8", reason: "brackets are literal"}
- {file: a.sv, signal: "cfg.*", edge: "1->0", reason: "any field, one direction"}
"""))
    d, cfg = ws
    assert d.matches(("toggle", "a.sv", 9, "d_q[1][3][2]:0->1"))
    assert d.matches(("toggle", "a.sv", 9, "d_q[1][3][8]:1->0"))
    assert not d.matches(("toggle", "a.sv", 9, "d_q[1][3][3]:0->1"))       # bit outside
    assert not d.matches(("toggle", "a.sv", 9, "d_q[1][1][2]:0->1"))       # not a character class
    assert not d.matches(("toggle", "b.sv", 9, "d_q[1][3][2]:0->1"))       # other file
    assert not d.matches(("line", "a.sv", 9, "d_q[1][3][2]:0->1"))         # other kind
    assert cfg.matches(("toggle", "a.sv", 3, "cfg.misc.mode:1->0"))        # a 1-bit signal is bit 0
    assert not cfg.matches(("toggle", "a.sv", 3, "cfg.misc.mode:0->1"))


def test_a_branch_entry_names_its_line(tmp_path):
    [w] = waivers.load(_write(tmp_path, "- {file: a.sv, kind: branch, line: 7, signal: if, reason: a branch}"))
    assert w.matches(("branch", "a.sv", 7, "if")) and not w.matches(("branch", "a.sv", 8, "if"))
    assert not w.matches(("branch", "a.sv", 7, "else"))


def test_waived_figure_beside_raw_and_every_hole_with_its_reason(tmp_path):
    rtl = tmp_path / "rtl_models"
    rtl.mkdir()
    src = rtl / "a.sv"
    src.write_text("module a;\n  logic [3:0] addr;\n  logic [3:0] cnt;\n  logic [1:0] hi;\nendmodule\n")
    dat = _dat(tmp_path / "1.dat", {
        **_toggles(src, 2, "addr", {0: (0, 0), 1: (0, 0), 2: (1, 1), 3: (1, 1)}),   # bits 0-1: aligned, constant
        **_toggles(src, 3, "cnt", {0: (1, 1), 1: (1, 1), 2: (1, 1), 3: (0, 0)}),    # bit 3: reachable, not reached
        **_toggles(src, 4, "hi", {0: (0, 0), 1: (0, 0)})})                          # nobody explains it
    ws = waivers.load(_write(tmp_path, """
- {file: a.sv, signal: addr, bits: "0-1", reason: 8-byte aligned}
- {file: a.sv, signal: cnt, bits: "3", action: explain, reason: needs 8 or more}
"""))
    cov = apply_waivers(summarize([dat], rtl), ws)
    # 20 points, 10 covered; 4 waived (addr 0-1), 2 explained (cnt 3), 4 unexplained (hi)
    assert cov.line() == "toggle 50.0% raw (10/20), 62.5% waived (10/16, 4 points waived)"
    assert cov.applied.bad() == []
    text = report(cov, rtl)
    assert "(4 waived, 2 explained, 4 unexplained)" in text
    unexplained, explained, waived = (text.index(s) for s in ("-- unexplained", "-- explain #2", "-- waive #1"))
    assert unexplained < text.index("hi: bits 0-1 never toggle") < explained
    assert explained < text.index("cnt: bits 3 never toggle") < waived < text.index("addr: bits 0-1 never toggle")
    assert "needs 8 or more" in text and "8-byte aligned" in text


def test_a_waiver_that_hides_a_covered_bit_or_names_nothing_is_reported(tmp_path, capsys):
    rtl = tmp_path / "rtl_models"
    rtl.mkdir()
    src = rtl / "a.sv"
    src.write_text("module a;\n  logic [3:0] addr;\nendmodule\n")
    cov_dir = tmp_path / "cov"
    cov_dir.mkdir()
    _dat(cov_dir / "1.dat", _toggles(src, 2, "addr", {0: (0, 0), 1: (0, 0), 2: (1, 1), 3: (0, 0)}))
    stale = _write(tmp_path, """
- {file: a.sv, signal: addr, bits: "0-2", reason: "too broad: bit 2 toggles"}
- {file: a.sv, signal: adr, reason: "a typo: matches nothing"}
- {file: a.sv, signal: addr, bits: "3", reason: fine}
- {file: a.sv, signal: addr, action: explain, reason: "fine: an explanation may name moving bits"}
- {file: a.sv, signal: addr, bits: "2", action: explain, reason: "explains no hole: bit 2 moves"}
""")
    cov = apply_waivers(summarize(sorted(cov_dir.glob("*.dat")), rtl), waivers.load(stale))
    bad = cov.applied.bad()
    assert len(bad) == 3
    assert bad[0].startswith("#1 waive a.sv addr bits 0-2: matches 2 covered point(s), e.g. addr[2]:")
    assert bad[1:] == ["#2 waive a.sv adr: matches no coverage point", "#5 explain a.sv addr bits 2: matches no hole"]
    # the command fails on it (rtl_models/ here is the test's, through rtl_dir)
    import tb.coverage.code as code
    orig = code.rtl_dir
    code.rtl_dir = lambda: rtl
    try:
        assert main([str(cov_dir), "--waivers", str(stale)]) == 1
    finally:
        code.rtl_dir = orig
    assert "entry to fix: #1 waive" in capsys.readouterr().err


@pytest.mark.parametrize("text, message", [
    ("- {file: a.sv, reason: x}", "entry 1: 'signal' is missing or empty"),
    ("- {file: a.sv, signal: s, reason: x, bits: 3-1}", "entry 1: bits '3-1': the range runs backwards"),
    ("- {file: a.sv, signal: s, reason: x, bits: 'x'}", "entry 1: bits 'x' is not like"),
    ("- {file: a.sv, signal: s, reason: x, edge: up}", "entry 1: edge 'up': use one of 0->1, 1->0"),
    ("- {file: a.sv, signal: s, reason: x, action: hide}", "entry 1: action 'hide': use one of waive, explain"),
    ("- {file: a.sv, signal: s, reason: x, bitz: 1}", "entry 1: unknown key(s) bitz"),
    ("- {file: a.sv, signal: s, reason: x, kind: line, bits: 1}", "entry 1: bits and edge apply to toggle"),
    ("- {file: a.sv, signal: s, reason: x, line: 0}", "entry 1: line 0 is not a source line number"),
    ("{file: a.sv}", "must be a YAML list"),
    ("- [unclosed", "not YAML"),
])
def test_bad_entries_are_one_line_errors(tmp_path, text, message):
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as e:
        waivers.load(p)
    assert str(p) in str(e.value) and message in str(e.value) and "\n" not in str(e.value)


def test_the_shipped_list_names_real_signals_and_gives_reasons():
    """Every entry of tb/coverage/waivers.yaml loads and names a file and signal of rtl_models/
    (a simulation-free check; `make regress CODE_COVERAGE=1` checks them against the coverage)."""
    ws = waivers.load()
    assert ws
    for w in ws:
        src = rtl_dir() / w.file
        assert src.is_file(), w.label()
        text = src.read_text()
        if w.kind != "toggle":  # branch and line points are named by their line
            assert w.line is None or w.line <= len(text.splitlines()), w.label()
        elif w.pattern != "*":
            name = re.findall(r"\w+", w.pattern)[0]  # the first literal part: the signal, not a struct field
            start = "" if w.pattern.startswith(("*", "?")) else r"\b"
            assert re.search(start + re.escape(name), text), w.label()
        assert len(w.reason) > 20, w.label()
