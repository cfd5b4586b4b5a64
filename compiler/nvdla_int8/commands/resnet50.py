"""`make resnet50`: the seed document's example end to end. ResNet-50 from its Caffe deploy prototxt
and a caffemodel, compiled with NVDLA's shipped calibration table (and with a table of our own
calibration beside it), run on natural images on the golden model and, layer by layer, on the RTL.

    python -m nvdla_int8.commands.resnet50 --caffemodel W.caffemodel [--images N] [--rtl-images N]
        [--method M] [--modes per-kernel,per-filter]

Prints, per quantization mode and table: per-layer SQNR against FP32 (onnxruntime on the converted
model), top-1 / top-5 agreement with FP32, and for the RTL images RTL-vs-golden agreement, cycles
and MAC utilization per layer; the time each part took. Exit status 1 if the RTL and the golden
model disagree on any byte.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from .compile import compile_model

MODELS = Path("models/resnet50")
PROTOTXT = MODELS / "ResNet-50-deploy.prototxt"
NVDLA_TABLE = MODELS / "resnet50.json"


def _clock(label: str, t0: float) -> float:
    t = time.perf_counter()
    print(f"  [{label}: {t - t0:.1f} s]", flush=True)
    return t


def _topk_agreement(int8_prob: np.ndarray, fp32_prob: np.ndarray, k: int) -> float:
    """Share of images whose INT8 top-1 class is among FP32's top k."""
    top = np.argsort(-fp32_prob, axis=1)[:, :k]
    return float(np.mean([g in t for g, t in zip(int8_prob.argmax(1), top)]))


def run(caffemodel: Path, build: Path, n_images: int, rtl_images: int, method: str | None, modes: list[str]) -> int:
    from ..calib.natural_images import caffe_preprocess, natural_images
    from ..run.compiled import evaluate
    from ..run.reference import fp32_activations
    from .compile import print_report

    t0 = time.perf_counter()
    images = caffe_preprocess(natural_images("test"))[:n_images]
    tables = [("NVDLA resnet50.json", NVDLA_TABLE)]
    failed = False
    if method:
        from ..calib import commands as calib_commands

        onnx_model = build / "fp32" / "ResNet-50-deploy.onnx"
        from ..importers.caffe import caffe_to_onnx_file

        caffe_to_onnx_file(PROTOTXT, caffemodel, onnx_model)
        ours = build / f"calib-{method}.json"
        ap = argparse.ArgumentParser()
        calib_commands.register(ap.add_subparsers())
        data = build / "calib-images"
        data.mkdir(parents=True, exist_ok=True)
        np.save(data / "natural-calib.npy", caffe_preprocess(natural_images("calib")))
        args = ap.parse_args(["calibrate", str(onnx_model), "--data", str(data),
                              "--method", method, "-o", str(ours), "-q"])
        args.func(args)
        tables.append((f"ours ({method})", ours))
        t0 = _clock(f"calibration ({method}) on {len(natural_images('calib'))} images", t0)
    for title, table in tables:
        for mode in modes:
            out = build / f"{table.stem}-{mode}"
            print(f"== ResNet-50, {mode}, table {title}", flush=True)
            man = compile_model(str(PROTOTXT), str(table), str(out), mode, 1, None, caffemodel=str(caffemodel))
            hw = [s for s in man["steps"] if s["kind"] == "hw"]
            t0 = _clock(f"compile: {len(hw)} layer traces, {sum(len(s['passes']) for s in hw)} passes", t0)
            model = out / "ResNet-50-deploy.onnx"
            res = evaluate(out, images, None, model, "golden", save_outputs=out / "outputs.npz")
            prob = np.load(out / "outputs.npz")["prob"].reshape(len(images), -1)
            fp32 = fp32_activations(model, images, ["prob"])["prob"].reshape(len(images), -1)
            top1 = float(np.mean(prob.argmax(1) == fp32.argmax(1)))
            top5 = _topk_agreement(prob, fp32, 5)
            print_report(res)
            print(f"  top-1 agreement with FP32 {100 * top1:.1f}%, INT8 top-1 within FP32's top-5 "
                  f"{100 * top5:.1f}% ({len(images)} natural images)")
            t0 = _clock(f"golden model: {len(images)} images", t0)
            if rtl_images:
                rres = evaluate(out, images[:rtl_images], None, model, "rtl", work_dir=build / f"rtl-{mode}")
                print_report(rres)
                failed |= not rres["bit_exact_vs_golden"]
                t0 = _clock(f"RTL: {rtl_images} image(s)", t0)
    return 1 if failed else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--caffemodel", required=True, type=Path)
    ap.add_argument("--build", default="build/resnet50", type=Path)
    ap.add_argument("--images", type=int, default=8, help="natural images on the golden model (default 8)")
    ap.add_argument("--rtl-images", type=int, default=1, help="of those, how many also run on the RTL (default 1)")
    ap.add_argument("--method", help="also calibrate our own table with this method and compare (e.g. auto)")
    ap.add_argument("--modes", default="per-kernel,per-filter")
    a = ap.parse_args(argv)
    try:
        return run(a.caffemodel, a.build, a.images, a.rtl_images, a.method, a.modes.split(","))
    except InputError as e:
        print(f"resnet50: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
