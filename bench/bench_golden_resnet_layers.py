#!/usr/bin/env python3
"""Golden model on ResNet-50's layer shapes, split into CBUF-sized passes as the compiler splits
them, vs onnxruntime on the same shapes, same run.

Every distinct convolution of ResNet-50 (torchvision v1.5: stride in the 3x3, projection
shortcuts, the 2048->1000 FC as a 1x1) is built as a float layer with seeded He-init weights,
quantized (`quantize.network.quantize_layer`) and lowered to register programs
(`lower.passes.lower_layer`: the compiler's own split into passes and its memory images). Then,
per image, each layer runs on the golden model as a host would drive it: one memory image per
layer, the int8 input cube written once, each pass's weight/operand images written, its register
writes played on a fresh `GoldenMachine` (decode, conv, CACC, SDP, output written to memory),
and the whole output cube read back at the end. Timed: everything in that loop (not the
compile). The same shapes run on onnxruntime as ConvInteger (int8 MACs, int32 out: the closest
op to what the golden model computes) and as FP32 Conv, with as many threads (`--threads`, default
1) as the golden model's GEMMs get.

Per layer shape it prints passes, MACs, golden MAC/s, onnxruntime MAC/s and the ratio; then the
whole network (each shape's time times the number of times ResNet-50 uses it), golden time per
image and peak RSS; wall time and process CPU time (on a shared machine the steadier one).
`--fresh` also times the compiler's current per-pass driver (`lower.program_run.run_golden`: a
new memory image per pass, regions zero-filled, the input cube scattered into every pass, the
stage cubes kept) and checks that both drivers give the same output.

    python bench/bench_golden_resnet_layers.py [--threads 1] [--repeat 3] [--mode per-kernel]
        [--layers stem,l4_3x3] [--fresh] [--profile out.prof]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import platform
import resource
import statistics
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper
from threadpoolctl import threadpool_info, threadpool_limits

from nvdla_int8.golden import GoldenMachine
from nvdla_int8.golden import conv as gconv
from nvdla_int8.graph.ir import Activation, ConvLayer
from nvdla_int8.lower.passes import lower_layer
from nvdla_int8.lower.program_run import run_golden, window_slices
from nvdla_int8.quantize.network import quantize_layer
from nvdla_int8.trace.memory import SparseMemory

# (name, in channels, in height = width, out channels, kernel, stride, pad, uses in ResNet-50)
RESNET50 = [
    ("stem", 3, 224, 64, 7, 2, 3, 1),
    ("l1_1x1_64", 64, 56, 64, 1, 1, 0, 1), ("l1_3x3", 64, 56, 64, 3, 1, 1, 3),
    ("l1_1x1_256", 64, 56, 256, 1, 1, 0, 4),  # three expansions + the projection shortcut
    ("l1_1x1_red", 256, 56, 64, 1, 1, 0, 2),
    ("l2_1x1_red0", 256, 56, 128, 1, 1, 0, 1), ("l2_3x3_s2", 128, 56, 128, 3, 2, 1, 1),
    ("l2_1x1_exp", 128, 28, 512, 1, 1, 0, 4), ("l2_proj_s2", 256, 56, 512, 1, 2, 0, 1),
    ("l2_1x1_red", 512, 28, 128, 1, 1, 0, 3), ("l2_3x3", 128, 28, 128, 3, 1, 1, 3),
    ("l3_1x1_red0", 512, 28, 256, 1, 1, 0, 1), ("l3_3x3_s2", 256, 28, 256, 3, 2, 1, 1),
    ("l3_1x1_exp", 256, 14, 1024, 1, 1, 0, 6), ("l3_proj_s2", 512, 28, 1024, 1, 2, 0, 1),
    ("l3_1x1_red", 1024, 14, 256, 1, 1, 0, 5), ("l3_3x3", 256, 14, 256, 3, 1, 1, 5),
    ("l4_1x1_red0", 1024, 14, 512, 1, 1, 0, 1), ("l4_3x3_s2", 512, 14, 512, 3, 2, 1, 1),
    ("l4_1x1_exp", 512, 7, 2048, 1, 1, 0, 3), ("l4_proj_s2", 1024, 14, 2048, 1, 2, 0, 1),
    ("l4_1x1_red", 2048, 7, 512, 1, 1, 0, 2), ("l4_3x3", 512, 7, 512, 3, 1, 1, 2),
    ("fc", 2048, 1, 1000, 1, 1, 0, 1),
]


def build_layer(spec, mode: str, seed: int):
    """A quantized layer of this shape and an int8 input cube for it. Weights He-init; the input
    is a ReLU output (0..127) except for the stem's image-like signed input; the output scale
    follows the expected output RMS, so the SDP sees realistic magnitudes (some saturation)."""
    name, c, h, k, r, s, p, _ = spec
    rng = np.random.default_rng(seed)
    ho = (h + 2 * p - r) // s + 1
    w = rng.normal(0.0, np.sqrt(2.0 / (c * r * r)), (k, c, r, r))
    b = rng.normal(0.0, 0.1, k)
    stem = name == "stem"
    x = rng.integers(-128 if stem else 0, 128, (c, h, h)).astype(np.int8)
    s_in = 2.5 / 127 if stem else 4.0 / 127
    # He init keeps the output's RMS near sqrt(2) times the input's: clip at 4 of those
    s_out = 4.0 * np.sqrt(2.0) * s_in * float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) / 127
    layer = ConvLayer(name, "Conv", "x", "y", w, b, (c, h, h), (k, ho, ho), stride=(s, s), pads=(p, p, p, p),
                      act=None if name == "fc" else Activation("relu"))
    return quantize_layer(layer, s_in, s_out, mode, None), x


def run_layer(progs, x: np.ndarray) -> np.ndarray:
    """One layer on the golden model: one memory image, input written once, every pass's own
    images and register writes, the whole output cube read once."""
    mem = SparseMemory()
    first = progs[0]
    first.input_surface.write_cube(mem, x)
    for prog in progs:
        for base, data in prog.images:
            mem.write(base, data)
        m = GoldenMachine(mem, keep_stages=False)
        for reg, value in prog.writes:
            m.write_reg(reg.address, value)
        if not m.layers:
            raise RuntimeError(f"{prog.name}: the golden model did not run the pass")
    k, h, w = first.output_shape
    return first.output_surface.read_cube(mem, k, h, w).view(np.int8)


def run_layer_fresh(progs, x: np.ndarray) -> np.ndarray:
    """The compiler's per-pass driver today: a new memory image per pass."""
    y = np.zeros(progs[0].output_shape, dtype=np.int8)
    for prog in progs:
        y[window_slices(prog.window, prog.output_shape)] = run_golden(prog, x)[0]
    return y


