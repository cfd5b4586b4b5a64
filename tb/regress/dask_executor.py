"""`make regress EXECUTOR=dask [SCHEDULER=tcp://host:port]`: the regression's batches as Dask tasks.

The pytest controller (plugin.py) stays what it is for local runs, one JUnit testcase per seed;
only the batches run elsewhere. Each batch is one task; the task runs `python -m tb.regress batch`
in a fresh process on the worker, because cocotb-coverage keeps one coverage database per process
and a task must return the coverage of its own seeds only. The task sends back that process's
files (results, coverage YAML, largest partial sum); the controller writes them into the run
folder under the names a local worker would use for its own, and merges them the same way, so a
run gives the same verdicts, cycles and coverage whatever the executor (test_dask.py).

Without SCHEDULER a `distributed.LocalCluster` on this machine runs `workers` processes of one
thread. With SCHEDULER the workers are whatever joined it (`dask worker`, dask-jobqueue on
Slurm/LSF/SGE/PBS: docs/verification.md): they must see this checkout at the same path (a
shared file system) and import `tb` (PYTHONPATH=<checkout>). Every worker builds, or finds up to
date, the Verilator model once when it joins (RtlBuild); workers that share build/ take turns
through the build lock of tb/rtl_build.py, and each batch simulates in its own work folder.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from distributed import Client, LocalCluster, WorkerPlugin

from nvdla_int8.fileio import write_atomic

from ..rtl_build import ROOT
from .runner import worker_files


class RtlBuild(WorkerPlugin):
    """Builds (or reuses) the RTL model once per worker, before its first task."""

    name = "nvdla-rtl-build"

    def setup(self, worker):
        from ..rtl_build import get_runner
        get_runner()


def batch_name(batch: list[int]) -> str:
    """The file names of a batch's share of the run folder."""
    return f"dask-s{batch[0]}"


def run_batch(batch: list[int], tier: str, constraints: str, backend: str, out: str) -> dict:
    """The task: one batch in a fresh process; returns its files' contents and where it ran."""
    from distributed import get_worker

    name = batch_name(batch)
    cmd = [sys.executable, "-m", "tb.regress", "batch", "--seeds", ",".join(map(str, batch)), "--tier", tier,
           "--backend", backend, "--out", out, "--worker", name] + (["--constraints", constraints] if constraints else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        tail = " | ".join((p.stderr or p.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"batch {name} exited with status {p.returncode}: {tail}")
    files = worker_files(name).values()
    return {"worker": get_worker().address, "files": {f: (Path(out) / f).read_text() for f in files}}


class DaskBatches:
    """Submits every batch at once; `files(batch)` waits for one and writes its files locally."""

    def __init__(self, batches: list[list[int]], *, tier: str, constraints: str, backend: str, out: Path,
                 scheduler: str | None = None, workers: int = 2):
        self.out = Path(out)
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None)
            self.client = Client(self.cluster)
        if backend == "rtl":
            self.client.register_plugin(RtlBuild())
        constraints = str(Path(constraints).resolve()) if constraints else ""
        self.futures = {b[0]: self.client.submit(run_batch, b, tier, constraints, backend, str(self.out.resolve()),
                                                 key=f"regress-{self.out.name}-{batch_name(b)}", pure=False)
                        for b in batches}
        self.ran_on: set[str] = set()

    def files(self, batch: list[int]) -> list[Path]:
        got = self.futures[batch[0]].result()
        self.ran_on.add(got["worker"])
        paths = []
        for rel, text in got["files"].items():
            write_atomic(self.out / rel, text)  # already there on a shared file system: same bytes
            paths.append(self.out / rel)
        return paths

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
