"""Run a compiled network (a vectors folder) on a backend. On the golden model the layers' programs
(register writes and memory images, read once from their traces) run in memory on one memory
image reused layer after layer and image after image: per layer its images are loaded, its input
cube written once, all its passes played and its output read back as one surface. Host ops run
in numpy. Reports per layer bit-exact agreement with the golden model, SQNR against the FP32
activation, and accuracy.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import backends
from ..errors import InputError
from ..fileio import write_atomic
from ..hw.config import NV_SMALL
from ..hw.layouts import Surface
from ..trace.memory import SparseMemory
from ..trace.cfg import parse_cfg
from ..trace.dat import read_dat
from ..trace.trace import Trace
from ..quantize.network import input_to_int8
from .hostops import HostStep
from ..lower.program_run import LayerImage, run_layer
from ..lower.vectors import MANIFEST, tensor_bases


def _surface(d: dict) -> tuple[Surface, tuple]:
    return Surface(d["base"], d["line_stride"], d["surf_stride"]), tuple(d["shape"])


def rtl_available() -> bool:
    """Whether the RTL backend is installed (the checkout's tb/, registered by `make setup`)."""
    try:
        backends.get("rtl")
    except InputError:
        return False
    return True


def load_commands(cfg: Path) -> Trace:
    """A compiled layer trace's commands, without its .dat images (the network reads only the
    program's, never the vector input's tensors)."""
    if not cfg.is_file():
        raise InputError("no such trace file (named by manifest.json)", where=str(cfg))
    return Trace(cfg.stem, parse_cfg(cfg.read_text(encoding="ascii"), str(cfg)), {}, cfg)


def layer_from_trace(trace: Trace, step: dict) -> LayerImage:
    """The layer image of a compiled layer trace: its zeroed regions, the loads that are not an
    image's tensors (read from their .dat files), every register write in order; surfaces from
    the manifest."""
    fills, loads, writes = [], [], []
    per_image = tensor_bases(step)
    for c in trace.commands:
        if c.op == "mem_init" and isinstance(c.args[2], int):
            fills.append((int(c.args[1]), int(c.args[2])))
        elif c.op == "mem_load" and int(c.args[1]) not in per_image:
            f = trace.source.parent / str(c.args[2])
            if not f.is_file():
                raise InputError(f"mem_load names {f.name!r}, which is not in {f.parent}", where=trace.where(c))
            for e in read_dat(f):
                loads.append((int(c.args[1]) + e.offset, np.frombuffer(e.data, dtype=np.uint8)))
        elif c.op == "reg_write":
            writes.append((c.args[0].address, c.args[1]))
    t = step["trace"]
    return LayerImage(step["name"], fills, loads, writes, len(step["passes"]), _surface(t["input"]),
                      _surface(t["output"]), _surface(t["residual"]) if "residual" in t else None)


class CompiledNetwork:
    def __init__(self, folder):
        self.folder = Path(folder)
        mf = self.folder / MANIFEST
        if not mf.is_file():
            raise InputError(f"no {MANIFEST}: not a folder written by `nvdla-int8 compile`", where=str(self.folder))
        try:
            self.manifest = json.loads(mf.read_text(encoding="utf-8"))
            self.manifest["steps"], self.manifest["input"], self.manifest["outputs"]  # noqa: B018
            [(s["trace"]["cfg"], s["passes"]) for s in self.manifest["steps"] if s["kind"] == "hw"]  # noqa: B018
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"not a manifest written by `nvdla-int8 compile` ({type(e).__name__}: {e})",
                             where=str(mf)) from None
        self.traces: dict[str, Trace] = {}
        self.layers = {step["name"]: layer_from_trace(self.trace(step), step)
                       for step in self.manifest["steps"] if step["kind"] == "hw"}
        self.memory = SparseMemory()  # reused by every layer of every image

    def trace(self, step: dict) -> Trace:
        """The commands of a hardware step's compiled trace."""
        if step["name"] not in self.traces:
            self.traces[step["name"]] = load_commands(self.folder / step["trace"]["cfg"])
        return self.traces[step["name"]]

    def input_cube(self, x: np.ndarray) -> np.ndarray:
        inp = self.manifest["input"]
        return input_to_int8(inp["mode"], inp["scale"], tuple(inp["shape"]), x)

    def run_layer(self, step: dict, xs: list[np.ndarray], mem: SparseMemory | None = None) -> np.ndarray:
        """Hardware step `step` on the golden model with input cubes xs (input [, per-element
        operand]); its output cube. `mem` (default: the network's own) holds the layer after."""
        return run_layer(self.layers[step["name"]], self.memory if mem is None else mem, *xs)[0]

    def run(self, x: np.ndarray, backend: str = "golden") -> dict[str, np.ndarray]:
        """Every tensor of one image on the golden model: int8 cubes, and the float output of a
        final Softmax. (The RTL runs batches: run_batch_rtl.)"""
        if backend != "golden":
            raise InputError(f"backend {backend!r}: one image at a time runs on the golden model only")
        vals = {self.manifest["input"]["tensor"]: self.input_cube(x)}
        for step in self.manifest["steps"]:
            if step["kind"] == "hw":
                vals[step["output"]] = self.run_layer(step, [vals[t] for t in step["inputs"]])
            else:
                vals[step["output"]] = HostStep(step)(vals)
        return vals

    def dequantize(self, tensor: str, v: np.ndarray) -> np.ndarray:
        s = self.manifest["tensors"].get(tensor, {}).get("scale")
        return v.astype(np.float64) if s is None or v.dtype != np.int8 else v.astype(np.float64) * s


