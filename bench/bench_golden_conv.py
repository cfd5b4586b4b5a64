#!/usr/bin/env python3
"""Golden-model convolution throughput vs onnxruntime ConvInteger, same shapes, same run.

For the largest conv traces (by MAC count) it times the golden model's convolution (CDMA input
read + converter, MACs, CACC clip: `golden.conv.convolve`) and onnxruntime's ConvInteger on the
same shapes (int8 data via uint8 + zero point 128, int8 weights, int32 result), and checks that
both give the same MAC sums (ConvInteger is fed the golden model's padded, converted input). Prints MAC/s for both and the ratio. Median of N repeats.

    python bench/bench_golden_conv.py [--traces DIR] [--top 6] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper
from threadpoolctl import threadpool_limits

from nvdla_int8.conformance import find_traces
from nvdla_int8.golden.conv import convolve, mac_sums, padded_input, read_feature, read_weights
from nvdla_int8.golden.replay import replay_trace
from nvdla_int8.trace import Trace


def conv_integer_session(p, threads: int):
    rows = (p.out_h - 1) * p.stride_y + (p.kernel_h - 1) * p.dilation_y + 1
    cols = (p.out_w - 1) * p.stride_x + (p.kernel_w - 1) * p.dilation_x + 1
    node = helper.make_node("ConvInteger", ["x", "w", "xz"], ["y"], strides=[p.stride_y, p.stride_x],
                            dilations=[p.dilation_y, p.dilation_x], pads=[0, 0, 0, 0])
    graph = helper.make_graph(
        [node], "conv",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, p.channels, rows, cols]),
         helper.make_tensor_value_info("w", TensorProto.INT8, [p.kernels, p.channels, p.kernel_h, p.kernel_w]),
         helper.make_tensor_value_info("xz", TensorProto.UINT8, [])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def median_time(fn, repeat: int) -> float:
    fn()  # warm up
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", default=str(Path(__file__).resolve().parents[1] / "vectors" / "conformance"))
    ap.add_argument("--top", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads for numpy and intra-op threads for onnxruntime (same for both)")
    args = ap.parse_args()
    threadpool_limits(args.threads)  # the golden model's GEMM runs in OpenBLAS
    layers = []
    for path in find_traces([args.traces]):
        if not path.name.startswith("dc_"):
            continue
        _, player = replay_trace(Trace.load(path))
        p = player.m.layers[0].conv
        macs = p.out_w * p.out_h * p.kernels * p.channels * p.kernel_h * p.kernel_w
        layers.append((macs, path.stem, p, player.m.memory))
    layers.sort(key=lambda x: -x[0])

    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {cpu}; numpy {np.__version__}, "
          f"onnxruntime {ort.__version__} (intra-op threads {args.threads}); median of {args.repeat}")
    print(f"{'trace':42} {'MACs':>10} {'golden MAC/s':>13} {'ort MAC/s':>12} {'golden/ort':>10}  exact")
    ratios = []
    for macs, name, p, mem in layers[:args.top]:
        t_gold = median_time(lambda: convolve(mem, p), args.repeat)
        P = padded_input(read_feature(mem, p), p)
        W = read_weights(mem, p)
        sess = conv_integer_session(p, args.threads)
        feeds = {"x": (P + 128).astype(np.uint8)[None], "w": W.astype(np.int8), "xz": np.array(128, np.uint8)}
        t_ort = median_time(lambda: sess.run(None, feeds), args.repeat)
        # Same MAC sums (before the CACC clip)? ConvInteger sees the already padded input, so the
        # comparison holds for any pad value and CDMA converter setting.
        acc_ort = sess.run(None, feeds)[0][0].astype(np.int64)
        exact = "yes" if np.array_equal(mac_sums(P, W, p), acc_ort) else "NO"
        ratio = t_ort / t_gold
        ratios.append(ratio)
        print(f"{name:42} {macs:>10} {macs / t_gold:>13.3e} {macs / t_ort:>12.3e} {ratio:>10.2f}  {exact}")
    print(f"geometric mean golden/ort speed ratio: {statistics.geometric_mean(ratios):.2f} "
          "(> 1 means the golden model is faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
