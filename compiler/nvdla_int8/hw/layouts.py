"""nv_small INT8 memory layouts (shared/spec/memory-layouts.md), as vectorised address maps.

Every function returns int64 address (or offset) arrays whose shape is the logical index space,
so a reader gathers a whole tensor with one fancy-index and a writer scatters it likewise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import NV_SMALL

ATOM = NV_SMALL.memory_atom


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def strided(buf: np.ndarray, shape: tuple, strides: tuple, offset: int = 0) -> np.ndarray:
    """A view of the contiguous array `buf` with explicit shape and byte strides from byte
    `offset`, writeable when buf is: numpy's as_strided at a fraction of its cost (it runs several
    times per hardware pass)."""
    if not buf.flags.c_contiguous:
        raise ValueError("strided() needs a contiguous array")
    return np.ndarray(shape, buf.dtype, buffer=buf, offset=offset, strides=strides)


@dataclass(frozen=True)
class Surface:
    """Where a feature cube lives: base address and strides (memory-layouts §1)."""

    base: int
    line_stride: int
    surf_stride: int

    def addresses(self, channels: int, height: int, width: int, elem_bytes: int = 1) -> np.ndarray:
        """Addresses of elements (c, y, x) for c < channels, shape (channels, height, width).

        `elem_bytes` > 1 is the SDP per-element operand layout (memory-layouts §4): the x step
        becomes 8 * elem_bytes and the lane offset is scaled too.
        """
        c = np.arange(channels, dtype=np.int64)[:, None, None]
        y = np.arange(height, dtype=np.int64)[None, :, None]
        x = np.arange(width, dtype=np.int64)[None, None, :]
        return (self.base + (c // ATOM) * self.surf_stride + y * self.line_stride
                + (ATOM * x + c % ATOM) * elem_bytes)

    def read_cube(self, mem, channels: int, height: int, width: int, elem_bytes: int = 1,
                  offset: int = 0) -> np.ndarray:
        """The uint8 cube (channels, height, width) read from `mem` (anything with
        read(base, size)) through one strided view of its footprint: the same values as a gather
        of `addresses(channels, height, width, elem_bytes) + offset`, without building an address
        per element. `offset` < `elem_bytes` picks a byte inside each element."""
        if channels * height * width == 0:
            return np.zeros((channels, height, width), dtype=np.uint8)
        surfaces = ceil_div(channels, ATOM)
        lo, hi = self.footprint(channels, height, width, elem_bytes)
        buf = mem.read(lo, hi - lo)
        atoms = strided(buf, (surfaces, height, width, ATOM),
                        (self.surf_stride, self.line_stride, ATOM * elem_bytes, elem_bytes), offset)
        return atoms.transpose(0, 3, 1, 2).reshape(surfaces * ATOM, height, width)[:channels]

    def write_cube(self, mem, cube: np.ndarray) -> None:
        """Write the uint8/int8 cube (channels, height, width) into `mem` (anything with read and
        write): the same bytes a scatter to `addresses` writes, as one read-modify-write of the
        footprint through a strided view. Lanes past the last channel keep their contents."""
        channels, height, width = cube.shape
        if cube.size == 0:
            return
        if self.line_stride < ATOM * width or self.surf_stride < self.line_stride * (height - 1) + ATOM * width:
            # atoms overlap: keep the element order of a scatter, the later (c, y, x) wins
            mem.scatter(self.addresses(channels, height, width), cube)
            return
        surfaces = ceil_div(channels, ATOM)
        lo, hi = self.footprint(channels, height, width)
        packed = self.line_stride == ATOM * width and self.surf_stride == self.line_stride * height
        buf = np.zeros(hi - lo, dtype=np.uint8) if packed and channels % ATOM == 0 else mem.read(lo, hi - lo)
        atoms = strided(buf, (surfaces, height, width, ATOM), (self.surf_stride, self.line_stride, ATOM, 1))
        src = cube.view(np.uint8) if cube.dtype == np.int8 else cube.astype(np.uint8, copy=False)
        full = surfaces * ATOM
        if channels == full:
            atoms[...] = src.reshape(surfaces, ATOM, height, width).transpose(0, 2, 3, 1)
        else:
            for c0 in range(0, channels, ATOM):
                n = min(ATOM, channels - c0)
                atoms[c0 // ATOM, :, :, :n] = src[c0:c0 + n].transpose(1, 2, 0)
        mem.write(lo, buf)

    def atom_addresses(self, channels: int, height: int, width: int) -> np.ndarray:
        """Addresses of every lane of every whole atom the cube occupies: the lanes past the last
        channel included (what hardware writes, datapath §8.6). Shape (8*ceil(C/8), H, W)."""
        return self.addresses(ATOM * ceil_div(channels, ATOM), height, width)

    def footprint(self, channels: int, height: int, width: int, elem_bytes: int = 1) -> tuple[int, int]:
        """(lowest address, one past the highest) of the cube's whole atoms."""
        surfaces = ceil_div(channels, ATOM)
        last = (self.base + (surfaces - 1) * self.surf_stride + (height - 1) * self.line_stride
                + ATOM * width * elem_bytes)
        return self.base, last


