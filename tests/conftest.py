"""Fixtures: the reference data in the repository (tests/suite.py), and hypothesis profiles."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.suite import CONFORMANCE, SPEC, require

# CI: derandomised so a run is repeatable; locally `--hypothesis-profile=dev` explores more.
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    return require(CONFORMANCE)


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    return require(SPEC)
