"""Run lowered programs on the golden model. A hardware layer is a `LayerImage`: the memory it
needs besides its input tensors (zeroed regions, weight/operand images), the register writes of
all its passes in order (register groups alternating, as the layer's trace plays them), and where
its input, per-element operand and output cubes live. The same object runs at compile time (for
the traces' CRCs) and in `CompiledNetwork`, on one memory image reused layer after layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..golden import GoldenMachine
from ..golden.machine import LayerResult
from ..hw.layouts import Surface
from ..hw.config import NV_SMALL
from ..hw.regmap import Register
from ..trace.memory import SparseMemory
from .passes import Program

ATOM = NV_SMALL.memory_atom


def with_group(reg: Register, value: int, group: int) -> int:
    """A pass is lowered for register group 0; in a layer's sequence pass i runs in group i % 2
    (a finished layer flips each unit's consumer group)."""
    return reg.field("PRODUCER").put(value, group) if reg.name == "S_POINTER" else value


@dataclass
class LayerImage:
    name: str
    fills: list[tuple[int, int]]  # (base, size) zeroed
    loads: list[tuple[int, np.ndarray]]  # (base, uint8 bytes): weights, operands
    writes: list[tuple[int, int]]  # (CSB address, value) of every pass, in order
    passes: int
    input: tuple[Surface, tuple]
    output: tuple[Surface, tuple]
    residual: tuple[Surface, tuple] | None = None

    @property
    def output_region(self) -> tuple[int, int]:
        surf, shape = self.output
        lo, hi = surf.footprint(*shape)
        return lo, hi - lo


def layer_image(progs: list[Program]) -> LayerImage:
    """The layer whose passes are `progs` (they share one memory image: progs[0]'s)."""
    p0 = progs[0]
    writes = []
    for i, p in enumerate(progs):
        writes += [(r.address, with_group(r, v, i % 2)) for r, v in p.writes]
    return LayerImage(p0.name, [(b, s) for b, s, _ in p0.regions],
                      [(b, np.frombuffer(d, dtype=np.uint8)) for b, d in p0.images], writes, len(progs),
                      (p0.input_surface, tuple(p0.input_shape)), (p0.output_surface, tuple(p0.output_shape)),
                      (p0.residual_surface, tuple(p0.output_shape)) if p0.residual_surface is not None else None)


def run_layer(li: LayerImage, mem: SparseMemory, x: np.ndarray, r: np.ndarray | None = None,
              keep_stages: bool = False) -> tuple[np.ndarray, GoldenMachine]:
    """Set up `mem` as the layer's trace does (regions zeroed, images loaded, input cube x and
    per-element operand cube r stored), play every pass, return the whole output cube."""
    for base, size in li.fills:
        mem.fill(base, size, 0)
    for base, data in li.loads:
        mem.write(base, data)
    surf, shape = li.input
    if x.shape != shape:
        raise ValueError(f"{li.name}: input shape {x.shape} != {shape}")
    surf.write_cube(mem, x.view(np.uint8))  # lanes past C stay as the fills left them: zero
    if li.residual is not None:
        if r is None or r.shape != li.residual[1]:
            raise ValueError(f"{li.name}: residual cube {None if r is None else r.shape} != {li.residual[1]}")
        li.residual[0].write_cube(mem, r.view(np.uint8))
    m = GoldenMachine(mem, keep_stages=keep_stages)
    for addr, value in li.writes:
        m.write_reg(addr, value)
    if len(m.layers) != li.passes:
        raise RuntimeError(f"{li.name}: the golden model ran {len(m.layers)} of {li.passes} passes")
    surf, shape = li.output
    return surf.read_cube(mem, *shape).view(np.int8), m


def window_slices(window: dict, out_shape) -> tuple[slice, slice, slice]:
    """The (kernels, rows, columns) of the layer's output cube a pass writes."""
    return (slice(window["k0"], window["k1"]), slice(window["y0"], window["y1"]),
            slice(window.get("x0", 0), window.get("x1", out_shape[2])))


def run_golden(prog: Program, x: np.ndarray, r: np.ndarray | None = None
               ) -> tuple[np.ndarray, LayerResult, SparseMemory]:
    """One pass alone on a fresh memory image: its output window, layer result and the memory."""
    mem = SparseMemory()
    out, m = run_layer(layer_image([prog]), mem, x, r, keep_stages=True)
    return out[window_slices(prog.window, prog.output_shape)], m.layers[-1], mem
