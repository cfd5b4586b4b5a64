"""Edits of a loaded trace's register writes, for tests that turn a passing trace into the case
they need (a CVIF RAM type, weight bytes rounded past the weights)."""
from __future__ import annotations

from nvdla_int8.trace.cfg import Command
from nvdla_int8.trace.trace import Trace


def rewrite_writes(trace: Trace, register: str, new_value, first: int | None = None) -> int:
    """Give the `reg_write`s of `register` (its trace name, e.g. NVDLA_CDMA.D_WEIGHT_BYTES_0) the
    value `new_value(register, old)`; only the first `first` of them when given. Returns how many changed."""
    hit = 0
    for i, c in enumerate(trace.commands):
        if c.op == "reg_write" and c.args[0].trace_name == register and (first is None or hit < first):
            trace.commands[i] = Command("reg_write", (c.args[0], new_value(c.args[0], c.args[1])), c.line)
            hit += 1
    return hit


def pad_first_weight_bytes(trace: Trace, to: int = 128) -> int:
    """Round the first conv layer's D_WEIGHT_BYTES (CDMA and CSC copies) up to `to` bytes, as
    NVDLA's one-layer upstream traces do: legal alone, but the entries fetched past the weights
    shift the next conv layer's weights on NVDLA's RTL (docs/nvdla-rules.md §5). Returns the new value."""
    new = {}
    for unit in ("CDMA", "CSC"):
        assert rewrite_writes(trace, f"NVDLA_{unit}.D_WEIGHT_BYTES_0",
                              lambda _, v: new.setdefault("v", -(-v // to) * to), first=1) == 1
    return new["v"]
