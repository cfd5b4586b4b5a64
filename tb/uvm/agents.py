"""pyuvm agents: the APB register agent (sequencer, driver, monitor) and the interrupt monitor.
Only the BFM touches signals; these classes move transactions. The APB traffic is played and
observed in the harness (tb/hdl/tb_apb_master.sv): the driver hands over one access or a run of
writes, the monitor publishes the harness's log of the accesses the bus saw."""
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


class ApbWrites(uvm_sequence_item):
    """A run of register writes (address, value), played back to back."""

    def __init__(self, name: str, writes: list[tuple[int, int]]):
        super().__init__(name)
        self.writes = writes

    def __str__(self) -> str:
        return f"APB {len(self.writes)} writes"


class ApbDriver(uvm_driver):
    def start_of_simulation_phase(self):
        self.bfm = self.parent.bfm

    async def run_phase(self):
        while True:
            item = await self.seq_item_port.get_next_item()
            item.cycle = self.bfm.cycles()
            if isinstance(item, ApbWrites):
                await self.bfm.apb_writes(item.writes)
            else:
                item.rdata = await self.bfm.apb(item.addr, item.write, item.data)
            self.seq_item_port.item_done()


class ApbMonitor(uvm_monitor):
    """Publishes every APB access seen on the bus as an ApbItem (with the cycle of its access
    phase). The harness logs the bus; `sample` publishes the accesses logged since the last
    call, so a per-access Python callback is never needed."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    def start_of_simulation_phase(self):
        self.bfm = self.parent.bfm

    async def sample(self) -> None:
        for cycle, write, addr, data in await self.bfm.apb_log():
            item = ApbItem("mon", addr, write, data if write else 0)
            item.rdata = None if write else data
            item.cycle = cycle
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


__all__ = ["ApbItem", "ApbWrites", "ApbAgent", "InterruptMonitor", "cocotb"]
