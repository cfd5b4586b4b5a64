"""Replay NVDLA traces on the RTL (the engine behind tb/backend.py, the RTL backend).

Runs every trace in one simulation (tb/cocotb_player.py) and yields each TraceOutcome as soon as
the simulation reports it, so the conformance lines appear while the run goes on. Knobs, from
the environment: NVDLA_TB_MEM = sv (default, fast SystemVerilog memory) | axiram (cocotbext-axi
AxiRam); NVDLA_TB_SEED (default 1); NVDLA_TB_STALL = 1 (default: random latency and
back-pressure) | 0; NVDLA_TB_WAVES = 1 (waveform in build/rtl-<mem>-waves/dump.vcd, path printed).
The testbench's own TB_* stress and fault knobs (TB_REORDER, TB_STATUS_READS, TB_RESET_AT,
TB_MUTATE, ...; docs/verification-stress.md) pass through the environment or `extra_env`.
A run works in build/rtl-<mem>/, or build/rtl-<mem>.2/ ... while another run holds that.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from nvdla_int8.conformance import FAIL, TraceOutcome
from nvdla_int8.errors import InputError

from .rtl_build import ROOT, claim_work_dir

MODES = ("sv", "axiram")


def run_traces(paths, *, mem_mode: str = "sv", seed: int = 1, stall: bool = True, waves: bool = False,
               work_dir: Path | None = None, extra_env: dict[str, str] | None = None,
               wait_seconds: dict[str, float] | None = None, notes: list[dict] | None = None):
    """Replay traces on the RTL; yields TraceOutcomes in order. `wait_seconds`, if given, receives
    per trace the wall time the testbench spent waiting for interrupts (the simulator alone);
    `notes`, if given, gets one dict per trace of facts the stress knobs record (reset cycle,
    status reads made; docs/verification-stress.md). Stress and fault knobs go in `extra_env`."""
    if mem_mode not in MODES:
        raise InputError(f"memory mode {mem_mode!r}: use one of {', '.join(MODES)}", where="NVDLA_TB_MEM")
    from .uvm.knobs import check_knobs
    check_knobs({**(extra_env or {}), **os.environ})  # the simulator sees os.environ over extra_env
    paths = [Path(p).resolve() for p in paths]
    # absolute: the simulator runs in another directory
    base = Path(work_dir or ROOT / "build" / f"rtl-{mem_mode}{'-waves' if waves else ''}").resolve()
    with claim_work_dir(base) as work:
        yield from _run_in(work, paths, mem_mode, seed, stall, waves, extra_env, wait_seconds, notes)
        if waves:
            print(f"waveform: {work / 'dump.vcd'}", file=sys.stderr)


def _run_in(work: Path, paths, mem_mode, seed, stall, waves, extra_env, wait_seconds, notes):
    from .rtl_build import run_module

    results = work / "results.jsonl"
    results.unlink(missing_ok=True)
    (work / "traces.json").write_text(json.dumps([str(p) for p in paths]))
    env = {"TB_TRACES": str(work / "traces.json"), "TB_RESULTS": str(results), "TB_WORK_DIR": str(work),
           "TB_MEM_MODE": mem_mode, "TB_SEED": str(seed), "TB_STALL": "1" if stall else "0",
           "COCOTB_LOG_LEVEL": os.environ.get("COCOTB_LOG_LEVEL", "WARNING"),
           # One BLAS thread for the golden model: more spin on the second core of a 2-core machine
           # costs the simulator more than it saves (docs/rtl-speed.md).
           "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"), **(extra_env or {})}
    error: list[BaseException] = []

    def sim():
        try:
            run_module("tb.cocotb_player", env=env, waves=waves, fast=mem_mode == "sv", work_dir=work)
        except BaseException as e:  # reported below as failures of the traces not played
            error.append(e)

    t0 = time.perf_counter()
    th = threading.Thread(target=sim, daemon=True)
    th.start()
    done = 0
    while True:
        finished = not th.is_alive()
        lines = complete_lines(results)
        for ln in lines[done:]:
            d = json.loads(ln)
            waited = d.pop("wait_seconds", 0.0)
            trace_notes = d.pop("notes", {})
            if notes is not None:
                notes.append(trace_notes)
            if wait_seconds is not None:
                wait_seconds[d["name"]] = waited
            yield TraceOutcome(**d)
        done = len(lines)
        if finished:
            break
        time.sleep(0.02)  # the run reports traces as they finish; a short poll adds no idle tail
    why = f"simulation ended early: {error[0]}" if error else "simulation ended early"
    why += f" (log: {work / 'sim.log'})"
    for p in paths[done:]:
        yield TraceOutcome(p.stem, FAIL, None, None, time.perf_counter() - t0, message=why)



def complete_lines(path: Path) -> list[str]:
    """The lines of `path` that end in a newline: the simulation may be writing the next one
    while the runner reads (a half-written outcome once failed a conformance run)."""
    return path.read_text().split("\n")[:-1] if path.exists() else []
