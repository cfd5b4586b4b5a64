"""Empirical bias correction: per conv layer, the mean per-output-channel error of the quantized
layer's pre-activation output against FP32 on calibration samples, folded (negated) into the
layer's float bias before the bias is quantized (quantize.network.quantize's `bias_delta`).

Why: rounding that is the same on every image does not average out. On MNIST's constant
background one input value covers about half of each channel's positions; its rounding error,
summed by the next kernel, is a fixed offset of each output channel (docs/calibration.md,
"Bias correction"). A bias absorbs any fixed per-channel offset for free: only the SDP bias
operand changes, so the golden model and the RTL stay bit-exact with each other.

Inputs of the measured layer: the quantized network's own int8 tensors (golden model), not FP32
ones, so that layer k's correction also absorbs the offsets layers before it leave downstream
after their own correction (the network as it will run), and layers are corrected one at a time
in topological order. The quantized side is computed in float64 from the dequantized int8 input,
int8 weights and the bias as the SDP holds it (after its int16 rounding and shift), plus the
dequantized residual; the FP32 side from the FP32 input, float weights and bias, plus the FP32
residual. Only the pre-activation is compared: the bias sits before the activation, and a mean
taken after a ReLU would mix the offset with the clipping.

Stored in the calibration table's metadata ("bias_correction": {mode: {layer: [per channel]}},
real units), since weight granularity changes the weight rounding; `compile` applies the entry
of its mode.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..graph.ir import ConvLayer
from ..golden.conv import cdma_convert
from ..quantize.network import MODES, quantize, set_bias_delta
from ..run.in_memory import InMemoryNetwork

METADATA_FIELD = "bias_correction"


def conv_float(layer: ConvLayer, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(N, K, Ho, Wo) float64 convolution of x (N, C, H, W) with w (K, C / group, R, S) under the
    layer's padding, stride, dilation and groups; no bias."""
    t, left, b, r = layer.pads
    p = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (t, b), (left, r)))
    k, cg, rr, ss = w.shape
    g = layer.group
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    ho, wo = layer.out_shape[1:]
    acc = np.zeros((len(x), k, ho, wo))
    for i in range(rr):
        for j in range(ss):
            win = p[:, :, i * dh:i * dh + sh * ho:sh, j * dw:j * dw + sw * wo:sw].reshape(len(x), g, cg, ho, wo)
            acc += np.einsum("ngchw,gkc->ngkhw", win, w[:, :, i, j].reshape(g, k // g, cg)).reshape(acc.shape)
    return acc


def _converted(q, x_int8: np.ndarray) -> np.ndarray:
    """The layer's int8 input after CDMA's input converter, which only the first layer of an image
    model uses (the golden model's own converter)."""
    c = q.cvt
    return x_int8 if c is None else cdma_convert(x_int8, c.cvt_offset, c.cvt_scale, c.cvt_truncate)


def _quantized_preactivation(q, x_int8: np.ndarray, res_int8: np.ndarray | None, s_res: float | None) -> np.ndarray:
    """What the datapath computes before the activation, in real units (float64, no rounding of its own)."""
    x_int8 = _converted(q, x_int8)
    w = q.weight.astype(np.float64) * q.w_scale[:, None, None, None]
    bias = q.sdp.bias * 2.0 ** q.sdp.bias_shift * q.in_scale * q.w_scale
    y = conv_float(q.layer, x_int8.astype(np.float64) * q.in_scale, w) + bias[None, :, None, None]
    return y if res_int8 is None else y + res_int8.astype(np.float64) * s_res


def measure(graph, scales: dict[str, float], mode: str, pixels, fp32: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{conv layer: bias offset (real units, per output channel)} that cancels each layer's mean
    pre-activation error on the samples `pixels` (the compiled network's inputs), whose FP32
    tensors `fp32` hold every conv layer's input and residual (N, ...)."""
    ops = graph.ops
    convs = [i for i, op in enumerate(ops) if isinstance(op, ConvLayer)]
    delta: dict[str, np.ndarray] = {}
    qnet = quantize(graph, scales, mode)
    net = InMemoryNetwork(qnet)
    runs = [net.run(x, stop=convs[0] if convs else 0) for x in pixels]
    n = len(runs)
    for pos, i in enumerate(convs):
        op = ops[i]
        q = net.qnet.layers[op.name]
        x = np.stack([r[op.input] for r in runs]).reshape((n, *op.in_shape))
        res = np.stack([r[op.residual] for r in runs]).reshape((n, *op.out_shape)) if op.residual else None
        yq = _quantized_preactivation(q, x, res, net.qnet.scales.get(op.residual))
        yf = conv_float(op, fp32[op.input].reshape((n, *op.in_shape)), op.weight) + op.bias[None, :, None, None]
        if op.residual:
            yf = yf + fp32[op.residual].reshape((n, *op.out_shape))
        delta[op.name] = -(yq - yf).mean(axis=(0, 2, 3))
        set_bias_delta(qnet, op.name, delta[op.name])
        net.forget(op.name)
        stop = convs[pos + 1] if pos + 1 < len(convs) else len(ops)
        runs = [net.run(x, i, r, stop) for x, r in zip(pixels, runs)]
    return delta


def output_error(graph, scales: dict[str, float], mode: str, delta: dict[str, np.ndarray] | None, pixels,
                 ref: dict[str, np.ndarray]) -> float:
    """The network's output error on `pixels` against the FP32 outputs `ref` (N, values) by name:
    network_choice's measure, mean over images and outputs of mean |INT8 - FP32| / mean |FP32|."""
    from .network_choice import image_errors

    net = InMemoryNetwork(quantize(graph, scales, mode, bias_delta=delta))
    runs = [net.run(x) for x in pixels]
    outs = {t: np.stack([net.dequantize(t, r[t]).reshape(-1) for r in runs]) for t in ref}
    return float(image_errors(outs, ref).mean())


def needed_tensors(graph) -> list[str]:
    """The FP32 tensors `measure` reads: every conv layer's input and residual."""
    return sorted({t for op in graph.ops if isinstance(op, ConvLayer) for t in op.inputs})


def to_metadata(per_mode: dict[str, dict[str, np.ndarray]], samples: int, judged: dict | None = None) -> dict:
    """The table's "bias_correction" object; `judged`: {mode: [error without, error with, kept]}."""
    meta = {"samples": samples, **{m: {name: [float(v) for v in d] for name, d in c.items()}
                                   for m, c in per_mode.items()}}
    return meta if judged is None else {**meta, "judged": judged}


def from_metadata(meta: dict, graph, mode: str, where: str) -> dict[str, np.ndarray] | None:
    """The table's corrections for `mode` as quantize's `bias_delta`, checked against the model;
    None when the table has none for this mode."""
    bc = meta.get(METADATA_FIELD)
    if bc is None:
        return None
    if not isinstance(bc, dict):
        raise InputError(f"metadata {METADATA_FIELD} must be an object, got {type(bc).__name__}", where=where)
    unknown = [m for m in bc if m not in (*MODES, "samples", "judged")]
    if unknown:
        raise InputError(f"metadata {METADATA_FIELD}: unknown mode {unknown[0]!r} (known: {', '.join(MODES)})",
                         where=where)
    per_layer = bc.get(mode)
    if per_layer is None:
        return None
    if not isinstance(per_layer, dict):
        raise InputError(f"metadata {METADATA_FIELD}.{mode} must be an object of layer -> list", where=where)
    convs = {op.name: op for op in graph.ops if isinstance(op, ConvLayer)}
    out = {}
    for name, v in per_layer.items():
        op = convs.get(name)
        if op is None:
            raise InputError(f"metadata {METADATA_FIELD}.{mode}: layer {name!r} is not a conv layer of this model",
                             where=where)
        k = op.out_shape[0]
        if not isinstance(v, list) or len(v) != k or not all(
                isinstance(e, (int, float)) and not isinstance(e, bool) and math.isfinite(e) for e in v):
            raise InputError(f"metadata {METADATA_FIELD}.{mode}: layer {name!r} needs {k} finite numbers (one per "
                             "output channel)", where=where)
        out[name] = np.asarray(v, dtype=np.float64)
    return out
