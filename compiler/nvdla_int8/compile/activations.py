"""FP32 reference activations from onnxruntime (every named tensor, per image), and the MinMax
scales the compiler's own flow uses until the calibration package's calibrators land."""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def fp32_activations(model_path, inputs: np.ndarray, tensors: list[str]) -> dict[str, np.ndarray]:
    """Run the model on each input (batch 1) and return {tensor: array (N, ...)}."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(model_path))
    have = {o.name for o in model.graph.output}
    for t in tensors:
        if t not in have:
            model.graph.output.append(onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every tensor
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    out: dict[str, list] = {t: [] for t in tensors}
    for x in inputs:
        res = sess.run(tensors, {in_name: x[None].astype(np.float32)})
        for t, r in zip(tensors, res):
            out[t].append(r[0])
    return {t: np.stack(v) for t, v in out.items()}


def minmax_scales(acts: dict[str, np.ndarray]) -> dict[str, float]:
    """scale = max|x| / 127 per tensor (TensorRT MinMaxCalibration)."""
    scales = {}
    for t, a in acts.items():
        m = float(np.max(np.abs(a)))
        if m == 0:
            raise InputError(f"tensor {t!r} is all zero on the calibration data; no scale can be derived")
        scales[t] = m / 127.0
    return scales
