"""pytest plugin of `make regress`: one test item (one JUnit testcase) per seed.

Options: --seeds N --seed-start S --tier smoke|nightly --shard k/n --constraints FILE
--backend rtl|golden|nvdla --batch B --regress-out DIR --executor local|dask --scheduler ADDR
--dask-workers N. The seeds of one batch are the items of one test class (regress_seeds.py), so
`--dist loadscope` gives a whole batch to one worker, which simulates it in one simulation.
(xdist's loadgroup does not group under pytest 9: it rewrites a node id attribute pytest 9 no
longer reads.) Each worker writes its results and coverage (cocotb-coverage YAML) into the run
folder; the controller merges them and writes report.md/.html and coverage.txt/.html there.
With --executor dask the controller runs alone and every batch is a Dask task
(dask_executor.py) whose files land in the same folder.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from nvdla_int8.fileio import write_atomic

from ..rtl_build import ROOT
from ..stimulus import Constraints
from .runner import Regression, SeedResult, batches, load_results, parse_shard, read_results, shard_seeds


def pytest_addoption(parser):
    g = parser.getgroup("regress", "random regression (tb/regress)")
    g.addoption("--seeds", type=int, default=20, help="number of seeds (default 20)")
    g.addoption("--seed-start", type=int, default=1, help="first seed (default 1)")
    g.addoption("--tier", default="smoke", help="constraint tier: smoke or nightly")
    g.addoption("--shard", default=None, help="k/n: run the k-th of n contiguous blocks of the seeds")
    g.addoption("--constraints", default="", help="JSON/YAML file overriding knobs of the tier")
    g.addoption("--backend", default="rtl", help="rtl (default), golden or nvdla (NVDLA's own RTL, tb/nvdla)")
    g.addoption("--batch", type=int, default=8, help="seeds per simulation (default 8)")
    g.addoption("--regress-out", default=None, help="run folder (default build/regress/<tier>[-shard-k-of-n])")
    g.addoption("--executor", default="local", choices=["local", "dask"],
                help="local: this process or its pytest-xdist workers; dask: each batch a Dask task")
    g.addoption("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    g.addoption("--dask-workers", type=int, default=os.cpu_count() or 1,
                help="worker processes of the LocalCluster (default: this machine's cores)")


def _out_dir(config) -> Path:
    o = config.getoption("--regress-out")
    if o:
        return Path(o).resolve()
    shard = config.getoption("--shard")
    name = config.getoption("--tier") + (f"-shard-{shard.replace('/', '-of-')}" if shard else "")
    return ROOT / "build" / "regress" / name


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config):
    shard = parse_shard(config.getoption("--shard"))
    seeds = shard_seeds(config.getoption("--seeds"), config.getoption("--seed-start"), shard)
    config._regress_batches = batches(seeds, max(1, config.getoption("--batch")))
    BATCHES[:] = config._regress_batches
    config._regress_out = _out_dir(config)
    config._regress_t0 = time.time()
    if config.getoption("--executor") == "dask" and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("--executor dask runs the batches on Dask workers: leave out -n")
    if not _is_worker(config):  # a fresh run folder (results and coverage of this run only)
        for sub in ("results", "cov", "traces", CODE_COV):
            shutil.rmtree(config._regress_out / sub, ignore_errors=True)


CODE_COV = "code-cov"  # where `make regress CODE_COVERAGE=1` points $NVDLA_RTL_COVERAGE
BATCHES: list[list[int]] = []  # read by regress_seeds.py when pytest imports it
_STATE: dict = {}


class _Local:
    """Batches run in this process, each when its first seed's test asks for it."""

    def __init__(self, reg: Regression):
        self.reg = reg

    def result(self, batch: list[int], seed: int) -> SeedResult:
        if seed not in self.reg.results:
            self.reg.run_batch(batch)
        return self.reg.results[seed]


