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
from ..hw.fixed import sat, sat_count, sext, shl_sat, shl_sat_count, shr_round, shr_round_count
from ..hw.layouts import ceil_div
from ..trace.memory import SparseMemory
from .program import ALGO_MAX, ALGO_MIN, OperandStream, SdpParams, StageParams

ATOM = NV_SMALL.memory_atom
X_BITS = NV_SMALL.sdp_x_in_bits
_BLOCK = 1 << 15  # elements per block of run_sdp: 256 KiB per int64 temporary


def read_standalone_input(mem: SparseMemory, p: SdpParams) -> np.ndarray:
    """MRDMA input: int8 bytes of every lane of the cube's atoms, sign-extended (§8.5)."""
    lanes = ATOM * ceil_div(p.channels, ATOM)
    return p.src_surface.read_cube(mem, lanes, p.height, p.width).view(np.int8).astype(np.int64)


def read_operand(mem: SparseMemory, stream: OperandStream, which: str, p: SdpParams) -> np.ndarray:
    """Operand component ('alu' or 'mul') per lane, broadcastable to (8*ceil(C/8), H, W)."""
    lanes = ATOM * ceil_div(p.channels, ATOM)
    eb, cb = stream.element_bytes, stream.component_bytes
    offset = stream.component(which) * cb
    if not stream.per_element:  # one element per kernel, shared by every (x, y): a contiguous block
        block = mem.read(stream.surface.base, lanes * eb).view("<i2" if stream.two_byte else np.int8)
        return block[offset // cb::eb // cb].astype(np.int64)[:, None, None]

    def byte(i: int) -> np.ndarray:
        return p.operand_surface(stream).read_cube(mem, lanes, p.height, p.width, eb, offset + i)
    if not stream.two_byte:
        return byte(0).view(np.int8).astype(np.int64)
    return byte(0).astype(np.int64) | (byte(1).view(np.int8).astype(np.int64) << 8)  # little-endian int16


def stage_operands(s: StageParams, mem: SparseMemory, p: SdpParams, probe=None):
    """(ALU operand after its shifter, MUL operand) of one X stage for the whole cube: each None
    (bypassed), a scalar, or an array broadcastable to (8*ceil(C/8), H, W)."""
    if s.bypass:
        return None, None
    alu = mul = None
    if not s.alu_bypass:
        op16 = read_operand(mem, s.stream, "alu", p) if s.alu_from_mem else np.int64(s.alu_operand)
        if probe is None:
            alu, _ = shl_sat_count(np.asarray(op16, dtype=np.int64), s.alu_shift, 32)
        else:
            alu, op_sat = shl_sat(np.asarray(op16, dtype=np.int64), s.alu_shift, 32)
            probe.saturation(f"{'X1' if s.name == 'BS' else 'X2'}.alu_operand", op_sat, op16)
    if not s.mul_bypass:
        mul = read_operand(mem, s.stream, "mul", p) if s.mul_from_mem else np.int64(s.mul_operand)
    return alu, mul


def run_stage(x: np.ndarray, s: StageParams, alu, mul, probe=None) -> np.ndarray:
    """One X stage: ALU -> MUL (or PReLU) -> truncate -> ReLU (§8.2), with the operands
    `stage_operands` read (broadcastable to x). Never writes into x."""
    if s.bypass:
        return x
    a = x
    stage = "X1" if s.name == "BS" else "X2"
    if not s.alu_bypass:
        if s.alu_algo == ALGO_MAX:
            a = np.maximum(x, alu)
        elif s.alu_algo == ALGO_MIN:
            a = np.minimum(x, alu)
        else:  # SUM; the value 3 also behaves as SUM [S]. 33-bit result, not saturated here.
            a = x + alu
    m = a if s.mul_bypass else a * mul
    t, _ = shr_round_count(m, s.mul_shift, X_BITS, 32)  # a bypassed multiplier still shifts
    if probe is not None:
        flags = shr_round(m, s.mul_shift, X_BITS, 32)[1]
        used = (a < 0) if (s.mul_prelu and not s.mul_bypass) else None  # PReLU's positive branch skips it
        probe.rounding(stage, m, s.mul_shift, X_BITS, used)
        probe.saturation(f"{stage}.mul_shift", flags, m, used)
    if s.mul_prelu and not s.mul_bypass:  # positive branch: the raw low 32 bits of a, no shift, no saturation
        t = np.where(a >= 0, sext(a, 32), t)
    if t.shape != x.shape:
        t = np.broadcast_to(t, x.shape)
    return t if s.relu_bypass else np.maximum(t, 0)


def output_convert(y: np.ndarray, p: SdpParams, probe=None) -> tuple[np.ndarray, int]:
    """C converter (§8.4): int8 result and the count of 17-bit clamps."""
    d = y - p.cvt_offset if p.cvt_offset else y
    m = d * p.cvt_scale
    t17, count = shr_round_count(m, p.cvt_shift, X_BITS, NV_SMALL.sdp_cvt_mid_bits)
    out, _ = sat_count(t17, 8)
    if probe is not None:
        flags = shr_round(m, p.cvt_shift, X_BITS, NV_SMALL.sdp_cvt_mid_bits)[1]
        probe.rounding("CVT", m, p.cvt_shift, X_BITS)
        probe.saturation("CVT.17bit", flags, m)
        probe.saturation("CVT.int8", sat(t17, 8)[1], t17)
    return out, count


def run_sdp(x: np.ndarray, mem: SparseMemory, p: SdpParams, probe=None, keep_stages: bool = True):
    """X1 -> X2 -> C on a whole-atom cube. Returns (x1, x2, int8 output, saturation count); x1
    and x2 are None unless `keep_stages`.

    Element-wise, so it runs block by block: a block's int64 temporaries stay in cache and come
    from the allocator's free lists, where whole-cube temporaries would each fault fresh pages
    (several times slower on big cubes)."""
    ops = [stage_operands(st, mem, p, probe) for st in (p.x1, p.x2)]
    lanes = x.shape[0]
    n = x[0].size
    if keep_stages:
        x1 = x if p.x1.bypass else np.empty_like(x)
        x2 = x1 if p.x2.bypass else np.empty_like(x)
    else:
        x1 = x2 = x  # not written below
    out = np.empty(x.shape, dtype=np.int8)
    flat = [a.reshape(lanes, n) for a in (x, x1, x2, out)]
    cols = min(n, _BLOCK)
    rows = max(1, _BLOCK // cols)
    count = 0
    for r0 in range(0, lanes, rows):
        for c0 in range(0, n, cols):
            blk = (slice(r0, r0 + rows), slice(c0, c0 + cols))
            b1 = run_stage(flat[0][blk], p.x1, *_block_of(ops[0], blk, lanes), probe)
            b2 = run_stage(b1, p.x2, *_block_of(ops[1], blk, lanes), probe)
            o, c = output_convert(b2, p, probe)
            count += c
            if x1 is not x:
                flat[1][blk] = b1
            if x2 is not x1:
                flat[2][blk] = b2
            flat[3][blk] = o
    return (x1, x2, out, count) if keep_stages else (None, None, out, count)


def _block_of(operands, blk, lanes: int):
    """The part of each stage operand (None, scalar, per-kernel or per-element) one block uses."""
    def part(a):
        if a is None or np.ndim(a) == 0:
            return a
        a = a.reshape(lanes, -1)
        return a[blk[0]] if a.shape[1] == 1 else a[blk]
    return tuple(part(a) for a in operands)
