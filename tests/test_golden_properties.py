"""Property tests: the vectorised golden model against the scalar reference, on random small
conv + SDP layers and stand-alone SDP layers programmed through the register map."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nvdla_int8.golden import GoldenMachine
from nvdla_int8.golden.program import ConvParams, OperandStream, SdpParams, StageParams, encode_conv, encode_sdp
from nvdla_int8.hw import REGMAP
from nvdla_int8.hw.layouts import Surface, ceil_div, weight_offsets
from nvdla_int8.trace import SparseMemory
from nvdla_int8.trace.program import RegisterProgram
from tests import scalar_reference as ref

FEAT, WGT, DST, BS_OPS, BN_OPS, SRC = 0x1000_0000, 0x2000_0000, 0x3000_0000, 0x4000_0000, 0x5000_0000, 0x6000_0000


@st.composite
def x_stage(draw, name):
    return {
        "name": name, "bypass": draw(st.booleans()), "alu_bypass": draw(st.booleans()),
        "algo": draw(st.integers(0, 3)), "alu_shift": draw(st.sampled_from([0, 1, 5, 17, 31, 40, 63])),
        "mul_bypass": draw(st.booleans()), "prelu": draw(st.booleans()), "relu_bypass": draw(st.booleans()),
        "mul_shift": draw(st.sampled_from([0, 1, 3, 8, 15, 30, 48, 49, 63])),
        "alu_op": draw(st.integers(-32768, 32767)), "mul_op": draw(st.integers(-32768, 32767)),
        "alu_mem": draw(st.booleans()), "mul_mem": draw(st.booleans()),
        "two_byte": draw(st.booleans()), "per_element": draw(st.booleans()), "both": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31)),
    }


@st.composite
def sdp_cfg(draw):
    return {
        "x1": draw(x_stage("BS")), "x2": draw(x_stage("BN")),
        "cvt_offset": draw(st.sampled_from([0, 1, -1, 300, -(2**31), 2**31 - 1])) if draw(st.booleans())
        else draw(st.integers(-(2**31), 2**31 - 1)),
        "cvt_scale": draw(st.integers(-32768, 32767)), "cvt_shift": draw(st.integers(0, 63)),
    }


def _stream_use(s):
    if s["both"] or (s["alu_mem"] and s["mul_mem"]):
        return 2
    return 1 if s["alu_mem"] else 0


def program_sdp(prog: RegisterProgram, mem: SparseMemory, cfg: dict, C: int, H: int, W: int, flying: bool,
                src: Surface = Surface(0, 0, 0)):
    """Program X1, X2, C; put memory operands in memory; return per-lane operand arrays."""
    lanes = 8 * ceil_div(C, 8)
    ops, stages = {}, {}
    for s, base in ((cfg["x1"], BS_OPS), (cfg["x2"], BN_OPS)):
        p = s["name"]
        uses_mem = s["alu_mem"] or s["mul_mem"]
        use = _stream_use(s)
        bpc = 2 if s["two_byte"] else 1
        bpe = bpc * (2 if use == 2 else 1)
        line, surf = 8 * W * bpe + 8, (8 * W * bpe + 8) * H
        surface = Surface(base, line, surf)
        stages[p] = StageParams(
            name=p, bypass=s["bypass"], alu_bypass=s["alu_bypass"], alu_algo=s["algo"], alu_from_mem=s["alu_mem"],
            alu_shift=s["alu_shift"], alu_operand=s["alu_op"], mul_bypass=s["mul_bypass"], mul_prelu=s["prelu"],
            relu_bypass=s["relu_bypass"], mul_from_mem=s["mul_mem"], mul_shift=s["mul_shift"], mul_operand=s["mul_op"],
            stream=OperandStream(enabled=uses_mem, use=use, two_byte=s["two_byte"], per_element=s["per_element"],
                                 surface=surface))
        shape = (lanes, H, W) if s["per_element"] else (lanes, 1, 1)
        lo, hi = (-32768, 32768) if s["two_byte"] else (-128, 128)
        r = np.random.default_rng(s["seed"])
        comps = {"alu": r.integers(lo, hi, shape), "mul": r.integers(lo, hi, shape)}
        order = ["alu", "mul"] if use == 2 else (["alu"] if use == 1 else ["mul"])
        for i, which in enumerate(order):
            if s["per_element"] and (W, H) != (1, 1):
                addrs = surface.addresses(lanes, H, W, bpe) + i * bpc
            else:  # PER_KERNEL, or a 1x1 cube: one straight run from the base (docs/nvdla-rules.md §3)
                addrs = (base + np.arange(lanes) * bpe + i * bpc)[:, None, None]
            v = comps[which].astype(np.int64) & 0xFFFF
            mem.scatter(addrs, v & 0xFF)
            if bpc == 2:
                mem.scatter(addrs + 1, v >> 8)
        ops[p] = {w: np.broadcast_to(comps[w], (lanes, H, W)) if (s[f"{w}_mem"] and uses_mem) else None
                  for w in ("alu", "mul")}
    encode_sdp(prog, SdpParams(
        flying=flying, width=W, height=H, channels=C, src=src,
        dst=Surface(DST, 8 * W + 8, (8 * W + 8) * H + 16), x1=stages["BS"], x2=stages["BN"],
        cvt_offset=cfg["cvt_offset"], cvt_scale=cfg["cvt_scale"], cvt_shift=cfg["cvt_shift"], perf_sat_en=True))
    return ops


def output_addresses(lanes: int, H: int, W: int) -> np.ndarray:
    """Where the WDMA writes the cube programmed at DST with unpacked strides; a 1x1 cube is
    written as one straight run of atoms whatever the strides (docs/nvdla-rules.md §3)."""
    if (W, H) == (1, 1):
        return DST + np.arange(lanes)[:, None, None]
    return Surface(DST, 8 * W + 8, (8 * W + 8) * H + 16).addresses(lanes, H, W)


def reference_sdp(value, lane, y, x, cfg, ops):
    for s in (cfg["x1"], cfg["x2"]):
        o = ops[s["name"]]
        alu = int(o["alu"][lane, y, x]) if o["alu"] is not None else s["alu_op"]
        mul = int(o["mul"][lane, y, x]) if o["mul"] is not None else s["mul_op"]
        value = ref.x_stage(value, s, alu, mul)
    return ref.out_cvt(value, cfg["cvt_offset"], cfg["cvt_scale"], cfg["cvt_shift"])


def run(prog: RegisterProgram, mem: SparseMemory, units: tuple[str, ...]) -> GoldenMachine:
    m = GoldenMachine(mem)
    for r, v in prog.writes:
        m.write_reg(r.address, v)
    for u in units:
        m.write_reg(REGMAP.reg(u, "D_OP_ENABLE").address, 1)
    return m


@given(C=st.integers(1, 19), H=st.integers(1, 4), W=st.integers(1, 5), cfg=sdp_cfg(), seed=st.integers(0, 2**31))
def test_standalone_sdp_matches_scalar_reference(C, H, W, cfg, seed):
    rng = np.random.default_rng(seed)
    mem = SparseMemory()
    prog = RegisterProgram()
    src = Surface(SRC, 8 * W, 8 * W * H)
    ops = program_sdp(prog, mem, cfg, C, H, W, flying=False, src=src)
    lanes = 8 * ceil_div(C, 8)
    data = rng.integers(-128, 128, (lanes, H, W))
    mem.scatter(src.addresses(lanes, H, W), data & 0xFF)
    m = run(prog, mem, ("SDP", "SDP_RDMA"))
    assert len(m.layers) == 1 and m.intr_status & 1
    out = m.memory.gather(output_addresses(lanes, H, W)).astype(np.int8)
    for lane in range(lanes):
        for y in range(H):
            for x in range(W):
                want = reference_sdp(int(data[lane, y, x]), lane, y, x, cfg, ops)
                assert int(out[lane, y, x]) == want, (lane, y, x)


@given(C=st.integers(1, 18), K=st.integers(1, 17), H=st.integers(1, 6), W=st.integers(1, 6),
       R=st.integers(1, 3), S=st.integers(1, 3), sx_=st.integers(1, 3), sy=st.integers(1, 3),
       dx=st.integers(1, 3), dy=st.integers(1, 3), pads=st.tuples(*[st.integers(0, 3)] * 4),
       pv=st.integers(-128, 127), clip=st.integers(0, 31), cvt=st.booleans(),
       cvt_params=st.tuples(st.integers(-32768, 32767), st.integers(-32768, 32767), st.integers(0, 63)),
       cfg=sdp_cfg(), seed=st.integers(0, 2**31))
def test_conv_layer_matches_scalar_reference(C, K, H, W, R, S, sx_, sy, dx, dy, pads, pv, clip, cvt, cvt_params,
                                             cfg, seed):
    pl, pr, pt, pb = pads
    Wo = (W + pl + pr - ((S - 1) * dx + 1)) // sx_ + 1
    Ho = (H + pt + pb - ((R - 1) * dy + 1)) // sy + 1
    if Wo < 1 or Ho < 1:
        return
    rng = np.random.default_rng(seed)
    mem, prog = SparseMemory(), RegisterProgram()
    ops = program_sdp(prog, mem, cfg, K, Ho, Wo, flying=True)
    uses_rdma = any(not s["bypass"] and ((s["alu_mem"] and not s["alu_bypass"]) or (s["mul_mem"] and not s["mul_bypass"]))
                    for s in (cfg["x1"], cfg["x2"]))
    feat = rng.integers(-128, 128, (C, H, W))
    fs = Surface(FEAT, 8 * W + 16, (8 * W + 16) * H)
    mem.scatter(fs.addresses(C, H, W), feat & 0xFF)
    wts = rng.integers(-128, 128, (K, C, R, S))
    mem.scatter(WGT + weight_offsets(K, C, R, S), wts & 0xFF)
    off, scale, trunc = cvt_params
    encode_conv(prog, ConvParams(
        width=W, height=H, channels=C, kernels=K, kernel_w=S, kernel_h=R, out_w=Wo, out_h=Ho, stride_x=sx_,
        stride_y=sy, dilation_x=dx, dilation_y=dy, pad_left=pl, pad_top=pt, pad_value=pv, feature=fs,
        weight_base=WGT, cvt_en=cvt, cvt_offset=off, cvt_scale=scale, cvt_truncate=trunc, clip_truncate=clip))
    prog.set("CSC", "D_ZERO_PADDING_VALUE", PAD_VALUE=(pv & 0xFF) | 0xAB00)  # upper byte must be ignored
    units = ("SDP", "CACC", "CMAC_A", "CMAC_B", "CSC", "CDMA") + (("SDP_RDMA",) if uses_rdma else ())
    m = run(prog, mem, units)
    assert len(m.layers) == 1 and m.intr_status & 1
    layer = m.layers[0]
    conv_in = [[[ref.cdma_cvt(int(v), off, scale, trunc) if cvt else int(v) for v in row] for row in ch] for ch in feat]
    acc = ref.conv(conv_in, wts.tolist(), K=K, C=C, H=H, W=W, R=R, S=S, Ho=Ho, Wo=Wo, sx_=sx_, sy=sy, dx=dx, dy=dy,
                   pl=pl, pt=pt, pv=pv, clip=clip)
    lanes = 8 * ceil_div(K, 8)
    out = m.memory.gather(output_addresses(lanes, Ho, Wo)).astype(np.int8)
    for k in range(lanes):
        for y in range(Ho):
            for x in range(Wo):
                a = acc[k, y, x] if k < K else 0
                assert int(layer.cacc[k, y, x]) == a, ("cacc", k, y, x)
                assert int(out[k, y, x]) == reference_sdp(a, k, y, x, cfg, ops), ("out", k, y, x)
