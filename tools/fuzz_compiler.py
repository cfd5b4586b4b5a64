"""Seeded fuzzing of `nvdla-int8 compile` (issue #15, item 6): mutate a valid model and a valid
calibration table in many small ways, compile each mutant in a fresh process, and judge the result.

A mutant passes when the command
- ends within the timeout (no hang), prints no Python traceback and is not killed by a signal;
- either exits 2 with one `nvdla-int8 compile: error:` line (the unsupported-node list may follow
  as indented lines; `warning:` lines are allowed), leaving no output folder and no temporary
  sibling of it behind;
- or exits 0 with a whole compile (manifest.json and every trace it names, finite positive
  scales), and only if onnxruntime also accepts the mutated model (loads it and runs one input):
  a model onnxruntime refuses must never compile silently.

Every mutant is replayable alone: case i of seed s draws from numpy's generator seeded [s, i].

    python tools/fuzz_compiler.py [-n 500] [--seed 1] [--model M.onnx] [--keep DIR] [--case i]

The default model is models/digits_cnn.onnx (a chain); --model takes another of models/ (all
calibrate on the MNIST calibration split), e.g. fire_concat.onnx (Concat, residual Add) or
prelu_two_heads.onnx (PReLU, two outputs), so the graph paths are fuzzed too.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "digits_cnn.onnx"
COMPILE = [sys.executable, "-m", "nvdla_int8.cli", "compile"]
TIMEOUT_S = 120.0
TABLE_SHARE = 0.4  # the rest mutates the model
FAILURES = ("traceback", "hang", "partial", "silent success", "unclear error", "stray output")

# --- model mutations: each edits the ModelProto in place (or returns new bytes) and says what it did


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _node(m, rng):
    return _pick(rng, [n for n in m.graph.node])


_INTS = [-1, 0, 1, 2, 3, 5, 7, 40, 1000, 2**31]


def m_attr_value(m, rng):
    n = _node(m, rng)
    ints = [a for a in n.attribute if a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS)]
    if not ints:
        return m_add_attr(m, rng)
    a = _pick(rng, ints)
    if a.type == onnx.AttributeProto.INT:
        a.i = _pick(rng, _INTS)
    else:
        a.ints[:] = [_pick(rng, _INTS) for _ in range(int(rng.integers(0, 5)))]
    return f"node {n.name} attribute {a.name} = {a.i if a.type == onnx.AttributeProto.INT else list(a.ints)}"


def m_drop_attr(m, rng):
    n = _node(m, rng)
    if not n.attribute:
        return m_add_attr(m, rng)
    a = n.attribute[int(rng.integers(len(n.attribute)))]
    n.attribute.remove(a)
    return f"node {n.name} without attribute {a.name}"


_EXTRA = [("group", 2), ("dilations", [2, 2]), ("auto_pad", "SAME_UPPER"), ("ceil_mode", 1), ("pads", [40, 40, 40, 40]),
          ("strides", [3, 3]), ("axis", 2), ("transA", 1), ("alpha", 0.5), ("epsilon", -1.0), ("storage_order", 1),
          ("kernel_shape", [5, 5]), ("count_include_pad", 1), ("bogus", 1)]


def m_add_attr(m, rng):
    n = _node(m, rng)
    name, value = _EXTRA[int(rng.integers(len(_EXTRA)))]
    for a in list(n.attribute):
        if a.name == name:
            n.attribute.remove(a)
    n.attribute.append(helper.make_attribute(name, value))
    return f"node {n.name} attribute {name} = {value}"


_DIMS = [0, -1, 1, 2, 3, 7, 27, 29, 100, 2048, "N"]


def m_dims(m, rng):
    vis = list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info)
    if not m.graph.value_info or rng.random() < 0.3:  # declare an intermediate tensor's shape
        t = _pick(rng, [o for n in m.graph.node for o in n.output])
        vi = helper.make_tensor_value_info(t, TensorProto.FLOAT, [1, 8, 14, 14])
        m.graph.value_info.append(vi)
        vis.append(m.graph.value_info[-1])
    vi = _pick(rng, vis)
    dims = vi.type.tensor_type.shape.dim
    if not len(dims):
        return f"tensor {vi.name} (no dims)"
    d = dims[int(rng.integers(len(dims)))]
    v = _pick(rng, _DIMS)
    if isinstance(v, str):
        d.dim_param = v
    else:
        d.dim_value = v
    return f"tensor {vi.name} declared dims {[x.dim_param or x.dim_value for x in dims]}"


_TYPES = [np.uint8, np.int8, np.float16, np.float64, np.int32, np.int64, np.bool_]


def m_retype(m, rng):
    t = _pick(rng, m.graph.initializer)
    dt = _pick(rng, _TYPES)
    t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(dt), t.name))
    return f"initializer {t.name} as {np.dtype(dt).name}"


def m_nonfinite(m, rng):
    t = _pick(rng, m.graph.initializer)
    a = numpy_helper.to_array(t).copy()
    v = _pick(rng, [np.nan, np.inf, -np.inf, 3e38, 1e-45])
    a.flat[int(rng.integers(a.size))] = v
    t.CopyFrom(numpy_helper.from_array(a, t.name))
    return f"initializer {t.name} holds {v}"


def m_init_shape(m, rng):
    t = _pick(rng, m.graph.initializer)
    a = numpy_helper.to_array(t)
    choice = int(rng.integers(3))
    if choice == 0:
        b = a.reshape(-1)
    elif choice == 1:
        b = a.reshape(-1)[: max(1, a.size // 2)]
    else:
        b = a.reshape((1,) + a.shape)
    t.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(b), t.name))
    return f"initializer {t.name} of shape {list(b.shape)}"


def m_dup_node(m, rng):
    i = int(rng.integers(len(m.graph.node)))
    m.graph.node.insert(i + 1, m.graph.node[i])
    return f"node {m.graph.node[i].name} twice"


def m_drop_node(m, rng):
    i = int(rng.integers(len(m.graph.node)))
    name = m.graph.node[i].name
    del m.graph.node[i]
    return f"node {name} removed"


def m_rewire(m, rng):
    n = _node(m, rng)
    if not n.input:
        return m_drop_node(m, rng)
    tensors = [o for x in m.graph.node for o in x.output] + [t.name for t in m.graph.initializer] + ["nowhere"]
    i = int(rng.integers(len(n.input)))
    n.input[i] = _pick(rng, tensors)
    return f"node {n.name} input {i} = {n.input[i]}"


_OPS = ["Relu", "Sigmoid", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul",
        "Add", "Mul", "Flatten", "Softmax", "Identity", "Reshape", "Concat", "BatchNormalization", "PRelu", "Clip"]


def m_op_type(m, rng):
    n = _node(m, rng)
    old, n.op_type = n.op_type, _pick(rng, _OPS)
    return f"node {n.name} {old} -> {n.op_type}"


_META = ["nan", "0", "-1", "inf", "-inf", "abc", "", "1e400", "1e-300", "1e30", "0x10", " 1 ", "1,5", "NaN", "3"]


def m_metadata(m, rng):
    key = _pick(rng, ["nvdla_int8.image_mean", "nvdla_int8.image_scale"])
    v = _pick(rng, _META)
    props = {p.key: p.value for p in m.metadata_props}
    props[key] = v
    helper.set_model_props(m, props)
    return f"metadata {key}={v!r}"


def m_opset(m, rng):
    if rng.random() < 0.5:
        m.opset_import[0].version = _pick(rng, [1, 6, 7, 11, 12, 18, 22, 99])
        return f"opset {m.opset_import[0].version}"
    m.ir_version = _pick(rng, [0, 1, 3, 11, 99])
    return f"ir_version {m.ir_version}"


def m_input_type(m, rng):
    vi = _pick(rng, list(m.graph.input) + list(m.graph.output))
    vi.type.tensor_type.elem_type = _pick(rng, [TensorProto.INT8, TensorProto.UINT8, TensorProto.FLOAT16,
                                                TensorProto.DOUBLE, TensorProto.INT64, TensorProto.STRING])
    return f"tensor {vi.name} elem_type {TensorProto.DataType.Name(vi.type.tensor_type.elem_type)}"


def m_outputs(m, rng):
    if rng.random() < 0.4:
        del m.graph.output[:]
        return "no graph output"
    t = _pick(rng, [o for n in m.graph.node for o in n.output])
    m.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    return f"extra graph output {t}"


def m_bytes(m, rng):
    data = bytearray(m.SerializeToString())
    if rng.random() < 0.5:
        cut = int(rng.integers(len(data)))
        return bytes(data[:cut]), f"model truncated to {cut} bytes"
    for _ in range(int(rng.integers(1, 8))):
        data[int(rng.integers(len(data)))] = int(rng.integers(256))
    return bytes(data), "model with flipped bytes"


MODEL_MUTATIONS = [m_attr_value, m_drop_attr, m_add_attr, m_dims, m_retype, m_nonfinite, m_init_shape, m_dup_node,
                   m_drop_node, m_rewire, m_op_type, m_metadata, m_opset, m_input_type, m_outputs, m_bytes]

# --- table mutations: each takes the table's text and returns new bytes


_SCALES = ["0", "-1", "NaN", "Infinity", "-Infinity", "1e-45", "1e39", "\"abc\"", "null", "true", "[1]", "{}", "1e-300"]


def t_drop(text, rng):
    top = json.loads(text)
    k = _pick(rng, [k for k in top if not k.startswith("nvdla_int8.")])
    del top[k]
    return json.dumps(top).encode(), f"entry {k} removed"


def t_scale(text, rng):
    top = json.loads(text)
    k = _pick(rng, [k for k in top if not k.startswith("nvdla_int8.")])
    field = _pick(rng, ["scale", "offset", "min", "max"])
    v = _pick(rng, _SCALES + ["3", "0.5", "\"x\""])
    top[k] = {**top[k], field: "@@"}
    return json.dumps(top).replace('"@@"', v).encode(), f"entry {k} {field}={v}"


def t_non_utf8(text, rng):
    data = bytearray(text.encode())
    data.insert(int(rng.integers(len(data))), _pick(rng, [0xFF, 0xFE, 0xC3, 0x80, 0xE9]))
    return bytes(data), "a non-UTF-8 byte"


def t_truncate(text, rng):
    cut = int(rng.integers(len(text)))
    return text[:cut].encode(), f"table truncated to {cut} characters"


def t_flip(text, rng):
    data = bytearray(text.encode())
    for _ in range(int(rng.integers(1, 6))):
        data[int(rng.integers(len(data)))] = int(rng.integers(32, 127))
    return bytes(data), "table with flipped characters"


def t_rename(text, rng):
    top = json.loads(text)
    k = _pick(rng, [k for k in top if not k.startswith("nvdla_int8.")])
    new = _pick(rng, [k.upper(), k + "_x", "", k[:-1]])
    return json.dumps({(new if key == k else key): v for key, v in top.items()}).encode(), f"entry {k} renamed {new!r}"


def t_duplicate(text, rng):
    top = json.loads(text)
    k = _pick(rng, [k for k in top if not k.startswith("nvdla_int8.")])
    body = json.dumps(top)
    return (body[:-1] + f', "{k}": {{"scale": 0.5}}}}').encode(), f"entry {k} twice"


def t_metadata(text, rng):
    top = json.loads(text)
    meta = top.setdefault("nvdla_int8.metadata", {})
    key = _pick(rng, ["image_mean", "image_scale", "preprocessing"])
    v = _pick(rng, [0, -1, 1e30, "abc", None, [1], {"image_mean": "x"}])
    if key == "preprocessing":
        meta["preprocessing"] = v
    else:
        meta.setdefault("preprocessing", {})
        if isinstance(meta["preprocessing"], dict):
            meta["preprocessing"][key] = v
    return json.dumps(top).encode(), f"metadata {key}={v!r}"


def t_shape(text, rng):
    return _pick(rng, [b"", b"[]", b"null", b"{}", b"TRT-8001-EntropyCalibration2\nimage: zz\n", b"\x00" * 16,
                       b'{"image": 1}']), "a table of another shape"


TABLE_MUTATIONS = [t_drop, t_scale, t_non_utf8, t_truncate, t_flip, t_rename, t_duplicate, t_metadata, t_shape]


@dataclass
class Case:
    index: int
    kind: str  # "model" or "table"
    mutation: str
    what: str
    verdict: str = ""
    detail: str = ""


def make_mutant(index: int, seed: int, folder: Path, base_table: str, model_path: Path = MODEL) -> Case:
    """Write case `index`'s model.onnx and table.json into folder (one of them mutated)."""
    rng = np.random.default_rng([seed, index])
    model = onnx.load(str(model_path))
    table: bytes = base_table.encode()
    data = None
    if rng.random() < TABLE_SHARE:
        f = _pick(rng, TABLE_MUTATIONS)
        table, what = f(base_table, rng)
        kind = "table"
    else:
        f = _pick(rng, MODEL_MUTATIONS)
        got = f(model, rng)
        data, what = got if isinstance(got, tuple) else (None, got)
        kind = "model"
    (folder / "model.onnx").write_bytes(data if data is not None else model.SerializeToString())
    (folder / "table.json").write_bytes(table)
    return Case(index, kind, f.__name__, what)


