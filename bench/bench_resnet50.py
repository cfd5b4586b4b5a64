#!/usr/bin/env python3
"""A whole ImageNet-size network, compiled and run on the golden model, beside onnxruntime FP32 and
onnxruntime int8 (QDQ, quantize_static) on the same machine in the same run.

Reports: compile time (import, fold, quantize, lower, legality check, golden run of the vector
input, traces written), vectors on disk (bytes, traces, passes), golden model time per image
(programs loaded once; then per image every layer's passes on one reused memory image) and its
MAC/s over the whole network (useful MACs: out elements x C/group x R x S), the peak RSS of the
compile and of the golden run (each in a process of its own), and the replay of every trace on the
golden model against its CRC.

    python bench/bench_resnet50.py [--model resnet50.onnx | --caffe DEPLOY.prototxt MODEL.caffemodel]
                                   [--images 2] [--calib 4] [--out build/bench/r50]

Without --model it builds a ResNet-style test network with onnx.helper (the 7x7/2 stem on
224x224x3, MaxPool, three bottleneck blocks at 56x56x256, one strided block to 28x28x512,
GlobalAveragePool, FC 512 -> 1000; seeded He weights, BatchNormalization): the shapes that make
ResNet-50 hard, at a quarter of its MACs. Scales come from the FP32 activations of --calib random
inputs (max calibration): the timing does not depend on them.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from nvdla_int8.conformance import find_traces
from nvdla_int8.golden.replay import replay_trace
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.lower.vectors import build_vectors
from nvdla_int8.quantize.network import quantize
from nvdla_int8.run.compiled import CompiledNetwork
from nvdla_int8.run.reference import calibrated_scales, fp32_activations
from nvdla_int8.trace import Trace


def _conv_bn(nodes, inits, rng, x, y, cin, cout, k, stride=1, relu=True, group=1):
    name = y
    inits[f"{name}.w"] = rng.normal(0, np.sqrt(2.0 / (cin // group * k * k)), (cout, cin // group, k, k))
    inits[f"{name}.g"] = rng.uniform(0.5, 1.0, cout)
    inits[f"{name}.b"] = rng.normal(0, 0.1, cout)
    inits[f"{name}.m"] = rng.normal(0, 0.1, cout)
    inits[f"{name}.v"] = rng.uniform(0.5, 1.5, cout)
    nodes.append(helper.make_node("Conv", [x, f"{name}.w"], [f"{name}.c"], name=f"{name}/Conv", kernel_shape=[k, k],
                                  strides=[stride, stride], pads=[k // 2] * 4, group=group))
    nodes.append(helper.make_node("BatchNormalization", [f"{name}.c", f"{name}.g", f"{name}.b", f"{name}.m",
                                                         f"{name}.v"], [f"{name}.bn" if relu else y],
                                  name=f"{name}/BN"))
    if relu:
        nodes.append(helper.make_node("Relu", [f"{name}.bn"], [y], name=f"{name}/Relu"))


def _bottleneck(nodes, inits, rng, x, name, cin, mid, cout, stride):
    _conv_bn(nodes, inits, rng, x, f"{name}.a", cin, mid, 1)
    _conv_bn(nodes, inits, rng, f"{name}.a", f"{name}.b", mid, mid, 3, stride)
    _conv_bn(nodes, inits, rng, f"{name}.b", f"{name}.c", mid, cout, 1, relu=False)
    short = x
    if stride != 1 or cin != cout:
        _conv_bn(nodes, inits, rng, x, f"{name}.down", cin, cout, 1, stride, relu=False)
        short = f"{name}.down"
    nodes.append(helper.make_node("Add", [f"{name}.c", short], [f"{name}.sum"], name=f"{name}/Add"))
    nodes.append(helper.make_node("Relu", [f"{name}.sum"], [name], name=f"{name}/Relu"))
    return name


def quick_resnet(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    nodes, inits = [], {}
    _conv_bn(nodes, inits, rng, "input", "stem", 3, 64, 7, 2)
    nodes.append(helper.make_node("MaxPool", ["stem"], ["pool"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
                                  pads=[1, 1, 1, 1]))
    x = _bottleneck(nodes, inits, rng, "pool", "l1.0", 64, 64, 256, 1)
    x = _bottleneck(nodes, inits, rng, x, "l1.1", 256, 64, 256, 1)
    x = _bottleneck(nodes, inits, rng, x, "l1.2", 256, 64, 256, 1)
    x = _bottleneck(nodes, inits, rng, x, "l2.0", 256, 128, 512, 2)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flat"))
    inits["fc.w"] = rng.uniform(-1 / np.sqrt(512), 1 / np.sqrt(512), (1000, 512))
    inits["fc.b"] = rng.uniform(-1 / np.sqrt(512), 1 / np.sqrt(512), 1000)
    nodes.append(helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["output"], name="fc", transB=1))
    g = helper.make_graph(nodes, "quick_resnet",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1000])],
                          [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(m, str(path))
    return path


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (Linux; ru_maxrss would carry the parent's peak
    across fork and exec), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ort_times(model: Path, xs: np.ndarray, calib: np.ndarray, work: Path, threads: int) -> tuple[float, float]:
    """Seconds per image of onnxruntime FP32 and int8 QDQ (per-channel, symmetric, MinMax, after
    onnxruntime's quant_pre_process, which folds BatchNormalization as we do)."""
    import logging

    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    logging.getLogger().setLevel(logging.ERROR)  # quantize_static's advice to pre-process, which we do

    def session(p):
        o = ort.SessionOptions()
        o.intra_op_num_threads = threads
        o.log_severity_level = 3
        return ort.InferenceSession(str(p), o, providers=["CPUExecutionProvider"])

    name = onnx.load(str(model), load_external_data=False).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{name: c[None].astype(np.float32)} for c in calib])

        def get_next(self):
            return next(self.it, None)

    pre, qmodel = work / "ort_pre.onnx", work / "ort_int8_qdq.onnx"
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)  # static shapes: no sympy
    quantize_static(str(pre), str(qmodel), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    out = []
    for p in (model, qmodel):
        s = session(p)
        s.run(None, {name: xs[0][None].astype(np.float32)})  # warm up
        t0 = time.perf_counter()
        for x in xs:
            s.run(None, {name: x[None].astype(np.float32)})
        out.append((time.perf_counter() - t0) / len(xs))
    return out[0], out[1]


def compile_phase(model: Path, vec: Path, scales: dict, x0: np.ndarray, mode: str) -> dict:
    shutil.rmtree(vec, ignore_errors=True)
    t0 = time.perf_counter()
    qnet = quantize(load_graph(model), scales, mode)
    man = build_vectors(qnet, model, vec, x0, 1, "bench")
    hw = [s for s in man["steps"] if s["kind"] == "hw"]
    return {"seconds": time.perf_counter() - t0, "layers": len(hw), "passes": sum(len(s["passes"]) for s in hw),
            "macs": sum(s.get("macs", 0) for s in hw), "macs_computed": sum(s.get("macs_computed", 0) for s in hw)}


def golden_phase(vec: Path, xs: np.ndarray) -> dict:
    t0 = time.perf_counter()
    net = CompiledNetwork(vec)
    t_load = time.perf_counter() - t0
    net.run(xs[0])  # warm up
    times = []
    for x in xs:
        t0 = time.perf_counter()
        net.run(x)
        times.append(time.perf_counter() - t0)
    return {"load": t_load, "per_image": float(np.median(times))}


def in_child(phase: str, out: Path, **args) -> dict:
    """Run a phase in a fresh process, so that its peak RSS is its own (not onnxruntime's)."""
    job = out / f"{phase}.pkl"
    job.write_bytes(pickle.dumps(args))
    subprocess.run([sys.executable, __file__, "--phase", phase, "--out", str(out)], check=True)
    return pickle.loads((out / f"{phase}.result.pkl").read_bytes())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="ONNX model (default: the built-in ResNet-style test network)")
    ap.add_argument("--caffe", nargs=2, type=Path, metavar=("PROTOTXT", "CAFFEMODEL"),
                    help="a Caffe model (e.g. `make resnet50-caffemodel`'s), converted to ONNX first by "
                         "importers.caffe, as `compile --caffemodel` does; the conversion time is printed")
    ap.add_argument("--images", type=int, default=2, help="images timed on the golden model and onnxruntime")
    ap.add_argument("--calib", type=int, default=4, help="random inputs whose FP32 activations give the scales")
    ap.add_argument("--mode", default="per-kernel", choices=("per-kernel", "per-filter"))
    ap.add_argument("--out", type=Path, default=Path("build/bench/resnet"))
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    ap.add_argument("--no-ort", action="store_true", help="skip the onnxruntime side")
    ap.add_argument("--phase", choices=("compile", "golden"), help=argparse.SUPPRESS)  # a child's job
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    if a.phase:
        job = pickle.loads((a.out / f"{a.phase}.pkl").read_bytes())
        res = compile_phase(**job) if a.phase == "compile" else golden_phase(**job)
        res["peak_rss_mb"] = peak_rss_mb()
        (a.out / f"{a.phase}.result.pkl").write_bytes(pickle.dumps(res))
        return 0
    if a.caffe:
        from nvdla_int8.importers.caffe import caffe_to_onnx_file

        t0 = time.perf_counter()
        model = a.out / "caffe.onnx"
        caffe_to_onnx_file(*a.caffe, model)
        print(f"Caffe -> ONNX ({a.caffe[0].name}, {a.caffe[1].name}): {time.perf_counter() - t0:.1f} s")
    else:
        model = a.model or quick_resnet(a.out / "quick_resnet.onnx")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; model {model}")

    g = load_graph(model)
    rng = np.random.default_rng(0)
    calib = rng.normal(0, 1, (a.calib,) + g.input_shape).astype(np.float32)
    scales = calibrated_scales(fp32_activations(model, calib, g.calibrated_tensors()), "max")
    xs = rng.normal(0, 1, (a.images,) + g.input_shape)

    vec = a.out / "vectors"
    c = in_child("compile", a.out, model=model, vec=vec, scales=scales, x0=xs[0], mode=a.mode)
    files = list(vec.iterdir())
    size = sum(f.stat().st_size for f in files)
    print(f"compile: {c['seconds']:.1f} s, {c['layers']} hardware layers, {c['passes']} passes, "
          f"{sum(f.suffix == '.cfg' for f in files)} traces, {size / 1e6:.1f} MB on disk; peak RSS "
          f"{c['peak_rss_mb']:.0f} MB")
    r = in_child("golden", a.out, vec=vec, xs=xs)
    t_img = r["per_image"]
    print(f"golden: programs loaded in {r['load']:.1f} s; {t_img:.2f} s per image (median of {len(xs)}), "
          f"{c['macs'] / t_img / 1e9:.2f} G useful MAC/s ({c['macs'] / 1e9:.2f} G MACs per image, "
          f"{c['macs_computed'] / 1e9:.2f} G computed by the MAC array); peak RSS {r['peak_rss_mb']:.0f} MB")
    t0 = time.perf_counter()
    outcomes = [replay_trace(Trace.load(p))[0] for p in find_traces([vec])]
    print(f"replay of the traces on the golden model (CRCs): {sum(o.passed for o in outcomes)}/{len(outcomes)} "
          f"pass in {time.perf_counter() - t0:.1f} s")
    if not a.no_ort:
        fp32, int8 = ort_times(model, xs, calib, a.out, a.threads)
        print(f"onnxruntime ({a.threads} threads): FP32 {fp32 * 1e3:.1f} ms per image, int8 QDQ {int8 * 1e3:.1f} ms "
              f"per image; golden / ORT FP32 = {t_img / fp32:.1f}x, golden / ORT int8 = {t_img / int8:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
