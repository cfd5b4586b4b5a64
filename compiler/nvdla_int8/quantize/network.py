"""Float graph + per-tensor scales -> integer layers for nv_small's conv + SDP datapath.

Conventions (shared/spec/calibration.md §1): real ~= q * scale, symmetric, zero point 0.
Rounding everywhere is to nearest, ties away from zero, the hardware's own rule
(shared/spec/datapath.md §2), so host-side and hardware-side rounding agree.

Per layer, with Si the input scale, Sw[k] the weight scale and So the output scale:
- weights: q = clamp(round(W / Sw), -127, 127); Sw = max|W| / 127 over the layer (per-kernel,
  NVDLA's name for one scale per layer) or over each output channel (per-filter). An all-zero
  kernel keeps Sw = 1 so no division by zero can reach the registers; its weights are all 0.
- bias: b32 = round(b / (Si Sw[k])); the smallest ALU left shift ls with round(b32 / 2^ls) inside
  int16 (checked after rounding, so 2^15 never wraps as in NVDLA's compiler).
- rescale f[k] = Si Sw[k] / So as (m, t): the pair with the smallest relative error over every
  shift 0..63 and |m| <= 32767, not the truncated one NVDLA's compiler takes (both reported).
  per-kernel: m, t in the SDP output converter; per-filter: m[k] from memory in an X stage with
  a shared shift t, output converter identity.
- ReLU rides on X1 (before the positive rescale, which is exact); PReLU/LeakyRelu uses X1's
  PReLU multiplier (slope as m/2^sh); with per-filter scales the rescale then moves to X2.
- residual r (scale Sr) added to the layer's output (`_align_sum`): X1 multiplies the biased
  accumulator into a fine common unit Sd = Sr / 2^e, X2's ALU adds r << e read per element from
  memory, ReLU rides on X2, and the output converter takes Sd to So. e is the largest shift that
  keeps every value that can still reach the int8 range inside 31 bits and the X1 multiplier
  inside int16, so the only rounding left is the X1 product's (Sd << So) and the output's.
- an element-wise addition of two tensors (`EltwiseAdd`) is the same with a (scale Sa) as the
  stand-alone SDP input in place of the accumulator.
- a hardware op whose output only a Concat reads takes the Concat's scale, so the Concat stacks
  its inputs as they are (and lowering may let the producers write into its channel slices).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..hw.fixed import round_away
from ..hw.regmap import REGMAP
from ..graph.ir import SCALE_PRESERVING, ConvLayer, EltwiseAdd, Graph

MODES = ("per-kernel", "per-filter")
_CVT_SCALE_MAX = (1 << (REGMAP.reg("SDP", "D_CVT_SCALE").field("CVT_SCALE").width - 1)) - 1
_SHIFT_MAX = (1 << REGMAP.reg("SDP", "D_CVT_SHIFT").field("CVT_SHIFT").width) - 1
_ALU_SHIFT_MAX = (1 << REGMAP.reg("SDP", "D_DP_BS_ALU_CFG").field("BS_ALU_SHIFT_VALUE").width) - 1
_CDMA_TRUNC_MAX = (1 << REGMAP.reg("CDMA", "D_CVT_CFG").field("CVT_TRUNCATE").width) - 1
_INT16 = (-(1 << 15), (1 << 15) - 1)


def best_mul_shift(f, max_m: int = _CVT_SCALE_MAX, max_shift: int = _SHIFT_MAX) -> tuple[np.ndarray, int, float]:
    """Integers m (one per factor) and one shift t with m / 2^t ~= f, minimising the largest
    relative error; ties keep the smaller shift. Raises ValueError when no pair fits.

    >>> m, t, e = best_mul_shift(np.array([1.21398])); int(m[0]), t, e < 2e-5
    (9945, 13, True)
    """
    f = np.atleast_1d(np.asarray(f, dtype=np.float64))
    nz = f != 0
    best = None
    for t in range(max_shift + 1):
        m = round_away(f * 2.0 ** t)
        if np.any(np.abs(m) > max_m):
            break
        if np.any(m[nz] == 0):
            continue
        err = float(np.max(np.abs(m[nz] / 2.0 ** t - f[nz]) / np.abs(f[nz]))) if nz.any() else 0.0
        if best is None or err < best[2]:
            best = (m.astype(np.int64), t, err)
    if best is None:
        raise ValueError(f"factor(s) {f.min():.6g}..{f.max():.6g} cannot be written as m / 2^t with |m| <= {max_m}, "
                         f"t <= {max_shift}")
    return best


def nvdla_truncated_error(f: float) -> float:
    """Relative error of NVDLA's compiler for the same factor (LowPrecision.h Impl2: 15-bit
    mantissa, truncation), reported next to ours."""
    nbits = int(np.floor(np.log2(f))) + 1
    t = 15 - nbits
    m = int(f * 2.0 ** t)
    return abs(m / 2.0 ** t - f) / f if m else 1.0


@dataclass
class SdpPlan:
    """Integer SDP settings of one layer (datapath.md §8)."""

    bias: np.ndarray  # int16 per kernel (X1 ALU SUM operand from memory)
    bias_shift: int  # X1 ALU left shift
    relu: bool
    prelu: np.ndarray | None = None  # int16 per kernel: X1 PReLU negative-branch multiplier
    prelu_shift: int = 0
    x1_mul: np.ndarray | None = None  # int16 per kernel: per-filter rescale in X1
    x1_shift: int = 0
    x2_mul: np.ndarray | None = None  # per-filter rescale in X2 (when X1 holds the PReLU)
    x2_shift: int = 0
    residual_shift: int | None = None  # X2 ALU shift e of the per-element residual operand
    cvt_scale: int = 1
    cvt_shift: int = 0


@dataclass
class InputPlan:
    """How the network input reaches the first layer: 'image' = uint8 pixels stored as
    pixel - 128 and converted by CDMA CVT; 'feature' = host-quantized int8."""

    mode: str
    scale: float  # Si of the first layer
    cvt_offset: int = 0
    cvt_scale: int = 1
    cvt_truncate: int = 0
    offset_error: float = 0.0  # pixels
    scale_rel_error: float = 0.0


@dataclass
class QLayer:
    layer: ConvLayer
    mode: str
    in_scale: float
    out_scale: float
    w_scale: np.ndarray  # (K,)
    weight: np.ndarray  # int8 (K, C, R, S)
    sdp: SdpPlan
    cvt: InputPlan | None  # CDMA input converter (first layer on image input)
    res_scale: float | None = None  # scale of the residual added to the output (layer.residual)
    report: dict = field(default_factory=dict)


@dataclass
class QAdd:
    """An EltwiseAdd as one stand-alone SDP pass: X1 rescales a by x1_mul / 2^x1_shift into units
    of Sb / 2^residual_shift, X2 adds b << residual_shift, then ReLU and the output converter."""

    layer: EltwiseAdd
    in_scales: tuple[float, float]
    out_scale: float
    sdp: SdpPlan
    report: dict = field(default_factory=dict)


@dataclass
class QNetwork:
    graph: Graph
    mode: str
    input: InputPlan
    layers: dict[str, QLayer | QAdd]  # by hardware op name
    scales: dict[str, float]  # int8 tensor -> scale actually used
    report: list[dict]


def _table_scale(table: dict[str, float], tensor: str, op) -> float | None:
    """The table's scale of `tensor`, or under the name of the node that writes it, but only when
    no other node was folded into that op: a fused layer's node name labels an intermediate (a
    TensorRT-named table has the shortcut conv's output under the conv's name, not the sum's)."""
    s = table.get(tensor)
    return table.get(op.name) if s is None and not getattr(op, "fused", None) else s


