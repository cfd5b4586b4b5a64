"""The ResNet-50 reference files that ship in models/resnet50 (tests/suite.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.suite import RESNET50, require


def find_data(name: str) -> Path:
    return require(RESNET50 / name)


@pytest.fixture
def resnet50_prototxt() -> Path:
    return find_data("ResNet-50-deploy.prototxt")


@pytest.fixture
def resnet50_table() -> Path:
    return find_data("resnet50.json")
