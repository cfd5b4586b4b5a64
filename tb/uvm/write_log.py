"""The write checks: every output atom of a layer is written before the SDP done pulse that ends
the layer, and none after it.

The harness (tb/hdl/tb_top.sv) logs, in cycle order, every write the fast memory committed and
every SDP done pulse. Done pulses are matched to the golden model's layers in order (the SDP runs
one layer at a time, in the order their groups were enabled); a write to a layer's output atoms
in a later cycle than that layer's done pulse is a late write: software would have read the output
before it was complete. An output atom never written by its done pulse is a missing write (a
dropped beat, even one whose stale memory happened to hold the right value).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WRITE, DONE = 1, 2
WlogDepth = 1 << 18  # tb_top's WlogDepth


@dataclass
class WriteLog:
    kind: np.ndarray   # WRITE or DONE
    group: np.ndarray  # SDP register group of a DONE
    addr: np.ndarray   # byte address of a WRITE's 8-byte beat
    cycle: np.ndarray

    @classmethod
    def from_words(cls, words: np.ndarray) -> "WriteLog":
        """The harness's 128-bit entries as 32-bit words, lowest first (n, 4): [127:96] kind << 4 |
        group, [95:64] address, [63:0] cycle.

        >>> log = WriteLog.from_words(np.array([[7, 0, 0x90000000, 0x10], [9, 0, 0, 0x21]], dtype=np.uint32))
        >>> log.kind.tolist(), log.group.tolist(), hex(int(log.addr[0])), log.cycle.tolist()
        ([1, 2], [0, 1], '0x90000000', [7, 9])
        """
        raw = np.asarray(words, dtype=np.int64).reshape(-1, 4)
        cycle = (raw[:, 1] << 32) | raw[:, 0]
        return cls(raw[:, 3] >> 4, raw[:, 3] & 0xF, raw[:, 2], cycle)

    def with_writes(self, writes: list[tuple[int, int]]) -> "WriteLog":
        """This log plus writes (cycle, address) logged elsewhere, in cycle order; a write in the
        same cycle as a done pulse goes first (it is not late).

        >>> log = WriteLog.from_words(np.array([[9, 0, 0, 0x20]])).with_writes([(12, 0x98), (3, 0x90)])
        >>> log.kind.tolist(), log.addr.tolist(), log.cycle.tolist()
        ([1, 2, 1], [144, 0, 152], [3, 9, 12])
        """
        if not writes:
            return self
        w = np.array(writes, dtype=np.int64).reshape(-1, 2)
        kind = np.concatenate([self.kind, np.full(len(w), WRITE)])
        group = np.concatenate([self.group, np.zeros(len(w), dtype=np.int64)])
        addr = np.concatenate([self.addr, w[:, 1] & ~7])
        cycle = np.concatenate([self.cycle, w[:, 0]])
        order = np.lexsort((kind, cycle))
        return WriteLog(kind[order], group[order], addr[order], cycle[order])


def write_faults(log: WriteLog, layers) -> list[str]:
    """One message per layer with output writes after its done pulse, one per layer with output
    atoms not written by then. `layers`: the golden model's LayerResults, in the order they ran.

    Layer i owns the writes to its output atoms between done pulse i-1 and done pulse i (the
    SDP runs one layer at a time), so a later layer may rewrite an earlier one's buffer."""
    done = np.flatnonzero(log.kind == DONE)
    writes = log.kind == WRITE
    n = min(len(layers), len(done))
    atoms = [np.unique(np.asarray(layer.output_addresses(), dtype=np.int64) & ~7) for layer in layers[:n]]
    bounds = [-1] + [int(log.cycle[d]) for d in done[:n]]
    owned = [writes & np.isin(log.addr, atoms[i]) & (log.cycle > bounds[i]) & (log.cycle <= bounds[i + 1])
             for i in range(n)]
    out = []
    for i in range(n):
        done_cycle = bounds[i + 1]
        missing = np.setdiff1d(atoms[i], log.addr[owned[i]])
        if missing.size:
            out.append(f"layer {i}: missing write: {missing.size} of {atoms[i].size} output atoms not written "
                       f"by the layer's done pulse (cycle {done_cycle}), first {int(missing[0]):#010x}")
        late = writes & np.isin(log.addr, atoms[i]) & (log.cycle > done_cycle)
        for j in range(i + 1, n):
            late &= ~owned[j]
        if late.any():
            first = int(np.flatnonzero(late)[0])
            out.append(f"layer {i}: late write: output atom {int(log.addr[first]):#010x} landed in cycle "
                       f"{int(log.cycle[first])}, {int(log.cycle[first]) - done_cycle} cycles after the layer's "
                       f"done pulse (SDP group {int(log.group[done[i]])}, cycle {done_cycle}); "
                       f"{int(late.sum())} late beats")
    return out
