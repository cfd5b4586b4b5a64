"""Legality of an nv_small INT8 conv + SDP register program, checked before anything is written.

`check_program(writes)` takes the ordered (register or CSB address, value) writes of one conv layer
(`check_sdp_program` those of a stand-alone SDP layer)
and returns every violation as a one-line string (empty list = legal). It checks what the golden
model accepts silently or the hardware would do wrong: bits outside a register's fields,
mode fields with their one legal value, consistency copies (CDMA vs CSC vs CACC vs SDP), the
convolution output-size rule, register ranges narrower than their fields (CLIP_TRUNCATE 0..16,
MUL_SHIFT bits [15:14]), SDP operand streams, and CBUF capacity. The verification environment
can call it on any program, including hand-written ones. A value wider than its field (a pad of
40, a 2^25 surface stride) cannot even be written as a register word: the register map raises
`FieldOverflow` while the program is built, and `lower.vectors.lower_op` refuses it naming the
layer and the field, as it does this checker's findings.

It also refuses what nv_small itself cannot run or would compute differently from the golden
model (shared/nvdla-rtl-findings.md; rules and sources in docs/nvdla-rules.md): a used DMA whose
RAM type selects the absent CVIF (hw.memif; the reset value does), the absent EW stage and
ERDMA, CDMA packing hints (D_DAIN_MAP) that the strides contradict, and a CSC release of more
input slices than there are (the reset value does it to a one-row input). `check_sequence` takes
the conv layers of one program together: what one leaves in NVDLA's CBUF bookkeeping for the next.
Two rules drawn from the findings' failures (PER_KERNEL operand strides other than 8 x bytes per
element, one output channel with a kernel dilated both ways) are gone: replayed on NVDLA's RTL
under check_sequence's rules, those layers compute as the golden model does (docs/nvdla-rules.md §4).
"""
from __future__ import annotations

from ..hw.cdma_data import input_entries
from ..hw.cdma_weights import WeightLedger
from ..hw.config import NV_SMALL
from ..hw.layouts import ceil_div
from ..hw.memif import cvif_selections
from ..hw.regmap import REGMAP, Register

