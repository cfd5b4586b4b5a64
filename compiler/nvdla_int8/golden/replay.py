"""Replay an NVDLA trace on the golden model (trace-format.md §5).

Commands run in file order: memory commands build the image, register commands go to the
machine (a layer runs when its last OP_EN is written), `intr_notify` consumes a raised GLB status
bit and clears it like NVDLA's testbench does, and each `check_*` compares once its sync id has
fired. The trace passes when every check passed, every expected interrupt arrived and no unmasked
interrupt is left unclaimed at the end.
"""
from __future__ import annotations

import time
from pathlib import Path

from ..conformance import FAIL, PASS, TraceOutcome
from ..errors import InputError
from ..hw.regmap import REGMAP
from ..trace.cfg import Command
from ..trace.trace import Trace, apply_memory_command, file_mismatch
from .machine import GoldenMachine

_STATUS = REGMAP.reg("GLB", "S_INTR_STATUS")
_MASK = REGMAP.reg("GLB", "S_INTR_MASK")


def intr_bit(intr_id: str, where: str) -> int:
    """`SDP_0` -> mask of GLB status bit (SDP_DONE_STATUS0); registers.md §5."""
    block, _, group = intr_id.rpartition("_")
    try:
        return _STATUS.field(f"{block}_DONE_STATUS{int(group)}").mask
    except (KeyError, ValueError):
        raise InputError(f"unknown interrupt id {intr_id!r} (e.g. SDP_0, CACC_1, CDMA_DAT_0, CDMA_WT_0)",
                         where=where) from None


class GoldenPlayer:
    """Plays one trace on a GoldenMachine and collects check results."""

    def __init__(self, trace: Trace, machine: GoldenMachine | None = None):
        self.trace = trace
        self.m = machine or GoldenMachine()
        self.fired: set[str] = set()
        self.failures: list[str] = []
        self.crcs: list[tuple[int, int]] = []  # (expected, computed) per check_crc

    def fail(self, c: Command, msg: str) -> None:
        self.failures.append(f"{self.trace.where(c)}: {msg}")

    def run(self) -> None:
        for c in self.trace.commands:
            getattr(self, f"_{c.op}", self._ignore)(c)
        pending = self.m.intr_status & ~self.m.regs.intr_mask & _STATUS.fields_mask
        if pending:
            self.failures.append(f"{self.trace.source}: unclaimed unmasked interrupt status {pending:#x} at the end")

    # memory
    def _mem_init(self, c: Command) -> None:
        apply_memory_command(self.trace, c, self.m.memory)

    _mem_load = _mem_init

    # registers
    def _reg_write(self, c: Command) -> None:
        reg, value = c.args
        try:
            self.m.write_reg(reg.address, value)
        except InputError as e:
            raise InputError(str(e), where=self.trace.where(c)) from None

    def _reg_read_check(self, c: Command) -> None:
        reg, expected = c.args
        got = self.m.read_reg(reg.address)
        if got != expected:
            self.fail(c, f"{reg.trace_name} read {got:#x}, expected {expected:#x}")

    def _poll_reg_equal(self, c: Command) -> None:
        reg, expected = c.args
        got = self.m.read_reg(reg.address)
        if got != expected:  # an untimed model never changes a register between two reads
            self.fail(c, f"poll of {reg.trace_name} would never end: reads {got:#x}, waits for {expected:#x}")

    # interrupts and checks
    def _intr_notify(self, c: Command) -> None:
        unmasked = self.m.intr_status & ~self.m.regs.intr_mask
        if len(c.args) == 2:
            bit = intr_bit(str(c.args[0]), self.trace.where(c))
            sync = str(c.args[1])
        else:  # no id: the lowest pending unmasked interrupt
            bit = unmasked & -unmasked
            sync = str(c.args[0])
        if not bit or not (self.m.intr_status & bit):
            why = f": {'; '.join(self.m.stalls)}" if self.m.stalls else ""
            self.fail(c, f"interrupt {c.args[0] if len(c.args) == 2 else '(any)'} never arrived{why}")
            return
        self.m.write_reg(_STATUS.address, bit)  # the testbench clears what it claimed (W1C)
        self.fired.add(sync)

    def _awaited(self, c: Command) -> bool:
        if str(c.args[0]) not in self.fired:
            self.fail(c, f"{c.op} waits for {c.args[0]}, which never fired")
            return False
        return True

    def _check_crc(self, c: Command) -> None:
        if not self._awaited(c):
            self.crcs.append((c.args[4], -1))
            return
        _, _, base, size, expected = c.args
        got = self.m.memory.crc32(base, size)
        self.crcs.append((expected, got))
        if got != expected:
            self.fail(c, f"CRC of [{base:#x}, +{size:#x}) is {got:#010x}, expected {expected:#010x}")

    def _check_file(self, c: Command) -> None:
        if not self._awaited(c):
            return
        _, _, base, size, fname = c.args
        msg = file_mismatch(str(fname), base, self.m.memory.read(base, size), self.trace.file_image(str(fname), size))
        if msg:
            self.fail(c, msg)

    def _check_nothing(self, c: Command) -> None:
        self._awaited(c)

    def _ignore(self, c: Command) -> None:
        """reg_read, sync_notify/wait, mem_reserve/release: no effect on an untimed model."""


def replay_trace(trace: Trace) -> tuple[TraceOutcome, GoldenPlayer]:
    t0 = time.perf_counter()
    player = GoldenPlayer(trace)
    try:
        player.run()
    except InputError as e:
        player.failures.append(str(e))
    seconds = time.perf_counter() - t0
    exp = got = None
    if player.crcs:
        bad = [x for x in player.crcs if x[0] != x[1]]
        e, g = (bad or player.crcs)[-1 if not bad else 0]
        exp, got = f"{e:#010x}", (f"{g:#010x}" if g >= 0 else None)
    status = FAIL if player.failures else PASS
    msg = player.failures[0] if player.failures else ""
    if len(player.failures) > 1:
        msg += f" (+{len(player.failures) - 1} more)"
    return TraceOutcome(trace.name, status, exp, got, seconds, message=msg,
                        nvdla_warning=nvdla_warning(player.m)), player


def nvdla_warning(m: GoldenMachine) -> str:
    """The machine's `nvdla_differs` as one line."""
    more = f" (+{len(m.nvdla_differs) - 1} more)" if len(m.nvdla_differs) > 1 else ""
    return m.nvdla_differs[0] + more if m.nvdla_differs else ""


def replay_traces(paths: list[Path]):
    """Yield one outcome per trace file (the golden backend of `nvdla-int8 replay`)."""
    for p in paths:
        t0 = time.perf_counter()
        try:
            trace = Trace.load(p)
        except InputError as e:
            yield TraceOutcome(p.stem, FAIL, None, None, time.perf_counter() - t0, message=str(e))
            continue
        outcome, _ = replay_trace(trace)
        yield outcome