def ort_session(model_bytes: bytes, threads: int):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def conv_models(spec):
    """(ConvInteger model, FP32 Conv model) of one layer shape."""
    _, c, h, k, r, s, p, _ = spec
    attrs = dict(strides=[s, s], pads=[p, p, p, p], kernel_shape=[r, r])
    x_u8 = helper.make_tensor_value_info("x", TensorProto.UINT8, [1, c, h, h])
    w_i8 = helper.make_tensor_value_info("w", TensorProto.INT8, [k, c, r, r])
    xz = helper.make_tensor_value_info("xz", TensorProto.UINT8, [])
    y32 = helper.make_tensor_value_info("y", TensorProto.INT32, None)
    gi = helper.make_graph([helper.make_node("ConvInteger", ["x", "w", "xz"], ["y"], **attrs)], "ci",
                           [x_u8, w_i8, xz], [y32])
    xf = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, h])
    wf = helper.make_tensor_value_info("w", TensorProto.FLOAT, [k, c, r, r])
    yf = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    gf = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], **attrs)], "cf", [xf, wf], [yf])
    opset = [helper.make_opsetid("", 13)]
    return (helper.make_model(gi, opset_imports=opset).SerializeToString(),
            helper.make_model(gf, opset_imports=opset).SerializeToString())


