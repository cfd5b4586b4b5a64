"""ONNX -> graph IR. Reads only what the nv_small INT8 path can run exactly; everything else is
refused naming the node, its op and the offending attribute (never a traceback, never a silent
approximation). Every unsupported node is listed at once, one line each.

Per-channel affine nodes (BatchNormalization, Mul/Add by a constant), activations and additions of
two activations are returned as `Affine` / `ActNode` / `AddNode` records; `graph.fold` merges them
into the convolutions before them. `Identity`, `Dropout` and reshapes that keep the cube are
aliases: their output is their input, so nothing calibrates or runs them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..graph.ir import HOST_OPS, Activation, ConvLayer, Graph, HostOp

ALIASES = ("Identity", "Dropout")
SUPPORTED = ("Conv", "Gemm", "MatMul", "BatchNormalization", "Mul", "Add", "Relu", "PRelu", "LeakyRelu", "Clip",
             *ALIASES, *HOST_OPS)


@dataclass
class Affine:
    """y[c] = x[c] * scale[c] + shift[c] from BatchNormalization or Mul/Add by a constant."""

    name: str
    op: str
    input: str
    output: str
    scale: np.ndarray
    shift: np.ndarray


@dataclass
class AddNode:
    """a + b of two activations (a residual shortcut)."""

    name: str
    op: str
    inputs: list[str]
    output: str


@dataclass
class ActNode:
    name: str
    op: str
    input: str
    output: str
    act: Activation


class _Node:
    """Uniform access to one ONNX node's attributes and constant inputs, with errors naming it."""

    def __init__(self, node, inits: dict, where: str, alias: dict | None = None):
        from onnx import helper

        self.node, self.inits, self.where = node, inits, where
        alias = alias or {}
        self.ins = [alias.get(i, i) for i in node.input]  # inputs with Identity/Dropout seen through
        self.name = node.name or (node.output[0] if node.output else "?")
        self.op = node.op_type
        self.attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def error(self, msg: str) -> InputError:
        return InputError(f"node {self.name!r} ({self.op}): {msg}", where=self.where)

    def attr(self, key: str, default=None):
        v = self.attrs.get(key, default)
        return v.decode() if isinstance(v, bytes) else v

    def const(self, i: int, what: str) -> np.ndarray | None:
        if i >= len(self.ins) or not self.ins[i]:
            return None
        name = self.ins[i]
        if name not in self.inits:
            raise self.error(f"input {i} ({what}, tensor {name!r}) must be a constant initializer")
        return self.inits[name]

    def data_inputs(self) -> list[str]:
        return [n for n in self.ins if n and n not in self.inits]

    def data_input(self) -> str:
        consts = [n for n in self.ins if n in self.inits]
        data = self.data_inputs()
        if len(data) != 1:
            raise self.error(f"expects exactly one non-constant input, has {len(data)} "
                             f"({', '.join(data) or 'none'}; constants: {', '.join(consts) or 'none'})")
        return data[0]


def _per_channel(v: np.ndarray, channels: int, n: _Node, what: str, spatial: bool) -> np.ndarray:
    """Broadcast a constant to one value per channel, or refuse if it varies along H/W."""
    a = np.asarray(v, dtype=np.float64)
    if a.size == 1:
        return np.full(channels, float(a.reshape(-1)[0]))
    shape = tuple(d for d in a.shape)
    ok = {(channels,), (1, channels)} if not spatial else {(channels, 1, 1), (1, channels, 1, 1)}
    if shape not in ok:
        raise n.error(f"{what} of shape {list(shape)} is not a scalar or per-channel constant for {channels} channels")
    return a.reshape(channels)


def _cube(shape: list, n_or_name, where: str) -> tuple[int, int, int]:
    """ONNX (1, C, H, W) or (1, F) -> (C, H, W) for one image."""
    if not shape or any(not isinstance(d, int) or d <= 0 for d in shape[1:]):
        raise InputError(f"tensor {n_or_name!r} has unknown or symbolic shape {shape}", where=where)
    if isinstance(shape[0], int) and shape[0] != 1:
        raise InputError(f"tensor {n_or_name!r} has batch {shape[0]}; nv_small runs batch 1", where=where)
    if len(shape) == 4:
        return (shape[1], shape[2], shape[3])
    if len(shape) == 2:
        return (shape[1], 1, 1)
    raise InputError(f"tensor {n_or_name!r} has rank {len(shape)}; only (N, C, H, W) and (N, F) are supported",
                     where=where)


