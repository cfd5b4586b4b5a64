"""Host ops executed in numpy between hardware layers, on int8 cubes (C, H, W) and their scales.
MaxPool, Flatten and Reshape move int8 values unchanged; AveragePool requantizes to its own scale
with the datapath's rounding (round(mean * s_in / s_out), ties away from zero, on the exact mean);
Concat stacks channels, requantizing an input whose scale differs from the output's; Softmax ends
the int8 domain and returns float."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..hw.fixed import round_away


def _pool(x: np.ndarray, attrs: dict, fill: float, reduce):
    """reduce over every window; the input is padded by the declared pads plus, at the end, the
    ceil_mode extension (`ceil_extra`)."""
    kh, kw = attrs["kernel"]
    sh, sw = attrs["strides"]
    t, l, b, r = attrs["pads"]
    eb, er = attrs.get("ceil_extra", (0, 0))
    xp = np.pad(x, ((0, 0), (t, b + eb), (l, r + er)), constant_values=fill)
    v = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    return reduce(v)


def _requantize(x: np.ndarray, s_in: float, s_out: float) -> np.ndarray:
    if s_in == s_out:
        return x.astype(np.int8)
    return np.clip(round_away(x.astype(np.float64) * (s_in / s_out)), -128, 127).astype(np.int8)


def run_host_op(op, xs: list, s_ins: list, s_out: float | None):
    """The op's output from its inputs `xs` (scales `s_ins`): an int8 cube at s_out, or float
    probabilities for Softmax."""
    x, s_in = xs[0], s_ins[0]
    if op.op == "MaxPool":
        return _pool(x.astype(np.int16), op.attrs, -128, lambda v: v.max(axis=(3, 4))).astype(np.int8)
    if op.op in ("Flatten", "Reshape"):
        return x.reshape(op.out_shape)
    if op.op == "Concat":
        return np.concatenate([_requantize(v, s, s_out) for v, s in zip(xs, s_ins)], axis=0)
    if op.op == "Softmax":
        z = x.reshape(-1).astype(np.float64) * s_in
        e = np.exp(z - z.max())
        return (e / e.sum()).reshape(op.out_shape)
    if op.op == "GlobalAveragePool":
        mean = x.astype(np.float64).mean(axis=(1, 2), keepdims=True) * s_in
    else:  # AveragePool: the ceil_mode extension is never counted; declared pads only if asked
        xf = x.astype(np.float64)
        sums = _pool(xf, op.attrs, 0.0, lambda v: v.sum(axis=(3, 4)))
        ones = np.ones((1,) + x.shape[1:])
        if op.attrs.get("count_include_pad"):
            t, l, b, r = op.attrs["pads"]
            ones = np.pad(ones, ((0, 0), (t, b), (l, r)), constant_values=1.0)
            attrs = dict(op.attrs, pads=[0, 0, 0, 0])
        else:
            attrs = op.attrs
        counts = _pool(ones, attrs, 0.0, lambda v: v.sum(axis=(3, 4)))
        mean = sums / counts * s_in
    return np.clip(round_away(mean / s_out), -128, 127).astype(np.int8)


@dataclass
class HostStep:
    """A host op as the manifest records it (the run side's view of graph.ir.HostOp)."""

    step: dict
    op: str = ""
    attrs: dict = field(default_factory=dict)
    out_shape: tuple = ()

    def __post_init__(self):
        self.op, self.attrs, self.out_shape = self.step["op"], self.step["attrs"], tuple(self.step["out_shape"])

    def __call__(self, vals: dict):
        """Run on the tensors in `vals`; the step records its input and output scales."""
        st = self.step
        return run_host_op(self, [vals[t] for t in st["inputs"]], st["in_scales"], st["out_scale"])