def lookup_scale(table: dict[str, float], tensor: str, op, source: str, missing: str, fallback: float | None) -> float:
    s = _table_scale(table, tensor, op)
    if s is None:
        if missing == "propagate" and fallback is not None:
            return fallback
        raise InputError(f"calibration table {source} has no scale for tensor {tensor!r} (output of {op.op} node "
                         f"{op.name!r}); calibrate the model again, or pass --missing-scale propagate to reuse the "
                         "input's scale")
    if not np.isfinite(s) or s <= 0:
        raise InputError(f"calibration table {source}: scale {s} of {tensor!r} is not a positive number")
    return float(s)


def input_to_int8(mode: str, scale: float, shape: tuple, x: np.ndarray) -> np.ndarray:
    """The int8 cube the first layer reads. Image mode: x holds uint8 pixels, stored as
    pixel - 128 (CDMA's converter does the rest); feature mode: x is the float input, quantized
    here with the datapath's rounding. The one place either happens."""
    if mode == "image":
        px = np.asarray(x)
        if px.dtype != np.uint8:
            raise InputError(f"input must be uint8 pixels (the model declares image preprocessing), got {px.dtype}")
        if px.size != int(np.prod(shape)):
            raise InputError(f"input of {px.size} pixels does not fit the model's input {list(shape)}")
        return (px.reshape(shape).astype(np.int16) - 128).astype(np.int8)
    xf = np.asarray(x, dtype=np.float64)
    if xf.size != int(np.prod(shape)):
        raise InputError(f"input of {xf.size} values does not fit the model's input {list(shape)}")
    if not np.all(np.isfinite(xf)):
        raise InputError("input holds NaN or infinite values")
    return np.clip(round_away(xf.reshape(shape) / scale), -128, 127).astype(np.int8)


