"""The reference data ships with the repository; a test that needs it and does not find it skips
locally but fails under CI (tests/suite.py), so a green CI run means the suite ran."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.suite import CALIB_CACHES, CONFORMANCE, REPO, RESNET50, SPEC, in_ci, require


def test_the_reference_data_is_in_the_repository():
    assert len(list(CONFORMANCE.rglob("*.cfg"))) == 151
    assert (CONFORMANCE / "LICENSE").is_file() and (CONFORMANCE / "generated" / "MANIFEST.tsv").is_file()
    assert (RESNET50 / "ResNet-50-deploy.prototxt").is_file() and (RESNET50 / "LICENSE-nvdla-sw").is_file()
    assert len(list(CALIB_CACHES.glob("*.cache"))) == 3 and (SPEC / "registers.md").is_file()


@pytest.mark.parametrize("value, ci", [("true", True), ("1", True), ("", False), ("false", False), ("0", False)])
def test_ci_is_read_from_the_environment(monkeypatch, value, ci):
    monkeypatch.setenv("CI", value)
    assert in_ci() is ci


def _run_needing(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    """pytest on a test that requires a path that is not there."""
    (tmp_path / "test_needs.py").write_text(
        "from pathlib import Path\nfrom tests.suite import require\n\n"
        "def test_needs():\n    require(Path('vectors/no-such-suite'))\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "--rootdir",
                           str(tmp_path), "-c", "/dev/null", str(tmp_path / "test_needs.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_missing_suite_skips_locally_and_fails_under_ci(tmp_path):
    local = _run_needing(tmp_path, None)
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout
    assert "vectors/no-such-suite is missing from this checkout" in local.stdout
    ci = _run_needing(tmp_path, "true")
    assert ci.returncode == 1 and "1 failed" in ci.stdout, ci.stdout
    assert "CI: vectors/no-such-suite is missing from this checkout" in ci.stdout
    assert "Traceback" not in ci.stdout


def test_present_path_is_returned():
    assert require(CONFORMANCE) == CONFORMANCE
