"""pyuvm agents: the APB register agent (sequencer, driver, monitor) and the interrupt monitor.
Only the BFM touches signals; these classes move transactions."""
from __future__ import annotations

import cocotb
from pyuvm import uvm_agent, uvm_analysis_port, uvm_component, uvm_driver, uvm_monitor, uvm_sequence_item, \
    uvm_sequencer


class ApbItem(uvm_sequence_item):
    """One CSB register access over APB."""

    def __init__(self, name: str, addr: int, write: bool, data: int = 0):
        super().__init__(name)
        self.addr = addr
        self.write = write
        self.data = data
        self.rdata: int | None = None
        self.cycle = 0

    def __str__(self) -> str:
        op = f"write {self.data:#010x}" if self.write else f"read -> {self.rdata if self.rdata is None else hex(self.rdata)}"
        return f"APB {self.addr:#06x} {op}"


class ApbDriver(uvm_driver):
    def start_of_simulation_phase(self):
        self.bfm = self.parent.bfm

    async def run_phase(self):
        while True:
            item = await self.seq_item_port.get_next_item()
            item.cycle = self.bfm.cycles()
            item.rdata = await self.bfm.apb(item.addr, item.write, item.data)
            self.seq_item_port.item_done()


class ApbMonitor(uvm_monitor):
    """Publishes every APB access seen on the bus as an ApbItem (with its cycle)."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    def start_of_simulation_phase(self):
        self.bfm = self.parent.bfm

    async def run_phase(self):
        while True:
            addr, write, wdata, rdata = await self.bfm.apb_access()
            item = ApbItem("mon", addr, write, wdata)
            item.rdata = None if write else rdata
            item.cycle = self.bfm.cycles()
            self.ap.write(item)


class ApbAgent(uvm_agent):
    def __init__(self, name, parent, bfm):
        super().__init__(name, parent)
        self.bfm = bfm

    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = ApbDriver("driver", self)
        self.monitor = ApbMonitor("monitor", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)


class InterruptMonitor(uvm_component):
    """Records the cycle of every rising edge of the interrupt line and publishes it."""

    def __init__(self, name, parent, bfm):
        super().__init__(name, parent)
        self.bfm = bfm
        self.rises: list[int] = []

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    async def run_phase(self):
        while True:
            await self.bfm.intr_rise()
            c = self.bfm.cycles()
            self.rises.append(c)
            self.ap.write(c)


__all__ = ["ApbItem", "ApbAgent", "InterruptMonitor", "cocotb"]
