"""CLI commands fronting the golden model and the conformance runs: `nvdla-int8 replay`."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from ..errors import InputError
from ..conformance import closing_line, find_traces, format_line, write_report

# Backend name -> "module:function" yielding TraceOutcomes for a list of .cfg paths.
BACKENDS = {
    "golden": "nvdla_int8.golden.replay:replay_traces",
    "rtl": "tb.trace_runner:replay_traces",
}


def register(sub) -> None:
    p = sub.add_parser("replay", help="replay NVDLA traces (.cfg, or folders searched recursively) on a backend",
                       description="Replay NVDLA trace tests and compare their check_crc/check_file results.")
    p.add_argument("paths", nargs="+", help="trace .cfg files or folders")
    p.add_argument("--backend", choices=sorted(BACKENDS), default="golden")
    p.add_argument("--report", help="write the JSON report here (e.g. build/conformance-golden.json)")
    p.set_defaults(func=_replay)


def _load_backend(name: str):
    """The backend's replay function. The RTL backend lives in the checkout's tb/, which is not
    part of the installed package: when the command runs from elsewhere, look for the checkout
    this package was installed from (editable install: compiler/nvdla_int8 -> repository root)."""
    module, func = BACKENDS[name].split(":")
    try:
        return getattr(importlib.import_module(module), func)
    except ModuleNotFoundError as e:
        if e.name != module.split(".")[0]:
            raise
    root = Path(__file__).resolve().parents[3]
    if not (root / module.split(".")[0]).is_dir():
        raise InputError(f"the {name} backend needs the repository checkout ({module.split('.')[0]}/ not found "
                         f"next to {root / 'compiler'})")
    sys.path.insert(0, str(root))
    return getattr(importlib.import_module(module), func)


def _replay(args) -> int:
    paths = find_traces(args.paths)
    run = _load_backend(args.backend)
    outcomes = []
    for o in run(paths):
        outcomes.append(o)
        print(format_line(o), flush=True)
    print(closing_line(outcomes))
    if args.report:
        write_report(args.report, args.backend, outcomes)
    if not outcomes:
        print("no traces found", file=sys.stderr)
        return 1
    return 0 if all(o.passed for o in outcomes) else 1
