"""A broken copy of the RTL must fail the regression, and the one-line replay command printed for
the failing seed must reproduce the failure bit for bit: same message (first mismatch), same
cycle count, same RTL output bytes. (A copy whose bursts cross 4 KiB: tb/test_axi_checker.py.)
Slow (two Verilator builds of the copy, one with waveforms): runs with NVDLA_RUN_SLOW=1
(`make regress-broken-rtl`)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tb.regress.runner import Regression, failure_line
from tb.rtl_mutation.points import broken_copy
from tb.stimulus import Constraints

pytestmark = [pytest.mark.rtl, pytest.mark.slow,
              pytest.mark.skipif(os.environ.get("NVDLA_RUN_SLOW") != "1", reason="slow: set NVDLA_RUN_SLOW=1")]

# The datapath's round-to-nearest (nvdla_pkg::shr_round: CACC, the CDMA converter and the SDP): a
# positive exact tie must round up (away from zero). The fault rounds it down, so ties of positive
# values come out one LSB low.
GOOD = "first && (!x[63] || rest)"
BAD = "first && (!x[63] && rest)"


def _norm(msg: str) -> str:
    """A failure message without the folder of the trace file (the run and the replay differ)."""
    return re.sub(r"\S*/(rand_\w+\.cfg)", r"\1", msg)


def _dumps(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_broken_rtl_fails_and_replay_command_reproduces_it(tmp_path, monkeypatch):
    rtl = broken_copy(tmp_path, GOOD, BAD)
    monkeypatch.setenv("NVDLA_RTL_DIR", str(rtl))
    run_dump, replay_dump = tmp_path / "dump_run", tmp_path / "dump_replay"
    run_dump.mkdir()
    replay_dump.mkdir()
    monkeypatch.setenv("TB_DUMP_OUTPUT", str(run_dump))

    reg = Regression(Constraints.load("smoke"), tmp_path / "run", backend="rtl", worker="broken")
    results = reg.run_batch(list(range(1, 13)))
    failed = [r for r in results if not r.passed]
    assert failed, "every seed passed on the broken RTL: the regression cannot see a rounding fault"
    r = failed[0]
    line = failure_line(r)
    print(f"{len(failed)} of {len(results)} seeds failed on the broken RTL; the first: {line}")
    assert "\n" not in line and f"seed {r.seed} FAIL" in line
    cmd = line.split(" | replay: ", 1)[1]
    assert f"SEED={r.seed}" in cmd and "WAVES=1" in cmd and f"NVDLA_RTL_DIR={rtl}" in cmd

    env = {**os.environ, "TB_DUMP_OUTPUT": str(replay_dump)}
    env.pop("NVDLA_RTL_DIR")  # the command carries it
    p = subprocess.run(cmd, shell=True, env=env, capture_output=True, text=True, timeout=3600)
    assert p.returncode != 0, p.stdout + p.stderr
    got = [ln for ln in p.stdout.splitlines() if ln.startswith(f"seed {r.seed} ")]
    want = f"seed {r.seed} FAIL cycles {r.cycles} {r.message}".rstrip()
    assert len(got) == 1 and _norm(got[0]) == _norm(want), (got, want)
    print(f"replayed: {got[0]}")
    name = f"rand_smoke_s{r.seed}"
    run_bytes = {k: v for k, v in _dumps(run_dump).items() if k.startswith(name + ".")}
    assert run_bytes, f"no RTL output dump of {name}"
    assert _dumps(replay_dump) == run_bytes