_MODES = [  # (unit, register, field, legal value)
    ("CDMA", "D_MISC_CFG", "CONV_MODE", 0), ("CDMA", "D_MISC_CFG", "IN_PRECISION", 0),
    ("CDMA", "D_MISC_CFG", "PROC_PRECISION", 0), ("CDMA", "D_DATAIN_FORMAT", "DATAIN_FORMAT", 0),
    ("CDMA", "D_BATCH_NUMBER", "BATCHES", 0), ("CDMA", "D_WEIGHT_FORMAT", "WEIGHT_FORMAT", 0),
    ("CSC", "D_MISC_CFG", "CONV_MODE", 0), ("CSC", "D_MISC_CFG", "IN_PRECISION", 0),
    ("CSC", "D_MISC_CFG", "PROC_PRECISION", 0), ("CSC", "D_DATAIN_FORMAT", "DATAIN_FORMAT", 0),
    ("CSC", "D_BATCH_NUMBER", "BATCHES", 0), ("CSC", "D_WEIGHT_FORMAT", "WEIGHT_FORMAT", 0),
    ("CMAC_A", "D_MISC_CFG", "PROC_PRECISION", 0), ("CMAC_B", "D_MISC_CFG", "PROC_PRECISION", 0),
    ("CMAC_A", "D_MISC_CFG", "CONV_MODE", 0), ("CMAC_B", "D_MISC_CFG", "CONV_MODE", 0),
    ("CACC", "D_MISC_CFG", "PROC_PRECISION", 0), ("CACC", "D_MISC_CFG", "CONV_MODE", 0),
    ("CACC", "D_BATCH_NUMBER", "BATCHES", 0),
    ("SDP", "D_FEATURE_MODE_CFG", "FLYING_MODE", 1), ("SDP", "D_FEATURE_MODE_CFG", "OUTPUT_DST", 0),
    ("SDP", "D_FEATURE_MODE_CFG", "WINOGRAD", 0), ("SDP", "D_FEATURE_MODE_CFG", "BATCH_NUMBER", 0),
    ("SDP", "D_DATA_FORMAT", "PROC_PRECISION", 0), ("SDP", "D_DATA_FORMAT", "OUT_PRECISION", 0),
]
# (unit A, register A, field A, unit B, register B, field B): copies that must agree.
_COPIES = [
    ("CDMA", "D_DATAIN_SIZE_0", "DATAIN_WIDTH", "CSC", "D_DATAIN_SIZE_EXT_0", "DATAIN_WIDTH_EXT"),
    ("CDMA", "D_DATAIN_SIZE_0", "DATAIN_HEIGHT", "CSC", "D_DATAIN_SIZE_EXT_0", "DATAIN_HEIGHT_EXT"),
    ("CDMA", "D_DATAIN_SIZE_EXT_0", "DATAIN_WIDTH_EXT", "CSC", "D_DATAIN_SIZE_EXT_0", "DATAIN_WIDTH_EXT"),
    ("CDMA", "D_DATAIN_SIZE_EXT_0", "DATAIN_HEIGHT_EXT", "CSC", "D_DATAIN_SIZE_EXT_0", "DATAIN_HEIGHT_EXT"),
    ("CDMA", "D_DATAIN_SIZE_1", "DATAIN_CHANNEL", "CSC", "D_DATAIN_SIZE_EXT_1", "DATAIN_CHANNEL_EXT"),
    ("CSC", "D_WEIGHT_SIZE_EXT_1", "WEIGHT_CHANNEL_EXT", "CSC", "D_DATAIN_SIZE_EXT_1", "DATAIN_CHANNEL_EXT"),
    ("CDMA", "D_WEIGHT_SIZE_1", "WEIGHT_KERNEL", "CSC", "D_WEIGHT_SIZE_EXT_1", "WEIGHT_KERNEL"),
    ("CDMA", "D_WEIGHT_BYTES", "WEIGHT_BYTES", "CSC", "D_WEIGHT_BYTES", "WEIGHT_BYTES"),
    ("CDMA", "D_CONV_STRIDE", "CONV_X_STRIDE", "CSC", "D_CONV_STRIDE_EXT", "CONV_X_STRIDE_EXT"),
    ("CDMA", "D_CONV_STRIDE", "CONV_Y_STRIDE", "CSC", "D_CONV_STRIDE_EXT", "CONV_Y_STRIDE_EXT"),
    ("CDMA", "D_ZERO_PADDING", "PAD_LEFT", "CSC", "D_ZERO_PADDING", "PAD_LEFT"),
    ("CDMA", "D_ZERO_PADDING", "PAD_TOP", "CSC", "D_ZERO_PADDING", "PAD_TOP"),
    ("CDMA", "D_ZERO_PADDING_VALUE", "PAD_VALUE", "CSC", "D_ZERO_PADDING_VALUE", "PAD_VALUE"),
    ("CDMA", "D_ENTRY_PER_SLICE", "ENTRIES", "CSC", "D_ENTRY_PER_SLICE", "ENTRIES"),
    ("CDMA", "D_BANK", "DATA_BANK", "CSC", "D_BANK", "DATA_BANK"),
    ("CDMA", "D_BANK", "WEIGHT_BANK", "CSC", "D_BANK", "WEIGHT_BANK"),
    ("CSC", "D_WEIGHT_SIZE_EXT_1", "WEIGHT_KERNEL", "CSC", "D_DATAOUT_SIZE_1", "DATAOUT_CHANNEL"),
    ("CSC", "D_DATAOUT_SIZE_0", "DATAOUT_WIDTH", "CACC", "D_DATAOUT_SIZE_0", "DATAOUT_WIDTH"),
    ("CSC", "D_DATAOUT_SIZE_0", "DATAOUT_HEIGHT", "CACC", "D_DATAOUT_SIZE_0", "DATAOUT_HEIGHT"),
    ("CSC", "D_DATAOUT_SIZE_1", "DATAOUT_CHANNEL", "CACC", "D_DATAOUT_SIZE_1", "DATAOUT_CHANNEL"),
    ("CSC", "D_DATAOUT_SIZE_0", "DATAOUT_WIDTH", "SDP", "D_DATA_CUBE_WIDTH", "WIDTH"),
    ("CSC", "D_DATAOUT_SIZE_0", "DATAOUT_HEIGHT", "SDP", "D_DATA_CUBE_HEIGHT", "HEIGHT"),
    ("CSC", "D_DATAOUT_SIZE_1", "DATAOUT_CHANNEL", "SDP", "D_DATA_CUBE_CHANNEL", "CHANNEL"),
]


