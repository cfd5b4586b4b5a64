"""Direct convolution, CDMA input converter and CACC (datapath.md §4-§7, §9), vectorised.

The MACs are exact integer sums computed as float32 GEMMs (BLAS): float32 holds every integer
below 2^24, so one GEMM is exact when no kernel's sum of |w| times max |x| reaches 2^24;
otherwise the reduction is cut into slices of 1024 terms (a product is at most 2^14, so a slice's
partial sums stay within 2^24) added in int64. Hardware saturates the 34-bit partial sum after
every atomic operation; that can only bite when some kernel's worst case reaches 2^33, and only
then is the accumulation replayed step by step in hardware order (see `_accumulate_saturating`).
"""
from __future__ import annotations

import numpy as np

from ..hw.config import NV_SMALL
from ..hw.fixed import sat, sext, shr_round
from ..hw.layouts import ceil_div, weight_offsets
from ..trace.memory import SparseMemory
from .program import ConvParams

ATOM = NV_SMALL.atomic_k
PSUM_BITS = NV_SMALL.cacc_psum_bits
_GEMM_CHUNK = 1 << 24  # im2col elements per chunk: bounds memory for huge layers
_FLOAT32_EXACT = 1 << 24  # every integer of smaller magnitude is a float32
_EXACT_TERMS = 1024  # 1024 products of at most 2^14: partial sums within 2^24, exact in float32


def read_feature(mem: SparseMemory, p: ConvParams) -> np.ndarray:
    """Input cube (C, Hi, Wi) as int64 after the CDMA input converter (§4)."""
    raw = sext(p.feature.read_cube(mem, p.channels, p.height, p.width), 8)
    if not p.cvt_en:
        return raw
    m = (raw - p.cvt_offset) * p.cvt_scale  # exact: 18 bit x 16 bit
    t17, _ = shr_round(m, p.cvt_truncate, NV_SMALL.cdma_cvt_in_bits, NV_SMALL.cdma_cvt_mid_bits)
    return sat(t17, 8)[0]


def read_weights(mem: SparseMemory, p: ConvParams) -> np.ndarray:
    """Weights W[k][c][r][s] as int64 (memory-layouts.md §2), read block by block: kernel group g,
    channel block b, each stored as [r][s][k][c], one after another with no padding."""
    K, C, R, S = p.kernels, p.channels, p.kernel_h, p.kernel_w
    raw = sext(mem.read(p.weight_base, K * C * R * S), 8)
    W = np.empty((K, C, R, S), dtype=np.int64)
    pos = 0
    for k0 in range(0, K, ATOM):
        kn = min(ATOM, K - k0)
        for c0 in range(0, C, ATOM):
            cn = min(ATOM, C - c0)
            block = raw[pos:pos + R * S * kn * cn].reshape(R, S, kn, cn)
            W[k0:k0 + kn, c0:c0 + cn] = block.transpose(2, 3, 0, 1)
            pos += block.size
    return W


def padded_input(feat: np.ndarray, p: ConvParams) -> np.ndarray:
    """P[c][i][j] over every row/column a tap can reach; outside the input it is the raw pad value."""
    rows = (p.out_h - 1) * p.stride_y + (p.kernel_h - 1) * p.dilation_y + 1
    cols = (p.out_w - 1) * p.stride_x + (p.kernel_w - 1) * p.dilation_x + 1
    P = np.full((p.channels, rows, cols), p.pad_value, dtype=np.int64)
    y0, x0 = p.pad_top, p.pad_left  # input row i sits at P row i + pad_top
    h = max(0, min(p.height, rows - y0))
    w = max(0, min(p.width, cols - x0))
    if h > 0 and w > 0:
        P[:, y0:y0 + h, x0:x0 + w] = feat[:, :h, :w]
    return P


def _windows(P: np.ndarray, p: ConvParams) -> np.ndarray:
    """A strided view (R, S, C, Ho, Wo) of P: the input value under every tap of every output."""
    C, rows, cols = P.shape
    sc, sy, sx = P.strides
    return np.lib.stride_tricks.as_strided(
        P, shape=(p.kernel_h, p.kernel_w, C, p.out_h, p.out_w),
        strides=(sy * p.dilation_y, sx * p.dilation_x, sc, sy * p.stride_y, sx * p.stride_x),
        writeable=False)


def mac_sums(P: np.ndarray, W: np.ndarray, p: ConvParams, bound: int | None = None) -> np.ndarray:
    """Exact sum over (r, s, c) of W * P: int64 (K, Ho, Wo). `bound` (optional, as `sum_bound`
    gives it) bounds every partial sum: below 2^24 one float32 GEMM is exact whatever its length."""
    K, C, R, S = W.shape
    L = R * S * C
    if bound is None:
        bound = sum_bound(P, W)
    step = L if bound < _FLOAT32_EXACT else _EXACT_TERMS
    Wmat = W.transpose(0, 2, 3, 1).reshape(K, L).astype(np.float32)
    taps = _windows(P.astype(np.float32), p)
    out = np.empty((K, p.out_h, p.out_w), dtype=np.int64)
    rows_per_chunk = max(1, _GEMM_CHUNK // max(1, L * p.out_w))
    for y0 in range(0, p.out_h, rows_per_chunk):
        rows = slice(y0, min(p.out_h, y0 + rows_per_chunk))
        n = rows.stop - rows.start
        cols = np.ascontiguousarray(taps[:, :, :, rows]).reshape(L, n * p.out_w)  # im2col
        acc = (Wmat[:, :step] @ cols[:step]).astype(np.int64)
        for k0 in range(step, L, step):
            acc += (Wmat[:, k0:k0 + step] @ cols[k0:k0 + step]).astype(np.int64)
        out[:, rows, :] = acc.reshape(K, n, p.out_w)
    return out


def sum_bound(P: np.ndarray, W: np.ndarray) -> int:
    """An upper bound of |any partial sum| of any kernel: max over k of sum |W_k|, times max |P|."""
    return int(np.abs(W).sum(axis=(1, 2, 3)).max(initial=0)) * int(np.abs(P).max(initial=0))


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
    if t <= 16:
        return shr_round(psum, t, PSUM_BITS, NV_SMALL.cacc_out_bits)
    floor = psum >> np.int64(t)
    guard = (psum >> np.int64(t - 1)) & 1
    sticky_mask = np.int64(((1 << (t - 1)) - 1) & ~((1 << (t - 16)) - 1))
    inc = (guard == 1) & ((psum >= 0) | ((psum & sticky_mask) != 0))
    return sat(floor + inc, NV_SMALL.cacc_out_bits)


def convolve(mem: SparseMemory, p: ConvParams) -> tuple[np.ndarray, int]:
    """CACC output for every lane of every kernel group: int64 (8*ceil(K/8), Ho, Wo), and the
    number of elements whose int32 clamp fired (D_OUT_SATURATION)."""
    feat = read_feature(mem, p)
    W = read_weights(mem, p)
    P = padded_input(feat, p)
    bound = sum_bound(P, W)
    if bound < (1 << (PSUM_BITS - 1)):
        psum = mac_sums(P, W, p, bound)
    else:
        psum = _accumulate_saturating(P, W, p)
    out, flags = cacc_round(psum, p.clip_truncate)
    full = np.zeros((ATOM * ceil_div(p.kernels, ATOM), p.out_h, p.out_w), dtype=np.int64)
    full[:p.kernels] = out  # lanes past K have no weights: CACC delivers 0 (§8.6)
    return full, int(np.count_nonzero(flags))
