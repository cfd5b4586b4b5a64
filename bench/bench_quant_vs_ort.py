"""Our INT8 (golden model, both quantization modes) vs onnxruntime quantize_static (per-channel
weights, QDQ, MinMax) on the default digits model: same calibration images, same method, same
held-out test split. Prints both accuracies side by side.

    .venv/bin/python bench/bench_quant_vs_ort.py [--limit N]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

from nvdla_int8.compile.commands import compile_model
from nvdla_int8.compile.digits import load_split
from nvdla_int8.compile.flow import DEFAULT_MODEL, calibrate, preprocess_for
from nvdla_int8.compile.fold import load_graph
from nvdla_int8.compile.run import evaluate


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    g = load_graph(DEFAULT_MODEL)
    prep = preprocess_for(g)
    cal, _ = load_split("calib")
    test, labels = load_split("test")
    if a.limit:
        test, labels = test[:a.limit], labels[:a.limit]
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        qmodel = d / "ort_int8.onnx"
        quantize_static(str(DEFAULT_MODEL), str(qmodel), _Reader(prep(cal), g.input), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})
        rows = [("FP32 (onnxruntime)", ort_accuracy(DEFAULT_MODEL, prep(test), labels)),
                ("onnxruntime quantize_static per-channel, MinMax", ort_accuracy(qmodel, prep(test), labels))]
        calibrate(DEFAULT_MODEL, d / "calib.json")
        for mode in ("per-kernel", "per-filter"):
            compile_model(str(DEFAULT_MODEL), str(d / "calib.json"), str(d / mode), mode, 1, None)
            rows.append((f"ours, nv_small golden, {mode}, MinMax",
                         evaluate(d / mode, test, labels, None, "golden")["int8_accuracy"]))
    print(f"held-out digits test split, {len(labels)} images, 500 calibration images")
    for name, acc in rows:
        print(f"  {name:52} {100 * acc:6.2f}%")


if __name__ == "__main__":
    main()
