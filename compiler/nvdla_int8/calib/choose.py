"""What a threshold costs on a histogram (clipped fraction, squared error, SQNR of the int8
fake-quantized tensor against FP32), and `--method auto`: per tensor, the candidate threshold of
every method with the least error on a validation split.

The error of threshold T is computed from a histogram, each bin represented by its centre c:
fakequant(c) = min(floor(c / s + 0.5), 127) * s with s = T / 127 (symmetric int8, rounding half
away from zero on |x| as the datapath rounds; exact zeros cost nothing). A bin is 1/16 of an int8
step at T = range and one step at the smallest candidate (T = range / 16): the error is an
estimate whose resolution falls with T, good enough to rank candidates that differ by clipping.

Why the tensor's own error and not the network's output: the noise a scale injects is where the
choice acts; it reaches the output through layers that are linear up to the activations, so the
tensor with less noise gives the output less noise, and one pass of histograms prices every
candidate of every tensor at once. The price is that interactions between tensors are ignored,
and they can decide: on models/dw_separable.onnx in per-kernel mode the scale of one ReLU6 output
moves the network's output error 2.3x while that tensor's own error ranks the candidates the other
way (the constant background's rounding error, the same on every image, summed by the next
depthwise kernel into a constant offset). This choice is therefore only auto's starting point:
network_choice.py then judges the candidates by the network's output.
Why a validation split: on the data it was fitted on, the MSE threshold wins by construction;
held-out samples show whether a clipping choice (percentile, entropy) or the full range (max)
generalises.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bounds import bounded_threshold
from .calibrators import make_calibrator
from .histogram import AbsHistogram

AUTO_CANDIDATES = ("max", "percentile", "entropy", "entropy-trt", "mse")
DEFAULT_FLAG_DB = 25.0


@dataclass(frozen=True)
class TensorStats:
    threshold: float
    clipped: float        # fraction of all values (exact zeros included) with |x| > T
    sqnr_db: float        # 10 log10(sum x^2 / sum (x - fakequant(x))^2); inf when exact


def error_and_signal(h: AbsHistogram, threshold: float) -> tuple[float, float]:
    """(sum of squared fake-quantization error, sum of x^2) over the histogram's values."""
    if h.range_ == 0 or h.counts.sum() == 0:
        return 0.0, 0.0
    c = (np.arange(h.bins) + 0.5) * h.bin_width
    s = threshold / 127.0
    q = np.minimum(np.floor(c / s + 0.5), 127.0) * s
    return float(((q - c) ** 2) @ h.counts), float((c ** 2) @ h.counts)


def clipped_fraction(h: AbsHistogram, threshold: float) -> float:
    """Values above T over all values; the bin holding T counts by the share of it above T."""
    total = h.counts.sum() + h.zeros
    if total == 0 or h.range_ == 0 or threshold >= h.range_:
        return 0.0
    pos = threshold / h.bin_width
    k = int(pos)
    above = h.counts[k + 1:].sum() + h.counts[k] * (k + 1 - pos)
    return float(above / total)


def tensor_stats(h: AbsHistogram, threshold: float) -> TensorStats:
    noise, signal = error_and_signal(h, threshold)
    sqnr = float("inf") if noise == 0 else (10 * np.log10(signal / noise) if signal > 0 else float("-inf"))
    return TensorStats(float(threshold), clipped_fraction(h, threshold), float(sqnr))


def auto_thresholds(cal: dict[str, AbsHistogram], val: dict[str, AbsHistogram], percentile: float = 99.99,
                    bounds: dict[str, float] | None = None) -> dict[str, tuple[str, float, dict[str, float]]]:
    """Per tensor (chosen method, its threshold, every candidate's threshold): candidates fitted on
    `cal` (none above the tensor's graph bound, bounds.py), the one with the least squared error on
    `val` kept (ties: the larger threshold, which clips less). A tensor without validation values
    (no batch axis) keeps the MSE candidate."""
    calibrators = {m: make_calibrator(m, percentile) for m in AUTO_CANDIDATES}
    bounds = bounds or {}
    out = {}
    for name, h in cal.items():
        cands = {m: bounded_threshold(float(c.threshold(h)), bounds.get(name)) for m, c in calibrators.items()}
        v = val.get(name)
        if v is None or v.counts.sum() == 0:
            best = "mse"
        else:
            err = {m: error_and_signal(v, t)[0] for m, t in cands.items()}
            best = min(cands, key=lambda m: (err[m], -cands[m]))
        out[name] = (best, cands[best], cands)
    return out
