"""The only code that touches the harness's signals (tb/hdl/tb_top.sv): clock, reset, APB
accesses, interrupt and watchdog waits, the fast memory's bulk controls and the tap dump."""
from __future__ import annotations

from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, First, ReadOnly, RisingEdge, Timer

CLOCK_NS = 10


def _u(handle) -> int:
    """Unsigned value of a signal: buses are LogicArray, single bits Logic."""
    v = handle.value
    return v.to_unsigned() if hasattr(v, "to_unsigned") else int(v)


class HarnessBfm:
    def __init__(self, dut):
        self.dut = dut
        self._clock = None

    def start_clock(self, internal: bool) -> None:
        """internal: the harness runs its own clock (+TB_INTERNAL_CLOCK); else cocotb drives clk_in."""
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
        d.apb_psel.value = 0
        d.apb_penable.value = 0
        d.apb_pwrite.value = 0
        d.apb_paddr.value = 0
        d.apb_pwdata.value = 0
        d.ext_mem_en.value = int(ext_mem)
        d.mem_seed.value = seed & 0xFFFFFFFF
        d.mem_stall_en.value = int(stall)
        d.mem_reorder_en.value = int(reorder)
        (mutation or Mutation()).drive(d)
        d.wlog_dump.value = 0
        d.mem_load.value = 0
        d.mem_clear_pages.value = 0
        d.mem_dump.value = 0
        d.mem_patch.value = 0
        d.mem_dump_first.value = 0
        d.mem_dump_last.value = 0
        d.watchdog_limit.value = watchdog
        d.tap_clear.value = 1
        d.tap_dump.value = 0
        await ClockCycles(d.clk, 4)
        d.tap_clear.value = 0
        d.rst_n.value = 1
        await RisingEdge(d.clk)

    # ---------------- APB ----------------
    async def apb(self, addr: int, write: bool, data: int = 0) -> int:
        """One APB3 transfer (setup, access); returns PRDATA for a read."""
        d = self.dut
        d.apb_paddr.value = addr
        d.apb_pwrite.value = int(write)
        d.apb_pwdata.value = data
        d.apb_psel.value = 1
        d.apb_penable.value = 0
        await RisingEdge(d.clk)
        d.apb_penable.value = 1
        await ReadOnly()
        rdata = _u(d.apb_prdata)
        await RisingEdge(d.clk)
        d.apb_psel.value = 0
        d.apb_penable.value = 0
        return rdata

    async def apb_access(self) -> tuple[int, bool, int, int]:
        """Wait for the next APB access phase: (addr, write, wdata, rdata)."""
        d = self.dut
        await RisingEdge(d.apb_penable)
        await ReadOnly()
        return (_u(d.apb_paddr), bool(_u(d.apb_pwrite)),
                _u(d.apb_pwdata), _u(d.apb_prdata))

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
        fired = await First(intr, wd, Timer(max_cycles * CLOCK_NS, "ns"))
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

    async def mem_load(self, clear_pages: int) -> None:
        self.dut.mem_clear_pages.value = clear_pages
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