def _shapes(model) -> dict[str, list]:
    import onnx

    # strict: a declared shape that disagrees with what the nodes compute is an error, not a guess
    # check_type: an initializer of the wrong element type (BatchNormalization's var as int32)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    out = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        dims = vi.type.tensor_type.shape.dim
        out[vi.name] = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in dims]
    return out


def load_model(path: str | Path):
    import onnx

    p = Path(path)
    if not p.is_file():
        raise InputError("no such ONNX model", where=str(p))
    try:
        model = onnx.load(str(p))
    except Exception as e:  # protobuf raises its own DecodeError; report it as bad input
        raise InputError(f"not a readable ONNX model ({type(e).__name__})", where=str(p)) from None
    validate(model, str(p))
    return model


OLDEST_OPSET = 7  # onnxruntime's oldest (and ONNX 1.2's): BatchNormalization(6) has no kernel
_FLOAT_TYPES = {1: "float32", 11: "float64"}  # TensorProto FLOAT, DOUBLE
_INDEX_TYPES = {6: "int32", 7: "int64"}  # shapes, axes


def validate(model, where: str) -> None:
    """What onnxruntime would refuse, and what would compile into garbage, refused before any
    conversion: onnx's checker (one producer per tensor, known ops, typed graph), float
    initializers of the input's type holding finite values, and numeric preprocessing metadata.
    Declared shapes are checked against inferred ones by `_shapes` (strict inference)."""
    import onnx

    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise InputError(f"not a valid ONNX model: {_checker_message(str(e))}", where=where) from None
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    newest = onnx.defs.onnx_opset_version()
    if opset is None or not OLDEST_OPSET <= opset <= newest:
        # the checker takes any opset (it falls back to the newest schema it knows); onnxruntime
        # has no kernels before 7 and knows none after the onnx release it was built with
        raise InputError(f"opset {opset} of the default ONNX domain: supported are {OLDEST_OPSET} to {newest}",
                         where=where)
    g = model.graph
    readers: dict[str, str] = {}
    for node in g.node:
        for t in node.input:
            readers.setdefault(t, f"node {node.name or node.output[0]!r} ({node.op_type})")
    in_types = {i.type.tensor_type.elem_type for i in g.input if i.name not in {t.name for t in g.initializer}}
    for t in g.initializer:
        who = readers.get(t.name, "no node")
        if t.data_type in _FLOAT_TYPES:
            if in_types and t.data_type not in in_types:
                raise InputError(f"initializer {t.name!r} (read by {who}) is {_FLOAT_TYPES[t.data_type]}, the model "
                                 "input is not", where=where)
            v = onnx.numpy_helper.to_array(t)
            if not np.all(np.isfinite(v)):
                raise InputError(f"initializer {t.name!r} (read by {who}) holds {int(np.sum(~np.isfinite(v)))} NaN "
                                 "or infinite value(s)", where=where)
        elif t.data_type not in _INDEX_TYPES:
            raise InputError(f"initializer {t.name!r} (read by {who}) has element type "
                             f"{onnx.TensorProto.DataType.Name(t.data_type)}; weights must be float32", where=where)
    for key in ("nvdla_int8.image_mean", "nvdla_int8.image_scale"):
        v = next((m.value for m in model.metadata_props if m.key == key), None)
        if v is None:
            continue
        try:
            f = float(v)
        except ValueError:
            f = float("nan")
        if not np.isfinite(f) or (key.endswith("scale") and f <= 0):
            raise InputError(f"metadata {key}={v!r} is not a {'positive ' if key.endswith('scale') else ''}finite "
                             "number", where=where)


_CHECKER_NODE = re.compile(r"Bad node spec for node\. Name: (.*?) OpType: (\S+)")


