"""FP32 reference activations per image (through calib.fp32_runner), and the MinMax scales the
compiler's flow uses (max|x| over the calibration split, as TensorRT's MinMaxCalibration)."""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def fp32_activations(model_path, inputs: np.ndarray, tensors: list[str]) -> dict[str, np.ndarray]:
    """Run the model on each input (batch 1) with the calibration package's FP32 runner and return
    {tensor: array (N, ...)} for the requested tensors."""
    from ..calib.fp32_runner import Fp32Runner

    runner = Fp32Runner(model_path)
    missing = [t for t in tensors if t not in runner.tensor_names]
    if missing:
        raise InputError(f"no float activation named {missing[0]!r} in the model", where=str(model_path))
    in_name = runner.inputs[0].name
    out: dict[str, list] = {t: [] for t in tensors}
    for x in inputs:
        acts = runner.run({in_name: x[None].astype(np.float32)})
        for t in tensors:
            out[t].append(acts[t][0])
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
