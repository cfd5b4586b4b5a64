"""One mutant's life: copy rtl_models/ with the mutant applied, build it (a Verilator error makes
it stillborn, not killed), run the kill tiers cheapest first and stop at the first that fails.

Every tier is a part of what `make test` runs, on the mutated RTL (NVDLA_RTL_DIR):
- subset:      the raw C++ harness (tb/raw) on SUBSET, a dozen conformance traces covering conv
               (1x1, big kernels, dilation, many channels) and SDP (bypass, BS, BN, mixed, from
               memory and registers), CRC checked;
- conformance: the raw harness on all 151 conformance traces (make test replays them through
               the cocotb flow: tb/test_rtl_conformance.py);
- smoke:       the smoke regression seeds of tb/test_regress_smoke.py through the cocotb flow,
               bit-exact with the golden model stage by stage;
- unit:        the RTL unit tests of UNIT_TESTS (register files, directed conv traces, CACC alone,
               groups, stress, NVDLA rules, conv_core's program check).
Each tier is bounded in time; a mutant still running at its bound is killed (a hang).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from nvdla_int8.conformance import find_traces
from nvdla_int8.errors import InputError

from .. import rtl_build
from ..raw.build import build as build_raw
from ..raw.digest import digest_all
from ..raw.run import replay
from ..regress.runner import read_results
from .points import Mutant, mutant_copy

KILLED, SURVIVED, STILLBORN, NOT_RUN = "killed", "survived", "stillborn", "not run"

SUBSET = ["dc_1x1x8_1x1x8x1_int8_0", "dc_14x7x49_3x4x49x32_int8_0", "dc_8x8x36_4x4x36x16_dilation_int8_0",
          "dc_13x15x64_5x3x64x16_int8_0", "dc_2x4x2_2x4x2x16_int8_1_14", "dc_13x6x7_6x6x7x3_int8_1_36",
          "sdp_1x1x1_pass_through_int8", "sdp_8x8x32_bypass_int8_0", "sdp_3x3x33_bs_bn_int8_0",
          "sdp_23x13x42_bs_int8_mem_0", "sdp_3x3x33_bn_int8_reg_0", "sdp_11x20x41_bs_bn_int8_mix_1_59"]
# conv_core's own program-check tests first: a mutant of the check dies on them, before the
# top-level tests run
UNIT_TESTS = ["tb/conv/test_conv_core.py::test_illegal_bank_program_raises_error",
              "tb/conv/test_conv_core.py::test_byte_per_kernel_leaves_the_layout_to_r_s_c",
              "tb/test_rtl_sdp.py::test_widest_x_product_is_bit_exact", "tb/test_rtl_sdp.py::test_register_files",
              "tb/test_rtl_directed.py", "tb/conv/test_conv_cacc.py", "tb/test_rtl_group_reuse.py", "tb/test_rtl_stress.py",
              "tb/test_rtl_nvdla_rules.py::test_nvdla_rules_vectors_pass"]
# A mutant is built once and simulated briefly: C++ at -O1 builds in about 60% of the time of
# make test's -O2 and simulates at 80% of its speed (measured on the 151 conformance traces).
# Only the C++ compiler's optimisation differs; Verilator's options are make test's.
MUTANT_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O1"


@dataclass
class Verdict:
    verdict: str
    seconds: float = 0.0
    message: str = ""


@dataclass
class Traces:
    """The conformance traces, digested once per process for the raw harness."""
    subset: list[Path]
    every: list[Path]

    @classmethod
    def digest(cls, work: Path) -> "Traces":
        every = find_traces([rtl_build.ROOT / "vectors" / "conformance"])
        dirs = digest_all(every, Path(work))
        by_name = {p.stem: d for p, d in zip(every, dirs)}
        missing = [n for n in SUBSET if n not in by_name]
        if missing:
            raise RuntimeError(f"conformance traces of the mutation subset not found: {', '.join(missing)}")
        return cls([by_name[n] for n in SUBSET], dirs)


@contextmanager
def mutant_env(rtl: Path):
    """Builds and simulations in this process and its children use the RTL copy `rtl`, built
    with MUTANT_MAKEFLAGS."""
    new = {rtl_build.RTL_DIR_ENV: str(rtl), "MAKEFLAGS": MUTANT_MAKEFLAGS}
    old = {k: os.environ.get(k) for k in new}
    os.environ.update(new)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _raw(dirs: list[Path], timeout: float) -> tuple[str, str]:
    try:
        rows, _ = replay(dirs, seed=1, stall=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return KILLED, f"hang: still running after {timeout:.0f} s"
    except RuntimeError as e:  # the harness stopped (an $error of the model) or an AXI rule broke
        return KILLED, str(e)
    bad = [r for r in rows if r["status"] != "PASS"]
    if bad:
        return KILLED, f"{Path(bad[0]['dir']).name.split('_', 1)[1]}: {bad[0]['status']} {bad[0]['message']}"
    return SURVIVED, ""


def _child(name: str, cmd: list[str], work: Path, timeout: float) -> tuple[int | None, str]:
    """A tier's command in a fresh process (with this process's environment, so its RTL copy);
    (exit status or None on timeout, its output's last lines)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(rtl_build.ROOT), os.environ.get("PYTHONPATH")]))}
    try:
        p = subprocess.run(cmd, cwd=rtl_build.ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"hang: still running after {timeout:.0f} s"
    (work / f"{name}.log").write_text(p.stdout + p.stderr)
    return p.returncode, " | ".join((p.stdout + p.stderr).strip().splitlines()[-3:])


def _smoke(work: Path, timeout: float) -> tuple[str, str]:
    from ..test_regress_smoke import SMOKE_SEEDS  # the seeds make test runs
    out = work / "smoke"
    rc, tail = _child("smoke", [sys.executable, "-m", "tb.regress", "batch", "--seeds", ",".join(map(str, SMOKE_SEEDS)),
                       "--tier", "smoke", "--out", str(out), "--worker", "mutant"], work, timeout)
    if rc is None:
        return KILLED, tail
    if rc != 0:
        return KILLED, f"the smoke batch stopped (status {rc}): {tail}"
    bad = [r for r in read_results(out / "results" / "mutant.jsonl") if not r.passed]
    return (KILLED, f"seed {bad[0].seed} {bad[0].status}: {bad[0].message}") if bad else (SURVIVED, "")


def _unit(work: Path, timeout: float) -> tuple[str, str]:
    rc, tail = _child("unit", [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *UNIT_TESTS,
                       f"--basetemp={work / 'pytest'}"], work, timeout)
    if rc is None or rc == 1:  # a hang, or a failed test
        return KILLED, tail
    if rc != 0:
        raise RuntimeError(f"unit tier: pytest exited with status {rc}: {tail}")
    return SURVIVED, ""


@dataclass(frozen=True)
class Tier:
    name: str
    timeout: float
    build: Callable[[], object]  # the harness this tier simulates on, built (or reused) now
    run: Callable[[Traces, Path, float], tuple[str, str]]


def _build_both():
    rtl_build.get_runner()
    rtl_build.get_runner(fast=False)


TIERS = [
    Tier("subset", 120, build_raw, lambda t, w, s: _raw(t.subset, s)),
    Tier("conformance", 300, build_raw, lambda t, w, s: _raw(t.every, s)),
    Tier("smoke", 300, rtl_build.get_runner, lambda t, w, s: _smoke(w, s)),
    Tier("unit", 900, _build_both, lambda t, w, s: _unit(w, s)),
]
TIER_NAMES = [t.name for t in TIERS]


def select(names: str | None) -> list[Tier]:
    """TIER=a,b -> those tiers in their cost order; None or '' -> all."""
    if not names:
        return list(TIERS)
    want = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in want if n not in TIER_NAMES]
    if unknown:
        raise InputError(f"unknown tier {', '.join(unknown)}: use {', '.join(TIER_NAMES)}", where="TIER")
    return [t for t in TIERS if t.name in want]


def _build_error(work: Path) -> str:
    """The first Verilator error of the mutant's builds."""
    for log in sorted((work / "build").rglob("build.log")):
        for ln in log.read_text(errors="replace").splitlines():
            if ln.startswith("%Error"):
                return ln.strip()[:300]
    return "Verilator build failed"


def run_mutant(m: Mutant, tiers: list[Tier], traces: Traces, work: Path, keep: bool = False) -> dict:
    """Build and run one mutant; its row of the kill matrix."""
    work = Path(work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rtl = mutant_copy(work, m)
    row = {**m.to_json(), "diff": list(m.diff()), "status": SURVIVED, "killed_by": None, "build_seconds": 0.0,
           "tiers": {t.name: Verdict(NOT_RUN).__dict__ for t in tiers}}
    try:
        with mutant_env(rtl):
            for t in tiers:
                t0 = time.perf_counter()
                try:
                    t.build()
                except Exception as e:  # noqa: BLE001 - any build failure: the mutant does not compile
                    row["build_seconds"] += time.perf_counter() - t0
                    row.update(status=STILLBORN, message=f"{_build_error(work) or e}")
                    break
                row["build_seconds"] += time.perf_counter() - t0
                t0 = time.perf_counter()
                verdict, msg = t.run(traces, work, t.timeout)
                row["tiers"][t.name] = Verdict(verdict, round(time.perf_counter() - t0, 2), msg[:500]).__dict__
                if verdict == KILLED:
                    row.update(status=KILLED, killed_by=t.name)
                    break
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    row["build_seconds"] = round(row["build_seconds"], 2)
    return row
