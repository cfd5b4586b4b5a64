"""Run a compiled network (a vectors folder) on a backend: hardware passes replay their traces
with the current input cube in place of the vector input, host ops run in numpy. Reports per
layer bit-exact agreement with the golden model, SQNR against the FP32 activation, and accuracy.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..golden import GoldenMachine
from ..hw.layouts import Surface
from ..trace.memory import SparseMemory
from ..trace.trace import Trace, apply_memory_command
from .hostops import run_host_op
from .vectors import MANIFEST


@dataclass
class _Pass:
    trace: Trace
    base_memory: SparseMemory
    window: dict
    in_surface: Surface
    in_shape: tuple
    out_surface: Surface
    out_shape: tuple


def rtl_available() -> bool:
    try:
        from tb.trace_runner import replay_traces  # noqa: F401
    except Exception:
        return False
    return True


class CompiledNetwork:
    def __init__(self, folder):
        self.folder = Path(folder)
        mf = self.folder / MANIFEST
        if not mf.is_file():
            raise InputError(f"no {MANIFEST}: not a folder written by `nvdla-int8 compile`", where=str(self.folder))
        self.manifest = json.loads(mf.read_text(encoding="utf-8"))
        self.passes: dict[str, list[_Pass]] = {}
        for step in self.manifest["steps"]:
            if step["kind"] != "hw":
                continue
            lst = []
            for t in step["traces"]:
                trace = Trace.load(self.folder / t["cfg"])
                mem = SparseMemory()
                for c in trace.commands:
                    apply_memory_command(trace, c, mem)
                i, o = t["input"], t["output"]
                lst.append(_Pass(trace, mem, t["window"], Surface(i["base"], i["line_stride"], i["surf_stride"]),
                                 tuple(i["shape"]), Surface(o["base"], o["line_stride"], o["surf_stride"]),
                                 tuple(o["shape"])))
            self.passes[step["name"]] = lst

    def input_cube(self, x: np.ndarray) -> np.ndarray:
        inp = self.manifest["input"]
        shape = tuple(inp["shape"])
        if inp["mode"] == "image":
            return (np.asarray(x, dtype=np.uint8).reshape(shape).astype(np.int16) - 128).astype(np.int8)
        q = np.sign(x) * np.floor(np.abs(np.asarray(x, dtype=np.float64) / inp["scale"]) + 0.5)
        return np.clip(q, -128, 127).astype(np.int8).reshape(shape)

    def run_pass_golden(self, p: _Pass, x: np.ndarray) -> np.ndarray:
        mem = p.base_memory.copy()
        c, h, w = p.in_shape
        mem.scatter(p.in_surface.addresses(c, h, w), x.view(np.uint8))
        m = GoldenMachine(mem)
        for cmd in p.trace.commands:
            if cmd.op == "reg_write":
                m.write_reg(cmd.args[0].address, cmd.args[1])
        k0, k1, y0, y1 = (p.window[k] for k in ("k0", "k1", "y0", "y1"))
        return mem.gather(p.out_surface.addresses(k1, y1, p.out_shape[2])[k0:k1, y0:y1]).view(np.int8)

    def run(self, x: np.ndarray, backend: str = "golden") -> dict[str, np.ndarray]:
        """Every tensor of one image: int8 cubes, and the float output of a final Softmax."""
        if backend != "golden":
            raise InputError(f"backend {backend!r}: the RTL trace runner (tb.trace_runner.replay_traces) is not "
                             "available yet; use --backend golden")
        vals = {self.manifest["input"]["tensor"]: self.input_cube(x)}
        for step in self.manifest["steps"]:
            xin = vals[step["input"]]
            if step["kind"] == "hw":
                y = np.zeros(step["out_shape"], dtype=np.int8)
                for p in self.passes[step["name"]]:
                    k0, k1, y0, y1 = (p.window[k] for k in ("k0", "k1", "y0", "y1"))
                    y[k0:k1, y0:y1] = self.run_pass_golden(p, xin)
                vals[step["output"]] = y
            else:
                op = _HostStep(step)
                vals[step["output"]] = run_host_op(op, xin, step["in_scale"], step["out_scale"])
        return vals

    def dequantize(self, tensor: str, v: np.ndarray) -> np.ndarray:
        s = self.manifest["tensors"].get(tensor, {}).get("scale")
        return v.astype(np.float64) if s is None or v.dtype != np.int8 else v.astype(np.float64) * s


@dataclass
class _HostStep:
    step: dict
    op: str = ""
    attrs: dict = field(default_factory=dict)
    out_shape: tuple = ()

    def __post_init__(self):
        self.op, self.attrs, self.out_shape = self.step["op"], self.step["attrs"], tuple(self.step["out_shape"])


def sqnr_db(ref: np.ndarray, got: np.ndarray) -> float:
    noise = float(np.sum((ref - got) ** 2))
    return float("inf") if noise == 0 else float(10 * np.log10(float(np.sum(ref ** 2)) / noise))


def evaluate(folder, images: np.ndarray, labels: np.ndarray | None, model_path=None, backend: str = "golden",
             preprocess=None) -> dict:
    """Run every image; per hardware layer: golden agreement and SQNR vs FP32; accuracies."""
    from .activations import fp32_activations

    net = CompiledNetwork(folder)
    hw_steps = [s for s in net.manifest["steps"] if s["kind"] == "hw"]
    out_t = net.manifest["output"]
    per_layer = {s["name"]: {"ref2": 0.0, "noise": 0.0, "agree": 0} for s in hw_steps}
    preds = []
    fp32 = None
    if model_path is not None:
        xin = preprocess(images) if preprocess else images
        fp32 = fp32_activations(model_path, xin, [s["output"] for s in hw_steps] + [out_t])
    for i, img in enumerate(images):
        vals = net.run(img, backend)
        golden = vals if backend == "golden" else net.run(img, "golden")
        for s in hw_steps:
            d = per_layer[s["name"]]
            d["agree"] += int(np.array_equal(vals[s["output"]], golden[s["output"]]))
            if fp32 is not None:
                ref = fp32[s["output"]][i].reshape(s["out_shape"])
                got = net.dequantize(s["output"], vals[s["output"]])
                d["ref2"] += float(np.sum(ref ** 2))
                d["noise"] += float(np.sum((ref - got) ** 2))
        preds.append(int(np.argmax(vals[out_t].reshape(-1))))
    res = {"backend": backend, "images": len(images), "layers": []}
    for s in hw_steps:
        d = per_layer[s["name"]]
        res["layers"].append({"layer": s["name"], "bit_exact_vs_golden": d["agree"] / len(images),
                              "sqnr_db": (10 * np.log10(d["ref2"] / d["noise"]) if d["noise"] else float("inf"))
                              if fp32 is not None else None, "passes": len(s["traces"])})
    if labels is not None:
        res["int8_accuracy"] = float(np.mean(np.array(preds) == labels))
        if fp32 is not None:
            res["fp32_accuracy"] = float(np.mean(fp32[out_t].reshape(len(images), -1).argmax(1) == labels))
            res["top1_agreement_int8_vs_fp32"] = float(np.mean(fp32[out_t].reshape(len(images), -1).argmax(1)
                                                               == np.array(preds)))
    return res
