"""Map TensorRT tensor names to the names a compiler looks up, by graph position.

NVDLA's compiler looks up network input names and **Caffe layer names**; TensorRT caches of Caffe
networks are keyed by **tensor** names. TensorRT's Caffe parser creates one TensorRT layer per
Caffe layer (numbered from 0 in file order) and names the output tensor after the layer's top
blob; when later in-place layers (BatchNorm, Scale, ReLU writing their bottom) take the blob name
over, the earlier tensors stay unnamed and show up as ``(Unnamed Layer* N) [Type]_output``.
Replaying that naming over the prototxt predicts each layer's TensorRT output name, which gives
the map (spec/calibration.md §4; it turns nvdla/sw's resnet50.txt keys into the hand-renamed
resnet50.json keys).

Assumptions the public material leaves open, marked [U] where unverified:
- Input, Dropout and Silence create no TensorRT layer (Dropout is an identity at inference); every
  other layer creates exactly one. Flatten/Reshape count as one (Shuffle) layer [U].
- TensorRT type names: BatchNorm, Scale and Power -> ``Scale``; ReLU, Sigmoid, TanH, ELU ->
  ``Activation``; InnerProduct -> ``FullyConnected``; Eltwise -> ``ElementWise``; Softmax ->
  ``SoftMax``; Concat -> ``Concatenation``; Flatten, Reshape -> ``Shuffle`` [U]; others unchanged.
- A second output of a layer is ``..._output_1`` etc. [U] (none in the caches we have).
- An unnamed cache entry whose index N matches but whose type does not is still mapped (the type
  string changed across TensorRT versions) and reported.

For ONNX models TensorRT keys are already ONNX tensor names; a compiler that looks up layers gets
the producing node's name (or the tensor name when the node has none).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .caffe_prototxt import CaffeNet, read_prototxt

_NO_TRT_LAYER = {"Input", "Dropout", "Silence", "Data"}
# Layers NVDLA's compiler creates no layer for, so it looks up no table entry for them.
_NO_COMPILER_LAYER = {"Input", "Dropout", "Flatten", "Silence", "Data"}
_TRT_TYPE = {
    "BatchNorm": "Scale", "Scale": "Scale", "Power": "Scale",
    "ReLU": "Activation", "Sigmoid": "Activation", "TanH": "Activation", "ELU": "Activation",
    "InnerProduct": "FullyConnected", "Eltwise": "ElementWise", "Softmax": "SoftMax",
    "Concat": "Concatenation", "Flatten": "Shuffle", "Reshape": "Shuffle",
}
_UNNAMED = re.compile(r"\(Unnamed Layer\* (\d+)\) \[([^\]]*)\]_output(_\d+)?")

# ONNX ops that move or reshape data without computing; no int8 rescale is needed for them.
ONNX_PASS_THROUGH = {"Constant", "Shape", "Identity", "Dropout", "Flatten", "Reshape", "Squeeze",
                     "Unsqueeze", "Transpose", "Cast", "ConstantOfShape", "Gather", "Slice"}


@dataclass(frozen=True)
class ModelNames:
    """What a model says about names: TensorRT name -> compiler key, and the keys it needs."""

    trt_to_key: dict[str, str]
    required: tuple[str, ...]          # keys the compiler looks up, network order
    source: str                        # model path, for messages


@dataclass(frozen=True)
class MappingResult:
    mapped: dict[str, object]          # compiler key -> value, cache order
    unmapped: tuple[str, ...]          # cache names with no layer
    missing: tuple[str, ...]           # required keys with no entry
    notes: tuple[str, ...]             # type mismatches and other remarks


def caffe_names(net: CaffeNet, source: str = "<prototxt>") -> ModelNames:
    """Replay TensorRT's Caffe-parser naming over `net`."""
    writers: dict[str, int] = {}       # blob -> index (in net.layers) of its last writer
    for li, layer in enumerate(net.layers):
        for top in layer.tops:
            writers[top] = li
    trt_to_key = {name: name for name in net.inputs}
    required = list(net.inputs)
    n = 0
    for li, layer in enumerate(net.layers):
        if layer.type in _NO_TRT_LAYER:
            continue
        ttype = _TRT_TYPE.get(layer.type, layer.type)
        for k, top in enumerate(layer.tops):
            if writers[top] == li:
                trt_name = top
            else:
                trt_name = f"(Unnamed Layer* {n}) [{ttype}]_output" + (f"_{k}" if k else "")
            trt_to_key[trt_name] = layer.name
        if layer.type not in _NO_COMPILER_LAYER:
            required.append(layer.name)
        n += 1
    return ModelNames(trt_to_key, tuple(dict.fromkeys(required)), source)