class _State:
    """Register values after the writes (group 0; the reset value where never written)."""

    def __init__(self, writes):
        self.values: dict[Register, int] = {}
        self.violations: list[str] = []
        for reg, value in writes:
            r = reg if isinstance(reg, Register) else REGMAP.at(reg)
            if r is None:
                self.violations.append(f"write to {reg:#x}: no nv_small register at that CSB address")
                continue
            if value >> 32 or value < 0:
                self.violations.append(f"{r.trace_name} = {value:#x}: not a 32-bit value")
                continue
            stray = value & ~(r.writable_mask | r.ro_mask) & 0xFFFFFFFF
            if stray:
                self.violations.append(f"{r.trace_name} = {value:#x}: bits {stray:#x} are outside every field")
            if r.name == "S_POINTER" and value & 1:
                self.violations.append(f"{r.trace_name} = {value:#x}: programs are checked for register group 0")
            self.values[r] = value

    def get(self, unit: str, reg: str, field: str) -> int:
        r = REGMAP.reg(unit, reg)
        return r.field(field).get(self.values.get(r, r.reset))

    def written(self, unit: str, reg: str) -> bool:
        return REGMAP.reg(unit, reg) in self.values


def check_program(writes) -> list[str]:
    s = _State(writes)
    v = s.violations
    name = lambda u, r, f: f"NVDLA_{u}.{r}_0.{f}"  # noqa: E731
    for unit in ("SDP", "CDMA", "CSC", "CMAC_A", "CMAC_B", "CACC"):
        if s.get(unit, "D_OP_ENABLE", "OP_EN") != 1:
            v.append(f"NVDLA_{unit}.D_OP_ENABLE_0 is never set: the layer would not start")
    for u, r, f, legal in _MODES:
        got = s.get(u, r, f)
        if got != legal:
            v.append(f"{name(u, r, f)} = {got}: nv_small INT8 direct convolution needs {legal}")
    for ua, ra, fa, ub, rb, fb in _COPIES:
        a, b = s.get(ua, ra, fa), s.get(ub, rb, fb)
        if a != b:
            v.append(f"{name(ua, ra, fa)} = {a} but {name(ub, rb, fb)} = {b}: the copies must agree")
    g = lambda r, f: s.get("CSC", r, f)  # noqa: E731
    wi, hi = g("D_DATAIN_SIZE_EXT_0", "DATAIN_WIDTH_EXT") + 1, g("D_DATAIN_SIZE_EXT_0", "DATAIN_HEIGHT_EXT") + 1
    c = g("D_DATAIN_SIZE_EXT_1", "DATAIN_CHANNEL_EXT") + 1
    sw, rh = g("D_WEIGHT_SIZE_EXT_0", "WEIGHT_WIDTH_EXT") + 1, g("D_WEIGHT_SIZE_EXT_0", "WEIGHT_HEIGHT_EXT") + 1
    k = g("D_WEIGHT_SIZE_EXT_1", "WEIGHT_KERNEL") + 1
    wo, ho = g("D_DATAOUT_SIZE_0", "DATAOUT_WIDTH") + 1, g("D_DATAOUT_SIZE_0", "DATAOUT_HEIGHT") + 1
    sx, sy = g("D_CONV_STRIDE_EXT", "CONV_X_STRIDE_EXT") + 1, g("D_CONV_STRIDE_EXT", "CONV_Y_STRIDE_EXT") + 1
    dx, dy = g("D_DILATION_EXT", "X_DILATION_EXT") + 1, g("D_DILATION_EXT", "Y_DILATION_EXT") + 1
    cd = lambda f: s.get("CDMA", "D_ZERO_PADDING", f)  # noqa: E731
    pl, pr, pt, pb = cd("PAD_LEFT"), cd("PAD_RIGHT"), cd("PAD_TOP"), cd("PAD_BOTTOM")
    for axis, size, pad, kern, dil, stride, out in (("width", wi, pl + pr, sw, dx, sx, wo), ("height", hi, pt + pb, rh, dy, sy, ho)):
        eff = (kern - 1) * dil + 1
        want = (size + pad - eff) // stride + 1 if size + pad >= eff else 0
        if want != out:
            v.append(f"output {axis} {out} does not follow from input {size}, pads {pad}, kernel {kern}, "
                     f"dilation {dil}, stride {stride} (expected {want})")
    # The weights are K kernels of R*S*C bytes whatever BYTE_PER_KERNEL says: NVDLA's CDMA only
    # paces its reports to the CSC by it, which check_sequence judges (hw.cdma_weights, §7).
    rsc = c * rh * sw
    wbytes = s.get("CDMA", "D_WEIGHT_BYTES", "WEIGHT_BYTES")
    if wbytes < k * rsc:
        v.append(f"NVDLA_CDMA.D_WEIGHT_BYTES_0 = {wbytes}: less than the {k * rsc} weight bytes of K*R*S*C")
    atomics = g("D_ATOMICS", "ATOMICS") + 1
    if atomics != wo * ho:
        v.append(f"NVDLA_CSC.D_ATOMICS_0 = {atomics - 1}: must be Wo*Ho - 1 = {wo * ho - 1}")
    clip = s.get("CACC", "D_CLIP_CFG", "CLIP_TRUNCATE")
    if clip > NV_SMALL.clip_truncate_max:
        v.append(f"NVDLA_CACC.D_CLIP_CFG_0.CLIP_TRUNCATE = {clip}: legal range is 0..{NV_SMALL.clip_truncate_max}")
    for stage in ("BS", "BN"):
        sh = s.get("SDP", f"D_DP_{stage}_MUL_CFG", f"{stage}_MUL_SHIFT_VALUE")
        if sh >> 6:
            v.append(f"NVDLA_SDP.D_DP_{stage}_MUL_CFG_0.{stage}_MUL_SHIFT_VALUE = {sh}: only 6 bits reach the datapath")
    v.extend(_operand_checks(s))
    v.extend(_nv_small_checks(s, conv=True))
    v.extend(_dain_map_checks(s, wi, hi))
    rls = s.get("CSC", "D_RELEASE", "RLS_SLICES") + 1
    if rls > hi and not s.get("CSC", "D_MISC_CFG", "SKIP_DATA_RLS"):
        # NVDLA's CSC keeps H - RLS_SLICES - 1 slices for the next layer in 14 bits
        # (NV_NVDLA_CSC_sg/dl slice_left): releasing more than the input has wraps it and corrupts
        # the CBUF accounting of the layers after (the reset value 1 releases 2 slices).
        v.append(f"NVDLA_CSC.D_RELEASE_0.RLS_SLICES = {rls - 1}: releases {rls} slices of an input {hi} high; "
                 f"at most {hi - 1} (all of them)")
    v.extend(_cbuf_checks(s, c, wi, hi, k, rsc))
    for u, r in (("CDMA", "D_DAIN_ADDR_LOW_0"), ("CDMA", "D_LINE_STRIDE"), ("CDMA", "D_SURF_STRIDE"),
                 ("SDP", "D_DST_BASE_ADDR_LOW"), ("SDP", "D_DST_LINE_STRIDE"), ("SDP", "D_DST_SURFACE_STRIDE"),
                 ("CDMA", "D_WEIGHT_ADDR_LOW")):
        reg = REGMAP.reg(u, r)
        val = s.values.get(reg, reg.reset)
        if val % NV_SMALL.memory_atom:
            v.append(f"{reg.trace_name} = {val:#x}: not a multiple of the {NV_SMALL.memory_atom}-byte memory atom")
    return v


