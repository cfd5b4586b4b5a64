"""Just enough of Caffe's protobuf text format to list a network's inputs and layers.

The name mapping needs each layer's name, type, bottoms and tops in file order, nothing else, so
this reads the text format generically (nested ``key: value`` and ``key { ... }``) without
caffe's schema. Both the current ``layer { type: "Convolution" }`` and the V1
``layers { type: CONVOLUTION }`` spellings are accepted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

_TOKEN = re.compile(r"""\s+|\#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{}\[\]:,;<>]|[^\s{}\[\]:,;<>"'#]+""")

# V1 layer enums (caffe.proto V1LayerParameter) to the V2 type strings.
_V1_TYPES = {
    "CONVOLUTION": "Convolution", "DECONVOLUTION": "Deconvolution", "POOLING": "Pooling",
    "RELU": "ReLU", "SIGMOID": "Sigmoid", "TANH": "TanH", "INNER_PRODUCT": "InnerProduct",
    "SOFTMAX": "Softmax", "LRN": "LRN", "CONCAT": "Concat", "ELTWISE": "Eltwise",
    "DROPOUT": "Dropout", "FLATTEN": "Flatten", "SPLIT": "Split", "POWER": "Power",
    "DATA": "Data", "SILENCE": "Silence", "SOFTMAX_LOSS": "SoftmaxWithLoss",
}


@dataclass(frozen=True)
class CaffeLayer:
    name: str
    type: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class CaffeNet:
    inputs: tuple[str, ...]
    layers: tuple[CaffeLayer, ...]


def _tokens(text: str, path: str):
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise InputError(f"cannot read {text[pos:pos + 20]!r}", where=f"{path}:{line}")
        tok = m.group(0)
        if not (tok[0].isspace() or tok[0] == "#"):
            yield tok, line
        line += tok.count("\n")
        pos = m.end()


def _parse_message(toks: list, i: int, path: str, closing: str | None):
    """Parse fields until `closing`; returns (list of (key, value, line), next index)."""
    fields = []
    while i < len(toks):
        tok, line = toks[i]
        if tok == closing:
            return fields, i + 1
        if tok in "{}[]:,;<>":
            raise InputError(f"unexpected {tok!r}", where=f"{path}:{line}")
        key, i = tok, i + 1
        if i < len(toks) and toks[i][0] == ":":
            i += 1
        if i >= len(toks):
            raise InputError(f"{key!r} has no value", where=f"{path}:{line}")
        if toks[i][0] in ("{", "<"):
            sub, i = _parse_message(toks, i + 1, path, "}" if toks[i][0] == "{" else ">")
            fields.append((key, sub, line))
        elif toks[i][0] == "[":
            i += 1
            while i < len(toks) and toks[i][0] != "]":
                if toks[i][0] != ",":
                    fields.append((key, _scalar(toks[i][0]), line))
                i += 1
            i += 1
        else:
            fields.append((key, _scalar(toks[i][0]), line))
            i += 1
        if i < len(toks) and toks[i][0] in ",;":
            i += 1
    if closing is not None:
        raise InputError(f"missing {closing!r} at end of file", where=f"{path}:{toks[-1][1] if toks else 1}")
    return fields, i


def _scalar(tok: str):
    if tok[0] in "\"'":
        return bytes(tok[1:-1], "utf-8").decode("unicode_escape")
    return tok


def parse_prototxt(text: str, path: str = "<prototxt>") -> CaffeNet:
    """Inputs (top-level ``input:`` fields and ``Input`` layers) and layers in file order."""
    fields, _ = _parse_message(list(_tokens(text, path)), 0, path, None)
    inputs = [v for k, v, _ in fields if k == "input"]
    layers = []
    for key, value, line in fields:
        if key not in ("layer", "layers"):
            continue
        if not isinstance(value, list):
            raise InputError(f"{key} must be a block {{ ... }}", where=f"{path}:{line}")
        get = lambda k: [v for kk, v, _ in value if kk == k]  # noqa: E731
        names, types = get("name"), get("type")
        if not names or not types:
            raise InputError(f"{key} without {'name' if not names else 'type'}", where=f"{path}:{line}")
        ltype = _V1_TYPES.get(types[0], types[0]) if key == "layers" else types[0]
        layer = CaffeLayer(names[0], ltype, tuple(get("bottom")), tuple(get("top")), line)
        if ltype == "Input":
            inputs.extend(layer.tops)
        layers.append(layer)
    if not layers:
        raise InputError("no layers found: not a Caffe network definition?", where=f"{path}:1")
    return CaffeNet(tuple(inputs), tuple(layers))


def read_prototxt(path: str | Path) -> CaffeNet:
    return parse_prototxt(Path(path).read_text(encoding="utf-8"), str(path))
