"""Atomic output for tables, caches and pictures.

A calibration run can take minutes; an interrupted run must never leave a truncated table that
the compiler would later read as valid. Everything is written to a temporary file in the target's
folder (same file system, so the rename is atomic) and then renamed over the target.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write `data` (text is encoded as UTF-8) to `path` atomically."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    write_with(path, lambda f: f.write(payload))


def write_with(path: str | Path, writer: Callable) -> None:
    """Call `writer(binary_file)` on a temporary file, then rename it to `path`."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
