"""MobileNet-style digits network: depthwise-separable convolutions with BN and ReLU6.

    .venv/bin/python -m tools.models.dw_separable -o models/dw_separable.onnx

image 1x28x28 -> Conv 3x3 (16) + BN + ReLU6 -> three depthwise-separable blocks, each a depthwise
3x3 conv (group = channels) + BN + ReLU6 and a pointwise 1x1 conv + BN + ReLU6:
16 -> 32 (depthwise stride 2, 14x14), 32 -> 64 (stride 2, 7x7), 64 -> 64 (stride 1) ->
GlobalAveragePool -> Flatten -> Gemm 64->10 `digit`.
The export folds each BN into its conv (eval mode) and writes ReLU6 as Clip(0, 6).
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

from tools.models.mnist_training import build

HEADS = ("digit",)


def conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]


def separable(cin: int, cout: int, stride: int) -> list[nn.Module]:
    return conv_bn(cin, cin, 3, stride, groups=cin) + conv_bn(cin, cout, 1)


class DwSeparable(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*conv_bn(1, 16, 3), *separable(16, 32, 2), *separable(32, 64, 2),
                                      *separable(64, 64, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.digit = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.digit(self.features(x)),)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="models/dw_separable.onnx")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=15)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    build(DwSeparable(), HEADS, a.output, a.seed, a.epochs)


if __name__ == "__main__":
    main()
