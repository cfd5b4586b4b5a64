"""`nvdla-int8 replay`: NVDLA traces on a backend chosen by name (backends.py), one line per
trace and the closing `N passed, M failed` line."""
from __future__ import annotations

import sys

from .. import backends
from ..conformance import closing_line, find_traces, format_line, write_report


def register(sub) -> None:
    p = sub.add_parser("replay", help="replay NVDLA traces (.cfg, or folders searched recursively) on a backend",
                       description="Replay NVDLA trace tests and compare their check_crc/check_file results.")
    p.add_argument("paths", nargs="+", help="trace .cfg files or folders")
    p.add_argument("--backend", choices=backends.names(), default="golden")
    p.add_argument("--report", help="write the JSON report here (e.g. build/conformance-golden.json)")
    p.set_defaults(func=_replay)


def _replay(args) -> int:
    paths = find_traces(args.paths)
    backend = backends.get(args.backend)
    outcomes = []
    for o in backend.replay(paths):
        outcomes.append(o)
        print(format_line(o), flush=True)
    print(closing_line(outcomes))
    if args.report:
        write_report(args.report, args.backend, outcomes)
    if not outcomes:
        print("no traces found", file=sys.stderr)
        return 1
    return 0 if all(o.passed for o in outcomes) else 1
