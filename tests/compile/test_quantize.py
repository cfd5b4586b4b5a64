"""Quantization arithmetic: multiplier/shift search, bias at 2^15, all-zero kernels, rounding."""
from __future__ import annotations

import numpy as np

from nvdla_int8.graph.ir import ConvLayer
from nvdla_int8.quantize.network import _bias16, best_mul_shift, nvdla_truncated_error, quantize_layer, round_away


def test_best_pair_never_worse_than_nvdla_truncation():
    rng = np.random.default_rng(0)
    for f in rng.uniform(1e-6, 100, 300):
        m, t, err = best_mul_shift(np.array([f]))
        assert abs(int(m[0])) <= 32767 and 0 <= t <= 63
        assert err == abs(m[0] / 2.0 ** t - f) / f
        assert err <= nvdla_truncated_error(f) + 1e-15


def test_per_channel_pairs_share_one_shift():
    f = np.array([0.5, 0.001, 0.37])
    m, t, err = best_mul_shift(f)
    assert np.all(np.abs(m / 2.0 ** t - f) / f <= err + 1e-15)
    assert np.all(np.abs(m) <= 32767)


def test_bias_at_exactly_2_15_does_not_wrap():
    b16, ls = _bias16(np.array([32768.0, -32768.0, 5.0]), "l")
    assert ls == 1 and b16.tolist() == [16384, -16384, 3]
    b16, ls = _bias16(np.array([32767.0, -32768.0]), "l")
    assert ls == 0 and b16.tolist() == [32767, -32768]


def test_round_half_away_from_zero():
    assert round_away(np.array([0.5, -0.5, 1.5, -1.5, 2.4999])).tolist() == [1, -1, 2, -2, 2]


def test_all_zero_kernel_is_guarded():
    w = np.zeros((2, 1, 1, 1))
    w[1] = 0.5
    layer = ConvLayer("z", "Conv", "x", "y", w, np.array([0.1, 0.0]), (1, 1, 1), (2, 1, 1))
    for mode in ("per-kernel", "per-filter"):
        q = quantize_layer(layer, 0.01, 0.02, mode, None)
        assert np.all(np.isfinite(q.w_scale)) and np.all(q.weight[0] == 0) and q.weight[1, 0, 0, 0] == 127
    q = quantize_layer(ConvLayer("z", "Conv", "x", "y", np.zeros((2, 1, 1, 1)), np.zeros(2), (1, 1, 1), (2, 1, 1)),
                       0.01, 0.02, "per-kernel", None)
    assert q.report["zero_kernels"] == 2 and np.all(q.weight == 0)
