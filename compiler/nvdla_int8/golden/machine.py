"""The golden model: nv_small executing register programs on a memory image.

`GoldenMachine` takes CSB register writes and reads like the hardware. When the OP_EN bits a
layer needs are all set on their consumer groups, it runs the layer to completion at once
(untimed), writes the output to memory, loads the result counters, raises the GLB done status
bits, clears the OP_ENs and flips the consumer pointers. Each layer's per-stage results are kept
in `layers`, so a testbench can say at which stage a mismatch began.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..hw.cdma_data import input_overflow
from ..hw.cdma_weights import WeightLedger
from ..hw.layouts import Surface
from ..hw.memif import cvif_selections
from ..hw.regmap import REGMAP
from ..trace.memory import SparseMemory
from .conv import convolve
from .program import ConvParams, SdpParams, decode_conv, decode_sdp
from .regfile import RegisterFile
from .sdp import read_standalone_input, run_sdp

CONV_UNITS = ("CDMA", "CSC", "CMAC_A", "CMAC_B", "CACC")
_INTR = REGMAP.reg("GLB", "S_INTR_STATUS")


def _intr_bit(name: str, group: int) -> int:
    return 1 << _INTR.field(f"{name}_DONE_STATUS{group}").lsb


@dataclass
class LayerResult:
    """One executed layer: its parameters, per-stage values and output. Stage arrays are int64 of
    shape (8*ceil(C/8), H, W): whole atoms, lanes past the last channel included; None when the
    machine was made with keep_stages=False."""

    kind: str  # "conv" or "sdp" (stand-alone)
    group: int  # SDP register group that ran (the GLB interrupt bit)
    sdp: SdpParams
    conv: ConvParams | None
    cacc: np.ndarray | None  # CACC int32 output (conv only)
    sdp_in: np.ndarray | None  # X1 input: CACC output, or the sign-extended stand-alone input
    x1: np.ndarray | None
    x2: np.ndarray | None
    output: np.ndarray  # int8 bytes written
    cacc_sat_count: int
    sdp_sat_count: int

    @property
    def out_surface(self) -> Surface:
        return self.sdp.dst_surface

    @property
    def channels(self) -> int:
        return self.sdp.channels

    @property
    def height(self) -> int:
        return self.sdp.height

    @property
    def width(self) -> int:
        return self.sdp.width

    def output_addresses(self) -> np.ndarray:
        return self.sdp.dst_surface.atom_addresses(self.channels, self.height, self.width)


class GoldenMachine:
    """Bit-exact, untimed nv_small INT8 conv + SDP."""

    def __init__(self, memory: SparseMemory | None = None, probe=None, keep_stages: bool = True):
        self.memory = memory if memory is not None else SparseMemory()
        self.probe = probe  # coverage sampling (tb/coverage): sees datapath events, changes nothing
        # False: layers keep only parameters, output and counters (a host running a network needs
        # no per-stage cubes, and not building them saves an int64 cube per stage and pass)
        self.keep_stages = keep_stages
        self.regs = RegisterFile()
        self.layers: list[LayerResult] = []
        self.stalls: list[str] = []  # why a layer never ends, as on NVDLA (a DMA on the absent CVIF)
        # where NVDLA's RTL would differ or hang while this model runs on: an input cube its data
        # banks cannot hold (hw.cdma_data), what its CDMA weight bookkeeping makes of a conv layer
        # and what earlier ones leave in it (hw.cdma_weights)
        self.nvdla_differs: list[str] = []
        self._weights = WeightLedger()

    # -- CSB port --------------------------------------------------------------------------
    def write_reg(self, addr: int, value: int) -> None:
        reg = self.regs.write(addr, value)
        if reg.name == "D_OP_ENABLE":
            self._maybe_run()

    def read_reg(self, addr: int) -> int:
        return self.regs.read(addr)

    @property
    def intr_status(self) -> int:
        return self.regs.intr_status

    @property
    def irq(self) -> bool:
        return self.regs.irq

    # -- layer execution -----------------------------------------------------------------------
    def _armed(self, unit: str) -> bool:
        u = self.regs[unit]
        return u.op_en[u.consumer]

    def _maybe_run(self) -> None:
        if not self._armed("SDP"):
            return
        sdp = self.regs["SDP"]
        flying = bool(sdp.consumer_field("D_FEATURE_MODE_CFG", "FLYING_MODE"))
        if flying:
            if not all(self._armed(u) for u in CONV_UNITS):
                return
            params = decode_sdp(self.regs)
            if params.uses_rdma_operands and not self._armed("SDP_RDMA"):
                return  # a conv layer with memory operands also waits for SDP_RDMA [U]
            if not self._stalled(conv=True):
                self._run_conv(params)
        elif self._armed("SDP_RDMA"):
            params = decode_sdp(self.regs)
            if not self._stalled(conv=False):
                self._run_standalone(params)

    def _field(self, unit: str, reg: str, field: str) -> int:
        """The value the layer about to run sees (the consumer group's)."""
        return self.regs[unit].consumer_field(reg, field)

    def _stalled(self, conv: bool) -> bool:
        """A DMA of the layer would go to CVIF, which nv_small lacks: like NVDLA, the layer never
        runs and its OP_ENs stay set; `stalls` says why (hw.memif)."""
        whys = [f"SDP group {self.regs['SDP'].consumer}: {why}"
                for why in cvif_selections(self._field, conv, self._armed("SDP_RDMA"))]
        self.stalls += [w for w in whys if w not in self.stalls]  # OP_EN writes retry the start
        return bool(whys)

    def _finish(self, units: tuple[str, ...], done_bits: dict[str, tuple[str, ...]]) -> None:
        """Close the layer on each unit and raise the GLB done bits of the group each one ran."""
        for unit in units:
            g = self.regs.finish(unit)
            for name in done_bits.get(unit, ()):
                self.regs.intr_status |= _intr_bit(name, g)

    def _run_conv(self, sp: SdpParams) -> None:
        cp = decode_conv(self.regs)
        if (cp.out_w, cp.out_h) != (sp.width, sp.height) or sp.channels != cp.kernels:
            raise InputError(f"illegal register program: SDP cube {sp.width}x{sp.height}x{sp.channels} "
                             f"differs from the convolution output {cp.out_w}x{cp.out_h}x{cp.kernels}")
        name = f"layer {len(self.layers)} (conv)"
        self.nvdla_differs += input_overflow(name, self._field) + self._weights.conv_layer(name, self._field)
        if self.probe is not None:
            self.probe.conv(self.memory, cp)
        cacc, cacc_sat = convolve(self.memory, cp)
        group = self.regs["SDP"].consumer
        x1, x2, out, sdp_sat = run_sdp(cacc, self.memory, sp, self.probe, self.keep_stages)
        sp.dst_surface.write_cube(self.memory, out)
        self.regs.set_result("CACC", self.regs["CACC"].consumer, "D_OUT_SATURATION", cacc_sat)
        self._set_sdp_counter(sp, sdp_sat)
        if not self.keep_stages:
            cacc = None
        self.layers.append(LayerResult("conv", group, sp, cp, cacc, cacc, x1, x2, out, cacc_sat, sdp_sat))
        # SDP_RDMA takes part when it is armed, needed (memory operands) or not, as in the RTL.
        units = ("SDP", *CONV_UNITS) + (("SDP_RDMA",) if self._armed("SDP_RDMA") else ())
        self._finish(units, {"SDP": ("SDP",), "CDMA": ("CDMA_DAT", "CDMA_WT"), "CACC": ("CACC",)})

    def _run_standalone(self, sp: SdpParams) -> None:
        group = self.regs["SDP"].consumer
        x = read_standalone_input(self.memory, sp)
        x1, x2, out, sdp_sat = run_sdp(x, self.memory, sp, self.probe, self.keep_stages)
        sp.dst_surface.write_cube(self.memory, out)
        self._set_sdp_counter(sp, sdp_sat)
        if not self.keep_stages:
            x = None
        self.layers.append(LayerResult("sdp", group, sp, None, None, x, x1, x2, out, 0, sdp_sat))
        self._finish(("SDP", "SDP_RDMA"), {"SDP": ("SDP",)})

    def _set_sdp_counter(self, sp: SdpParams, count: int) -> None:
        sdp = self.regs["SDP"]
        self.regs.set_result("SDP", sdp.consumer, "D_PERF_OUT_SATURATION", count if sp.perf_sat_en else 0)
