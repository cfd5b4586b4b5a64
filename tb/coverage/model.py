"""The functional coverage model (cocotb-coverage): register-program space and datapath events.

`sample_trace(trace)` replays a trace on the golden model with the event probe attached and
samples every coverpoint once per layer (and once per X stage, once per layer pair). Bins that
cannot be hit carry a reason in HOLE_REASONS; the report lists them apart from real holes.
"""
from __future__ import annotations

from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db

from nvdla_int8.golden import GoldenMachine
from nvdla_int8.golden.program import ALGO_MAX, ALGO_MIN, USE_ALU, USE_BOTH, USE_MUL
from nvdla_int8.golden.replay import GoldenPlayer
from nvdla_int8.hw.cdma_weights import pacing
from nvdla_int8.hw.config import NV_SMALL
from nvdla_int8.hw.regmap import REGMAP
from nvdla_int8.trace.trace import Trace

from .events import DatapathEvents

TOP = "nvdla"
STAGES = ("X1", "X2")
ROUNDING_STAGES = ("CDMA_CVT", "CACC", "X1", "X2", "CVT")
SAT_POINTS = ("CDMA_CVT.17bit", "CDMA_CVT.int8", "CACC.int32", "X1.alu_operand", "X1.mul_shift",
              "X2.alu_operand", "X2.mul_shift", "CVT.17bit", "CVT.int8")

# The largest |sum| a legal layer can reach: a kernel group must fit the weight banks (at most 31,
# one is data), so one kernel has at most 31 x 4096 bytes, each times the largest |int8 x int8|
# product (CDMA's converter also ends in int8, the pad value is int8).
_MAX_PSUM = (NV_SMALL.cbuf_banks - 1) * NV_SMALL.cbuf_bank_bytes * 128 * 128
HOLE_REASONS = {
    (f"{TOP}.dp.saturation", "CACC.int32.sat_pos"):
        f"unreachable: |partial sum| <= (31 banks x 4096 weight bytes) x 128 x 128 = {_MAX_PSUM} < 2^31 "
        f"with CLIP_TRUNCATE 0: one kernel's weights (a kernel group of 1) must fit the 31 weight banks",
    (f"{TOP}.dp.saturation", "CACC.int32.sat_neg"): "unreachable: same bound as CACC.int32.sat_pos",
}


def _bucket(v: int, edges: list[tuple[int, int, str]]) -> str:
    for lo, hi, name in edges:
        if lo <= v <= hi:
            return name
    return "other"


def _shape(w: int, h: int) -> str:
    if w == 1 and h == 1:
        return "1x1xC"
    if h == 1 and w == NV_SMALL.max_cube_dim:
        return "line_8192"
    if h == 1:
        return "single_line"
    return "small" if w * h <= 144 else "medium"


# Sizes near the register and CBUF limits (the tiers' stretched layers, tb/stimulus): the high
# bits of the RTL's counters and strides move only there.
EXTENTS = ["height 257+", "width 257-8191", "channels 513+", "kernels 129+", "kernel bytes 8 KiB+",
           "stride 512 KiB+"]


def _extent(layer) -> set[str]:
    sp, p = layer.sdp, layer.conv if layer.kind == "conv" else None
    w, h, c = (p.width, p.height, p.channels) if p else (sp.width, sp.height, sp.channels)
    surfaces = [sp.dst] + ([p.feature] if p else [] if sp.flying else [sp.src])
    out = set()
    if h > 256:
        out.add("height 257+")
    if 256 < w < NV_SMALL.max_cube_dim:
        out.add("width 257-8191")
    if c > 512:
        out.add("channels 513+")
    if p and p.kernels > 128:
        out.add("kernels 129+")
    if p and p.channels * p.kernel_w * p.kernel_h >= 8192:
        out.add("kernel bytes 8 KiB+")
    if any(max(s.line_stride, s.surf_stride) >= 1 << 19 for s in surfaces):
        out.add("stride 512 KiB+")
    return out


def _pack_1x1(sp) -> str:
    """A 1x1 cube of more than 8 channels moves packed whatever its strides say
    (hw.layouts.sdp_dma_surface, docs/nvdla-rules.md §3): did its output strides say so too?"""
    if (sp.width, sp.height) != (1, 1) or sp.channels <= NV_SMALL.memory_atom:
        return "n/a"
    return "strides packed" if sp.dst.surf_stride == NV_SMALL.memory_atom else "strides unpacked"


