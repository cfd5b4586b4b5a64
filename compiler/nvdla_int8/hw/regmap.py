"""The nv_small register map: units, CSB addresses, fields, enums, resets.

Loaded from nv_small_regs.json (generated from shared/spec/registers.md by
tools/regmap_from_spec.py). The golden model, the trace tools, the compiler, the RTL register
package (tools/gen_rtl_regpkg.py) and the testbench all read this table; nobody re-types an offset.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

_TABLE = Path(__file__).with_name("nv_small_regs.json")
_TRACE_NAME = re.compile(r"^NVDLA_(\w+?)\.(\w+)_0$")
# The legacy `.reg` copies spell SDP_RDMA registers NVDLA_SDP.RDMA_<REG>_0 (trace-format §1).
_LEGACY_RDMA = re.compile(r"^NVDLA_SDP\.RDMA_(\w+)_0$")


class FieldOverflow(ValueError):
    """A value too wide for its register field: a register program that cannot be encoded (a pad
    of 40 in 5 bits). Carries the field, and the register once `Register.encode` knows it, so the
    compiler can refuse it naming the layer and the field."""

    def __init__(self, field: "Field", value: int, register: "Register | None" = None):
        self.field, self.value, self.register = field, value, register
        where = f"{register.trace_name}.{field.name}" if register else field.name
        super().__init__(f"{where} = {value} does not fit its {field.width} bits "
                         f"(0..{(1 << field.width) - 1})")


@dataclass(frozen=True)
class Field:
    name: str
    msb: int
    lsb: int
    access: str  # "RW", "RO" or "WO"
    reset: int
    enums: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def width(self) -> int:
        return self.msb - self.lsb + 1

    @property
    def mask(self) -> int:
        """Mask of the field's bits in the register word."""
        return ((1 << self.width) - 1) << self.lsb

    def get(self, word: int) -> int:
        return (word >> self.lsb) & ((1 << self.width) - 1)

    def put(self, word: int, value: int) -> int:
        if not 0 <= value < (1 << self.width):
            raise FieldOverflow(self, value)
        return (word & ~self.mask) | (value << self.lsb)


@dataclass(frozen=True)
class Register:
    unit: str
    name: str
    offset: int
    address: int  # CSB byte address = unit base + offset
    reset: int
    klass: str  # classification of registers.md §2 (F, F=, K, C, X-*)
    double_buffered: bool
    fields: tuple[Field, ...]

    @property
    def trace_name(self) -> str:
        return f"NVDLA_{self.unit}.{self.name}_0"

    @cached_property
    def field_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        try:
            return self.field_by_name[name]
        except KeyError:
            raise KeyError(f"{self.unit}.{self.name} has no field {name}") from None

    @cached_property
    def writable_mask(self) -> int:
        """Bits a CSB write stores (RW fields). RO and WO bits are not stored."""
        m = 0
        for f in self.fields:
            if f.access == "RW":
                m |= f.mask
        return m

    @cached_property
    def fields_mask(self) -> int:
        """Bits that belong to some field (any access)."""
        m = 0
        for f in self.fields:
            m |= f.mask
        return m

    @cached_property
    def ro_mask(self) -> int:
        m = 0
        for f in self.fields:
            if f.access == "RO":
                m |= f.mask
        return m

    def decode(self, word: int) -> dict[str, int]:
        return {f.name: f.get(word) for f in self.fields}

    def encode(self, **values: int) -> int:
        """Build a register word from field values; unnamed fields keep their reset value."""
        word = self.reset
        for name, v in values.items():
            try:
                word = self.field(name).put(word, v)
            except FieldOverflow as e:
                raise FieldOverflow(e.field, v, self) from None
        return word


@dataclass(frozen=True)
class Unit:
    name: str
    base: int
    registers: tuple[Register, ...]

    @cached_property
    def by_name(self) -> dict[str, Register]:
        return {r.name: r for r in self.registers}

    @property
    def has_groups(self) -> bool:
        return any(r.double_buffered for r in self.registers)


class RegisterMap:
    """All units of the map, looked up by name, CSB address or trace spelling."""

    def __init__(self, units: tuple[Unit, ...], source: str):
        self.units = units
        self.source = source
        self._units = {u.name: u for u in units}
        self._by_address = {r.address: r for u in units for r in u.registers}

    @classmethod
    def load(cls, path: Path = _TABLE) -> "RegisterMap":
        table = json.loads(path.read_text(encoding="utf-8"))
        units = []
        for u in table["units"]:
            regs = tuple(
                Register(
                    unit=u["name"],
                    name=r["name"],
                    offset=r["offset"],
                    address=u["base"] + r["offset"],
                    reset=r["reset"],
                    klass=r["class"],
                    double_buffered=r["double_buffered"],
                    fields=tuple(Field(**f) for f in r["fields"]),
                )
                for r in u["registers"]
            )
            units.append(Unit(u["name"], u["base"], regs))
        return cls(tuple(units), table["source"])

    def unit(self, name: str) -> Unit:
        try:
            return self._units[name]
        except KeyError:
            raise KeyError(f"unknown NVDLA unit {name!r} (nv_small conv/SDP units: {', '.join(self._units)})") from None

    def reg(self, unit: str, name: str) -> Register:
        u = self.unit(unit)
        try:
            return u.by_name[name]
        except KeyError:
            raise KeyError(f"unit {unit} has no register {name}") from None

    def at(self, address: int) -> Register | None:
        """Register at a CSB byte address, or None."""
        return self._by_address.get(address)

    def from_trace_name(self, text: str) -> Register:
        """`NVDLA_SDP.D_CVT_SHIFT_0` -> Register. Raises KeyError with a reason."""
        m = _LEGACY_RDMA.match(text)
        if m:
            return self.reg("SDP_RDMA", m.group(1))
        m = _TRACE_NAME.match(text)
        if not m:
            raise KeyError(f"{text!r} is not a register name of the form NVDLA_<UNIT>.<REG>_0")
        return self.reg(m.group(1), m.group(2))

    def __iter__(self):
        for u in self.units:
            yield from u.registers


REGMAP = RegisterMap.load()
