"""Conformance runs: find traces, report each one as a line and all of them as JSON.

Backends (golden model, RTL) produce `TraceOutcome`s; this module only finds, formats and
reports, so every backend prints the same lines and writes the same report shape.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import InputError
from .fileio import write_atomic

PASS, FAIL = "PASS", "FAIL"


@dataclass
class TraceOutcome:
    name: str
    status: str  # PASS or FAIL
    expected_crc: str | None  # "0x8f68a2ae" (the first failing check_crc's, else the last one's)
    crc: str | None
    seconds: float
    cycles: int | None = None  # simulated cycles (RTL backends)
    message: str = ""  # why it failed, one line
    # where NVDLA's own RTL would differ or hang on this trace while we run it (the golden
    # model's `nvdla_differs`): said beside a pass, since our result is still the right one
    nvdla_warning: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS


def find_traces(paths) -> list[Path]:
    """Every `.cfg` named or found (recursively) under the given paths, sorted by name."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_file() and p.suffix == ".cfg":
            found.append(p)
        elif p.is_dir():
            found.extend(sorted(p.rglob("*.cfg")))
        else:
            raise InputError("not a trace (.cfg) or a folder of traces", where=str(p))
    return sorted(set(found), key=lambda q: (q.name, str(q)))


def format_line(o: TraceOutcome) -> str:
    crc = f"expected {o.expected_crc or '-':10} got {o.crc or '-':10}"
    cyc = f" {o.cycles:>9} cycles" if o.cycles is not None else ""
    msg = f"  {o.message}" if o.message and not o.passed else ""
    if o.nvdla_warning:
        msg += f"  [NVDLA's RTL: {o.nvdla_warning}]"
    return f"{o.name:48} {o.status}  {crc} {o.seconds:8.2f}s{cyc}{msg}"


def closing_line(outcomes: list[TraceOutcome]) -> str:
    passed = sum(o.passed for o in outcomes)
    warned = sum(bool(o.nvdla_warning) for o in outcomes)
    return f"{passed} passed, {len(outcomes) - passed} failed" + (
        f"; {warned} that NVDLA's own RTL may compute differently or hang on" if warned else "")


def write_report(path: str | Path, backend: str, outcomes: list[TraceOutcome]) -> None:
    passed = sum(o.passed for o in outcomes)
    traces = []
    for o in outcomes:
        d = asdict(o)
        d["seconds"] = round(o.seconds, 3)
        if o.cycles is None:
            del d["cycles"]
        for key in ("message", "nvdla_warning"):
            if not d[key]:
                del d[key]
        traces.append(d)
    report = {"backend": backend, "passed": passed, "failed": len(outcomes) - passed, "traces": traces}
    write_atomic(path, json.dumps(report, indent=1) + "\n")
