"""The golden model's fast paths against the plain forms they replace: strided cube reads and
writes against per-element address maps, the block-by-block SDP against one block, counted
saturation against flag arrays, the vectorised weight reader against the layout's address map,
a machine that keeps no stage cubes against one that does."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_info, threadpool_limits

from nvdla_int8.golden import GoldenMachine, conv, sdp
from nvdla_int8.golden.program import ConvParams
from nvdla_int8.hw.fixed import sat, sat_count, shr_round, shr_round_count
from nvdla_int8.hw import REGMAP
from nvdla_int8.hw.layouts import Surface, ceil_div, weight_offsets
from nvdla_int8.trace import SparseMemory
from nvdla_int8.trace.program import RegisterProgram
from tests import scalar_reference as ref
from tests.test_golden_properties import FEAT, SRC, WGT, program_sdp, sdp_cfg


def _random_memory(seed: int, base: int = 0x1000, size: int = 16384) -> SparseMemory:
    mem = SparseMemory()
    mem.write(base, np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8))
    return mem


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 20), h=st.integers(1, 5), w=st.integers(1, 6),
       line_pad=st.integers(-8, 40), surf_pad=st.integers(-64, 64), seed=st.integers(0, 2**16))
def test_write_cube_equals_scatter_to_addresses(c, h, w, line_pad, surf_pad, seed):
    """Packed, padded, partial last atom and overlapping strides: the same bytes as a scatter."""
    line = max(0, 8 * w + line_pad)
    surf = max(0, h * line + surf_pad)
    s = Surface(base=0x1000 + 8 * (seed % 50), line_stride=line, surf_stride=surf)
    cube = np.random.default_rng(seed + 1).integers(-128, 128, (c, h, w)).astype(np.int8)
    fast, slow = _random_memory(seed), _random_memory(seed)
    s.write_cube(fast, cube)
    slow.scatter(s.addresses(c, h, w), cube.view(np.uint8))
    assert fast == slow


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 20), h=st.integers(1, 4), w=st.integers(1, 5), elem=st.sampled_from([1, 2, 4]),
       pad=st.integers(0, 24), seed=st.integers(0, 2**16), data=st.data())
def test_read_cube_of_operand_elements_equals_gather(c, h, w, elem, pad, seed, data):
    """The SDP per-element operand layout (x step 8 * element bytes), any byte of the element."""
    offset = data.draw(st.integers(0, elem - 1))
    line = 8 * w * elem + pad
    s = Surface(0x1000 + 16 * (seed % 20), line, line * h + pad)
    mem = _random_memory(seed)
    want = mem.gather(s.addresses(c, h, w, elem) + offset)
    assert np.array_equal(s.read_cube(mem, c, h, w, elem, offset), want)


@pytest.mark.parametrize("k,c,r,s", [(16, 32, 3, 3), (13, 19, 2, 3), (8, 5, 1, 1), (3, 64, 1, 2), (24, 8, 7, 7)])
def test_weight_reader_equals_the_layout_address_map(k, c, r, s):
    """Whole 8-channel blocks move as uint64 atoms, partial ones byte by byte: both must give
    W[k][c][r][s] at WGT + weight_offsets (memory-layouts §2)."""
    w = np.random.default_rng(k * 100 + c).integers(-128, 128, (k, c, r, s))
    mem = SparseMemory()
    mem.scatter(WGT + weight_offsets(k, c, r, s), w & 0xFF)
    p = ConvParams(width=1, height=1, channels=c, kernels=k, kernel_w=s, kernel_h=r, out_w=1, out_h=1, stride_x=1,
                   stride_y=1, dilation_x=1, dilation_y=1, pad_left=0, pad_top=0, pad_value=0,
                   feature=Surface(FEAT, 8, 8), weight_base=WGT, cvt_en=False, cvt_offset=0, cvt_scale=0,
                   cvt_truncate=0, clip_truncate=0)
    assert np.array_equal(conv.read_weights(mem, p), w)


_EDGES = [0, 1, -1, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**48 - 1, -(2**48), 127, 128, -128, -129, 65535, -65536]


@settings(max_examples=80, deadline=None)
@given(vals=st.lists(st.sampled_from(_EDGES) | st.integers(-(2**48), 2**48 - 1), min_size=1, max_size=40),
       shift=st.integers(0, 63), bits=st.sampled_from([8, 17, 32]))
def test_counted_rounding_and_saturation_equal_the_flagged_forms(vals, shift, bits):
    a = np.array(vals, dtype=np.int64)
    value, flags = shr_round(a, shift, 49, bits)
    got, count = shr_round_count(a, shift, 49, bits)
    assert np.array_equal(got, value) and count == int(np.count_nonzero(flags))
    assert [int(v) for v in got] == [ref.rshift_round(v, shift, 49, bits) for v in vals]
    value, flags = sat(a, bits)
    got, count = sat_count(a, bits)
    assert np.array_equal(got, value) and count == int(np.count_nonzero(flags))


def test_dense_scatter_equals_byte_by_byte_writes():
    """A permuted, nearly dense address set (the dense path) and a sparse one (the page path)."""
    rng = np.random.default_rng(5)
    for addrs in (0x2000 + rng.permutation(5000)[:4000], 0x2000 + rng.choice(1 << 20, 300, replace=False)):
        vals = rng.integers(0, 256, addrs.size)
        fast, slow = _random_memory(1, 0x2000, 8192), _random_memory(1, 0x2000, 8192)
        fast.scatter(addrs, vals)
        for a, v in zip(addrs.tolist(), vals.tolist()):
            slow.write(a, bytes([v]))
        assert fast == slow


def _standalone(cfg, C, H, W, seed, keep_stages=True) -> GoldenMachine:
    """A stand-alone SDP layer of the property tests' kind, run on a fresh machine."""
    rng = np.random.default_rng(seed)
    mem, prog = SparseMemory(), RegisterProgram()
    src = Surface(SRC, 8 * W, 8 * W * H)
    program_sdp(prog, mem, cfg, C, H, W, flying=False, src=src)
    lanes = 8 * ceil_div(C, 8)
    mem.scatter(src.addresses(lanes, H, W), rng.integers(0, 256, (lanes, H, W)))
    m = GoldenMachine(mem, keep_stages=keep_stages)
    for r, v in prog.writes:
        m.write_reg(r.address, v)
    for u in ("SDP", "SDP_RDMA"):
        m.write_reg(REGMAP.reg(u, "D_OP_ENABLE").address, 1)
    assert len(m.layers) == 1
    return m


