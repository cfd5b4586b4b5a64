"""What NVDLA's CDMA makes of a conv layer's input cube: nv_small's direct convolution keeps the
whole cube in CBUF's data banks, ceil(C/8) * W * H entries, while it computes.

Measured on NVDLA's RTL (docs/nvdla-rules.md §8): its own dc_35x22x54 trace, whose cube is 5390
entries (7 * 35 * 22), ran with 11 or more data banks (5632 entries) and hung with 10, 8, 6 and 4
(its CSC never gets the rows a window needs). The legality checker refuses such a layer, our RTL
refuses it as well, and the golden model, which computes it, says that NVDLA's RTL hangs.
"""
from __future__ import annotations

from .config import NV_SMALL
from .layouts import ceil_div
from .memif import Getter


def input_entries(c: int, w: int, h: int) -> int:
    """CBUF entries of a C x H x W input cube: one per atom of 8 channels at each position."""
    return ceil_div(c, NV_SMALL.atomic_c) * w * h


def input_overflow(name: str, get: Getter) -> list[str]:
    """One line when the layer's input cube does not fit its data banks (NVDLA's RTL hangs)."""
    c = get("CSC", "D_DATAIN_SIZE_EXT_1", "DATAIN_CHANNEL_EXT") + 1
    w = get("CSC", "D_DATAIN_SIZE_EXT_0", "DATAIN_WIDTH_EXT") + 1
    h = get("CSC", "D_DATAIN_SIZE_EXT_0", "DATAIN_HEIGHT_EXT") + 1
    banks = get("CDMA", "D_BANK", "DATA_BANK") + 1
    need, room = input_entries(c, w, h), banks * NV_SMALL.cbuf_bank_entries
    if need <= room:
        return []
    return [f"{name}: NVDLA_CDMA.D_BANK_0.DATA_BANK = {banks - 1}: the {w}x{h}x{c} input cube is {need} CBUF "
            f"entries, more than the {room} of {banks} data banks; NVDLA's RTL hangs"]
