"""Replay traces on NVDLA's own nv_small RTL (the player binary of tb/nvdla/player.cpp) and, beside
it, on our RTL (tb/raw, zero-latency memory): both read the same digest folders (tb/raw/digest.py).
Pure Python around two subprocesses; the parsing and the table are unit-tested
(tb/nvdla/test_run.py) without either simulator."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from nvdla_int8.conformance import TraceOutcome
from nvdla_int8.errors import InputError
from nvdla_int8.fileio import write_atomic
from nvdla_int8.hw.regmap import REGMAP

from ..raw.digest import digest_all

PASS, FAIL, HANG, CRASH = "PASS", "FAIL", "HANG", "CRASH"
# Read after reset until 1 before a trace starts (player.cpp: NVDLA's power-on CBUF flush).
FLUSH_STATUS = REGMAP.reg("CDMA", "S_CBUF_FLUSH_STATUS").address
# Read after a hang, to say which units are still running a group.
PROBES = [REGMAP.reg(u, "S_STATUS") for u in ("CDMA", "CSC", "CMAC_A", "CMAC_B", "CACC", "SDP_RDMA", "SDP")]


@dataclass
class Result:
    name: str
    status: str  # NVDLA: PASS, FAIL (CRC or read mismatch), HANG, CRASH (the player died)
    cycles: int | None  # first register write to the last interrupt, on NVDLA's RTL
    ours_status: str | None = None  # our RTL (tb/raw), when replayed
    ours_cycles: int | None = None
    seconds: float = 0.0
    message: str = ""

    @property
    def ratio(self) -> float | None:
        """Our cycles over NVDLA's when both ran the whole trace: below 1, our RTL is faster."""
        if self.status == PASS and self.ours_status == PASS and self.cycles and self.ours_cycles:
            return self.ours_cycles / self.cycles
        return None




def player_binary(player: str | None = None) -> Path:
    """The player binary (--player, $NVDLA_PLAYER): tb/nvdla/player.cpp linked with NVDLA's
    Verilated nv_small RTL, built outside this repository (README, "NVDLA's own RTL")."""
    player = player or os.environ.get("NVDLA_PLAYER")
    if not player:
        raise InputError("set NVDLA_PLAYER=path/to/the built player (tb/nvdla/player.cpp with NVDLA's RTL)")
    if not Path(player).is_file():
        raise InputError("no such player binary", where=f"NVDLA_PLAYER={player}")
    return Path(player)


def describe_probes(probes: dict) -> str:
    """'still busy: CDMA group 1 running, CSC group 1 running; 123 read / 45 write beats' from the
    player's probe reads after a hang."""
    if probes.get("csb") == "no answer":
        return "the CSB port no longer answers"
    busy = []
    for reg in PROBES:
        word = probes.get(f"{reg.unit}.{reg.name}")
        if word is None:
            continue
        for f in reg.fields:
            state = {v: k for k, v in f.enums.items()}.get(f.get(word), str(f.get(word)))
            if state != "IDLE":
                busy.append(f"{reg.unit} group {f.name[-1]} {state.lower()}")
    traffic = f"{probes.get('read_beats', '?')} read / {probes.get('write_beats', '?')} write beats"
    return f"still busy: {', '.join(busy) or 'no unit'}; {traffic}"


def parse_player(stdout: str, stderr: str, names: list[str]) -> list[Result]:
    """One Result per trace, in order, from the player's JSON lines; traces the player never
    reported (it died) are CRASH with the end of its error output."""
    rows = [json.loads(ln) for ln in stdout.splitlines() if ln.startswith("{")]
    out = []
    for i, name in enumerate(names):
        if i < len(rows):
            r = rows[i]
            cycles = r["cycles"] if r["cycles"] >= 0 else None
            msg = r["message"] + (f" ({describe_probes(r['probes'])})" if r.get("probes") else "")
            out.append(Result(name, r["status"], cycles, seconds=r["seconds"], message=msg))
        else:
            tail = " ".join(stderr.strip().splitlines()[-2:])[-300:]
            out.append(Result(name, CRASH, None, message=f"the player stopped: {tail or 'no error output'}"))
    return out


