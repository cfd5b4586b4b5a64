"""Caffe deploy .prototxt (+ .caffemodel) -> ONNX ModelProto (opset 13), in memory.

The compiler and the FP32 reference (onnxruntime) then take the ONNX model as they take any other,
so Caffe needs no compiler path of its own. What the conversion keeps:

- **Names.** Every Caffe layer's output is an ONNX tensor named after the LAYER (`conv1`,
  `bn_conv1`, `scale_conv1`, `conv1_relu`), also for in-place layers, whose tops Caffe names after
  the blob they overwrite. NVDLA's calibration tables are keyed by Caffe layer names, so they apply
  to the converted graph as they are. Network inputs keep their blob names (`data`). Helper tensors
  a layer needs besides its output are named `<layer>_<what>`.
- **Arithmetic.** BatchNorm -> BatchNormalization with Caffe's stored statistics divided by the
  moving-average scale factor (blob 2; 0 -> statistics 0, as Caffe does); Scale -> Mul (+ Add) by
  per-channel constants; both fold into the convolution before them in the importer. Pooling
  reproduces Caffe's output size (ceil rounding, last window starting inside the padded input)
  with explicit end padding in floor mode: see `_pooling`.
- **Batch 1.** The input's batch dimension is set to 1 whatever the prototxt says.
- **Input.** The converted model takes what the Caffe net takes; for ResNet-50 that is the float
  BGR image minus the per-channel mean (104, 117, 123), in NCHW.

Reading is strict: a field this subset of caffe.proto does not know (`caffe_schema.py`; the fields of
the supported layers and the training-only ones deploy files keep) is an error naming line and
column, since ignoring it could silently change the network (a misspelt `kernel_size`).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .caffe_schema import V1_TYPES, messages

OPSET = 13
SUPPORTED = ("Input", "Convolution", "BatchNorm", "Scale", "ReLU", "Pooling", "Eltwise", "InnerProduct",
             "Softmax", "Concat", "Dropout", "Flatten", "Split")


# ---------------------------------------------------------------------------------------- reading

def parse_prototxt(text: str, where: str = "<prototxt>", strict: bool = True):
    """NetParameter from protobuf text; `strict=False` skips unknown fields (name mapping only
    needs names, types, bottoms and tops, and must read networks we cannot convert)."""
    from google.protobuf import text_format

    net = messages().NetParameter()
    try:
        text_format.Parse(text, net, allow_unknown_field=not strict)
    except text_format.ParseError as e:
        line, col = e.GetLine(), e.GetColumn()
        msg = str(e).split(" : ", 1)[-1] if line else str(e)
        if "has no field named" in msg:
            msg += " (not in the part of caffe.proto nvdla-int8 reads: the fields of the layers " \
                   f"{', '.join(SUPPORTED)})"
        raise InputError(msg, where=f"{where}:{line}:{col}" if line else where) from None
    if not net.layer and not net.layers:
        raise InputError("no layers found: not a Caffe network definition?", where=where)
    return net


def read_prototxt(path: str | Path, strict: bool = True):
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the prototxt ({e.__class__.__name__})", where=str(p)) from None
    return parse_prototxt(text, str(p), strict)


def read_caffemodel(path: str | Path):
    """NetParameter with blobs from a binary .caffemodel."""
    from google.protobuf.message import DecodeError

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the caffemodel ({e.__class__.__name__})", where=str(p)) from None
    net = messages().NetParameter()
    try:
        net.ParseFromString(data)
    except DecodeError:
        raise InputError("not a Caffe binary model (protobuf decode failed)", where=str(p)) from None
    if not net.layer and not net.layers:
        raise InputError("no layers found: not a Caffe binary model?", where=str(p))
    return net


@dataclass(frozen=True)
class Layer:
    """One layer of either format (V1 `layers` use an enum type; same parameter messages)."""

    name: str
    type: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    msg: object  # LayerParameter or V1LayerParameter

    @property
    def blobs(self):
        return self.msg.blobs


def _included(msg, phase: int) -> bool:
    """Caffe's NetStateRule by phase (level and stages are for training setups; not evaluated)."""
    if msg.include:
        return any(not r.HasField("phase") or r.phase == phase for r in msg.include)
    return not any(r.HasField("phase") and r.phase == phase for r in msg.exclude)


