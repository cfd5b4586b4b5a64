"""python -m tb.rtl_mutation list [--sample N] [--seed S]
python -m tb.rtl_mutation report DIR [DIR ...]

list: the mutants (id, file:line, class, edit), or the sample `make rtl-mutation SAMPLE=N SEED=S` runs.
report: rewrite DIR's report.md and kill_matrix.json from the kill matrices of DIR and the folders
after it (shards of one campaign, or a re-run of some mutants with MUTANTS=...: a mutant's later
row replaces its earlier one), with survivors.yaml as it is now; prints the score.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nvdla_int8.errors import InputError

from . import points, report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.rtl_mutation", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="list the mutants")
    ls.add_argument("--sample", type=int, default=None)
    ls.add_argument("--seed", type=int, default=1)
    rp = sub.add_parser("report", help="rewrite a campaign's report, merging other runs into it")
    rp.add_argument("dirs", nargs="+", type=Path)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "list":
            for m in points.sample(points.generate(), a.sample, a.seed):
                before, after = m.diff()
                print(f"{m.id:48} rtl_models/{m.file}:{m.line}  {before!r} -> {after!r}")
            return 0
        info, merged = None, {}
        for d in a.dirs:
            f = d / "kill_matrix.json"
            if not f.exists():
                raise InputError("no kill_matrix.json: not a finished `make rtl-mutation` folder", where=str(d))
            i, rows = report.read_matrix(f)
            info = info or i
            merged.update((r["id"], r) for r in rows)
        if len(a.dirs) > 1:
            info["command"] += " (merged with " + ", ".join(str(d) for d in a.dirs[1:]) + ")"
        rows = list(merged.values())
        known = report.classifications()
        md = report.write(a.dirs[0], info, rows, known)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    killed, total = report.score(rows, known)
    print(f"rtl-mutation: {killed} of {total} non-equivalent mutants killed ({report.percent(killed, total)}); report {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
