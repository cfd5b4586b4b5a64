"""python -m tb.nvdla [--player EXE] [options] TRACE.cfg|DIR ...: replay traces
on NVDLA's own nv_small RTL, one line per trace beside our RTL's cycles, a closing summary, a JSON
report. Exit status 1 when a trace fails or hangs on NVDLA's RTL."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nvdla_int8.conformance import find_traces
from nvdla_int8.errors import InputError

from .run import HEADER, PASS, check, format_line, player_binary, summary, write_report

ROOT = Path(__file__).resolve().parent.parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.nvdla", description=__doc__)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--player", help="a built player binary (tb/nvdla/player.cpp + NVDLA's RTL); default $NVDLA_PLAYER")
    ap.add_argument("--no-ours", action="store_true", help="skip our RTL (no cycles beside NVDLA's)")
    ap.add_argument("--read-latency", type=int, default=0,
                    help="NVDLA memory: cycles from read address to first beat (our RTL: 0)")
    ap.add_argument("--limit", type=int, default=20_000_000, help="cycles an interrupt may take: a hang after")
    ap.add_argument("--report", default=str(ROOT / "build" / "nvdla-check.json"))
    a = ap.parse_args(argv)
    try:
        exe = player_binary(a.player)
        cfgs = find_traces(a.paths)
        if not cfgs:
            raise InputError("no traces (.cfg) found", where=" ".join(a.paths))
        results = check(exe, cfgs, ours=not a.no_ours, read_latency=a.read_latency, limit=a.limit)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(HEADER)
    for r in results:
        print(format_line(r))
    print(summary(results))
    write_report(Path(a.report), results, read_latency=a.read_latency)
    print(f"report: {a.report}")
    return 0 if all(r.status == PASS for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