def layers_of(net, where: str | None = None) -> list[Layer]:
    """Layers in file order, in TEST phase."""
    test = 1
    out = []
    if net.layer and net.layers:
        raise InputError("the network mixes 'layer' and V1 'layers' blocks", where=where)
    if net.layer:
        for m in net.layer:
            if _included(m, test):
                out.append(Layer(m.name, m.type, tuple(m.bottom), tuple(m.top), m))
    else:
        for m in net.layers:
            if _included(m, test):
                v1 = m.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_number[m.type].name
                out.append(Layer(m.name, V1_TYPES.get(v1, v1), tuple(m.bottom), tuple(m.top), m))
    return out


def net_inputs(net, where: str) -> list[tuple[str, list[int]]]:
    """(blob name, shape) of the inputs declared at net level (`input` + `input_shape`/`input_dim`)
    and by Input layers, in order."""
    out = []
    for i, name in enumerate(net.input):
        if len(net.input_shape) > i:
            shape = list(net.input_shape[i].dim)
        elif len(net.input_dim) >= 4 * (i + 1):
            shape = list(net.input_dim[4 * i:4 * i + 4])
        else:
            raise InputError(f"input {name!r} has no input_shape or input_dim", where=where)
        out.append((name, shape))
    for layer in layers_of(net, where):
        if layer.type == "Input":
            shapes = list(layer.msg.input_param.shape)
            if len(shapes) not in (1, len(layer.tops)):
                raise InputError(f"layer {layer.name!r} (Input): {len(shapes)} shapes for {len(layer.tops)} tops",
                                 where=where)
            for k, top in enumerate(layer.tops):
                out.append((top, list(shapes[k if len(shapes) > 1 else 0].dim)))
    return out


def blob_array(blob, what: str, where: str) -> np.ndarray:
    """A BlobProto as float32 with its shape (new `shape` or legacy num/channels/height/width)."""
    values = blob.double_data if len(blob.double_data) else blob.data
    a = np.asarray(values, dtype=np.float32)
    if blob.HasField("shape"):
        shape = tuple(blob.shape.dim)
    else:
        shape = (blob.num, blob.channels, blob.height, blob.width)
    if int(np.prod(shape)) != a.size:
        raise InputError(f"{what}: {a.size} values for shape {list(shape)}", where=where)
    return a.reshape(shape)


def to_blob(a: np.ndarray):
    """A float32 BlobProto with the `shape` field (what current Caffe writes)."""
    b = messages().BlobProto()
    b.shape.dim.extend(int(d) for d in a.shape)
    b.data.extend(np.asarray(a, dtype=np.float32).reshape(-1).tolist())
    return b


# ------------------------------------------------------------------------------------- conversion

@dataclass
class ConvertedLayer:
    """What one Caffe layer became: ONNX nodes and initializers, tensors read and written."""

    name: str
    type: str
    inputs: list[str]
    output: str | None  # None: the layer creates no tensor (Dropout, Split)
    nodes: list = field(default_factory=list)
    initializers: list = field(default_factory=list)


@dataclass
class Conversion:
    inputs: list[tuple[str, list[int]]]
    outputs: list[str]
    layers: list[ConvertedLayer]
    shapes: dict[str, list[int]]  # every tensor's shape, batch 1
    name: str

    def model(self):
        """The ONNX ModelProto."""
        from onnx import TensorProto, helper

        nodes = [n for cl in self.layers for n in cl.nodes]
        inits = [t for cl in self.layers for t in cl.initializers]
        vi = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, self.shapes[n])  # noqa: E731
        graph = helper.make_graph(nodes, self.name or "caffe", [vi(n) for n, _ in self.inputs],
                                  [vi(n) for n in self.outputs], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="nvdla_int8.importers.caffe")
        model.ir_version = 8  # opset 13's IR; every onnxruntime since 1.10 loads it
        return model


def _pair(repeated, h_field, w_field, msg, default: int, what: str, err) -> tuple[int, int]:
    """Caffe's 2-D parameter forms: `x_h`/`x_w`, or `x` given 0, 1 or 2 times."""
    if msg.HasField(h_field) or msg.HasField(w_field):
        if len(repeated):
            raise err(f"{what} given both as {what} and as {h_field}/{w_field}")
        return int(getattr(msg, h_field)), int(getattr(msg, w_field))
    vals = [int(v) for v in repeated]
    if len(vals) == 0:
        return default, default
    if len(vals) == 1:
        return vals[0], vals[0]
    if len(vals) == 2:
        return vals[0], vals[1]
    raise err(f"{what} has {len(vals)} values; only 2-D layers are supported")


