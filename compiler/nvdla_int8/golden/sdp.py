"""SDP: X1 (BS) -> X2 (BN) -> output converter C (datapath.md §8), vectorised over a whole cube.

Inputs and every inter-stage value are int64 arrays of shape (8*ceil(C/8), H, W): whole atoms,
so the lanes past the last channel are processed and written like hardware does (§8.6).

An optional `probe` (the functional-coverage model of tb/coverage) is shown each value just before
it is rounded (`probe.rounding`) and each saturation flag (`probe.saturation`); it never changes a
result.
"""
from __future__ import annotations

import numpy as np

from ..hw.config import NV_SMALL
from ..hw.fixed import sat, sext, shl_sat, shr_round
from ..hw.layouts import ceil_div
from ..trace.memory import SparseMemory
from .program import ALGO_MAX, ALGO_MIN, OperandStream, SdpParams, StageParams

ATOM = NV_SMALL.memory_atom
X_BITS = NV_SMALL.sdp_x_in_bits


def read_standalone_input(mem: SparseMemory, p: SdpParams) -> np.ndarray:
    """MRDMA input: int8 bytes of every lane of the cube's atoms, sign-extended (§8.5)."""
    return sext(mem.gather(p.src_surface.atom_addresses(p.channels, p.height, p.width)), 8)


def read_operand(mem: SparseMemory, stream: OperandStream, which: str, p: SdpParams) -> np.ndarray:
    """Operand component ('alu' or 'mul') per lane, broadcastable to (8*ceil(C/8), H, W)."""
    lanes = ATOM * ceil_div(p.channels, ATOM)
    comp = stream.component(which)
    if stream.per_element:
        addrs = p.operand_surface(stream).addresses(lanes, p.height, p.width, stream.element_bytes)
    else:  # one element per kernel, shared by every (x, y): a contiguous block
        addrs = (stream.surface.base + np.arange(lanes, dtype=np.int64) * stream.element_bytes)[:, None, None]
    addrs = addrs + comp * stream.component_bytes
    lo = mem.gather(addrs).astype(np.int64)
    if not stream.two_byte:
        return sext(lo, 8)
    return sext(lo | (mem.gather(addrs + 1).astype(np.int64) << 8), 16)  # little-endian int16


def run_stage(x: np.ndarray, s: StageParams, mem: SparseMemory, p: SdpParams, probe=None) -> np.ndarray:
    """One X stage: ALU -> MUL (or PReLU) -> truncate -> ReLU (§8.2)."""
    if s.bypass:
        return x
    a = x
    stage = "X1" if s.name == "BS" else "X2"
    if not s.alu_bypass:
        op16 = read_operand(mem, s.stream, "alu", p) if s.alu_from_mem else np.int64(s.alu_operand)
        op32, op_sat = shl_sat(np.asarray(op16, dtype=np.int64), s.alu_shift, 32)
        if probe is not None:
            probe.saturation(f"{stage}.alu_operand", op_sat, op16)
        if s.alu_algo == ALGO_MAX:
            a = np.maximum(x, op32)
        elif s.alu_algo == ALGO_MIN:
            a = np.minimum(x, op32)
        else:  # SUM; the value 3 also behaves as SUM [S]. 33-bit result, not saturated here.
            a = x + op32
    if s.mul_bypass:
        m = a
    else:
        mul16 = read_operand(mem, s.stream, "mul", p) if s.mul_from_mem else np.int64(s.mul_operand)
        m = a * mul16
    t, flags = shr_round(m, s.mul_shift, X_BITS, 32)  # a bypassed multiplier still shifts
    if probe is not None:
        used = (a < 0) if (s.mul_prelu and not s.mul_bypass) else None  # PReLU's positive branch skips it
        probe.rounding(stage, m, s.mul_shift, X_BITS, used)
        probe.saturation(f"{stage}.mul_shift", flags, m, used)
    if s.mul_prelu and not s.mul_bypass:  # positive branch: the raw low 32 bits of a, no shift, no saturation
        t = np.where(a >= 0, sext(a, 32), t)
    t = np.broadcast_to(t, x.shape)
    return t if s.relu_bypass else np.maximum(t, 0)


def output_convert(y: np.ndarray, p: SdpParams, probe=None) -> tuple[np.ndarray, int]:
    """C converter (§8.4): int8 result and the count of 17-bit clamps."""
    d = y - p.cvt_offset
    t17, flags = shr_round(d * p.cvt_scale, p.cvt_shift, X_BITS, NV_SMALL.sdp_cvt_mid_bits)
    out, flags8 = sat(t17, 8)
    if probe is not None:
        probe.rounding("CVT", d * p.cvt_scale, p.cvt_shift, X_BITS)
        probe.saturation("CVT.17bit", flags, d * p.cvt_scale)
        probe.saturation("CVT.int8", flags8, t17)
    return out, int(np.count_nonzero(flags))


def run_sdp(x: np.ndarray, mem: SparseMemory, p: SdpParams, probe=None):
    """X1 -> X2 -> C on a whole-atom cube. Returns (x1, x2, int8 output, saturation count)."""
    x1 = run_stage(x, p.x1, mem, p, probe)
    x2 = run_stage(x1, p.x2, mem, p, probe)
    out, sat_count = output_convert(x2, p, probe)
    return x1, x2, out.astype(np.int8), sat_count
