"""Streaming histogram of |x| per tensor, 2048 bins over [0, amax], range growing across batches.

Choices (the public TensorRT description says only "2048 bins of |x|"):

- **Exact zeros are counted apart** (`zeros`), not in bin 0. A zero is exact at every scale, so it
  says nothing about where to clip; in bin 0 it would be a spike that the entropy search spreads
  over the first quantization group and that pulls the threshold down on ReLU outputs (the
  spread spike costs less when groups are narrow, i.e. when i is small). TensorRT's resnet50.txt
  agrees (ReLU outputs' thresholds 0.55..1.37 times their inputs'; zeros in bin 0 would give ~0.2,
  see docs/calibration.md). Percentile counts zeros as values.
- **The range always equals the largest |x| seen so far.** The first non-zero batch sets it; a later
  batch with a larger maximum re-bins the old counts onto the wider range: each old bin's count is
  split between the (at most two) new bins it overlaps, in proportion to the overlap, so no count
  is lost (counts are float64) and the end range is the exact global maximum, which the threshold
  formula T = (i + 0.5) * amax / 2048 needs. The split assumes counts uniform within an old bin;
  that smoothing is the only approximation, and it does not happen when the first batch already
  holds the maximum. `preset_range` (two-pass mode) avoids it entirely.
- Bin of a value: floor(|x| * bins / range) in float64, |x| == range goes to the last bin;
  binned in chunks of `_CHUNK` values so the index buffer stays in cache.
- NaN or Inf in an activation is an error: the float model itself is broken for that input.
- **The sign is kept beside the magnitude**: `neg` counts the negative values per |x| bin (on the
  same grid, re-binned with `counts`), so `counts - neg` is the positive side. TensorRT's Entropy2
  reads `counts` only; the signed entropy face and the report read both sides. It costs one
  comparison pass per chunk: the bins come from trunc(x * bins / range), signed, offset by `bins`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DEFAULT_BINS = 2048


@dataclass
class AbsHistogram:
    """Counts of |x| (non-zero values) in `bins` equal bins over [0, range_]."""

    bins: int = DEFAULT_BINS
    preset_range: float | None = None
    counts: np.ndarray = field(init=False)
    neg: np.ndarray = field(init=False)
    range_: float = field(init=False, default=0.0)
    amax: float = field(init=False, default=0.0)
    zeros: int = field(init=False, default=0)
    total: int = field(init=False, default=0)

    def __post_init__(self):
        self.counts = np.zeros(self.bins, dtype=np.float64)
        self.neg = np.zeros(self.bins, dtype=np.float64)
        if self.preset_range is not None:
            if not (np.isfinite(self.preset_range) and self.preset_range > 0):
                raise ValueError(f"preset_range must be finite and > 0, got {self.preset_range}")
            self.range_ = float(self.preset_range)

    @property
    def bin_width(self) -> float:
        return self.range_ / self.bins

    def update(self, x: np.ndarray) -> None:
        """Add one batch of values (any shape, any float dtype)."""
        a = np.asarray(x)
        if a.dtype not in (np.float32, np.float64):
            a = a.astype(np.float32)          # float16 / bfloat16 widen exactly
        a = a.reshape(-1)
        if a.size == 0:
            return
        hi, lo = float(a.max()), float(a.min())
        if not (np.isfinite(hi) and np.isfinite(lo)):
            raise FloatingPointError("NaN or Inf in activation")
        m = max(hi, -lo)
        zeros = a.size - int(np.count_nonzero(a))
        self.total += a.size
        self.zeros += zeros
        self.amax = max(self.amax, m)
        if zeros == a.size:
            return
        if self.range_ == 0.0:
            self.range_ = m
        elif m > self.range_:
            if self.preset_range is not None:
                raise ValueError(f"value {m} beyond the preset range {self.range_}")
            self._grow(m)
        got, neg = _bin_counts(a, self.bins / self.range_, self.bins)
        got[0] -= zeros
        self.counts += got
        self.neg += neg

    def _grow(self, new_range: float) -> None:
        """Re-bin onto [0, new_range], splitting each old bin by overlap (mass-conserving)."""
        self.counts, self.neg = (self._rebinned(c, new_range) for c in (self.counts, self.neg))
        self.range_ = new_range

    def _rebinned(self, counts: np.ndarray, new_range: float) -> np.ndarray:
        n = self.bins
        f = self.range_ / new_range                       # < 1: old bin width in new-bin units
        lo_edge = np.arange(n) * f
        hi_edge = lo_edge + f
        lo_bin = np.minimum(np.floor(lo_edge).astype(np.int64), n - 1)
        cut = np.minimum(hi_edge, lo_bin + 1.0)           # an old bin reaches at most one new edge
        frac_lo = (cut - lo_edge) / f
        new = np.bincount(lo_bin, weights=counts * frac_lo, minlength=n)
        hi_bin = np.minimum(lo_bin + 1, n - 1)
        return new + np.bincount(hi_bin, weights=counts * (1.0 - frac_lo), minlength=n)

    def nonzero_count(self) -> float:
        return float(self.counts.sum())

    @property
    def pos(self) -> np.ndarray:
        """Counts of the positive values per |x| bin (re-binning rounds both arrays alike; the
        clamp keeps a last-bit difference from becoming a negative count)."""
        return np.maximum(self.counts - self.neg, 0.0)

    @property
    def signed(self) -> bool:
        return bool(self.neg.any())


_CHUNK = 1 << 16   # values per pass: the 512 KiB index buffer stays in cache between the passes


def _bin_counts(a: np.ndarray, per_unit: float, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(counts of floor(|a| * per_unit), counts of the negative values among them), float64, zeros in
    bin 0 of the first, index `bins` folded into the last bin, chunk by chunk. trunc(a * per_unit)
    is computed straight into the index buffer (float64 multiplication is sign-symmetric, so its
    absolute value is floor(|a| * per_unit)) and offset by `bins`: one bincount gives both sides.
    Only bin 0 mixes signs there (trunc of (-1, 1) is 0); its negatives are the negatives counted
    by a comparison minus those in the other bins. np.bincount is the bulk of the time; a worker
    thread per tensor or batch measured no faster on the shared 2-core machine, so none is used."""
    both = np.zeros(2 * bins + 1, dtype=np.float64)
    negatives = 0
    idx = np.empty(min(a.size, _CHUNK), dtype=np.intp)
    for start in range(0, a.size, _CHUNK):
        part = a[start:start + _CHUNK]
        i = idx[:part.size]
        np.multiply(part, per_unit, out=i, dtype=np.float64, casting="unsafe")
        i += bins
        both += np.bincount(i, minlength=2 * bins + 1)
        negatives += int(np.count_nonzero(part < 0))
    # |bin| k >= 1 of a negative value sits at index bins - k; x == -range (k == bins) at index 0
    neg = np.concatenate(([negatives - both[:bins].sum()], both[bins - 1:0:-1]))
    neg[bins - 1] += both[0]
    got = both[bins:2 * bins].copy()
    got[1:] += neg[1:]
    got[bins - 1] += both[2 * bins]                    # x == +range
    return got, neg
