"""FP32 reference execution with onnxruntime, yielding every intermediate activation per batch.

The model is copied with every float tensor we calibrate added as a graph output, so one
onnxruntime run per batch returns them all; batches are consumed one at a time (streaming), so
the dataset never has to fit in memory.

Which tensors: the graph inputs (not initializers) and every node output whose inferred element
type is float, float16 or bfloat16, except constants: outputs of Constant nodes and of nodes that
read only constants (an exporter's Identity of a conv bias is a weight, not an activation).
Outputs onnx shape inference cannot type are skipped and listed in `skipped`.

`aliases` names the calibrated tensors that hold exactly the values of another one (outputs of
Identity, Reshape, Flatten, Squeeze, Unsqueeze, Transpose of a calibrated tensor): same multiset of
values, so same histogram and thresholds; collect.py histograms them once.

onnxruntime's intra-op threads do not spin-wait between runs (`allow_spinning` 0): the caller does
its numpy work (histograms) between two runs, and on a busy 2-core machine a spinning pool took the
core that work needed (bench_calibration, 50 batches: forward + histograms 3.5 s -> 1.0 s). The
thread count stays onnxruntime's default.

Graph optimizations stay on (ORT_ENABLE_ALL): every calibrated tensor is a graph output, which
onnxruntime never fuses away, so each one is still computed; optimized kernels (e.g. the NCHWc
convolution layout) may differ from the plain graph in the last float bits, far below one of the
2048 histogram bins, and plain MLAS kernels differ across CPUs anyway. On the benchmark models
it is as fast as ORT_DISABLE_ALL within the noise of a shared machine.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from ..errors import InputError

# Ops whose first output is a rearrangement of their first input: the same values, the same count.
_SAME_VALUES = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose"}
_FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16, onnx.TensorProto.DOUBLE}


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple                         # ints, or None/str for free dimensions
    dtype: np.dtype


def load_model(path: str | Path) -> onnx.ModelProto:
    try:
        return onnx.load(str(path))
    except FileNotFoundError:
        raise
    except Exception as e:  # onnx raises DecodeError and friends for corrupt files
        raise InputError(f"cannot read ONNX model: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
                         where=str(path)) from None


class Fp32Runner:
    """Runs an ONNX model in float on onnxruntime's CPU provider and returns all activations."""

    def __init__(self, model: onnx.ModelProto | str | Path, source: str | None = None):
        if not isinstance(model, onnx.ModelProto):
            source = source or str(model)
            model = load_model(model)
        self.source = source or "<model>"
        self.model = model
        try:
            inferred = onnx.shape_inference.infer_shapes(model)
        except Exception as e:
            raise InputError(f"ONNX shape inference failed: {str(e).splitlines()[0]}", where=self.source) from None
        types = {vi.name: vi.type.tensor_type.elem_type
                 for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
                 if vi.type.HasField("tensor_type")}
        inits = {i.name for i in model.graph.initializer}
        self.inputs = tuple(
            InputSpec(vi.name,
                      tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                            for d in vi.type.tensor_type.shape.dim),
                      np.dtype(onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)))
            for vi in model.graph.input if vi.name not in inits)
        names, skipped = [i.name for i in self.inputs if types.get(i.name) in _FLOAT_TYPES], []
        consts = set(inits)
        for node in model.graph.node:
            if node.op_type == "Constant" or all(i in consts for i in node.input if i):
                consts.update(node.output)
                continue
            for out in node.output:
                if not out:
                    continue
                if out not in types:
                    skipped.append(out)
                elif types[out] in _FLOAT_TYPES and out not in names:
                    names.append(out)
        self.tensor_names = tuple(names)
        aliases: dict[str, str] = {}
        for node in model.graph.node:
            if node.op_type in _SAME_VALUES and node.input and node.output and node.output[0] in names \
                    and node.input[0] in names:
                aliases[node.output[0]] = aliases.get(node.input[0], node.input[0])
        self.aliases = aliases
        self.skipped = tuple(skipped)
        augmented = onnx.ModelProto()
        augmented.CopyFrom(inferred)
        existing = {o.name for o in augmented.graph.output}
        by_name = {vi.name: vi for vi in augmented.graph.value_info}
        for name in names:
            if name not in existing and name in by_name:
                augmented.graph.output.append(by_name[name])
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(augmented.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        except Exception as e:
            raise InputError(f"onnxruntime cannot load the model: {str(e).splitlines()[0]}", where=self.source) from None
        self._out_names = [o.name for o in self.session.get_outputs()]

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One forward pass; returns {tensor name: activation} for every calibrated tensor."""
        try:
            outs = self.session.run(self._out_names, feeds)
        except Exception as e:
            shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in feeds.items())
            raise InputError(f"onnxruntime failed on a batch ({shapes}): {str(e).splitlines()[0]}",
                             where=self.source) from None
        got = dict(zip(self._out_names, outs))
        got.update({k: v for k, v in feeds.items()})
        return {n: got[n] for n in self.tensor_names if n in got}

    def iterate(self, batches: Iterable[dict[str, np.ndarray]], total: int | None = None,
                progress: bool = True) -> Iterator[dict[str, np.ndarray]]:
        """Yield the activations of each batch in turn, with a tqdm progress bar on stderr."""
        from tqdm import tqdm

        with tqdm(total=total, desc="fp32 forward", unit="batch", disable=not progress,
                  file=sys.stderr, leave=False) as bar:
            for feeds in batches:
                yield self.run(feeds)
                bar.update(1)