def quantize_input(graph: Graph, s_in: float, use_image: bool) -> InputPlan:
    if not use_image or graph.image_mean is None or graph.image_scale is None:
        return InputPlan("feature", s_in)
    # q = (pixel - mean) * scale / Si, pixel = x + 128 with x the stored int8 byte, and CVT
    # computes (x - offset) * m / 2^t: offset = mean - 128, m / 2^t = scale / Si.
    off_exact = graph.image_mean - 128.0
    off = int(np.clip(round_away(off_exact), *_INT16))
    try:
        m, t, err = best_mul_shift(graph.image_scale / s_in, max_shift=_CDMA_TRUNC_MAX)
    except ValueError as e:
        raise InputError(f"input {graph.input!r}: CDMA input converter cannot represent the preprocessing: {e}") from None
    return InputPlan("image", s_in, off, int(m[0]), t, abs(off - off_exact), err)


def _bias16(b32: np.ndarray, name: str) -> tuple[np.ndarray, int]:
    for ls in range(_ALU_SHIFT_MAX + 1):
        b16 = round_away(b32 / 2.0 ** ls)
        if b16.min() >= _INT16[0] and b16.max() <= _INT16[1]:
            if np.any(np.abs(b16 * 2.0 ** ls) >= 2.0 ** 31):
                break
            return b16.astype(np.int64), ls
    raise InputError(f"layer {name!r}: bias {np.abs(b32).max():.4g} (accumulator units) does not fit the SDP bias "
                     "operand even with the largest shift; its scales are inconsistent")


