"""The only code that touches the harness (tb/hdl/tb_top.sv): clock, reset, register accesses
(through the harness's APB master: one access, or a run of writes at once) and its access log,
interrupt and watchdog waits, the fast memory, the stage taps and the write log.
Nothing here runs per clock cycle: every wait is for an event (an edge of the interrupt, the
watchdog, the APB master's done, or a pulse's two edges). The harness's arrays are read and
written in place, as numpy views of the model's own storage (tb/hdl/tb_shared.cpp), while the
simulator is stopped in a callback."""
from __future__ import annotations

import ctypes

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, First, RisingEdge, Timer

CLOCK_NS = 10
APB_PROG_DEPTH = 16384  # tb_apb_master ProgDepth
APB_LOG_DEPTH = 65536  # tb_apb_master LogDepth
SCOPE = "tb_top"


def shared_array(scope: str, name: str) -> np.ndarray:
    """A public array of the running simulation as a writable uint8 view of its storage (each
    element little-endian, 1, 2, 4, 8 bytes or whole 32-bit words wide)."""
    find = ctypes.CDLL(None).tb_shared_var  # exported by every harness build (tb/rtl_build.py)
    find.restype = ctypes.c_void_p
    find.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64)]
    size = ctypes.c_uint64()
    addr = find(scope.encode(), name.encode(), ctypes.byref(size))
    if not addr:
        raise RuntimeError(f"the simulation has no public array {scope}.{name}")
    return np.ctypeslib.as_array((ctypes.c_uint8 * size.value).from_address(addr))


def _u(handle) -> int:
    """Unsigned value of a signal: buses are LogicArray, single bits Logic."""
    v = handle.value
    return v.to_unsigned() if hasattr(v, "to_unsigned") else int(v)


class HarnessBfm:
    def __init__(self, dut):
        self.dut = dut
        self._clock = None
        self._alog_read = 0  # entries of the harness's APB log already returned since the reset
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, path: str, dtype, width: int = 1) -> np.ndarray:
        """The harness array at `path` below tb_top (e.g. "u_mem.mem") as (elements, width) of
        dtype, or flat when width is 1; a view: writing it writes the model."""
        key = f"{path}/{np.dtype(dtype).str}/{width}"
        if key not in self._arrays:
            scope, _, name = f"{SCOPE}.{path}".rpartition(".")
            a = shared_array(scope, name).view(dtype)
            self._arrays[key] = a if width == 1 else a.reshape(-1, width)
        return self._arrays[key]

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
        d.ext_mem_en.value = int(ext_mem)
        d.mem_seed.value = seed & 0xFFFFFFFF
        d.mem_stall_en.value = int(stall)
        d.mem_reorder_en.value = int(reorder)
        (mutation or Mutation()).drive(d)
        d.mem_load.value = 0
        d.watchdog_limit.value = watchdog
        d.tap_clear.value = 1
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
        prog = self.array("u_apb.prog", np.uint64)
        for i in range(0, len(writes), APB_PROG_DEPTH):
            chunk = np.array(writes[i:i + APB_PROG_DEPTH], dtype=np.uint64).reshape(-1, 2)
            prog[:len(chunk)] = (chunk[:, 0] << np.uint64(32)) | chunk[:, 1]
            self.dut.apb_len.value = len(chunk)
            await self._apb_go(True)

    async def apb_log(self) -> list[tuple[int, bool, int, int]]:
        """The accesses the master made since the last call or reset, (cycle, write, addr, data)
        each, up to the log's depth; cycle is the harness counter's low 32 bits."""
        n = min(_u(self.dut.alog_count), APB_LOG_DEPTH)
        if n <= self._alog_read:
            return []
        # entry: [127:96] write, [95:64] address, [63:32] data, [31:0] cycle
        log = self.array("u_apb.log_q", np.uint32, 4)[self._alog_read:n].tolist()
        self._alog_read = n
        return [(cycle, bool(write), addr, data) for cycle, data, addr, write in log]

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

    # ---------------- fast memory, taps, write log ----------------
    async def pulse(self, signal) -> None:
        signal.value = 1
        await RisingEdge(self.dut.clk)
        signal.value = 0
        await RisingEdge(self.dut.clk)

    def mem_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The fast memory in place: its page table (uint16) and its 64-bit words (uint64)."""
        return self.array("u_mem.page_map", np.uint16), self.array("u_mem.mem", np.uint64)

    async def mem_loaded(self) -> None:
        """After an image was written: the memory restarts its random sequence from the seed."""
        await self.pulse(self.dut.mem_load)

    def mem_fault(self) -> int | None:
        return _u(self.dut.mem_fault_addr) if _u(self.dut.mem_fault) else None

    def tap_count(self) -> int:
        return _u(self.dut.tap_count)

    def taps(self, name: str) -> np.ndarray:
        """A stage tap's atoms captured since reset (at most its depth), as 32-bit words (n, 8), lane 0 first."""
        return self.array(name, np.uint32, 8)[:self.tap_count()].copy()

    def reordered_reads(self) -> int:
        """Read bursts the fast memory served out of order or interleaved since reset."""
        return _u(self.dut.mem_reordered)

    def read_flip_addr(self) -> int | None:
        """Address of the read beat the read_flip fault corrupted, None if it has not fired."""
        return _u(self.dut.mut_read_flip_addr) if _u(self.dut.mut_read_flipped) else None

    def wlog_count(self) -> int:
        return _u(self.dut.wlog_count)

    def bus_counts(self) -> tuple[int, int]:
        """AW and W handshakes the write-bus monitor has seen since reset."""
        return _u(self.dut.bus_aw_count), _u(self.dut.bus_w_count)

    def bus_log(self, name: str, first: int, last: int) -> np.ndarray:
        """Entries [first, last) of the write-bus monitor's "aw_log" or "w_log", as 32-bit words (n, 4), lowest first."""
        return self.array(f"u_wr_mon.{name}", np.uint32, 4)[first:last].copy()

    def wlog(self, n: int, first: int = 0) -> np.ndarray:
        """Entries [first, n) of the write log as 32-bit words, lowest first (n - first, 4)."""
        return self.array("wlog", np.uint32, 4)[first:n].copy()
