"""`nvdla-int8 compile` and `nvdla-int8 run`: thin front doors over the compiler."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .. import backends
from ..errors import InputError
from ..fileio import staged_dir, write_atomic


def load_scales(path: str) -> dict[str, float]:
    """A calibration table as tensor -> scale, read by the calibration package (issue #4):
    NVDLA JSON tables and TensorRT caches."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such calibration table", where=str(p))
    try:
        from ..calib import nvdla_table, trt_cache
    except ImportError:
        raise InputError("the calibration table readers (nvdla_int8.calib, issue #4) are not installed",
                         where=str(p)) from None
    if p.read_bytes()[:4] == b"TRT-":
        return {k: float(v) for k, v in trt_cache.read_cache(p).scales.items()}
    return {k: float(e.effective_scale()) for k, e in nvdla_table.read_table(p).items()}


def load_input(path: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise InputError("no such input file", where=str(p))
    try:
        a = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"not a .npy array ({type(e).__name__}: {e})".splitlines()[0], where=str(p)) from None
    if not isinstance(a, np.ndarray):
        raise InputError("an .npz archive, not a .npy array", where=str(p))
    return a


def compile_model(model: str, table: str, out: str, mode: str, seed: int, input_file: str | None,
                  missing: str = "error", caffemodel: str | None = None, bias_correction: bool = True) -> dict:
    """ONNX model (or Caffe deploy prototxt + caffemodel) + table -> vectors and manifest in out.
    A Caffe model is converted to ONNX first (importers.caffe: every layer's output named after
    the layer, so NVDLA's tables apply as they are); the converted model is written to out too,
    as the FP32 reference `run --model` takes. The table's bias corrections for `mode`
    (`calibrate --bias-correction`) are applied unless `bias_correction` is False."""
    import tempfile

    from ..graph.fold import load_graph
    from ..lower.vectors import MANIFEST, build_vectors, default_input, quantize_input_array
    from ..quantize.network import quantize

    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(model)
        if Path(model).suffix == ".prototxt":
            from ..importers.caffe import caffe_to_onnx_file

            if caffemodel is None:
                raise InputError("a Caffe deploy prototxt needs its weights: --caffemodel W.caffemodel", where=model)
            onnx_path = Path(tmp) / f"{Path(model).stem}.onnx"
            caffe_to_onnx_file(model, caffemodel, onnx_path)
        elif caffemodel is not None:
            raise InputError("--caffemodel goes with a Caffe deploy .prototxt, not an ONNX model", where=model)
        graph = load_graph(onnx_path)
        _warn_preprocessing(table, graph, model)
        delta = _bias_correction(table, graph, mode) if bias_correction else None
        qnet = quantize(graph, load_scales(table), mode, source=table, missing=missing, bias_delta=delta)
        x = load_input(input_file) if input_file else default_input(qnet, seed)
        if input_file:
            try:
                quantize_input_array(qnet, x)
            except InputError as e:
                raise InputError(str(e), where=input_file) from None
        with staged_dir(out, lambda d: (d / MANIFEST).is_file(), "a compiled network (it has no manifest.json)") as stage:
            manifest = build_vectors(qnet, onnx_path, stage, x, seed, table)
            if onnx_path != Path(model):
                write_atomic(stage / onnx_path.name, onnx_path.read_bytes())
    return manifest


def _warn_preprocessing(table: str, graph, model: str) -> None:
    """The calibration package's check that the table's data had the model's input preprocessing."""
    from ..calib.nvdla_table import preprocessing_mismatch, read_metadata

    if graph.image_mean is None or Path(table).read_bytes()[:4] == b"TRT-":
        return
    msg = preprocessing_mismatch(read_metadata(table), (graph.image_mean, graph.image_scale), table, model)
    if msg:
        print(f"nvdla-int8 compile: warning: {msg}", file=sys.stderr)


def _bias_correction(table: str, graph, mode: str):
    """The table's per-layer bias offsets for `mode` (calib.bias_correction), or None."""
    from ..calib.bias_correction import from_metadata
    from ..calib.nvdla_table import METADATA_KEY, read_metadata

    if Path(table).read_bytes()[:4] == b"TRT-":
        return None
    return from_metadata(read_metadata(table), graph, mode, f"{table} ({METADATA_KEY})")


def _compile(args) -> int:
    man = compile_model(args.model, args.calibtable, args.output, args.quantizationMode, args.seed, args.input,
                        args.missing_scale, args.caffemodel, not args.no_bias_correction)
    n = sum(len(s["passes"]) for s in man["steps"] if s["kind"] == "hw")
    print(f"{sum(s['kind'] == 'hw' for s in man['steps'])} hardware layers ({n} passes), one trace each "
          f"({', '.join(s['name'] for s in man['steps'] if s['kind'] == 'host')} on the host) in {args.output}")
    for r in man["quantization_report"]:  # an Add has no weights, bias or truncation figure
        line = f"  {r['layer']:12} rescale rel. error {r['rescale_rel_error']:.2e}"
        if "weight_sqnr_db" in r:
            line += (f" (NVDLA truncation {r['nvdla_truncation_rel_error']:.2e}), bias error "
                     f"{r['bias_error_out_lsb']:.4f} LSB, weights SQNR {r['weight_sqnr_db']:.1f} dB")
        print(line)
    cvt = man["input"]["cdma_cvt"]
    if cvt:
        print(f"  input CDMA CVT offset {cvt['offset']} scale {cvt['scale']} truncate {cvt['truncate']}: "
              f"offset error {cvt['offset_error_pixels']:.4f} px, scale rel. error {cvt['scale_rel_error']:.2e}")
    return 0


