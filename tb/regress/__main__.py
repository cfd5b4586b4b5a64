"""python -m tb.regress replay --seed N [--tier T] [--constraints F] [--backend rtl|golden] [--waves]

Regenerates seed N's trace (byte-identical to the regression's) into build/regress/replay/sN/ and
plays it alone with the same testbench latency seed, so a failure reproduces bit for bit.
"""
from __future__ import annotations

import argparse
import sys

from nvdla_int8.errors import InputError

from ..rtl_build import ROOT
from ..stimulus import Constraints
from .runner import Regression


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.regress", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("replay", help="replay one seed alone")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--tier", default="smoke")
    r.add_argument("--constraints", default="")
    r.add_argument("--backend", default="rtl")
    r.add_argument("--waves", action="store_true")
    r.add_argument("--out", default=None, help="folder (default build/regress/replay/s<seed>)")
    a = ap.parse_args(argv)
    try:
        c = Constraints.load(a.tier, a.constraints or None)
        reg = Regression(c, a.out or ROOT / "build" / "regress" / "replay" / f"s{a.seed}", a.backend, "replay",
                         waves=a.waves)
        res = reg.run_batch([a.seed])[0]
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"trace: {reg.out / 'traces'}")
    print(f"seed {res.seed} {res.status} cycles {res.cycles} {res.message}")
    return 0 if res.passed else 1


if __name__ == "__main__":
    sys.exit(main())
