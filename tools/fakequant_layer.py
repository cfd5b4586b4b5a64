"""One conv layer of a quantized network: the golden model's INT8 output against an exact float
fake-quant of the same scales, per output channel, on test digits. Tells an integer-path problem
of our compile (the golden output departs from the fake-quant) from genuine quantization (they
agree, and both depart from FP32). Written for issue #14's dw_separable diagnosis
(docs/calibration.md, "auto").

    .venv/bin/python tools/fakequant_layer.py MODEL TABLE LAYER [--set TENSOR=THRESHOLD ...]
        [--mode per-kernel|per-filter] [--images 100]

The fake-quant takes the golden model's own int8 input of the layer (so only this layer is
compared), dequantizes it, convolves in float64 with the dequantized int8 weights and the float
bias, applies the activation and rounds to the output scale (ties away from zero).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compiler"))

from nvdla_int8.calib.bias_correction import conv_float  # noqa: E402
from nvdla_int8.calib.digits import load_split  # noqa: E402
from nvdla_int8.calib.nvdla_table import read_table  # noqa: E402
from nvdla_int8.commands.sim import preprocess_for  # noqa: E402
from nvdla_int8.graph.fold import load_graph  # noqa: E402
from nvdla_int8.hw.fixed import round_away  # noqa: E402
from nvdla_int8.quantize.network import quantize  # noqa: E402
from nvdla_int8.run.in_memory import InMemoryNetwork  # noqa: E402
from nvdla_int8.run.reference import fp32_activations  # noqa: E402


def fakequant_conv(q, x_int8: np.ndarray) -> np.ndarray:
    """(N, K, Ho, Wo) int8 values of layer q from its int8 input (N, C, H, W), in float64."""
    L = q.layer
    w = q.weight.astype(np.float64) * q.w_scale[:, None, None, None]
    acc = conv_float(L, x_int8.astype(np.float64) * q.in_scale, w)
    y = acc + L.bias[None, :, None, None]
    if L.act is not None and L.act.kind == "relu":
        y = np.maximum(y, 0)
        if L.act.clip_max is not None:
            y = np.minimum(y, L.act.clip_max)
    return np.clip(round_away(y / q.out_scale), -128, 127)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("table", type=Path)
    ap.add_argument("layer", help="node name of a Conv/Gemm layer without residual or PReLU")
    ap.add_argument("--set", nargs="*", default=[], metavar="TENSOR=THRESHOLD", help="override thresholds")
    ap.add_argument("--mode", default="per-kernel")
    ap.add_argument("--images", type=int, default=100, help="first N test digits")
    a = ap.parse_args()
    g = load_graph(a.model)
    scales = {k: e.effective_scale() for k, e in read_table(a.table).items()}
    for s in a.set:
        name, thr = s.rsplit("=", 1)
        scales[name] = float(np.float32(float(thr) / 127))
    qnet = quantize(g, scales, a.mode)
    q = qnet.layers[a.layer]
    images = load_split("test")[0][:a.images]
    net = InMemoryNetwork(qnet)
    runs = [net.run(img) for img in images]
    x = np.stack([r[q.layer.input] for r in runs])
    gold = np.stack([r[q.layer.output] for r in runs]).astype(np.int64)
    fq = fakequant_conv(q, x)
    fp = fp32_activations(a.model, preprocess_for(g)(images), [q.layer.output])[q.layer.output]
    fp = fp.reshape(gold.shape)
    d = gold - fq
    print(f"{a.layer} ({a.mode}): in scale {q.in_scale:.6g} (T {127 * q.in_scale:.4g}), out scale {q.out_scale:.6g}, "
          f"rescale rel. error {q.report['rescale_rel_error']:.2e}; golden != fake-quant on {np.mean(d != 0):.3%} "
          f"of {d.size} values, max |diff| {int(np.abs(d).max())} LSB")
    print(f"{'ch':>3} {'!= fq':>7} {'|gold-FP32|':>11} {'|fq-FP32|':>10} {'gold-FP32':>10}")
    for c in range(gold.shape[1]):
        eg, ef = gold[:, c] * q.out_scale - fp[:, c], fq[:, c] * q.out_scale - fp[:, c]
        print(f"{c:3} {np.mean(d[:, c] != 0):7.3%} {np.abs(eg).mean():11.4f} {np.abs(ef).mean():10.4f} {eg.mean():10.4f}")


if __name__ == "__main__":
    main()
