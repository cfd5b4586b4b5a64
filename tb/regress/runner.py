"""The regression: seeds -> generated traces -> RTL (or golden) -> bit-exact verdict -> coverage.

One simulation plays a batch of consecutive seeds (simulator start-up is paid once per batch);
trace i of a batch starting at seed s gets the testbench latency seed s + i (tb/uvm/env.py), so
seed s always runs with latency seed s, alone or in any batch, and `replay` reproduces it.
"""
from __future__ import annotations

import json
import os
import shlex
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nvdla_int8.conformance import FAIL, PASS, TraceOutcome
from nvdla_int8.errors import InputError
from nvdla_int8.golden.replay import replay_trace

from ..rtl_build import RTL_DIR_ENV, ROOT
from ..stimulus import Constraints, generate

BACKENDS = ("rtl", "golden", "nvdla")


@dataclass
class SeedResult:
    seed: int
    status: str
    cycles: int | None
    sim_seconds: float  # the testbench's time for this trace (RTL) or the golden replay
    gen_seconds: float  # generate + legality + golden CRCs + coverage sampling
    layers: list[str] = field(default_factory=list)
    message: str = ""
    replay: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS


def parse_shard(text: str | None) -> tuple[int, int]:
    """'k/n' (1 <= k <= n) -> (k, n); None -> (1, 1)."""
    if not text:
        return 1, 1
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise InputError(f"shard {text!r}: write k/n, e.g. 2/4", where="SHARD") from None
    if not 1 <= k <= n:
        raise InputError(f"shard {text!r}: need 1 <= k <= n", where="SHARD")
    return k, n


def shard_seeds(count: int, start: int, shard: tuple[int, int]) -> list[int]:
    """Shard k of n of the seeds start .. start+count-1: a contiguous block (so a shard's batches
    keep consecutive seeds); the n blocks differ in size by at most one and cover every seed once."""
    k, n = shard
    lo = start + (count * (k - 1)) // n
    hi = start + (count * k) // n
    return list(range(lo, hi))


def batches(seeds: list[int], size: int) -> list[list[int]]:
    """Consecutive runs of at most `size` seeds (a gap in the seeds starts a new batch)."""
    out: list[list[int]] = []
    for s in seeds:
        if out and len(out[-1]) < size and out[-1][-1] == s - 1:
            out[-1].append(s)
        else:
            out.append([s])
    return out


def replay_command(seed: int, tier: str, constraints: str = "", backend: str = "rtl") -> str:
    """The one command that replays `seed` alone, with waveforms, exactly as the regression ran it."""
    parts = []
    rtl = os.environ.get(RTL_DIR_ENV)
    if rtl:
        parts.append(f"{RTL_DIR_ENV}={shlex.quote(rtl)}")
    parts += ["make", "-C", shlex.quote(str(ROOT)), "regress-replay", f"SEED={seed}", f"TIER={tier}"]
    if constraints:
        parts.append(f"CONSTRAINTS={shlex.quote(str(Path(constraints).resolve()))}")
    if backend != "rtl":
        parts.append(f"BACKEND={backend}")
    parts.append("WAVES=1")
    return " ".join(parts)


class Regression:
    """Runs seeds in batches and samples coverage of the passing ones (in this process)."""

    def __init__(self, constraints: Constraints, out_dir: Path, backend: str = "rtl", worker: str = "main",
                 extra_env: dict[str, str] | None = None, waves: bool = False):
        if backend not in BACKENDS:
            raise InputError(f"backend {backend!r}: use one of {', '.join(BACKENDS)}", where="BACKEND")
        self.c = constraints
        self.out = Path(out_dir).resolve()
        self.backend = backend
        self.worker = worker
        self.extra_env = extra_env
        self.waves = waves
        self.results: dict[int, SeedResult] = {}
        self.psum_max = 0

    def run_batch(self, seeds: list[int]) -> list[SeedResult]:
        from ..coverage.model import sample_trace

        tdir = self.out / "traces"
        gen: dict[int, tuple] = {}
        for s in seeds:
            t0 = time.perf_counter()
            g = generate(s, self.c)
            path = g.save(tdir)
            gen[s] = (g, path, time.perf_counter() - t0)
        outcomes = self._play([gen[s][1] for s in seeds], seeds[0])
        out = []
        for s, o in zip(seeds, outcomes):
            g, _, gsec = gen[s]
            t0 = time.perf_counter()
            if o.passed:  # sound only for a run that matched the golden model stage by stage
                self.psum_max = max(self.psum_max, sample_trace(g.trace).psum_max)
            r = SeedResult(s, o.status, o.cycles, o.seconds, gsec + time.perf_counter() - t0,
                           [la.summary for la in g.layers], o.message,
                           "" if o.passed else replay_command(s, self.c.tier, self.c.source, self.backend))
            self.results[s] = r
            out.append(r)
        return out

    def _play(self, paths: list[Path], first_seed: int) -> list[TraceOutcome]:
        if self.backend == "golden":
            from nvdla_int8.trace.trace import Trace
            return [replay_trace(Trace.load(p))[0] for p in paths]
        if self.backend == "nvdla":  # NVDLA's own RTL ($NVDLA_PLAYER; tb/nvdla)
            from ..nvdla.run import as_outcomes, check, player_binary
            return as_outcomes(check(player_binary(), paths, ours=False, work=self.out))
        from ..trace_runner import run_traces
        work = self.out / "sim" / self.worker
        return list(run_traces(paths, seed=first_seed, stall=True, waves=self.waves, work_dir=work,
                               extra_env=self.extra_env))

    def write_results(self) -> Path:
        p = self.out / worker_files(self.worker)["results"]
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("".join(json.dumps(asdict(r)) + "\n" for r in sorted(self.results.values(), key=lambda r: r.seed)))
        return p

    def write_outputs(self) -> None:
        """This process's share of the run folder (worker_files), merged by the controller
        (plugin._finish_run): results, coverage of every passing seed it ran, largest CACC sum."""
        from ..coverage.model import export
        files = worker_files(self.worker)
        self.write_results()
        (self.out / files["cov"]).parent.mkdir(parents=True, exist_ok=True)
        export(self.out / files["cov"])
        (self.out / files["psum"]).write_text(str(self.psum_max))


def worker_files(worker: str) -> dict[str, str]:
    """The files one worker process writes into a run folder, relative to it."""
    return {"results": f"results/{worker}.jsonl", "psum": f"results/{worker}.psum", "cov": f"cov/{worker}.yml"}


def failure_line(r: SeedResult) -> str:
    return f"seed {r.seed} FAIL: {r.message} | replay: {r.replay}"


def read_results(path: Path) -> list[SeedResult]:
    """One worker's results file."""
    return [SeedResult(**json.loads(ln)) for ln in Path(path).read_text().splitlines() if ln.strip()]


def load_results(out_dir: Path) -> list[SeedResult]:
    """Every worker's results of a run folder, by seed."""
    res = [r for p in sorted((Path(out_dir) / "results").glob("*.jsonl")) for r in read_results(p)]
    return sorted(res, key=lambda r: r.seed)


__all__ = ["BACKENDS", "FAIL", "PASS", "Regression", "SeedResult", "batches", "failure_line", "load_results",
           "parse_shard", "read_results", "replay_command", "shard_seeds", "worker_files"]