class _Dask:
    """Batches run as Dask tasks, all submitted when the first seed's test asks."""

    def __init__(self, cfg, batches):
        from .dask_executor import DaskBatches
        scheduler = cfg.getoption("--scheduler")
        try:
            self.tasks = DaskBatches(batches, tier=cfg.getoption("--tier"), constraints=cfg.getoption("--constraints"),
                                     backend=cfg.getoption("--backend"), out=cfg._regress_out,
                                     scheduler=scheduler, workers=cfg.getoption("--dask-workers"))
        except OSError as e:  # no scheduler there, or the LocalCluster could not start
            pytest.exit(f"regress: no Dask cluster at {scheduler or 'a LocalCluster'}: {e}", returncode=2)
        self.results: dict[int, SeedResult] = {}

    def result(self, batch: list[int], seed: int) -> SeedResult:
        if seed not in self.results:
            try:
                files = self.tasks.files(batch)
            except Exception as e:  # the task's own error, re-raised here by Dask
                pytest.fail(f"seeds {batch[0]}..{batch[-1]}: the Dask task failed: {e}", pytrace=False)
            for f in files:
                if f.suffix == ".jsonl":
                    self.results.update((r.seed, r) for r in read_results(f))
        return self.results[seed]


@pytest.fixture(scope="session")
def regress(request):
    """What a seed's test asks for its verdict: `regress["run"].result(batch, seed)`."""
    cfg = request.config
    if "run" not in _STATE:
        if cfg.getoption("--executor") == "dask":
            _STATE["run"] = _Dask(cfg, cfg._regress_batches)
        else:
            c = Constraints.load(cfg.getoption("--tier"), cfg.getoption("--constraints") or None)
            _STATE["reg"] = Regression(c, cfg._regress_out, cfg.getoption("--backend"),
                                       os.environ.get("PYTEST_XDIST_WORKER", "main"))
            _STATE["run"] = _Local(_STATE["reg"])
    return _STATE


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    reg = _STATE.get("reg")
    out = config._regress_out
    if reg is not None and reg.results:
        reg.write_outputs()
    if _is_worker(config):
        return
    dask = _STATE.get("run") if isinstance(_STATE.get("run"), _Dask) else None
    if dask is not None:
        config._regress_dask = (len(dask.tasks.futures), len(dask.tasks.ran_on), dask.tasks.workers)
        dask.tasks.close()
    _finish_run(config, out)


def _finish_run(config, out: Path) -> None:
    from ..coverage.report import merge, write_reports
    from . import report

    results = load_results(out)
    if not results:
        return
    covs = sorted((out / "cov").glob("*.yml"))
    cov = write_reports(merge(out / "coverage.yml", covs), out) if covs else None
    psum = max((int(p.read_text()) for p in (out / "results").glob("*.psum")), default=None)
    dask = getattr(config, "_regress_dask", None)
    info = {"name": out.name, "tier": config.getoption("--tier"), "backend": config.getoption("--backend"),
            "seeds": f"{config.getoption('--seed-start')}..+{config.getoption('--seeds')}",
            "shard": config.getoption("--shard") or "1/1",
            "jobs": f"{dask[2]} Dask workers" if dask else getattr(config.option, "numprocesses", None) or 1,
            "wall_seconds": time.time() - config._regress_t0, "psum_max": psum}
    dats = sorted((out / CODE_COV).glob("*.dat"))
    if dats:
        from nvdla_int8.errors import InputError

        from ..coverage import waivers
        from ..coverage.code import apply_waivers, report as code_report, summarize

        try:
            entries, broken = waivers.load(), []
        except InputError as e:  # the raw figures still stand; the list's error is reported
            entries, broken = [], [str(e)]
        code = apply_waivers(summarize(dats), entries)
        write_atomic(out / "code-coverage.txt", code_report(code))
        info["code_coverage"] = code.line()
        info["waivers_to_fix"] = broken + code.applied.bad()
    md = report.write(out, info, results, cov)
    passed = sum(r.passed for r in results)
    config._regress_summary = ([f"regress: {dask[0]} batches ran as Dask tasks on {dask[1]} of {dask[2]} workers"]
                               if dask else []) + [
        f"regress: {passed}/{len(results)} seeds passed"
        + (f", functional coverage {cov.percent:.1f}% ({cov.percent_reachable:.1f}% of reachable bins), "
           f"{sum(1 for h in cov.holes if not h.reason)} holes to close" if cov else ""),
        f"regress: report {md} (and .html), coverage {out / 'coverage.txt'}"] + (
        [f"regress: code coverage of rtl_models/ {info['code_coverage']}; holes in {out / 'code-coverage.txt'}"]
        + [f"regress: waiver list entry to fix: {ln}" for ln in info["waivers_to_fix"]]
        if "code_coverage" in info else [])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for ln in getattr(config, "_regress_summary", []):
        terminalreporter.write_line(ln)
