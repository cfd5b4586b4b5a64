"""The golden model's probe: turns the values it shows into datapath event names.

The golden model calls `rounding` with each value just before a round-to-nearest shift and
`saturation` with each clamp's flags; `conv` is called before a convolution layer runs, so the
CACC partial sums, the CDMA converter and the pad taps are evaluated on the layer's own input.
Sampling from the golden model is sound because the trace player compares the RTL with it bit
for bit, stage by stage (CACC/SDP input, X1, X2, output): a passing run took the same values.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from nvdla_int8.golden.conv import mac_sums, padded_input, read_feature, read_weights
from nvdla_int8.golden.program import ConvParams
from nvdla_int8.hw.config import NV_SMALL
from nvdla_int8.hw.fixed import sat, shr_round


class DatapathEvents:
    """Collects event names ("X1.tie_pos", "CVT.int8.sat_neg", "pad.left", ...) per layer."""

    def __init__(self):
        self.layers: list[set[str]] = []
        self.psum_max = 0  # largest |CACC partial sum| seen: how close the 34/32-bit clamps came
        self.machine = None  # set by attach(): events go to the layer the machine is running

    def attach(self, machine) -> None:
        self.machine = machine
        machine.probe = self

    @property
    def current(self) -> set[str]:
        i = len(self.machine.layers)  # the machine appends a layer's result once it has run
        while len(self.layers) <= i:
            self.layers.append(set())
        return self.layers[i]

    def rounding(self, stage: str, x, shift: int, in_bits: int, used=None) -> None:
        if shift == 0 or shift >= in_bits:  # no rounding: the value passes, or becomes 0
            return
        x = np.asarray(x, dtype=np.int64)
        rem = np.abs(x) & np.int64((1 << shift) - 1)
        tie = rem == np.int64(1 << (shift - 1))
        if used is not None:
            tie = tie & np.broadcast_to(used, tie.shape)
        if tie.any():
            if (tie & (x > 0)).any():
                self.current.add(f"{stage}.tie_pos")
            if (tie & (x < 0)).any():
                self.current.add(f"{stage}.tie_neg")

    def saturation(self, point: str, flags, pre, used=None) -> None:
        flags = np.asarray(flags)
        if not flags.any():
            return
        pre = np.broadcast_to(np.asarray(pre, dtype=np.int64), flags.shape)
        if used is not None:
            flags = flags & np.broadcast_to(used, flags.shape)
        if (flags & (pre > 0)).any():
            self.current.add(f"{point}.sat_pos")
        if (flags & (pre < 0)).any():
            self.current.add(f"{point}.sat_neg")

    def conv(self, mem, p: ConvParams) -> None:
        if p.cvt_en:  # the CDMA input converter: (x - offset) * scale, rounded by CVT_TRUNCATE
            raw = read_feature(mem, replace(p, cvt_en=False))
            m = (raw - p.cvt_offset) * p.cvt_scale
            self.rounding("CDMA_CVT", m, p.cvt_truncate, NV_SMALL.cdma_cvt_in_bits)
            t17, f17 = shr_round(m, p.cvt_truncate, NV_SMALL.cdma_cvt_in_bits, NV_SMALL.cdma_cvt_mid_bits)
            self.saturation("CDMA_CVT.17bit", f17, m)
            self.saturation("CDMA_CVT.int8", sat(t17, 8)[1], t17)
        P = padded_input(read_feature(mem, p), p)
        # Exact sums (no 34-bit clamp): that clamp cannot fire within the CBUF (see HOLE_REASONS).
        psum = mac_sums(P, read_weights(mem, p), p)
        self.psum_max = max(self.psum_max, int(np.abs(psum).max(initial=0)))
        self.rounding("CACC", psum, p.clip_truncate, NV_SMALL.cacc_psum_bits)
        self.saturation("CACC.int32", shr_round(psum, p.clip_truncate, NV_SMALL.cacc_psum_bits,
                                                NV_SMALL.cacc_out_bits)[1], psum)
        self.current.update(pad_taps(p))


def pad_taps(p: ConvParams) -> set[str]:
    """Which sides' padding some kernel tap reads."""
    span_w = (p.kernel_w - 1) * p.dilation_x + 1
    span_h = (p.kernel_h - 1) * p.dilation_y + 1
    last_x = (p.out_w - 1) * p.stride_x + span_w - 1  # last padded column read
    last_y = (p.out_h - 1) * p.stride_y + span_h - 1
    used = set()
    if p.pad_left:
        used.add("pad.left")
    if last_x >= p.pad_left + p.width:
        used.add("pad.right")
    if p.pad_top:
        used.add("pad.top")
    if last_y >= p.pad_top + p.height:
        used.add("pad.bottom")
    return used
