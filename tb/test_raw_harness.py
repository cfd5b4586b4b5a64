"""The raw harness (tb/raw) against the cocotb flow: same harness, same seeds, so the same cycles
and verdicts trace by trace; the raw harness's CRC check fails on a wrong CRC; the cocotb flow's
transaction-level APB monitor sees every register write the trace makes."""
from __future__ import annotations

from pathlib import Path

import pytest

from nvdla_int8.trace.trace import Trace
from tests.suite import NV_SMALL, require

pytestmark = pytest.mark.rtl

SDP = "sdp_23x13x42_bs_int8_mem_0"
CONV = "dc_6x8x192_3x3x192x32_int8_0"


def shared(name: str) -> Path:
    return require(NV_SMALL / name / f"{name}.cfg")


def test_raw_harness_matches_the_cocotb_flow_cycle_for_cycle(tmp_path):
    from tb.raw.run import run
    from tb.trace_runner import run_traces

    paths = [shared(SDP), shared(CONV)]
    notes: list[dict] = []
    outcomes = list(run_traces(paths, work_dir=tmp_path / "cocotb", seed=5, notes=notes))
    rows = run(paths, seed=5, work=tmp_path)
    assert [o.status for o in outcomes] == [r["status"] for r in rows] == ["PASS", "PASS"], \
        [o.message for o in outcomes] + [r["message"] for r in rows]
    assert [o.cycles for o in outcomes] == [r["cycles"] for r in rows]
    assert all(o.cycles > 1000 for o in outcomes)
    for p, n in zip(paths, notes):
        t = Trace.load(p)
        # every reg_write, plus the write that clears each awaited interrupt (W1C)
        want = sum(c.op == "reg_write" for c in t.commands) + sum(c.op == "intr_notify" for c in t.commands)
        assert n["apb_writes"] == want, (p.name, n)


def test_raw_harness_reports_a_wrong_crc(tmp_path):
    from tb.raw.run import run

    trace = Trace.load(shared(SDP))
    [i] = [k for k, c in enumerate(trace.commands) if c.op == "check_crc"]
    c = trace.commands[i]
    trace.commands[i] = type(c)(c.op, c.args[:4] + (c.args[4] ^ 1,), c.line)
    [row] = run([trace.save(tmp_path / "bad")], work=tmp_path)
    assert row["status"] == "FAIL" and "CRC" in row["message"], row


def test_raw_harness_takes_check_nothing(tmp_path):
    """A compiled layer of several passes has a check_nothing after each pass's intr_notify
    (lower/vectors.py; the ResNet-50 stem in the speed benchmark): a sync point, nothing to check."""
    from nvdla_int8.golden.replay import replay_trace
    from tb.raw.run import run

    trace = Trace.load(shared(CONV))
    c = next(c for c in trace.commands if c.op == "intr_notify")
    trace.commands.insert(trace.commands.index(c) + 1, type(c)("check_nothing", (c.args[-1],), c.line))
    saved = trace.save(tmp_path / "multi")
    assert replay_trace(Trace.load(saved))[0].passed
    [row] = run([saved], work=tmp_path)
    assert row["status"] == "PASS", row
