"""Fixed-point primitives of the nv_small INT8 datapath (shared/spec/datapath.md §2).

Each function mirrors one hardware/C-model primitive, takes explicit widths, works on Python ints
and on int64 numpy arrays alike, and returns `(value, saturated)` where the hardware counts
saturation. Every intermediate of the datapath fits in 49 bits, so int64 is exact.
"""
from __future__ import annotations

import numpy as np

def _as_i64(x) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype != np.int64:
        a = a.astype(np.int64)
    return a


def _like(result: np.ndarray, x):
    """Return a Python int when the caller passed a scalar."""
    return int(result) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else result


def sext(v, bits: int):
    """The low `bits` bits of `v` read as two's complement.

    >>> sext(0xc9, 8), sext(0x7f, 8), sext(0xa433, 16)
    (-55, 127, -23501)
    """
    if type(v) is int:  # register fields: plain integer arithmetic, no numpy round trip
        v &= (1 << bits) - 1
        return v - (1 << bits) if v >> (bits - 1) else v
    if bits == 8 and isinstance(v, np.ndarray) and v.dtype == np.uint8:
        return v.view(np.int8).astype(np.int64)  # memory bytes: a reinterpretation, 4x faster
    a = _as_i64(v)
    m = np.int64((1 << bits) - 1)
    lo = a & m
    r = np.where(lo >= (1 << (bits - 1)), lo - (1 << bits), lo)
    return _like(r, v)


def sat(x, bits: int):
    """Clamp to [-2^(bits-1), 2^(bits-1)-1]; returns (value, saturated).

    >>> sat(128, 8), sat(-129, 8), sat(-128, 8)
    ((127, True), (-128, True), (-128, False))
    """
    a = _as_i64(x)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    r = np.clip(a, lo, hi)
    flag = r != a
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return int(r), bool(flag)
    return r, flag


def shl_sat(x, shift: int, bits: int):
    """Saturating left shift (NV_NVDLA_HLS_shiftleftsu): sat(x * 2^shift, bits). Never wraps.

    >>> shl_sat(-32768, 20, 32)
    (-2147483648, True)
    """
    return sat(_like(_shl(_as_i64(x), shift), x), bits)


def _shl(a: np.ndarray, shift: int) -> np.ndarray:
    # x is at most 16 bits here; clamp the shift so the product cannot leave int64.
    return a << np.int64(min(shift, 62 - 16))


def _round_shift(a: np.ndarray, shift: int, in_bits: int, sticky_bits: int | None = None) -> np.ndarray:
    """The rounding right shift of `shr_round`, before its saturation. Ties away from zero as
    floor((a + half - [a < 0]) / 2^shift): (a >> 63) is -1 exactly for negative a; four passes
    over the data, no temporaries. May return `a` itself (shift 0).

    `sticky_bits`: how many discarded bits below the first one the rounding sees (None: all).
    Clearing the unseen ones changes neither the floor nor the first discarded bit, so the
    rounding of the cleared value is the rounding of hardware that cannot see them."""
    if shift >= in_bits:
        return np.zeros_like(a)
    if shift == 0:
        return a
    if sticky_bits is not None and shift - 1 > sticky_bits:
        a = a & np.int64(~((1 << (shift - 1 - sticky_bits)) - 1))
    r = a >> np.int64(63)
    r += a
    r += np.int64((1 << (shift - 1)))
    r >>= np.int64(shift)
    return r


def sat_count(a: np.ndarray, bits: int) -> tuple[np.ndarray, int]:
    """`sat` of an int64 array, returning how many elements saturated instead of the flags:
    when nothing is out of range (two reductions tell) the input itself comes back, uncopied."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if a.size == 0 or (a.min() >= lo and a.max() <= hi):
        return a, 0
    n = int(np.count_nonzero(a < lo)) + int(np.count_nonzero(a > hi))
    return np.clip(a, lo, hi), n


def shr_round_count(a: np.ndarray, shift: int, in_bits: int, out_bits: int,
                    sticky_bits: int | None = None) -> tuple[np.ndarray, int]:
    """`shr_round` of an int64 array with the number of saturated elements instead of the flags.
    The result may be `a` itself: callers must not write into it."""
    return sat_count(_round_shift(a, shift, in_bits, sticky_bits), out_bits)


def shl_sat_count(a: np.ndarray, shift: int, bits: int) -> tuple[np.ndarray, int]:
    """`shl_sat` of an int64 array with the number of saturated elements instead of the flags."""
    return sat_count(np.asarray(_shl(a, shift)), bits)


def shr_round(x, shift: int, in_bits: int, out_bits: int, sticky_bits: int | None = None):
    """Right shift rounding to nearest, ties away from zero, then saturate (IntShiftRightSat,
    cmod nvdla_int.h; NV_NVDLA_HLS_shiftrightsatsu). Returns (value, saturated).

    A shift >= in_bits gives 0 (never -1, also for negative x); shift 0 only saturates.
    `sticky_bits` limits the discarded bits below the first one that the rounding sees, as
    CACC's 15 (datapath.md §7); None sees them all, as the formula.

    >>> [shr_round(v, 1, 34, 32)[0] for v in (3, -3, 5, -5, -1)]
    [2, -2, 3, -3, -1]
    >>> shr_round(-1824, 6, 34, 32)
    (-29, False)
    >>> shr_round(-(1 << 48), 49, 49, 32)
    (0, False)
    """
    r = _round_shift(_as_i64(x), shift, in_bits, sticky_bits)
    return sat(_like(r, x), out_bits)


def round_away(x):
    """Round floats to nearest, ties away from zero: the datapath's rule (shr_round) for host-side
    quantization, so host and hardware rounding agree.

    >>> round_away(np.array([2.5, -2.5, 1.49, -0.5])).tolist()
    [3.0, -3.0, 1.0, -1.0]
    """
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)