def pool_output_size(size: int, kernel: int, stride: int, pad: int, ceil: bool = True) -> int:
    """Caffe's pooled size: ceil (or floor) rounding, then, with padding, the last window must
    start inside the image plus its top/left padding."""
    num = size + 2 * pad - kernel
    out = (-(-num // stride) if ceil else num // stride) + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class _Converter:
    def __init__(self, net, weights: dict | None, where: str, weights_where: str):
        self.net, self.where, self.wwhere = net, where, weights_where
        self.weights = weights  # layer name -> list of BlobProto, or None for placeholders
        self.shapes: dict[str, list[int]] = {}
        self.tensor_of: dict[str, str] = {}  # Caffe blob -> current ONNX tensor
        self.names: set[str] = set()  # tensors and initializers made so far
        self.reserved = {layer.name for layer in layers_of(net, where)}  # kept for the layers' outputs
        self.layers: list[ConvertedLayer] = []
        self.cl: ConvertedLayer | None = None
        self.layer: Layer | None = None

    # helpers ---------------------------------------------------------------------------------
    def err(self, msg: str) -> InputError:
        lay = self.layer
        return InputError(f"layer {lay.name!r} ({lay.type}): {msg}" if lay else msg, where=self.where)

    def fresh(self, name: str) -> str:
        base, k = name, 1
        while name in self.names or name in self.reserved:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        return name

    def const(self, what: str, a: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.fresh(f"{self.layer.name}_{what}")
        a = np.asarray(a)
        a = a if a.dtype == np.int64 else a.astype(np.float32)
        self.cl.initializers.append(numpy_helper.from_array(a, name))
        return name

    def node(self, op: str, inputs: list[str], output: str, shape: list[int], **attrs) -> str:
        from onnx import helper

        self.cl.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        self.shapes[output] = list(shape)
        return output

    def out_name(self) -> str:
        """The layer's output tensor: named after the layer."""
        if self.layer.name in self.names:
            raise self.err("another layer or input already produced a tensor of this name; "
                           "Caffe layer names must be unique")
        self.names.add(self.layer.name)
        return self.layer.name

    def bottom(self, k: int = 0, read: bool = True) -> str:
        """The tensor holding bottom k now; `read=False` for layers that only pass it on."""
        b = self.layer.bottoms[k]
        if b not in self.tensor_of:
            raise self.err(f"bottom {b!r} is not produced by any earlier layer or input")
        t = self.tensor_of[b]
        if read:
            self.cl.inputs.append(t)
        return t

    def nbottoms(self, n: int | None = None, at_least: int = 1):
        got = len(self.layer.bottoms)
        if (n is not None and got != n) or got < at_least:
            raise self.err(f"has {got} bottoms, expects {n if n is not None else f'at least {at_least}'}")
        if len(self.layer.tops) != 1 and self.layer.type not in ("Split",):
            raise self.err(f"has {len(self.layer.tops)} tops, expects 1")

    def set_top(self, tensor: str):
        self.tensor_of[self.layer.tops[0]] = tensor
        self.cl.output = tensor

    def blobs(self, shapes: list[tuple[int, ...]], names: list[str]) -> list[np.ndarray]:
        """The layer's parameter blobs, checked against the shapes the prototxt implies; `None`
        weights give placeholders (zeros; variances, scales and BatchNorm factors 1) for
        shape-only conversion."""
        if self.weights is None:
            return [np.ones(s, np.float32) if n in ("variance", "scale factor", "scale") else np.zeros(s, np.float32)
                    for s, n in zip(shapes, names)]
        blobs = self.weights.get(self.layer.name)
        if blobs is None:
            raise InputError(f"layer {self.layer.name!r} ({self.layer.type}) has no weights in the caffemodel",
                             where=self.wwhere)
        if len(blobs) < len(shapes):
            raise InputError(f"layer {self.layer.name!r} ({self.layer.type}) has {len(blobs)} blobs in the "
                             f"caffemodel, expects {len(shapes)} ({', '.join(names)})", where=self.wwhere)
        out = []
        for b, s, n in zip(blobs, shapes, names):
            a = blob_array(b, f"layer {self.layer.name!r} {n}", self.wwhere)
            if a.size != int(np.prod(s)):
                raise InputError(f"layer {self.layer.name!r} ({self.layer.type}): {n} has shape {list(a.shape)}, "
                                 f"the prototxt implies {list(s)}", where=self.wwhere)
            out.append(a.reshape(s))  # legacy 4-D shapes (1, 1, N, K) of the same size
        return out

    # driver ----------------------------------------------------------------------------------
    def run(self) -> Conversion:
        inputs = []
        for name, shape in net_inputs(self.net, self.where):
            if not shape or any(d <= 0 for d in shape[1:]):
                raise InputError(f"input {name!r} has shape {shape}", where=self.where)
            shape = [1, *shape[1:]]
            if name in self.names:
                raise InputError(f"input {name!r} declared twice", where=self.where)
            self.names.add(name)
            self.tensor_of[name] = name
            self.shapes[name] = shape
            inputs.append((name, shape))
        if not inputs:
            raise InputError("the network declares no input (no 'input:' and no Input layer)", where=self.where)
        for layer in layers_of(self.net):
            self.layer = layer
            self.cl = ConvertedLayer(layer.name, layer.type, [], None)
            if not layer.name:
                raise self.err("layer without a name")
            handler = getattr(self, f"_{layer.type.lower()}", None)
            if layer.type not in SUPPORTED or handler is None:
                raise self.err(f"layer type {layer.type!r} is not supported (supported: {', '.join(SUPPORTED)})")
            handler()
            self.layers.append(self.cl)
        self.layer = None
        consumed = {t for cl in self.layers for t in cl.inputs}
        outputs = list(dict.fromkeys(t for t in self.tensor_of.values() if t not in consumed and t not in
                                     {n for n, _ in inputs}))
        if not outputs:
            raise InputError("the network has no output", where=self.where)
        return Conversion(inputs, outputs, self.layers, self.shapes, self.net.name)

    # layers ----------------------------------------------------------------------------------
    def _input(self):
        self.cl.output = None  # declared in net_inputs

    def _dropout(self):
        self.nbottoms(1)
        self.tensor_of[self.layer.tops[0]] = self.bottom(read=False)  # identity at inference

    def _split(self):
        self.nbottoms(1)
        x = self.bottom(read=False)
        for top in self.layer.tops:
            self.tensor_of[top] = x

    def _convolution(self):
        self.nbottoms(1)
        p = self.layer.msg.convolution_param
        x = self.bottom()
        shape = self.shapes[x]
        if len(shape) != 4:
            raise self.err(f"input {x!r} has shape {shape}; only 2-D convolution of (N, C, H, W) is supported")
        if p.axis != 1:
            raise self.err(f"axis={p.axis}: only axis 1 (channels) is supported")
        kh, kw = _pair(p.kernel_size, "kernel_h", "kernel_w", p, 0, "kernel_size", self.err)
        ph, pw = _pair(p.pad, "pad_h", "pad_w", p, 0, "pad", self.err)
        sh, sw = _pair(p.stride, "stride_h", "stride_w", p, 1, "stride", self.err)
        dh, dw = self._dilation(p)
        if kh <= 0 or kw <= 0 or sh <= 0 or sw <= 0:
            raise self.err(f"kernel {kh}x{kw} and stride {sh}x{sw} must be positive")
        c, h, w = shape[1:]
        k, g = int(p.num_output), int(p.group)
        if k <= 0 or g <= 0 or c % g or k % g:
            raise self.err(f"num_output={k}, group={g} and {c} input channels: both must divide by the group")
        oh = (h + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
        ow = (w + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
        if oh <= 0 or ow <= 0:
            raise self.err(f"output would be {oh}x{ow} for a {h}x{w} input")
        names = ["weights"] + (["bias"] if p.bias_term else [])
        arrs = self.blobs([(k, c // g, kh, kw), (k,)][:len(names)], names)
        ins = [x, self.const("W", arrs[0])] + ([self.const("B", arrs[1])] if p.bias_term else [])
        self.set_top(self.node("Conv", ins, self.out_name(), [1, k, oh, ow], kernel_shape=[kh, kw],
                               pads=[ph, pw, ph, pw], strides=[sh, sw], dilations=[dh, dw], group=g))

    def _dilation(self, p) -> tuple[int, int]:
        d = [int(v) for v in p.dilation] or [1]
        if len(d) > 2 or min(d) <= 0:
            raise self.err(f"dilation {d}: expects 1 or 2 positive values")
        return (d[0], d[-1])

    def _channels(self, x: str) -> int:
        shape = self.shapes[x]
        if len(shape) < 2:
            raise self.err(f"input {x!r} has shape {shape}; expects (N, C, ...)")
        return shape[1]

    def _per_channel_shape(self, x: str) -> list[int]:
        """Broadcast shape of a per-channel constant for input `x`: (C, 1, 1) for NCHW."""
        shape = self.shapes[x]
        return [shape[1]] + [1] * (len(shape) - 2)

    def _batchnorm(self):
        self.nbottoms(1)
        p = self.layer.msg.batch_norm_param
        if p.HasField("use_global_stats") and not p.use_global_stats:
            raise self.err("use_global_stats: false normalizes with each batch's own statistics; "
                           "inference needs the stored ones (remove it or set it true)")
        x = self.bottom()
        c = self._channels(x)
        mean, var, factor = self.blobs([(c,), (c,), (1,)], ["mean", "variance", "scale factor"])
        # Caffe keeps running sums; blob 2 is their common factor (0 means "no statistics yet").
        f = np.float32(0.0) if factor[0] == 0 else np.float32(1.0) / factor[0]
        ins = [x, self.const("gamma", np.ones(c)), self.const("beta", np.zeros(c)),
               self.const("mean", mean * f), self.const("var", var * f)]
        self.set_top(self.node("BatchNormalization", ins, self.out_name(), self.shapes[x], epsilon=float(p.eps)))

    def _scale(self):
        if len(self.layer.bottoms) != 1:
            raise self.err("a scale taken from a second bottom is not supported (only learned per-channel scales)")
        self.nbottoms(1)
        p = self.layer.msg.scale_param
        x = self.bottom()
        c = self._channels(x)
        if p.axis not in (1, 1 - len(self.shapes[x])) or p.num_axes not in (0, 1):
            raise self.err(f"axis={p.axis}, num_axes={p.num_axes}: only a per-channel (axis 1, num_axes 1) "
                           "or scalar (num_axes 0) scale is supported")
        n = c if p.num_axes == 1 else 1
        names = ["scale"] + (["bias"] if p.bias_term else [])
        arrs = self.blobs([(n,), (n,)][:len(names)], names)
        cshape = self._per_channel_shape(x) if n > 1 else [1]
        out = self.out_name()
        mul = self.fresh(f"{out}_mul") if p.bias_term else out
        y = self.node("Mul", [x, self.const("gamma", arrs[0].reshape(cshape))], mul, self.shapes[x])
        if p.bias_term:
            y = self.node("Add", [y, self.const("beta", arrs[1].reshape(cshape))], out, self.shapes[x])
        self.set_top(y)

    def _relu(self):
        self.nbottoms(1)
        x = self.bottom()
        slope = float(self.layer.msg.relu_param.negative_slope)
        if slope:
            self.set_top(self.node("LeakyRelu", [x], self.out_name(), self.shapes[x], alpha=slope))
        else:
            self.set_top(self.node("Relu", [x], self.out_name(), self.shapes[x]))

    def _pooling(self):
        """Caffe's ceil-rounded output size as floor-mode pooling with extra end padding e:
        floor((H + 2p + e - k) / s) + 1 equals Caffe's size for e = (out - 1) s + k - H - 2p.
        MAX: the extra (as all) padding never wins, exact. AVE: Caffe divides by the window
        clipped to [-p, H + p), i.e. counting the real padding but not the extra; without padding
        that is onnx count_include_pad=0, without extra count_include_pad=1, and with both an
        explicit zero Pad by p followed by count_include_pad=0 pooling. Not ceil_mode=1: explicit
        pads leave no rounding rule for a runtime to interpret, and the ONNX front end refuses it."""
        self.nbottoms(1)
        p = self.layer.msg.pooling_param
        x = self.bottom()
        shape = self.shapes[x]
        if len(shape) != 4:
            raise self.err(f"input {x!r} has shape {shape}; only 2-D pooling of (N, C, H, W) is supported")
        n, c, h, w = shape
        method = p.DESCRIPTOR.fields_by_name["pool"].enum_type.values_by_number[p.pool].name
        if method not in ("MAX", "AVE"):
            raise self.err(f"pool: {method} is not supported (MAX, AVE)")
        if p.global_pooling:
            if p.HasField("kernel_size") or p.HasField("kernel_h") or p.pad or p.pad_h or p.pad_w:
                raise self.err("global_pooling with kernel_size or pad: Caffe refuses this too")
            op = "GlobalAveragePool" if method == "AVE" else "GlobalMaxPool"
            self.set_top(self.node(op, [x], self.out_name(), [n, c, 1, 1]))
            return
        if p.HasField("kernel_h") != p.HasField("kernel_w") or (p.HasField("kernel_h") and p.HasField("kernel_size")):
            raise self.err("give kernel_size, or kernel_h and kernel_w")
        if not (p.HasField("kernel_h") or p.HasField("kernel_size")):
            raise self.err("no kernel_size")
        kh, kw = (p.kernel_h, p.kernel_w) if p.HasField("kernel_h") else (p.kernel_size, p.kernel_size)
        ph, pw = (p.pad_h, p.pad_w) if (p.HasField("pad_h") or p.HasField("pad_w")) else (p.pad, p.pad)
        sh, sw = (p.stride_h, p.stride_w) if (p.HasField("stride_h") or p.HasField("stride_w")) else (p.stride, p.stride)
        if min(kh, kw, sh, sw) <= 0 or ph >= kh or pw >= kw:
            raise self.err(f"kernel {kh}x{kw}, stride {sh}x{sw}, pad {ph}x{pw}: kernel and stride must be "
                           "positive and the pad smaller than the kernel")
        ceil = p.round_mode == 0
        oh, ow = pool_output_size(h, kh, sh, ph, ceil), pool_output_size(w, kw, sw, pw, ceil)
        eh = max(0, (oh - 1) * sh + kh - h - 2 * ph)
        ew = max(0, (ow - 1) * sw + kw - w - 2 * pw)
        if ph + eh >= kh or pw + ew >= kw:
            raise self.err("the last window lies entirely in the padding (Caffe pools nothing there); "
                           "not supported")
        attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw])
        out = self.out_name()
        if method == "MAX":
            y = self.node("MaxPool", [x], out, [n, c, oh, ow], pads=[ph, pw, ph + eh, pw + ew], **attrs)
        elif (ph or pw) and (eh or ew):
            pad_shape = [n, c, h + 2 * ph, w + 2 * pw]
            pads = self.const("pads", np.array([0, 0, ph, pw, 0, 0, ph, pw], np.int64))
            padded = self.node("Pad", [x, pads], self.fresh(f"{out}_pad"), pad_shape)
            y = self.node("AveragePool", [padded], out, [n, c, oh, ow], pads=[0, 0, eh, ew],
                          count_include_pad=0, **attrs)
        else:
            y = self.node("AveragePool", [x], out, [n, c, oh, ow], pads=[ph, pw, ph + eh, pw + ew],
                          count_include_pad=1 if (ph or pw) else 0, **attrs)
        self.set_top(y)

    def _eltwise(self):
        self.nbottoms(None, at_least=2)
        p = self.layer.msg.eltwise_param
        op = p.DESCRIPTOR.fields_by_name["operation"].enum_type.values_by_number[p.operation].name
        if op != "SUM":
            raise self.err(f"operation {op} is not supported (only SUM)")
        xs = [self.bottom(k) for k in range(len(self.layer.bottoms))]
        shape = self.shapes[xs[0]]
        if any(self.shapes[t] != shape for t in xs):
            raise self.err(f"bottoms have different shapes {[self.shapes[t] for t in xs]}")
        coeff = list(p.coeff)
        if coeff and len(coeff) != len(xs):
            raise self.err(f"{len(coeff)} coeff for {len(xs)} bottoms")
        out = self.out_name()
        terms = []
        for k, t in enumerate(xs):
            if coeff and coeff[k] != 1.0:
                t = self.node("Mul", [t, self.const(f"coeff{k}", np.array([coeff[k]]))],
                              self.fresh(f"{out}_term{k}"), shape)
            terms.append(t)
        acc = terms[0]
        for k, t in enumerate(terms[1:], 1):
            acc = self.node("Add", [acc, t], out if k == len(terms) - 1 else self.fresh(f"{out}_sum{k}"), shape)
        self.set_top(acc)

    def _flatten_to_2d(self, x: str) -> str:
        shape = self.shapes[x]
        if len(shape) == 2:
            return x
        return self.node("Flatten", [x], self.fresh(f"{self.layer.name}_flatten"),
                         [shape[0], int(np.prod(shape[1:]))], axis=1)

    def _innerproduct(self):
        self.nbottoms(1)
        p = self.layer.msg.inner_product_param
        if p.axis != 1:
            raise self.err(f"axis={p.axis}: only axis 1 is supported")
        flat = self._flatten_to_2d(self.bottom())
        f, k = self.shapes[flat][1], int(p.num_output)
        if k <= 0:
            raise self.err("num_output must be positive")
        names = ["weights"] + (["bias"] if p.bias_term else [])
        arrs = self.blobs([(f, k) if p.transpose else (k, f), (k,)][:len(names)], names)
        w = arrs[0].T if p.transpose else arrs[0]
        ins = [flat, self.const("W", w)] + ([self.const("B", arrs[1])] if p.bias_term else [])
        self.set_top(self.node("Gemm", ins, self.out_name(), [1, k], transB=1))

    def _softmax(self):
        self.nbottoms(1)
        x = self.bottom()
        axis = int(self.layer.msg.softmax_param.axis)
        if axis not in (1, 1 - len(self.shapes[x])):
            raise self.err(f"axis={axis}: only the channel axis 1 is supported")
        self.set_top(self.node("Softmax", [x], self.out_name(), self.shapes[x], axis=1))

    def _concat(self):
        self.nbottoms(None, at_least=1)
        p = self.layer.msg.concat_param
        xs = [self.bottom(k) for k in range(len(self.layer.bottoms))]
        rank = len(self.shapes[xs[0]])
        axis = int(p.axis) if (p.HasField("axis") or not p.HasField("concat_dim")) else int(p.concat_dim)
        axis = axis + rank if axis < 0 else axis
        if not 1 <= axis < rank:
            raise self.err(f"axis {axis} for rank-{rank} inputs: only non-batch axes are supported")
        shapes = [self.shapes[t] for t in xs]
        if any(len(s) != rank or s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:] for s in shapes):
            raise self.err(f"bottoms of shapes {shapes} cannot be concatenated on axis {axis}")
        out_shape = list(shapes[0])
        out_shape[axis] = sum(s[axis] for s in shapes)
        self.set_top(self.node("Concat", xs, self.out_name(), out_shape, axis=axis))

    def _flatten(self):
        self.nbottoms(1)
        p = self.layer.msg.flatten_param
        x = self.bottom()
        rank = len(self.shapes[x])
        if p.axis != 1 or p.end_axis not in (-1, rank - 1):
            raise self.err(f"axis={p.axis}, end_axis={p.end_axis}: only axis 1 to the last axis is supported")
        shape = self.shapes[x]
        self.set_top(self.node("Flatten", [x], self.out_name(), [shape[0], int(np.prod(shape[1:]))], axis=1))


def convert(net, weights_net=None, where: str = "<prototxt>", weights_where: str = "<caffemodel>") -> Conversion:
    """Convert a NetParameter (deploy definition); weights by layer name from `weights_net` (a
    caffemodel's NetParameter, matched by layer name as Caffe does), None for placeholders."""
    weights = None
    if weights_net is not None:
        weights = {layer.name: list(layer.blobs) for layer in layers_of(weights_net) if len(layer.blobs)}
    return _Converter(net, weights, where, weights_where).run()


def caffe_to_onnx(prototxt: str | Path, caffemodel: str | Path | None = None):
    """The ONNX ModelProto of a Caffe deploy network; without `caffemodel`, placeholder weights
    (zeros, unit variances and scales): right names and shapes, for inspection and shape checks."""
    net = read_prototxt(prototxt)
    weights = read_caffemodel(caffemodel) if caffemodel is not None else None
    return convert(net, weights, str(prototxt), str(caffemodel)).model()


def caffe_to_onnx_file(prototxt: str | Path, caffemodel: str | Path | None, out_path: str | Path) -> None:
    from ..fileio import write_atomic

    write_atomic(out_path, caffe_to_onnx(prototxt, caffemodel).SerializeToString())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nvdla_int8.importers.caffe",
                                 description="Convert a Caffe deploy prototxt (+ caffemodel) to ONNX (opset 13).")
    ap.add_argument("prototxt")
    ap.add_argument("--caffemodel", help="trained weights; without it, placeholder weights (shapes only)")
    ap.add_argument("-o", "--output", required=True, help="output .onnx")
    args = ap.parse_args(argv)
    try:
        caffe_to_onnx_file(args.prototxt, args.caffemodel, args.output)
    except (InputError, OSError) as e:
        print(f"{ap.prog}: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
