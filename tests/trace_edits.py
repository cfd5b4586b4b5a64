"""Edits of a loaded trace's register writes, for tests that turn a passing trace into the case
they need (weight bytes rounded past the weights)."""
from __future__ import annotations

from nvdla_int8.trace.trace import Trace


def pad_first_weight_bytes(trace: Trace, to: int = 128) -> int:
    """Round the first conv layer's D_WEIGHT_BYTES (CDMA and CSC copies) up to `to` bytes, as
    NVDLA's one-layer upstream traces do: legal alone, but the entries fetched past the weights
    shift the next conv layer's weights on NVDLA's RTL (docs/nvdla-rules.md §5). Returns the new value."""
    new = {}
    for unit in ("CDMA", "CSC"):
        assert trace.rewrite_writes(f"NVDLA_{unit}.D_WEIGHT_BYTES_0",
                                    lambda _, v: new.setdefault("v", -(-v // to) * to), first=1) == 1
    return new["v"]
