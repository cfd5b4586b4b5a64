"""`--method auto`, second stage: every tensor's candidates judged by the compiled network's output
error on the validation split, on the golden model.

Why the network and not the tensor: the per-tensor stage (choose.auto_thresholds) keeps the
candidate with the least error of that tensor, and on models/dw_separable.onnx in per-kernel mode
that ranks one scale the wrong way round. MNIST's constant background puts one value on about half
of the positions of a channel; its rounding error is the same on every image and the next layer's
kernel sums it into a constant offset of its output channel, whose size jumps with small scale
changes (docs/calibration.md, "auto"). A tensor's own squared error cannot see an offset that only
matters after a kernel's sum; the network's output does.

How: greedy, one pass over the calibrated tensors in topological order, starting from the
per-tensor choice; each other candidate of the tensor replaces the current scale, the network is
quantized exactly as `compile` quantizes it (quantize.network: ReLU6 caps, Concat scales), run on
the golden model in memory (run.in_memory) from the first op the change touches, and kept if the
output error falls by more than two standard errors of the per-image difference (a smaller gain on
100 held-out images is as likely noise: on digits_cnn, taking every gain raised the test split's
error by a fifth). The error of an image: per graph output, mean |INT8 - FP32| divided by mean
|FP32| over the validation images (heads of different magnitude weigh alike), averaged over
outputs. Judged in both weight granularities (a table for either), the per-image errors are summed
and neither mode's mean error may rise: the best scale can differ between them (on
dw_separable the first ReLU6 output's percentile threshold halves the per-kernel error and raises
the per-filter one), so `calibrate --auto-judge MODE` gives the table for the mode one
compiles with. A table the compiler refuses is never kept. Starting from the per-tensor choice
and keeping only improvements, the result is never worse than that choice on the validation split.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..quantize.network import MODES, quantize
from ..run.in_memory import InMemoryNetwork
from .nvdla_table import stored_scale

JUDGED_MODES = {"both": MODES, **{m: (m,) for m in MODES}}


@dataclass
class HeldOut:
    """Validation samples: the network input as the compiled network reads it, and the FP32 graph
    outputs (N, values) by name."""

    inputs: np.ndarray
    outputs: dict[str, np.ndarray]


def compiled_inputs(graph, x: np.ndarray) -> np.ndarray:
    """Float inputs as the compiled network reads them: uint8 pixels when the model declares image
    preprocessing (x = (pixel - mean) * scale inverted and rounded, exact for pixel data; for other
    data the rounding is the same for every candidate, so it does not bias the choice), else x."""
    if graph.image_mean is None or graph.image_scale is None:
        return np.asarray(x, dtype=np.float64)
    px = np.asarray(x, dtype=np.float64) / graph.image_scale + graph.image_mean
    return np.clip(np.floor(px + 0.5), 0, 255).astype(np.uint8)


def image_errors(outs: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> np.ndarray:
    """Per image, the mean over outputs of mean |out - ref| / mean |ref| (the denominator over all
    images); their mean is the network's output error."""
    errs = [np.mean(np.abs(outs[n] - r), axis=1) / (float(np.mean(np.abs(r))) or 1.0) for n, r in ref.items()]
    return np.mean(errs, axis=0)


def significantly_lower(new: np.ndarray, old: np.ndarray) -> bool:
    """Whether per-image errors `new` are below `old` by more than two standard errors of their
    paired difference: a gain that could be the noise of a few held-out images is not taken."""
    d = new - old
    return len(d) > 1 and float(d.mean()) < -2 * float(d.std(ddof=1)) / np.sqrt(len(d))


class NetworkJudge:
    """The output error of scale tables in one weight granularity; it remembers the last accepted
    table's run, so a table differing from it from op k on runs only ops k.."""

    def __init__(self, graph, held: HeldOut, mode: str):
        self.graph, self.held, self.mode = graph, held, mode
        self.base = None          # (QNetwork, per-image tensors) of the accepted table

    def _first_changed(self, qnet) -> int:
        if self.base is None or qnet.input != self.base[0].input:
            return 0
        old = self.base[0].scales
        for i, op in enumerate(self.graph.ops):
            if any(qnet.scales.get(t) != old.get(t) for t in (*op.inputs, op.output)):
                return i
        return len(self.graph.ops)

    def trial(self, scales: dict[str, float]):
        """(per-image errors, state to `accept`) of a table; (None, None) when the compiler refuses it."""
        try:
            qnet = quantize(self.graph, scales, self.mode)
            start = self._first_changed(qnet)
            net = InMemoryNetwork(qnet)
            known = self.base[1] if self.base else [None] * len(self.held.inputs)
            runs = [net.run(x, start, k) for x, k in zip(self.held.inputs, known)]
        except InputError:
            return None, None
        outs = {t: np.stack([net.dequantize(t, r[t]).reshape(-1) for r in runs]) for t in self.held.outputs}
        return image_errors(outs, self.held.outputs), (qnet, runs)

    def accept(self, state) -> None:
        self.base = state


def refine_by_network(graph, thresholds: dict[str, float], methods: dict[str, str],
                      candidates: dict[str, dict[str, float]], held: HeldOut, mode: str = "both"
                      ) -> tuple[dict[str, float], dict[str, str], float, float]:
    """(thresholds, methods, error before, error after): the per-tensor choice `thresholds` /
    `methods` improved greedily by the network's output error on `held` (module docstring).
    Raises InputError when the compiler refuses the starting table itself."""
    judges = [NetworkJudge(graph, held, m) for m in JUDGED_MODES[mode]]
    thresholds, methods = dict(thresholds), dict(methods)

    def table(th):
        return {n: stored_scale(t) for n, t in th.items()}

    trials = [j.trial(table(thresholds)) for j in judges]
    if any(s is None for _, s in trials):
        raise InputError("the compiler refuses the per-tensor choice of scales; the network cannot judge them")
    for j, (_, s) in zip(judges, trials):
        j.accept(s)
    first = best = [e for e, _ in trials]          # per judged mode, per-image errors
    for name in graph.calibrated_tensors():
        if name not in candidates:
            continue
        tried = {stored_scale(thresholds[name])}
        for method, t in candidates[name].items():
            if stored_scale(t) in tried:
                continue
            tried.add(stored_scale(t))
            th = dict(thresholds, **{name: t})
            trials = [j.trial(table(th)) for j in judges]
            errs = [e for e, _ in trials]
            if all(e is not None for e in errs) and significantly_lower(sum(errs), sum(best)) \
                    and all(e.mean() <= b.mean() for e, b in zip(errs, best)):
                best, thresholds, methods[name] = errs, th, method
                for j, (_, s) in zip(judges, trials):
                    j.accept(s)
    return thresholds, methods, float(sum(first).mean()), float(sum(best).mean())