def onnx_names(model, source: str = "<onnx>", keys: str = "tensor") -> ModelNames:
    """ONNX: TensorRT names are tensor names; `keys` = 'tensor' keeps them, 'layer' uses node names."""
    inits = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in inits]
    trt_to_key = {name: name for name in inputs}
    required = list(inputs)
    for node in model.graph.node:
        for out in node.output:
            if not out:
                continue
            key = (node.name or out) if keys == "layer" else out
            if keys == "layer" and len([o for o in node.output if o]) > 1:
                key = out  # one layer name cannot hold two tables entries
            trt_to_key[out] = key
            if node.op_type not in ONNX_PASS_THROUGH and out == node.output[0]:
                required.append(key)
    return ModelNames(trt_to_key, tuple(dict.fromkeys(required)), source)


def load_model_names(path: str | Path, keys: str = "layer") -> ModelNames:
    """Names from a Caffe .prototxt or an ONNX model file."""
    p = Path(path)
    if p.suffix in (".prototxt", ".pbtxt", ".txt"):
        return caffe_names(read_prototxt(p), str(p))
    if p.suffix == ".onnx":
        import onnx

        try:
            model = onnx.load(str(p), load_external_data=False)
        except Exception as e:  # onnx raises DecodeError and others for a corrupt file
            raise InputError(f"cannot read ONNX model: {e}", where=str(p)) from None
        return onnx_names(model, str(p), keys)
    raise InputError("model must be a Caffe .prototxt or an .onnx file", where=str(p))


def map_names(values: dict[str, object], names: ModelNames) -> MappingResult:
    """Rename `values` (TensorRT name -> value) to compiler keys, keeping the cache's order."""
    by_index: dict[int, tuple[str, str]] = {}
    for trt_name, key in names.trt_to_key.items():
        m = _UNNAMED.fullmatch(trt_name)
        if m and not m.group(3):
            by_index[int(m.group(1))] = (m.group(2), key)
    mapped: dict[str, object] = {}
    unmapped, notes = [], []
    for name, value in values.items():
        key = names.trt_to_key.get(name)
        if key is None:
            m = _UNNAMED.fullmatch(name)
            hit = by_index.get(int(m.group(1))) if m and not m.group(3) else None
            if hit is not None:
                key = hit[1]
                notes.append(f"{name!r} mapped to {key!r} by layer index although the model "
                             f"predicts type [{hit[0]}]")
        if key is None:
            unmapped.append(name)
            continue
        if key in mapped:
            notes.append(f"{name!r} maps to {key!r} again; the first value is kept")
            continue
        mapped[key] = value
    missing = tuple(k for k in names.required if k not in mapped)
    return MappingResult(mapped, tuple(unmapped), missing, tuple(notes))


def missing_message(missing: tuple[str, ...], source: str) -> str:
    """One line naming the layers without a scale and what the compilers do about it."""
    shown = ", ".join(missing[:8]) + (f", ... ({len(missing)} in all)" if len(missing) > 8 else "")
    return (f"{len(missing)} layer(s) of {source} have no scale: {shown}. NVDLA's compiler aborts on "
            "the first missing name (rapidjson assertion); nvdla-int8's compiler refuses to build INT8 "
            "without them. Calibrate those tensors, or pass --allow-missing to write the table anyway.")