def _align_sum(src_scale: np.ndarray, s_res: float, s_out: float, name: str) -> tuple[np.ndarray, int, int, int, int, dict]:
    """(m1, t1, e, cvt_m, cvt_t, report) for act(src * src_scale + r * s_res) / s_out: X1 takes
    src to units Sd = s_res / 2^e (m1 / 2^t1 = src_scale / Sd), X2 adds r << e, the converter
    takes Sd to s_out. e: largest shift with 128 * (s_out + s_res) / Sd < 2^30 (any sum that can
    still land in the int8 range, and either addend, stays far from the 32-bit saturation) and
    max(src_scale) / Sd <= 16383 (the X1 multiplier keeps at least 14 bits)."""
    e = 0
    while e < 23 and 2.0 ** (e + 1) * 128 * (s_out + s_res) / s_res < 2 ** 30 \
            and float(np.max(src_scale)) * 2.0 ** (e + 1) / s_res <= 16383:
        e += 1
    sd = s_res / 2.0 ** e
    try:
        m1, t1, err1 = best_mul_shift(src_scale / sd)
        cm, ct, errc = best_mul_shift(np.array([sd / s_out]))
    except ValueError as err:
        raise InputError(f"layer {name!r}: residual alignment (scales {float(np.max(src_scale)):.4g} / {s_res:.4g} / "
                         f"{s_out:.4g}): {err}") from None
    return m1, t1, e, int(cm[0]), ct, {"residual_shift": e, "residual_unit_over_out_scale": sd / s_out,
                                       "x1_rescale_rel_error": err1, "cvt_rel_error": errc}


def quantize_add(add: EltwiseAdd, s_a: float, s_b: float, s_out: float) -> QAdd:
    act = add.act
    if act is not None and act.kind != "relu":
        raise InputError(f"layer {add.name!r}: only ReLU may follow an addition (found {act.source!r})")
    k = add.shape[0]
    m1, t1, e, cm, ct, rep = _align_sum(np.full(k, s_a), s_b, s_out, add.name)
    plan = SdpPlan(bias=np.zeros(k, dtype=np.int64), bias_shift=0, relu=act is not None, x1_mul=m1, x1_shift=t1,
                   cvt_scale=cm, cvt_shift=ct, residual_shift=e)
    rep = {"layer": add.name, "op": "Add", "fused": list(add.fused), "in_scales": [s_a, s_b], "out_scale": s_out,
           "rescale_rel_error": max(rep["x1_rescale_rel_error"], rep["cvt_rel_error"]), **rep}
    return QAdd(add, (s_a, s_b), s_out, plan, rep)


def quantize_slopes(slope: np.ndarray, name: str) -> tuple[np.ndarray, int, dict]:
    """PReLU slopes as m / 2^t with one shared t: the largest t whose multipliers all fit int16,
    which minimises every slope's absolute error. Slopes smaller than half a step become 0 (a
    ReLU on that channel), counted and reported rather than refused."""
    a = float(np.max(np.abs(slope)))
    t = _SHIFT_MAX
    while t > 0 and round_away(a * 2.0 ** t) > _CVT_SCALE_MAX:
        t -= 1
    m = round_away(slope * 2.0 ** t).astype(np.int64)
    if np.any(np.abs(m) > _CVT_SCALE_MAX):
        raise InputError(f"layer {name!r}: PReLU slope {a:.4g} does not fit a 16-bit multiplier")
    err = np.abs(m / 2.0 ** t - slope)
    return m, t, {"prelu_abs_error_max": float(err.max()), "prelu_slopes_zeroed": int(np.count_nonzero((m == 0) & (slope != 0)))}


