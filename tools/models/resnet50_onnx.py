"""Write a ResNet-50 (torchvision v1.5 topology) as ONNX, with seeded random weights, no download.

    .venv/bin/python tools/models/resnet50_onnx.py -o build/models/resnet50-op13.onnx --opset 13
    make resnet50-onnx            # both opsets into build/models/
    ... --report                  # then: block output rms, distinct top-1 classes on the photos

Topology as torchvision's resnet50: 7x7/2 stem conv + BN + ReLU + 3x3/2 MaxPool (pad 1); four
stages of 3, 4, 6, 3 bottlenecks (1x1 -> 3x3 -> 1x1 x4, the stride on the 3x3: "v1.5"), the first
block of each stage with a 1x1 strided downsample conv + BN on the shortcut; Add; ReLU;
GlobalAveragePool; Flatten; Gemm 2048 -> 1000. Node and tensor names follow the PyTorch exporter
(`/layer1/layer1.0/conv1/Conv`, `/layer1/layer1.0/Add`, ...).

Weights: He-normal convolutions (std sqrt(2 / fan_in)), PyTorch's default uniform Linear init.
BatchNormalization statistics (`bn_stats`):
- "random" (default): random running mean and variance, gamma chosen from the expected input
  energy so that a BN output has a standard deviation near 1; the last BN of a stage's first
  block and its shortcut's near 1/sqrt(2), the last BN of the other residual branches near 1/2, so
  block outputs stay near rms 1 (0.78 to 1.38 on the photos); small random beta. The classifier
  is then standardised on 8 natural-calib photos (see `_standardised_classifier`), so that the
  top-1 class varies from photo to photo.
- "fresh": what a freshly constructed torchvision model holds (gamma 1, beta 0, mean 0, var 1).

`fold_bn` (default True) writes what `torch.onnx.export` writes for a model in eval mode: each BN
folded into its Conv, which then has a bias; `fold_bn=False` keeps Conv (no bias) +
BatchNormalization nodes. `identity_biases` (needs fold_bn) reproduces the exporter's
deduplication of constants: every conv bias after the first of its length is fed through an
`Identity` node (47 of them, as in issue #12); with "fresh" statistics all those biases are zeros,
and the Identity reads the first bias of the same length, exactly as the exporter writes it.

Input `input` float32 1x3x224x224, already preprocessed with ImageNet's per-channel mean/std
(nvdla_int8.calib.natural_images.imagenet_preprocess; `--data natural`). The model carries no
nvdla_int8.image_mean / image_scale metadata: those describe one scalar (pixel - mean) * scale,
which per-channel mean/std do not fit, so the input is float and calibrated like any activation.
Output `output` float32 1x1000 (logits).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from nvdla_int8.fileio import write_atomic

STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))   # (width, blocks, stride of the first)
EXPANSION = 4
EPS = 1e-5
NUM_CLASSES = 1000
RESET_STD = np.sqrt(0.5)   # last BN of a stage's first block, and its shortcut's
BRANCH_STD = 0.5          # last BN of the other blocks' residual branch
CLASSIFIER_PROBE_STRIDE = 7   # natural-calib photos used to standardise the classifier: 56 / 7 = 8


class _Graph:
    """Accumulates nodes and initializers, named as the PyTorch exporter names them."""

    def __init__(self, rng: np.random.Generator, bn_stats: str, fold_bn: bool, identity_biases: bool):
        self.rng, self.bn_stats, self.fold_bn, self.identity_biases = rng, bn_stats, fold_bn, identity_biases
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.first_bias: dict[int, tuple[str, np.ndarray]] = {}
        self.n_identity = 0

    def init(self, name: str, a: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(a, np.float32), name))
        return name

    def node(self, op: str, scope: str, inputs: list[str], **attrs) -> str:
        name = f"{scope}/{op}"
        out = f"{name}_output_0"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def conv_bn(self, x: str, module: str, bn: str, cin: int, cout: int, k: int, stride: int,
                second_moment: float, out_std: float) -> str:
        """Conv (He init) + BN on an input whose E[x^2] is `second_moment`; BN output std ~ out_std."""
        rng = self.rng
        w = rng.standard_normal((cout, cin, k, k), dtype=np.float32) * np.float32(np.sqrt(2.0 / (cin * k * k)))
        if self.bn_stats == "fresh":
            gamma, beta = np.ones(cout), np.zeros(cout)
            mean, var = np.zeros(cout), np.ones(cout)
        else:
            # E[conv(x)^2] = fan_in * Var(w) * E[x^2] = 2 E[x^2] for zero-mean independent weights
            z_std = np.sqrt(2.0 * second_moment)
            mean = rng.normal(0.0, 0.2 * z_std, cout)
            var = z_std ** 2 * rng.uniform(0.5, 2.0, cout)
            gamma = out_std * np.sqrt(var + EPS) / z_std * rng.uniform(0.8, 1.2, cout)
            beta = rng.normal(0.0, 0.1 * out_std, cout)
        scope = "/" + "/".join(_torch_scopes(module))
        attrs = dict(kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4,
                     dilations=[1, 1], group=1)
        if not self.fold_bn:
            y = self.node("Conv", scope, [x, self.init(f"{module}.weight", w)], **attrs)
            bscope = "/" + "/".join(_torch_scopes(bn))
            names = [self.init(f"{bn}.{p}", v) for p, v in
                     (("weight", gamma), ("bias", beta), ("running_mean", mean), ("running_var", var))]
            return self.node("BatchNormalization", bscope, [y] + names, epsilon=EPS, momentum=0.9)
        s = (gamma / np.sqrt(var + EPS)).astype(np.float32)
        wf = w * s[:, None, None, None]
        bias = (beta - mean * s).astype(np.float32)
        return self.node("Conv", scope, [x, self.init(f"{module}.weight", wf), self._bias(module, bias)], **attrs)

    def _bias(self, module: str, bias: np.ndarray) -> str:
        if not self.identity_biases:
            return self.init(f"{module}.bias", bias)
        first = self.first_bias.get(len(bias))
        if first is None:
            self.first_bias[len(bias)] = (self.init(f"{module}.bias", bias), bias)
            return f"{module}.bias"
        # the exporter points a duplicated constant at its first copy through an Identity node
        source = first[0] if np.array_equal(first[1], bias) else self.init(f"{module}.bias", bias)
        out = f"onnx::Conv_{module}.bias"
        self.nodes.append(helper.make_node("Identity", [source], [out], name=f"Identity_{self.n_identity}"))
        self.n_identity += 1
        return out


def _torch_scopes(module: str) -> list[str]:
    """'layer1.0.conv1' -> ['layer1', 'layer1.0', 'conv1'] (the exporter's scope path)."""
    parts = module.split(".")
    if parts[0].startswith("layer") and len(parts) > 2:
        return [parts[0], f"{parts[0]}.{parts[1]}", ".".join(parts[2:])]
    return [module]


def resnet50(opset: int = 13, seed: int = 0, bn_stats: str = "random", fold_bn: bool = True,
             identity_biases: bool = False) -> onnx.ModelProto:
    """The model as an in-memory ModelProto (about 100 MB of weights)."""
    if bn_stats not in ("random", "fresh"):
        raise ValueError(f"bn_stats must be 'random' or 'fresh', got {bn_stats!r}")
    if identity_biases and not fold_bn:
        raise ValueError("identity_biases needs fold_bn (unfolded convolutions have no bias)")
    g = _Graph(np.random.default_rng(seed), bn_stats, fold_bn, identity_biases)
    # stem: the preprocessed image has E[x^2] ~ 1
    x = g.conv_bn("input", "conv1", "bn1", 3, 64, 7, 2, second_moment=1.0, out_std=1.0)
    x = g.node("Relu", "/relu", [x])
    x = g.node("MaxPool", "/maxpool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
               ceil_mode=0, dilations=[1, 1])
    q = 1.2                                  # E[x^2] after ReLU and 3x3 max-pooling (1.16 on the photos)
    cin = 64
    for si, (width, blocks, stride) in enumerate(STAGES, start=1):
        for b in range(blocks):
            m = f"layer{si}.{b}"
            scope = f"/layer{si}/{m}"
            s = stride if b == 0 else 1
            cout = width * EXPANSION
            y = g.conv_bn(x, f"{m}.conv1", f"{m}.bn1", cin, width, 1, 1, q, 1.0)
            y = g.node("Relu", f"{scope}/relu", [y])
            y = g.conv_bn(y, f"{m}.conv2", f"{m}.bn2", width, width, 3, s, 0.5, 1.0)
            y = g.node("Relu", f"{scope}/relu_1", [y])
            if b == 0:
                # two zero-mean terms of variance 1/2: the ReLU of their sum has E[x^2] ~ 1/2
                y = g.conv_bn(y, f"{m}.conv3", f"{m}.bn3", width, cout, 1, 1, 0.5, RESET_STD)
                sc = g.conv_bn(x, f"{m}.downsample.0", f"{m}.downsample.1", cin, cout, 1, s, q, RESET_STD)
                q = 0.5
            else:
                # the shortcut is non-negative and passes the ReLU nearly whole: the branch adds its energy
                y = g.conv_bn(y, f"{m}.conv3", f"{m}.bn3", width, cout, 1, 1, 0.5, BRANCH_STD)
                sc = x
                q += BRANCH_STD ** 2
            y = g.node("Add", scope, [y, sc])
            x = g.node("Relu", f"{scope}/relu_2", [y])
            cin = cout
    x = g.node("GlobalAveragePool", "/avgpool", [x])
    x = g.node("Flatten", "", [x], axis=1)
    bound = 1.0 / np.sqrt(cin)
    fc_w = g.rng.uniform(-bound, bound, (NUM_CLASSES, cin)).astype(np.float32)
    fc_b = g.rng.uniform(-bound, bound, NUM_CLASSES).astype(np.float32)
    g.nodes.append(helper.make_node("Gemm", [x, "fc.weight", "fc.bias"], ["output"], name="/fc/Gemm",
                                    alpha=1.0, beta=1.0, transB=1))
    graph = helper.make_graph(
        g.nodes, "resnet50",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, NUM_CLASSES])], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="tools/models/resnet50_onnx.py")
    model.ir_version = 8
    if bn_stats == "random":
        fc_w, fc_b = _standardised_classifier(model, x, fc_w, fc_b)
    model.graph.initializer.extend([numpy_helper.from_array(fc_w, "fc.weight"), numpy_helper.from_array(fc_b, "fc.bias")])
    model.doc_string = (f"ResNet-50 (torchvision v1.5 topology), random weights seed={seed}, bn_stats={bn_stats}, "
                        f"fold_bn={fold_bn}, identity_biases={identity_biases}. Input: RGB 224x224, "
                        "(pixel/255 - mean)/std with ImageNet's per-channel mean and std, NCHW float32.")
    onnx.checker.check_model(model)
    return model


