"""The small trained models in models/ (tools/models/*.py): structure, and FP32 accuracy on the
held-out split in onnxruntime above a stated floor. Needs no PyTorch: the committed files are
what is tested. The floors sit about 1 pp under the accuracy models/README.md records."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper, shape_inference

from nvdla_int8.calib.digits import load_split

MODELS = Path(__file__).resolve().parents[2] / "models"
LABELS = {"digit": lambda y: y, "parity": lambda y: y % 2}
FLOORS = {
    "prelu_two_heads.onnx": {"digit": 0.97, "parity": 0.98},
    "dw_separable.onnx": {"digit": 0.96},
    "fire_concat.onnx": {"digit": 0.97},
}


def _load(name: str) -> onnx.ModelProto:
    m = onnx.load(str(MODELS / name))
    onnx.checker.check_model(m, full_check=True)
    return m


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _shapes(m: onnx.ModelProto) -> dict[str, list[int]]:
    g = shape_inference.infer_shapes(m).graph
    return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in list(g.value_info) + list(g.output)}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_held_out_fp32_accuracy_above_floor(name):
    m = _load(name)
    assert (MODELS / name).stat().st_size < 1 << 20
    meta = {p.key: float(p.value) for p in m.metadata_props}
    digits = {p.key: float(p.value) for p in onnx.load(str(MODELS / "digits_cnn.onnx")).metadata_props}
    assert meta == digits     # the default model's preprocessing convention
    images, y = load_split("test")
    x = ((images.astype(np.float32) - meta["nvdla_int8.image_mean"]) * meta["nvdla_int8.image_scale"])[:, None]
    sess = ort.InferenceSession(str(MODELS / name), providers=["CPUExecutionProvider"])
    assert [i.shape for i in sess.get_inputs()] == [[1, 1, 28, 28]]
    outs = [sess.run(None, {"image": xi[None]}) for xi in x]
    heads = [o.name for o in sess.get_outputs()]
    assert heads == list(FLOORS[name])
    for k, head in enumerate(heads):
        acc = float((np.array([o[k].argmax() for o in outs]) == LABELS[head](y)).mean())
        assert acc > FLOORS[name][head], (head, acc)


def test_prelu_two_heads_structure():
    m = _load("prelu_two_heads.onnx")
    ops = [n.op_type for n in m.graph.node]
    assert ops.count("PRelu") == 4 and len(m.graph.output) == 2
    pools = [n for n in m.graph.node if n.op_type == "MaxPool"]
    assert [_attrs(p).get("ceil_mode") for p in pools] == [1, 1]
    # ceil_mode really matters: floor would give 13 and 5
    shapes = _shapes(m)
    assert [shapes[p.output[0]][2] for p in pools] == [14, 6]
    slopes = [numpy_helper.to_array(i) for i in m.graph.initializer
              if i.name in {n.input[1] for n in m.graph.node if n.op_type == "PRelu"}]
    assert len(slopes) == 4 and all(np.ptp(s) > 0 for s in slopes)     # trained, per channel


def test_dw_separable_structure():
    m = _load("dw_separable.onnx")
    shapes = _shapes(m)
    weights = {i.name: i.dims for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    depthwise = [n for n in convs if _attrs(n).get("group", 1) > 1]
    assert len(depthwise) == 3
    for n in depthwise:
        g = _attrs(n)["group"]
        assert weights[n.input[1]][:2] == [g, 1] and shapes[n.output[0]][1] == g   # one filter per channel
    assert sum(weights[n.input[1]][2:] == [1, 1] for n in convs) == 3            # the pointwise convs
    assert sum(n.op_type == "Clip" for n in m.graph.node) == 7                   # ReLU6 after every conv


def test_fire_concat_structure():
    m = _load("fire_concat.onnx")
    inits = {i.name for i in m.graph.initializer}
    produced_by = {o: n.op_type for n in m.graph.node for o in n.output}
    concats = [n for n in m.graph.node if n.op_type == "Concat"]
    assert len(concats) == 3 and all(_attrs(n)["axis"] == 1 for n in concats)
    assert all(produced_by[i] == "Relu" for n in concats for i in n.input)       # two live branches each
    adds = [n for n in m.graph.node if n.op_type == "Add"]
    assert len(adds) == 1 and not set(adds[0].input) & inits                      # residual of two activations
    assert {produced_by[i] for i in adds[0].input} == {"Concat"}


@pytest.mark.parametrize("mode", ["per-kernel", "per-filter"])
def test_fire_concat_compiles_from_the_command_line(tmp_path, capsys, mode):
    """`nvdla-int8 compile` prints one report line per quantized layer; fire_concat's residual Add
    has no weights, so its line has no weight figures (it used to end the command in a KeyError
    after the traces were written)."""
    import json
    from nvdla_int8.cli import main
    table = tmp_path / "t.json"
    assert main(["calibrate", str(MODELS / "fire_concat.onnx"), "--data", "mnist:calib", "--method", "max",
                 "-o", str(table)]) == 0
    out = tmp_path / "out"
    assert main(["compile", str(MODELS / "fire_concat.onnx"), "--calibtable", str(table), "-o", str(out),
                 "--quantizationMode", mode]) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "manifest.json").read_text())["quantization_report"]
    adds = [r["layer"] for r in report if r["op"] == "Add"]
    lines = {line.split()[0]: line for line in printed.splitlines() if "rescale rel. error" in line}
    assert adds and all(a in lines and "weights SQNR" not in lines[a] for a in adds), printed
