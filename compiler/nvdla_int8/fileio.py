"""Atomic file output: write to a temporary file in the same folder, then rename over the target,
so an interrupted run never leaves a truncated table, trace, picture or report that a later step
would read as valid. The file gets the permissions the umask gives any new file (mkstemp's
temporary file is private, 0600, which would make every output unreadable to others)."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


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
