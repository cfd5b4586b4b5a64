"""cocotb side of test_conv_cacc.py: conv_cacc alone, fed MAC sums that no layer that fits
CBUF can produce, to reach the 34-bit partial-sum clamp and the int32 output clamp."""
from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

import numpy as np

from nvdla_int8.golden.conv import cacc_round
from nvdla_int8.hw.fixed import sat

MAC_MAX, MAC_MIN = (1 << 18) - 1, -(1 << 18)


def model(ops: list[list[int]], clip: int) -> tuple[list[int], int]:
    """Per-step saturating 34-bit sum of each lane, then the CACC clip (datapath.md §7)."""
    out, nsat = [], 0
    for lane in range(8):
        psum = 0
        for op in ops:
            psum = sat(psum + op[lane], 34)[0]
        v, clamped = cacc_round(np.array([psum]), clip)
        nsat += int(clamped[0])
        out.append(int(v[0]))
    return out, nsat


@cocotb.test()
async def saturation(dut):
    spec = json.loads(os.environ["CACC_SPEC"])
    rng = random.Random(spec["seed"])
    cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())
    dut.rst_ni.value = 0
    dut.valid_i.value = 0
    dut.start_i.value = 0
    dut.cacc2sdp_ready_i.value = 1
    dut.clip_truncate_i.value = spec["clip"]
    for _ in range(3):
        await RisingEdge(dut.clk_i)
    dut.rst_ni.value = 1
    dut.start_i.value = 1
    await RisingEdge(dut.clk_i)
    dut.start_i.value = 0
    if "sat_from" in spec:  # the count a very long layer would have reached (test_conv_cacc.py)
        dut.sat_q.value = spec["sat_from"]
    # lane pattern: +max, -min, mixed runs that saturate then come back, small noise
    n = spec["ops"]
    ops = [spec["values"]] if "values" in spec else []  # exact lane values: one atomic op
    for i in range(n - len(ops)):
        back = i >= n - spec["back"]
        ops.append([MAC_MAX, MAC_MIN, MAC_MIN if back else MAC_MAX, MAC_MAX if back else MAC_MIN,
                    rng.randint(MAC_MIN, MAC_MAX), MAC_MAX // 2, -(MAC_MAX // 3), 1])
    got = []
    for i, op in enumerate(ops):
        dut.valid_i.value = 1
        dut.slot_i.value = 0
        dut.first_i.value = int(i == 0)
        dut.last_i.value = int(i == n - 1)
        dut.sum_i.value = sum((v & ((1 << 19) - 1)) << (19 * lane) for lane, v in enumerate(op))
        await RisingEdge(dut.clk_i)
    dut.valid_i.value = 0
    for _ in range(4):
        await RisingEdge(dut.clk_i)
        if int(dut.cacc2sdp_valid_o.value):
            w = dut.cacc2sdp_data_o.value.to_unsigned()
            got = [((w >> (32 * l)) & 0xFFFFFFFF) - ((w >> (32 * l + 31)) & 1) * (1 << 32) for l in range(8)]
            break
    want, nsat = model(ops, spec["clip"])
    want[0] += spec.get("fault", 0)  # fault injection: the checker must notice one unit off
    assert got == want, f"CACC {got}, model {want}"
    if "sat_from" in spec:
        assert nsat >= 3, f"only {nsat} lanes clamp: the count does not cross the boundary under test"
    nsat = min(spec.get("sat_from", 0) + nsat, (1 << 32) - 1)  # the 32-bit counter stops at its top
    assert int(dut.sat_count_o.value) == nsat, f"sat count {int(dut.sat_count_o.value)}, model {nsat}"
