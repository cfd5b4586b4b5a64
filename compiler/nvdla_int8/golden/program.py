"""Decode the consumer-group registers of a layer into typed parameters, checking mode fields.

Only registers that change the INT8 result are decoded (registers.md §6); mode-select fields (class
F=) must hold the one value nv_small INT8 DC/SDP supports, else the program is rejected with an
error naming unit, register and field. Consistency copies (class K) are not checked here: the
hardware computes with the CSC/SDP copies, and so does this model; the compiler's legality
checker enforces them.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..hw.fixed import sext
from ..hw.layouts import Surface, sdp_dma_surface, weight_bytes_field
from ..hw.memif import MCIF
from ..trace.program import RegisterProgram
from .regfile import RegisterFile

# (unit, register, field, only legal value, meaning)
_CONV_MODE_FIELDS = [
    ("CDMA", "D_MISC_CFG", "CONV_MODE", 0, "DIRECT"), ("CDMA", "D_MISC_CFG", "IN_PRECISION", 0, "INT8"),
    ("CDMA", "D_MISC_CFG", "PROC_PRECISION", 0, "INT8"), ("CDMA", "D_DATAIN_FORMAT", "DATAIN_FORMAT", 0, "FEATURE"),
    ("CDMA", "D_BATCH_NUMBER", "BATCHES", 0, "one batch"), ("CDMA", "D_WEIGHT_FORMAT", "WEIGHT_FORMAT", 0, "UNCOMPRESSED"),
    ("CSC", "D_MISC_CFG", "CONV_MODE", 0, "DIRECT"), ("CSC", "D_MISC_CFG", "IN_PRECISION", 0, "INT8"),
    ("CSC", "D_MISC_CFG", "PROC_PRECISION", 0, "INT8"), ("CSC", "D_DATAIN_FORMAT", "DATAIN_FORMAT", 0, "FEATURE"),
    ("CSC", "D_BATCH_NUMBER", "BATCHES", 0, "one batch"), ("CSC", "D_WEIGHT_FORMAT", "WEIGHT_FORMAT", 0, "UNCOMPRESSED"),
    ("CMAC_A", "D_MISC_CFG", "CONV_MODE", 0, "DIRECT"), ("CMAC_A", "D_MISC_CFG", "PROC_PRECISION", 0, "INT8"),
    ("CMAC_B", "D_MISC_CFG", "CONV_MODE", 0, "DIRECT"), ("CMAC_B", "D_MISC_CFG", "PROC_PRECISION", 0, "INT8"),
    ("CACC", "D_MISC_CFG", "CONV_MODE", 0, "DIRECT"), ("CACC", "D_MISC_CFG", "PROC_PRECISION", 0, "INT8"),
    ("CACC", "D_BATCH_NUMBER", "BATCHES", 0, "one batch"),
]
_SDP_MODE_FIELDS = [
    ("SDP", "D_FEATURE_MODE_CFG", "OUTPUT_DST", 0, "MEM (SDP->PDP is out of scope)"),
    ("SDP", "D_FEATURE_MODE_CFG", "WINOGRAD", 0, "OFF"), ("SDP", "D_FEATURE_MODE_CFG", "BATCH_NUMBER", 0, "one batch"),
    ("SDP", "D_DATA_FORMAT", "PROC_PRECISION", 0, "INT8"), ("SDP", "D_DATA_FORMAT", "OUT_PRECISION", 0, "INT8"),
]
_RDMA_MODE_FIELDS = [
    ("SDP_RDMA", "D_FEATURE_MODE_CFG", "WINOGRAD", 0, "OFF"), ("SDP_RDMA", "D_FEATURE_MODE_CFG", "IN_PRECISION", 0, "INT8"),
    ("SDP_RDMA", "D_FEATURE_MODE_CFG", "PROC_PRECISION", 0, "INT8"),
    ("SDP_RDMA", "D_FEATURE_MODE_CFG", "OUT_PRECISION", 0, "INT8"),
    ("SDP_RDMA", "D_FEATURE_MODE_CFG", "BATCH_NUMBER", 0, "one batch"),
]


def check_modes(rf: RegisterFile, fields) -> None:
    for unit, reg, field, legal, meaning in fields:
        v = rf[unit].consumer_field(reg, field)
        if v != legal:
            raise InputError(f"illegal register program: NVDLA_{unit}.{reg}_0 field {field} = {v}; "
                             f"nv_small INT8 supports only {legal} ({meaning})")


@dataclass(frozen=True)
class ConvParams:
    """Direct convolution in feature mode (datapath.md §4-§7), from CDMA/CSC/CACC registers."""

    width: int  # input Wi
    height: int  # input Hi
    channels: int  # input C
    kernels: int  # K
    kernel_w: int  # S
    kernel_h: int  # R
    out_w: int
    out_h: int
    stride_x: int
    stride_y: int
    dilation_x: int
    dilation_y: int
    pad_left: int
    pad_top: int
    pad_value: int  # sext(PAD_VALUE[7:0])
    feature: Surface
    weight_base: int
    cvt_en: bool
    cvt_offset: int
    cvt_scale: int
    cvt_truncate: int
    clip_truncate: int


def decode_conv(rf: RegisterFile) -> ConvParams:
    check_modes(rf, _CONV_MODE_FIELDS)
    cdma, csc, cacc = rf["CDMA"], rf["CSC"], rf["CACC"]
    f = csc.consumer_field
    return ConvParams(
        width=f("D_DATAIN_SIZE_EXT_0", "DATAIN_WIDTH_EXT") + 1,
        height=f("D_DATAIN_SIZE_EXT_0", "DATAIN_HEIGHT_EXT") + 1,
        channels=f("D_DATAIN_SIZE_EXT_1", "DATAIN_CHANNEL_EXT") + 1,
        kernels=f("D_WEIGHT_SIZE_EXT_1", "WEIGHT_KERNEL") + 1,
        kernel_w=f("D_WEIGHT_SIZE_EXT_0", "WEIGHT_WIDTH_EXT") + 1,
        kernel_h=f("D_WEIGHT_SIZE_EXT_0", "WEIGHT_HEIGHT_EXT") + 1,
        out_w=f("D_DATAOUT_SIZE_0", "DATAOUT_WIDTH") + 1,
        out_h=f("D_DATAOUT_SIZE_0", "DATAOUT_HEIGHT") + 1,
        stride_x=f("D_CONV_STRIDE_EXT", "CONV_X_STRIDE_EXT") + 1,
        stride_y=f("D_CONV_STRIDE_EXT", "CONV_Y_STRIDE_EXT") + 1,
        dilation_x=f("D_DILATION_EXT", "X_DILATION_EXT") + 1,
        dilation_y=f("D_DILATION_EXT", "Y_DILATION_EXT") + 1,
        pad_left=f("D_ZERO_PADDING", "PAD_LEFT"),
        pad_top=f("D_ZERO_PADDING", "PAD_TOP"),
        pad_value=sext(f("D_ZERO_PADDING_VALUE", "PAD_VALUE") & 0xFF, 8),
        feature=Surface(cdma.consumer_value("D_DAIN_ADDR_LOW_0"), cdma.consumer_value("D_LINE_STRIDE"),
                        cdma.consumer_value("D_SURF_STRIDE")),
        weight_base=cdma.consumer_value("D_WEIGHT_ADDR_LOW"),
        cvt_en=bool(cdma.consumer_field("D_CVT_CFG", "CVT_EN")),
        cvt_offset=sext(cdma.consumer_field("D_CVT_OFFSET", "CVT_OFFSET"), 16),
        cvt_scale=sext(cdma.consumer_field("D_CVT_SCALE", "CVT_SCALE"), 16),
        cvt_truncate=cdma.consumer_field("D_CVT_CFG", "CVT_TRUNCATE"),
        clip_truncate=cacc.consumer_field("D_CLIP_CFG", "CLIP_TRUNCATE"),
    )


def encode_conv(prog: RegisterProgram, p: ConvParams, *, pad_right: int | None = None,
                pad_bottom: int | None = None) -> RegisterProgram:
    """The inverse of `decode_conv`: write a layer's geometry into CDMA, CSC and CACC, every
    consistency copy (class K) equal to the functional one, mode fields INT8/DIRECT/FEATURE.

    PAD_RIGHT/PAD_BOTTOM exist only in CDMA; by default they are the smallest values that give the
    output size (datapath.md §5). Also written, though nothing here reads them: both CDMA RAM
    types MCIF (their reset value selects the CVIF nv_small lacks and hangs the layer, hw.memif)
    and the ADDR_HIGH words 0, as NVDLA's traces do. CBUF banks, entries and release are the caller's.
    """
    span_w = (p.kernel_w - 1) * p.dilation_x + 1
    span_h = (p.kernel_h - 1) * p.dilation_y + 1
    if pad_right is None:
        pad_right = max(0, (p.out_w - 1) * p.stride_x + span_w - p.width - p.pad_left)
    if pad_bottom is None:
        pad_bottom = max(0, (p.out_h - 1) * p.stride_y + span_h - p.height - p.pad_top)
    w, h, c, k = p.width - 1, p.height - 1, p.channels - 1, p.kernels - 1
    for unit in ("CDMA", "CSC"):
        prog.set(unit, "D_MISC_CFG", CONV_MODE=0, IN_PRECISION=0, PROC_PRECISION=0)
        prog.set(unit, "D_DATAIN_FORMAT", DATAIN_FORMAT=0)
        prog.set(unit, "D_WEIGHT_BYTES", weight_bytes_field(p.kernels, p.channels, p.kernel_h, p.kernel_w))
        prog.set(unit, "D_ZERO_PADDING_VALUE", PAD_VALUE=p.pad_value & 0xFFFF)
    for unit in ("CMAC_A", "CMAC_B", "CACC"):
        prog.set(unit, "D_MISC_CFG", CONV_MODE=0, PROC_PRECISION=0)
    prog.set("CDMA", "D_DATAIN_SIZE_0", DATAIN_WIDTH=w, DATAIN_HEIGHT=h)
    prog.set("CDMA", "D_DATAIN_SIZE_1", DATAIN_CHANNEL=c)
    prog.set("CDMA", "D_DATAIN_SIZE_EXT_0", DATAIN_WIDTH_EXT=w, DATAIN_HEIGHT_EXT=h)
    prog.set("CDMA", "D_DAIN_ADDR_LOW_0", p.feature.base)
    prog.set("CDMA", "D_LINE_STRIDE", p.feature.line_stride)
    prog.set("CDMA", "D_SURF_STRIDE", p.feature.surf_stride)
    prog.set("CDMA", "D_WEIGHT_SIZE_0", BYTE_PER_KERNEL=p.kernel_h * p.kernel_w * p.channels - 1)
    prog.set("CDMA", "D_WEIGHT_SIZE_1", WEIGHT_KERNEL=k)
    prog.set("CDMA", "D_WEIGHT_ADDR_LOW", p.weight_base)
    prog.set("CDMA", "D_DAIN_RAM_TYPE", DATAIN_RAM_TYPE=MCIF)
    prog.set("CDMA", "D_WEIGHT_RAM_TYPE", WEIGHT_RAM_TYPE=MCIF)
    prog.set("CDMA", "D_DAIN_ADDR_HIGH_0", 0)
    prog.set("CDMA", "D_WEIGHT_ADDR_HIGH", 0)
    prog.set("CDMA", "D_CVT_CFG", CVT_EN=int(p.cvt_en), CVT_TRUNCATE=p.cvt_truncate)
    prog.set("CDMA", "D_CVT_OFFSET", CVT_OFFSET=p.cvt_offset & 0xFFFF)
    prog.set("CDMA", "D_CVT_SCALE", CVT_SCALE=p.cvt_scale & 0xFFFF)
    prog.set("CDMA", "D_CONV_STRIDE", CONV_X_STRIDE=p.stride_x - 1, CONV_Y_STRIDE=p.stride_y - 1)
    prog.set("CDMA", "D_ZERO_PADDING", PAD_LEFT=p.pad_left, PAD_RIGHT=pad_right, PAD_TOP=p.pad_top,
             PAD_BOTTOM=pad_bottom)
    prog.set("CSC", "D_DATAIN_SIZE_EXT_0", DATAIN_WIDTH_EXT=w, DATAIN_HEIGHT_EXT=h)
    prog.set("CSC", "D_DATAIN_SIZE_EXT_1", DATAIN_CHANNEL_EXT=c)
    prog.set("CSC", "D_WEIGHT_SIZE_EXT_0", WEIGHT_WIDTH_EXT=p.kernel_w - 1, WEIGHT_HEIGHT_EXT=p.kernel_h - 1)
    prog.set("CSC", "D_WEIGHT_SIZE_EXT_1", WEIGHT_CHANNEL_EXT=c, WEIGHT_KERNEL=k)
    prog.set("CSC", "D_ATOMICS", ATOMICS=p.out_w * p.out_h - 1)
    prog.set("CSC", "D_CONV_STRIDE_EXT", CONV_X_STRIDE_EXT=p.stride_x - 1, CONV_Y_STRIDE_EXT=p.stride_y - 1)
    prog.set("CSC", "D_DILATION_EXT", X_DILATION_EXT=p.dilation_x - 1, Y_DILATION_EXT=p.dilation_y - 1)
    prog.set("CSC", "D_ZERO_PADDING", PAD_LEFT=p.pad_left, PAD_TOP=p.pad_top)
    for unit in ("CSC", "CACC"):
        prog.set(unit, "D_DATAOUT_SIZE_0", DATAOUT_WIDTH=p.out_w - 1, DATAOUT_HEIGHT=p.out_h - 1)
        prog.set(unit, "D_DATAOUT_SIZE_1", DATAOUT_CHANNEL=k)
    prog.set("CACC", "D_CLIP_CFG", CLIP_TRUNCATE=p.clip_truncate)
    return prog


# SDP_RDMA operand stream fields (memory-layouts.md §4)
USE_MUL, USE_ALU, USE_BOTH = 0, 1, 2
ALGO_MAX, ALGO_MIN, ALGO_SUM = 0, 1, 2


@dataclass(frozen=True)
class OperandStream:
    """One SDP_RDMA operand stream (BRDMA for X1, NRDMA for X2)."""

    enabled: bool
    use: int  # USE_MUL / USE_ALU / USE_BOTH
    two_byte: bool
    per_element: bool
    surface: Surface  # base and (per-element) strides

    @property
    def component_bytes(self) -> int:
        return 2 if self.two_byte else 1

    @property
    def element_bytes(self) -> int:
        return self.component_bytes * (2 if self.use == USE_BOTH else 1)

    def component(self, which: str) -> int | None:
        """Component index of 'alu' or 'mul' in an element, or None when the stream lacks it."""
        if self.use == USE_BOTH:
            return 0 if which == "alu" else 1
        return 0 if (which == "alu") == (self.use == USE_ALU) else None


@dataclass(frozen=True)
class StageParams:
    """One SDP X stage (X1 = BS, X2 = BN), datapath.md §8.2."""

    name: str  # "BS" or "BN"
    bypass: bool
    alu_bypass: bool
    alu_algo: int
    alu_from_mem: bool
    alu_shift: int
    alu_operand: int
    mul_bypass: bool
    mul_prelu: bool
    relu_bypass: bool
    mul_from_mem: bool
    mul_shift: int  # only bits [5:0] reach the datapath
    mul_operand: int
    stream: OperandStream


@dataclass(frozen=True)
class SdpParams:
    flying: bool
    width: int
    height: int
    channels: int
    src: Surface  # stand-alone input (SDP_RDMA MRDMA)
    dst: Surface
    x1: StageParams
    x2: StageParams
    cvt_offset: int
    cvt_scale: int
    cvt_shift: int
    perf_sat_en: bool

    @property
    def src_surface(self) -> Surface:
        """Where MRDMA reads the stand-alone input: `src`, packed for a 1x1 cube (sdp_dma_surface)."""
        return sdp_dma_surface(self.src, self.width, self.height)

    @property
    def dst_surface(self) -> Surface:
        """Where the WDMA writes: `dst`, packed for a 1x1 cube (sdp_dma_surface)."""
        return sdp_dma_surface(self.dst, self.width, self.height)

    def operand_surface(self, stream: OperandStream) -> Surface:
        """Where a PER_ELEMENT operand stream is read: its surface, packed for a 1x1 cube."""
        return sdp_dma_surface(stream.surface, self.width, self.height, stream.element_bytes)

    @property
    def uses_rdma_operands(self) -> bool:
        return any(not s.bypass and ((s.alu_from_mem and not s.alu_bypass) or (s.mul_from_mem and not s.mul_bypass))
                   for s in (self.x1, self.x2))


def _stream(rf: RegisterFile, prefix: str, letter: str) -> OperandStream:
    r = rf["SDP_RDMA"]
    cfg = f"D_{letter}RDMA_CFG"
    return OperandStream(
        enabled=not r.consumer_field(cfg, f"{letter}RDMA_DISABLE"),
        use=r.consumer_field(cfg, f"{letter}RDMA_DATA_USE"),
        two_byte=bool(r.consumer_field(cfg, f"{letter}RDMA_DATA_SIZE")),
        per_element=bool(r.consumer_field(cfg, f"{letter}RDMA_DATA_MODE")),
        surface=Surface(r.consumer_value(f"D_{prefix}_BASE_ADDR_LOW"), r.consumer_value(f"D_{prefix}_LINE_STRIDE"),
                        r.consumer_value(f"D_{prefix}_SURFACE_STRIDE")),
    )


def _stage(rf: RegisterFile, p: str, stream: OperandStream) -> StageParams:
    f = rf["SDP"].consumer_field
    s = StageParams(
        name=p,
        bypass=bool(f(f"D_DP_{p}_CFG", f"{p}_BYPASS")),
        alu_bypass=bool(f(f"D_DP_{p}_CFG", f"{p}_ALU_BYPASS")),
        alu_algo=f(f"D_DP_{p}_CFG", f"{p}_ALU_ALGO"),
        alu_from_mem=bool(f(f"D_DP_{p}_ALU_CFG", f"{p}_ALU_SRC")),
        alu_shift=f(f"D_DP_{p}_ALU_CFG", f"{p}_ALU_SHIFT_VALUE"),
        alu_operand=sext(f(f"D_DP_{p}_ALU_SRC_VALUE", f"{p}_ALU_OPERAND"), 16),
        mul_bypass=bool(f(f"D_DP_{p}_CFG", f"{p}_MUL_BYPASS")),
        mul_prelu=bool(f(f"D_DP_{p}_CFG", f"{p}_MUL_PRELU")),
        relu_bypass=bool(f(f"D_DP_{p}_CFG", f"{p}_RELU_BYPASS")),
        mul_from_mem=bool(f(f"D_DP_{p}_MUL_CFG", f"{p}_MUL_SRC")),
        mul_shift=f(f"D_DP_{p}_MUL_CFG", f"{p}_MUL_SHIFT_VALUE") & 0x3F,
        mul_operand=sext(f(f"D_DP_{p}_MUL_SRC_VALUE", f"{p}_MUL_OPERAND"), 16),
        stream=stream,
    )
    if s.bypass:
        return s
    rdma = "BRDMA" if p == "BS" else "NRDMA"
    for which, from_mem, used in (("alu", s.alu_from_mem, not s.alu_bypass), ("mul", s.mul_from_mem, not s.mul_bypass)):
        if from_mem and used:
            if not stream.enabled:
                raise InputError(f"illegal register program: SDP {p} {which.upper()} operand comes from memory "
                                 f"but NVDLA_SDP_RDMA.D_{rdma}_CFG_0 has {rdma}_DISABLE = YES")
            if stream.component(which) is None:
                raise InputError(f"illegal register program: SDP {p} {which.upper()} operand comes from memory "
                                 f"but NVDLA_SDP_RDMA.D_{rdma}_CFG_0 {rdma}_DATA_USE does not carry it")
    return s


def decode_sdp(rf: RegisterFile) -> SdpParams:
    check_modes(rf, _SDP_MODE_FIELDS)
    sdp, rdma = rf["SDP"], rf["SDP_RDMA"]
    flying = bool(sdp.consumer_field("D_FEATURE_MODE_CFG", "FLYING_MODE"))
    p = SdpParams(
        flying=flying,
        width=sdp.consumer_field("D_DATA_CUBE_WIDTH", "WIDTH") + 1,
        height=sdp.consumer_field("D_DATA_CUBE_HEIGHT", "HEIGHT") + 1,
        channels=sdp.consumer_field("D_DATA_CUBE_CHANNEL", "CHANNEL") + 1,
        src=Surface(rdma.consumer_value("D_SRC_BASE_ADDR_LOW"), rdma.consumer_value("D_SRC_LINE_STRIDE"),
                    rdma.consumer_value("D_SRC_SURFACE_STRIDE")),
        dst=Surface(sdp.consumer_value("D_DST_BASE_ADDR_LOW"), sdp.consumer_value("D_DST_LINE_STRIDE"),
                    sdp.consumer_value("D_DST_SURFACE_STRIDE")),
        x1=_stage(rf, "BS", _stream(rf, "BS", "B")),
        x2=_stage(rf, "BN", _stream(rf, "BN", "N")),
        cvt_offset=sext(sdp.consumer_value("D_CVT_OFFSET"), 32),
        cvt_scale=sext(sdp.consumer_field("D_CVT_SCALE", "CVT_SCALE"), 16),
        cvt_shift=sdp.consumer_field("D_CVT_SHIFT", "CVT_SHIFT"),
        perf_sat_en=bool(sdp.consumer_field("D_PERF_ENABLE", "PERF_SAT_EN")),
    )
    if not flying or p.uses_rdma_operands:
        check_modes(rf, _RDMA_MODE_FIELDS)
    if not flying and rdma.consumer_field("D_FEATURE_MODE_CFG", "FLYING_MODE"):
        raise InputError("illegal register program: NVDLA_SDP.D_FEATURE_MODE_CFG_0 FLYING_MODE = OFF (stand-alone) "
                         "but NVDLA_SDP_RDMA.D_FEATURE_MODE_CFG_0 FLYING_MODE = ON")
    return p


def encode_sdp(prog: RegisterProgram, p: SdpParams) -> RegisterProgram:
    """The inverse of `decode_sdp`: write a layer's SDP and SDP_RDMA registers, the SDP_RDMA cube
    size a copy of SDP's, mode fields INT8/MEM/one batch in both units.

    Also written, though nothing here reads them, because a program must set them: EW (X3) and
    ERDMA bypassed/disabled (absent on nv_small), every RAM type MC and every ADDR_HIGH 0 (one
    32-bit memory, as NVDLA's traces do). Every stream register is written, enabled or not, so the
    round trip is exact; memory contents, OP_ENABLE and pointers are the caller's.
    """
    for unit in ("SDP", "SDP_RDMA"):
        prog.set(unit, "D_DATA_CUBE_WIDTH", WIDTH=p.width - 1)
        prog.set(unit, "D_DATA_CUBE_HEIGHT", HEIGHT=p.height - 1)
        prog.set(unit, "D_DATA_CUBE_CHANNEL", CHANNEL=p.channels - 1)
    _surface(prog, "SDP", "DST", p.dst)
    prog.set("SDP", "D_DST_DMA_CFG", DST_RAM_TYPE=MCIF)
    for s in (p.x1, p.x2):
        _encode_stage(prog, s)
    prog.set("SDP", "D_DP_EW_CFG", EW_BYPASS=1)
    prog.set("SDP", "D_FEATURE_MODE_CFG", FLYING_MODE=int(p.flying), OUTPUT_DST=0, WINOGRAD=0, NAN_TO_ZERO=0,
             BATCH_NUMBER=0)
    prog.set("SDP", "D_DATA_FORMAT", PROC_PRECISION=0, OUT_PRECISION=0)
    prog.set("SDP", "D_CVT_OFFSET", CVT_OFFSET=p.cvt_offset & 0xFFFF_FFFF)
    prog.set("SDP", "D_CVT_SCALE", CVT_SCALE=p.cvt_scale & 0xFFFF)
    prog.set("SDP", "D_CVT_SHIFT", CVT_SHIFT=p.cvt_shift)
    prog.set("SDP", "D_PERF_ENABLE", PERF_SAT_EN=int(p.perf_sat_en))
    _surface(prog, "SDP_RDMA", "SRC", p.src)
    prog.set("SDP_RDMA", "D_SRC_DMA_CFG", SRC_RAM_TYPE=MCIF)
    for prefix, letter, s in (("BS", "B", p.x1), ("BN", "N", p.x2)):
        st = s.stream
        prog.set("SDP_RDMA", f"D_{letter}RDMA_CFG", **{
            f"{letter}RDMA_DISABLE": int(not st.enabled), f"{letter}RDMA_DATA_USE": st.use,
            f"{letter}RDMA_DATA_SIZE": int(st.two_byte), f"{letter}RDMA_DATA_MODE": int(st.per_element),
            f"{letter}RDMA_RAM_TYPE": MCIF})
        _surface(prog, "SDP_RDMA", prefix, st.surface)
    prog.set("SDP_RDMA", "D_ERDMA_CFG", ERDMA_DISABLE=1, ERDMA_RAM_TYPE=MCIF)
    prog.set("SDP_RDMA", "D_FEATURE_MODE_CFG", FLYING_MODE=int(p.flying), WINOGRAD=0, IN_PRECISION=0,
             PROC_PRECISION=0, OUT_PRECISION=0, BATCH_NUMBER=0)
    return prog


def _surface(prog: RegisterProgram, unit: str, prefix: str, s: Surface) -> None:
    prog.set(unit, f"D_{prefix}_BASE_ADDR_LOW", s.base)
    prog.set(unit, f"D_{prefix}_BASE_ADDR_HIGH", 0)
    prog.set(unit, f"D_{prefix}_LINE_STRIDE", s.line_stride)
    prog.set(unit, f"D_{prefix}_SURFACE_STRIDE", s.surf_stride)


def _encode_stage(prog: RegisterProgram, s: StageParams) -> None:
    p = s.name
    prog.set("SDP", f"D_DP_{p}_CFG", **{
        f"{p}_BYPASS": int(s.bypass), f"{p}_ALU_BYPASS": int(s.alu_bypass), f"{p}_ALU_ALGO": s.alu_algo,
        f"{p}_MUL_BYPASS": int(s.mul_bypass), f"{p}_MUL_PRELU": int(s.mul_prelu),
        f"{p}_RELU_BYPASS": int(s.relu_bypass)})
    prog.set("SDP", f"D_DP_{p}_ALU_CFG", **{f"{p}_ALU_SRC": int(s.alu_from_mem), f"{p}_ALU_SHIFT_VALUE": s.alu_shift})
    prog.set("SDP", f"D_DP_{p}_ALU_SRC_VALUE", **{f"{p}_ALU_OPERAND": s.alu_operand & 0xFFFF})
    prog.set("SDP", f"D_DP_{p}_MUL_CFG", **{f"{p}_MUL_SRC": int(s.mul_from_mem), f"{p}_MUL_SHIFT_VALUE": s.mul_shift})
    prog.set("SDP", f"D_DP_{p}_MUL_SRC_VALUE", **{f"{p}_MUL_OPERAND": s.mul_operand & 0xFFFF})
