"""Where the reference data that ships with the repository lives, for tests (tests/ and tb/).

A test that needs it asks `require(path)`: the path when it is there. When it is not (a partial
checkout), the test is skipped locally, but under CI (CI=true) it fails with the reason, so a
green CI run always means the suite ran.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = REPO / "vectors" / "conformance"   # 151 traces: nv_small/ (NVDLA upstream) and generated/
NV_SMALL = CONFORMANCE / "nv_small"
RESNET50 = REPO / "models" / "resnet50"          # prototxt and NVDLA's calibration tables
CALIB_CACHES = REPO / "tests" / "calib" / "data"  # small synthetic TensorRT caches
SPEC = REPO / "docs" / "spec"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str) -> None:
    """Skip (locally) or fail (under CI) a test whose reference data is absent."""
    msg = f"{what} is missing from this checkout (it ships with the repository; see vectors/README.md)"
    if in_ci():
        pytest.fail(f"CI: {msg}", pytrace=False)
    pytest.skip(msg)


def require(path: Path) -> Path:
    if not path.exists():
        missing(str(path.relative_to(REPO) if path.is_relative_to(REPO) else path))
    return path
