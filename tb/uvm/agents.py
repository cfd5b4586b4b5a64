"""pyuvm agents: the APB register agent (sequencer, driver, monitor), the interrupt monitor and
the AXI write monitor. Only the BFM touches the harness; these classes move transactions. The
APB traffic is played and observed in the harness (tb/hdl/tb_apb_master.sv): the driver hands
over one access or a run of writes, the monitor publishes the harness's log of the accesses the
bus saw. The AXI write monitor publishes every write beat of the DUT's AXI port, rebuilt from
the harness's bus log (tb/hdl/tb_axi_wr_monitor.sv), each time it is sampled."""
from __future__ import annotations

import cocotb
import numpy as np
from pyuvm import uvm_agent, uvm_analysis_port, uvm_component, uvm_driver, uvm_monitor, uvm_sequence_item, \
    uvm_sequencer

from .bus_check import BusWrites
from .write_log import DONE, WlogDepth, WriteLog


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


class AxiWriteMonitor(uvm_monitor):
    """Publishes, per sample, a BusWrites: the write beats the DUT put on its AXI port since the
    last sample, each with its address rebuilt from the AW handshakes (AXI4 write data follows
    the order of the addresses; INCR bursts of 8-byte beats), and the SDP done pulses seen
    meanwhile (the harness's write log). Sampled at every interrupt and at the end of a trace:
    transaction level, no callback per beat or per cycle."""

    DEPTH = 1 << 18  # tb_axi_wr_monitor Depth

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    def start_of_simulation_phase(self):
        self.bfm = self.parent.bfm

    def start_trace(self) -> None:
        self._aw = self._w = self._wlog = 0
        self._beat_addr = np.zeros(0, dtype=np.int64)  # address of every beat announced so far

    async def sample(self) -> None:
        n_aw, n_w = self.bfm.bus_counts()
        n_log = self.bfm.wlog_count()
        if max(n_aw, n_w) > self.DEPTH or n_log > WlogDepth:
            lost = BusWrites.empty()
            lost.lost = f"{max(n_aw, n_w)} bus beats, {n_log} log entries: more than the harness keeps, bus check skipped"
            self.ap.write(lost)
            return
        aw = self.bfm.bus_log("aw_log", self._aw, n_aw).astype(np.int64)
        self._aw = n_aw
        if aw.size:  # entry: [127:120] len, [119:96] id, [95:64] address, [63:0] cycle
            beats = (aw[:, 3] >> 24) + 1
            first = np.repeat(aw[:, 2], beats)
            k = np.arange(beats.sum()) - np.repeat(np.cumsum(beats) - beats, beats)
            self._beat_addr = np.concatenate([self._beat_addr, first + 8 * k])
        upto = min(n_w, self._beat_addr.size)  # a data beat waits for its address
        w = self.bfm.bus_log("w_log", self._w, upto)  # [104] last, [103:96] strobe, [95:64] cycle, [63:0] data
        addr = self._beat_addr[self._w:upto]
        self._w = upto
        data = np.ascontiguousarray(w[:, :2]).view(np.uint8).reshape(-1, 8)
        strb = ((w[:, 3:4] >> np.arange(8, dtype=np.uint32)) & 1).astype(bool)
        log = WriteLog.from_words(self.bfm.wlog(n_log, first=self._wlog))
        self._wlog = n_log
        self.ap.write(BusWrites(addr, data, strb, w[:, 2].astype(np.int64), log.cycle[log.kind == DONE]))


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
