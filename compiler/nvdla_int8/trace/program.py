"""A register program: ordered CSB writes plus the start sequence, printable as trace commands.

The shape every producer (compiler, random generator, tests) builds and every consumer (golden
model, RTL testbench, trace writer) takes. Field values are set by name through the register map,
so no producer re-types an offset or a bit position.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..hw.regmap import REGMAP, Register
from .cfg import Command, Name

# Consumers before producers, as NVDLA's traces enable them (registers.md §4).
CONV_ENABLE_ORDER = ("SDP", "CACC", "CMAC_A", "CMAC_B", "CSC", "CDMA")
SDP_ENABLE_ORDER = ("SDP", "SDP_RDMA")


@dataclass
class RegisterProgram:
    """Ordered register writes; `set` keeps the first position of a register and updates its value."""

    writes: list[tuple[Register, int]] = field(default_factory=list)

    def set(self, unit: str, reg: str, value: int | None = None, **fields: int) -> "RegisterProgram":
        """Write `value`, or the register's reset value with the named fields replaced."""
        r = REGMAP.reg(unit, reg)
        word = value if value is not None else r.encode(**fields)
        for i, (old, _) in enumerate(self.writes):
            if old is r:
                self.writes[i] = (r, word)
                break
        else:
            self.writes.append((r, word))
        return self

    def value(self, unit: str, reg: str) -> int:
        r = REGMAP.reg(unit, reg)
        for old, v in self.writes:
            if old is r:
                return v
        return r.reset

    def commands(self) -> list[Command]:
        return [Command("reg_write", (r, v)) for r, v in self.writes]


def enable_commands(units: tuple[str, ...]) -> list[Command]:
    return [Command("reg_write", (REGMAP.reg(u, "D_OP_ENABLE"), 1)) for u in units]


def layer_commands(program: RegisterProgram, conv: bool, group: int = 0, sync: str = "sync_id_0",
                   check: tuple[int, int, int] | None = None) -> list[Command]:
    """The whole register part of a one-layer trace: pointers, writes, flush poll, enables,
    interrupt wait and an optional check_crc (base, size, crc)."""
    units = CONV_ENABLE_ORDER if conv else SDP_ENABLE_ORDER
    cmds = [Command("reg_write", (REGMAP.reg(u, "S_POINTER"), group)) for u in units]
    cmds += program.commands()
    if conv:
        cmds.append(Command("poll_reg_equal", (REGMAP.reg("CDMA", "S_CBUF_FLUSH_STATUS"), 1)))
    cmds += enable_commands(units)
    cmds.append(Command("intr_notify", (Name(f"SDP_{group}"), Name(sync))))
    if check is not None:
        base, size, crc = check
        cmds.append(Command("check_crc", (Name(sync), Name("pri_mem"), base, size, crc)))
    return cmds
