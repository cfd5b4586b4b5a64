"""cocotb test of tb/hdl/tb_axi_checker.sv alone: legal traffic, then one broken rule per scenario,
with a reset between; writes {scenario: lines the checker appended} to AXI_RESULTS (a JSON file)
for tb/test_axi_checker.py to judge."""
from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

IDLE = dict(awvalid=0, awid=0, awaddr=0, awlen=0, awsize=3, awburst=1, awready=0,
            wvalid=0, wdata=0, wstrb=0xFF, wlast=0, wready=0,
            bvalid=0, bid=0, bresp=0, bready=0,
            arvalid=0, arid=0, araddr=0, arlen=0, arsize=3, arburst=1, arready=0,
            rvalid=0, rid=0, rdata=0, rresp=0, rlast=0, rready=0)


# nvdla_pkg's channel structs, fields MSB first (packed order), widths from the package:
# AxiIdW 3, AxiAddrW 32, AxiDataW 64. Each port's total width is checked against the DUT's.
AX = [("id", 3), ("addr", 32), ("len", 8), ("size", 3), ("burst", 2)]
PORTS = {
    "wr_req_i": [("aw", AX), ("awvalid", 1), ("w", [("wdata", 64), ("wstrb", 8), ("wlast", 1)]), ("wvalid", 1),
                 ("bready", 1)],
    "wr_rsp_i": [("awready", 1), ("wready", 1), ("b", [("bid", 3), ("bresp", 2)]), ("bvalid", 1)],
    "rd_req_i": [("ar", AX), ("arvalid", 1), ("rready", 1)],
    "rd_rsp_i": [("arready", 1), ("r", [("rid", 3), ("rdata", 64), ("rresp", 2), ("rlast", 1)]), ("rvalid", 1)],
}


def _width(layout) -> int:
    return sum(w if isinstance(w, int) else _width(w) for _, w in layout)


def _pack(layout, values: dict, prefix: str = "") -> int:
    v = 0
    for name, w in layout:
        if isinstance(w, int):
            v = (v << w) | (values[prefix + name] & ((1 << w) - 1))
        else:  # AW/AR carry the channel's letters as a prefix: aw + addr -> awaddr
            v = (v << _width(w)) | _pack(w, values, name if w is AX else "")
    return v


class Bus:
    def __init__(self, dut):
        self.dut = dut
        self.values = dict(IDLE)
        for port, layout in PORTS.items():
            assert len(getattr(dut, port)) == _width(layout), f"{port}: the struct layout here is stale"

    async def cycle(self, **signals):
        """Drive these values (the rest as last driven) for one clock."""
        self.values.update(signals)
        for port, layout in PORTS.items():
            getattr(self.dut, port).value = _pack(layout, self.values)
        await FallingEdge(self.dut.clk_i)

    async def reset(self):
        self.dut.rst_ni.value = 0
        await self.cycle(**IDLE)
        await self.cycle()
        self.dut.rst_ni.value = 1
        await self.cycle()


async def legal(bus: Bus):
    """A write of two beats and a read of two, each waiting a clock for its ready."""
    await bus.cycle(awvalid=1, awaddr=0x1000, awlen=1)
    await bus.cycle(awready=1)
    await bus.cycle(awvalid=0, awready=0, wvalid=1, wdata=1)
    await bus.cycle(wready=1)
    await bus.cycle(wdata=2, wlast=1)
    await bus.cycle(wvalid=0, wlast=0, wready=0, bvalid=1)
    await bus.cycle(bready=1)
    await bus.cycle(bvalid=0, bready=0, arvalid=1, araddr=0xFF0, arlen=1)
    await bus.cycle(arready=1)
    await bus.cycle(arvalid=0, arready=0, rvalid=1, rdata=5)
    await bus.cycle(rready=1)
    await bus.cycle(rdata=6, rlast=1)
    await bus.cycle(rvalid=0, rlast=0, rready=0)


async def aw_stable(bus):
    await bus.cycle(awvalid=1, awaddr=0x100)
    await bus.cycle(awaddr=0x108)


async def w_stable(bus):
    await bus.cycle(wvalid=1, wdata=7)
    await bus.cycle(wvalid=0)


async def ar_stable(bus):
    await bus.cycle(arvalid=1, araddr=0x40, arlen=3)
    await bus.cycle(arlen=2)


async def aw_burst(bus):
    await bus.cycle(awvalid=1, awready=1, awaddr=0x200, awburst=0)    # FIXED


async def ar_burst(bus):
    await bus.cycle(arvalid=1, arready=1, araddr=0xFF8, arlen=1)     # crosses into the next 4 KiB page


async def w_last(bus):
    await bus.cycle(awvalid=1, awready=1, awaddr=0x300, awlen=1)
    await bus.cycle(awvalid=0, wvalid=1, wready=1, wlast=1)          # the first of two beats says last
    await bus.cycle(wvalid=0, wlast=0)


async def b_after_aw(bus):
    await bus.cycle(bvalid=1, bready=1)


async def r_stable(bus):
    await bus.cycle(rvalid=1, rdata=9)
    await bus.cycle(rdata=10)


async def b_stable(bus):
    await bus.cycle(bvalid=1)
    await bus.cycle(bvalid=0)


SCENARIOS = {"legal": legal, "aw_stable": aw_stable, "w_stable": w_stable, "ar_stable": ar_stable,
             "aw_burst": aw_burst, "ar_burst": ar_burst, "w_last": w_last, "b_after_aw": b_after_aw,
             "r_stable": r_stable, "b_stable": b_stable}


@cocotb.test()
async def every_rule(dut):
    cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())
    log = Path("axi_check.txt")
    bus, seen = Bus(dut), {}
    for name, drive in SCENARIOS.items():
        log.unlink(missing_ok=True)
        await bus.reset()
        await drive(bus)
        await bus.cycle(**IDLE)
        await bus.cycle()
        seen[name] = log.read_text().splitlines() if log.exists() else []
    Path(os.environ["AXI_RESULTS"]).write_text(json.dumps(seen))
