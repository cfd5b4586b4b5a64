"""Replay digested traces on the raw harness binary (tb/raw/main.cpp)."""
from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from ..rtl_build import axi_check_failure, clear_axi_check
from .build import build
from .digest import digest_all


def replay(dirs: list[Path], *, seed: int = 1, stall: bool = True,
           timeout: float | None = None) -> tuple[list[dict], float]:
    """Run digest folders in one harness process: one dict per trace (dir, status, cycles,
    clocks, wait_seconds, seconds, message) and the process's wall time. A harness still running
    after `timeout` seconds is killed (subprocess.TimeoutExpired)."""
    exe = build()
    flags = ["--seed", str(seed), "--stall", str(int(stall)), "--reorder", str(int(stall))]
    # The harness runs each trace in its digest folder, where the AXI protocol checker
    # (tb/hdl/tb_axi_checker.sv) writes what broke.
    for d in dirs:
        clear_axi_check(d)
    t0 = time.perf_counter()
    p = subprocess.run([str(exe), *flags, *map(str, dirs)], capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    rows = [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]
    if len(rows) != len(dirs):
        # the model's own $error lines go to stdout, the simulator's stop to stderr
        said = [ln for ln in p.stdout.splitlines() if not ln.startswith("{")] + p.stderr.splitlines()
        raise RuntimeError(f"raw harness stopped after {len(rows)} of {len(dirs)} traces: "
                           + " | ".join(ln.strip() for ln in said if ln.strip())[-2000:])
    for d in dirs:
        axi = axi_check_failure(d)
        if axi:
            raise RuntimeError(f"raw harness, {Path(d).name}: {axi}")
    return rows, wall


def run(cfgs, *, seed: int = 1, stall: bool = True, work: Path | None = None) -> list[dict]:
    """Digest and replay traces; one dict per trace, with its name."""
    with tempfile.TemporaryDirectory(prefix="tb_raw_", dir=work) as tmp:
        rows, _ = replay(digest_all(cfgs, Path(tmp)), seed=seed, stall=stall)
    for cfg, d in zip(cfgs, rows):
        d["name"] = Path(cfg).stem
    return rows
