"""pytest plugin of `make rtl-mutation`: one test item per mutant, so the campaign runs on the
regression's executor (pytest-xdist workers, `-n JOBS`) and shards as it does (--shard k/n: the
k-th of n contiguous blocks of the sample, tb/regress/runner.py's shard_seeds).

Options: --sample N --sample-seed S --shard k/n --tiers a,b --mutants id,id --mutation-out DIR
--keep-mutants. --mutants runs only the mutants named (a survivor again, once a test is added for
it), into build/rtl-mutation-selected; `python -m tb.rtl_mutation report` merges that run into
the campaign's report.
A mutant's test passes when a tier killed it or survivors.yaml classifies it as equivalent, is
skipped when it is stillborn, and fails (one line: file:line, the edit) when it survived
unexplained. Each worker appends its rows to results/<worker>.jsonl in the run folder; the
controller writes kill_matrix.json and report.md from them at the end.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

import pytest

from nvdla_int8.errors import InputError

from ..regress.runner import parse_shard, shard_seeds
from ..rtl_build import ROOT
from . import points, report
from .tiers import select

MUTANTS: list[points.Mutant] = []  # read by mutant_items.py when pytest imports it
_STATE: dict = {}


def pytest_addoption(parser):
    g = parser.getgroup("rtl-mutation", "RTL mutation campaign (tb/rtl_mutation)")
    g.addoption("--sample", type=int, default=None, help="run a reproducible sample of N mutants (default: all)")
    g.addoption("--sample-seed", type=int, default=1, help="seed of the sample (default 1)")
    g.addoption("--shard", default=None, help="k/n: the k-th of n contiguous blocks of the sample")
    g.addoption("--tiers", default="", help="kill tiers to run, comma-separated (default: all, cheapest first)")
    g.addoption("--mutants", default="", help="only these mutant ids, comma-separated")
    g.addoption("--mutation-out", default=None, help="run folder (default build/rtl-mutation[-shard-k-of-n])")
    g.addoption("--keep-mutants", action="store_true", help="keep each mutant's RTL copy and builds")


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config):
    shard = config.getoption("--shard")
    every = points.generate()
    chosen = points.sample(every, config.getoption("--sample"), config.getoption("--sample-seed"))
    MUTANTS[:] = [chosen[i] for i in shard_seeds(len(chosen), 0, parse_shard(shard))]
    named = [x for x in config.getoption("--mutants").split(",") if x]
    if named:
        unknown = set(named) - {m.id for m in every}
        if unknown:
            raise pytest.UsageError(f"no such mutant: {', '.join(sorted(unknown))} (python -m tb.rtl_mutation list)")
        MUTANTS[:] = [m for m in every if m.id in named]
    config._mut_generated = len(every)
    try:
        config._mut_tiers = select(config.getoption("--tiers"))
    except InputError as e:
        raise pytest.UsageError(str(e)) from None
    o = config.getoption("--mutation-out")
    config._mut_out = Path(o).resolve() if o else \
        ROOT / "build" / ("rtl-mutation" + ("-selected" if named else f"-shard-{shard.replace('/', '-of-')}" if shard else ""))
    config._mut_t0 = time.time()
    if not _is_worker(config):
        shutil.rmtree(config._mut_out / "results", ignore_errors=True)


@pytest.fixture(scope="session")
def rtl_mutation(request):
    """What a mutant's test needs: tiers, digested traces (once per worker), folders, verdicts."""
    from .tiers import Traces
    cfg = request.config
    if not _STATE:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        out = cfg._mut_out
        _STATE.update(out=out, worker=worker, tiers=cfg._mut_tiers, keep=cfg.getoption("--keep-mutants"),
                      known=report.classifications(),
                      traces=Traces.digest(out / "digests" / worker))
        (out / "results").mkdir(parents=True, exist_ok=True)
    return _STATE


def record(state: dict, row: dict) -> None:
    with open(state["out"] / "results" / f"{state['worker']}.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


def _command(config) -> str:
    opts = {"--sample": "SAMPLE", "--sample-seed": "SEED", "--shard": "SHARD", "--tiers": "TIER", "--mutants": "MUTANTS"}
    given = [f"{v}={config.getoption(k)}" for k, v in opts.items() if config.getoption(k) not in (None, "")]
    return " ".join(["make rtl-mutation", *given])


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if _is_worker(config):
        return
    out = config._mut_out
    rows = [json.loads(ln) for p in sorted((out / "results").glob("*.jsonl")) for ln in p.read_text().splitlines() if ln]
    if not rows:
        return
    info = {"command": _command(config), "argv": " ".join(map(shlex.quote, sys.argv[1:])),
            "generated": config._mut_generated, "sample": config.getoption("--sample") or "all",
            "seed": config.getoption("--sample-seed"), "shard": config.getoption("--shard") or "1/1",
            "tiers": [t.name for t in config._mut_tiers],
            "jobs": getattr(config.option, "numprocesses", None) or 1, "wall_seconds": time.time() - config._mut_t0}
    known = report.classifications()
    md = report.write(out, info, rows, known)
    killed, total = report.score(rows, known)
    config._mut_summary = [f"rtl-mutation: {killed} of {total} non-equivalent mutants killed "
                           f"({report.percent(killed, total)}); report {md}, kill matrix {out / 'kill_matrix.json'}"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for ln in getattr(config, "_mut_summary", []):
        terminalreporter.write_line(ln)
