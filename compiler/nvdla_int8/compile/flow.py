"""The end-to-end flow of `make sim` / `make vectors` on the default model: calibrate on the
calibration split (MinMax, FP32 onnxruntime), compile in both quantization modes, run the
held-out test split on the golden model (and the RTL when its trace runner exists), print
FP32 and INT8 accuracy and per-layer agreement and SQNR.

    python -m nvdla_int8.compile.flow sim [--limit N]
    python -m nvdla_int8.compile.flow vectors
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from .activations import fp32_activations, minmax_scales
from .commands import compile_model, print_report
from .digits import load_split
from .fold import load_graph
from .run import evaluate, rtl_available

DEFAULT_MODEL = Path("models/digits_cnn.onnx")


def preprocess_for(graph):
    return lambda px: ((px.astype(np.float64) - graph.image_mean) * graph.image_scale).reshape(
        (len(px),) + graph.input_shape)


def calibrate(model: Path, table: Path) -> None:
    """MinMax table over the calibration split, written with the calibration package's writer."""
    from ..calib.nvdla_table import entries_from_scales, write_table

    g = load_graph(model)
    images, _ = load_split("calib")
    tensors = [g.input] + [o.output for o in g.ops if o.kind == "conv" or o.op in ("AveragePool", "GlobalAveragePool")]
    scales = minmax_scales(fp32_activations(model, preprocess_for(g)(images), tensors))
    write_table(table, entries_from_scales(scales))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("sim", "vectors"))
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    ap.add_argument("--build", default="build/sim")
    ap.add_argument("--vectors", default="vectors/digits_cnn")
    ap.add_argument("--limit", type=int, default=0, help="test images (0 = the whole held-out split)")
    a = ap.parse_args(argv)
    model, build = Path(a.model), Path(a.build)
    table = build / "calib.json"
    try:
        t0 = time.perf_counter()
        calibrate(model, table)
        print(f"calibration table (MinMax, {len(load_split('calib')[1])} calibration images): {table}")
        if a.what == "vectors":
            for mode in ("per-kernel", "per-filter"):
                compile_model(str(model), str(table), f"{a.vectors}/{mode}", mode, 1, None)
                print(f"vectors: {a.vectors}/{mode}")
            return 0
        images, labels = load_split("test")
        if a.limit:
            images, labels = images[:a.limit], labels[:a.limit]
        g = load_graph(model)
        results = {}
        for mode in ("per-kernel", "per-filter"):
            out = build / mode
            compile_model(str(model), str(table), str(out), mode, 1, None)
            res = evaluate(out, images, labels, model, "golden", preprocess_for(g))
            results[mode] = res
            print(f"== {mode}")
            print_report(res)
        print("== summary (held-out test split, "
              f"{len(labels)} images)")
        fp32 = results["per-kernel"]["fp32_accuracy"]
        print(f"  FP32 accuracy                 {100 * fp32:.2f}%")
        for mode, res in results.items():
            print(f"  INT8 accuracy golden {mode:10} {100 * res['int8_accuracy']:.2f}%  "
                  f"(delta {100 * (res['int8_accuracy'] - fp32):+.2f} pp)")
        if rtl_available():
            from tb.trace_runner import replay_traces

            from ..conformance import find_traces

            outs = list(replay_traces(find_traces([build / m for m in results])))
            passed = sum(o.passed for o in outs)
            print(f"  RTL vs golden on the compiled layer vectors: {passed}/{len(outs)} traces bit-exact "
                  f"(cycles: {', '.join(f'{o.name}={o.cycles}' for o in outs)}); per-image RTL accuracy not run")
            for o in outs:
                if not o.passed:
                    print(f"    {o.name}: {o.message}")
        else:
            print("  INT8 accuracy RTL: RTL backend not available yet (no tb.trace_runner.replay_traces); "
                  "RTL vs golden agreement: not measured")
        print(f"  time {time.perf_counter() - t0:.1f}s")
        ok = all(abs(r["int8_accuracy"] - fp32) <= 0.01 for r in results.values())
        return 0 if ok else 1
    except InputError as e:
        print(f"sim: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
