"""The bus-level write check: every write beat the AXI monitor agent rebuilt from the DUT's write
port (tb/hdl/tb_axi_wr_monitor.sv, tb/uvm/agents.py AxiWriteMonitor) is compared, byte by byte
under its strobe, with the golden model's output of the layer that wrote it, as soon as that
layer's SDP done pulse has been seen: at each interrupt, not after the run.

Layer i owns the beats after done pulse i-1 up to done pulse i (the SDP writes one layer at a
time, in order). Every strobed byte must fall in the layer's output atoms (pad lanes included,
as the hardware writes them) and carry the golden value. What this adds to the memory read-back
of the scoreboard: it sees the bus, not the memory behind it, so a wrong byte later overwritten,
a stray write outside every output, or a memory model that hides a fault cannot pass it.
Pure numpy, no simulator.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class BusWrites:
    """Write beats seen on the bus since the monitor's last sample, and the SDP done pulses."""

    addr: np.ndarray   # (n,) byte address of each 8-byte beat
    data: np.ndarray   # (n, 8) uint8, byte lane k at address addr + k
    strb: np.ndarray   # (n, 8) bool
    cycle: np.ndarray  # (n,)
    dones: np.ndarray  # cycles of the SDP done pulses
    lost: str = ""     # the monitor's log overflowed: why nothing can be checked

    @classmethod
    def empty(cls) -> "BusWrites":
        z = np.zeros(0, dtype=np.int64)
        return cls(z, np.zeros((0, 8), np.uint8), np.zeros((0, 8), bool), z, z)


def _no_beats() -> list[np.ndarray]:
    return [np.zeros(0, np.int64), np.zeros((0, 8), np.uint8), np.zeros((0, 8), bool), np.zeros(0, np.int64)]


@dataclass
class BusWriteCheck:
    layers: list  # the golden model's LayerResults, in the order they ran
    _pending: list = field(default_factory=_no_beats)  # addr, data, strb, cycle of beats whose layer has not ended
    _dones: list = field(default_factory=list)
    _next: int = 0  # the next layer to end
    lost: str = ""  # the monitor could not keep every beat: nothing was checked

    def add(self, w: BusWrites) -> list[str]:
        """Take a sample; returns a message per layer ended since, whose beats are wrong."""
        if self.lost or w.lost:
            self.lost = self.lost or w.lost
            return []
        self._pending = [np.concatenate([p, x]) for p, x in zip(self._pending, (w.addr, w.data, w.strb, w.cycle))]
        self._dones += [int(c) for c in w.dones]
        out = []
        while self._next < min(len(self._dones), len(self.layers)):
            done = self._dones[self._next]
            mine = self._pending[3] <= done
            msg = self._check(self._next, mine, done)
            if msg:
                out.append(msg)
            self._pending = [p[~mine] for p in self._pending]
            self._next += 1
        return out

    def finish(self) -> list[str]:
        """After the last layer: beats no layer owns."""
        addr, _, _, cycle = self._pending
        if self.lost or self._next < len(self.layers) or not addr.size:
            return []
        return [f"bus: {addr.size} write beats after the last layer's done pulse (cycle {self._dones[-1]}), "
                f"first at {int(addr[0]):#010x} in cycle {int(cycle[0])}"]

    def _check(self, i: int, mine: np.ndarray, done: int) -> str | None:
        b_addr, b_data, b_strb, b_cycle = (p[mine] for p in self._pending)
        lanes = b_strb
        addr = (b_addr[:, None] + np.arange(8))[lanes]
        got = b_data[lanes]
        cycle = np.broadcast_to(b_cycle[:, None], lanes.shape)[lanes]
        layer = self.layers[i]
        want_addr = np.asarray(layer.output_addresses(), dtype=np.int64).ravel()
        want = np.asarray(layer.output).astype(np.int8).view(np.uint8).ravel()
        order = np.argsort(want_addr, kind="stable")
        want_addr, want = want_addr[order], want[order]
        at = np.minimum(np.searchsorted(want_addr, addr), max(want_addr.size - 1, 0))
        inside = want_addr.size > 0
        owned = (want_addr[at] == addr) if inside else np.zeros(addr.shape, bool)
        if not owned.all():
            k = int(np.flatnonzero(~owned)[0])
            return (f"layer {i}: bus: write at {int(addr[k]):#010x} in cycle {int(cycle[k])} is outside the "
                    f"layer's output ({int((~owned).sum())} bytes before its done pulse, cycle {done})")
        bad = got != want[at]
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            return (f"layer {i}: bus: write at {int(addr[k]):#010x} in cycle {int(cycle[k])} carries "
                    f"{int(got[k].astype(np.int8))}, golden {int(want[at[k]].astype(np.int8))} "
                    f"({int(bad.sum())} bytes differ)")
        return None
