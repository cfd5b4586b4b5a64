"""Atomic writes: the target appears whole or not at all, with the umask's permissions."""
from __future__ import annotations

import os

import pytest

from nvdla_int8.fileio import write_atomic, write_with


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_get_the_umask_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        write_atomic(tmp_path / "t.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "t.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_write_leaves_neither_target_nor_temporary(tmp_path):
    def boom(f):
        f.write(b"partial")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_with(tmp_path / "t.bin", boom)
    assert list(tmp_path.iterdir()) == []