# X1: ALU and MUL operands from memory, one int16 pair per element; X2 bypassed
_PER_ELEMENT = {
    "x1": dict(name="BS", bypass=False, alu_bypass=False, algo=2, alu_shift=3, mul_bypass=False, prelu=False,
               relu_bypass=False, mul_shift=8, alu_op=5, mul_op=300, alu_mem=True, mul_mem=True, two_byte=True,
               per_element=True, both=True, seed=3),
    "x2": dict(name="BN", bypass=True, alu_bypass=True, algo=2, alu_shift=0, mul_bypass=True, prelu=False,
               relu_bypass=True, mul_shift=0, alu_op=0, mul_op=0, alu_mem=False, mul_mem=False, two_byte=False,
               per_element=False, both=False, seed=4),
    "cvt_offset": 0, "cvt_scale": 1, "cvt_shift": 4,
}


def _same_in_blocks(cfg, C, H, W, seed, block):
    whole = _standalone(cfg, C, H, W, seed).layers[0]
    default, sdp._BLOCK = sdp._BLOCK, block
    try:
        parts = _standalone(cfg, C, H, W, seed).layers[0]
    finally:
        sdp._BLOCK = default
    for name in ("sdp_in", "x1", "x2", "output"):
        assert np.array_equal(getattr(parts, name), getattr(whole, name)), name
    assert parts.sdp_sat_count == whole.sdp_sat_count


@pytest.mark.parametrize("block", [1, 5, 7, 40, 41])
def test_sdp_in_blocks_slices_per_element_operands_with_the_cube(block):
    _same_in_blocks(_PER_ELEMENT, 20, 6, 7, 9, block)


@settings(max_examples=40, deadline=None)
@given(C=st.integers(1, 19), H=st.integers(1, 4), W=st.integers(1, 5), cfg=sdp_cfg(), seed=st.integers(0, 2**31),
       block=st.integers(1, 13))
def test_sdp_in_small_blocks_equals_one_block(C, H, W, cfg, seed, block):
    """Per-kernel and per-element operands sliced per block: every stage, the output and the
    saturation counter are those of the whole cube in one block."""
    _same_in_blocks(cfg, C, H, W, seed, block)


def test_machine_without_stage_cubes_writes_the_same_memory_and_counters():
    full = _standalone(_PER_ELEMENT, 20, 6, 7, 9)
    lean = _standalone(_PER_ELEMENT, 20, 6, 7, 9, keep_stages=False)
    a, b = full.layers[0], lean.layers[0]
    assert full.memory == lean.memory and a.sdp_sat_count == b.sdp_sat_count > 0
    assert np.array_equal(a.output, b.output)
    assert b.x1 is None and b.x2 is None and b.sdp_in is None and a.x1 is not None


def test_convolution_leaves_the_blas_thread_count_as_it_found_it():
    mem = SparseMemory()
    p = ConvParams(width=4, height=4, channels=8, kernels=8, kernel_w=1, kernel_h=1, out_w=4, out_h=4, stride_x=1,
                   stride_y=1, dilation_x=1, dilation_y=1, pad_left=0, pad_top=0, pad_value=0,
                   feature=Surface(FEAT, 32, 128), weight_base=WGT, cvt_en=False, cvt_offset=0, cvt_scale=0,
                   cvt_truncate=0, clip_truncate=0)

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        conv.convolve(mem, p)
        assert blas_threads() == before
