"""Collecting (histograms from a stream of activations) apart from computing (thresholds)."""
from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np

from ..errors import InputError
from .histogram import DEFAULT_BINS, AbsHistogram


def collect_histograms(activations: Iterable[dict[str, np.ndarray]], bins: int = DEFAULT_BINS,
                       preset_ranges: dict[str, float] | None = None,
                       aliases: dict[str, str] | None = None) -> dict[str, AbsHistogram]:
    """One |x| histogram per tensor over all batches (tensor order of the first batch).

    `aliases` maps a tensor to another one holding the same values (Fp32Runner.aliases): it gets a
    copy of that tensor's histogram instead of a second pass over the same data."""
    aliases = aliases or {}
    hists: dict[str, AbsHistogram] = {}
    order: list[str] = []
    for batch_no, acts in enumerate(activations, start=1):
        for name, x in acts.items():
            if batch_no == 1:
                order.append(name)
            if name in aliases and aliases[name] in acts:
                continue
            h = hists.get(name)
            if h is None:
                r = (preset_ranges or {}).get(name)
                h = hists[name] = AbsHistogram(bins, preset_range=r if r else None)
            try:
                h.update(x)
            except FloatingPointError:
                raise InputError(f"tensor {name!r} has NaN or Inf in batch {batch_no}: the float model "
                                 "or its input is broken", where=f"batch {batch_no}") from None
    if not order:
        raise InputError("the data source gave no batch", where="--data")
    for name in order:
        if name not in hists and aliases.get(name) in hists:
            hists[name] = copy.deepcopy(hists[aliases[name]])
    return {name: hists[name] for name in order if name in hists}


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
