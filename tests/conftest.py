"""Shared fixtures: where the shared reference material is, and hypothesis profiles."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NVDLA_SHARED", REPO.parent / "shared"))
TRACES = SHARED / "nvdla_traces"

# CI: derandomised so a run is repeatable; locally `--hypothesis-profile=dev` explores more.
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    if not TRACES.is_dir():
        pytest.skip(f"shared traces not found at {TRACES} (set NVDLA_SHARED)")
    return TRACES


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    d = SHARED / "spec"
    if not d.is_dir():
        pytest.skip(f"shared spec not found at {d} (set NVDLA_SHARED)")
    return d
