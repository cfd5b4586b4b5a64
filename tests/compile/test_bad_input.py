"""Every bad-input rule of issue #6 is a one-line InputError naming node, op and attribute."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from nvdla_int8.compile.fold import load_graph
from nvdla_int8.compile.quantize import quantize
from nvdla_int8.errors import InputError

n = helper.make_node
W = np.ones((4, 4, 1, 1)) * 0.1


def _err(path) -> str:
    with pytest.raises(InputError) as e:
        load_graph(path)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_grouped_conv_is_refused(make_model, tmp_path):
    p = make_model(tmp_path / "g.onnx", [n("Conv", ["x", "w"], ["y"], name="dw", group=4, kernel_shape=[1, 1])],
                   {"w": np.ones((4, 1, 1, 1))}, [1, 4, 3, 3], [1, 4, 3, 3])
    msg = _err(p)
    assert "'dw'" in msg and "Conv" in msg and "group=4" in msg and "depthwise" in msg


def test_unsupported_op_is_refused(make_model, tmp_path):
    p = make_model(tmp_path / "s.onnx", [n("Sigmoid", ["x"], ["y"], name="sig")], {}, [1, 4, 3, 3], [1, 4, 3, 3])
    msg = _err(p)
    assert "'sig'" in msg and "Sigmoid" in msg


def test_auto_pad_same_is_refused(make_model, tmp_path):
    p = make_model(tmp_path / "a.onnx", [n("Conv", ["x", "w"], ["y"], name="c", auto_pad="SAME_UPPER")],
                   {"w": W}, [1, 4, 3, 3], [1, 4, 3, 3])
    assert "auto_pad=SAME_UPPER" in _err(p)


def test_mul_after_relu_is_refused(make_model, tmp_path):
    p = make_model(tmp_path / "m.onnx", [n("Conv", ["x", "w"], ["c"], name="c"), n("Relu", ["c"], ["r"], name="r"),
                                         n("Mul", ["r", "k"], ["y"], name="mul")],
                   {"w": W, "k": np.full((4, 1, 1), 2.0)}, [1, 4, 3, 3], [1, 4, 3, 3])
    msg = _err(p)
    assert "'mul'" in msg and "Mul" in msg


def test_bn_on_the_input_is_refused(make_model, tmp_path):
    p = make_model(tmp_path / "b.onnx", [n("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"], name="bn")],
                   {k: np.ones(4) for k in "gbmv"}, [1, 4, 3, 3], [1, 4, 3, 3])
    msg = _err(p)
    assert "'bn'" in msg and "BatchNormalization" in msg


def test_clip_with_nonzero_min_is_refused(make_model, tmp_path):
    p = make_model(tmp_path / "c.onnx", [n("Conv", ["x", "w"], ["c"], name="c"),
                                         n("Clip", ["c", "lo", "hi"], ["y"], name="clip")],
                   {"w": W, "lo": np.array(-1.0), "hi": np.array(6.0)}, [1, 4, 3, 3], [1, 4, 3, 3])
    assert "min=-1" in _err(p)


def test_clip_is_relu_only_when_exact(make_model, tmp_path):
    p = make_model(tmp_path / "c6.onnx", [n("Conv", ["x", "w"], ["c"], name="c"),
                                          n("Clip", ["c", "lo", "hi"], ["y"], name="clip6")],
                   {"w": W, "lo": np.array(0.0), "hi": np.array(6.0)}, [1, 4, 3, 3], [1, 4, 3, 3])
    g = load_graph(p)
    quantize(g, {"x": 0.01, "y": 6.0 / 127})  # range ends at max: exact
    with pytest.raises(InputError, match="clip6.*max=6"):
        quantize(g, {"x": 0.01, "y": 10.0 / 127})


def test_missing_table_entry_names_the_layer(make_model, tmp_path):
    p = make_model(tmp_path / "t.onnx", [n("Conv", ["x", "w"], ["y"], name="convA")], {"w": W}, [1, 4, 3, 3],
                   [1, 4, 3, 3])
    g = load_graph(p)
    with pytest.raises(InputError, match="'y'.*'convA'"):
        quantize(g, {"x": 0.01}, source="calib.json")
    with pytest.raises(InputError, match="network input 'x'"):
        quantize(g, {"y": 0.01})
    q = quantize(g, {"x": 0.01}, missing="propagate")
    assert q.scales["y"] == 0.01


def test_bad_mode_and_unreadable_model(make_model, tmp_path):
    p = make_model(tmp_path / "t.onnx", [n("Conv", ["x", "w"], ["y"], name="c")], {"w": W}, [1, 4, 3, 3], [1, 4, 3, 3])
    with pytest.raises(InputError, match="quantizationMode"):
        quantize(load_graph(p), {"x": 1, "y": 1}, "per-tensor")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    assert "not a readable ONNX model" in _err(bad)


def test_cli_prints_one_line_error(make_model, tmp_path, capsys):
    from nvdla_int8.cli import main

    p = make_model(tmp_path / "g.onnx", [n("Conv", ["x", "w"], ["y"], name="dw", group=4)],
                   {"w": np.ones((4, 1, 1, 1))}, [1, 4, 3, 3], [1, 4, 3, 3])
    table = tmp_path / "t.json"
    table.write_text('{"x": {"scale": 0.1, "offset": 0}}\n')
    assert main(["compile", str(p), "--calibtable", str(table), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "group=4" in err
