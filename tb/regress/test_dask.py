"""`make regress EXECUTOR=dask` against a real scheduler: a `dask scheduler` and two `dask worker`
processes on the loopback interface, a smoke regression through them, and the same seeds run
locally with pytest-xdist: same verdicts, cycles, layers, coverage database and JUnit outcomes.
The golden backend keeps it cheap; the RTL through Dask is measured in docs/verification.md."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tb.rtl_build import ROOT
from tb.regress.runner import load_results

SEEDS, BATCH = 6, 2
pytest.importorskip("distributed")


def _regress(out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", "-p", "tb.regress.plugin", "tb/regress/regress_seeds.py", "-q",
           "-p", "no:cacheprovider", "--seeds", str(SEEDS), "--tier", "smoke", "--batch", str(BATCH),
           "--backend", "golden", "--regress-out", str(out), "--junitxml", str(out / "junit.xml"), *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def comparable(out: Path) -> dict:
    """What two runs of the same seeds must agree on: everything but times and who ran what."""
    results = [{k: v for k, v in r.__dict__.items() if not k.endswith("seconds")} for r in load_results(out)]
    cases = sorted((c.get("classname"), c.get("name"), [e.tag for e in c]) for c in ET.parse(out / "junit.xml").iter("testcase"))
    report = (out / "report.md").read_text()
    return {"results": results, "junit": cases, "coverage": yaml.safe_load((out / "coverage.yml").read_text()),
            "holes": report[report.index("## Failures"):report.index("## Slowest seeds")],
            "psum": max(int(p.read_text()) for p in (out / "results").glob("*.psum"))}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-thread worker processes on 127.0.0.1; yields the address."""
    from distributed import Client

    tmp_path = tmp_path_factory.mktemp("dask")
    dask = Path(sys.executable).parent / "dask"
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    common = dict(cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "dask.log", "w"))
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", sched_file], **common)]
    try:
        deadline = time.time() + 60
        while not sched_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        procs += [subprocess.Popen([dask, "worker", "--scheduler-file", sched_file, "--nworkers", "1", "--nthreads", "1",
                                    "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}"], **common)
                  for i in range(2)]
        address = json.loads(sched_file.read_text())["address"]
        with Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_dask_regression_equals_local_run(tmp_path, cluster):
    assert cluster.startswith("tcp://127.0.0.1:")
    dask, local = _regress(tmp_path / "dask", "--executor", "dask", "--scheduler", cluster), \
        _regress(tmp_path / "local", "-n", "2", "--dist", "loadscope")
    for run in (dask, local):
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # The worker count is read when the run ends: under heavy load the scheduler may have dropped a
    # worker that missed its heartbeats (seen once at load 6), which is not what this test checks.
    ran = re.search(rf"{SEEDS // BATCH} batches ran as Dask tasks on (\d+) of (\d+) workers", dask.stdout)
    assert ran and 1 <= int(ran[1]) <= int(ran[2]) <= 2, dask.stdout[-3000:]
    assert sorted(p.name for p in (tmp_path / "dask" / "cov").iterdir()) == [f"dask-s{s}.yml" for s in (1, 3, 5)]
    a, b = comparable(tmp_path / "dask"), comparable(tmp_path / "local")
    assert [r["seed"] for r in a["results"]] == list(range(1, SEEDS + 1))
    assert len(a["junit"]) == SEEDS and all(outcome == [] for *_, outcome in a["junit"])  # all passed
    assert a == b


def test_a_failed_task_fails_its_seeds_in_one_line(tmp_path, cluster):
    """A batch whose process fails (here: a constraints file with an unknown knob, read on the
    worker) fails each of its seeds with the task's error, not a traceback."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"knobs": {"no_such_knob": {"range": [1, 2]}}}')
    run = _regress(tmp_path / "out", "--executor", "dask", "--scheduler", cluster, "--constraints", str(bad))
    assert run.returncode == 1 and f"{SEEDS} failed" in run.stdout, run.stdout[-3000:]
    assert "the Dask task failed: batch dask-s1 exited with status 2" in run.stdout and "bad.json" in run.stdout
    assert "Traceback" not in run.stdout


def test_dask_and_xdist_do_not_mix(tmp_path):
    run = _regress(tmp_path, "--executor", "dask", "-n", "2")
    assert run.returncode != 0 and "leave out -n" in run.stderr + run.stdout


@pytest.mark.rtl
def test_worker_plugin_builds_the_rtl():
    """The plugin every worker runs before an RTL batch (the tests above use the golden backend)."""
    from tb.regress.dask_executor import RtlBuild

    RtlBuild().setup(worker=None)
