"""Where the ResNet-50 reference files are: the repository's models/ first (where they are being
shipped), then ../shared beside the repository."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_PLACES = (REPO / "models", REPO.parent / "shared" / "models", REPO.parent / "shared" / "calib")


def find_data(name: str) -> Path:
    for d in _PLACES:
        if (d / name).is_file():
            return d / name
    pytest.skip(f"{name} not found in {', '.join(str(d) for d in _PLACES)}")


@pytest.fixture
def resnet50_prototxt() -> Path:
    return find_data("ResNet-50-deploy.prototxt")


@pytest.fixture
def resnet50_table() -> Path:
    return find_data("resnet50.json")
