"""RTL tests run from pytest: register files, SDP traces on cocotbext-axi's AxiRam, and proof that
the checkers fail when they should (corrupted CRC, a flipped output byte, a hang). Every trace of
the suite on the fast memory: test_rtl_conformance.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from nvdla_int8.conformance import find_traces
from nvdla_int8.trace.cfg import Command
from nvdla_int8.trace.trace import Trace
from tests.suite import CONFORMANCE, require

pytestmark = pytest.mark.rtl
# Upstream traces plus generated ones chosen to cover every operand layout: PER_KERNEL and
# PER_ELEMENT, 1- and 2-byte, MUL / ALU / BOTH, and the largest cubes of each kind.
AXIRAM_SUBSET = ["sdp_1x1x1_pass_through_int8", "sdp_3x3x33_bn_int8_mem_0", "sdp_3x3x33_bs_bn_int8_0",
                 "sdp_11x5x7_bn_int8_mem_1_15", "sdp_1x1x51_bs_bn_int8_mem_1_87", "sdp_3x5x11_bs_bn_int8_mem_1_35",
                 "sdp_13x10x76_bs_bn_int8_mem_1_13", "sdp_14x12x42_bs_bn_int8_mem_1_75",
                 "sdp_2x5x2_bs_bn_int8_mem_1_33", "sdp_8x8x32_bypass_int8_1"]


def by_name(names):
    found = {p.parent.name: p for p in find_traces([require(CONFORMANCE)])}
    return [found[n] for n in names]


def play(paths, tmp_path, **kw):
    from tb.trace_runner import run_traces
    return list(run_traces(paths, work_dir=tmp_path, **kw))


def assert_all_pass(outcomes, n):
    assert len(outcomes) == n
    bad = [f"{o.name}: {o.message}" for o in outcomes if not o.passed]
    assert not bad, "\n".join(bad)
    assert all(o.cycles and o.cycles > 0 for o in outcomes)


def test_register_files(tmp_path):
    from tb.rtl_build import run_module
    tests, failed = run_module("tb.cocotb_regs", env={}, work_dir=tmp_path)
    assert tests == 4 and failed == 0


def test_sdp_subset_axiram(tmp_path):
    """The AXI protocol checked by an independent model: cocotbext-axi's AxiRam, random pauses."""
    paths = by_name(AXIRAM_SUBSET)
    assert_all_pass(play(paths, tmp_path, mem_mode="axiram", seed=3), len(paths))


def test_corrupted_crc_is_reported(tmp_path, monkeypatch):
    """Also run from a relative work dir (the simulator runs elsewhere; the runner resolves it)."""
    trace = Trace.load(by_name(["sdp_3x3x33_bs_bn_int8_0"])[0])
    for i, c in enumerate(trace.commands):
        if c.op == "check_crc":
            args = list(c.args)
            args[4] ^= 0x1
            trace.commands[i] = Command(c.op, tuple(args), c.line)
    cfg = trace.save(tmp_path / "trace")
    monkeypatch.chdir(tmp_path)
    [o] = play([cfg], Path("run"))
    assert not o.passed
    assert "CRC of" in o.message and "equals the golden model's element by element" in o.message, o.message
    assert o.expected_crc != o.crc


def test_a_failed_register_check_is_not_explained_as_a_crc_failure(tmp_path):
    """A wrong register read fails the trace; the CRC still matches, so the message must not add
    the note that explains a CRC failure (the cube equals the golden model's)."""
    from nvdla_int8.hw.regmap import REGMAP
    trace = Trace.load(by_name(["sdp_3x3x33_bs_bn_int8_0"])[0])
    mask = REGMAP.reg("GLB", "S_INTR_MASK")
    trace.commands.append(Command("reg_read_check", (mask, 0x12345678)))
    [o] = play([trace.save(tmp_path / "trace")], tmp_path / "run")
    assert not o.passed and "S_INTR_MASK" in o.message, o.message
    assert o.expected_crc == o.crc
    assert "element by element" not in o.message, o.message


@pytest.mark.parametrize("mem_mode", ["sv", "axiram"])
def test_flipped_output_byte_is_reported_with_its_coordinate(tmp_path, mem_mode):
    """After the layer, one output byte is flipped in memory (channel 1, middle line and column):
    the CRC check and the scoreboard both fail, and the scoreboard names that element."""
    [path] = by_name(["sdp_3x3x33_bn_int8_reg_0"])  # C = 33, H = W = 3
    [o] = play([path], tmp_path, mem_mode=mem_mode, extra_env={"TB_FLIP": "1"})
    assert not o.passed
    assert "CRC of" in o.message, o.message
    assert "output differs at (channel 1, line 1, column 1)" in o.message, o.message
    assert "(1 elements differ)" in o.message, o.message


