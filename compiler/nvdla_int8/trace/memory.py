"""A sparse, byte-addressed memory image (32-bit address space), stored in 64 KiB pages.

Traces span tens of MiB of address space while holding far less data, so pages are allocated on
first write. Never-written bytes read as 0 (as NVDLA's trace player counts them). Bulk access
only: whole ranges, or vectorised gather/scatter over address arrays.
"""
from __future__ import annotations

import zlib

import numpy as np

PAGE_BITS = 16
PAGE = 1 << PAGE_BITS
ADDR_LIMIT = 1 << 32


class SparseMemory:
    """Sparse byte memory. `pages` maps page number -> uint8[PAGE]."""

    def __init__(self) -> None:
        self.pages: dict[int, np.ndarray] = {}

    def copy(self) -> "SparseMemory":
        m = SparseMemory()
        m.pages = {k: v.copy() for k, v in self.pages.items()}
        return m

    def _check(self, base: int, size: int) -> None:
        if base < 0 or size < 0 or base + size > ADDR_LIMIT:
            raise ValueError(f"memory range [{base:#x}, {base + size:#x}) is outside the 32-bit address space")

    def _page(self, n: int) -> np.ndarray:
        p = self.pages.get(n)
        if p is None:
            p = self.pages[n] = np.zeros(PAGE, dtype=np.uint8)
        return p

    def write(self, base: int, data) -> None:
        """Write bytes (bytes, bytearray or uint8 array) at base."""
        buf = np.frombuffer(bytes(data), dtype=np.uint8) if not isinstance(data, np.ndarray) else data.astype(np.uint8, copy=False).ravel()
        self._check(base, buf.size)
        pos = 0
        while pos < buf.size:
            addr = base + pos
            off = addr & (PAGE - 1)
            n = min(PAGE - off, buf.size - pos)
            self._page(addr >> PAGE_BITS)[off:off + n] = buf[pos:pos + n]
            pos += n

    def fill(self, base: int, size: int, value: int) -> None:
        self._check(base, size)
        pos = 0
        while pos < size:
            addr = base + pos
            off = addr & (PAGE - 1)
            n = min(PAGE - off, size - pos)
            self._page(addr >> PAGE_BITS)[off:off + n] = value
            pos += n

    def read(self, base: int, size: int) -> np.ndarray:
        """Bytes [base, base+size) as a new uint8 array (unwritten bytes are 0)."""
        self._check(base, size)
        out = np.zeros(size, dtype=np.uint8)
        pos = 0
        while pos < size:
            addr = base + pos
            off = addr & (PAGE - 1)
            n = min(PAGE - off, size - pos)
            p = self.pages.get(addr >> PAGE_BITS)
            if p is not None:
                out[pos:pos + n] = p[off:off + n]
            pos += n
        return out

    def gather(self, addrs: np.ndarray) -> np.ndarray:
        """uint8 values at an int64 address array (any shape)."""
        a = np.asarray(addrs, dtype=np.int64)
        if a.size == 0:
            return np.zeros(a.shape, dtype=np.uint8)
        lo, hi = int(a.min()), int(a.max())
        self._check(lo, hi - lo + 1)
        return self.read(lo, hi - lo + 1)[a - lo]

    def scatter(self, addrs: np.ndarray, values: np.ndarray) -> None:
        """Write values (cast to uint8) at an address array of the same shape."""
        a = np.asarray(addrs, dtype=np.int64).ravel()
        v = np.asarray(values).astype(np.uint8).ravel()
        if a.size == 0:
            return
        lo, hi = int(a.min()), int(a.max())
        self._check(lo, hi - lo + 1)
        if hi - lo < 4 * a.size:  # dense (a surface): one read-modify-write of the range, no sort
            buf = self.read(lo, hi - lo + 1)
            buf[a - lo] = v
            self.write(lo, buf)
            return
        pages = a >> PAGE_BITS
        order = np.argsort(pages, kind="stable")
        a, v, pages = a[order], v[order], pages[order]
        bounds = np.flatnonzero(np.diff(pages)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, a.size]):
            self._page(int(pages[lo]))[a[lo:hi] & (PAGE - 1)] = v[lo:hi]

    def crc32(self, base: int, size: int) -> int:
        """CRC-32 (IEEE, zlib) of [base, base+size): the trace check_crc value."""
        return zlib.crc32(self.read(base, size).tobytes()) & 0xFFFFFFFF

    def __eq__(self, other) -> bool:
        if not isinstance(other, SparseMemory):
            return NotImplemented
        keys = self.pages.keys() | other.pages.keys()
        zero = np.zeros(PAGE, dtype=np.uint8)
        return all(np.array_equal(self.pages.get(k, zero), other.pages.get(k, zero)) for k in keys)