_KERNEL = [(1, 1, "1"), (2, 3, "2-3"), (4, 7, "4-7"), (8, 31, "8-31"), (32, 32, "32 (max)")]
_STRIDE = [(1, 1, "1"), (2, 3, "2-3"), (4, 7, "4-7"), (8, 8, "8 (max)")]
_DIL = [(1, 1, "1"), (2, 4, "2-4"), (5, 31, "5-31"), (32, 32, "32 (max)")]
_PAD = [(0, 0, "0"), (1, 2, "1-2"), (3, 31, "3-31")]
_SHIFT = [(0, 0, "0"), (1, 15, "1-15"), (16, 31, "16-31"), (32, 63, "32-63")]
# CDMA BYTE_PER_KERNEL against R*S*C (_pacing)
BYTE_PER_KERNEL = ["R*S*C", "other, one kernel group", "above R*S*C", "at NVDLA's limit"]


def _i16(v: int) -> str:
    return {-32768: "min", 32767: "max", 0: "zero"}.get(v, "other")


def _cp(name, xf, bins, **kw):
    if kw.get("rel") is _in:
        kw["inj"] = False  # a set of events hits every bin it contains, not only the first
    return CoverPoint(f"{TOP}.{name}", xf=xf, bins=bins, **kw)


def _in(val, b):
    return b in val


# -- one layer ----------------------------------------------------------------------------------
@_cp("layer.kind", lambda d: d["kind"], ["conv", "sdp"])
@_cp("layer.shape", lambda d: d["shape"], ["1x1xC", "single_line", "line_8192", "small", "medium"])
@_cp("layer.channel_tail", lambda d: d["c"] % 8 != 0, [False, True])
@_cp("layer.sdp_group", lambda d: d["group"], [0, 1])
@_cp("layer.out_cvt_shift", lambda d: _bucket(d["cvt_shift"], _SHIFT), [b[2] for b in _SHIFT])
@_cp("layer.out_cvt_scale", lambda d: _i16(d["cvt_scale"]), ["min", "max", "zero", "other"])
@_cp("layer.out_cvt_offset", lambda d: {-(2**31): "min", 2**31 - 1: "max", 0: "zero"}.get(d["cvt_offset"], "other"),
     ["min", "max", "zero", "other"])
@_cp("layer.pack_1x1", lambda d: d["pack_1x1"], ["strides packed", "strides unpacked"])
@_cp("layer.extent", lambda d: d["extent"], EXTENTS, rel=_in)
@_cp("dp.rounding", lambda d: d["events"], [f"{s}.{t}" for s in ROUNDING_STAGES for t in ("tie_pos", "tie_neg")],
     rel=_in)
@_cp("dp.saturation", lambda d: d["events"], [f"{p}.{t}" for p in SAT_POINTS for t in ("sat_pos", "sat_neg")], rel=_in)
@CoverCross(f"{TOP}.cross.kind_x_shape", items=[f"{TOP}.layer.kind", f"{TOP}.layer.shape"])
@CoverCross(f"{TOP}.cross.kind_x_group", items=[f"{TOP}.layer.kind", f"{TOP}.layer.sdp_group"])
@CoverCross(f"{TOP}.cross.kind_x_pack_1x1", items=[f"{TOP}.layer.kind", f"{TOP}.layer.pack_1x1"])
def _sample_layer(d):
    pass


