"""python -m tb.raw [--seed N] [--no-stall] TRACE.cfg|DIR ...: digest the traces, replay them on
the raw harness, one line per trace and a closing summary."""
from __future__ import annotations

import argparse
import sys

from nvdla_int8.conformance import find_traces

from .run import run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.raw", description=__doc__)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-stall", action="store_true")
    a = ap.parse_args(argv)
    cfgs = find_traces(a.paths)
    rows = run(cfgs, seed=a.seed, stall=not a.no_stall)
    for r in rows:
        print(f"{r['name']:48} {r['status']}  {r['cycles']:>9} cycles  {r['wait_seconds']:.3f}s sim  "
              f"{r['seconds']:.3f}s  {r['message']}")
    bad = sum(r["status"] != "PASS" for r in rows)
    cyc = sum(max(r["cycles"], 0) for r in rows)
    wait = sum(r["wait_seconds"] for r in rows)
    print(f"{len(rows) - bad} passed, {bad} failed; {cyc} cycles, {cyc / max(wait, 1e-9):,.0f} cycles/s while waiting")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
