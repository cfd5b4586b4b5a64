"""Compiled network -> regression vectors: one NVDLA trace (.cfg + .dat) per hardware layer, its
passes back to back (each programmed, started and awaited by its SDP interrupt in alternating
register groups), every memory image written once (the layer's input, weights, operands), and a
check_crc of the whole output cube after the last pass, from the golden model run on the vector
input; plus manifest.json describing the network (layers, passes, tensors, addresses, scales, host
ops, traces). Every file is written atomically; nothing depends on time or dict order, so the same
model, table, seed and input give byte-identical files.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import write_atomic
from ..hw.regmap import REGMAP, FieldOverflow
from ..trace.cfg import Command, Name, Quoted
from ..trace.dat import entries_from_array
from ..trace.trace import Trace
from ..run.hostops import run_host_op
from ..trace.memory import SparseMemory
from .program_run import LayerImage, layer_image, run_layer, window_slices, with_group
from ..graph.ir import ConvLayer, EltwiseAdd
from .legality import check_program, check_sdp_program, check_sequence
from .passes import Program, lower_add, lower_layer
from ..quantize.network import QNetwork, input_to_int8

MANIFEST = "manifest.json"
_POLL = REGMAP.reg("CDMA", "S_CBUF_FLUSH_STATUS")


def quantize_input_array(qnet: QNetwork, x: np.ndarray) -> np.ndarray:
    return input_to_int8(qnet.input.mode, qnet.input.scale, qnet.graph.input_shape, x)


def default_input(qnet: QNetwork, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = qnet.graph.input_shape
    if qnet.input.mode == "image":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return rng.normal(0, 127 * qnet.input.scale / 3, shape)


def layer_trace(progs: list[Program], x: np.ndarray, name: str, r: np.ndarray | None = None,
                tensor_files: dict[str, str] | None = None, dat_stem: str | None = None
                ) -> tuple[Trace, np.ndarray, LayerImage]:
    """The trace of one hardware layer (its passes `progs`) for input cube x (and per-element
    operand cube r), with its golden check_crc; also the whole output cube and the layer image.
    `tensor_files` names the .dat of the "input" / "residual" cube (a tensor's image is the same
    bytes wherever it is loaded: traces reading one tensor share one file); the layer's own images
    (weights, operands) go to `<dat_stem>_<what>.dat` (default stem: the trace's name)."""
    li = layer_image(progs)
    mem = SparseMemory()
    out, _ = run_layer(li, mem, x, r)
    base, size = li.output_region
    crc = mem.crc32(base, size)
    cmds: list[Command] = []
    dats = {}
    loads = {base_: data for base_, data in progs[0].images}
    pri = Name("pri_mem")
    for rbase, rsize, what in progs[0].regions:
        cmds.append(Command("mem_init", (pri, rbase, rsize, Name("ALL_ZERO"))))
        if what in ("input", "residual"):
            data = mem.read(rbase, rsize)
        elif rbase in loads:
            data = np.frombuffer(loads[rbase], dtype=np.uint8)
        else:
            continue
        fname = (tensor_files or {}).get(what) or f"{dat_stem or name}_{what.split()[0]}.dat"
        dats[fname] = entries_from_array(data)
        cmds.append(Command("mem_load", (pri, rbase, Quoted(fname))))
    for i, prog in enumerate(progs):
        g = i % 2
        cmds += [Command("reg_write", (r_, with_group(r_, v, g))) for r_, v in prog.config]
        cmds.append(Command("poll_reg_equal", (_POLL, _POLL.field("FLUSH_DONE").mask)))
        cmds += [Command("reg_write", (r_, v)) for r_, v in prog.start]
        sync = Name(f"sync_id_{i}")
        cmds.append(Command("intr_notify", (Name(f"SDP_{g}"), sync)))
        if i < len(progs) - 1:
            cmds.append(Command("check_nothing", (sync,)))
    cmds.append(Command("check_crc", (Name(f"sync_id_{len(progs) - 1}"), 1, base, size, crc)))
    return Trace(name, cmds, dats), out, li


def program_trace(prog: Program, x: np.ndarray, name: str, r: np.ndarray | None = None) -> tuple[Trace, np.ndarray]:
    """The trace of one pass alone, and its output window."""
    trace, out, _ = layer_trace([prog], x, name, r)
    return trace, out[window_slices(prog.window, prog.output_shape)]


def concat_slots(qnet: QNetwork) -> dict[str, tuple[int, int]]:
    """{tensor: (concat channels, first channel)} for the inputs of every Concat the producers can
    write in place: each input made by a hardware op, read by nothing else, at the Concat's scale,
    and starting on an 8-channel boundary. Other Concats stay host copies."""
    g = qnet.graph
    slots = {}
    for op in g.ops:
        if op.kind != "host" or op.op != "Concat" or len(set(op.inputs)) != len(op.inputs):
            continue
        producers = [g.producer(t) for t in op.inputs]
        firsts = np.cumsum([0] + [s[0] for s in op.in_shapes[:-1]])
        if all(p is not None and p.kind in ("conv", "add") and len(g.readers(t)) == 1 and t not in g.outputs
               and qnet.scales[t] == qnet.scales[op.output] for p, t in zip(producers, op.inputs)) \
                and all(f % 8 == 0 for f in firsts):
            slots.update({t: (int(op.out_shape[0]), int(f)) for t, f in zip(op.inputs, firsts)})
    return slots


def lower_op(qnet: QNetwork, op, out_slot: tuple[int, int] | None = None) -> list[Program]:
    """The checked passes of a hardware op (writing its output into `out_slot`, if given)."""
    q = qnet.layers[op.name]
    try:
        progs = lower_layer(q, out_slot=out_slot) if isinstance(op, ConvLayer) else lower_add(q, out_slot=out_slot)
    except FieldOverflow as e:  # a value no field can hold never reaches check_program: refuse it here
        raise InputError(f"layer {op.name!r}: illegal register program: {e}") from None
    for prog in progs:
        problems = check_program(prog.writes) if isinstance(op, ConvLayer) else check_sdp_program(prog.writes)
        if problems:
            raise InputError(f"layer {op.name!r}: illegal register program {prog.name}: {problems[0]}"
                             + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""))
    return progs


