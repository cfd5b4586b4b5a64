"""python -m tb.regress replay --seed N [--tier T] [--constraints F] [--backend rtl|golden] [--waves]
python -m tb.regress batch --seeds 1,2,3 --out DIR --worker NAME [--tier T] [--constraints F] [--backend B]

replay: regenerates seed N's trace (byte-identical to the regression's) into
build/regress/replay/sN/ and plays it alone with the same testbench latency seed, so a failure
reproduces bit for bit.
batch: runs consecutive seeds in one simulation, as one regression worker does, and writes that
worker's results, coverage and largest partial sum into DIR (results/NAME.*, cov/NAME.yml); a Dask
task runs this in a fresh process (tb/regress/dask_executor.py). Exit status 0 whatever the
seeds' verdicts (they are in the results), 2 on bad input.
"""
from __future__ import annotations

import argparse
import sys

from nvdla_int8.errors import InputError

from ..rtl_build import ROOT
from ..stimulus import Constraints
from .runner import Regression


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds {text!r}: write them as 1,2,3") from None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.regress", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("replay", help="replay one seed alone")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--waves", action="store_true")
    r.add_argument("--out", default=None, help="folder (default build/regress/replay/s<seed>)")
    b = sub.add_parser("batch", help="run consecutive seeds as one regression worker")
    b.add_argument("--seeds", type=_seeds, required=True)
    b.add_argument("--out", required=True, help="the regression's run folder")
    b.add_argument("--worker", required=True, help="name of this worker's files in the run folder")
    for p in (r, b):
        p.add_argument("--tier", default="smoke")
        p.add_argument("--constraints", default="")
        p.add_argument("--backend", default="rtl")
    a = ap.parse_args(argv)
    try:
        c = Constraints.load(a.tier, a.constraints or None)
        if a.cmd == "batch":
            reg = Regression(c, a.out, a.backend, a.worker)
            reg.run_batch(a.seeds)
            reg.write_outputs()
            return 0
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