def test_hang_is_a_failure_with_a_message(tmp_path):
    """Stand-alone SDP never enabled on SDP_RDMA: the layer never starts; the watchdog ends it."""
    trace = Trace.load(by_name(["sdp_1x1x1_pass_through_int8"])[0])
    trace.commands = [c for c in trace.commands
                      if not (c.op == "reg_write" and c.args[0].trace_name == "NVDLA_SDP_RDMA.D_OP_ENABLE_0")]
    cfg = trace.save(tmp_path / "trace")
    [o] = play([cfg], tmp_path / "run")
    assert not o.passed and "hang" in o.message and "watchdog" in o.message, o.message


def test_second_layer_runs_in_register_group_1(tmp_path):
    """No conformance trace uses group 1: replay a trace's layer in group 0, then program the same
    layer into group 1 (PRODUCER = 1; group 1 starts from reset values), enable it, wait for
    SDP_1 and check the same CRC. Exercises the consumer flip, group-1 registers and GLB bit 1."""
    from nvdla_int8.trace.cfg import Name
    trace = Trace.load(by_name(["sdp_3x3x33_bs_bn_int8_0"])[0])
    writes = [c for c in trace.commands if c.op == "reg_write"]
    [crc] = [c for c in trace.commands if c.op == "check_crc"]
    second = []
    for c in writes:
        reg, value = c.args
        if reg.name == "S_POINTER":
            value = reg.encode(PRODUCER=1)
        second.append(Command("reg_write", (reg, value)))
    second.append(Command("intr_notify", (Name("SDP_1"), Name("sync_group_1"))))
    second.append(Command("check_crc", (Name("sync_group_1"), *crc.args[1:])))
    trace.commands = trace.commands + second
    [o] = play([trace.save(tmp_path / "trace")], tmp_path / "run")
    assert o.passed, o.message


# The X stages' multiplier product at its widest: X1 sums the input (-128) and an operand of
# -32768 << 16 = -2^31 with its multiplier bypassed and no ReLU (output -2^31), X2 sums that and -2^31 again
# (ALU result -2^32, the 33-bit extreme) and multiplies by -32768: +2^47, which needs the 49-bit
# product (nvdla_pkg::XInW). A 48-bit product wraps it to -2^47 and saturates to the wrong end
# (mutant nvdla_pkg.9.constant.0fe74d of `make rtl-mutation`).
WIDEST_PRODUCT = {"tier": "smoke", "knobs": {
    "layers": {"choices": [1]}, "layer_kind": {"choices": ["sdp"]}, "x_bypass": {"choices": [False]},
    "alu": {"choices": ["SUM"]}, "mul": {"choices": ["bypass", "MUL"]}, "operand_src": {"choices": ["REG"]},
    "operand_value": {"choices": [-32768]}, "alu_shift": {"range": [16, 16]}, "mul_shift": {"range": [0, 0]},
    "relu": {"choices": [False]}, "sdp_input_data": {"choices": ["min"]}, "out_cvt_offset": {"choices": [0]}}}
WIDEST_SEEDS = list(range(23, 30))  # 23, 24, 27 and 29 reach the corner (asserted below)


def test_widest_x_product_is_bit_exact(tmp_path):
    import json

    from nvdla_int8.hw.regmap import REGMAP
    from tb.regress.runner import Regression, failure_line
    from tb.stimulus import Constraints, generate

    f = tmp_path / "widest.json"
    f.write_text(json.dumps(WIDEST_PRODUCT))
    c = Constraints.load("smoke", f)
    bs, bn = REGMAP.reg("SDP", "D_DP_BS_CFG"), REGMAP.reg("SDP", "D_DP_BN_CFG")
    progs = {s: generate(s, c).layers[0].prog for s in WIDEST_SEEDS}
    corner = [s for s, p in progs.items() if bs.field("BS_MUL_BYPASS").get(p.value("SDP", "D_DP_BS_CFG"))
              and not bn.field("BN_MUL_BYPASS").get(p.value("SDP", "D_DP_BN_CFG"))]
    assert len(corner) >= 2, f"only seeds {corner} put X1's multiplier in bypass and X2's in use: the corner is not reached"
    results = Regression(c, tmp_path / "run", backend="rtl", worker="widest").run_batch(WIDEST_SEEDS)
    bad = [failure_line(r) for r in results if not r.passed]
    assert not bad, "\n".join(bad)