def _run(args) -> int:
    from ..run.compiled import evaluate

    if args.dataset:
        from ..calib.digits import load_split

        images, labels = load_split(args.dataset)
    else:
        if not args.input:
            raise InputError("give --input FILE.npy or --dataset SPLIT")
        images = load_input(args.input)
        labels = load_input(args.labels) if args.labels else None
        if labels is not None:
            if labels.ndim != 1 or labels.dtype.kind not in "iu":
                raise InputError(f"labels must be one integer class per input, got {labels.dtype} of shape "
                                 f"{list(labels.shape)}", where=args.labels)
            if len(labels) != len(images):
                raise InputError(f"{len(labels)} labels for {len(images)} inputs", where=args.labels)
    if args.limit < 0:
        raise InputError(f"--limit {args.limit}: give a positive number of inputs (0 = all)")
    if args.limit:
        images = images[:args.limit]
        labels = labels[:args.limit] if labels is not None else None
    prep = None
    model = args.model
    if model:
        from ..graph.fold import load_graph

        g = load_graph(model)
        if g.image_mean is not None:
            prep = lambda px: ((px.astype(np.float64) - g.image_mean) * g.image_scale).reshape(  # noqa: E731
                (len(px),) + g.input_shape)
    res = evaluate(args.vectors, images, labels, model, args.backend, prep, work_dir=args.work_dir,
                   save_outputs=args.save_outputs)
    print_report(res)
    if args.report:
        write_atomic(args.report, json.dumps(res, indent=1, sort_keys=True) + "\n")
    return 0 if res["bit_exact_vs_golden"] else 1


def print_report(res: dict, out=None) -> None:
    out = out or sys.stdout  # looked up now: a default bound at import would keep a replaced stream
    print(f"backend {res['backend']}, {res['images']} images", file=out)
    for layer in res["layers"]:
        sq = f"{layer['sqnr_db']:.2f} dB" if layer["sqnr_db"] is not None else "-"
        rtl = ""
        if "rtl_traces" in layer:
            mu = layer["mac_utilization"]
            rtl = (f"  RTL {layer['rtl_traces_bit_exact']}/{layer['rtl_traces']} traces bit-exact, "
                   f"{layer['cycles_per_image']:.0f} cycles/image, MAC utilization "
                   + (f"{100 * mu:.1f}%" if mu is not None else "-"))
        print(f"  {layer['layer']:12} bit-exact vs golden {100 * layer['bit_exact_vs_golden']:.1f}% of images  "
              f"SQNR vs FP32 {sq}  ({layer['passes']} pass(es)){rtl}", file=out)
        for f in layer.get("rtl_failures", []):
            print(f"    {f}", file=out)
    for o in res.get("outputs", []):
        fp = (f", top-1 agreement vs FP32 {100 * o['top1_agreement_vs_fp32']:.1f}%, mean |error| vs FP32 "
              f"{o['mean_abs_error_vs_fp32']:.4g}") if "mean_abs_error_vs_fp32" in o else ""
        print(f"  output {o['tensor']}: bit-exact vs golden {100 * o['bit_exact_vs_golden']:.1f}% of images{fp}",
              file=out)
    if "fp32_accuracy" in res:
        print(f"  FP32 accuracy {100 * res['fp32_accuracy']:.2f}%", file=out)
    if "int8_accuracy" in res:
        print(f"  INT8 accuracy ({res['backend']}) {100 * res['int8_accuracy']:.2f}%", file=out)
        if res["backend"] != "golden":
            print(f"  INT8 accuracy (golden, same images) {100 * res['int8_accuracy_golden']:.2f}%", file=out)


def register(sub) -> None:
    p = sub.add_parser("compile", help="ONNX model (or Caffe prototxt + caffemodel) + calibration table -> nv_small "
                                       "traces and manifest")
    p.add_argument("model", help="MODEL.onnx, or a Caffe deploy .prototxt with --caffemodel")
    p.add_argument("--caffemodel", help="the Caffe model's weights (binary .caffemodel)")
    p.add_argument("--calibtable", required=True, help="NVDLA JSON calibration table or TensorRT cache")
    p.add_argument("-o", "--output", required=True, help="folder for the traces and manifest.json")
    p.add_argument("--quantizationMode", default="per-kernel", choices=("per-kernel", "per-filter"))
    p.add_argument("--seed", type=int, default=1, help="seed of the vector input when --input is not given")
    p.add_argument("--input", help=".npy vector input (uint8 pixels for image models)")
    p.add_argument("--missing-scale", default="error", choices=("error", "propagate"),
                   help="a layer missing from the table: error (default) or reuse its input's scale")
    p.add_argument("--no-bias-correction", action="store_true",
                   help="ignore the bias corrections a table made by `calibrate --bias-correction` carries")
    p.set_defaults(func=_compile)
    r = sub.add_parser("run", help="run a compiled network: hardware layers on a backend, host ops in numpy")
    r.add_argument("vectors", help="folder written by `nvdla-int8 compile`")
    r.add_argument("--backend", default="golden", choices=backends.names())
    r.add_argument("--input", help=".npy of inputs (N, ...)")
    r.add_argument("--labels", help=".npy of labels (N,)")
    r.add_argument("--dataset", help="digits split instead of --input: train, calib, test, or test-extra "
                                      "(after `make mnist-extra`)")
    r.add_argument("--model", help="the ONNX model, for SQNR and FP32 accuracy")
    r.add_argument("--limit", type=int, default=0, help="only the first N inputs")
    r.add_argument("--work-dir", default="build/run-rtl", help="traces and simulation of --backend rtl")
    r.add_argument("--report", help="write the results as JSON")
    r.add_argument("--save-outputs", metavar="FILE.npz",
                   help="every graph output, one row per image: dequantized float32 and raw int8 (<tensor>.int8)")
    r.set_defaults(func=_run)
