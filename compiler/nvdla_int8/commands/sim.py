"""The end-to-end flow of `make sim` / `make vectors` on the default model: calibrate on the
calibration split (calib's calibrators over FP32 onnxruntime activations), compile in both
quantization modes, run the held-out test split on the golden model and its first N images on
the RTL, print FP32 and INT8 accuracy, RTL-vs-golden agreement, per-layer SQNR and cycles.

    python -m nvdla_int8.commands.sim sim [--method M] [--limit N] [--rtl-images N] [--extra-test]
    python -m nvdla_int8.commands.sim vectors
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from .compile import compile_model, print_report
from ..calib.digits import held_out_digits, load_split
from ..graph.fold import load_graph
from ..quantize.network import MODES
from ..run.compiled import evaluate, rtl_available

DEFAULT_MODEL = Path("models/digits_cnn.onnx")
DEFAULT_METHOD = "auto"
DEFAULT_RTL_IMAGES = 60
DEFAULT_BIAS_CORRECTION = True   # calibrate --bias-correction: chosen by bench/bench_quant_vs_ort.py (README)


def preprocess_for(graph):
    return lambda px: ((px.astype(np.float64) - graph.image_mean) * graph.image_scale).reshape(
        (len(px),) + graph.input_shape)


CALIB_ARGS = ["--data", "mnist:calib", "--two-pass"]   # what `make sim` calibrates with: README's command


def calibrate(model: Path, table: Path, method: str = DEFAULT_METHOD, judge: str = "both",
              bias_correction: bool = DEFAULT_BIAS_CORRECTION) -> None:
    """Table over the calibration split: exactly `nvdla-int8 calibrate MODEL --data mnist:calib
    --two-pass --method METHOD --auto-judge JUDGE [--bias-correction]` (the model's declared
    preprocessing), so both give the same scales."""
    from ..calib.commands import register

    ap = argparse.ArgumentParser()
    register(ap.add_subparsers())
    args = ap.parse_args(["calibrate", str(model), *CALIB_ARGS, "--method", method, "--auto-judge", judge,
                          "-o", str(table), "-q", *(["--bias-correction"] if bias_correction else [])])
    args.func(args)


def mode_tables(model: Path, folder: Path, method: str, bias_correction: bool = DEFAULT_BIAS_CORRECTION
                ) -> dict[str, Path]:
    """{quantization mode: table}: `auto` judges its candidates in the mode the table is compiled
    with (calib/network_choice.py), so it gets one table per mode; other methods one for both."""
    if method != "auto":
        calibrate(model, folder / "calib.json", method, bias_correction=bias_correction)
        return dict.fromkeys(MODES, folder / "calib.json")
    for mode in MODES:
        calibrate(model, folder / f"calib-{mode}.json", method, mode, bias_correction)
    return {mode: folder / f"calib-{mode}.json" for mode in MODES}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("sim", "vectors"))
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    ap.add_argument("--build", default="build/sim")
    ap.add_argument("--vectors", default="vectors/digits_cnn")
    ap.add_argument("--method", default=DEFAULT_METHOD,
                    choices=("max", "percentile", "entropy", "entropy-trt", "mse", "auto"),
                    help=f"activation calibrator (default {DEFAULT_METHOD}: per tensor, judged by the network on a validation split "
                         "of the calibration digits, one table per quantization mode; README)")
    ap.add_argument("--limit", type=int, default=0, help="test images on the golden model (0 = the whole split)")
    ap.add_argument("--extra-test", action="store_true",
                    help="score on the 1,000 test digits and mnist:test-extra's 5,000 (`make mnist-extra` first)")
    ap.add_argument("--rtl-images", type=int, default=DEFAULT_RTL_IMAGES,
                    help=f"the first N held-out images also run on the RTL, per mode (default {DEFAULT_RTL_IMAGES}; "
                         "0 = none)")
    ap.add_argument("--no-bias-correction", action="store_true",
                    help="calibrate without --bias-correction (the default measures and folds each conv layer's "
                         "mean per-channel error into its bias; docs/calibration.md)")
    a = ap.parse_args(argv)
    model, build = Path(a.model), Path(a.build)
    try:
        t0 = time.perf_counter()
        if a.what == "sim":   # before calibrating: a missing mnist-extra download stops it at once
            images, labels = held_out_digits(a.extra_test, a.limit)
        tables = mode_tables(model, build, a.method, not a.no_bias_correction)
        print(f"calibration table ({a.method}{'' if a.no_bias_correction else ', bias correction'}, "
              f"{len(load_split('calib')[1])} calibration images): "
              + ", ".join(sorted({str(t) for t in tables.values()})))
        if a.what == "vectors":
            for mode in MODES:
                compile_model(str(model), str(tables[mode]), f"{a.vectors}/{mode}", mode, 1, None)
                print(f"vectors: {a.vectors}/{mode}")
            return 0
        g = load_graph(model)
        results, rtl = {}, {}
        n_rtl = min(a.rtl_images, len(labels))
        has_rtl = n_rtl > 0 and rtl_available()
        for mode in MODES:
            out = build / mode
            compile_model(str(model), str(tables[mode]), str(out), mode, 1, None)
            res = evaluate(out, images, labels, model, "golden", preprocess_for(g))
            results[mode] = res
            print(f"== {mode}")
            print_report(res)
            if has_rtl:
                t1 = time.perf_counter()
                rtl[mode] = evaluate(out, images[:n_rtl], labels[:n_rtl], model, "rtl", preprocess_for(g),
                                     work_dir=build / f"rtl-{mode}")
                print_report(rtl[mode])
                print(f"  ({time.perf_counter() - t1:.1f}s)")
        split = "test split and mnist:test-extra" if a.extra_test else "test split"
        print(f"== summary (held-out {split}, {len(labels)} images; calibration {a.method})")
        fp32 = results["per-kernel"]["fp32_accuracy"]
        print(f"  FP32 accuracy                      {100 * fp32:.2f}%")
        for mode, res in results.items():
            print(f"  INT8 accuracy (golden) {mode:10}  {100 * res['int8_accuracy']:.2f}%  "
                  f"(delta {100 * (res['int8_accuracy'] - fp32):+.2f} pp)")
        ok = all(abs(r["int8_accuracy"] - fp32) <= 0.01 for r in results.values())
        for mode, r in rtl.items():
            agree = min(L["bytes_agree_vs_golden"] for L in r["layers"])
            print(f"  INT8 accuracy (RTL)    {mode:10}  {100 * r['int8_accuracy']:.2f}% on the first {n_rtl} "
                  f"images (golden on the same images {100 * r['int8_accuracy_golden']:.2f}%, "
                  f"FP32 {100 * r['fp32_accuracy']:.2f}%)")
            print(f"    RTL vs golden: {100 * agree:.2f}% of output bytes agree, "
                  f"{sum(L['rtl_traces_bit_exact'] for L in r['layers'])}/{sum(L['rtl_traces'] for L in r['layers'])}"
                  f" layer traces bit-exact; cycles per image "
                  + ", ".join(f"{L['layer']} {L['cycles_per_image']:.0f}" for L in r["layers"])
                  + f" (total {sum(L['cycles_per_image'] for L in r['layers']):.0f})")
            ok = ok and r["bit_exact_vs_golden"]
        if not has_rtl:
            print("  INT8 accuracy (RTL): not run (" + ("--rtl-images 0" if n_rtl == 0 else
                                                       "no RTL backend: tb/ or the simulator is missing") + ")")
        print(f"  time {time.perf_counter() - t0:.1f}s")
        return 0 if ok else 1
    except InputError as e:
        print(f"sim: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
