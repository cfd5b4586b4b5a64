"""The compiler's graph IR: a DAG of tensors and ops, one input, one or more outputs, ops kept in
a topological order that is also the execution order.

Tensors are named as in the source model and shaped (C, H, W) for one image; a 2-D (1, F) tensor
is the cube (F, 1, 1), so a fully connected layer is a 1x1 convolution over F channels.
Every op names the tensors it reads (`inputs`) and the one it writes (`output`).
Hardware ops: `ConvLayer` (conv + SDP, optionally adding a second tensor element-wise) and
`EltwiseAdd` (a stand-alone SDP pass adding two tensors). Everything else is a `HostOp`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HOST_OPS = ("MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Softmax", "Concat")
# Host ops whose int8 output has exactly the input's values: they keep its scale.
SCALE_PRESERVING = ("MaxPool", "Flatten", "Reshape")


@dataclass
class Activation:
    """What SDP applies last: ReLU, or PReLU with a per-channel slope (K,).
    `clip_max` records an ONNX Clip(0, max); it is a ReLU only when the output scale never
    reaches max (checked at quantization)."""

    kind: str  # "relu" or "prelu"
    slope: np.ndarray | None = None
    clip_max: float | None = None
    source: str = ""  # the node it came from


@dataclass
class ConvLayer:
    """One hardware layer: direct convolution + bias [+ residual tensor] [+ activation].

    With `residual`, the output is act(conv(x) + bias + residual): the second tensor, same shape
    as the output, is added element-wise by the SDP before the activation (a ResNet shortcut)."""

    name: str  # the Conv/Gemm/MatMul node
    op: str  # op of that node
    input: str
    output: str  # tensor after every fused node: its scale is the layer's output scale
    weight: np.ndarray  # float64 (K, C / group, R, S)
    bias: np.ndarray  # float64 (K,)
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    stride: tuple[int, int] = (1, 1)  # (y, x)
    dilation: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, left, bottom, right
    act: Activation | None = None
    fused: list[str] = field(default_factory=list)  # source nodes folded into this layer
    group: int = 1
    residual: str | None = None

    kind = "conv"

    @property
    def inputs(self) -> list[str]:
        return [self.input] + ([self.residual] if self.residual else [])


@dataclass
class EltwiseAdd:
    """act(a + b) on two int8 tensors of one shape: a stand-alone SDP pass (nv_small has no
    element-wise unit: X1 rescales a, X2 adds b read as a per-element operand)."""

    name: str
    inputs: list[str]  # [a, b]
    output: str
    shape: tuple[int, int, int]
    act: Activation | None = None
    fused: list[str] = field(default_factory=list)

    kind = "add"
    op = "Add"

    @property
    def input(self) -> str:
        return self.inputs[0]


@dataclass
class HostOp:
    """An op executed in numpy between hardware layers."""

    name: str
    op: str  # one of HOST_OPS
    inputs: list[str]
    output: str
    in_shapes: list[tuple[int, ...]]
    out_shape: tuple[int, ...]
    attrs: dict = field(default_factory=dict)

    kind = "host"

    @property
    def input(self) -> str:
        return self.inputs[0]

    @property
    def in_shape(self) -> tuple[int, ...]:
        return self.in_shapes[0]


@dataclass
class Graph:
    name: str
    input: str
    input_shape: tuple[int, int, int]
    outputs: list[str]
    ops: list  # ConvLayer | EltwiseAdd | HostOp, in execution order
    image_mean: float | None = None  # pixel preprocessing x = (pixel - mean) * scale, if declared
    image_scale: float | None = None

    def conv_layers(self) -> list[ConvLayer]:
        return [o for o in self.ops if isinstance(o, ConvLayer)]

    def producer(self, tensor: str):
        return next((o for o in self.ops if o.output == tensor), None)

    def readers(self, tensor: str) -> list:
        return [o for o in self.ops if tensor in o.inputs]

    def calibrated_tensors(self) -> list[str]:
        """The tensors whose scale quantization reads from a calibration table: the input and
        every op output that gets a scale of its own (never a constant, an alias, or the output
        of an op that keeps its input's values)."""
        return [self.input] + [o.output for o in self.ops
                               if o.kind != "host" or o.op not in (*SCALE_PRESERVING, "Softmax")]
