"""Write a synthetic ResNet-50 caffemodel whose per-layer activation ranges on natural images match
NVDLA's calibration table (resnet50.json), so that the shipped table is a sensible calibration for it.

No trained weights can be downloaded here. Seeded He-initialised convolutions and fc, then, layer
by layer in file (= topological) order, on a handful of natural images (scikit-image's bundled
photos, 224x224 crops, BGR minus the mean (104, 117, 123) as ResNet-50's Caffe input):

- Convolution / InnerProduct: weights and bias scaled so the layer's output max is T = 127 x scale;
- BatchNorm: mean and variance = the batch statistics of its input (what training would store),
  then the variance chosen so the output max is T;
- Scale: seeded gamma/beta, then both scaled by one factor f. When a ReLU follows in place, f
  brings the output max to the ReLU's T (the tensor the hardware writes after folding; the ReLU's
  max is the Scale's max, so both cannot match). When the Scale is the last operand of an Eltwise
  SUM (a residual branch), f and a per-channel shift of beta bring the max of the sum, and so of
  the ReLU after it, to that ReLU's T (the block output every later layer reads; `_residual_fit`);
- ReLU, Eltwise, Pooling, Softmax have no parameters: their maxima follow and are reported.

Each layer runs alone (the Caffe converter on a one-layer net) on its inputs' final values, so the
whole pass costs about one forward pass. The written caffemodel is then converted and run as a
whole, and the achieved max / T per table entry is printed (median and worst).

    python tools/make_resnet50_caffemodel.py [-o build/resnet50/ResNet-50-synthetic.caffemodel]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from nvdla_int8.fileio import write_atomic
from nvdla_int8.importers import caffe
from nvdla_int8.importers.caffe_schema import messages

REPO = Path(__file__).resolve().parents[1]

BN_FACTOR = 999.982  # Caffe's moving-average scale factor, as a trained net stores it (not 1, on purpose)


def find(name: str, *dirs: Path) -> Path:
    for d in dirs:
        if (d / name).is_file():
            return d / name
    raise SystemExit(f"{name} not found in {', '.join(map(str, dirs))}")


def natural_images(n: int) -> np.ndarray:
    """(n, 3, 224, 224) float32: the calibration split of the natural images shipped in the
    scikit-image wheel (calib/natural_images.py), Caffe-preprocessed (BGR - mean)."""
    from nvdla_int8.calib.natural_images import caffe_preprocess
    from nvdla_int8.calib.natural_images import natural_images as photos

    crops = photos("calib")
    if n > len(crops):
        raise SystemExit(f"only {len(crops)} natural crops available, asked for {n}")
    return caffe_preprocess(crops[:n])


def _session(model):
    import onnxruntime as ort

    for vi in list(model.graph.input) + list(model.graph.output):  # any batch size
        if vi.type.tensor_type.shape.dim:
            vi.type.tensor_type.shape.dim[0].dim_param = "N"
    so = ort.SessionOptions()
    so.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def run_layer(layer, blobs: list[np.ndarray], inputs: dict[str, np.ndarray]) -> np.ndarray:
    """One Caffe layer alone, through the converter: its bottoms become network inputs."""
    M = messages()
    net = M.NetParameter(name=layer.name)
    for b in dict.fromkeys(layer.bottoms):
        net.input.append(b)
        net.input_shape.add().dim.extend([1, *inputs[b].shape[1:]])
    net.layer.add().CopyFrom(layer.msg)
    w = M.NetParameter()
    if blobs:
        wl = w.layer.add(name=layer.name)
        wl.blobs.extend(caffe.to_blob(b) for b in blobs)
    model = caffe.convert(net, w if blobs else None).model()
    sess = _session(model)
    return sess.run([layer.name], {b: inputs[b] for b in dict.fromkeys(layer.bottoms)})[0]


def synthesize(net, table: dict[str, float], images: np.ndarray, seed: int) -> dict[str, list]:
    """Blobs per layer name, chosen layer by layer (see the module docstring)."""
    rng = np.random.default_rng(seed)
    layers = caffe.layers_of(net)
    # parameter shapes as the converter derives them from the prototxt (weights (K, C, R, S) / (K, F), bias)
    shapes = {cl.name: [tuple(t.dims) for t in cl.initializers] for cl in caffe.convert(net).layers}
    last_use: dict[str, int] = {}
    for i, layer in enumerate(layers):
        for b in layer.bottoms:
            last_use[b] = i
    after = {layers[i].name: layers[i + 1] for i in range(len(layers) - 1)}
    in_place_relu = lambda lay: (after.get(lay.name) is not None and after[lay.name].type == "ReLU"  # noqa: E731
                                 and after[lay.name].bottoms == lay.tops == after[lay.name].tops)
    values = {name: images for name, _ in caffe.net_inputs(net, "prototxt")}
    blobs: dict[str, list] = {}
    for i, layer in enumerate(layers):
        x = values[layer.bottoms[0]]
        target = table.get(after[layer.name].name if layer.type == "Scale" and in_place_relu(layer) else layer.name)
        eltwise = _eltwise_target(layer, after, in_place_relu, values, table)
        p: list[np.ndarray] = []
        if layer.type in ("Convolution", "InnerProduct"):
            w_shape, *bias = shapes[layer.name]
            gain = 2.0 if layer.type == "Convolution" else 1.0  # He for ReLU nets; the classifier 1/fan_in
            p = [rng.standard_normal(w_shape) * np.sqrt(gain / np.prod(w_shape[1:]))] + [np.zeros(b) for b in bias]
        elif layer.type == "BatchNorm":
            mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
            p = [mean, var]
        elif layer.type == "Scale":
            c = x.shape[1]
            p = [rng.uniform(0.7, 1.3, c), rng.normal(-0.1, 0.3, c)]
        y = run_layer(layer, _stored(layer, p), values)
        if target is not None and p:
            m = float(y.max())
            if m <= 0:
                raise SystemExit(f"{layer.name}: output max {m} <= 0, cannot scale to T={target}")
            f = target / m
            if eltwise is not None:
                f, shift = _residual_fit(y, *eltwise, f)
                p = [p[0] * f, p[1] * f - shift]
            elif layer.type == "BatchNorm":
                eps = layer.msg.batch_norm_param.eps
                p[1] = np.maximum((p[1] + eps) / f ** 2 - eps, 0.0)
            else:
                p = [a * f for a in p]
            y = run_layer(layer, _stored(layer, p), values)
        blobs[layer.name] = _stored(layer, p)
        for b in set(layer.bottoms):
            if last_use[b] == i and b not in layer.tops:
                del values[b]
        values[layer.tops[0]] = y
    return blobs


def _eltwise_target(layer, after, in_place_relu, values, table):
    """(other operands' sum, target T) when `layer` is a Scale whose output is the last operand of
    the next layer, a plain Eltwise SUM whose other operands are known; else None."""
    e = after.get(layer.name)
    if layer.type != "Scale" or e is None or e.type != "Eltwise" or layer.tops[0] not in e.bottoms:
        return None
    ep = e.msg.eltwise_param
    others = [b for b in e.bottoms if b != layer.tops[0]]
    if ep.operation != 1 or ep.coeff or len(others) != len(e.bottoms) - 1 or any(b not in values for b in others):
        return None
    t = table.get(after[e.name].name if in_place_relu(e) else e.name)
    return None if t is None else (sum(values[b] for b in others), t)


def _residual_fit(b: np.ndarray, a: np.ndarray, target: float, own: float) -> tuple[float, np.ndarray]:
    """(f, d) such that max(a + f b - d) = target, d >= 0 per channel: the Scale's factor and a
    shift of its per-channel bias. max(a + f b) grows with f from max(a): when that is below the
    target, bisection finds f and d = 0; otherwise (the shortcut alone already exceeds the target,
    common since the table's thresholds clip below the maxima) f is the Scale's own factor and the
    channels whose sum exceeds the target are shifted down."""
    h = lambda f: float((a + f * b).max())  # noqa: E731
    f = own
    if h(0.0) < target:
        lo, hi = 0.0, own
        while h(hi) < target:
            lo, hi = hi, hi * 2
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if h(mid) < target else (lo, mid)
        f = (lo + hi) / 2
    return f, np.maximum((a + f * b).max(axis=(0, 2, 3)) - target, 0.0)


def _stored(layer, p: list[np.ndarray]) -> list[np.ndarray]:
    """Blobs as Caffe stores them: BatchNorm statistics multiplied by the moving-average factor."""
    if layer.type == "BatchNorm":
        return [p[0] * BN_FACTOR, p[1] * BN_FACTOR, np.array([BN_FACTOR])]
    return [np.asarray(a, np.float32) for a in p]


def caffemodel_bytes(net, blobs: dict[str, list]) -> bytes:
    """The deploy net with each layer's blobs, as Caffe writes a trained model."""
    out = messages().NetParameter()
    out.CopyFrom(net)
    for layer in out.layer:
        for b in blobs.get(layer.name, []):
            layer.blobs.append(caffe.to_blob(b))
    return out.SerializeToString()


def report(prototxt: Path, model_path: Path, table: dict[str, float], images: np.ndarray) -> dict[str, float]:
    """Achieved max / T per table name, on the written caffemodel converted as a whole."""
    import onnx

    model = caffe.caffe_to_onnx(prototxt, model_path)
    have = {o.name for o in model.graph.output}
    model.graph.output.extend(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None)
                              for n in table if n not in have and n != model.graph.input[0].name)
    sess = _session(model)
    names = [o.name for o in model.graph.output]
    maxima = dict.fromkeys(names, -np.inf)
    for img in images:  # one at a time: every layer's output of a batch would not fit in memory
        for n, v in zip(names, sess.run(names, {model.graph.input[0].name: img[None]})):
            maxima[n] = max(maxima[n], float(v.max()))
    maxima[model.graph.input[0].name] = float(images.max())
    return {n: maxima[n] / t for n, t in table.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prototxt", type=Path)
    ap.add_argument("--table", type=Path, help="NVDLA JSON calibration table (default resnet50.json)")
    ap.add_argument("-o", "--output", type=Path, default=REPO / "build/resnet50/ResNet-50-synthetic.caffemodel")
    ap.add_argument("--images", type=int, default=8, help="natural image crops to measure on (default 8)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    prototxt = args.prototxt or find("ResNet-50-deploy.prototxt", REPO / "models" / "resnet50")
    table_path = args.table or find("resnet50.json", REPO / "models" / "resnet50")
    table = {k: 127.0 * v["scale"] for k, v in json.loads(table_path.read_text()).items()}

    t0 = time.perf_counter()
    net = caffe.read_prototxt(prototxt)
    images = natural_images(args.images)
    t1 = time.perf_counter()
    blobs = synthesize(net, table, images, args.seed)
    t2 = time.perf_counter()
    write_atomic(args.output, caffemodel_bytes(net, blobs))
    t3 = time.perf_counter()
    ratios = report(prototxt, args.output, table, images)
    t4 = time.perf_counter()

    print(f"{'layer':24s} {'type':12s} {'max/T':>7s}")
    types = {layer.name: layer.type for layer in caffe.layers_of(net)}
    for n, r in ratios.items():
        print(f"{n:24s} {types.get(n, 'input'):12s} {r:7.3f}")
    log_r = {n: abs(np.log(r)) for n, r in ratios.items()}
    worst = max(log_r, key=log_r.get)
    by_type: dict[str, list[float]] = {}
    for n, r in ratios.items():
        by_type.setdefault(types.get(n, "input"), []).append(r)
    print(f"== max/T over {len(ratios)} table entries, {len(images)} natural 224x224 crops: "
          f"median {np.median(list(ratios.values())):.3f}, worst {ratios[worst]:.3f} ({worst})")
    for t, rs in sorted(by_type.items()):
        print(f"   {t:12s} {len(rs):3d} entries: median {np.median(rs):.3f}, range {min(rs):.3f} .. {max(rs):.3f}")
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.1f} MB); time: images {t1 - t0:.1f} s, "
          f"synthesis {t2 - t1:.1f} s, write {t3 - t2:.1f} s, check {t4 - t3:.1f} s, total {t4 - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
