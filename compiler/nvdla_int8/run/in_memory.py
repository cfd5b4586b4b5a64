"""A quantized network (quantize.network.QNetwork) on the golden model without writing a folder:
each hardware op lowered and checked as `compile` lowers it, its passes played on one memory image,
host ops in numpy. For judging many scale tables (calib.network_choice), where a compile to disk
per table would cost more than the run itself. Every Concat stacks its inputs on the host here,
where `compile` may let the producers write in place: the values are the same, since an in-place
Concat only happens when every input already has the Concat's scale.
"""
from __future__ import annotations

import numpy as np

from ..graph.ir import ConvLayer, EltwiseAdd
from ..lower.program_run import LayerImage, layer_image, run_layer
from ..lower.vectors import lower_op
from ..quantize.network import QNetwork, input_to_int8
from ..trace.memory import SparseMemory
from .hostops import run_host_op


class InMemoryNetwork:
    def __init__(self, qnet: QNetwork):
        self.qnet = qnet
        self.ops = qnet.graph.ops
        self.images: dict[str, LayerImage] = {}   # lowered on first use: a run from op k never needs ops < k
        self.memory = SparseMemory()

    def _image(self, op) -> LayerImage:
        if op.name not in self.images:
            self.images[op.name] = layer_image(lower_op(self.qnet, op))
        return self.images[op.name]

    def forget(self, name: str) -> None:
        """Drop op `name`'s lowered passes, after its QLayer was replaced (quantize.set_bias_delta)."""
        self.images.pop(name, None)

    def run(self, x: np.ndarray, start: int = 0, known: dict[str, np.ndarray] | None = None,
            stop: int | None = None) -> dict[str, np.ndarray]:
        """Every tensor of one input x (uint8 pixels in image mode, else the float input): int8
        cubes, and float for a Softmax output. With start > 0, ops before `start` are not run:
        `known` must hold the tensors they made, from a run whose scales agree up to there. With
        `stop`, ops from `stop` on are not run either."""
        g = self.qnet.graph
        vals = dict(known) if start else {g.input: input_to_int8(self.qnet.input.mode, self.qnet.input.scale,
                                                                 g.input_shape, x)}
        for op in self.ops[start:stop]:
            xs = [vals[t] for t in op.inputs]
            if isinstance(op, (ConvLayer, EltwiseAdd)):
                vals[op.output] = run_layer(self._image(op), self.memory, *xs)[0]
            else:
                vals[op.output] = run_host_op(op, xs, [self.qnet.scales.get(t) for t in op.inputs],
                                              self.qnet.scales.get(op.output))
        return vals

    def dequantize(self, tensor: str, v: np.ndarray) -> np.ndarray:
        s = self.qnet.scales.get(tensor)
        return v.astype(np.float64) if s is None or v.dtype != np.int8 else v.astype(np.float64) * s
