"""Golden-model machine behaviour: register groups, OP_EN, interrupts, counters, bad programs."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nvdla_int8.errors import InputError
from nvdla_int8.golden import GoldenMachine
from nvdla_int8.golden.conv import cacc_round
from nvdla_int8.hw import REGMAP
from nvdla_int8.hw.fixed import shr_round
from nvdla_int8.trace.program import RegisterProgram

A = lambda unit, reg: REGMAP.reg(unit, reg).address  # noqa: E731


def identity_sdp(prog: RegisterProgram, src: int, dst: int, c: int = 8, h: int = 1, w: int = 1) -> RegisterProgram:
    for u in ("SDP", "SDP_RDMA"):
        prog.set(u, "D_DATA_CUBE_WIDTH", WIDTH=w - 1).set(u, "D_DATA_CUBE_HEIGHT", HEIGHT=h - 1)
        prog.set(u, "D_DATA_CUBE_CHANNEL", CHANNEL=c - 1)
    prog.set("SDP_RDMA", "D_SRC_BASE_ADDR_LOW", src).set("SDP_RDMA", "D_SRC_LINE_STRIDE", 8 * w)
    prog.set("SDP_RDMA", "D_SRC_SURFACE_STRIDE", 8 * w * h)
    prog.set("SDP_RDMA", "D_FEATURE_MODE_CFG", FLYING_MODE=0, IN_PRECISION=0, PROC_PRECISION=0)
    prog.set("SDP", "D_DST_BASE_ADDR_LOW", dst).set("SDP", "D_DST_LINE_STRIDE", 8 * w)
    prog.set("SDP", "D_DST_SURFACE_STRIDE", 8 * w * h).set("SDP", "D_CVT_SCALE", 1)
    prog.set("SDP_RDMA", "D_SRC_DMA_CFG", SRC_RAM_TYPE=1).set("SDP", "D_DST_DMA_CFG", DST_RAM_TYPE=1)  # MCIF
    return prog


def write(m: GoldenMachine, prog: RegisterProgram) -> None:
    for r, v in prog.writes:
        m.write_reg(r.address, v)


def test_standalone_layer_runs_on_last_enable_and_raises_sdp_done():
    m = GoldenMachine()
    m.memory.write(0x1000, bytes([1, 2, 3, 0x80, 5, 6, 7, 0xFF]))
    write(m, identity_sdp(RegisterProgram(), 0x1000, 0x2000))
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    assert not m.layers and m.read_reg(A("SDP", "S_STATUS")) == 1  # RUNNING, waiting for SDP_RDMA
    m.write_reg(A("SDP_RDMA", "D_OP_ENABLE"), 1)
    assert m.memory.read(0x2000, 8).tolist() == [1, 2, 3, 0x80, 5, 6, 7, 0xFF]
    assert m.intr_status == 1 and m.irq
    assert m.read_reg(A("SDP", "S_POINTER")) == 1 << 16  # consumer flipped to group 1
    assert m.read_reg(A("SDP", "D_OP_ENABLE")) == 0
    m.write_reg(A("GLB", "S_INTR_STATUS"), 1)  # write 1 to clear
    assert m.intr_status == 0 and not m.irq


def test_group_one_and_pending_status():
    m = GoldenMachine()
    m.memory.write(0x1000, bytes(range(8)))
    prog = identity_sdp(RegisterProgram(), 0x1000, 0x2000)
    write(m, prog)
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    # program group 1 while group 0 is armed
    m.write_reg(A("SDP", "S_POINTER"), 1)
    m.write_reg(A("SDP_RDMA", "S_POINTER"), 1)
    write(m, identity_sdp(RegisterProgram(), 0x1000, 0x3000))
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    assert m.read_reg(A("SDP", "S_STATUS")) == 1 | (2 << 16)  # group 0 RUNNING, group 1 PENDING
    m.write_reg(A("SDP_RDMA", "S_POINTER"), 0)
    m.write_reg(A("SDP_RDMA", "D_OP_ENABLE"), 1)  # group 0 runs
    m.write_reg(A("SDP_RDMA", "S_POINTER"), 1)
    m.write_reg(A("SDP_RDMA", "D_OP_ENABLE"), 1)  # then group 1
    assert [layer.group for layer in m.layers] == [0, 1]
    assert m.intr_status == 0b11
    assert m.memory.read(0x3000, 8).tolist() == list(range(8))


def test_armed_group_ignores_writes_and_ro_ignores_writes():
    m = GoldenMachine()
    m.write_reg(A("SDP", "D_CVT_SHIFT"), 5)
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    m.write_reg(A("SDP", "D_CVT_SHIFT"), 9)  # dropped: group 0 is armed
    assert m.read_reg(A("SDP", "D_CVT_SHIFT")) == 5
    m.write_reg(A("CACC", "D_OUT_SATURATION"), 1234)
    assert m.read_reg(A("CACC", "D_OUT_SATURATION")) == 0
    assert m.read_reg(A("CDMA", "S_CBUF_FLUSH_STATUS")) == 1
    assert m.read_reg(A("GLB", "S_NVDLA_HW_VERSION")) == 0x303031


def test_intr_set_and_mask():
    m = GoldenMachine()
    m.write_reg(A("GLB", "S_INTR_MASK"), 0x1)
    m.write_reg(A("GLB", "S_INTR_SET"), 0x100001)
    assert m.intr_status == 0x100001 and m.irq  # bit 20 unmasked
    m.write_reg(A("GLB", "S_INTR_MASK"), 0x100001)
    assert not m.irq
    assert m.read_reg(A("GLB", "S_INTR_SET")) == 0


def test_output_converter_saturation_counter():
    m = GoldenMachine()
    m.memory.write(0x1000, bytes([0x7F, 0x80, 0, 1, 2, 3, 4, 5]))
    prog = identity_sdp(RegisterProgram(), 0x1000, 0x2000)
    prog.set("SDP", "D_CVT_SCALE", 0x7FFF).set("SDP", "D_PERF_ENABLE", PERF_SAT_EN=1)
    write(m, prog)
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    m.write_reg(A("SDP_RDMA", "D_OP_ENABLE"), 1)
    # 127*32767 and -128*32767 overflow 17 bits; 2*32767 = 65534 does not; 3*32767 does
    assert m.layers[0].sdp_sat_count == 5
    assert m.read_reg(A("SDP", "D_PERF_OUT_SATURATION")) == 5  # reads reach the producer group (0)
    m.write_reg(A("SDP", "S_POINTER"), 1)
    assert m.read_reg(A("SDP", "D_PERF_OUT_SATURATION")) == 0


@pytest.mark.parametrize("unit,reg,field,value,msg", [
    ("SDP", "D_DATA_FORMAT", "OUT_PRECISION", 1, "OUT_PRECISION = 1"),
    ("SDP", "D_FEATURE_MODE_CFG", "OUTPUT_DST", 1, "OUTPUT_DST = 1"),
    ("SDP_RDMA", "D_FEATURE_MODE_CFG", "IN_PRECISION", 1, "IN_PRECISION = 1"),
])
def test_illegal_mode_fields_are_rejected(unit, reg, field, value, msg):
    m = GoldenMachine()
    prog = identity_sdp(RegisterProgram(), 0x1000, 0x2000)
    r = REGMAP.reg(unit, reg)
    prog.set(unit, reg, r.field(field).put(prog.value(unit, reg), value))
    write(m, prog)
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    with pytest.raises(InputError, match=f"NVDLA_{unit}.{reg}_0 field {msg}"):
        m.write_reg(A("SDP_RDMA", "D_OP_ENABLE"), 1)


def test_memory_operand_without_rdma_is_rejected():
    m = GoldenMachine()
    prog = identity_sdp(RegisterProgram(), 0x1000, 0x2000)
    prog.set("SDP", "D_DP_BS_CFG", BS_BYPASS=0, BS_ALU_BYPASS=0, BS_ALU_ALGO=2)
    prog.set("SDP", "D_DP_BS_ALU_CFG", BS_ALU_SRC=1)
    write(m, prog)
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    with pytest.raises(InputError, match="BRDMA_DISABLE = YES"):
        m.write_reg(A("SDP_RDMA", "D_OP_ENABLE"), 1)


def test_out_of_scope_unit_address_is_rejected():
    with pytest.raises(InputError, match="0xb004 is not a register"):
        GoldenMachine().write_reg(0xB004, 1)  # PDP


def test_cacc_round_sticky_limit_above_16():
    # t = 17: discarded bits 0..16; the RTL's sticky sees bits 1..15 only.
    t = 17
    x = -(1 << 16) + 1  # -0.5 + 2^-17: nearest is 0, but its only non-zero discarded bit (bit 0)
    assert shr_round(x, t, 34, 32)[0] == 0  # lies outside the sticky, so the RTL sees an exact
    assert cacc_round(np.array([x]), t)[0][0] == -1  # negative tie and rounds away from zero
    x = -(1 << 16) + 2  # bit 1 is inside the sticky: both give 0
    assert cacc_round(np.array([x]), t)[0][0] == 0 == shr_round(x, t, 34, 32)[0]
    assert cacc_round(np.array([(1 << 16)]), t)[0][0] == 1  # positive tie rounds up
    for t in range(0, 17):  # inside 0..16 the clip is exactly the formula
        xs = np.arange(-70000, 70000, 37, dtype=np.int64)
        assert np.array_equal(cacc_round(xs, t)[0], shr_round(xs, t, 34, 32)[0])


def _conv_params(**kw):
    from nvdla_int8.golden.program import ConvParams
    from nvdla_int8.hw.layouts import Surface
    base = dict(width=4, height=4, channels=8192, kernels=1, kernel_w=4, kernel_h=4, out_w=1, out_h=1,
                stride_x=1, stride_y=1, dilation_x=1, dilation_y=1, pad_left=0, pad_top=0, pad_value=0,
                feature=Surface(0x1000_0000, 8 * 4, 8 * 4 * 4), weight_base=0x2000_0000, cvt_en=False,
                cvt_offset=0, cvt_scale=0, cvt_truncate=0, clip_truncate=0)
    base.update(kw)
    return ConvParams(**base)


def test_cacc_int32_saturation_is_counted():
    from nvdla_int8.golden.conv import convolve
    from nvdla_int8.trace import SparseMemory
    mem = SparseMemory()
    mem.fill(0x1000_0000, 1024 * 4 * 4 * 8, 0x80)  # every input -128
    mem.fill(0x2000_0000, 8192 * 16, 0x80)  # every weight -128
    # 16 taps * 8192 channels * 2^14 = 2^31: one above the int32 maximum
    out, count = convolve(mem, _conv_params())
    assert out[0, 0, 0] == (1 << 31) - 1 and count == 1
    out, count = convolve(mem, _conv_params(clip_truncate=1))
    assert out[0, 0, 0] == 1 << 30 and count == 0


def test_stepwise_accumulation_equals_gemm_without_saturation():
    from nvdla_int8.golden.conv import _accumulate_saturating, mac_sums, padded_input
    rng = np.random.default_rng(1)
    p = _conv_params(channels=19, kernels=5, width=6, height=5, kernel_w=3, kernel_h=2, out_w=4, out_h=3,
                     stride_x=2, dilation_y=2, pad_left=1, pad_value=-3)
    feat = rng.integers(-128, 128, (19, 5, 6))
    W = rng.integers(-128, 128, (5, 19, 2, 3))
    P = padded_input(feat, p)
    assert np.array_equal(_accumulate_saturating(P, W, p), mac_sums(P, W, p))


@pytest.mark.parametrize("values", ["random", "extreme"])
def test_long_reductions_are_exact_in_float32_or_float64(values):
    """1600 terms per output: random int8 keeps every partial sum under 2^24 (a float32 GEMM);
    large same-signed products do not (a float32 GEMM would round: float64). Both equal the
    int64 step-by-step sums."""
    from nvdla_int8.golden.conv import _accumulate_saturating, mac_sums, padded_input, sum_bound
    rng = np.random.default_rng(2)
    p = _conv_params(channels=400, kernels=3, width=3, height=3, kernel_w=2, kernel_h=2, out_w=2, out_h=2)
    if values == "random":
        feat, W = rng.integers(-128, 128, (400, 3, 3)), rng.integers(-128, 128, (3, 400, 2, 2))
    else:
        feat, W = rng.integers(100, 128, (400, 3, 3)), rng.integers(-128, -100, (3, 400, 2, 2))
    P = padded_input(feat, p)
    assert (sum_bound(P, W) < 1 << 24) == (values == "random")
    assert np.array_equal(mac_sums(P, W, p), _accumulate_saturating(P, W, p))


def test_encode_conv_is_the_inverse_of_decode_conv():
    from nvdla_int8.lower.legality import check_program
    from nvdla_int8.golden.program import decode_conv, encode_conv
    from nvdla_int8.golden.regfile import RegisterFile
    p = _conv_params(channels=19, kernels=5, width=6, height=5, kernel_w=3, kernel_h=2, out_w=3, out_h=2,
                     stride_x=2, stride_y=3, dilation_y=2, pad_left=1, pad_top=2, pad_value=-3, cvt_en=True,
                     cvt_offset=-7, cvt_scale=-300, cvt_truncate=5, clip_truncate=9)
    prog = encode_conv(RegisterProgram(), p)
    rf = RegisterFile()
    for r, v in prog.writes:
        rf.write(r.address, v)
    assert decode_conv(rf) == p
    # every consistency copy agrees, and the CDMA-only right/bottom pads give the output size
    # the checker finds nothing wrong with the encoded part: what it reports is the caller's
    # (SDP, OP_ENs, CBUF entries)
    left = [v for v in check_program(prog.writes)
            if not any(k in v for k in ("NVDLA_SDP.", "D_OP_ENABLE", "D_ENTRY_PER_SLICE"))]
    assert left == []


@st.composite
def _sdp_stage(draw, name):
    from nvdla_int8.golden.program import USE_ALU, USE_BOTH, USE_MUL, OperandStream, StageParams
    from nvdla_int8.hw.layouts import Surface
    word = st.integers(0, 2**32 - 1)
    s = StageParams(name=name, bypass=draw(st.booleans()), alu_bypass=draw(st.booleans()),
                    alu_algo=draw(st.integers(0, 3)), alu_from_mem=draw(st.booleans()),
                    alu_shift=draw(st.integers(0, 63)),
                    alu_operand=draw(st.integers(-32768, 32767)), mul_bypass=draw(st.booleans()),
                    mul_prelu=draw(st.booleans()), relu_bypass=draw(st.booleans()), mul_from_mem=draw(st.booleans()),
                    mul_shift=draw(st.integers(0, 63)), mul_operand=draw(st.integers(-32768, 32767)),
                    stream=OperandStream(enabled=draw(st.booleans()), use=draw(st.integers(0, 2)),
                                         two_byte=draw(st.booleans()), per_element=draw(st.booleans()),
                                         surface=Surface(draw(word), draw(word), draw(word))))
    # a stage reading an operand from memory needs a stream carrying it, else decode_sdp rejects it
    needs = {w for w, mem, byp in (("alu", s.alu_from_mem, s.alu_bypass), ("mul", s.mul_from_mem, s.mul_bypass))
             if mem and not byp and not s.bypass}
    if needs:
        use = USE_BOTH if len(needs) == 2 else draw(st.sampled_from([USE_BOTH, USE_ALU if "alu" in needs else USE_MUL]))
        s = dataclasses.replace(s, stream=dataclasses.replace(s.stream, enabled=True, use=use))
    return s


@st.composite
def _sdp_params(draw):
    from nvdla_int8.golden.program import SdpParams
    from nvdla_int8.hw.layouts import Surface
    word, dim = st.integers(0, 2**32 - 1), st.integers(1, 8192)
    return SdpParams(flying=draw(st.booleans()), width=draw(dim), height=draw(dim), channels=draw(dim),
                     src=Surface(draw(word), draw(word), draw(word)), dst=Surface(draw(word), draw(word), draw(word)),
                     x1=draw(_sdp_stage("BS")), x2=draw(_sdp_stage("BN")),
                     cvt_offset=draw(st.integers(-(2**31), 2**31 - 1)), cvt_scale=draw(st.integers(-32768, 32767)),
                     cvt_shift=draw(st.integers(0, 63)), perf_sat_en=draw(st.booleans()))


@given(p=_sdp_params())
def test_encode_sdp_is_the_inverse_of_decode_sdp(p):
    from nvdla_int8.golden.program import decode_sdp, encode_sdp
    from nvdla_int8.golden.regfile import RegisterFile
    prog = encode_sdp(RegisterProgram(), p)
    rf = RegisterFile()
    for r, v in prog.writes:
        rf.write(r.address, v)
    assert decode_sdp(rf) == p


def test_encode_sdp_writes_a_legal_standalone_layer():
    """What decode_sdp does not read (the SDP_RDMA cube copy, its INT8 mode fields) is encode_sdp's
    too: a stand-alone layer from it alone passes the checker once both units are enabled."""
    from nvdla_int8.lower.legality import check_sdp_program
    from nvdla_int8.golden.program import USE_BOTH, OperandStream, SdpParams, StageParams, encode_sdp
    from nvdla_int8.hw.layouts import Surface
    stream = OperandStream(enabled=True, use=USE_BOTH, two_byte=True, per_element=True,
                           surface=Surface(0x3000, 64, 256))
    x1 = StageParams(name="BS", bypass=False, alu_bypass=False, alu_algo=2, alu_from_mem=True, alu_shift=3,
                     alu_operand=0, mul_bypass=False, mul_prelu=True, relu_bypass=True, mul_from_mem=True,
                     mul_shift=7, mul_operand=0, stream=stream)
    x2 = dataclasses.replace(x1, name="BN", bypass=True, stream=dataclasses.replace(stream, enabled=False))
    p = SdpParams(flying=False, width=3, height=2, channels=19, src=Surface(0x1000, 32, 96),
                  dst=Surface(0x2000, 32, 96), x1=x1, x2=x2, cvt_offset=-5, cvt_scale=300, cvt_shift=9,
                  perf_sat_en=True)
    prog = encode_sdp(RegisterProgram(), p)
    enables = [(REGMAP.reg(u, "D_OP_ENABLE"), 1) for u in ("SDP", "SDP_RDMA")]
    assert check_sdp_program(prog.writes + enables) == []
    # the checker does see a wrong copy in this program
    prog.set("SDP_RDMA", "D_DATA_CUBE_CHANNEL", CHANNEL=7)
    assert any("D_DATA_CUBE_CHANNEL" in v for v in check_sdp_program(prog.writes + enables))


def test_a_dma_on_cvif_never_ends_the_layer_and_says_which_field():
    """nv_small has no CVIF: NVDLA never issues a request whose RAM type is 0 (the reset value), so
    the layer never ends (shared/nvdla-rtl-findings.md §1). The golden model does the same and
    names the field; the replay's missing-interrupt failure carries the reason."""
    from nvdla_int8.golden.replay import GoldenPlayer
    from nvdla_int8.trace.cfg import Command, Name
    from nvdla_int8.trace.program import layer_commands
    from nvdla_int8.trace.trace import Trace
    prog = identity_sdp(RegisterProgram(), 0x1000, 0x2000).set("SDP_RDMA", "D_SRC_DMA_CFG", SRC_RAM_TYPE=0)
    m = GoldenMachine()
    write(m, prog)
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    m.write_reg(A("SDP_RDMA", "D_OP_ENABLE"), 1)
    assert not m.layers and m.intr_status == 0
    assert m.read_reg(A("SDP", "S_STATUS")) == 1  # still RUNNING
    assert m.stalls == ["SDP group 0: NVDLA_SDP_RDMA.D_SRC_DMA_CFG_0.SRC_RAM_TYPE = 0 selects CVIF, which nv_small "
                        "lacks: the stand-alone input read (MRDMA) is never issued and the layer never ends "
                        "(write 1, MCIF)"]
    trace = Trace("cvif", [Command("mem_init", (Name("pri_mem"), 0x1000, 8, Name("ALL_ZERO")))]
                  + layer_commands(prog, conv=False))
    player = GoldenPlayer(trace)
    player.run()
    assert len(player.failures) == 1 and "interrupt SDP_0 never arrived: SDP group 0: NVDLA_SDP_RDMA." \
        "D_SRC_DMA_CFG_0.SRC_RAM_TYPE = 0 selects CVIF" in player.failures[0], player.failures


