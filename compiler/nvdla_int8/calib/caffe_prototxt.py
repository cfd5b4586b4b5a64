"""A Caffe network's inputs and layers (name, type, bottoms, tops) in file order, for the name
mapping, read with the Caffe schema reader (`importers.caffe`). Leniently: fields outside the
schema subset (parameters of layers the compiler cannot convert, such as LRN) are skipped, since
the mapping needs names only. Both `layer { type: "Convolution" }` and the V1
`layers { type: CONVOLUTION }` spellings are accepted; layers are those of the TEST phase.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..importers import caffe


@dataclass(frozen=True)
class CaffeLayer:
    name: str
    type: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]


@dataclass(frozen=True)
class CaffeNet:
    inputs: tuple[str, ...]
    layers: tuple[CaffeLayer, ...]


def _layout(net, where: str) -> CaffeNet:
    layers = []
    for k, layer in enumerate(caffe.layers_of(net)):
        if not layer.name or not layer.type:
            raise InputError(f"layer #{k + 1} has no {'name' if not layer.name else 'type'}", where=where)
        layers.append(CaffeLayer(layer.name, layer.type, layer.bottoms, layer.tops))
    inputs = list(net.input) + [t for layer in layers if layer.type == "Input" for t in layer.tops]
    return CaffeNet(tuple(inputs), tuple(layers))


def parse_prototxt(text: str, path: str = "<prototxt>") -> CaffeNet:
    return _layout(caffe.parse_prototxt(text, path, strict=False), path)


def read_prototxt(path: str | Path) -> CaffeNet:
    return _layout(caffe.read_prototxt(path, strict=False), str(path))