def check_sequence(convs) -> list[str]:
    """Legality of consecutive conv layers in one program (no reset between them): `convs` is
    [(name, writes)] of the program's conv layers in order (SDP layers leave CBUF alone). Refuses
    weight bytes fetched past the weights before another conv layer, and weight banks without
    room for every earlier conv layer's weight entries (hw.cdma_weights, docs/nvdla-rules.md §5)."""
    ledger = WeightLedger()
    return [p for name, writes in convs for p in ledger.conv_layer(name, _State(writes).get)]


def check_sdp_program(writes) -> list[str]:
    """Legality of a stand-alone SDP layer (input cube from memory through SDP_RDMA), same shape
    of result as `check_program`: register bits, mode fields, cube copies, operands, alignment."""
    s = _State(writes)
    v = s.violations
    for unit in ("SDP", "SDP_RDMA"):
        if s.get(unit, "D_OP_ENABLE", "OP_EN") != 1:
            v.append(f"NVDLA_{unit}.D_OP_ENABLE_0 is never set: the layer would not start")
    for u, r, f, legal in [m for m in _MODES if m[0] == "SDP" and m[2] != "FLYING_MODE"]:
        got = s.get(u, r, f)
        if got != legal:
            v.append(f"NVDLA_{u}.{r}_0.{f} = {got}: nv_small INT8 SDP needs {legal}")
    for unit in ("SDP", "SDP_RDMA"):
        if s.get(unit, "D_FEATURE_MODE_CFG", "FLYING_MODE") != 0:
            v.append(f"NVDLA_{unit}.D_FEATURE_MODE_CFG_0.FLYING_MODE must be OFF for a stand-alone SDP layer")
    for reg, f in (("D_DATA_CUBE_WIDTH", "WIDTH"), ("D_DATA_CUBE_HEIGHT", "HEIGHT"), ("D_DATA_CUBE_CHANNEL", "CHANNEL")):
        a, b = s.get("SDP", reg, f), s.get("SDP_RDMA", reg, f)
        if a != b:
            v.append(f"NVDLA_SDP.{reg}_0.{f} = {a} but NVDLA_SDP_RDMA.{reg}_0.{f} = {b}: the copies must agree")
    for stage in ("BS", "BN"):
        sh = s.get("SDP", f"D_DP_{stage}_MUL_CFG", f"{stage}_MUL_SHIFT_VALUE")
        if sh >> 6:
            v.append(f"NVDLA_SDP.D_DP_{stage}_MUL_CFG_0.{stage}_MUL_SHIFT_VALUE = {sh}: only 6 bits reach the datapath")
    for f, legal in (("WINOGRAD", 0), ("IN_PRECISION", 0), ("PROC_PRECISION", 0), ("OUT_PRECISION", 0),
                     ("BATCH_NUMBER", 0)):  # MRDMA reads the input in these modes, operands or not
        got = s.get("SDP_RDMA", "D_FEATURE_MODE_CFG", f)
        if got != legal:
            v.append(f"NVDLA_SDP_RDMA.D_FEATURE_MODE_CFG_0.{f} = {got}: nv_small INT8 SDP needs {legal}")
    v.extend(_operand_checks(s, flying=False))
    v.extend(_nv_small_checks(s, conv=False))
    for u, r in (("SDP_RDMA", "D_SRC_BASE_ADDR_LOW"), ("SDP_RDMA", "D_SRC_LINE_STRIDE"),
                 ("SDP_RDMA", "D_SRC_SURFACE_STRIDE"), ("SDP", "D_DST_BASE_ADDR_LOW"),
                 ("SDP", "D_DST_LINE_STRIDE"), ("SDP", "D_DST_SURFACE_STRIDE")):
        reg = REGMAP.reg(u, r)
        val = s.values.get(reg, reg.reset)
        if val % NV_SMALL.memory_atom:
            v.append(f"{reg.trace_name} = {val:#x}: not a multiple of the {NV_SMALL.memory_atom}-byte memory atom")
    return v