def median_time(fn, repeat: int) -> tuple[float, float]:
    """Median wall and process CPU time of `repeat` calls after one warm-up call. On a shared
    machine the CPU time (all threads) is the steadier of the two."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1,
                    help="threads on both sides: the golden model's GEMMs (golden.conv.GEMM_THREADS, default 1) "
                         "and onnxruntime's intra-op pool")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mode", choices=("per-kernel", "per-filter"), default="per-kernel")
    ap.add_argument("--layers", default="", help="comma-separated layer names (default: all)")
    ap.add_argument("--fresh", action="store_true",
                    help="also time the compiler's current per-pass driver (a new memory image per pass)")
    ap.add_argument("--profile", default="", help="write a cProfile of the golden runs to this file")
    args = ap.parse_args()
    threadpool_limits(args.threads)
    gconv.GEMM_THREADS = args.threads
    specs = [s for s in RESNET50 if not args.layers or s[0] in args.layers.split(",")]

    blas = next((f"{i['internal_api']} {i['version']} {i['architecture']}" for i in threadpool_info()
                 if i["user_api"] == "blas"), "?")
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {cpu}; numpy {np.__version__} ({blas}), "
          f"onnxruntime {ort.__version__}; {args.threads} thread(s) on both sides; {args.mode}; "
          f"median of {args.repeat}")
    print(f"{'layer':12} {'uses':>4} {'passes':>6} {'MMACs':>7} | {'golden ms':>9} {'cpu ms':>7} {'G MAC/s':>7} | "
          f"{'ConvInt ms':>10} {'G MAC/s':>7} | {'FP32 ms':>8} {'G MAC/s':>7} | {'gold/CI':>7}"
          + (f" | {'fresh ms':>9}" if args.fresh else ""))
    prof = cProfile.Profile() if args.profile else None
    tot = dict.fromkeys(("macs", "passes", "gold", "gold_cpu", "ci", "fp", "fresh"), 0)
    for i, spec in enumerate(specs):
        name, c, h, k, r, s, p, uses = spec
        q, x = build_layer(spec, args.mode, seed=i)
        progs = lower_layer(q)
        _, ho, wo = q.layer.out_shape
        macs = k * c * r * r * ho * wo
        if prof:
            prof.enable()
        t_gold, c_gold = median_time(lambda: run_layer(progs, x), args.repeat)
        if prof:
            prof.disable()
        t_fresh = 0.0
        if args.fresh:
            t_fresh = median_time(lambda: run_layer_fresh(progs, x), max(1, args.repeat // 2))[0]
            if not np.array_equal(run_layer_fresh(progs, x), run_layer(progs, x)):
                raise SystemExit(f"{name}: the two drivers disagree")
        ci_bytes, fp_bytes = conv_models(spec)
        ci, fp = ort_session(ci_bytes, args.threads), ort_session(fp_bytes, args.threads)
        w8 = q.weight.astype(np.int8)
        feeds_ci = {"x": (x.astype(np.int16) + 128).astype(np.uint8)[None], "w": w8, "xz": np.array(128, np.uint8)}
        feeds_fp = {"x": x.astype(np.float32)[None], "w": w8.astype(np.float32)}
        t_ci = median_time(lambda: ci.run(None, feeds_ci), args.repeat)[0]
        t_fp = median_time(lambda: fp.run(None, feeds_fp), args.repeat)[0]
        for key, v in (("macs", macs), ("passes", len(progs)), ("gold", t_gold), ("gold_cpu", c_gold),
                       ("ci", t_ci), ("fp", t_fp), ("fresh", t_fresh)):
            tot[key] += uses * v
        print(f"{name:12} {uses:>4} {len(progs):>6} {macs / 1e6:>7.1f} | {t_gold * 1e3:>9.1f} {c_gold * 1e3:>7.1f} "
              f"{macs / t_gold / 1e9:>7.2f} | {t_ci * 1e3:>10.1f} {macs / t_ci / 1e9:>7.2f} | {t_fp * 1e3:>8.1f} "
              f"{macs / t_fp / 1e9:>7.2f} | {t_ci / t_gold:>7.2f}"
              + (f" | {t_fresh * 1e3:>9.1f}" if args.fresh else ""), flush=True)
    m = tot["macs"]
    print(f"whole network ({tot['passes']} passes, {m / 1e9:.2f} G MACs; each shape times its uses in ResNet-50):")
    print(f"  golden model           {tot['gold']:6.2f} s/image  {m / tot['gold'] / 1e9:5.2f} G MAC/s  "
          f"(CPU {tot['gold_cpu']:.2f} s: {m / tot['gold_cpu'] / 1e9:.2f} G MAC/s per CPU-second)")
    print(f"  onnxruntime ConvInteger {tot['ci']:5.2f} s/image  {m / tot['ci'] / 1e9:5.2f} G MAC/s  "
          f"(golden/ConvInteger speed {tot['ci'] / tot['gold']:.2f})")
    print(f"  onnxruntime FP32 Conv   {tot['fp']:5.2f} s/image  {m / tot['fp'] / 1e9:5.2f} G MAC/s")
    if args.fresh:
        print(f"  golden, the compiler's per-pass driver today: {tot['fresh']:.2f} s/image "
              f"({m / tot['fresh'] / 1e9:.2f} G MAC/s)")
    print(f"peak RSS {peak_rss_mib():.0f} MiB "
          "(whole process: golden model, onnxruntime, one layer's programs at a time)")
    if prof:
        prof.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
