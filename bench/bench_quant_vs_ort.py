"""Our INT8 (golden model, both quantization modes) vs onnxruntime quantize_static (per-channel
weights, QDQ, symmetric int8, after onnxruntime's own quant_pre_process, which folds the
BatchNormalization into the Conv as our compiler does; without it onnxruntime also quantizes the
BN input and loses 0.2 pp more) on the default digits model: same calibration images, same held-out
test split, per calibration method (max = ORT MinMax, percentile 99.99, entropy; ORT has no MSE
calibrator, so mse is ours only). Prints the accuracies side by side with ours minus ORT.
The `make sim` default method is the one with the best held-out accuracy here.

    .venv/bin/python bench/bench_quant_vs_ort.py [--limit N] [--methods max,entropy]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import logging
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from nvdla_int8.commands.compile import compile_model
from nvdla_int8.calib.digits import load_split
from nvdla_int8.commands.sim import DEFAULT_MODEL, calibrate, preprocess_for
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.run.compiled import evaluate


class _Reader(CalibrationDataReader):
    def __init__(self, x, name):
        self.it = iter([{name: xi[None].astype(np.float32)} for xi in x])

    def get_next(self):
        return next(self.it, None)


def ort_accuracy(model: Path, x, labels) -> float:
    s = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    pred = [int(np.argmax(s.run(None, {name: xi[None].astype(np.float32)})[0])) for xi in x]
    return float(np.mean(np.array(pred) == labels))


ORT_METHODS = {"max": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
PERCENTILE = 99.99  # calib's default percentile, given to ORT too


def ort_int8(model: Path, out: Path, x, input_name: str, method: str) -> Path:
    quantize_static(str(model), str(out), _Reader(x, input_name), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=ORT_METHODS[method],
                    extra_options={"ActivationSymmetric": True, "WeightSymmetric": True,
                                   "CalibPercentile": PERCENTILE})
    return out


def main() -> None:
    logging.getLogger().setLevel(logging.ERROR)  # quantize_static's pre-processing advice, per call
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--methods", default="max,percentile,entropy,mse")
    a = ap.parse_args()
    g = load_graph(DEFAULT_MODEL)
    prep = preprocess_for(g)
    cal, _ = load_split("calib")
    test, labels = load_split("test")
    if a.limit:
        test, labels = test[:a.limit], labels[:a.limit]
    fp32 = ort_accuracy(DEFAULT_MODEL, prep(test), labels)
    print(f"held-out digits test split, {len(labels)} images, {len(cal)} calibration images; "
          f"FP32 (onnxruntime) {100 * fp32:.2f}%")
    print(f"  {'method':11} {'onnxruntime per-channel':>24} {'ours per-kernel':>16} {'ours per-filter':>16}"
          f"  ours - ORT (pp)")
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        pre = d / "pre.onnx"
        quant_pre_process(str(DEFAULT_MODEL), str(pre), skip_symbolic_shape=True)  # static shapes: no sympy
        for method in a.methods.split(","):
            ref = None
            if method in ORT_METHODS:
                with contextlib.redirect_stdout(io.StringIO()):  # its histogram progress prints
                    qm = ort_int8(pre, d / f"ort_{method}.onnx", prep(cal), g.input, method)
                ref = ort_accuracy(qm, prep(test), labels)
            calibrate(DEFAULT_MODEL, d / f"calib_{method}.json", method)
            ours = {}
            for mode in ("per-kernel", "per-filter"):
                compile_model(str(DEFAULT_MODEL), str(d / f"calib_{method}.json"), str(d / method / mode), mode, 1,
                              None)
                ours[mode] = evaluate(d / method / mode, test, labels, None, "golden")["int8_accuracy"]
            delta = ("  ".join(f"{100 * (v - ref):+.2f}" for v in ours.values()) if ref is not None else "-")
            print(f"  {method:11} {(f'{100 * ref:.2f}%' if ref is not None else '-'):>24} "
                  f"{100 * ours['per-kernel']:15.2f}% {100 * ours['per-filter']:15.2f}%  {delta}", flush=True)


if __name__ == "__main__":
    main()
