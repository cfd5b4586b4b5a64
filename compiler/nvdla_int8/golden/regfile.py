"""Register state of nv_small as the CSB sees it (shared/spec/registers.md §3, §5).

Every unit but GLB has single `S_*` registers and two groups of double-buffered `D_*` registers.
`S_POINTER.PRODUCER` picks the group CSB accesses reach; `CONSUMER` is the group the datapath
runs. Writing 1 to `D_OP_ENABLE.OP_EN` arms the producer group; writes to an armed group's `D_*`
registers are dropped, as in NVDLA's register files. RO fields ignore writes; their values
(status, pointers, result counters) are produced here or by the machine.
"""
from __future__ import annotations

from ..errors import InputError
from ..hw.regmap import REGMAP, Register, Unit

GLB = "GLB"
STATUS_IDLE, STATUS_RUNNING, STATUS_PENDING = 0, 1, 2


_BY_ADDRESS = {r.address: r for r in REGMAP}
_FIELD_AT: dict[tuple[str, str, str], tuple[int, int]] = {}  # (unit, reg, field) -> (lsb, mask): decode runs per pass
_RESET_WORDS: dict[str, tuple[dict[str, int], dict[str, int]]] = {}


def _reset_words(unit: Unit) -> tuple[dict[str, int], dict[str, int]]:
    """(single, one group) register name -> reset word, built once per unit: a machine is made
    per hardware pass, so this is on the per-pass path."""
    words = _RESET_WORDS.get(unit.name)
    if words is None:
        words = _RESET_WORDS[unit.name] = (
            {r.name: r.reset for r in unit.registers if not r.double_buffered},
            {r.name: r.reset for r in unit.registers if r.double_buffered})
    return words


class UnitRegs:
    """One unit's S_ registers and its two D_ groups, as 32-bit words keyed by register name."""

    def __init__(self, unit: Unit):
        self.unit = unit
        single, group = _reset_words(unit)
        self.single = dict(single)
        self.groups = [dict(group), dict(group)]
        self.producer = 0
        self.consumer = 0
        self.op_en = [False, False]

    def status_word(self) -> int:
        def one(g: int) -> int:
            if not self.op_en[g]:
                return STATUS_IDLE
            return STATUS_RUNNING if g == self.consumer else STATUS_PENDING
        return one(0) | (one(1) << 16)

    def consumer_value(self, name: str) -> int:
        return self.groups[self.consumer][name]

    def consumer_field(self, reg: str, field: str) -> int:
        key = (self.unit.name, reg, field)
        at = _FIELD_AT.get(key)
        if at is None:
            f = self.unit.by_name[reg].field(field)
            at = _FIELD_AT[key] = (f.lsb, (1 << f.width) - 1)
        return (self.groups[self.consumer][reg] >> at[0]) & at[1]


class RegisterFile:
    """All units' registers plus GLB interrupt state. Addresses are CSB byte addresses."""

    def __init__(self) -> None:
        self.units = {u.name: UnitRegs(u) for u in REGMAP.units if u.name != GLB}
        glb = REGMAP.unit(GLB)
        self.intr_mask = glb.by_name["S_INTR_MASK"].reset
        self.intr_status = glb.by_name["S_INTR_STATUS"].reset
        self._hw_version = glb.by_name["S_NVDLA_HW_VERSION"].reset

    def __getitem__(self, unit: str) -> UnitRegs:
        return self.units[unit]

    @staticmethod
    def lookup(addr: int) -> Register:
        reg = REGMAP.at(addr)
        if reg is None:
            raise InputError(f"CSB address {addr:#06x} is not a register of the nv_small conv/SDP units "
                             "(GLB, CDMA, CSC, CMAC_A/B, CACC, SDP_RDMA, SDP); PDP, CDP, BDMA and RUBIK are "
                             "out of scope")
        return reg

    @property
    def irq(self) -> bool:
        return bool(self.intr_status & ~self.intr_mask & 0xFFFFFFFF)

    def write(self, addr: int, value: int) -> Register:
        """CSB write. Returns the register written, so the caller can react to OP_EN."""
        reg = _BY_ADDRESS.get(addr) or self.lookup(addr)
        value &= 0xFFFFFFFF
        if reg.double_buffered and reg.name != "D_OP_ENABLE":  # most writes: one dict update
            u = self.units[reg.unit]
            if not u.op_en[u.producer]:  # an armed group's registers are locked
                g = u.groups[u.producer]
                mask = reg.writable_mask
                g[reg.name] = (g[reg.name] & ~mask) | (value & mask)
            return reg
        if reg.unit == GLB:
            if reg.name == "S_INTR_MASK":
                self.intr_mask = value & reg.writable_mask
            elif reg.name == "S_INTR_SET":
                self.intr_status |= value & reg.fields_mask
            elif reg.name == "S_INTR_STATUS":
                self.intr_status &= ~(value & reg.fields_mask)
            return reg
        u = self.units[reg.unit]
        if reg.name == "S_POINTER":
            u.producer = reg.field("PRODUCER").get(value)
        elif reg.name == "D_OP_ENABLE":
            if value & 1:
                u.op_en[u.producer] = True
        else:
            u.single[reg.name] = (u.single[reg.name] & ~reg.writable_mask) | (value & reg.writable_mask)
        return reg

    def read(self, addr: int) -> int:
        reg = self.lookup(addr)
        if reg.unit == GLB:
            return {"S_NVDLA_HW_VERSION": self._hw_version, "S_INTR_MASK": self.intr_mask,
                    "S_INTR_STATUS": self.intr_status}.get(reg.name, 0)  # S_INTR_SET is write-only
        u = self.units[reg.unit]
        if reg.name == "S_STATUS":
            return u.status_word()
        if reg.name == "S_POINTER":
            return u.producer | (u.consumer << 16)
        if reg.name == "S_CBUF_FLUSH_STATUS":
            return 1  # the post-reset CBUF flush of a model is instantaneous
        if reg.name == "D_OP_ENABLE":
            return int(u.op_en[u.producer])
        if reg.double_buffered:
            return u.groups[u.producer][reg.name]
        return u.single[reg.name]

    def set_result(self, unit: str, group: int, reg: str, value: int) -> None:
        """Load an RO result register (e.g. a saturation counter) of one group."""
        self.units[unit].groups[group][reg] = min(value, 0xFFFFFFFF)

    def finish(self, unit: str) -> int:
        """The unit finished its consumer group: clear OP_EN, flip CONSUMER. Returns that group."""
        u = self.units[unit]
        g = u.consumer
        u.op_en[g] = False
        u.consumer ^= 1
        return g

