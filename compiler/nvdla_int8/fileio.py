"""Atomic file output: write to a temporary file in the same folder, then rename over the target,
so an interrupted run never leaves a truncated table, trace, picture or report that a later step
would read as valid. The file gets the permissions the umask gives any new file (mkstemp's
temporary file is private, 0600, which would make every output unreadable to others).

Whole output folders (a compiled network) are built the same way: in a temporary sibling folder,
renamed over the target only once everything is written (`staged_dir`)."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it; set straight back
    os.umask(mask)
    return mask


def write_with(path: str | Path, writer: Callable) -> None:
    """Call `writer(binary_file)` on a temporary file, then rename it to `path`."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            writer(f)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_atomic(path: str | Path, data: str | bytes, encoding: str = "utf-8") -> None:
    """Write text (encoded) or bytes to `path` atomically."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    write_with(path, lambda f: f.write(payload))


@contextmanager
def staged_dir(path: str | Path, replaceable: Callable[[Path], bool], what: str) -> Iterator[Path]:
    """Yield an empty temporary folder beside `path`; when the block ends without an error it
    becomes `path`, replacing an earlier folder whole (no file of a previous run stays beside the
    new ones); on an error it is removed and `path` is left as it was.

    An existing non-empty folder is replaced only if `replaceable(folder)` says it is an earlier
    output of the same kind (`what` names that kind in the refusal): a mistyped `-o` must not wipe
    a folder of other files."""
    p = Path(path).absolute()
    if p.exists() and not p.is_dir():
        raise InputError("exists and is not a folder", where=str(path))
    if p == Path.cwd() or p in Path.cwd().parents:  # renamed away, it would leave the shell in a deleted folder
        raise InputError("is the current folder or holds it, and an output folder is replaced whole; give another",
                         where=str(path))
    if p.is_dir() and any(p.iterdir()) and not replaceable(p):
        raise InputError(f"is a folder of other files, not {what}; give a new or empty folder", where=str(path))
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp"))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's folder is private (0700), like mkstemp's files
        yield tmp
        if p.exists():
            old = Path(tempfile.mkdtemp(dir=p.parent, prefix=f".{p.name}.", suffix=".old"))
            os.replace(p, old)  # rename onto an empty folder; `path` is missing only between two renames
            try:
                os.replace(tmp, p)
            except BaseException:
                os.replace(old, p)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
