"""A deliberately simple scalar reference of the datapath, written from datapath.md with plain
Python loops and the RTL form of rounding (floor, then +1 on the first discarded bit unless the
value is a negative exact tie). It shares no code with the vectorised golden model, so property
tests can hold the two against each other."""
from __future__ import annotations


def clamp(v: int, bits: int) -> int:
    return max(-(1 << (bits - 1)), min((1 << (bits - 1)) - 1, v))


def sx(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def rshift_round(x: int, s: int, in_bits: int, out_bits: int, sticky_bits: int = 64) -> int:
    if s >= in_bits:
        return 0
    if s == 0:
        return clamp(x, out_bits)
    first = (x >> (s - 1)) & 1
    lo = max(0, s - 1 - sticky_bits)
    lower = (x >> lo) & ((1 << (s - 1 - lo)) - 1)
    return clamp((x >> s) + (1 if first and (x >= 0 or lower) else 0), out_bits)


def conv(feat, weights, *, K, C, H, W, R, S, Ho, Wo, sx_, sy, dx, dy, pl, pt, pv, clip):
    """feat[c][i][j] (already converted), weights[k][c][r][s] -> CACC int32 per (k, y, x)."""
    out = {}
    for k in range(K):
        for y in range(Ho):
            for x in range(Wo):
                psum = 0
                for b in range(0, C, 8):
                    for r in range(R):
                        for s in range(S):
                            op = 0
                            for c in range(b, min(C, b + 8)):
                                i, j = y * sy + r * dy - pt, x * sx_ + s * dx - pl
                                v = feat[c][i][j] if 0 <= i < H and 0 <= j < W else pv
                                op += weights[k][c][r][s] * v
                            psum = clamp(psum + op, 34)
                out[k, y, x] = rshift_round(psum, clip, 34, 32, sticky_bits=15)
    return out


def cdma_cvt(v: int, offset: int, scale: int, trunc: int) -> int:
    return clamp(rshift_round((v - offset) * scale, trunc, 34, 17), 8)


def x_stage(x: int, st: dict, alu_op: int, mul_op: int) -> int:
    """st: bypass, alu_bypass, algo, alu_shift, mul_bypass, prelu, relu_bypass, mul_shift."""
    if st["bypass"]:
        return x
    a = x
    if not st["alu_bypass"]:
        op = clamp(alu_op << min(st["alu_shift"], 40), 32)
        a = max(x, op) if st["algo"] == 0 else min(x, op) if st["algo"] == 1 else x + op
    if st["mul_bypass"]:
        t = rshift_round(a, st["mul_shift"], 49, 32)
    elif st["prelu"] and a >= 0:
        t = sx(a, 32)
    else:
        t = rshift_round(a * mul_op, st["mul_shift"], 49, 32)
    return t if st["relu_bypass"] else max(t, 0)


def out_cvt(y: int, offset: int, scale: int, shift: int) -> int:
    return clamp(rshift_round((y - offset) * scale, shift, 49, 17), 8)
