"""tb/conv: tests marked slow (every dc_* trace one by one on conv_core) run only with
NVDLA_RUN_SLOW=1, so `make test` stays short (`make conformance BACKEND=rtl` runs every dc_* trace
through the top anyway)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    if os.environ.get("NVDLA_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set NVDLA_RUN_SLOW=1")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents and "slow" in item.keywords:
            item.add_marker(skip)
