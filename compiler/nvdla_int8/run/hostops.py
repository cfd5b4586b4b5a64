"""Host ops executed in numpy between hardware layers, on int8 cubes (C, H, W) and their scales.
MaxPool, Flatten and Reshape move int8 values unchanged; AveragePool requantizes to its own scale
with the datapath's rounding; Softmax ends the int8 domain and returns float."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..quantize.network import round_away


def _pool(x: np.ndarray, attrs: dict, fill: float, reduce):
    kh, kw = attrs["kernel"]
    sh, sw = attrs["strides"]
    t, l, b, r = attrs["pads"]
    xp = np.pad(x, ((0, 0), (t, b), (l, r)), constant_values=fill)
    v = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    return reduce(v, xp.shape)


def run_host_op(op, x, s_in: float | None, s_out: float | None):
    """Returns the op's output: int8 cube at s_out, or float probabilities for Softmax."""
    if op.op == "MaxPool":
        return _pool(x.astype(np.int64), op.attrs, -128, lambda v, _: v.max(axis=(3, 4))).astype(np.int8)
    if op.op in ("Flatten", "Reshape"):
        return x.reshape(op.out_shape)
    if op.op == "Softmax":
        z = x.reshape(-1).astype(np.float64) * s_in
        e = np.exp(z - z.max())
        return (e / e.sum()).reshape(op.out_shape)
    if op.op == "GlobalAveragePool":
        mean = x.astype(np.float64).mean(axis=(1, 2), keepdims=True) * s_in
    else:  # AveragePool
        xf = x.astype(np.float64)
        sums = _pool(xf, op.attrs, 0.0, lambda v, _: v.sum(axis=(3, 4)))
        if op.attrs.get("count_include_pad"):
            counts = float(np.prod(op.attrs["kernel"]))
        else:
            counts = _pool(np.ones_like(xf), op.attrs, 0.0, lambda v, _: v.sum(axis=(3, 4)))
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
