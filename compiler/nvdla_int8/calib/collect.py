"""Collecting (histograms from a stream of activations) apart from computing (thresholds)."""
from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np

from ..errors import InputError
from .histogram import DEFAULT_BINS, AbsHistogram


class HistogramSet:
    """One |x| histogram per tensor, fed batch by batch (tensor order of the first batch).

    `aliases` maps a tensor to another one holding the same values (Fp32Runner.aliases): it gets a
    copy of that tensor's histogram instead of a second pass over the same data."""

    def __init__(self, bins: int = DEFAULT_BINS, preset_ranges: dict[str, float] | None = None,
                 aliases: dict[str, str] | None = None):
        self.bins, self.preset_ranges, self.aliases = bins, preset_ranges or {}, aliases or {}
        self.hists: dict[str, AbsHistogram] = {}
        self.order: list[str] = []

    def add(self, acts: dict[str, np.ndarray], batch_no: int) -> None:
        for name, x in acts.items():
            if name not in self.order:
                self.order.append(name)
            if name in self.aliases and self.aliases[name] in acts:
                continue
            h = self.hists.get(name)
            if h is None:
                r = self.preset_ranges.get(name)
                h = self.hists[name] = AbsHistogram(self.bins, preset_range=r if r else None)
            try:
                h.update(x)
            except FloatingPointError:
                raise InputError(f"tensor {name!r} has NaN or Inf in batch {batch_no}: the float model "
                                 "or its input is broken", where=f"batch {batch_no}") from None

    def result(self) -> dict[str, AbsHistogram]:
        for name in self.order:
            if name not in self.hists and self.aliases.get(name) in self.hists:
                self.hists[name] = copy.deepcopy(self.hists[self.aliases[name]])
        return {name: self.hists[name] for name in self.order if name in self.hists}


def collect_histograms(activations: Iterable[dict[str, np.ndarray]], bins: int = DEFAULT_BINS,
                       preset_ranges: dict[str, float] | None = None,
                       aliases: dict[str, str] | None = None) -> dict[str, AbsHistogram]:
    """One |x| histogram per tensor over all batches (see HistogramSet)."""
    hs = HistogramSet(bins, preset_ranges, aliases)
    for batch_no, acts in enumerate(activations, start=1):
        hs.add(acts, batch_no)
    if not hs.order:
        raise InputError("the data source gave no batch", where="--data")
    return hs.result()


def collect_split_histograms(activations: Iterable[dict[str, np.ndarray]], every: int, bins: int = DEFAULT_BINS,
                             preset_ranges: dict[str, float] | None = None, aliases: dict[str, str] | None = None,
                             keep: tuple[str, ...] = ()
                             ) -> tuple[dict[str, AbsHistogram], dict[str, AbsHistogram], dict[str, np.ndarray]]:
    """(calibration, validation) histograms from one stream, and the held-out values of the tensors
    named in `keep` (N, ...): sample k (counted over the whole stream, axis 0 of every tensor) is
    held out for validation when k % every == every - 1. A tensor whose axis 0 is not the batch (it
    does not match the first tensor's) stays whole in calibration."""
    cal, val = HistogramSet(bins, preset_ranges, aliases), HistogramSet(bins, preset_ranges, aliases)
    kept: dict[str, list[np.ndarray]] = {k: [] for k in keep}
    seen = 0
    for batch_no, acts in enumerate(activations, start=1):
        n = next(iter(acts.values())).shape[0] if acts else 0
        held = (np.arange(seen, seen + n) % every) == every - 1
        seen += n
        batched = {k for k, x in acts.items() if x.ndim and x.shape[0] == n}
        cal.add({k: (x[~held] if k in batched else x) for k, x in acts.items()}, batch_no)
        if held.any():
            val.add({k: acts[k][held] for k in batched}, batch_no)
            for k in kept:
                if k in batched:
                    kept[k].append(acts[k][held])
    if not cal.order:
        raise InputError("the data source gave no batch", where="--data")
    return cal.result(), val.result(), {k: np.concatenate(v) for k, v in kept.items() if v}


class FirstSamples:
    """The first `n` samples (axis 0) of some tensors, copied out of a stream of activations while
    something else consumes it: bias correction needs a few hundred samples of FP32 tensors, and a
    second FP32 pass over the data only to get them cost as much as the histogram pass.

    `names` maps each wanted tensor to the stream's key holding its values (an alias's source);
    `count_by` is the key whose axis 0 counts samples (the network input)."""

    def __init__(self, names: dict[str, str], n: int, count_by: str):
        self.names, self.n, self.count_by = dict(names), n, count_by
        self.got: dict[str, list[np.ndarray]] = {k: [] for k in self.names}
        self.have = 0

    def watch(self, activations: Iterable[dict[str, np.ndarray]]) -> Iterable[dict[str, np.ndarray]]:
        """`activations` unchanged, batch by batch, keeping the first n samples on the way."""
        for acts in activations:
            if self.have < self.n:
                take = self.n - self.have
                for k, src in self.names.items():
                    self.got[k].append(np.array(acts[src][:take]))   # a copy: the batch may be reused
                self.have += min(take, len(acts[self.count_by]))
            yield acts

    def result(self) -> dict[str, np.ndarray]:
        """{tensor: (at most n, ...)}; empty when the stream gave no batch."""
        return {k: np.concatenate(v) for k, v in self.got.items() if v}


def collect_ranges(activations: Iterable[dict[str, np.ndarray]]) -> dict[str, float]:
    """max |x| per tensor (the first pass of two-pass calibration)."""
    out: dict[str, float] = {}
    for acts in activations:
        for name, x in acts.items():
            m = float(np.max(np.abs(x))) if x.size else 0.0
            out[name] = max(out.get(name, 0.0), m)
    return out


def compute_thresholds(hists: dict[str, AbsHistogram], calibrator) -> dict[str, float]:
    """Threshold T per tensor (float64; the scale T/127 is rounded to float32 when stored)."""
    return {name: float(calibrator.threshold(h)) for name, h in hists.items()}
