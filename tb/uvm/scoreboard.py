"""Scoreboard: compares the RTL with the golden model, beyond the trace's own CRC checks.

For each layer the golden model ran, the RTL's output cube (every lane of every atom) is read
from memory and compared element by element; the first difference is reported as
(channel, line, column) with both values. When the stage taps are available, the SDP input,
X1 and X2 atoms are compared too, in stream order, so a mismatch names the first stage at fault.
Pure functions over numpy arrays plus a small pyuvm component that collects the verdicts.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyuvm import uvm_component, uvm_tlm_analysis_fifo

from nvdla_int8.hw.config import NV_SMALL

from .bus_check import BusWriteCheck

ATOM = NV_SMALL.memory_atom


@dataclass
class Mismatch:
    stage: str
    channel: int
    line: int
    column: int
    rtl: int
    golden: int
    count: int  # elements that differ at this stage

    def __str__(self) -> str:
        return (f"{self.stage} differs at (channel {self.channel}, line {self.line}, column {self.column}): "
                f"RTL {self.rtl}, golden {self.golden} ({self.count} elements differ)")


def to_stream(cube: np.ndarray) -> np.ndarray:
    """(8*S, H, W) -> (S, H, W, 8): the order the SDP produces and writes atoms."""
    c, h, w = cube.shape
    return cube.reshape(c // ATOM, ATOM, h, w).transpose(0, 2, 3, 1)


def first_mismatch(stage: str, rtl: np.ndarray, golden: np.ndarray) -> Mismatch | None:
    """First differing element in stream order, both arrays shaped (8*S, H, W)."""
    r, g = to_stream(rtl), to_stream(golden)
    diff = r != g
    if not diff.any():
        return None
    s, y, x, lane = (int(v) for v in np.argwhere(diff)[0])
    return Mismatch(stage, s * ATOM + lane, y, x, int(r[s, y, x, lane]), int(g[s, y, x, lane]),
                    int(np.count_nonzero(diff)))


def tap_lanes(words: np.ndarray) -> np.ndarray:
    """The harness's 256-bit tap atoms as 32-bit words, lane 0 first (atoms, 8) -> signed lanes
    as int64.

    >>> tap_lanes(np.array([[5, 0, 0, 0, 0, 0, 0, 0xffffffff]], dtype=np.uint32)).tolist()
    [[5, 0, 0, 0, 0, 0, 0, -1]]
    """
    return np.ascontiguousarray(words, dtype=np.uint32).view(np.int32).reshape(-1, ATOM).astype(np.int64)


def taps_to_cube(atoms: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Tap atoms (atoms, 8) in stream order -> int64 cube (8*S, H, W)."""
    c, h, w = shape
    return atoms.reshape(c // ATOM, h, w, ATOM).transpose(0, 3, 1, 2).reshape(c, h, w)


class Scoreboard(uvm_component):
    """Collects per-trace verdicts (CRC and register checks, output and stage comparisons, the
    AXI write monitor's beats against the golden model as layers end) and, from the APB and
    interrupt monitors, the cycles a trace took: from the first register write seen on the bus
    to the interrupt that ended its last layer."""

    def build_phase(self):
        self.failures: list[str] = []
        self.apb_fifo = uvm_tlm_analysis_fifo("apb_fifo", self)
        self.intr_fifo = uvm_tlm_analysis_fifo("intr_fifo", self)
        self.bus_fifo = uvm_tlm_analysis_fifo("bus_fifo", self)
        self.bus = BusWriteCheck([])

    def start_trace(self, golden_layers=()) -> None:
        self.failures = []
        self._drain(self.apb_fifo)
        self._drain(self.intr_fifo)
        self._drain(self.bus_fifo)
        self.bus = BusWriteCheck(list(golden_layers))

    def check_bus(self, last: bool = False) -> str:
        """Check the write beats the AXI monitor published since the last call (last: the trace
        is over, so beats no layer owns are failures too); returns why nothing could be checked."""
        for batch in self._drain(self.bus_fifo):
            for msg in self.bus.add(batch):
                self.fail(msg)
        if last:
            for msg in self.bus.finish():
                self.fail(msg)
        return self.bus.lost

    @staticmethod
    def _drain(fifo) -> list:
        items = []
        while True:
            ok, item = fifo.try_get()
            if not ok:
                return items
            items.append(item)

    def trace_cycles(self) -> int | None:
        writes = [i.cycle for i in self._drain(self.apb_fifo) if i.write]
        self.apb_writes = len(writes)  # register writes the APB monitor saw in this trace
        rises = self._drain(self.intr_fifo)
        if not writes:
            return None
        after = [c for c in rises if c >= writes[0]]
        return after[-1] - writes[0] if after else None

    def fail(self, message: str) -> None:
        self.failures.append(message)
        self.logger.error(message)

    def compare_output(self, layer_index: int, rtl: np.ndarray, golden: np.ndarray) -> Mismatch | None:
        m = first_mismatch("output", rtl.astype(np.int64), golden.astype(np.int64))
        if m:
            self.fail(f"layer {layer_index}: {m}")
        return m

    def compare_stages(self, layer_index: int, stages: dict[str, tuple[np.ndarray, np.ndarray]]) -> Mismatch | None:
        """stages: name -> (rtl, golden), in pipeline order; reports the first stage that differs."""
        for name, (rtl, golden) in stages.items():
            m = first_mismatch(name, rtl, golden)
            if m:
                self.fail(f"layer {layer_index}: first stage to differ: {m}")
                return m
        return None
