"""cocotb side of the conv_core tests: a DMA memory responder on the two CDMA read ports, a
sink on the CACC->SDP stream, and a scoreboard against the golden model's CACC atoms.

Each case arrives pickled (conv_case.ConvCase) through $CONV_CASES; knobs through $CONV_KNOBS.
"""
from __future__ import annotations

import json
import os
import pickle
import random
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

LANE_MASK = (1 << 32) - 1


def lanes(word: int) -> list[int]:
    out = []
    for i in range(8):
        v = (word >> (32 * i)) & LANE_MASK
        out.append(v - (1 << 32) if v >> 31 else v)
    return out


class Client:
    """One DMA read client (prefix dat_rd / wt_rd): accepts requests, queues their beats."""

    def __init__(self, dut, prefix: str):
        self.req_valid = getattr(dut, f"{prefix}_req_valid_o")
        self.req_ready = getattr(dut, f"{prefix}_req_ready_i")
        self.req_addr = getattr(dut, f"{prefix}_req_addr_o")
        self.req_len = getattr(dut, f"{prefix}_req_len_o")
        self.rsp_valid = getattr(dut, f"{prefix}_rsp_valid_i")
        self.rsp_ready = getattr(dut, f"{prefix}_rsp_ready_o")
        self.rsp_data = getattr(dut, f"{prefix}_rsp_data_i")
        self.beats: deque[tuple[int, int]] = deque()  # (cycle it may be returned, data)
        self.holding = False


class TB:
    def __init__(self, dut, knobs: dict):
        self.dut = dut
        self.rng = random.Random(knobs.get("seed", 1))
        self.latency = knobs.get("latency", 0)          # extra cycles from request to data
        self.jitter = knobs.get("jitter", 0)             # + random 0..jitter per burst
        self.rsp_idle = knobs.get("rsp_idle", 0.0)       # probability of no beat in a cycle
        self.req_stall = knobs.get("req_stall", 0.0)     # probability of req_ready low
        self.sink_stall = knobs.get("sink_stall", 0.0)   # probability of cacc2sdp_ready low
        self.clients = [Client(dut, "dat_rd"), Client(dut, "wt_rd")]
        self.turn = 0
        cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())

    async def reset(self):
        d = self.dut
        d.rst_ni.value = 0
        d.start_i.value = 0
        d.cacc2sdp_ready_i.value = 0
        for c in self.clients:
            c.req_ready.value = 0
            c.rsp_valid.value = 0
            c.rsp_data.value = 0
            c.beats.clear()
            c.holding = False
        for _ in range(3):
            await RisingEdge(d.clk_i)
        d.rst_ni.value = 1
        await RisingEdge(d.clk_i)

    def dump(self):
        """Log the sequencer state of a layer that hangs (needs Verilator's public signals)."""
        for path in ("u_csc.run_q", "u_csc.g_q", "u_csc.p_q", "u_csc.b_q", "u_csc.left_q", "u_csc.lg_q",
                     "u_csc.lst_q", "u_csc.lop_q", "u_csc.lk_q", "u_csc.fill_q", "u_csc.resv_q",
                     "u_csc.pops_q", "u_csc.rows_done_i", "u_csc.wt_written_i", "u_cdma_wt.rg_q",
                     "u_cdma_wt.qg_q", "u_cdma_wt.cnt_q", "u_cdma_wt.grp_open_q", "u_cdma_wt.resv_q",
                     "u_cdma_wt.freed_q", "u_cdma_dat.rows_q"):
            obj = self.dut
            try:
                for part in path.split("."):
                    obj = getattr(obj, part)
                self.dut._log.error("%s = %s", path, obj.value)
            except AttributeError:
                self.dut._log.error("%s not visible", path)

    async def run(self, case, limit: int):
        """Start the layer, serve memory, collect atoms. Returns (atoms, cycles, error)."""
        d, mem = self.dut, case.memory
        d.cfg_i.value = case.cfg
        d.start_i.value = 1
        atoms: list[list[int]] = []
        cycle = 0
        sink_ready = 0
        while True:
            await RisingEdge(d.clk_i)
            cycle += 1
            d.start_i.value = 0
            # --- sample what happened at this edge (values driven in the last cycle)
            if sink_ready and int(d.cacc2sdp_valid_o.value):
                atoms.append(lanes(d.cacc2sdp_data_o.value.to_unsigned()))
            if int(d.error_o.value):
                return atoms, cycle, True
            if int(d.done_o.value) and cycle > 1:
                return atoms, cycle, False
            if cycle > limit:
                self.dump()
                raise AssertionError(f"{case.name}: no done after {limit} cycles, {len(atoms)} atoms out")
            for c in self.clients:
                if int(c.req_ready.value) and int(c.req_valid.value):
                    addr, n = int(c.req_addr.value), int(c.req_len.value) + 1
                    assert addr % 8 == 0 and (addr % 4096) + 8 * n <= 4096, f"bad burst {addr:#x}+{n}"
                    data = mem.read(addr, 8 * n).tobytes()
                    due = cycle + self.latency + (self.rng.randint(0, self.jitter) if self.jitter else 0)
                    for i in range(n):
                        c.beats.append((due, int.from_bytes(data[8 * i:8 * i + 8], "little")))
                if c.holding and int(c.rsp_ready.value):
                    c.beats.popleft()
                    c.holding = False
            # --- drive the next cycle: one beat a clock over both clients (one 64-bit port)
            busy = any(c.holding for c in self.clients)
            for c in self.clients:
                c.req_ready.value = int(self.rng.random() >= self.req_stall)
            if not busy and self.rng.random() >= self.rsp_idle:
                for i in range(2):
                    c = self.clients[(self.turn + i) % 2]
                    if c.beats and c.beats[0][0] <= cycle:
                        c.holding = True
                        c.rsp_data.value = c.beats[0][1]
                        self.turn = (self.turn + i + 1) % 2
                        break
            for c in self.clients:
                c.rsp_valid.value = int(c.holding)
            sink_ready = int(self.rng.random() >= self.sink_stall)
            d.cacc2sdp_ready_i.value = sink_ready