def quantize_layer(layer: ConvLayer, s_in: float, s_out: float, mode: str, cvt: InputPlan | None,
                   s_res: float | None = None, bias_delta: np.ndarray | None = None) -> QLayer:
    """`bias_delta` (real units, per output channel) is added to the float bias before it is
    quantized: calib.bias_correction's measured offset, folded where it costs no hardware."""
    w = layer.weight
    bias = layer.bias if bias_delta is None else layer.bias + bias_delta
    k = w.shape[0]
    if mode == "per-kernel":
        amax = np.full(k, np.abs(w).max())
    else:
        amax = np.abs(w).reshape(k, -1).max(axis=1)
    w_scale = np.where(amax > 0, amax / 127.0, 1.0)
    qw = np.clip(round_away(w / w_scale[:, None, None, None]), -127, 127).astype(np.int8)
    acc_scale = s_in * w_scale
    b32 = round_away(bias / acc_scale)
    bias16, ls = _bias16(b32, layer.name)
    f = acc_scale / s_out
    act = layer.act
    if act is not None and act.clip_max is not None and 127 * s_out > act.clip_max * (1 + 1e-9):
        raise InputError(f"node {act.source!r} (Clip): max={act.clip_max:g} lies inside the calibrated range "
                         f"+-{127 * s_out:.4g} of {layer.output!r}, which a Concat shares with other inputs; "
                         "Clip(0, max) is supported where the output's range ends at or below max")
    plan = SdpPlan(bias=bias16, bias_shift=ls, relu=act is not None and act.kind == "relu")
    rep = {"layer": layer.name, "op": layer.op, "fused": list(layer.fused), "mode": mode, "in_scale": s_in,
           "out_scale": s_out, "w_scale_min": float(w_scale.min()), "w_scale_max": float(w_scale.max()),
           "bias_shift": ls, "zero_kernels": int(np.count_nonzero(amax == 0))}
    if bias_delta is not None:
        rep["bias_correction_max_out_lsb"] = float(np.max(np.abs(bias_delta)) / s_out)
    if layer.residual is not None:
        if act is not None and act.kind != "relu":
            raise InputError(f"layer {layer.name!r}: only ReLU may follow a residual addition (found {act.source!r})")
        m1, t1, e, cm, ct, extra = _align_sum(acc_scale, s_res, s_out, layer.name)
        plan.x1_mul, plan.x1_shift, plan.cvt_scale, plan.cvt_shift, plan.residual_shift = m1, t1, cm, ct, e
        err = max(extra["x1_rescale_rel_error"], extra["cvt_rel_error"])
        rep.update(extra, residual=layer.residual, residual_scale=s_res)
    elif act is not None and act.kind == "prelu":
        plan.prelu, plan.prelu_shift, slope_rep = quantize_slopes(act.slope, layer.name)
        rep.update(slope_rep)
    try:
        if layer.residual is not None:
            pass
        elif mode == "per-kernel":
            m, t, err = best_mul_shift(f[:1])
            plan.cvt_scale, plan.cvt_shift = int(m[0]), t
        else:
            m, t, err = best_mul_shift(f)
            if plan.prelu is None:
                plan.x1_mul, plan.x1_shift = m, t
            else:
                plan.x2_mul, plan.x2_shift = m, t
    except ValueError as e:
        raise InputError(f"layer {layer.name!r}: rescale Si*Sw/So {f.min():.4g}..{f.max():.4g}: {e}") from None
    rep["rescale_rel_error"] = err
    rep["nvdla_truncation_rel_error"] = max(nvdla_truncated_error(float(x)) for x in np.unique(f))
    exact_bias = bias / acc_scale
    rep["bias_error_out_lsb"] = float(np.max(np.abs(bias16 * 2.0 ** ls - exact_bias) * f))
    deq = qw * w_scale[:, None, None, None]
    noise = float(np.sum((deq - w) ** 2))
    rep["weight_sqnr_db"] = float(10 * np.log10(np.sum(w ** 2) / noise)) if noise > 0 else float("inf")
    return QLayer(layer, mode, s_in, s_out, w_scale, qw, plan, cvt, s_res, rep)


def set_bias_delta(qnet: QNetwork, name: str, bias_delta: np.ndarray) -> None:
    """Re-quantize one conv layer of `qnet` in place with `bias_delta` (quantize_layer), from the
    scales `quantize` gave it: the same QLayer that quantize(..., bias_delta={name: ...}) makes,
    for one layer's work instead of the whole network's (bias correction changes one layer at a
    time)."""
    old = qnet.layers[name]
    op = old.layer
    new = quantize_layer(op, old.in_scale, old.out_scale, qnet.mode, old.cvt, old.res_scale, bias_delta)
    qnet.layers[name] = new
    qnet.report[next(i for i, r in enumerate(qnet.report) if r is old.report)] = new.report


