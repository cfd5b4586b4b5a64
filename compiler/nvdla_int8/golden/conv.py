"""Direct convolution, CDMA input converter and CACC (datapath.md §4-§7, §9), vectorised.

The MACs are exact integer sums computed as GEMMs (BLAS) over im2col columns: float32 holds
every integer below 2^24, so a float32 GEMM is exact, in any summation order, when no kernel's
sum of |w| times max |x| reaches 2^24; otherwise it runs in float64 (exact below 2^53). Hardware
saturates the 34-bit partial sum after every atomic operation; that can only bite when some
kernel's worst case reaches 2^33, and only then is the accumulation replayed step by step in
hardware order (see `_accumulate_saturating`).
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
from threadpoolctl import ThreadpoolController

from ..hw.config import NV_SMALL
from ..hw.fixed import sat, shr_round, shr_round_count
from ..hw.layouts import ceil_div, strided
from ..trace.memory import SparseMemory
from .program import ConvParams

ATOM = NV_SMALL.atomic_k
PSUM_BITS = NV_SMALL.cacc_psum_bits
_GEMM_CHUNK = 1 << 20  # im2col elements per chunk: bounds memory for huge layers
_FLOAT32_EXACT = 1 << 24  # every integer of smaller magnitude is a float32
# BLAS threads for the convolution GEMMs (None: leave numpy's setting alone). One: a pass's GEMM
# is small (most take well under a millisecond) and OpenBLAS's second thread costs more than it
# gives; on the shared 2-core machine its spinning made ResNet-50's layers over 10x slower
# (bench/bench_golden_resnet_layers.py --threads 2).
GEMM_THREADS: int | None = 1
_blas_libs = None


@contextmanager
def _gemm_threads():
    """numpy's BLAS limited to GEMM_THREADS for the duration, then restored."""
    global _blas_libs
    if GEMM_THREADS is None:
        yield
        return
    if _blas_libs is None:
        _blas_libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    before = [lib.num_threads for lib in _blas_libs]
    for lib, n in zip(_blas_libs, before):
        if n != GEMM_THREADS:
            lib.set_num_threads(GEMM_THREADS)
    try:
        yield
    finally:
        for lib, n in zip(_blas_libs, before):
            if n != GEMM_THREADS:
                lib.set_num_threads(n)


def _feature_bytes(mem: SparseMemory, p: ConvParams) -> np.ndarray:
    """Input cube (C, Hi, Wi) as int8 memory bytes, before the converter."""
    return p.feature.read_cube(mem, p.channels, p.height, p.width).view(np.int8)


def read_feature(mem: SparseMemory, p: ConvParams) -> np.ndarray:
    """Input cube (C, Hi, Wi) as int64 after the CDMA input converter (§4)."""
    raw = _feature_bytes(mem, p).astype(np.int64)
    if not p.cvt_en:
        return raw
    return cdma_convert(raw, p.cvt_offset, p.cvt_scale, p.cvt_truncate)


def cdma_convert(raw: np.ndarray, offset: int, scale: int, truncate: int) -> np.ndarray:
    """The CDMA input converter (§4) on int8 values: (x - offset) * scale >> truncate, rounded and
    saturated to int8 as the hardware does."""
    m = (np.asarray(raw, dtype=np.int64) - offset) * scale  # exact: 18 bit x 16 bit
    t17, _ = shr_round(m, truncate, NV_SMALL.cdma_cvt_in_bits, NV_SMALL.cdma_cvt_mid_bits)
    return sat(t17, 8)[0]


