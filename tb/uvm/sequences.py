"""The trace-player sequence: replays an NVDLA `.cfg` on the RTL (trace-format.md §5).

Memory commands have already built the image the memory agent loaded; register commands become
APB items; `intr_notify` waits for the interrupt (bounded by the harness watchdog), claims the
awaited GLB status bit and clears it as NVDLA's testbench does; `check_crc`/`check_file` read
the memory back and compare.
"""
from __future__ import annotations

import time
import zlib

import numpy as np
from pyuvm import uvm_sequence

from nvdla_int8.golden.replay import intr_bit
from nvdla_int8.hw.regmap import REGMAP
from nvdla_int8.trace.cfg import Command
from nvdla_int8.trace.trace import file_mismatch

from .agents import ApbItem, ApbWrites

_STATUS = REGMAP.reg("GLB", "S_INTR_STATUS")
_MASK = REGMAP.reg("GLB", "S_INTR_MASK")
POLL_LIMIT = 1000  # reads before a poll_reg_equal is declared stuck
READS_PER_ROUND = 4
# What a driver reads while a layer runs (TB_STATUS_READS): interrupt status, every unit's
# S_STATUS and every performance/status counter. Reads of these have no side effect.
STATUS_REGS = tuple([_STATUS.address] + [r.address for u in REGMAP.units for r in u.registers
                                         if r.name == "S_STATUS" or r.name.startswith(("D_PERF_", "D_STATUS"))])


class TracePlayerSeq(uvm_sequence):
    def __init__(self, name, trace, ctx):
        super().__init__(name)
        self.trace = trace
        self.ctx = ctx  # TraceRun: bfm, memory, config, failures, timing, hooks
        self.fired: set[str] = set()
        self.crcs: list[tuple[int, int]] = []

    async def reg(self, addr: int, write: bool, data: int = 0) -> int | None:
        item = ApbItem("apb", addr, write, data)
        await self.start_item(item)
        await self.finish_item(item)
        return item.rdata

    def fail(self, c: Command, msg: str) -> None:
        self.ctx.fail(f"{self.trace.where(c)}: {msg}")

    async def body(self):
        writes: list[tuple[int, int]] = []  # consecutive reg_writes go to the harness as one run
        for c in self.trace.commands:
            if c.op == "reg_write":
                reg, value = c.args
                writes.append((reg.address, value))
                continue
            if writes:
                await self.reg_writes(writes)
                writes = []
            handler = getattr(self, f"_{c.op}", None)
            if handler is not None:
                await handler(c)
            if self.ctx.aborted:
                return
        if writes:
            await self.reg_writes(writes)

    async def reg_writes(self, writes: list[tuple[int, int]]) -> None:
        item = ApbWrites("apb", writes)
        await self.start_item(item)
        await self.finish_item(item)

    async def _reg_read_check(self, c):
        reg, expected = c.args
        got = await self.reg(reg.address, False)
        if got != expected:
            self.fail(c, f"{reg.trace_name} read {got:#x}, expected {expected:#x}")

    async def _poll_reg_equal(self, c):
        reg, expected = c.args
        for _ in range(POLL_LIMIT):
            got = await self.reg(reg.address, False)
            if got == expected:
                return
        self.fail(c, f"poll of {reg.trace_name} stuck at {got:#x} after {POLL_LIMIT} reads, waits for {expected:#x}")
        self.ctx.aborted = True

    async def _intr_notify(self, c):
        cfg = self.ctx.config
        bit = intr_bit(str(c.args[0]), self.trace.where(c)) if len(c.args) == 2 else None
        sync = str(c.args[-1])
        while True:
            why = await self._wait(c)
            if why == "reset":
                return
            if why != "intr":
                reason = (f"no progress for {cfg.watchdog} cycles" if why == "watchdog"
                          else f"not done after {cfg.max_cycles} cycles")
                cause = f"; as on NVDLA: {'; '.join(self.ctx.stalls)}" if self.ctx.stalls else ""
                self.fail(c, f"hang: interrupt {c.args[0]} never arrived ({reason}, watchdog){cause}")
                self.ctx.aborted = True
                return
            status = await self.reg(_STATUS.address, False)
            mask = await self.reg(_MASK.address, False)
            pending = status & ~mask
            want = bit if bit is not None else pending & -pending
            if pending & want:
                await self.reg(_STATUS.address, True, want)  # W1C, as NVDLA's intr handler
                self.fired.add(sync)
                await self.ctx.after_layer()
                return
            self.fail(c, f"unexpected interrupt status {pending:#x} while waiting for {c.args[0]}")
            await self.reg(_STATUS.address, True, pending)

    async def _wait(self, c) -> str:
        """Wait for the interrupt: 'intr', 'watchdog', 'timeout', or 'reset' when TB_RESET_AT
        reset the DUT mid-layer. With TB_STATUS_READS, read status registers in the meantime."""
        bfm, cfg, ctx = self.ctx.bfm, self.ctx.config, self.ctx
        waited = 0
        while True:
            step = cfg.max_cycles - waited
            if cfg.status_reads:
                step = min(step, cfg.status_reads)
            if ctx.reset_pending:
                step = min(step, cfg.reset_at - waited)
            t0 = time.perf_counter()
            why = await bfm.wait_intr(step)
            ctx.wait_seconds += time.perf_counter() - t0
            waited += step
            if why != "timeout" or waited >= cfg.max_cycles:
                if why == "intr" and ctx.reset_pending:
                    self.fail(c, f"TB_RESET_AT={cfg.reset_at}: the layer ended before the reset; "
                                 "use a smaller value")
                    ctx.reset_pending = False
                return why
            if ctx.reset_pending and waited >= cfg.reset_at:
                await ctx.reset_mid_layer()
                return "reset"
            if cfg.status_reads:  # GLB status and the next three of the list, in rotation
                done = ctx.notes.get("status_reads", 0)
                for k in range(READS_PER_ROUND):
                    await self.reg(STATUS_REGS[0 if k == 0 else 1 + (done + k) % (len(STATUS_REGS) - 1)], False)
                ctx.notes["status_reads"] = done + READS_PER_ROUND

    def _awaited(self, c) -> bool:
        if str(c.args[0]) not in self.fired:
            self.fail(c, f"{c.op} waits for {c.args[0]}, which never fired")
            return False
        return True

    async def _check_crc(self, c):
        if not self._awaited(c):
            self.crcs.append((c.args[4], -1))
            return
        _, _, base, size, expected = c.args
        got = zlib.crc32(await self.ctx.memory.read(base, size)) & 0xFFFFFFFF
        self.crcs.append((expected, got))
        if got != expected:
            self.fail(c, f"CRC of [{base:#x}, +{size:#x}) is {got:#010x}, expected {expected:#010x}")

    async def _check_file(self, c):
        if not self._awaited(c):
            return
        _, _, base, size, fname = c.args
        got = np.frombuffer(await self.ctx.memory.read(base, size), dtype=np.uint8)
        msg = file_mismatch(str(fname), base, got, self.trace.file_image(str(fname), size))
        if msg:
            self.fail(c, msg)

    async def _check_nothing(self, c):
        self._awaited(c)
