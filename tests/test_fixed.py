"""Fixed-point primitives against hand-worked cases from datapath.md §2, §4, §7, §8."""
import numpy as np
import pytest

from nvdla_int8.hw.fixed import sat, sext, shl_sat, shr_round


@pytest.mark.parametrize("x,s,want", [
    (3, 1, 2), (-3, 1, -2),        # +1.5 -> 2, -1.5 -> -2: ties away from zero
    (5, 2, 1), (-5, 2, -1),        # 1.25 -> 1, -1.25 -> -1
    (7, 2, 2), (-7, 2, -2),        # 1.75 -> 2, -1.75 -> -2
    (-1, 1, -1), (1, 1, 1),        # +-0.5 -> +-1
    (-1824, 6, -29),               # dc_1x1x8 worked example: -28.5 -> -29
    (6, 2, 2), (-6, 2, -2),        # 1.5 -> 2, -1.5 -> -2
    (100, 0, 100), (-100, 0, -100),
])
def test_shr_round_ties_away_from_zero(x, s, want):
    assert shr_round(x, s, 34, 32) == (want, False)


def test_shift_at_or_beyond_width_is_zero_not_minus_one():
    assert shr_round(-(1 << 33), 34, 34, 32) == (0, False)
    assert shr_round(-1, 40, 34, 32) == (0, False)
    assert shr_round(-(1 << 48), 49, 49, 32) == (0, False)
    # one below the width still rounds: -2^48 / 2^48 = -1
    assert shr_round(-(1 << 48), 48, 49, 32) == (-1, False)


def test_rounding_happens_before_saturation():
    top = (1 << 31) - 1
    # (2*top + 1) / 2 = top + 0.5 rounds to 2^31, which then saturates
    assert shr_round(2 * top + 1, 1, 34, 32) == (top, True)
    assert shr_round(2 * top, 1, 34, 32) == (top, False)
    assert shr_round(-(1 << 32) - 1, 1, 34, 32) == (-(1 << 31), True)
    assert shr_round(-(1 << 32), 1, 34, 32) == (-(1 << 31), False)


def test_saturation_edges():
    assert sat(127, 8) == (127, False) and sat(128, 8) == (127, True)
    assert sat(-128, 8) == (-128, False) and sat(-129, 8) == (-128, True)
    assert sat((1 << 16), 17) == ((1 << 16) - 1, True)


def test_left_shift_saturates_never_wraps():
    assert shl_sat(1, 31, 32) == ((1 << 31) - 1, True)
    assert shl_sat(-1, 31, 32) == (-(1 << 31), False)
    assert shl_sat(-2, 31, 32) == (-(1 << 31), True)
    assert shl_sat(0x7FFF, 63, 32) == ((1 << 31) - 1, True)
    assert shl_sat(3, 4, 32) == (48, False)


def test_sext():
    assert sext(0xC9, 8) == -55 and sext(0x80, 8) == -128 and sext(0x7F, 8) == 127
    assert sext(0x1599, 16) == 5529 and sext(0x8544, 16) == -31420
    assert sext(0x1FF, 8) == -1  # only the low bits count
    everything = np.arange(256, dtype=np.uint8)  # memory bytes take a fast path: same values
    assert sext(everything, 8).tolist() == [sext(int(b), 8) for b in range(256)]
    assert sext(everything, 8).dtype == np.int64


def test_vectorised_matches_scalar():
    xs = np.arange(-300, 301, dtype=np.int64)
    v, f = shr_round(xs, 3, 34, 8)
    for x, vv, ff in zip(xs, v, f):
        assert (int(vv), bool(ff)) == shr_round(int(x), 3, 34, 8)
