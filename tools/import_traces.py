"""(Re)import a folder of NVDLA trace tests into the repository's compressed layout.

    .venv/bin/python tools/import_traces.py SRC [DEST]      # DEST defaults to vectors/conformance

Every file under SRC is copied to the same relative path under DEST, except `.dat` memory images,
which are stored gzip-compressed as `<name>.dat.gz` (the trace reader opens either form:
nvdla_int8.trace.dat.find_dat). The gzip stream carries no file name and no time stamp, so
importing the same traces twice gives byte-identical files and git sees no change. `gunzip`
gives back the original bytes. Files in DEST that SRC no longer has are removed (DEST mirrors SRC);
`--check` only reports whether DEST is up to date (exit status 1 if not).
"""
from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

from nvdla_int8.errors import InputError
from nvdla_int8.fileio import write_atomic
from nvdla_int8.trace.dat import GZ

ROOT = Path(__file__).resolve().parents[1]


def stored_form(rel: Path, data: bytes) -> tuple[Path, bytes]:
    """Where and how a source file is kept: `.dat` gzip-compressed (deterministic), others as is."""
    if rel.suffix == ".dat":
        return rel.with_name(rel.name + GZ), gzip.compress(data, compresslevel=9, mtime=0)
    return rel, data


def plan(src: Path) -> dict[Path, bytes]:
    """Relative path under DEST -> bytes, for every file of SRC."""
    if not src.is_dir():
        raise InputError("not a folder of traces", where=str(src))
    out = {}
    for p in sorted(src.rglob("*")):
        if p.is_file():
            rel, data = stored_form(p.relative_to(src), p.read_bytes())
            out[rel] = data
    if not any(r.suffix == ".cfg" for r in out):
        raise InputError("no trace (.cfg) found", where=str(src))
    return out


def differences(want: dict[Path, bytes], dest: Path) -> tuple[list[Path], list[Path]]:
    """(files to write, files to remove) to make DEST equal to `want`."""
    have = {p.relative_to(dest) for p in dest.rglob("*") if p.is_file()} if dest.is_dir() else set()
    write = [r for r, data in want.items() if r not in have or (dest / r).read_bytes() != data]
    return write, sorted(have - set(want))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="folder of traces (e.g. a copy of nvdla_traces/)")
    ap.add_argument("dest", type=Path, nargs="?", default=ROOT / "vectors" / "conformance")
    ap.add_argument("--check", action="store_true", help="only report whether DEST is up to date")
    a = ap.parse_args(argv)
    try:
        want = plan(a.src)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    write, remove = differences(want, a.dest)
    if a.check:
        for r in write:
            print(f"differs: {r}")
        for r in remove:
            print(f"not in {a.src}: {r}")
        return 1 if write or remove else 0
    for r in write:
        write_atomic(a.dest / r, want[r])
    for r in remove:
        (a.dest / r).unlink()
    n_cfg = sum(r.suffix == ".cfg" for r in want)
    size = sum(len(d) for d in want.values())
    print(f"{a.dest}: {n_cfg} traces, {len(want)} files, {size / 1e6:.1f} MB; {len(write)} written, "
          f"{len(remove)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