def trace_names(cfgs) -> list[str]:
    """Each trace's name: its file stem, with its folder in front where two stems are the same
    (a compiled model's layers have the same names in both quantization modes)."""
    stems = [Path(c).stem for c in cfgs]
    return [f"{Path(c).parent.name}/{s}" if stems.count(s) > 1 else s for c, s in zip(cfgs, stems)]


def play(player: Path, dirs: list[Path], *, read_latency: int, limit: int) -> tuple[str, str]:
    p = subprocess.run(["nice", str(player), "--read-latency", str(read_latency), "--limit", str(limit),
                        "--flush-status", hex(FLUSH_STATUS),
                        *(a for reg in PROBES for a in ("--probe", f"{reg.unit}.{reg.name}={reg.address:#x}")),
                        *map(str, dirs)], capture_output=True, text=True)
    return p.stdout, p.stderr


def add_ours(results: list[Result], dirs: list[Path]) -> None:
    """Our RTL's status and cycles on the same digests, memory without stalls."""
    from ..raw.run import replay

    try:
        rows, _ = replay(dirs, stall=False)
    except RuntimeError as e:  # our harness stopped: keep NVDLA's results, say why ours are missing
        for r in results:
            r.ours_status = CRASH
        results[0].message = (results[0].message + f"; our RTL: {e}").lstrip("; ")
        return
    for r, o in zip(results, rows):
        r.ours_status = o["status"]
        r.ours_cycles = o["cycles"] if o["cycles"] >= 0 else None


def check(player: Path, cfgs: list[Path], *, ours: bool = True, read_latency: int = 0,
          limit: int = 20_000_000, work: Path | None = None) -> list[Result]:
    """Digest the traces once, replay them on NVDLA's RTL and (ours) on our RTL."""
    with tempfile.TemporaryDirectory(prefix="nvdla_check_", dir=work) as tmp:
        dirs = digest_all(cfgs, Path(tmp))
        out, err = play(player, dirs, read_latency=read_latency, limit=limit)
        results = parse_player(out, err, trace_names(cfgs))
        if ours:
            add_ours(results, dirs)
    return results


def as_outcomes(results: list[Result]) -> list[TraceOutcome]:
    """The check's results as the conformance/regression outcome (a hang or crash is a FAIL whose
    message says so)."""
    return [TraceOutcome(r.name, PASS if r.status == PASS else "FAIL", None, None, r.seconds, r.cycles,
                         r.message if r.status in (PASS, FAIL) else f"{r.status.lower()} on NVDLA's RTL: {r.message}")
            for r in results]


def format_line(r: Result) -> str:
    cyc = f"{r.cycles:>9}" if r.cycles is not None else f"{'-':>9}"
    ours = f"{r.ours_status or '-':5} {r.ours_cycles if r.ours_cycles is not None else '-':>9}"
    ratio = f"{r.ratio:6.3f}" if r.ratio is not None else f"{'-':>6}"
    msg = f"  {r.message}" if r.message else ""
    return f"{r.name:48} {r.status:5} {cyc}   ours {ours}  {ratio}{msg}"


HEADER = f"{'trace':48} {'NVDLA':5} {'cycles':>9}   ours {'':5} {'cycles':>9}  {'ours/NVDLA':>6}"


def summary(results: list[Result]) -> str:
    counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, HANG, CRASH)}
    line = f"NVDLA's RTL: {counts[PASS]}/{len(results)} pass" + "".join(
        f", {n} {s.lower()}" for s, n in counts.items() if s != PASS and n)
    both = [r for r in results if r.ratio is not None]
    if both:
        ours, nv = sum(r.ours_cycles for r in both), sum(r.cycles for r in both)
        line += f"; our RTL takes {ours / nv:.3f} of NVDLA's cycles over {len(both)} passing traces"
    return line


def write_report(path: Path, results: list[Result], *, read_latency: int) -> None:
    doc = {"read_latency": read_latency, "summary": summary(results),
           "traces": [asdict(r) | {"ratio": r.ratio} for r in results]}
    write_atomic(path, json.dumps(doc, indent=1) + "\n")
