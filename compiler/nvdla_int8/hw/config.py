"""The nv_small configuration (NVDLA `spec/defs/nv_small.spec`; shared/spec/datapath.md §1)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HwConfig:
    """Sizes and widths of one NVDLA configuration. Register fields hold value - 1 for sizes."""

    name: str
    atomic_c: int  # input channels per MAC cell per cycle
    atomic_k: int  # MAC cells = output kernels per cycle
    memory_atom: int  # bytes per memory atom: the "8" of every layout formula
    cbuf_banks: int
    cbuf_bank_bytes: int
    cbuf_entry_bytes: int  # one CBUF entry = one atom of atomic_c int8 values
    mac_result_bits: int  # one MAC cell's 8-product sum: 2*8 + log2(8)
    cacc_psum_bits: int  # saturating partial sum in CACC
    cacc_out_bits: int  # CACC -> SDP element width
    cacc_sticky_bits: int  # discarded bits below the first that CACC's rounding sees (datapath §7)
    clip_truncate_max: int  # CACC CLIP_TRUNCATE legal range 0..this (C-model aborts above)
    sdp_x_in_bits: int  # width of the SDP X multiplier result / shifter input
    sdp_cvt_mid_bits: int  # SDP output converter clamp whose saturation is counted
    cdma_cvt_in_bits: int  # CDMA converter product width (shifter input)
    cdma_cvt_mid_bits: int
    max_cube_dim: int  # 13-bit width/height/channel fields

    @property
    def macs(self) -> int:
        return self.atomic_c * self.atomic_k

    @property
    def cbuf_bytes(self) -> int:
        return self.cbuf_banks * self.cbuf_bank_bytes

    @property
    def cbuf_bank_entries(self) -> int:
        return self.cbuf_bank_bytes // self.cbuf_entry_bytes


NV_SMALL = HwConfig(
    name="nv_small",
    atomic_c=8,
    atomic_k=8,
    memory_atom=8,
    cbuf_banks=32,
    cbuf_bank_bytes=4096,
    cbuf_entry_bytes=8,
    mac_result_bits=19,
    cacc_psum_bits=34,
    cacc_out_bits=32,
    cacc_sticky_bits=15,
    clip_truncate_max=16,
    sdp_x_in_bits=49,
    sdp_cvt_mid_bits=17,
    cdma_cvt_in_bits=34,
    cdma_cvt_mid_bits=17,
    max_cube_dim=8192,
)