def _operand_checks(s: _State, flying: bool = True) -> list[str]:
    v = []
    for stage, letter in (("BS", "B"), ("BN", "N")):
        if s.get("SDP", f"D_DP_{stage}_CFG", f"{stage}_BYPASS"):
            continue
        needs = [which for which, src, byp in (("ALU", f"{stage}_ALU_SRC", f"{stage}_ALU_BYPASS"),
                                               ("MUL", f"{stage}_MUL_SRC", f"{stage}_MUL_BYPASS"))
                 if s.get("SDP", f"D_DP_{stage}_{which}_CFG", src) and not s.get("SDP", f"D_DP_{stage}_CFG", byp)]
        if not needs:
            continue
        cfg = f"D_{letter}RDMA_CFG"
        if s.get("SDP_RDMA", cfg, f"{letter}RDMA_DISABLE"):
            v.append(f"SDP {stage} reads {'/'.join(needs)} operands from memory but NVDLA_SDP_RDMA.{cfg}_0 is disabled")
            continue
        use = s.get("SDP_RDMA", cfg, f"{letter}RDMA_DATA_USE")
        carried = {0: {"MUL"}, 1: {"ALU"}, 2: {"ALU", "MUL"}}.get(use, set())
        if set(needs) - carried:
            v.append(f"NVDLA_SDP_RDMA.{cfg}_0 DATA_USE = {use} does not carry the {'/'.join(needs)} operand of SDP {stage}")
        if flying and s.get("SDP_RDMA", "D_OP_ENABLE", "OP_EN") != 1:
            v.append("SDP operands come from memory but NVDLA_SDP_RDMA.D_OP_ENABLE_0 is never set")
        if flying and s.get("SDP_RDMA", "D_FEATURE_MODE_CFG", "FLYING_MODE") != 1:
            v.append("NVDLA_SDP_RDMA.D_FEATURE_MODE_CFG_0.FLYING_MODE must be ON for a conv layer's operands")
        for f in ("IN_PRECISION", "PROC_PRECISION", "OUT_PRECISION"):
            if s.get("SDP_RDMA", "D_FEATURE_MODE_CFG", f):
                v.append(f"NVDLA_SDP_RDMA.D_FEATURE_MODE_CFG_0.{f} must be INT8 (0)")
    return v