def _standardised_classifier(model: onnx.ModelProto, features: str, w: np.ndarray, b: np.ndarray):
    """Random features of random networks share a large image-independent part: with a plain random
    classifier every photo gets the same top-1 class. Standardise the 2048 pooled features (mean
    and std per channel over a few photos of the natural-calib split, never the test split) inside
    the classifier, as a BatchNorm before it would: w' = w / std, b' = b - w' mean."""
    import onnxruntime as ort

    from nvdla_int8.calib.natural_images import imagenet_preprocess, natural_images

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.node[-1]                 # the Gemm, whose weights do not exist yet
    del probe.graph.output[:]
    probe.graph.output.append(helper.make_tensor_value_info(features, TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(probe.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    photos = imagenet_preprocess(natural_images("calib")[::CLASSIFIER_PROBE_STRIDE])
    f = np.concatenate([sess.run(None, {"input": p[None]})[0] for p in photos])
    ws = (w / (f.std(axis=0) + 1e-3)).astype(np.float32)
    return ws, (b - ws @ f.mean(axis=0)).astype(np.float32)


def build_resnet50(path: str | Path, opset: int = 13, seed: int = 0, **options) -> Path:
    """Write the model to `path` (atomically); options as `resnet50`. Returns the path."""
    write_atomic(path, resnet50(opset, seed, **options).SerializeToString())
    return Path(path)


def report(path: str | Path) -> None:
    """Print what the model does on the natural test photos in onnxruntime: rms of every block's
    output, how many distinct top-1 classes, FP32 time per image."""
    import onnxruntime as ort

    from nvdla_int8.calib.natural_images import imagenet_preprocess, natural_images

    m = onnx.load(str(path))
    blocks = [n.output[0] for n in m.graph.node if n.name.endswith("relu_2/Relu")]
    m.graph.output.extend(helper.make_tensor_value_info(b, TensorProto.FLOAT, None) for b in blocks)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    x = imagenet_preprocess(natural_images("test"))
    t0 = time.perf_counter()
    runs = [sess.run(None, {"input": xi[None]}) for xi in x]
    per_image = (time.perf_counter() - t0) / len(x)
    for k, b in enumerate(blocks, start=1):
        print(f"{b}: rms {np.sqrt(np.mean([np.mean(r[k] ** 2) for r in runs])):.3f}")
    top1 = [int(r[0].argmax()) for r in runs]
    print(f"{len(set(top1))} distinct top-1 classes over {len(x)} natural test images; "
          f"onnxruntime FP32 {per_image * 1e3:.0f} ms per image")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True, help="ONNX file to write (about 100 MB)")
    ap.add_argument("--opset", type=int, default=13, choices=(13, 17))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bn-stats", choices=("random", "fresh"), default="random")
    ap.add_argument("--keep-bn", action="store_true", help="Conv + BatchNormalization nodes instead of folded convs")
    ap.add_argument("--identity-biases", action="store_true",
                    help="feed repeated conv biases through Identity nodes, as the PyTorch exporter does")
    ap.add_argument("--report", action="store_true",
                    help="then run it on the natural test photos: block output rms, distinct top-1 classes")
    a = ap.parse_args()
    t0 = time.perf_counter()
    build_resnet50(a.output, a.opset, a.seed, bn_stats=a.bn_stats, fold_bn=not a.keep_bn,
                   identity_biases=a.identity_biases)
    print(f"wrote {a.output} ({Path(a.output).stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    if a.report:
        report(a.output)


if __name__ == "__main__":
    main()
