"""Fault injections for the checker's mutation tests: each makes the harness (tb/hdl) or the
testbench misbehave in one way, never the checker, so a test can prove the checker reports it.

A mutation is named `kind` or `kind:index` (TB_MUTATE; docs/verification-stress.md):

- flip_byte      after the first layer, one output byte is flipped in memory (also TB_FLIP=1)
- late_write     the first output beat lands in memory only after the interrupt (fast memory)
- drop_write:N   write beat N (from 0) is acknowledged but never lands (either memory)
- read_flip:N    read beat N returns its data XOR 0x55 in every byte (fast memory)
- no_intr        the interrupt line never reaches the testbench
- x1_tap:N       the X1 stage tap of atom N is captured with lane 0's bit 0 flipped
- sat_count      APB reads of SDP.D_PERF_OUT_SATURATION return bit 0 flipped
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from nvdla_int8.errors import InputError
from nvdla_int8.hw.regmap import REGMAP

_SAT = REGMAP.reg("SDP", "D_PERF_OUT_SATURATION")
KINDS = ("flip_byte", "late_write", "drop_write", "read_flip", "no_intr", "x1_tap", "sat_count")
SV_MEMORY_ONLY = ("late_write", "read_flip")
_HARNESS_PINS = {"late_write": "mut_late_write", "drop_write": "mut_drop_write", "read_flip": "mut_read_flip",
                 "no_intr": "mut_no_intr", "x1_tap": "mut_x1_tap", "sat_count": "mut_apb_read"}


@dataclass(frozen=True)
class Mutation:
    kind: str = ""  # "" = none
    index: int = 0

    @classmethod
    def parse(cls, text: str, where: str = "TB_MUTATE") -> "Mutation":
        """'' / 'none' -> no mutation; 'drop_write:3' -> Mutation('drop_write', 3).

        >>> Mutation.parse("x1_tap:2")
        Mutation(kind='x1_tap', index=2)
        """
        text = text.strip()
        if text in ("", "none"):
            return cls()
        kind, _, idx = text.partition(":")
        if kind not in KINDS:
            raise InputError(f"unknown mutation {kind!r} (use one of {', '.join(KINDS)})", where=where)
        try:
            index = int(idx, 0) if idx else 0
        except ValueError:
            raise InputError(f"mutation {text!r}: index {idx!r} is not an integer", where=where) from None
        return cls(kind, index)

    def __bool__(self) -> bool:
        return bool(self.kind)

    def drive(self, dut) -> None:
        """Set the harness's mut_* inputs for this mutation (all others off)."""
        for kind, pin in _HARNESS_PINS.items():
            getattr(dut, pin).value = int(self.kind == kind)
        dut.mut_index.value = self.index & 0xFFFFFFFF
        dut.mut_apb_addr.value = _SAT.address if self.kind == "sat_count" else 0


def parse_mutations(text: str) -> tuple[list[Mutation], bool]:
    """TB_MUTATE: one fault for every trace, or a JSON list with one per trace (missing = none).
    Returns (mutations, True when the single one applies to every trace).

    >>> parse_mutations('["", "no_intr"]')
    ([Mutation(kind='', index=0), Mutation(kind='no_intr', index=0)], False)
    """
    text = text.strip()
    if not text.startswith("["):
        return ([Mutation.parse(text)] if text else []), True
    try:
        items = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not a JSON list of fault names: {e}", where="TB_MUTATE") from None
    if not all(isinstance(t, str) for t in items):
        raise InputError("a JSON list must hold fault names (strings)", where="TB_MUTATE")
    return [Mutation.parse(t, f"TB_MUTATE[{i}]") for i, t in enumerate(items)], False