def sqnr_db(ref: np.ndarray, got: np.ndarray) -> float:
    noise = float(np.sum((ref - got) ** 2))
    return float("inf") if noise == 0 else float(10 * np.log10(float(np.sum(ref ** 2)) / noise))


def evaluate(folder, images: np.ndarray, labels: np.ndarray | None, model_path=None, backend: str = "golden",
             preprocess=None, work_dir=None, stall: bool = True, extra_env: dict | None = None,
             save_outputs=None) -> dict:
    """Run every image; per hardware layer: agreement with the golden model (every byte of the
    layer's output, per image), SQNR vs FP32, and on other backends cycles and MAC utilization;
    per graph output: top-1 agreement and mean |error| against FP32; accuracy of the first output
    against `labels`. `save_outputs`: an .npz with every graph output, one row per image, as
    dequantized float32 (`<tensor>`) and raw int8 (`<tensor>.int8`; Softmax outputs are float)."""
    from .reference import fp32_activations

    net = CompiledNetwork(folder)
    hw_steps = [s for s in net.manifest["steps"] if s["kind"] == "hw"]
    outputs = net.manifest["outputs"]
    out_t = outputs[0]
    per_layer = {s["name"]: {"ref2": 0.0, "noise": 0.0, "agree": 0, "bytes": 0, "bytes_agree": 0}
                 for s in hw_steps}
    fp32 = None
    if model_path is not None:
        xin = preprocess(images) if preprocess else images
        fp32 = fp32_activations(model_path, xin, [s["output"] for s in hw_steps] + outputs)
    golden = [net.run(img, "golden") for img in images]
    runs = None
    if backend == "golden":
        vals = golden
    else:
        from .trace_batch import run_batch

        vals, runs = run_batch(net, [net.input_cube(img) for img in images], Path(work_dir or "build/run-rtl"),
                               backend=backend, stall=stall, extra_env=extra_env)
    preds = []
    for i, v in enumerate(vals):
        for s in hw_steps:
            d = per_layer[s["name"]]
            got, want = v[s["output"]], golden[i][s["output"]]
            d["agree"] += int(np.array_equal(got, want))
            d["bytes"] += want.size
            d["bytes_agree"] += int(np.sum(got == want))
            if fp32 is not None:
                ref = fp32[s["output"]][i].reshape(s["out_shape"])
                deq = net.dequantize(s["output"], got)
                d["ref2"] += float(np.sum(ref ** 2))
                d["noise"] += float(np.sum((ref - deq) ** 2))
        preds.append(int(np.argmax(v[out_t].reshape(-1))))
    res = {"backend": backend, "images": len(images), "layers": []}
    for s in hw_steps:
        d = per_layer[s["name"]]
        layer = {"layer": s["name"], "bit_exact_vs_golden": d["agree"] / len(images),
                 "bytes_agree_vs_golden": d["bytes_agree"] / d["bytes"],
                 "sqnr_db": (10 * np.log10(d["ref2"] / d["noise"]) if d["noise"] else float("inf"))
                 if fp32 is not None else None, "passes": len(s["passes"])}
        if runs is not None:
            r = runs[s["name"]]
            cyc = float(np.mean(r.cycles)) if r.cycles else 0.0
            layer.update({"rtl_traces": r.traces, "rtl_traces_bit_exact": r.passed, "rtl_failures": r.failures,
                          "cycles_per_image": cyc,
                          "mac_utilization": s["macs"] / (cyc * NV_SMALL.macs) if cyc and "macs" in s else None})
        res["layers"].append(layer)
    res["bit_exact_vs_golden"] = all(L["bit_exact_vs_golden"] == 1.0 for L in res["layers"]) and \
        all(L.get("rtl_traces_bit_exact", 0) == L.get("rtl_traces", 0) for L in res["layers"])
    res["outputs"] = []
    for t in outputs:
        got = np.stack([net.dequantize(t, v[t]).reshape(-1) for v in vals])
        o = {"tensor": t, "bit_exact_vs_golden": float(np.mean([np.array_equal(v[t], g[t]) for v, g in zip(vals, golden)]))}
        if fp32 is not None:
            ref = fp32[t].reshape(len(images), -1)
            o["mean_abs_error_vs_fp32"] = float(np.mean(np.abs(got - ref)))
            o["top1_agreement_vs_fp32"] = float(np.mean(got.argmax(1) == ref.argmax(1)))
        res["outputs"].append(o)
    if save_outputs:
        arrays = {}
        for t in outputs:
            arrays[t] = np.stack([net.dequantize(t, v[t]) for v in vals]).astype(np.float32)
            if vals and vals[0][t].dtype == np.int8:
                arrays[f"{t}.int8"] = np.stack([v[t] for v in vals])
        _save_npz(save_outputs, arrays)
    res["golden_predictions_agree"] = float(np.mean([np.argmax(g[out_t].reshape(-1)) == p
                                                     for g, p in zip(golden, preds)])) if len(preds) else 1.0
    if labels is not None:
        res["int8_accuracy"] = float(np.mean(np.array(preds) == labels))
        res["int8_accuracy_golden"] = float(np.mean(np.array([np.argmax(g[out_t].reshape(-1)) for g in golden])
                                                    == labels))
        if fp32 is not None:
            res["fp32_accuracy"] = float(np.mean(fp32[out_t].reshape(len(images), -1).argmax(1) == labels))
            res["top1_agreement_int8_vs_fp32"] = float(np.mean(fp32[out_t].reshape(len(images), -1).argmax(1)
                                                               == np.array(preds)))
    return res


def _save_npz(path, arrays: dict) -> None:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path, buf.getvalue())
