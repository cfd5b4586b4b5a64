"""Ranges the graph itself guarantees: the output of Clip(min, max) with constant bounds never
leaves [min, max], so |x| <= max(|min|, |max|).

Why calibration needs them: a threshold above such a bound buys no unclipped value and coarsens
every step. Worse, the compiler runs Clip(0, max) as a ReLU plus the output converter's
saturation, which is exact only when the saturation point 127 * scale is not above max; the
entropy search's bin-centre threshold (T = (i + 0.5) bins, so a ReLU6 output filling [0, 6] gets
T = 6 * (1 + 2^-12)) would be refused there.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from .nvdla_table import stored_scale


def _constants(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant" and n.output:
            for a in n.attribute:
                if a.name == "value":
                    consts[n.output[0]] = numpy_helper.to_array(a.t)
    return consts


def clip_bounds(model: onnx.ModelProto) -> dict[str, float]:
    """max |x| the graph allows, per Clip output whose min and max are both constant (inputs from
    opset 11, attributes before)."""
    consts = _constants(model)
    out = {}
    for n in model.graph.node:
        if n.op_type != "Clip" or not n.output:
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        lo, hi = attrs.get("min"), attrs.get("max")
        if len(n.input) > 1 and n.input[1]:
            lo = consts.get(n.input[1])
        if len(n.input) > 2 and n.input[2]:
            hi = consts.get(n.input[2])
        if lo is not None and hi is not None:
            out[n.output[0]] = float(max(abs(float(np.asarray(lo))), abs(float(np.asarray(hi)))))
    return out


def bounded_threshold(threshold: float, bound: float | None) -> float:
    """min(T, bound), lowered further to the largest T whose stored float32 scale keeps 127 * scale
    <= bound (the table rounds T / 127 to float32, which may round up)."""
    if bound is None or bound <= 0:
        return threshold
    t = min(threshold, bound)
    s = np.float32(stored_scale(t))
    if float(s) * 127.0 <= bound:
        return t
    while float(s) * 127.0 > bound:
        s = np.nextafter(s, np.float32(0))
    return float(s) * 127.0