def onnxruntime_accepts(path: Path) -> bool:
    """Whether onnxruntime loads the model and runs one input of its declared shape."""
    import onnxruntime as ort

    try:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3  # its warnings (an unused initializer) are not refusals
        s = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        feeds = {}
        for i in s.get_inputs():
            shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
            feeds[i.name] = np.zeros(shape, dtype=np.float32)
        s.run(None, feeds)
        return True
    except Exception:  # noqa: BLE001 - any refusal counts, whatever onnxruntime raises
        return False


def _stderr_problem(err: str, failed: bool) -> tuple[str, str]:
    """(verdict, detail) if stderr is not what it should be: after a failure one error line
    (the unsupported-node list may follow indented), after a success nothing but warnings."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("nvdla-int8 compile: error:")]
    stray = [ln for ln in lines if not ln.startswith(("nvdla-int8 compile: error:", "nvdla-int8 compile: warning:"))
             and not (failed and ln.startswith("  "))]
    if stray:
        return "stray output", stray[0][:200]
    if len(errors) != (1 if failed else 0):
        return "unclear error", f"{len(errors)} error lines"
    return "", ""


def _compile_problem(out: Path) -> str:
    """What is wrong with a compile that exited 0: missing files or non-finite scales."""
    man_path = out / "manifest.json"
    if not man_path.is_file():
        return "no manifest.json"
    man = json.loads(man_path.read_text())
    missing = [s["trace"]["cfg"] for s in man["steps"] if s["kind"] == "hw" and not (out / s["trace"]["cfg"]).is_file()]
    if missing:
        return f"trace {missing[0]} missing"
    bad = [t for t, v in man["tensors"].items() if not (math.isfinite(v["scale"]) and v["scale"] > 0)]
    return f"tensor {bad[0]} has scale {man['tensors'][bad[0]]['scale']}" if bad else ""


def judge(case: Case, folder: Path, command: list[str], timeout: float) -> Case:
    out = folder / "out"
    cmd = command + [str(folder / "model.onnx"), "--calibtable", str(folder / "table.json"), "-o", str(out)]
    env = dict(os.environ, PYTHONWARNINGS="default")  # numpy's RuntimeWarnings must show, not hide
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, errors="replace")
    except subprocess.TimeoutExpired:
        case.verdict, case.detail = "hang", f"no exit within {timeout:.0f} s"
        return case
    leftovers = [q.name for q in folder.iterdir() if q.name.startswith(".out.")]
    if "Traceback (most recent call last)" in p.stderr or p.returncode not in (0, 2):
        tail = [ln for ln in p.stderr.splitlines() if ln.strip()][-1:] or [f"exit {p.returncode}"]
        case.verdict, case.detail = "traceback", tail[0][:200]
    elif p.returncode == 2:
        verdict, detail = _stderr_problem(p.stderr, failed=True)
        if out.exists() or leftovers:
            case.verdict, case.detail = "partial", f"after an error: {'out/' if out.exists() else leftovers[0]}"
        elif verdict:
            case.verdict, case.detail = verdict, detail
        else:
            case.verdict, case.detail = "refused", p.stderr.strip().splitlines()[0][:200]
    else:
        problem = _compile_problem(out) or (f"temporary {leftovers[0]} left" if leftovers else "")
        verdict, detail = _stderr_problem(p.stderr, failed=False)
        if problem:
            case.verdict, case.detail = "partial", problem
        elif not onnxruntime_accepts(folder / "model.onnx"):
            case.verdict, case.detail = "silent success", "compiled a model onnxruntime refuses"
        else:
            case.verdict, case.detail = verdict or "compiled", detail
    return case


def base_table(work: Path, model_path: Path = MODEL) -> str:
    """The valid table the table mutants start from: `nvdla-int8 calibrate` (max) on the
    calibration digits, as a user would make it."""
    path = work / f"base-table-{model_path.stem}.json"
    if not path.is_file():
        cmd = [sys.executable, "-m", "nvdla_int8.cli", "calibrate", str(model_path), "--data", "mnist:calib",
               "--method", "max", "-q", "-o", str(path)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    return path.read_text()


def campaign(n: int, seed: int, work: Path, cases: list[int] | None = None, command: list[str] | None = None,
             timeout: float = TIMEOUT_S, progress=None, model_path: Path = MODEL) -> list[Case]:
    """Mutate and compile cases 0..n-1 (or `cases`) of `model_path` under work/; a folder is
    removed once judged unless the case failed."""
    table = base_table(work, model_path)
    results = []
    for i in (cases if cases is not None else range(n)):
        folder = work / f"case{i:04d}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        case = judge(make_mutant(i, seed, folder, table, model_path), folder, command or COMPILE, timeout)
        if case.verdict not in FAILURES:
            shutil.rmtree(folder)
        results.append(case)
        if progress:
            progress(case)
    return results


def summary(results: list[Case], seed: int, model_path: Path = MODEL) -> str:
    verdicts = Counter(c.verdict for c in results)
    kinds = Counter(c.kind for c in results)
    model_arg = "" if model_path == MODEL else f" --model {model_path}"
    lines = [f"{len(results)} mutants of {model_path.name} (seed {seed}): {kinds['model']} models, "
             f"{kinds['table']} tables",
             "  " + ", ".join(f"{v} {verdicts.get(v, 0)}" for v in ("refused", "compiled") + FAILURES)]
    by = Counter((c.mutation, c.verdict) for c in results)
    for m in sorted({c.mutation for c in results}):
        lines.append(f"    {m:14} " + ", ".join(f"{v} {k}" for (mm, v), k in sorted(by.items()) if mm == m))
    for c in results:
        if c.verdict in FAILURES:
            lines.append(f"  FAIL case {c.index} ({c.mutation}: {c.what}): {c.verdict}: {c.detail}  "
                         f"[replay: python tools/fuzz_compiler.py --seed {seed}{model_arg} --case {c.index} --keep DIR]")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=500, help="number of mutants (default 500)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", type=Path, default=MODEL, help="the valid model to mutate (default models/digits_cnn.onnx)")
    ap.add_argument("--case", type=int, action="append", help="only this case (repeatable)")
    ap.add_argument("--keep", help="work folder to keep (failing cases stay there); default a temporary one")
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds before a compile counts as a hang")
    a = ap.parse_args(argv)
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="fuzz-compiler-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if not a.model.is_file():
            ap.error(f"--model {a.model}: no such file")
        results = campaign(a.n, a.seed, work, a.case, timeout=a.timeout, model_path=a.model,
                           progress=lambda c: print(f"  case {c.index:4d} {c.mutation:14} {c.what[:60]:60} {c.verdict}"
                                                    f"{': ' + c.detail[:160] if c.detail else ''}",
                                                    file=sys.stderr, flush=True))
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(summary(results, a.seed, a.model))
    return 1 if any(c.verdict in FAILURES for c in results) else 0


if __name__ == "__main__":
    sys.exit(main())
