"""The compiler's graph IR: a list of hardware convolution layers and host ops in execution order.

Tensors are named as in the ONNX model and shaped (C, H, W) for one image; a 2-D (1, F) tensor
is the cube (F, 1, 1), so a fully connected layer is a 1x1 convolution over F channels.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HOST_OPS = ("MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Softmax")
# Host ops whose int8 output has exactly the input's values: they keep its scale.
SCALE_PRESERVING = ("MaxPool", "Flatten", "Reshape")


@dataclass
class Activation:
    """What SDP X1 applies after the bias: ReLU, or PReLU with a per-channel slope (K,).
    `clip_max` records an ONNX Clip(0, max); it is a ReLU only when the output scale never
    reaches max (checked at quantization)."""

    kind: str  # "relu" or "prelu"
    slope: np.ndarray | None = None
    clip_max: float | None = None
    source: str = ""  # the ONNX node it came from


@dataclass
class ConvLayer:
    """One hardware layer: direct convolution + bias + optional activation, float weights."""

    name: str  # the ONNX Conv/Gemm/MatMul node
    op: str  # ONNX op of that node
    input: str
    output: str  # tensor after every fused node: its scale is the layer's output scale
    weight: np.ndarray  # float64 (K, C, R, S)
    bias: np.ndarray  # float64 (K,)
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    stride: tuple[int, int] = (1, 1)  # (y, x)
    dilation: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, left, bottom, right
    act: Activation | None = None
    fused: list[str] = field(default_factory=list)  # ONNX nodes folded into this layer

    @property
    def kind(self) -> str:
        return "conv"


@dataclass
class HostOp:
    """An op executed in numpy between hardware layers."""

    name: str
    op: str  # one of HOST_OPS
    input: str
    output: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    attrs: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "host"


@dataclass
class Graph:
    name: str
    input: str
    input_shape: tuple[int, int, int]
    output: str
    ops: list  # ConvLayer | HostOp, in execution order
    image_mean: float | None = None  # pixel preprocessing x = (pixel - mean) * scale, if declared
    image_scale: float | None = None

    def conv_layers(self) -> list[ConvLayer]:
        return [o for o in self.ops if isinstance(o, ConvLayer)]

    def producer(self, tensor: str):
        return next((o for o in self.ops if o.output == tensor), None)
