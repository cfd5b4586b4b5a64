"""The rules NVDLA's own RTL taught us (shared/nvdla-rtl-findings.md) on our RTL: the directed
vectors of vectors/nvdla-rules pass, and a DMA on the absent CVIF hangs the layer as on NVDLA,
with the testbench naming the field instead of only reporting the watchdog."""
from __future__ import annotations

from pathlib import Path

import pytest

from nvdla_int8.conformance import find_traces
from nvdla_int8.trace.trace import Trace
from tests.suite import CONFORMANCE, require
from tests.trace_edits import pad_first_weight_bytes

pytestmark = pytest.mark.rtl

ROOT = Path(__file__).resolve().parent.parent


def play(paths, work_dir):
    from tb.trace_runner import run_traces
    return list(run_traces(paths, work_dir=work_dir))


def test_nvdla_rules_vectors_pass(tmp_path):
    from tools.gen_nvdla_rules import BPK_VARIANTS, KINDS, SEEDS
    paths = find_traces([ROOT / "vectors" / "nvdla-rules"])
    # every trace the tool writes: each kind's seeds, the BPK variants, per_kernel's stride variants
    assert len(paths) == len(KINDS) * len(SEEDS) + len(BPK_VARIANTS) + len(SEEDS)
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
    assert t.rewrite_writes(register, lambda reg, v: reg.field(field).put(v, 0)) == 1
    [o] = play([t.save(tmp_path / "trace")], tmp_path / "run")
    assert not o.passed
    assert "hang: interrupt SDP_0 never arrived" in o.message and "watchdog" in o.message, o.message
    assert f"as on NVDLA: SDP group 0: {register}.{field} = 0 selects CVIF" in o.message, o.message


def test_weight_bytes_past_the_weights_run_but_the_outcome_says_nvdla_would_differ(tmp_path):
    """Our RTL computes a conv layer after one whose D_WEIGHT_BYTES runs past its weights as if
    CBUF were clean (right result), where NVDLA's shifts the second layer's weights (s3 keeps
    D_BANK; its CRC differs on NVDLA's RTL): the outcome passes and says so, naming the layer and
    the field."""
    t = Trace.load(ROOT / "vectors/nvdla-rules/conv_after_conv/conv_after_conv_s3/conv_after_conv_s3.cfg")
    padded = pad_first_weight_bytes(t)
    [o] = play([t.save(tmp_path / "trace")], tmp_path / "run")
    assert o.passed, o.message
    assert o.nvdla_warning.startswith(f"layer 0 (conv): NVDLA_CDMA.D_WEIGHT_BYTES_0 = {padded}: "), o.nvdla_warning
