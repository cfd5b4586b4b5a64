"""SqueezeNet-style digits network: fire modules whose two expand branches are concatenated along
channels, and a residual Add around the second fire module.

    .venv/bin/python -m tools.models.fire_concat -o models/fire_concat.onnx

image 1x28x28 -> Conv 3x3 (24) + ReLU -> MaxPool 2x2 (14x14) -> fire1 -> fire2 (+ fire1's output,
SqueezeNet's "simple bypass") -> MaxPool 2x2 (7x7) -> fire3 (squeeze 12, expand 24 + 24) -> Flatten ->
Gemm 2352->10 `digit`.
A fire module: squeeze Conv 1x1 (8) + ReLU, then two branches, expand Conv 1x1 (16) + ReLU and
expand Conv 3x3 (16) + ReLU, concatenated along channels (32).
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

from tools.models.mnist_training import build

HEADS = ("digit",)


class Fire(nn.Module):
    def __init__(self, cin: int, squeeze: int, expand: int):
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(cin, squeeze, 1), nn.ReLU())
        self.expand1x1 = nn.Sequential(nn.Conv2d(squeeze, expand, 1), nn.ReLU())
        self.expand3x3 = nn.Sequential(nn.Conv2d(squeeze, expand, 3, padding=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze(x)
        return torch.cat([self.expand1x1(s), self.expand3x3(s)], dim=1)


class FireConcat(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 24, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.fire1 = Fire(24, 8, 16)
        self.fire2 = Fire(32, 8, 16)
        self.pool = nn.MaxPool2d(2)
        self.fire3 = Fire(32, 12, 24)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(48 * 7 * 7, 10))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        f1 = self.fire1(self.stem(x))
        f2 = self.fire2(f1) + f1
        return (self.classifier(self.fire3(self.pool(f2))),)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="models/fire_concat.onnx")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=15)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    build(FireConcat(), HEADS, a.output, a.seed, a.epochs)


if __name__ == "__main__":
    main()
