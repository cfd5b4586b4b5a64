"""Stress tests of the RTL under the trace player (issue #7 §3): reads reordered and interleaved
across ARIDs, both register groups back to back, a reset in the middle of a layer, status reads
while a layer runs, and the watchdog. Every run must stay bit-exact with the golden model.
Knobs: docs/verification-stress.md."""
from __future__ import annotations

from pathlib import Path

import pytest

from nvdla_int8.hw.regmap import REGMAP
from nvdla_int8.trace.cfg import Command, Name
from nvdla_int8.trace.trace import Trace
from tests.suite import NV_SMALL, require

pytestmark = pytest.mark.rtl

SDP_LONG = "sdp_23x13x42_bs_int8_mem_0"  # about 8500 cycles with stalls; reads input and BS operands
CONV = "dc_6x8x192_3x3x192x32_int8_0"     # about 23000 cycles; CDMA data and weight clients


def upstream(name: str) -> Path:
    """An upstream nv_small trace of the conformance suite."""
    return require(NV_SMALL / name / f"{name}.cfg")


def play(paths, tmp_path, **kw):
    from tb.trace_runner import run_traces
    notes: list[dict] = []
    outcomes = list(run_traces(paths, work_dir=tmp_path, notes=notes, **kw))
    assert len(outcomes) == len(paths) == len(notes)
    return outcomes, notes


def assert_passed(outcomes):
    bad = [f"{o.name}: {o.message}" for o in outcomes if not o.passed]
    assert not bad, "\n".join(bad)


def test_reads_reordered_across_ids_stay_bit_exact(tmp_path):
    """Each read client has its own ARID; under stall (the default) the fast memory serves bursts
    of different IDs out of order and interleaves their beats. With TB_REORDER=0 it never does."""
    outcomes, notes = play([upstream(SDP_LONG), upstream(CONV)], tmp_path / "on", seed=11)
    assert_passed(outcomes)
    assert all(n["reordered_reads"] > 100 for n in notes), notes
    outcomes, notes = play([upstream("sdp_3x3x33_bs_bn_int8_0")], tmp_path / "off", seed=11,
                           extra_env={"TB_REORDER": "0"})
    assert_passed(outcomes)
    assert notes[0]["reordered_reads"] == 0


def both_groups_trace(name: str, tmp_path: Path) -> Path:
    """A trace's layer in group 0, then, while it runs, a second layer (other output address,
    other output converter scale and shift) programmed into group 1 of every unit and enabled. A
    read of GLB S_INTR_STATUS right after the second enable must still show nothing done: group 1
    was programmed while group 0 ran. Both outputs are compared with the golden model's."""
    trace = Trace.load(upstream(name))
    writes = [c for c in trace.commands if c.op == "reg_write"]
    [notify] = [c for c in trace.commands if c.op == "intr_notify"]
    [crc] = [c for c in trace.commands if c.op == "check_crc"]
    _, _, out_base, out_size, _ = crc.args
    out2 = out_base + 0x20000
    assert out2 >= out_base + out_size
    changed = {"D_DST_BASE_ADDR_LOW": out2, "D_CVT_SCALE": 3, "D_CVT_SHIFT": 1}
    second = []
    for c in writes:
        reg, value = c.args
        if reg.name == "S_POINTER":
            value = reg.encode(PRODUCER=1)
        elif reg.unit == "SDP" and reg.name in changed:
            value = changed[reg.name]
        second.append(Command("reg_write", (reg, value)))
    status = REGMAP.reg("GLB", "S_INTR_STATUS")
    first_check = trace.commands.index(notify)
    trace.commands = (
        [c for c in trace.commands[:first_check] if c.op != "reg_write"]
        + [Command("mem_init", (Name("pri_mem"), out2, out_size, Name("ALL_ZERO")))]
        + writes + second
        + [Command("reg_read_check", (status, 0)),
           notify, crc,
           Command("intr_notify", (Name("SDP_1"), Name("sync_group_1"))),
           Command("check_nothing", (Name("sync_group_1"),))])
    return trace.save(tmp_path / name)


def test_both_register_groups_back_to_back(tmp_path):
    """Stand-alone SDP and conv + SDP, each twice: group 0, then group 1 while group 0 runs."""
    paths = [both_groups_trace(SDP_LONG, tmp_path), both_groups_trace(CONV, tmp_path)]
    outcomes, _ = play(paths, tmp_path / "run", seed=5)
    assert_passed(outcomes)


def test_reset_mid_layer_then_clean_layer_is_bit_exact(tmp_path):
    """TB_RESET_AT: 3000 cycles after its start the layer is cut by a reset (outputs half
    written, reads in flight); the trace then replays from a fresh image and must be exact."""
    outcomes, notes = play([upstream(SDP_LONG), upstream(CONV)], tmp_path, seed=3, extra_env={"TB_RESET_AT": "3000"})
    assert_passed(outcomes)
    assert all("reset_cycle" in n for n in notes), notes
    assert all(o.cycles and o.cycles > 0 for o in outcomes)
    assert notes[0]["writes_before_reset"] > 0, notes  # the SDP layer had begun writing


def test_status_reads_while_running_and_the_watchdog_still_fires(tmp_path):
    """TB_STATUS_READS: every 64 cycles of waiting the testbench reads GLB S_INTR_STATUS and the
    next three unit status / counter registers. The layers stay exact; a hung layer (stand-alone
    SDP whose SDP_RDMA is never enabled) still ends in the watchdog with a readable message,
    because APB reads do not count as progress."""
    hung = Trace.load(upstream("sdp_1x1x1_pass_through_int8"))
    hung.commands = [c for c in hung.commands
                     if not (c.op == "reg_write" and c.args[0].trace_name == "NVDLA_SDP_RDMA.D_OP_ENABLE_0")]
    paths = [upstream(SDP_LONG), upstream(CONV), hung.save(tmp_path / "hung")]
    outcomes, notes = play(paths, tmp_path / "run", seed=9, extra_env={"TB_STATUS_READS": "64"})
    assert_passed(outcomes[:2])
    assert all(n["status_reads"] > 20 for n in notes[:2]), notes
    o = outcomes[2]
    assert not o.passed
    assert "hang: interrupt SDP_0 never arrived (no progress for 20000 cycles, watchdog)" in o.message, o.message