def test_a_1x1_cube_is_read_and_written_packed_whatever_the_strides():
    """NVDLA moves a 1x1 cube as one straight run of atoms (cfg_mode_1x1_pack in its SDP MRDMA and
    WDMA): a 1x1x14 layer with surface strides 0x18 reads and writes its second channel group at
    +8, as NVDLA's RTL wrote it (findings §2), not at +0x18."""
    m = GoldenMachine()
    m.memory.write(0x1000, bytes(range(1, 17)) + bytes([0x55] * 16))  # groups packed, a decoy at +0x18
    prog = identity_sdp(RegisterProgram(), 0x1000, 0x2000, c=14)
    prog.set("SDP_RDMA", "D_SRC_SURFACE_STRIDE", 0x18).set("SDP", "D_DST_SURFACE_STRIDE", 0x18)
    write(m, prog)
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    m.write_reg(A("SDP_RDMA", "D_OP_ENABLE"), 1)
    assert m.memory.read(0x2000, 16).tolist() == list(range(1, 17))
    assert m.memory.read(0x2010, 16).tolist() == [0] * 16  # nothing at the strided place


def test_a_1x1_per_element_operand_is_read_packed():
    """1x1x10 with a 2-byte PER_ELEMENT multiplier, surface stride 0x18: channel 8's operand is
    the 9th int16 of one straight run (base + 16; NV_NVDLA_SDP_RDMA_ig's 1x1 request), not at
    base + 0x18 (findings §2: channels 8 and 13 of such a layer)."""
    from nvdla_int8.golden.program import USE_MUL, OperandStream, SdpParams, StageParams, encode_sdp
    from nvdla_int8.hw.layouts import Surface
    ops = np.arange(1, 17, dtype="<i2")  # channel c's operand c + 1, packed...
    m = GoldenMachine()
    m.memory.write(0x3000, ops.tobytes() + np.full(8, 100, "<i2").tobytes())  # ...and a decoy at +0x18
    m.memory.write(0x1000, bytes([1] * 16))
    stream = OperandStream(enabled=True, use=USE_MUL, two_byte=True, per_element=True, surface=Surface(0x3000, 0x18, 0x18))
    x1 = StageParams(name="BS", bypass=False, alu_bypass=True, alu_algo=2, alu_from_mem=False, alu_shift=0,
                     alu_operand=0, mul_bypass=False, mul_prelu=False, relu_bypass=True, mul_from_mem=True,
                     mul_shift=0, mul_operand=0, stream=stream)
    x2 = dataclasses.replace(x1, name="BN", bypass=True, stream=dataclasses.replace(stream, enabled=False))
    p = SdpParams(flying=False, width=1, height=1, channels=10, src=Surface(0x1000, 8, 8), dst=Surface(0x2000, 8, 8),
                  x1=x1, x2=x2, cvt_offset=0, cvt_scale=1, cvt_shift=0, perf_sat_en=True)
    write(m, encode_sdp(RegisterProgram(), p))
    m.write_reg(A("SDP", "D_OP_ENABLE"), 1)
    m.write_reg(A("SDP_RDMA", "D_OP_ENABLE"), 1)
    assert m.memory.read(0x2000, 10).tolist() == list(range(1, 11))