def nvdla_sequence_problem(op, progs: list[Program]) -> str | None:
    """Why NVDLA's own RTL may hang on this layer's trace, whose conv passes run one after the
    other without a reset (legality.check_sequence), or None. Our RTL and golden model run it
    and say so in each replay's outcome (golden.machine `nvdla_differs`)."""
    if not isinstance(op, ConvLayer):
        return None
    problems = check_sequence([(p.name, p.writes) for p in progs])
    return problems[0] if problems else None


def tensor_bases(step: dict) -> dict[int, str]:
    """{base address: role} of the regions a compiled layer trace loads an image's tensors into."""
    t = step["trace"]
    return {t[role]["base"]: role for role in ("input", "residual") if role in t}


def _f(x: float) -> float:
    return float(np.float64(x))


def build_vectors(qnet: QNetwork, model_path, out_dir, x_in: np.ndarray, seed: int, table_source: str) -> dict:
    """Lower, check, run on golden and write every trace and the manifest. Returns the manifest."""
    out = Path(out_dir)
    steps, tensors = [], {}
    tensor_files: dict[str, str] = {}  # tensor -> its .dat, written once
    slots = concat_slots(qnet)
    written: set[str] = set()
    cur = {qnet.graph.input: quantize_input_array(qnet, x_in)}
    index = 0
    for op in qnet.graph.ops:
        if isinstance(op, (ConvLayer, EltwiseAdd)):
            q = qnet.layers[op.name]
            progs = lower_op(qnet, op, slots.get(op.output))
            x = cur[op.input]
            r = cur[op.inputs[1]] if len(op.inputs) > 1 else None
            out_shape = progs[0].output_shape
            tname = f"L{index:02d}_{_safe(op.name)}"
            files = {role: tensor_files.setdefault(t, f"T{len(tensor_files):03d}_{_safe(t)}.dat")
                     for role, t in zip(("input", "residual"), op.inputs)}
            trace, y, li = layer_trace(progs, x, tname, r, files)
            for f in set(files.values()) & written:
                del trace.dats[f]
            written.update(trace.dats)
            trace.save(out, header=f"{tname}: layer {op.name} ({op.op}) of {Path(model_path).name}, {qnet.mode}, "
                                  f"{len(progs)} pass(es); generated by nvdla-int8 compile")
            index += 1
            cur[op.output] = y
            entry = {"cfg": f"{tname}.cfg", "input": _surface(*li.input), "output": _surface(*li.output),
                     "check_crc": f"{trace.commands[-1].args[4]:#010x}"}
            if li.residual is not None:
                entry["residual"] = _surface(*li.residual)
            problem = nvdla_sequence_problem(op, progs)
            if problem:  # said, not refused: a multi-pass layer's passes share one trace (docs/nvdla-rules.md §5)
                entry["nvdla_rtl_may_hang"] = problem
                entry["nvdla_pass_traces"] = pass_traces(progs, x, r, tname, files, written, out, op.name)
            step = {"kind": "hw", "name": op.name, "op": op.op, "fused": op.fused, "inputs": list(op.inputs),
                    "output": op.output, "in_shape": list(progs[0].input_shape), "out_shape": list(out_shape),
                    "in_scales": [_f(qnet.scales[t]) for t in op.inputs], "out_scale": _f(q.out_scale),
                    "trace": entry, "passes": [{"window": p.window, "cbuf": p.cbuf} for p in progs]}
            if isinstance(op, ConvLayer):  # useful multiply-accumulates of one image (C/group per output)
                step["macs"] = int(np.prod(op.out_shape)) * int(np.prod(op.weight.shape[1:]))
                macs_done = sum((p.window["k1"] - p.window["k0"]) * (p.window["y1"] - p.window["y0"])
                                * (p.window["x1"] - p.window["x0"]) * (p.window["channels"][1] - p.window["channels"][0])
                                for p in progs) * int(np.prod(op.weight.shape[2:]))
                step["macs_computed"] = int(macs_done)  # what the MAC array computes, zeros of grouped kernels too
            steps.append(step)
        else:
            s_ins, s_out = [qnet.scales.get(t) for t in op.inputs], qnet.scales.get(op.output)
            cur[op.output] = run_host_op(op, [cur[t] for t in op.inputs], s_ins, s_out)
            steps.append({"kind": "host", "name": op.name, "op": op.op, "inputs": list(op.inputs), "output": op.output,
                          "in_shapes": [list(sh) for sh in op.in_shapes], "out_shape": list(op.out_shape),
                          "attrs": op.attrs, "in_scales": [None if v is None else _f(v) for v in s_ins],
                          "out_scale": None if s_out is None else _f(s_out)})
            if op.op == "Concat" and op.inputs[0] in slots:  # on hardware: its producers wrote one surface
                steps[-1]["in_place"] = True
    for t, s in qnet.scales.items():
        tensors[t] = {"scale": _f(s)}
    ip = qnet.input
    manifest = {
        "format": "nvdla-int8 network manifest 1",
        "model": Path(model_path).name,
        "model_sha256": hashlib.sha256(Path(model_path).read_bytes()).hexdigest(),
        "calibration_table": Path(table_source).name,
        "quantization_mode": qnet.mode,
        "seed": seed,
        "input": {"tensor": qnet.graph.input, "shape": list(qnet.graph.input_shape), "mode": ip.mode,
                  "scale": _f(ip.scale), "cdma_cvt": {"offset": ip.cvt_offset, "scale": ip.cvt_scale,
                                                      "truncate": ip.cvt_truncate,
                                                      "offset_error_pixels": _f(ip.offset_error),
                                                      "scale_rel_error": _f(ip.scale_rel_error)}
                  if ip.mode == "image" else None},
        "outputs": list(qnet.graph.outputs),
        "tensors": tensors,
        "steps": steps,
        "quantization_report": [{k: (_f(v) if isinstance(v, float) else v) for k, v in r.items()} for r in qnet.report],
    }
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def pass_traces(progs: list[Program], x, r, tname: str, files: dict, written: set, out: Path, layer: str) -> list[str]:
    """Each pass of a layer as a trace of its own, for NVDLA's trace players: each starts from
    reset, where the layer trace runs its passes on one and NVDLA's RTL may hang. They share the
    layer trace's .dat files; each checks the CRC of the whole output region, the other passes'
    windows still zero."""
    names = []
    for i, prog in enumerate(progs):
        name = f"{tname}_pass{i}"
        trace, _, _ = layer_trace([prog], x, name, r, files, dat_stem=tname)
        for f in set(trace.dats) & written:
            del trace.dats[f]
        written.update(trace.dats)
        trace.save(out, header=f"{name}: pass {i} of {len(progs)} of layer {layer} alone, for NVDLA's trace players "
                               f"(the layer trace {tname}.cfg runs them on one reset); generated by nvdla-int8 compile")
        names.append(f"{name}.cfg")
    return names


def _surface(s, shape) -> dict:
    return {"base": s.base, "line_stride": s.line_stride, "surf_stride": s.surf_stride, "shape": list(shape)}


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