@_cp("conv.kernel_w", lambda d: _bucket(d["conv"].kernel_w, _KERNEL), [b[2] for b in _KERNEL])
@_cp("conv.kernel_h", lambda d: _bucket(d["conv"].kernel_h, _KERNEL), [b[2] for b in _KERNEL])
@_cp("conv.kernel_tail", lambda d: d["conv"].kernels % 8 != 0, [False, True])
@_cp("conv.stride_x", lambda d: _bucket(d["conv"].stride_x, _STRIDE), [b[2] for b in _STRIDE])
@_cp("conv.stride_y", lambda d: _bucket(d["conv"].stride_y, _STRIDE), [b[2] for b in _STRIDE])
@_cp("conv.dilation_x", lambda d: _bucket(d["conv"].dilation_x, _DIL), [b[2] for b in _DIL])
@_cp("conv.dilation_y", lambda d: _bucket(d["conv"].dilation_y, _DIL), [b[2] for b in _DIL])
@_cp("conv.pad_left", lambda d: _bucket(d["conv"].pad_left, _PAD), [b[2] for b in _PAD])
@_cp("conv.pad_right", lambda d: _bucket(d["pad_right"], _PAD), [b[2] for b in _PAD])
@_cp("conv.pad_top", lambda d: _bucket(d["conv"].pad_top, _PAD), [b[2] for b in _PAD])
@_cp("conv.pad_bottom", lambda d: _bucket(d["pad_bottom"], _PAD), [b[2] for b in _PAD])
@_cp("conv.pad_asymmetric", lambda d: (d["conv"].pad_left != d["pad_right"], d["conv"].pad_top != d["pad_bottom"]),
     [(False, False), (True, False), (False, True), (True, True)])
@_cp("conv.pad_value", lambda d: {0: "0", -128: "-128", 127: "127"}.get(d["conv"].pad_value, "other"),
     ["0", "-128", "127", "other"])
@_cp("conv.pad_taps", lambda d: d["events"], ["pad.left", "pad.right", "pad.top", "pad.bottom"], rel=_in)
@_cp("conv.cdma_cvt", lambda d: d["conv"].cvt_en, [False, True])
@_cp("conv.cdma_cvt_scale", lambda d: _i16(d["conv"].cvt_scale) if d["conv"].cvt_en else "off",
     ["min", "max", "zero", "other"])
@_cp("conv.cdma_cvt_offset", lambda d: _i16(d["conv"].cvt_offset) if d["conv"].cvt_en else "off",
     ["min", "max", "zero", "other"])
@_cp("conv.cdma_cvt_truncate", lambda d: _bucket(d["conv"].cvt_truncate, _SHIFT) if d["conv"].cvt_en else "off",
     [b[2] for b in _SHIFT])
@_cp("conv.clip_truncate", lambda d: d["conv"].clip_truncate, list(range(NV_SMALL.clip_truncate_max + 1)))
@_cp("conv.cacc_group", lambda d: d["cacc_group"], [0, 1])
@_cp("conv.weights", lambda d: d["weights"], ["resident", "streamed"])
@_cp("conv.byte_per_kernel", lambda d: d["byte_per_kernel"], BYTE_PER_KERNEL)
@CoverCross(f"{TOP}.cross.kernel_x_dilation", items=[f"{TOP}.conv.kernel_w", f"{TOP}.conv.dilation_x"],
            ign_bins=[("1", "2-4"), ("1", "5-31"), ("1", "32 (max)")])
@CoverCross(f"{TOP}.cross.cvt_x_clip", items=[f"{TOP}.conv.cdma_cvt", f"{TOP}.conv.clip_truncate"])
def _sample_conv(d):
    pass


# -- one X stage ---------------------------------------------------------------------------------
def _alu(s):
    if s.alu_bypass:
        return "bypass"
    return {ALGO_MAX: "MAX", ALGO_MIN: "MIN"}.get(s.alu_algo, "SUM")


def _mul(s):
    return "bypass" if s.mul_bypass else ("PRELU" if s.mul_prelu else "MUL")


def _src(s, which):
    if getattr(s, f"{which}_bypass"):
        return "none"
    return "MEM" if getattr(s, f"{which}_from_mem") else "REG"


def _stream(s):
    """(width, mode, use) of the operand stream, or 'none' when no operand comes from memory."""
    if "MEM" not in (_src(s, "alu"), _src(s, "mul")):
        return "none"
    use = {USE_MUL: "MUL", USE_ALU: "ALU", USE_BOTH: "BOTH"}[s.stream.use]
    return (2 if s.stream.two_byte else 1, "per_element" if s.stream.per_element else "per_kernel", use)


_STREAMS = [(w, m, u) for w in (1, 2) for m in ("per_kernel", "per_element") for u in ("MUL", "ALU", "BOTH")]


