"""The rules NVDLA's own RTL taught us (shared/nvdla-rtl-findings.md) on our RTL: the directed
vectors of vectors/nvdla-rules pass, and a DMA on the absent CVIF hangs the layer as on NVDLA,
with the testbench naming the field instead of only reporting the watchdog."""
from __future__ import annotations

from pathlib import Path

import pytest

from nvdla_int8.conformance import find_traces
from nvdla_int8.trace.cfg import Command
from nvdla_int8.trace.trace import Trace
from tests.suite import CONFORMANCE, require

pytestmark = pytest.mark.rtl

ROOT = Path(__file__).resolve().parent.parent


def play(paths, work_dir):
    from tb.trace_runner import run_traces
    return list(run_traces(paths, work_dir=work_dir))


def test_nvdla_rules_vectors_pass(tmp_path):
    from tools.gen_nvdla_rules import KINDS, SEEDS
    paths = find_traces([ROOT / "vectors" / "nvdla-rules"])
    assert len(paths) == len(KINDS) * len(SEEDS)  # every kind the generator writes, every seed
    bad = [f"{o.name}: {o.message}" for o in play(paths, tmp_path) if not o.passed]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("trace,register,field", [
    ("dc_1x1x8_1x1x8x1_int8_0", "NVDLA_CDMA.D_DAIN_RAM_TYPE_0", "DATAIN_RAM_TYPE"),
    ("dc_1x1x8_1x1x8x1_int8_0", "NVDLA_CDMA.D_WEIGHT_RAM_TYPE_0", "WEIGHT_RAM_TYPE"),
    ("sdp_1x1x1_pass_through_int8", "NVDLA_SDP_RDMA.D_SRC_DMA_CFG_0", "SRC_RAM_TYPE"),
    ("sdp_1x1x1_pass_through_int8", "NVDLA_SDP.D_DST_DMA_CFG_0", "DST_RAM_TYPE"),
])
def test_a_dma_on_cvif_hangs_and_the_testbench_says_why(tmp_path, trace, register, field):
    """NVDLA's traces select MCIF; set one RAM type to CVIF (0): the RTL never ends the layer (as
    NVDLA's DMA interface never accepts the request) and the hang message names the field."""
    [path] = [p for p in find_traces([require(CONFORMANCE)]) if p.parent.name == trace]
    t = Trace.load(path)
    hit = 0
    for i, c in enumerate(t.commands):
        if c.op == "reg_write" and c.args[0].trace_name == register:
            t.commands[i] = Command("reg_write", (c.args[0], c.args[0].field(field).put(c.args[1], 0)))
            hit += 1
    assert hit == 1
    [o] = play([t.save(tmp_path / "trace")], tmp_path / "run")
    assert not o.passed
    assert "hang: interrupt SDP_0 never arrived" in o.message and "watchdog" in o.message, o.message
    assert f"as on NVDLA: SDP group 0: {register}.{field} = 0 selects CVIF" in o.message, o.message
