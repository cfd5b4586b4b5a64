"""python -m tb.coverage merge -o OUT.yml A.yml B.yml ... | report FILE.yml [--out DIR]"""
from __future__ import annotations

import argparse
import sys

from nvdla_int8.errors import InputError

from .report import merge, text_report, load, write_reports


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.coverage", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge", help="merge coverage YAML files (seeds, shards, runs) into one")
    m.add_argument("-o", "--out", required=True)
    m.add_argument("files", nargs="+")
    r = sub.add_parser("report", help="text (stdout) and, with --out DIR, coverage.txt/.html listing holes")
    r.add_argument("file")
    r.add_argument("--out")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "merge":
            print(merge(a.out, a.files))
        elif a.out:
            print(text_report(write_reports(a.file, a.out)), end="")
        else:
            print(text_report(load(a.file)), end="")
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