def _checker_message(text: str) -> str:
    """onnx's checker error as one line: what is wrong, after the node its context names."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    node = next((m for m in map(_CHECKER_NODE.search, lines) if m), None)
    what = lines[0] if lines else "(no message)"
    return f"node {node.group(1)!r} ({node.group(2)}): {what}" if node else what


def import_onnx(path: str | Path) -> tuple[Graph, list]:
    """Read an ONNX model into (Graph shell, raw op list); `graph.fold` finishes the Graph."""
    from onnx import numpy_helper

    where = str(path)
    model = load_model(path)
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in g.initializer}
    for node in g.node:  # Constant nodes are initializers written another way
        if node.op_type == "Constant" and node.output:
            from onnx import helper

            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            if "value" in attrs:
                inits[node.output[0]] = numpy_helper.to_array(attrs["value"]).astype(np.float64)
    inputs = [i for i in g.input if i.name not in inits]
    if len(inputs) != 1:
        raise InputError(f"the model must have one input, has {len(inputs)} ({', '.join(i.name for i in inputs)})",
                         where=where)
    if not g.output:
        raise InputError("the model has no output", where=where)
    try:
        shapes = _shapes(model)
    except Exception as e:
        raise InputError(f"ONNX shape inference failed ({e})".splitlines()[0], where=where) from None
    cube = lambda t: _cube(shapes.get(t, []), t, where)  # noqa: E731
    ops, alias, refused = [], {}, []
    for node in g.node:
        if node.op_type == "Constant":
            continue
        n = _Node(node, inits, where, alias)
        try:
            if n.op not in SUPPORTED:
                raise n.error(f"op {n.op} is not supported (supported: {', '.join(SUPPORTED)})")
            if n.op in ALIASES or _keeps_cube(n, cube):
                if n.op == "Dropout" and len(node.output) > 1 and node.output[1]:
                    raise n.error("the mask output (training mode) is not supported")
                alias[node.output[0]] = n.data_input()
                continue
            ops.append(_convert(n, cube, shapes))
        except InputError as e:
            refused.append(str(e))
    if len(refused) == 1:
        raise InputError(refused[0])
    if refused:
        raise InputError(f"{len(refused)} unsupported node(s), one per line:\n  " + "\n  ".join(refused))
    meta = {p.key: p.value for p in model.metadata_props}
    mean, scale = meta.get("nvdla_int8.image_mean"), meta.get("nvdla_int8.image_scale")
    graph = Graph(name=g.name or Path(path).stem, input=inputs[0].name, input_shape=cube(inputs[0].name),
                  outputs=[alias.get(o.name, o.name) for o in g.output], ops=[],
                  image_mean=float(mean) if mean is not None else None,
                  image_scale=float(scale) if scale is not None else None)
    return graph, ops


def _keeps_cube(n: _Node, cube) -> bool:
    """A Flatten/Reshape whose output is the same (C, H, W) cube as its input: nothing to do."""
    if n.op not in ("Flatten", "Reshape") or not n.ins:
        return False
    try:
        return cube(n.ins[0]) == cube(n.node.output[0])
    except InputError:
        return False


def _convert(n: _Node, cube, shapes):
    out = n.node.output[0]
    if n.op == "Conv":
        return _conv(n, cube)
    if n.op in ("Gemm", "MatMul"):
        return _fully_connected(n, cube)
    if n.op == "Add" and len(n.data_inputs()) == 2:
        a, b = n.data_inputs()
        if cube(a) != cube(b) or cube(a) != cube(out):
            raise n.error(f"adds {list(cube(a))} and {list(cube(b))}: only tensors of one shape (no broadcasting)")
        return AddNode(n.name, n.op, [a, b], out)
    if n.op == "Concat":
        return _concat(n, cube, shapes)
    x = n.data_input()
    if n.op == "BatchNormalization":
        if len(n.node.output) > 1 and any(n.node.output[1:]):
            raise n.error("training-mode outputs (running mean/var) are not supported")
        c = cube(x)[0]
        consts = [(n.const(i, w), w) for i, w in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "var"))]
        for v, w in consts:  # one value per channel, exactly: onnxruntime broadcasts none of them
            if v is None or v.shape != (c,):
                raise n.error(f"input {w} of shape {None if v is None else list(v.shape)}: must be ({c},)")
        gamma, beta, mean, var = (v for v, _ in consts)
        eps = float(n.attr("epsilon", 1e-5))
        if not np.all(var + eps > 0):
            i = int(np.argmin(var + eps))
            raise n.error(f"var + epsilon = {var[i] + eps:g} on channel {i}: must be positive (no square root)")
        a = gamma / np.sqrt(var + eps)
        return Affine(n.name, n.op, x, out, a, beta - mean * a)
    if n.op in ("Mul", "Add"):
        c, h, w = cube(x)
        const = next((n.inits[i] for i in n.ins if i in n.inits), None)
        v = _per_channel(const, c, n, "constant", len(shapes.get(x, [])) == 4)
        if n.op == "Mul":
            return Affine(n.name, n.op, x, out, v, np.zeros(c))
        return Affine(n.name, n.op, x, out, np.ones(c), v)
    if n.op == "Relu":
        return ActNode(n.name, n.op, x, out, Activation("relu", source=n.name))
    if n.op == "LeakyRelu":
        c = cube(x)[0]
        return ActNode(n.name, n.op, x, out, Activation("prelu", np.full(c, float(n.attr("alpha", 0.01))), source=n.name))
    if n.op == "PRelu":
        c = cube(x)[0]
        slope = _per_channel(n.const(1, "slope"), c, n, "slope", len(shapes.get(x, [])) == 4)
        return ActNode(n.name, n.op, x, out, Activation("prelu", slope, source=n.name))
    if n.op == "Clip":
        lo = n.const(1, "min") if len(n.ins) > 1 else None
        hi = n.const(2, "max") if len(n.ins) > 2 else None
        lo = float(lo) if lo is not None else n.attr("min")
        hi = float(hi) if hi is not None else n.attr("max")
        if lo is None or float(lo) != 0.0:
            raise n.error(f"attribute min={lo}: only Clip(0, max) is supported (as a ReLU)")
        return ActNode(n.name, n.op, x, out, Activation("relu", clip_max=None if hi is None else float(hi), source=n.name))
    return _host(n, x, out, cube, shapes)


def _conv(n: _Node, cube) -> ConvLayer:
    x = n.ins[0]
    if x in n.inits:
        raise n.error("input 0 must be the data tensor, not a constant")
    w = n.const(1, "weights")
    if w is None or w.ndim != 4:
        raise n.error("only 2-D convolutions with 4-D constant weights are supported")
    group = int(n.attr("group", 1))
    auto_pad = n.attr("auto_pad", "NOTSET")
    if auto_pad not in ("NOTSET", "VALID"):
        raise n.error(f"attribute auto_pad={auto_pad} is not supported; export explicit pads")
    k, c, r, s = w.shape
    if tuple(n.attr("kernel_shape", [r, s])) != (r, s):
        raise n.error(f"attribute kernel_shape={n.attr('kernel_shape')} disagrees with the weights {list(w.shape)}")
    pads = list(n.attr("pads", [0, 0, 0, 0]))
    strides = list(n.attr("strides", [1, 1]))
    dil = list(n.attr("dilations", [1, 1]))
    b = n.const(2, "bias")
    if b is not None and b.shape != (k,):
        raise n.error(f"input 2 (bias) of shape {list(b.shape)}: must be ({k},), one value per kernel")
    in_shape = cube(x)
    if group < 1 or k % group or in_shape[0] != c * group:
        raise n.error(f"weights {list(w.shape)} with group={group} do not fit input tensor {x!r} of "
                      f"{in_shape[0]} channels")
    return ConvLayer(name=n.name, op="Conv", input=x, output=n.node.output[0], weight=w, group=group,
                     bias=np.zeros(k) if b is None else b, in_shape=in_shape, out_shape=cube(n.node.output[0]),
                     stride=(strides[0], strides[1]), dilation=(dil[0], dil[1]),
                     pads=(pads[0], pads[1], pads[2], pads[3]), fused=[])


def _concat(n: _Node, cube, shapes) -> HostOp:
    xs = n.data_inputs()
    if len(xs) != len(n.ins):
        raise n.error("constant inputs are not supported")
    rank = len(shapes.get(xs[0], []))
    axis = int(n.attr("axis", 1))
    if axis not in (1, 1 - rank):
        raise n.error(f"attribute axis={axis}: only the channel axis is supported")
    shapes_in = [cube(x) for x in xs]
    if len({s[1:] for s in shapes_in}) != 1:
        raise n.error(f"inputs {[list(s) for s in shapes_in]} differ in height or width")
    return HostOp(n.name, n.op, xs, n.node.output[0], shapes_in, cube(n.node.output[0]), {})


def _fully_connected(n: _Node, cube) -> ConvLayer:
    x = n.ins[0]
    if x in n.inits:
        raise n.error("input 0 must be the data tensor (a constant left operand is not supported)")
    b_mat = n.const(1, "weights")
    if b_mat is None or b_mat.ndim != 2:
        raise n.error("input 1 (weights) must be a 2-D constant")
    alpha, beta = 1.0, 1.0
    if n.op == "Gemm":
        if int(n.attr("transA", 0)):
            raise n.error("attribute transA=1 is not supported")
        alpha, beta = float(n.attr("alpha", 1.0)), float(n.attr("beta", 1.0))
        w = b_mat if int(n.attr("transB", 0)) else b_mat.T
        c_bias = n.const(2, "bias")
    else:
        w, c_bias = b_mat.T, None
    k, f = w.shape
    if c_bias is not None and c_bias.shape not in ((), (1,), (k,), (1, 1), (1, k)):
        raise n.error(f"input 2 (bias) of shape {list(c_bias.shape)} does not broadcast to the output (1, {k})")
    in_shape = cube(x)
    if in_shape != (f, 1, 1):
        raise n.error(f"input {x!r} has shape {list(in_shape)} per image; a fully connected layer needs (N, {f}) "
                      "(insert Flatten)")
    bias = np.zeros(k) if c_bias is None else beta * np.broadcast_to(c_bias.reshape(-1), (k,)).astype(np.float64)
    return ConvLayer(name=n.name, op=n.op, input=x, output=n.node.output[0], weight=(alpha * w).reshape(k, f, 1, 1),
                     bias=bias, in_shape=in_shape, out_shape=(k, 1, 1), fused=[])


def _host(n: _Node, x: str, out: str, cube, shapes) -> HostOp:
    attrs: dict = {}
    if n.op in ("MaxPool", "AveragePool"):
        if n.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            raise n.error(f"attribute auto_pad={n.attr('auto_pad')} is not supported")
        if any(d != 1 for d in n.attr("dilations", [1, 1])):
            raise n.error(f"attribute dilations={n.attr('dilations')} is not supported")
        if len(n.node.output) > 1:
            raise n.error("the Indices output is not supported")
        if n.attr("kernel_shape") is None or len(n.attr("kernel_shape")) != 2:
            raise n.error(f"attribute kernel_shape={n.attr('kernel_shape')}: a 2-D kernel is required")
        ks = list(n.attr("kernel_shape"))
        strides, pads = list(n.attr("strides", [1, 1])), list(n.attr("pads", [0, 0, 0, 0]))
        (_, hi, wi), (_, ho, wo) = cube(x), cube(out)
        # ceil_mode=1 is floor mode with the end padding its last window reaches (never counted
        # by AveragePool): record how far past the declared padding that is, per axis
        extra = [max(0, (ho - 1) * strides[0] + ks[0] - hi - pads[0] - pads[2]),
                 max(0, (wo - 1) * strides[1] + ks[1] - wi - pads[1] - pads[3])]
        attrs = {"kernel": ks, "strides": strides, "pads": pads, "ceil_extra": extra,
                 "count_include_pad": int(n.attr("count_include_pad", 0))}
    elif n.op in ("Flatten",):
        if int(n.attr("axis", 1)) != 1:
            raise n.error(f"attribute axis={n.attr('axis')}: only axis=1 is supported")
    elif n.op == "Softmax":
        rank = len(shapes.get(x, []))
        axis = int(n.attr("axis", -1))
        if rank != 2 or axis not in (1, -1):
            raise n.error(f"attribute axis={axis} on a rank-{rank} input: only the class axis of (N, F) is supported")
    elif n.op == "Reshape":
        n.const(1, "shape")
    return HostOp(n.name, n.op, [x], out, [cube(x)], cube(out), attrs)