def sdp_dma_surface(s: Surface, width: int, height: int, elem_bytes: int = 1) -> Surface:
    """The surface NVDLA's SDP DMAs actually walk for a (width, height) cube.

    A 1x1 cube (W = H = 1) moves as one straight request of ceil(C/8) atoms (x `elem_bytes` for an
    operand) from the base address, whatever the strides say: `cfg_mode_1x1_pack` in nvdla/hw
    NV_NVDLA_SDP_MRDMA_ig.v (stand-alone input), NV_NVDLA_SDP_RDMA_ig.v (BRDMA/NRDMA operands) and
    NV_NVDLA_SDP_WDMA_cmd.v (output) [S]; NVDLA's RTL wrote 1x1x14 with surface stride 0x18 packed
    [R] (shared/nvdla-rtl-findings.md §2). Channel group g is then at base + g * 8 * elem_bytes.
    """
    if width == 1 and height == 1:
        return Surface(s.base, ATOM * elem_bytes, ATOM * elem_bytes)
    return s


def weight_offsets(k: int, c: int, r: int, s: int) -> np.ndarray:
    """Byte offset of W[k][c][r][s] from the weight base, shape (K, C, R, S) (memory-layouts §2).

    Kernel groups of 8, channel blocks of 8 with the last block holding only C mod 8 channels,
    no padding anywhere: total K*R*S*C bytes.
    """
    kk = np.arange(k, dtype=np.int64)[:, None, None, None]
    cc = np.arange(c, dtype=np.int64)[None, :, None, None]
    rr = np.arange(r, dtype=np.int64)[None, None, :, None]
    ss = np.arange(s, dtype=np.int64)[None, None, None, :]
    bpk = r * s * c
    g = kk // ATOM
    kn = np.minimum(ATOM, k - ATOM * g)
    b = cc // ATOM
    cn = np.minimum(ATOM, c - ATOM * b)
    return ATOM * bpk * g + ATOM * kn * r * s * b + ((rr * s + ss) * kn + kk % ATOM) * cn + cc % ATOM


# D_WEIGHT_BYTES is the image rounded up to one CBUF entry, as NVDLA's own compiler sizes it
# (nvdla/sw umd Surface.cpp WeightDesc::size, nv_small entry width 8). NVDLA's CDMA fetches
# WEIGHT_BYTES / 8 entries and its CSC releases only the entries it reads, so any more (the 128 of
# the upstream one-layer traces) stays in CBUF and shifts the next conv layer's weights
# (docs/nvdla-rules.md §5).
WEIGHT_BYTES_ALIGN = 8


def weight_bytes(k: int, c: int, r: int, s: int) -> int:
    """Bytes of the weight image: K * R * S * C (no padding)."""
    return k * r * s * c


def weight_bytes_field(k: int, c: int, r: int, s: int) -> int:
    """The D_WEIGHT_BYTES value we program: the image size rounded up to one CBUF entry."""
    return ceil_div(weight_bytes(k, c, r, s), WEIGHT_BYTES_ALIGN) * WEIGHT_BYTES_ALIGN


def per_kernel_operand_offsets(channels: int, elem_bytes: int) -> np.ndarray:
    """SDP PER_KERNEL operand element k at k * elem_bytes, for every lane of the whole atoms."""
    return np.arange(ATOM * ceil_div(channels, ATOM), dtype=np.int64) * elem_bytes