@_cp("x.stage", lambda d: d["stage"], list(STAGES))
@_cp("x.bypass", lambda d: d["s"].bypass, [False, True])
@_cp("x.alu", lambda d: "off" if d["s"].bypass else _alu(d["s"]), ["bypass", "SUM", "MAX", "MIN"])
@_cp("x.mul", lambda d: "off" if d["s"].bypass else _mul(d["s"]), ["bypass", "MUL", "PRELU"])
@_cp("x.relu", lambda d: "off" if d["s"].bypass else not d["s"].relu_bypass, [False, True])
@_cp("x.alu_src", lambda d: "off" if d["s"].bypass else _src(d["s"], "alu"), ["REG", "MEM"])
@_cp("x.mul_src", lambda d: "off" if d["s"].bypass else _src(d["s"], "mul"), ["REG", "MEM"])
@_cp("x.stream", lambda d: "off" if d["s"].bypass else _stream(d["s"]), _STREAMS)
@_cp("x.alu_shift", lambda d: "off" if d["s"].bypass or d["s"].alu_bypass else _bucket(d["s"].alu_shift, _SHIFT),
     [b[2] for b in _SHIFT])
@_cp("x.mul_shift", lambda d: "off" if d["s"].bypass else _bucket(d["s"].mul_shift, _SHIFT), [b[2] for b in _SHIFT])
@_cp("x.layer_kind", lambda d: d["kind"], ["conv", "sdp"])
@CoverCross(f"{TOP}.cross.stage_x_alu_x_src", items=[f"{TOP}.x.stage", f"{TOP}.x.alu", f"{TOP}.x.alu_src"],
            ign_bins=[(st, "bypass", src) for st in STAGES for src in ("REG", "MEM")])
@CoverCross(f"{TOP}.cross.stage_x_mul_x_src", items=[f"{TOP}.x.stage", f"{TOP}.x.mul", f"{TOP}.x.mul_src"],
            ign_bins=[(st, "bypass", src) for st in STAGES for src in ("REG", "MEM")])
@CoverCross(f"{TOP}.cross.stage_x_stream", items=[f"{TOP}.x.stage", f"{TOP}.x.stream"])
@CoverCross(f"{TOP}.cross.kind_x_stream", items=[f"{TOP}.x.layer_kind", f"{TOP}.x.stream"])
def _sample_stage(d):
    pass


# -- trace structure -----------------------------------------------------------------------------
_KINDS = [(a, b) for a in ("conv", "sdp") for b in ("conv", "sdp")]


@_cp("trace.layers", lambda d: d["layers"], [1, 2, 3])
@_cp("trace.interrupts", lambda d: d["interrupts"], ["SDP_0", "SDP_1"], rel=_in)
@_cp("trace.back_to_back", lambda d: d["back_to_back"], _KINDS, rel=_in)
def _sample_trace(d):
    pass


def _structure(trace: Trace) -> tuple[set[str], set[tuple[str, str]]]:
    """Interrupts waited for, and (kind, kind) pairs whose second layer was started (OP_EN) while
    the first was still running (its interrupt not yet claimed)."""
    intr, pairs = set(), set()
    running: list[str] = []
    kind = "sdp"
    for c in trace.commands:
        if (c.op == "reg_write" and c.args[0].unit in ("CDMA", "CSC") and c.args[0].name.startswith("D_")
                and c.args[0].name != "D_OP_ENABLE"):
            kind = "conv"
        if c.op == "reg_write" and c.args[0].unit == "SDP" and c.args[0].name == "D_OP_ENABLE" and c.args[1] & 1:
            if running:
                pairs.add((running[-1], kind))
            running.append(kind)
            kind = "sdp"
        elif c.op == "intr_notify":
            intr.add(str(c.args[0]))
            if running:
                running.pop(0)
    return intr, pairs


