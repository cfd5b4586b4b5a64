"""FP32 reference activations per image (through calib.fp32_runner), and the activation scales
the compiler's flow derives from them with the calibration package's calibrators."""
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
    out: dict[str, list] = {t: [] for t in tensors}  # a tensor named twice is collected once
    for x in inputs:
        acts = runner.run({in_name: x[None].astype(np.float32)})
        for t in out:
            out[t].append(acts[t][0])
    return {t: np.stack(v) for t, v in out.items()}


def calibrated_scales(acts: dict[str, np.ndarray], method: str = "max", percentile: float = 99.99) -> dict[str, float]:
    """scale = T / 127 per tensor, T chosen by the calibration package's calibrator `method`
    (max | percentile | entropy | mse) over all images of `acts` (one histogram per tensor)."""
    from ..calib.calibrators import make_calibrator
    from ..calib.collect import collect_histograms, compute_thresholds

    try:
        calibrator = make_calibrator(method, percentile)
    except ValueError as e:
        raise InputError(f"calibration method: {e}; use max, percentile, entropy or mse") from None
    return {t: th / 127.0 for t, th in compute_thresholds(collect_histograms([acts]), calibrator).items()}
