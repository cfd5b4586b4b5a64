"""One conv layer for conv_core: its conv_cfg_t word, the memory image and the golden CACC atoms.

A case comes from a dc_* trace (its register writes and memory commands) or from a directed
register program; either way the golden model runs the layer and supplies the expected
per-stage CACC array (`LayerResult.cacc`) and saturation count.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nvdla_int8.golden import GoldenMachine
from nvdla_int8.golden.program import ConvParams, encode_conv
from nvdla_int8.golden.replay import GoldenPlayer
from nvdla_int8.hw.layouts import Surface
from nvdla_int8.hw.memif import MCIF
from nvdla_int8.hw.regmap import REGMAP
from nvdla_int8.trace.memory import SparseMemory
from nvdla_int8.trace.program import CONV_ENABLE_ORDER, RegisterProgram, enable_commands
from nvdla_int8.trace.trace import Trace, apply_memory_command

# conv_cfg_t of rtl_models/conv/conv_pkg.sv, first member (most significant) first:
# (member, width, unit, register, field). test_conv_cfg_layout checks it against the SV source.
CFG_FIELDS = (
    ("dain_addr", 32, "CDMA", "D_DAIN_ADDR_LOW_0", "DATAIN_ADDR_LOW_0"),
    ("line_stride", 32, "CDMA", "D_LINE_STRIDE", "LINE_STRIDE"),
    ("surf_stride", 32, "CDMA", "D_SURF_STRIDE", "SURF_STRIDE"),
    ("weight_addr", 32, "CDMA", "D_WEIGHT_ADDR_LOW", "WEIGHT_ADDR_LOW"),
    ("byte_per_kernel", 18, "CDMA", "D_WEIGHT_SIZE_0", "BYTE_PER_KERNEL"),
    ("weight_bytes", 32, "CDMA", "D_WEIGHT_BYTES", "WEIGHT_BYTES"),
    ("cvt_en", 1, "CDMA", "D_CVT_CFG", "CVT_EN"),
    ("cvt_truncate", 6, "CDMA", "D_CVT_CFG", "CVT_TRUNCATE"),
    ("cvt_offset", 16, "CDMA", "D_CVT_OFFSET", "CVT_OFFSET"),
    ("cvt_scale", 16, "CDMA", "D_CVT_SCALE", "CVT_SCALE"),
    ("data_bank", 5, "CDMA", "D_BANK", "DATA_BANK"),
    ("weight_bank", 5, "CDMA", "D_BANK", "WEIGHT_BANK"),
    ("datain_width", 13, "CSC", "D_DATAIN_SIZE_EXT_0", "DATAIN_WIDTH_EXT"),
    ("datain_height", 13, "CSC", "D_DATAIN_SIZE_EXT_0", "DATAIN_HEIGHT_EXT"),
    ("datain_channel", 13, "CSC", "D_DATAIN_SIZE_EXT_1", "DATAIN_CHANNEL_EXT"),
    ("weight_width", 5, "CSC", "D_WEIGHT_SIZE_EXT_0", "WEIGHT_WIDTH_EXT"),
    ("weight_height", 5, "CSC", "D_WEIGHT_SIZE_EXT_0", "WEIGHT_HEIGHT_EXT"),
    ("weight_kernel", 13, "CSC", "D_WEIGHT_SIZE_EXT_1", "WEIGHT_KERNEL"),
    ("dataout_width", 13, "CSC", "D_DATAOUT_SIZE_0", "DATAOUT_WIDTH"),
    ("dataout_height", 13, "CSC", "D_DATAOUT_SIZE_0", "DATAOUT_HEIGHT"),
    ("x_stride", 3, "CSC", "D_CONV_STRIDE_EXT", "CONV_X_STRIDE_EXT"),
    ("y_stride", 3, "CSC", "D_CONV_STRIDE_EXT", "CONV_Y_STRIDE_EXT"),
    ("x_dilation", 5, "CSC", "D_DILATION_EXT", "X_DILATION_EXT"),
    ("y_dilation", 5, "CSC", "D_DILATION_EXT", "Y_DILATION_EXT"),
    ("pad_left", 5, "CSC", "D_ZERO_PADDING", "PAD_LEFT"),
    ("pad_top", 5, "CSC", "D_ZERO_PADDING", "PAD_TOP"),
    ("pad_value", 8, "CSC", "D_ZERO_PADDING_VALUE", "PAD_VALUE"),
    ("clip_truncate", 5, "CACC", "D_CLIP_CFG", "CLIP_TRUNCATE"),
)


def pack_cfg(value_of) -> int:
    """conv_cfg_t as an integer; value_of(unit, reg) gives the register word of the running group."""
    word = 0
    for _, width, unit, reg, fld in CFG_FIELDS:
        v = REGMAP.reg(unit, reg).field(fld).get(value_of(unit, reg)) & ((1 << width) - 1)
        word = (word << width) | v
    return word


@dataclass
class ConvCase:
    name: str
    cfg: int
    memory: SparseMemory       # input cube and weights (golden output may be in it too)
    cacc: np.ndarray           # golden int32 CACC output, (8*ceil(K/8), Ho, Wo)
    sat_count: int
    ideal_cycles: int          # Wo*Ho*R*S*ceil(C/8)*ceil(K/8): one atomic operation a clock

    def atoms(self) -> np.ndarray:
        """Expected CACC->SDP stream: (n_atoms, 8) in surface, line, column order."""
        k8, ho, wo = self.cacc.shape
        return self.cacc.reshape(k8 // 8, 8, ho, wo).transpose(0, 2, 3, 1).reshape(-1, 8)


def _ideal(p) -> int:
    return (p.out_w * p.out_h * p.kernel_w * p.kernel_h * math.ceil(p.channels / 8)
            * math.ceil(p.kernels / 8))


def from_trace(cfg_path: str | Path) -> ConvCase:
    trace = Trace.load(cfg_path)
    mem = SparseMemory()
    regs: dict[tuple[str, str], int] = {}
    for c in trace.commands:
        if c.op in ("mem_init", "mem_load"):
            apply_memory_command(trace, c, mem)
        elif c.op == "reg_write":
            r, v = c.args
            regs[(r.unit, r.name)] = v
    player = GoldenPlayer(trace)
    player.run()
    layer = player.m.layers[0]
    cfg = pack_cfg(lambda u, r: regs.get((u, r), REGMAP.reg(u, r).reset))
    return ConvCase(trace.name, cfg, mem, layer.cacc, layer.cacc_sat_count, _ideal(layer.conv))


def directed(name: str, *, w: int, h: int, c: int, k: int, r: int = 1, s: int = 1,
             stride=(1, 1), dilation=(1, 1), pad=(0, 0, 0, 0), pad_value: int = 0,
             cvt: tuple[int, int, int] | None = None, clip: int = 0, banks=(15, 15),
             feature_fill: str = "random", weight_fill: str = "random", seed: int = 1) -> ConvCase:
    """A conv layer built from geometry. pad = (left, right, top, bottom); cvt = (offset, scale,
    truncate) or None; banks = (data banks, weight banks); *_fill: 'random', 'max' or 'min'
    (all bytes +127 / -128, to drive the sums to their extremes)."""
    rng = np.random.default_rng(seed)
    (sx, sy), (dx, dy) = stride, dilation
    pl, pr, pt, pb = pad
    wo = (w + pl + pr - ((s - 1) * dx + 1)) // sx + 1
    ho = (h + pt + pb - ((r - 1) * dy + 1)) // sy + 1
    cb, kg = math.ceil(c / 8), math.ceil(k / 8)
    line, surf = 8 * w + 8, (8 * w + 8) * h + 64   # gaps, so strides are really used
    fbase, wbase, obase = 0x8000_0000, 0x9000_0000, 0xA000_0000
    mem = SparseMemory()

    def fill(n: int, how: str) -> np.ndarray:
        if how == "max":
            return np.full(n, 127, np.int8).view(np.uint8)
        if how == "min":
            return np.full(n, -128, np.int8).view(np.uint8)
        return rng.integers(0, 256, n, dtype=np.uint8)

    mem.write(fbase, fill(cb * surf, feature_fill))
    mem.write(wbase, fill(k * r * s * c, weight_fill))
    mem.fill(obase, kg * ho * (8 * wo) + 64, 0)
    p = RegisterProgram()
    p.set("SDP", "D_DATA_CUBE_WIDTH", wo - 1).set("SDP", "D_DATA_CUBE_HEIGHT", ho - 1)
    p.set("SDP", "D_DATA_CUBE_CHANNEL", k - 1).set("SDP", "D_DST_BASE_ADDR_LOW", obase)
    p.set("SDP", "D_DST_LINE_STRIDE", 8 * wo).set("SDP", "D_DST_SURFACE_STRIDE", 8 * wo * ho)
    p.set("SDP", "D_FEATURE_MODE_CFG", FLYING_MODE=1)
    p.set("SDP", "D_DST_DMA_CFG", DST_RAM_TYPE=MCIF)  # else nv_small's WDMA never writes (hw.memif)
    p.set("SDP", "D_DATA_FORMAT", 0).set("SDP", "D_CVT_SCALE", 1)
    for u in ("CDMA", "CSC"):
        p.set(u, "D_BANK", DATA_BANK=banks[0] - 1, WEIGHT_BANK=banks[1] - 1)
    cvt_offset, cvt_scale, cvt_trunc = cvt if cvt is not None else (0, 0, 0)
    encode_conv(p, ConvParams(
        width=w, height=h, channels=c, kernels=k, kernel_w=s, kernel_h=r, out_w=wo, out_h=ho, stride_x=sx,
        stride_y=sy, dilation_x=dx, dilation_y=dy, pad_left=pl, pad_top=pt, pad_value=pad_value,
        feature=Surface(fbase, line, surf), weight_base=wbase, cvt_en=cvt is not None, cvt_offset=cvt_offset,
        cvt_scale=cvt_scale, cvt_truncate=cvt_trunc, clip_truncate=clip), pad_right=pr, pad_bottom=pb)
    m = GoldenMachine(mem.copy())
    for cmd in p.commands() + enable_commands(CONV_ENABLE_ORDER):
        reg, v = cmd.args
        m.write_reg(reg.address, v)
    layer = m.layers[0]
    return ConvCase(name, pack_cfg(p.value), mem, layer.cacc, layer.cacc_sat_count, _ideal(layer.conv))