def _sole_concat_reader(graph: Graph, tensor: str):
    """The Concat that is the only reader of `tensor` (not a graph output), else None."""
    readers = graph.readers(tensor)
    if len(readers) == 1 and readers[0].kind == "host" and readers[0].op == "Concat" and tensor not in graph.outputs:
        return readers[0]
    return None


def quantize(graph: Graph, table: dict[str, float], mode: str = "per-kernel", source: str = "table",
             missing: str = "error", use_image: bool = True,
             bias_delta: dict[str, np.ndarray] | None = None) -> QNetwork:
    """`bias_delta`: per conv layer name, an offset added to its float bias (quantize_layer)."""
    if mode not in MODES:
        raise InputError(f"--quantizationMode {mode!r}: use one of {', '.join(MODES)}")
    if graph.input not in table:
        raise InputError(f"calibration table {source} has no scale for the network input {graph.input!r}")
    s_in0 = float(table[graph.input])
    if not np.isfinite(s_in0) or s_in0 <= 0:
        raise InputError(f"calibration table {source}: scale {s_in0} of input {graph.input!r} is not a positive number")
    if missing == "error":
        wanted = set(graph.calibrated_tensors())
        absent = [f"{o.output!r} ({o.op} {o.name!r})" for o in graph.ops
                  if o.output in wanted and _table_scale(table, o.output, o) is None]
        if absent:
            raise InputError(f"calibration table {source} has no scale for {len(absent)} tensor(s) of this model: "
                             f"{', '.join(absent)}; calibrate the model again (a table keyed by other names, e.g. "
                             "TensorRT's, maps through `convert-calib --model`), or pass --missing-scale propagate")
    scales = {graph.input: s_in0}
    inp = quantize_input(graph, scales[graph.input], use_image)
    layers: dict[str, QLayer | QAdd] = {}
    report: list[dict] = []
    first = True
    for op in graph.ops:
        s_ins = [scales.get(t) for t in op.inputs]
        if op.kind in ("conv", "add") and any(v is None for v in s_ins):
            t = op.inputs[s_ins.index(None)]
            raise InputError(f"layer {op.name!r}: its input {t!r} is a float tensor (after Softmax); nothing can run "
                             "on the hardware after it")
        s_in = s_ins[0]
        # an output only a Concat reads gets the Concat's scale: the inputs stack as they are (in place)
        scale_of = next(((c.output, c) for c in [_sole_concat_reader(graph, op.output)] if c is not None),
                        (op.output, op))
        if isinstance(op, ConvLayer):
            s_out = lookup_scale(table, *scale_of, source, missing, s_in)
            clip = op.act.clip_max if op.act is not None else None
            if clip is not None and scale_of[0] == op.output and 127 * s_out > clip:
                # Clip(0, max) bounds the tensor, so a wider calibrated range buys nothing: with
                # 127 * scale = max the output converter's saturation at 127 is the Clip (ReLU6).
                s_out = clip / 127
            cvt = inp if first and op.input == graph.input and inp.mode == "image" else None
            q = quantize_layer(op, s_in, s_out, mode, cvt, s_ins[1] if op.residual else None,
                               (bias_delta or {}).get(op.name))
            first = False
        elif isinstance(op, EltwiseAdd):
            s_out = lookup_scale(table, *scale_of, source, missing, max(s_ins))
            q = quantize_add(op, s_ins[0], s_ins[1], s_out)
        else:
            if op.op in SCALE_PRESERVING:
                scales[op.output] = s_in
            elif op.op != "Softmax":
                scales[op.output] = lookup_scale(table, op.output, op, source, missing, s_in)
            continue
        layers[op.name] = q
        report.append(q.report)
        scales[op.output] = s_out
    return QNetwork(graph, mode, inp, layers, scales, report)