def _nv_small_checks(s: _State, conv: bool) -> list[str]:
    """What nv_small lacks: CVIF RAM types, the EW stage and its ERDMA."""
    rdma = not conv or s.get("SDP_RDMA", "D_OP_ENABLE", "OP_EN") == 1
    v = cvif_selections(s.get, conv, rdma)
    if not s.get("SDP", "D_DP_EW_CFG", "EW_BYPASS"):
        v.append("NVDLA_SDP.D_DP_EW_CFG_0.EW_BYPASS = 0: nv_small has no EW (X3) stage; it must be bypassed")
    if rdma and not s.get("SDP_RDMA", "D_ERDMA_CFG", "ERDMA_DISABLE"):
        v.append("NVDLA_SDP_RDMA.D_ERDMA_CFG_0.ERDMA_DISABLE = 0: nv_small has no EW operand DMA; it must be disabled")
    return v


def _dain_map_checks(s: _State, wi: int, hi: int) -> list[str]:
    """NVDLA's CDMA trusts D_DAIN_MAP (NV_NVDLA_CDMA_dc.v): LINE_PACKED fetches several lines per
    request, SURF_PACKED on a 1x1 input reads all channel groups as one line. The golden model
    follows the strides, so a hint must agree with them."""
    v = []
    line, surf = s.get("CDMA", "D_LINE_STRIDE", "LINE_STRIDE"), s.get("CDMA", "D_SURF_STRIDE", "SURF_STRIDE")
    if s.get("CDMA", "D_DAIN_MAP", "LINE_PACKED") and line != NV_SMALL.memory_atom * wi:
        v.append(f"NVDLA_CDMA.D_DAIN_MAP_0.LINE_PACKED = 1 but the line stride {line:#x} is not 8 x width "
                 f"= {NV_SMALL.memory_atom * wi:#x}")
    if s.get("CDMA", "D_DAIN_MAP", "SURF_PACKED") and wi == hi == 1 and surf != NV_SMALL.memory_atom:
        v.append(f"NVDLA_CDMA.D_DAIN_MAP_0.SURF_PACKED = 1 on a 1x1 input reads the channel groups 8 bytes "
                 f"apart, but the surface stride is {surf:#x}")
    return v


def _cbuf_checks(s: _State, c: int, wi: int, hi: int, k: int, rsc: int) -> list[str]:
    v = []
    entries = s.get("CDMA", "D_ENTRY_PER_SLICE", "ENTRIES") + 1
    want = ceil_div(c, NV_SMALL.atomic_c) * wi
    if entries != want:
        v.append(f"NVDLA_CDMA.D_ENTRY_PER_SLICE_0 = {entries - 1}: must be ceil(C/8)*W - 1 = {want - 1}")
    dbanks = s.get("CDMA", "D_BANK", "DATA_BANK") + 1
    wbanks = s.get("CDMA", "D_BANK", "WEIGHT_BANK") + 1
    if dbanks + wbanks > NV_SMALL.cbuf_banks:
        v.append(f"CBUF: {dbanks} data + {wbanks} weight banks exceed the {NV_SMALL.cbuf_banks} banks")
    if input_entries(c, wi, hi) > dbanks * NV_SMALL.cbuf_bank_entries:  # NVDLA's RTL hangs (hw.cdma_data)
        v.append(f"CBUF: the input ({want} entries x {hi} rows) does not fit {dbanks} data banks "
                 f"({dbanks * NV_SMALL.cbuf_bank_entries} entries); split the layer")
    group = min(NV_SMALL.atomic_k, k) * rsc  # weights stream through the banks one kernel group at a time
    if group > wbanks * NV_SMALL.cbuf_bank_bytes:
        v.append(f"CBUF: one kernel group's {group} weight bytes do not fit {wbanks} weight banks; split the layer")
    return v