def sample_trace(trace: Trace) -> DatapathEvents:
    """Replay `trace` on the golden model with the probe and sample every coverpoint."""
    events = DatapathEvents()
    machine = GoldenMachine()
    events.attach(machine)
    player = GoldenPlayer(trace, machine)
    player.run()
    cacc_groups = iter(_conv_groups(trace))
    cdma_programs = _cdma_programs(trace)
    for i, layer in enumerate(machine.layers):
        ev = events.layers[i] if i < len(events.layers) else set()
        sp = layer.sdp
        d = {"kind": layer.kind, "group": layer.group, "events": ev, "cvt_shift": sp.cvt_shift,
             "cvt_scale": sp.cvt_scale, "cvt_offset": sp.cvt_offset, "pack_1x1": _pack_1x1(sp),
             "extent": _extent(layer)}
        if layer.kind == "conv":
            p, cdma = layer.conv, cdma_programs[i]
            d.update(shape=_shape(p.width, p.height), c=p.channels, conv=p, cacc_group=next(cacc_groups, None),
                     pad_right=_cdma_field(cdma, "D_ZERO_PADDING", "PAD_RIGHT"),
                     pad_bottom=_cdma_field(cdma, "D_ZERO_PADDING", "PAD_BOTTOM"),
                     weights=_weight_residency(p, _cdma_field(cdma, "D_BANK", "WEIGHT_BANK") + 1),
                     byte_per_kernel=_pacing(p, cdma))
            _sample_conv(d)
        else:
            d.update(shape=_shape(sp.width, sp.height), c=sp.channels)
        _sample_layer(d)
        for st, s in zip(STAGES, (sp.x1, sp.x2)):
            _sample_stage({"stage": st, "s": s, "kind": layer.kind})
    intr, pairs = _structure(trace)
    _sample_trace({"layers": len(machine.layers), "interrupts": intr, "back_to_back": pairs})
    return events


def _conv_groups(trace: Trace) -> list[int]:
    """The CACC register group each conv layer was programmed into (S_POINTER before its OP_EN)."""
    groups, pointer = [], 0
    for c in trace.commands:
        if c.op == "reg_write" and c.args[0].unit == "CACC":
            if c.args[0].name == "S_POINTER":
                pointer = REGMAP.reg("CACC", "S_POINTER").field("PRODUCER").get(c.args[1])
            elif c.args[0].name == "D_OP_ENABLE" and c.args[1] & 1:
                groups.append(pointer)
    return groups


def _cdma_programs(trace: Trace) -> list[dict]:
    """The CDMA register words in force at each layer's start (the SDP's OP_EN write), in one pass:
    for the CDMA fields the golden model does not keep (PAD_RIGHT/BOTTOM it derives, the bank
    split it ignores, BYTE_PER_KERNEL it does not need)."""
    words, programs = {}, []
    for c in trace.commands:
        if c.op == "reg_write" and c.args[0].unit == "CDMA":
            words[c.args[0]] = c.args[1]
        if c.op == "reg_write" and c.args[0].unit == "SDP" and c.args[0].name == "D_OP_ENABLE":
            programs.append(dict(words))
    return programs


def _cdma_field(cdma: dict, reg_name: str, field: str) -> int:
    """A field of one layer's CDMA words (_cdma_programs); the reset value where none was written."""
    reg = REGMAP.reg("CDMA", reg_name)
    return reg.field(field).get(cdma.get(reg, reg.reset))


def _weight_residency(p, weight_banks: int) -> str:
    """All kernels' weights in the weight banks at once, or streamed through them by kernel group."""
    return "resident" if p.kernels * p.channels * p.kernel_h * p.kernel_w <= weight_banks * NV_SMALL.cbuf_bank_bytes \
        else "streamed"


def _pacing(p, cdma: dict) -> str:
    """CDMA BYTE_PER_KERNEL against R*S*C (docs/nvdla-rules.md §7): the compilers' value, any
    other where one kernel group makes it moot, or paced above it, up to the largest NVDLA runs."""
    bpk = _cdma_field(cdma, "D_WEIGHT_SIZE_0", "BYTE_PER_KERNEL") + 1
    rsc = p.kernel_h * p.kernel_w * p.channels
    paced = pacing(p.kernels, rsc, _cdma_field(cdma, "D_WEIGHT_BYTES", "WEIGHT_BYTES"),
                   _cdma_field(cdma, "D_BANK", "WEIGHT_BANK") + 1)
    if bpk == rsc:
        return BYTE_PER_KERNEL[0]
    if paced is None:
        return BYTE_PER_KERNEL[1]
    if bpk < rsc:
        return "below R*S*C"  # NVDLA races (no bin: the generator never draws it)
    return BYTE_PER_KERNEL[3] if bpk == paced.limit else BYTE_PER_KERNEL[2]


def export(path: str) -> None:
    """This process's coverage as cocotb-coverage YAML (merge with tb.coverage.report.merge)."""
    coverage_db.export_to_yaml(str(path))
