"""The only code that touches the harness's signals (tb/hdl/tb_top.sv): clock, reset, register
accesses (through the harness's APB master: one access, or a run of writes at once) and its
access log, interrupt and watchdog waits, the fast memory's bulk controls and the tap dump.
Nothing here runs per clock cycle: every wait is for an event (an edge of the interrupt, the
watchdog, the APB master's done, or a pulse's two edges)."""
from __future__ import annotations

from pathlib import Path

from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, First, RisingEdge, Timer

CLOCK_NS = 10
APB_PROG_DEPTH = 16384  # tb_apb_master ProgDepth
APB_LOG_DEPTH = 65536  # tb_apb_master LogDepth


def _u(handle) -> int:
    """Unsigned value of a signal: buses are LogicArray, single bits Logic."""
    v = handle.value
    return v.to_unsigned() if hasattr(v, "to_unsigned") else int(v)


class HarnessBfm:
    def __init__(self, dut, work_dir: Path | str = "."):
        self.dut = dut
        self.dir = Path(work_dir)  # the harness's +TB_MEM_DIR: where its load and dump files live
        self._clock = None
        self._alog_read = 0  # entries of the harness's APB log already returned since the reset

    def start_clock(self, internal: bool) -> None:
        """internal: the fast build's main clocks the harness (TB_INTERNAL_CLOCK=1); else cocotb
        drives clk_in."""
        if not internal and self._clock is None:
            self._clock = Clock(self.dut.clk_in, CLOCK_NS, unit="ns")
            self._clock.start()

    async def reset(self, *, ext_mem: bool, stall: bool, seed: int, watchdog: int, reorder: bool = False,
                    mutation=None) -> None:
        """Reset the DUT and the harness. reorder: the fast memory reorders and interleaves reads
        across ARIDs and delays B responses; mutation: a tb.uvm.faults.Mutation (or None)."""
        from .faults import Mutation

        d = self.dut
        d.rst_n.value = 0
        d.turbo.value = 0
        d.apb_go.value = 0
        d.apb_batch.value = 0
        d.apb_len.value = 0
        d.apb_write.value = 0
        d.apb_addr.value = 0
        d.apb_wdata.value = 0
        d.alog_dump.value = 0
        d.ext_mem_en.value = int(ext_mem)
        d.mem_seed.value = seed & 0xFFFFFFFF
        d.mem_stall_en.value = int(stall)
        d.mem_reorder_en.value = int(reorder)
        (mutation or Mutation()).drive(d)
        d.wlog_dump.value = 0
        d.mem_load.value = 0
        d.mem_dump.value = 0
        d.mem_patch.value = 0
        d.mem_dump_first.value = 0
        d.mem_dump_last.value = 0
        d.watchdog_limit.value = watchdog
        d.tap_clear.value = 1
        d.tap_dump.value = 0
        self._alog_read = 0
        await ClockCycles(d.clk, 4)
        d.tap_clear.value = 0
        d.rst_n.value = 1
        await RisingEdge(d.clk)

    # ---------------- APB ----------------
    async def _apb_go(self, batch: bool) -> None:
        d = self.dut
        d.apb_batch.value = int(batch)
        d.apb_go.value = 1
        await RisingEdge(d.clk)
        d.apb_go.value = 0
        await RisingEdge(d.apb_done)

    async def apb(self, addr: int, write: bool, data: int = 0) -> int:
        """One APB3 access (setup, access); returns PRDATA for a read."""
        d = self.dut
        d.apb_addr.value = addr
        d.apb_write.value = int(write)
        d.apb_wdata.value = data
        await self._apb_go(False)
        return _u(d.apb_rdata)

    async def apb_writes(self, writes: list[tuple[int, int]]) -> None:
        """Register writes (address, value), back to back: two cycles each, as one at a time."""
        for i in range(0, len(writes), APB_PROG_DEPTH):
            chunk = writes[i:i + APB_PROG_DEPTH]
            (self.dir / "apb_prog.hex").write_text("".join(f"1{a:08x}{v:08x}\n" for a, v in chunk))
            self.dut.apb_len.value = len(chunk)
            await self._apb_go(True)

    async def apb_log(self) -> list[tuple[int, bool, int, int]]:
        """The accesses the master made since the last call or reset, (cycle, write, addr, data)
        each, up to the log's depth; cycle is the harness counter's low 32 bits."""
        n = min(_u(self.dut.alog_count), APB_LOG_DEPTH)
        if n <= self._alog_read:
            return []
        await self.pulse(self.dut.alog_dump)
        raw = bytes.fromhex((self.dir / "apb_log.hex").read_text())
        out = []
        for k in range(16 * self._alog_read, len(raw), 16):
            write, addr, data, cycle = (int.from_bytes(raw[k + j:k + j + 4], "big") for j in (0, 4, 8, 12))
            out.append((cycle, bool(write), addr, data))
        self._alog_read = n
        return out

    # ---------------- interrupt, time ----------------
    def cycles(self) -> int:
        return _u(self.dut.cycles)

    def intr(self) -> bool:
        return bool(_u(self.dut.intr))

    async def intr_rise(self) -> None:
        await RisingEdge(self.dut.intr)

    async def wait_intr(self, max_cycles: int) -> str:
        """'intr', 'watchdog' (no progress for watchdog_limit cycles) or 'timeout'."""
        if self.intr():
            return "intr"
        intr, wd = RisingEdge(self.dut.intr), RisingEdge(self.dut.watchdog_fired)
        # Nothing but these three triggers can fire meanwhile: the fast build's main may skip
        # its callback bookkeeping at the clock edges in between (tb/hdl/vpi_main.cpp).
        self.dut.turbo.value = 1
        try:
            fired = await First(intr, wd, Timer(max_cycles * CLOCK_NS, "ns"))
        finally:
            self.dut.turbo.value = 0
        if fired is intr:
            return "intr"
        return "watchdog" if fired is wd else "timeout"

    async def clocks(self, n: int) -> None:
        await ClockCycles(self.dut.clk, n)

    # ---------------- fast memory and taps ----------------
    async def pulse(self, signal) -> None:
        signal.value = 1
        await RisingEdge(self.dut.clk)
        signal.value = 0
        await RisingEdge(self.dut.clk)

    async def mem_load(self) -> None:
        await self.pulse(self.dut.mem_load)

    async def mem_dump(self, first: int, last: int) -> None:
        self.dut.mem_dump_first.value = first
        self.dut.mem_dump_last.value = last
        await self.pulse(self.dut.mem_dump)

    def mem_fault(self) -> int | None:
        return _u(self.dut.mem_fault_addr) if _u(self.dut.mem_fault) else None

    def tap_count(self) -> int:
        return _u(self.dut.tap_count)

    async def tap_dump(self) -> None:
        await self.pulse(self.dut.tap_dump)

    def reordered_reads(self) -> int:
        """Read bursts the fast memory served out of order or interleaved since reset."""
        return _u(self.dut.mem_reordered)

    def read_flip_addr(self) -> int | None:
        """Address of the read beat the read_flip fault corrupted, None if it has not fired."""
        return _u(self.dut.mut_read_flip_addr) if _u(self.dut.mut_read_flipped) else None

    def wlog_count(self) -> int:
        return _u(self.dut.wlog_count)

    async def wlog_dump(self) -> None:
        await self.pulse(self.dut.wlog_dump)
