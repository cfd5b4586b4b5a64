"""Run one lowered program on the golden model: build its memory image, play its writes, read
back the output window. The same memory image is what the trace's .dat files hold."""
from __future__ import annotations

import numpy as np

from ..golden import GoldenMachine
from ..golden.machine import LayerResult
from ..trace.memory import SparseMemory
from .passes import Program


def program_memory(prog: Program, x: np.ndarray, r: np.ndarray | None = None) -> SparseMemory:
    """Zeroed regions, weight/operand images, the int8 input cube x (C, H, W) and, for a pass
    with a per-element operand, that cube r (the output's shape)."""
    mem = SparseMemory()
    for base, size, _ in prog.regions:
        mem.fill(base, size, 0)
    for base, data in prog.images:
        mem.write(base, data)
    c, h, w = prog.input_shape
    if x.shape != (c, h, w):
        raise ValueError(f"{prog.name}: input shape {x.shape} != {(c, h, w)}")
    mem.scatter(prog.input_surface.addresses(c, h, w), x.astype(np.int8).view(np.uint8))
    if prog.residual_surface is not None:
        if r is None or r.shape != tuple(prog.output_shape):
            raise ValueError(f"{prog.name}: residual cube {None if r is None else r.shape} != {prog.output_shape}")
        mem.scatter(prog.residual_surface.addresses(*prog.output_shape), r.astype(np.int8).view(np.uint8))
    return mem


def window_slices(window: dict, out_shape) -> tuple[slice, slice, slice]:
    """The (kernels, rows, columns) of the layer's output cube a pass writes."""
    return (slice(window["k0"], window["k1"]), slice(window["y0"], window["y1"]),
            slice(window.get("x0", 0), window.get("x1", out_shape[2])))


def read_window(prog: Program, mem: SparseMemory) -> np.ndarray:
    """int8 output of this pass: (k1 - k0, y1 - y0, x1 - x0)."""
    ks, ys, xs = window_slices(prog.window, prog.output_shape)
    _, _, w = prog.output_shape
    addrs = prog.output_surface.addresses(ks.stop, ys.stop, w)[ks, ys, xs]
    return mem.gather(addrs).view(np.int8)


def run_golden(prog: Program, x: np.ndarray, r: np.ndarray | None = None
               ) -> tuple[np.ndarray, LayerResult, SparseMemory]:
    mem = program_memory(prog, x, r)
    m = GoldenMachine(mem)
    for reg, value in prog.writes:
        m.write_reg(reg.address, value)
    if not m.layers:
        raise RuntimeError(f"{prog.name}: the golden model did not run the layer (start sequence incomplete)")
    return read_window(prog, mem), m.layers[-1], mem
