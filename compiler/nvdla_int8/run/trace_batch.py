"""`nvdla-int8 run` on a trace backend (the RTL): a batch of images through the network, one
simulation per hardware layer. For layer L every image becomes one trace (the compiled layer
trace, all its passes, with that image's input cube and its golden check_crc) replayed in ONE
backend call; the backend dumps each pass's output bytes, which are assembled into the cube the
host ops and layer L+1 read. A simulation costs a start-up plus well under a second per small
trace, so batching per layer (not per image) is what keeps `make sim` within minutes.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import backends
from ..errors import InputError
from ..fileio import write_atomic
from ..trace.cfg import Command, Quoted, format_cfg
from ..trace.dat import entries_from_array, format_dat
from ..trace.memory import SparseMemory
from .hostops import HostStep
from ..lower.program_run import window_slices
from ..lower.vectors import tensor_bases


@dataclass
class LayerRun:
    """What the RTL did on one hardware layer over the batch."""

    traces: int = 0
    passed: int = 0  # traces the testbench found bit-exact against the golden model of that trace
    cycles: list = field(default_factory=list)  # per image, summed over its passes
    failures: list = field(default_factory=list)  # first messages of failing traces


def _image_loads(trace, step: dict) -> dict[str, tuple[int, int, str]]:
    """{dat name: (base, size, role)} of the layer's per-image regions: the mem_loads at the bases
    of its input / residual surfaces and the mem_inits of the same bases (their sizes)."""
    per_image = tensor_bases(step)
    loads = {c.args[1]: str(c.args[2]) for c in trace.commands if c.op == "mem_load" and c.args[1] in per_image}
    found = {loads[c.args[1]]: (int(c.args[1]), int(c.args[2]), per_image[c.args[1]]) for c in trace.commands
             if c.op == "mem_init" and c.args[1] in loads}
    if "input" not in {role for _, _, role in found.values()}:
        raise InputError("the compiled trace loads nothing at its input surface", where=str(trace.source))
    return found


def image_trace(net, step: dict, xs: list[np.ndarray], name: str, folder: Path) -> tuple[Path, np.ndarray]:
    """Write hardware step `step` with input cubes xs (input [, per-element operand]) as trace
    `name` in folder, sharing the compiled trace's weight/operand .dat files (copied there once).
    Returns (cfg path, golden output cube)."""
    mem = SparseMemory()
    out = net.run_layer(step, xs, mem)
    trace = net.trace(step)
    per_image = _image_loads(trace, step)
    mine = {dat: f"{name}_{role}.dat" for dat, (_, _, role) in per_image.items()}
    cmds = []
    for c in trace.commands:
        if c.op == "mem_load" and str(c.args[2]) in mine:
            c = Command(c.op, c.args[:2] + (Quoted(mine[str(c.args[2])]),))
        elif c.op == "mem_load":
            src = net.folder / str(c.args[2])
            if not (folder / src.name).exists():
                write_atomic(folder / src.name, src.read_bytes())
        elif c.op == "check_crc":
            ob, osz = int(c.args[2]), int(c.args[3])
            c = Command(c.op, c.args[:4] + (mem.crc32(ob, osz),))
        cmds.append(c)
    # mem is after the golden run, whose passes write only the output region: the inputs are intact
    for dat, (base, size, _) in per_image.items():
        write_atomic(folder / mine[dat], format_dat(entries_from_array(mem.read(base, size))), encoding="ascii")
    cfg = folder / f"{name}.cfg"
    write_atomic(cfg, format_cfg(cmds, f"{name}: {trace.name} on one image, for nvdla-int8 run --backend rtl"),
                 encoding="ascii")
    return cfg, out


def run_batch(net, cubes: list[np.ndarray], work: Path, backend: str = "rtl", stall: bool = True, seed: int = 1,
              extra_env: dict | None = None) -> tuple[list[dict], dict[str, LayerRun]]:
    """Every tensor of every image with hardware layers on `backend` (one that dumps its outputs);
    and per layer what the backend did."""
    hw = backends.get(backend)
    if not hw.dumps_outputs:
        raise InputError(f"backend {backend!r} cannot hand back the output cubes a network run needs")

    work = Path(work).resolve()  # the simulator runs in its own directory
    vals = [{net.manifest["input"]["tensor"]: c} for c in cubes]
    runs: dict[str, LayerRun] = {}
    for step in net.manifest["steps"]:
        if step["kind"] != "hw":
            op = HostStep(step)
            for v in vals:
                v[step["output"]] = op(v)
            continue
        folder, dump = work / step["name"] / "traces", work / step["name"] / "out"
        for d in (folder, dump):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        jobs = []  # (image, trace name, cfg)
        tname = Path(step["trace"]["cfg"]).stem
        for i, v in enumerate(vals):
            name = f"{tname}_img{i:05d}"
            cfg, _ = image_trace(net, step, [v[t] for t in step["inputs"]], name, folder)
            jobs.append((i, name, cfg))
        lr = runs[step["name"]] = LayerRun(traces=len(jobs), cycles=[0] * len(vals))
        outcomes = {o.name: o for o in hw.replay([j[2] for j in jobs], dump_dir=dump, work_dir=work / backend,
                                                 stall=stall, seed=seed, extra_env=extra_env)}
        for i, v in enumerate(vals):
            v[step["output"]] = np.zeros(step["out_shape"], dtype=np.int8)
        for i, name, _ in jobs:
            o = outcomes.get(name)
            if o is not None and o.passed:
                lr.passed += 1
            elif len(lr.failures) < 3:
                lr.failures.append(f"{name}: {o.message if o else 'no outcome'}")
            if o is not None and o.cycles:
                lr.cycles[i] += o.cycles
            for j, p in enumerate(step["passes"]):
                ks, ys, xs = window_slices(p["window"], step["out_shape"])
                f = dump / f"{name}.out{j}.npy"
                if not f.is_file():  # the RTL never finished this pass: its window stays zero (and disagrees)
                    continue
                out = np.load(f, allow_pickle=False)  # the pass's cube; kernels may be padded past k1 - k0
                want = tuple(sl.stop - sl.start for sl in (ks, ys, xs))
                if out.ndim != 3 or out.shape[0] < want[0] or out.shape[1:] != want[1:]:
                    raise InputError(f"RTL output cube {out.shape} does not hold the pass window {want}", where=str(f))
                vals[i][step["output"]][ks, ys, xs] = out[:want[0]]
    return vals, runs