def first_mismatch(case, got: list[list[int]]) -> str | None:
    """Where the CACC stream first differs from the golden model, with coordinates."""
    want = case.atoms()
    k8, ho, wo = case.cacc.shape
    for i in range(min(len(got), len(want))):
        if list(want[i]) != got[i]:
            g, rem = divmod(i, ho * wo)
            y, x = divmod(rem, wo)
            lane = next(l for l in range(8) if want[i][l] != got[i][l])
            return (f"CACC differs at kernel {8 * g + lane} (surface {g}, lane {lane}), y={y}, x={x}: "
                    f"got {got[i][lane]}, golden {int(want[i][lane])}")
    if len(got) != len(want):
        return f"CACC produced {len(got)} atoms, golden {len(want)}"
    return None


@cocotb.test()
async def run_cases(dut):
    knobs = json.loads(os.environ.get("CONV_KNOBS", "{}"))
    with open(os.environ["CONV_CASES"], "rb") as f:
        cases = pickle.load(f)
    tb = TB(dut, knobs)
    results, errors = [], []
    for case in cases:
        await tb.reset()
        atoms, cycles, err = await tb.run(case, limit=20 * case.ideal_cycles + 200_000)
        expect_error = getattr(case, "expect_error", False)
        if expect_error or err:
            if err != expect_error:
                errors.append(f"{case.name}: error_o={err}, expected {expect_error}")
            elif atoms:
                errors.append(f"{case.name}: {len(atoms)} atoms after an illegal bank program")
            continue
        bad = first_mismatch(case, atoms)
        if bad:
            errors.append(f"{case.name}: {bad}")
        sat = int(dut.sat_count_o.value)
        if sat != case.sat_count:
            errors.append(f"{case.name}: CACC saturation count {sat}, golden {case.sat_count}")
        results.append({"name": case.name, "cycles": cycles, "ideal": case.ideal_cycles})
        dut._log.info("%s: %d cycles, ideal %d, utilization %.3f", case.name, cycles,
                      case.ideal_cycles, case.ideal_cycles / cycles)
    if os.environ.get("CONV_RESULTS"):
        with open(os.environ["CONV_RESULTS"], "w") as f:
            json.dump(results, f)
    assert not errors, "\n".join(errors)
