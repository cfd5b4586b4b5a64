"""`make resnet50`: the seed document's example end to end. ResNet-50 from its Caffe deploy prototxt
and a caffemodel, compiled with NVDLA's shipped calibration table (and with a table of our own
calibration beside it), run on natural images on the golden model and, layer by layer, on the RTL.

    python -m nvdla_int8.commands.resnet50 --caffemodel W.caffemodel [--images N] [--rtl-images N]
        [--method M] [--modes per-kernel,per-filter]
    python -m nvdla_int8.commands.resnet50 --onnx resnet50.onnx --method M [...]

The second form runs an ONNX ResNet-50 (`make resnet50-onnx`, torchvision preprocessing) the same
way, with our own calibration only (NVDLA's table names the Caffe model's layers).

Prints, per quantization mode and table: per-layer SQNR against FP32 (onnxruntime on the converted
model), top-1 / top-5 agreement with FP32, and for the RTL images RTL-vs-golden agreement, cycles
and MAC utilization per layer; the time each part took. Exit status 1 if the RTL and the golden
model disagree on any byte.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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


@dataclass
class Network:
    """What differs between the Caffe deploy model and an ONNX ResNet-50: how it is compiled, how its
    images are preprocessed, the output compared with FP32, and the FP32 reference model."""
    model: Path
    caffemodel: Path | None
    preprocess: Callable[[np.ndarray], np.ndarray]
    output: str

    def fp32_model(self, out: Path) -> Path:
        """A Caffe model is converted to ONNX by compile, into its output folder."""
        return out / "ResNet-50-deploy.onnx" if self.caffemodel else self.model

    def calibrate(self, method: str, build: Path) -> Path:
        from ..calib import commands as calib_commands
        from ..calib.natural_images import natural_images

        model = self.model
        if self.caffemodel:
            from ..importers.caffe import caffe_to_onnx_file

            model = build / "fp32" / "ResNet-50-deploy.onnx"
            caffe_to_onnx_file(self.model, self.caffemodel, model)
        ours = build / f"calib-{method}.json"
        data = build / "calib-images"
        data.mkdir(parents=True, exist_ok=True)
        np.save(data / "natural-calib.npy", self.preprocess(natural_images("calib")))
        ap = argparse.ArgumentParser()
        calib_commands.register(ap.add_subparsers())
        args = ap.parse_args(["calibrate", str(model), "--data", str(data), "--method", method, "-o", str(ours), "-q"])
        args.func(args)
        return ours


def caffe_network(caffemodel: Path) -> Network:
    from ..calib.natural_images import caffe_preprocess

    return Network(PROTOTXT, caffemodel, caffe_preprocess, "prob")


def onnx_network(model: Path) -> Network:
    """tools/models/resnet50_onnx.py's model: torchvision preprocessing, logits named `output`."""
    import onnx

    from ..calib.natural_images import imagenet_preprocess

    try:
        outputs = [o.name for o in onnx.load(str(model), load_external_data=False).graph.output]
    except Exception as e:
        raise InputError(f"{model}: not a readable ONNX model ({e})") from None
    if len(outputs) != 1:
        raise InputError(f"{model}: a ResNet-50 has one output, this model has {len(outputs)}")
    return Network(model, None, imagenet_preprocess, outputs[0])


def run(net: Network, build: Path, n_images: int, rtl_images: int, method: str | None, modes: list[str]) -> int:
    from ..calib.natural_images import natural_images
    from ..run.compiled import evaluate
    from ..run.reference import fp32_activations
    from .compile import print_report

    t0 = time.perf_counter()
    images = net.preprocess(natural_images("test"))[:n_images]
    tables = [("NVDLA resnet50.json", NVDLA_TABLE)] if net.caffemodel else []
    failed = False
    if method:
        tables.append((f"ours ({method})", net.calibrate(method, build)))
        t0 = _clock(f"calibration ({method}) on {len(natural_images('calib'))} images", t0)
    for title, table in tables:
        for mode in modes:
            out = build / f"{table.stem}-{mode}"
            print(f"== ResNet-50, {mode}, table {title}", flush=True)
            man = compile_model(str(net.model), str(table), str(out), mode, 1, None,
                                caffemodel=str(net.caffemodel) if net.caffemodel else None)
            hw = [s for s in man["steps"] if s["kind"] == "hw"]
            t0 = _clock(f"compile: {len(hw)} layer traces, {sum(len(s['passes']) for s in hw)} passes", t0)
            model = net.fp32_model(out)
            res = evaluate(out, images, None, model, "golden", save_outputs=out / "outputs.npz")
            int8 = np.load(out / "outputs.npz")[net.output].reshape(len(images), -1)
            fp32 = fp32_activations(model, images, [net.output])[net.output].reshape(len(images), -1)
            top1 = float(np.mean(int8.argmax(1) == fp32.argmax(1)))
            top5 = _topk_agreement(int8, fp32, 5)
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
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--caffemodel", type=Path, help="weights for models/resnet50/ResNet-50-deploy.prototxt")
    src.add_argument("--onnx", type=Path, help="an ONNX ResNet-50 (make resnet50-onnx); needs --method")
    ap.add_argument("--build", type=Path, help="work folder (default build/resnet50, build/resnet50-onnx)")
    ap.add_argument("--images", type=int, default=8, help="natural images on the golden model (default 8)")
    ap.add_argument("--rtl-images", type=int, default=1, help="of those, how many also run on the RTL (default 1)")
    ap.add_argument("--method", help="also calibrate our own table with this method and compare (e.g. auto)")
    ap.add_argument("--modes", default="per-kernel,per-filter")
    a = ap.parse_args(argv)
    if a.onnx and not a.method:
        ap.error("--onnx needs --method: NVDLA's resnet50.json names the Caffe model's layers")
    try:
        net = caffe_network(a.caffemodel) if a.caffemodel else onnx_network(a.onnx)
        build = a.build or Path("build/resnet50" if a.caffemodel else "build/resnet50-onnx")
        return run(net, build, a.images, a.rtl_images, a.method, a.modes.split(","))
    except InputError as e:
        print(f"resnet50: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
