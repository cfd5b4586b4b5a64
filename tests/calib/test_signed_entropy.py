"""The two entropy faces: `entropy-trt` (TensorRT's Entropy2 on |x|) and `entropy` (signed KL,
floored at the MSE threshold), and the signed histogram they read."""
from __future__ import annotations

import numpy as np
import pytest

from nvdla_int8.calib.calibrators import EntropyCalibrator, SignedEntropyCalibrator, make_calibrator
from nvdla_int8.calib.choose import clipped_fraction
from nvdla_int8.calib.histogram import AbsHistogram
from nvdla_int8.calib.trt_cache import encode_scale


def hist(*batches) -> AbsHistogram:
    h = AbsHistogram()
    for b in batches:
        h.update(np.asarray(b))
    return h


def test_negative_counts_equal_brute_force_across_growth():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(40_000) * np.where(rng.random(40_000) < 0.5, 1.0, 0.2),
                        [0.0, -0.0, -6.0, 5.0, 6.0]]).astype(np.float32)
    h = hist(x)
    a = np.abs(x.astype(np.float64))
    bins = np.minimum((a * 2048 / a.max()).astype(int), 2047)
    np.testing.assert_array_equal(h.neg, np.bincount(bins[x < 0], minlength=2048))
    np.testing.assert_array_equal(h.counts, np.bincount(bins[x != 0], minlength=2048))
    grown = hist(x[:1000] * 0.5, x)                     # re-binned once: both sides keep their mass
    assert grown.neg.sum() == pytest.approx(np.count_nonzero(x[:1000] < 0) + np.count_nonzero(x < 0))
    assert np.all(grown.neg <= grown.counts + 1e-9)


def test_method_names():
    assert isinstance(make_calibrator("entropy"), SignedEntropyCalibrator)
    assert isinstance(make_calibrator("entropy-trt"), EntropyCalibrator)


@pytest.mark.parametrize("amax, want", [(151.0, "3f9839e4"), (1.0, "3c010a14")])
def test_both_faces_reproduce_tensorrt_caches(amax, want):
    """resnet50.txt `data` and trt8001 `input0`: signed inputs, where the signed face agrees."""
    x = np.concatenate(([amax], np.random.default_rng(3).uniform(-amax, amax, 500_000))).astype(np.float32)
    h = hist(x)
    for method in ("entropy", "entropy-trt"):
        assert encode_scale(make_calibrator(method).threshold(h) / 127) == want


def test_non_negative_tensor_kl_is_tensorrt_to_the_bit():
    rng = np.random.default_rng(4)
    for seed in range(3):
        z = rng.standard_t(5, 50_000) * rng.uniform(0.5, 2) + rng.normal()
        h = hist(np.maximum(z, 0))
        assert not h.signed
        assert SignedEntropyCalibrator().kl_threshold(h) == EntropyCalibrator().threshold(h)


def test_spike_on_one_side_does_not_swallow_the_other():
    """A mean-subtracted image: 80 % background at -0.424, strokes spread up to 2.82. On |x| the
    strokes' clipped tail folds onto the background spike almost for free (TensorRT: T = 0.425);
    kept apart it cannot, and T covers the strokes."""
    rng = np.random.default_rng(5)
    x = np.concatenate([np.full(80_000, -0.4242), rng.uniform(0, 2.8215, 20_000), [2.8215]])
    h = hist(x)
    assert EntropyCalibrator().threshold(h) < 0.45
    assert clipped_fraction(h, EntropyCalibrator().threshold(h)) > 0.15
    t = SignedEntropyCalibrator().kl_threshold(h)
    assert t > 2.5 and clipped_fraction(h, t) < 0.02


def test_mse_floor_against_spikes_on_a_relu_output():
    """Spikes away from zero (a constant background through conv + ReLU) drag the KL minimum below
    them, clipping the tail; the MSE floor keeps the threshold where the squared error is least."""
    rng = np.random.default_rng(6)
    x = np.concatenate([np.abs(rng.standard_normal(60_000)) * 3, np.full(30_000, 0.5), np.full(30_000, 1.1)])
    h = hist(x)
    trt = EntropyCalibrator().threshold(h)
    assert clipped_fraction(h, trt) > 0.05                      # the artefact this guards against
    t = SignedEntropyCalibrator().threshold(h)
    assert t == max(trt, make_calibrator("mse").threshold(h)) and clipped_fraction(h, t) < 0.01