def _weights_krsc(mem: SparseMemory, p: ConvParams) -> np.ndarray:
    """Weights as int8 (K, R, S, C) (memory-layouts.md §2): kernel group g, channel block b,
    each stored as [r][s][k][c], one after another with no padding. Every whole kernel group is
    one reshape; only a last partial group or channel block is a separate piece."""
    K, C, R, S = p.kernels, p.channels, p.kernel_h, p.kernel_w
    raw = mem.read(p.weight_base, K * C * R * S).view(np.int8)
    W = np.empty((K, R, S, C), dtype=np.int8)
    cf = C - C % ATOM  # channels in whole blocks
    pos = 0
    for k0, k1 in ((0, K - K % ATOM), (K - K % ATOM, K)):
        if k1 == k0:
            continue
        kn = min(ATOM, k1 - k0)
        groups = (k1 - k0) // kn
        g = raw[pos:pos + groups * kn * R * S * C].reshape(groups, kn * R * S * C)
        if cf == C:  # only whole blocks: move each 8-channel atom as one uint64
            whole = g.view(np.uint64).reshape(groups, C // ATOM, R, S, kn)
            dst = W.view(np.uint64)[k0:k1].reshape(groups, kn, R, S, C // ATOM)  # a view: W is contiguous
            dst[...] = whole.transpose(0, 4, 2, 3, 1)
        else:
            whole = g[:, :kn * R * S * cf].reshape(groups, cf // ATOM, R, S, kn, ATOM)
            W[k0:k1, :, :, :cf] = whole.transpose(0, 4, 2, 3, 1, 5).reshape(k1 - k0, R, S, cf)
            tail = g[:, kn * R * S * cf:].reshape(groups, R, S, kn, C - cf)
            W[k0:k1, :, :, cf:] = tail.transpose(0, 3, 1, 2, 4).reshape(k1 - k0, R, S, C - cf)
        pos += g.size
    return W


def read_weights(mem: SparseMemory, p: ConvParams) -> np.ndarray:
    """Weights W[k][c][r][s] as int64 (memory-layouts.md §2)."""
    return _weights_krsc(mem, p).transpose(0, 3, 1, 2).astype(np.int64)


def _pad_geometry(p: ConvParams) -> tuple[int, int, int, int, int, int]:
    """(rows, cols) every tap can reach, where the input sits in them (y0, x0), and how much of
    the input lies inside (h, w)."""
    rows = (p.out_h - 1) * p.stride_y + (p.kernel_h - 1) * p.dilation_y + 1
    cols = (p.out_w - 1) * p.stride_x + (p.kernel_w - 1) * p.dilation_x + 1
    y0, x0 = p.pad_top, p.pad_left  # input row i sits at P row i + pad_top
    h = max(0, min(p.height, rows - y0))
    w = max(0, min(p.width, cols - x0))
    return rows, cols, y0, x0, h, w


def padded_input(feat: np.ndarray, p: ConvParams, dtype=np.int64) -> np.ndarray:
    """P[c][i][j] over every row/column a tap can reach; outside the input it is the raw pad value."""
    rows, cols, y0, x0, h, w = _pad_geometry(p)
    if (y0, x0, h, w) == (0, 0, rows, cols) and feat.shape[1:] == (rows, cols):
        return feat.astype(dtype)  # no tap reaches the padding
    P = np.full((p.channels, rows, cols), p.pad_value, dtype=dtype)
    if h > 0 and w > 0:
        P[:, y0:y0 + h, x0:x0 + w] = feat[:, :h, :w]
    return P


def _windows(P: np.ndarray, p: ConvParams) -> np.ndarray:
    """A strided view (R, S, C, Ho, Wo) of P: the input value under every tap of every output."""
    P = np.ascontiguousarray(P)
    C, rows, cols = P.shape
    sc, sy, sx = P.strides
    return strided(P, (p.kernel_h, p.kernel_w, C, p.out_h, p.out_w),
                   (sy * p.dilation_y, sx * p.dilation_x, sc, sy * p.stride_y, sx * p.stride_x))


def _gemm_dtype(bound: int):
    """float32 when every partial sum stays below 2^24 (all exact), else float64 (exact below
    2^53; the callers only come here below 2^33)."""
    return np.float32 if bound < _FLOAT32_EXACT else np.float64


def _gemm_sums(P: np.ndarray, Wm: np.ndarray, p: ConvParams) -> np.ndarray:
    """Sum over (r, s, c) of Wm[k, r, s, c] * P[c, ...] as int64 (K, Ho, Wo); P and Wm already
    in the GEMM's float type. The taps are copied (im2col) in chunks of output rows; a 1x1,
    stride-1 convolution whose P fits one chunk needs no copy."""
    K = Wm.shape[0]
    L = Wm[0].size
    Wmat = Wm.reshape(K, L)
    out = np.empty((K, p.out_h, p.out_w), dtype=np.int64)
    taps = _windows(P, p)
    rows_per_chunk = max(1, _GEMM_CHUNK // max(1, L * p.out_w))
    for y0 in range(0, p.out_h, rows_per_chunk):
        rows = slice(y0, min(p.out_h, y0 + rows_per_chunk))
        n = rows.stop - rows.start
        cols = np.ascontiguousarray(taps[:, :, :, rows]).reshape(L, n * p.out_w)  # im2col
        out[:, rows, :] = (Wmat @ cols).reshape(K, n, p.out_w)
    return out


def mac_sums(P: np.ndarray, W: np.ndarray, p: ConvParams, bound: int | None = None) -> np.ndarray:
    """Exact sum over (r, s, c) of W * P: int64 (K, Ho, Wo). `bound` (optional, as `sum_bound`
    gives it) bounds every partial sum; it must stay below 2^53 (float64 GEMM)."""
    if bound is None:
        bound = sum_bound(P, W)
    dt = _gemm_dtype(bound)
    return _gemm_sums(P.astype(dt), W.transpose(0, 2, 3, 1).astype(dt), p)


def _quick_bound(P: np.ndarray, Wm: np.ndarray) -> int:
    """`sum_bound`, or a looser bound when that one already proves float32 exact: each |x| is at
    most 2^7 (int8, also after the converter), so L terms of at most 2^7 * max|w| stay below 2^24
    without a look at the inputs; only longer or larger reductions pay for the exact bound."""
    terms = Wm[0].size
    if terms << 14 < _FLOAT32_EXACT:
        return terms << 14
    loose = terms * int(np.abs(Wm).view(np.uint8).max(initial=0)) << 7  # int8 abs: see sum_bound
    return loose if loose < _FLOAT32_EXACT else sum_bound(P, Wm)


def sum_bound(P: np.ndarray, W: np.ndarray) -> int:
    """An upper bound of |any partial sum| of any kernel: max over k of sum |W_k|, times max |P|."""
    W = W.reshape(W.shape[0], -1)
    # int8 abs wraps -128 to -128, whose uint8 view is the right magnitude: no wider copy
    # (at most 8192 channels x 32 x 32 taps x 128: below 2^32)
    if W.dtype == np.int8:
        w = np.abs(W).view(np.uint8).sum(axis=1, dtype=np.uint32).max(initial=0)
    else:
        w = np.abs(W).sum(axis=1).max(initial=0)
    return int(w) * int(max(P.max(initial=0), -P.min(initial=0)))


def _accumulate_saturating(P: np.ndarray, W: np.ndarray, p: ConvParams) -> np.ndarray:
    """Hardware-order accumulation with 34-bit saturation after every atomic operation.

    Order (unverified, [U] in datapath.md §7): channel block outer, then kernel row r, then column
    s, as NVDLA's CSC sequences a direct-convolution block. Only reached when a partial sum can
    leave 34 bits.
    """
    K, C, R, S = W.shape
    psum = np.zeros((K, p.out_h, p.out_w), dtype=np.int64)
    taps = _windows(P, p)
    for b in range(ceil_div(C, ATOM)):
        cs = slice(ATOM * b, min(C, ATOM * b + ATOM))
        for r in range(R):
            for s in range(S):
                d = taps[r, s, cs]  # (cn, Ho, Wo)
                op = np.einsum("kc,chw->khw", W[:, cs, r, s], d)  # one atomic op: 19-bit exact sum
                psum = sat(psum + op, PSUM_BITS)[0]
    return psum


def cacc_round(psum: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """CACC output clip (§7): round to nearest, ties away from zero, by CLIP_TRUNCATE, then int32.

    For t <= 16 this is exactly shr_round. For t = 17..31 NVDLA's RTL keeps only 15 sticky bits
    (bits t-2 .. t-16 of the discarded part), so a negative value whose only non-zero discarded
    bits lie lower rounds as if it were an exact tie; modelled here bit for bit ([S], §7).
    """
    return shr_round(psum, t, PSUM_BITS, NV_SMALL.cacc_out_bits, NV_SMALL.cacc_sticky_bits)


def convolve(mem: SparseMemory, p: ConvParams) -> tuple[np.ndarray, int]:
    """CACC output for every lane of every kernel group: int64 (8*ceil(K/8), Ho, Wo), and the
    number of elements whose int32 clamp fired (D_OUT_SATURATION)."""
    feat = read_feature(mem, p) if p.cvt_en else _feature_bytes(mem, p)
    Wm = _weights_krsc(mem, p)
    P = padded_input(feat, p, np.float32)  # int8 values (after the converter too): exact
    bound = _quick_bound(P, Wm)
    if bound < (1 << (PSUM_BITS - 1)):
        dt = _gemm_dtype(bound)
        with _gemm_threads():
            psum = _gemm_sums(P.astype(dt, copy=False), Wm.astype(dt), p)
    else:
        psum = _accumulate_saturating(P.astype(np.int64), Wm.transpose(0, 3, 1, 2).astype(np.int64), p)
    # cacc_round, counted without a flag array
    out, count = shr_round_count(psum, p.clip_truncate, PSUM_BITS, NV_SMALL.cacc_out_bits,
                                 NV_SMALL.cacc_sticky_bits)
    if p.kernels % ATOM == 0:
        return out, count
    full = np.zeros((ATOM * ceil_div(p.kernels, ATOM), p.out_h, p.out_w), dtype=np.int64)
    full[:p.kernels] = out  # lanes past K have no weights: CACC delivers 0 (§8.6)
    return full, count
