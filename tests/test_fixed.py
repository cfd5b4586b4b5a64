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


def _sticky_reference(x: int, t: int, sticky: int) -> int:
    """datapath.md §2/§7 read bit by bit: floor, +1 when the first discarded bit is set and x is
    non-negative or one of the `sticky` discarded bits below it is set."""
    lo = max(0, t - 1 - sticky)
    rest = (x >> lo) & ((1 << (t - 1 - lo)) - 1)
    return (x >> t) + int(((x >> (t - 1)) & 1) == 1 and (x >= 0 or rest != 0))


def test_sticky_bits_limit_what_the_rounding_sees():
    rng = np.random.default_rng(17)
    for t in (1, 2, 15, 16, 17, 18, 24, 31, 33):
        # values whose low bits decide: ties, near-ties and bits only below the sticky window
        base = rng.integers(-(1 << 33), 1 << 33, 400)
        near = [(k << t) + d for k in (-3, -1, 0, 2) for d in
                (1 << (t - 1), (1 << (t - 1)) + 1, (1 << (t - 1)) - 1, -(1 << (t - 1)) + 1)]
        xs = np.clip(np.concatenate([base, near]), -(1 << 33), (1 << 33) - 1).astype(np.int64)
        for sticky in (15, 3, 0):
            got = shr_round(xs, t, 34, 40, sticky_bits=sticky)[0]
            assert got.tolist() == [_sticky_reference(int(x), t, sticky) for x in xs], (t, sticky)
            assert shr_round(int(xs[-1]), t, 34, 40, sticky)[0] == int(got[-1])
        # an unlimited sticky is the formula itself
        assert np.array_equal(shr_round(xs, t, 34, 40, sticky_bits=64)[0], shr_round(xs, t, 34, 40)[0])
    # the case the limit exists for (t = 17, datapath.md §7): -0.5 + 2^-17 rounds as the tie -0.5
    assert shr_round(-(1 << 16) + 1, 17, 34, 32, sticky_bits=15) == (-1, False)
    assert shr_round(-(1 << 16) + 1, 17, 34, 32) == (0, False)
