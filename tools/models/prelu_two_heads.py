"""MTCNN-style digits network: Conv + PReLU, MaxPool with ceil_mode=1, two heads (digit, parity).

    .venv/bin/python -m tools.models.prelu_two_heads -o models/prelu_two_heads.onnx

image 1x28x28 -> Conv 3x3 (10, pad 1) + PReLU -> MaxPool 3x3/2 ceil (14x14) -> Conv 3x3 (16) + PReLU
(12x12) -> MaxPool 3x3/2 ceil (6x6) -> Conv 3x3 (32) + PReLU (4x4) -> Flatten -> Gemm 512->64 +
PReLU -> two heads: Gemm 64->10 `digit` (which digit) and Gemm 64->2 `parity` (odd or even).
Both poolings are ones where ceil_mode changes the output size (floor would give 13 and 5).
PReLU slopes are per channel, trained from PyTorch's 0.25.
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

from tools.models.mnist_training import build

HEADS = ("digit", "parity")


class PReluTwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 10, 3, padding=1), nn.PReLU(10), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(10, 16, 3), nn.PReLU(16), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(16, 32, 3), nn.PReLU(32), nn.Flatten(), nn.Linear(512, 64), nn.PReLU(64))
        self.digit = nn.Linear(64, 10)
        self.parity = nn.Linear(64, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.body(x)
        return self.digit(f), self.parity(f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="models/prelu_two_heads.onnx")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=15)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    build(PReluTwoHeads(), HEADS, a.output, a.seed, a.epochs)


if __name__ == "__main__":
    main()
