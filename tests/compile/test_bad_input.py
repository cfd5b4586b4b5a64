"""Every bad-input rule of issue #6 is a one-line InputError naming node, op and attribute."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from nvdla_int8.graph.fold import load_graph
from nvdla_int8.quantize.network import quantize
from nvdla_int8.errors import InputError

n = helper.make_node
W = np.ones((4, 4, 1, 1)) * 0.1


def _err(path) -> str:
    with pytest.raises(InputError) as e:
        load_graph(path)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_grouped_conv_whose_weights_do_not_fit_the_groups_is_refused(make_model, tmp_path):
    p = make_model(tmp_path / "g.onnx", [n("Conv", ["x", "w"], ["y"], name="dw", group=3, kernel_shape=[1, 1])],
                   {"w": np.ones((4, 1, 1, 1))}, [1, 4, 3, 3], [1, 4, 3, 3])
    msg = _err(p)
    assert "'dw'" in msg and "Conv" in msg and "group=3" in msg


def test_every_unsupported_node_is_listed_at_once(make_model, tmp_path):
    p = make_model(tmp_path / "u.onnx", [n("Sigmoid", ["x"], ["a"], name="s1"), n("Tanh", ["a"], ["y"], name="t1")],
                   {}, [1, 4, 3, 3], [1, 4, 3, 3])
    with pytest.raises(InputError) as e:
        load_graph(p)
    msg = str(e.value)
    assert "2 unsupported node(s)" in msg
    lines = msg.splitlines()
    assert any("'s1' (Sigmoid)" in ln for ln in lines) and any("'t1' (Tanh)" in ln for ln in lines)


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


def test_clip_bounds_the_output_scale(make_model, tmp_path):
    """ReLU6: a calibrated range past max shrinks to max, where int8 saturation is the Clip;
    a range at or below max is kept."""
    p = make_model(tmp_path / "c6.onnx", [n("Conv", ["x", "w"], ["c"], name="c"),
                                          n("Clip", ["c", "lo", "hi"], ["y"], name="clip6")],
                   {"w": W, "lo": np.array(0.0), "hi": np.array(6.0)}, [1, 4, 3, 3], [1, 4, 3, 3])
    g = load_graph(p)
    assert quantize(g, {"x": 0.01, "y": 10.0 / 127}).scales["y"] == 6.0 / 127
    assert quantize(g, {"x": 0.01, "y": 5.0 / 127}).scales["y"] == 5.0 / 127


def test_clip_into_a_wider_concat_is_refused(make_model, tmp_path):
    """A Concat shares one scale among its inputs, so a Clip input cannot shrink it alone."""
    p = make_model(tmp_path / "cc.onnx", [n("Conv", ["x", "w"], ["c"], name="c"),
                                          n("Clip", ["c", "lo", "hi"], ["r"], name="clip6"),
                                          n("Conv", ["x", "w"], ["d"], name="d"),
                                          n("Concat", ["r", "d"], ["y"], name="cat", axis=1)],
                   {"w": W, "lo": np.array(0.0), "hi": np.array(6.0)}, [1, 4, 3, 3], [1, 8, 3, 3])
    g = load_graph(p)
    quantize(g, {"x": 0.01, "r": 1, "d": 1, "y": 6.0 / 127})   # a Concat input's own entry is not used
    with pytest.raises(InputError, match="clip6.*max=6.*Concat"):
        quantize(g, {"x": 0.01, "r": 1, "d": 1, "y": 10.0 / 127})


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

    p = make_model(tmp_path / "g.onnx", [n("Sigmoid", ["x"], ["y"], name="dw")], {}, [1, 4, 3, 3], [1, 4, 3, 3])
    table = tmp_path / "t.json"
    table.write_text('{"x": {"scale": 0.1, "offset": 0}}\n')
    assert main(["compile", str(p), "--calibtable", str(table), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Sigmoid" in err


# --- the rest of the rules: each one line, naming the node/op/attribute or file ---

def _conv_then(node, inits=None, out_shape=(1, 4, 3, 3)):
    return [n("Conv", ["x", "w"], ["c"], name="c"), node], {"w": W, **(inits or {})}, list(out_shape)


@pytest.mark.parametrize("case,nodes,inits,out_shape,needles", [
    ("gemm transA", [n("Gemm", ["x", "w"], ["y"], name="fc", transA=1)], {"w": np.ones((1, 4))}, [4, 4],
     ["'fc'", "Gemm", "transA=1"]),
    ("matmul weights not 2-D", [n("MatMul", ["x", "v"], ["y"], name="mm")], {"v": np.ones(4)}, [1],
     ["'mm'", "MatMul", "2-D constant"]),
    ("maxpool auto_pad", [n("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[2, 2], auto_pad="SAME_UPPER")], {},
     [1, 4, 3, 3], ["'mp'", "MaxPool", "auto_pad=SAME_UPPER"]),
    ("maxpool dilations", [n("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[2, 2], dilations=[2, 2])], {},
     [1, 4, 1, 1], ["'mp'", "dilations"]),
    ("softmax axis", [n("Softmax", ["x"], ["y"], name="sm", axis=2)], {}, [1, 4, 3, 3], ["'sm'", "Softmax", "axis="]),
    ("conv kernel_shape", [n("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3])], {"w": W}, [1, 4, 1, 1],
     ["'c'", "kernel_shape"]),
    ("add with broadcasting", [n("Conv", ["x", "w3"], ["c"], name="c"), n("Add", ["c", "x"], ["y"], name="add")],
     {"w3": np.ones((4, 4, 3, 3))}, [1, 4, 3, 3], ["'add'", "Add", "one shape"]),
    ("mul not per-channel", [n("Conv", ["x", "w"], ["c"], name="c"), n("Mul", ["c", "k"], ["y"], name="mul")],
     {"w": W, "k": np.ones((4, 3, 3))}, [1, 4, 3, 3], ["'mul'", "Mul", "per-channel"]),
    ("two activations", [n("Conv", ["x", "w"], ["c"], name="c"), n("Relu", ["c"], ["r"], name="r1"),
                         n("Relu", ["r"], ["y"], name="r2")], {"w": W}, [1, 4, 3, 3], ["'r2'", "second activation"]),
])
def test_import_rules(make_model, tmp_path, case, nodes, inits, out_shape, needles):
    in_shape = [1, 4] if case.startswith(("gemm", "matmul")) else [1, 4, 3, 3]
    msg = _err(make_model(tmp_path / "m.onnx", nodes, inits, in_shape, out_shape))
    assert all(s in msg for s in needles), msg


@pytest.mark.parametrize("in_shape,needle", [([2, 4, 3, 3], "batch 2"), ([1, 4, 3], "rank 3")])
def test_input_shape_rules(make_model, tmp_path, in_shape, needle):
    out = [in_shape[0], 4] + in_shape[2:]
    p = make_model(tmp_path / "s.onnx", [n("Relu", ["x"], ["y"], name="r")], {}, in_shape, out)
    assert needle in _err(p)


def test_missing_model_file(tmp_path):
    assert "no such ONNX model" in _err(tmp_path / "nope.onnx")


def _one_conv(make_model, tmp_path, w=W, b=None, meta=None):
    inits = {"w": w, **({"b": b} if b is not None else {})}
    p = make_model(tmp_path / "one.onnx", [n("Conv", ["x", "w"] + (["b"] if b is not None else []), ["y"], name="convB")],
                   inits, [1, 4, 3, 3], [1, 4, 3, 3], meta=meta)
    return load_graph(p)


def test_non_positive_table_scale(make_model, tmp_path):
    g = _one_conv(make_model, tmp_path)
    with pytest.raises(InputError, match="'y'.*not a positive number"):
        quantize(g, {"x": 0.01, "y": 0.0}, source="calib.json")
    with pytest.raises(InputError, match="input 'x' is not a positive number"):
        quantize(g, {"x": -1.0, "y": 0.1})


def test_bias_that_no_shift_can_hold(make_model, tmp_path):
    g = _one_conv(make_model, tmp_path, b=np.full(4, 1e9))
    with pytest.raises(InputError, match="'convB'.*bias"):
        quantize(g, {"x": 1e-3, "y": 0.1})


def test_rescale_out_of_register_range(make_model, tmp_path):
    g = _one_conv(make_model, tmp_path)
    with pytest.raises(InputError, match="'convB'.*rescale"):
        quantize(g, {"x": 1e6, "y": 1e-9})


def test_image_preprocessing_the_cvt_cannot_represent(make_model, tmp_path):
    meta = {"nvdla_int8.image_mean": "0", "nvdla_int8.image_scale": "1e12"}
    g = _one_conv(make_model, tmp_path, meta=meta)
    if g.image_mean is None:
        pytest.skip("the importer reads preprocessing under other metadata keys")
    with pytest.raises(InputError, match="CDMA input converter"):
        quantize(g, {"x": 1e-9, "y": 0.1})


def test_unknown_calibration_method():
    from nvdla_int8.run.reference import calibrated_scales

    with pytest.raises(InputError, match="calibration method.*max, percentile, entropy or mse"):
        calibrated_scales({"t": np.ones(3)}, "kl")


def test_run_input_files(tmp_path, capsys):
    from nvdla_int8.cli import main

    assert main(["run", str(tmp_path), "--input", str(tmp_path / "none.npy")]) == 2
    assert "no such input file" in capsys.readouterr().err
    (tmp_path / "bad.npy").write_bytes(b"junk")
    assert main(["run", str(tmp_path), "--input", str(tmp_path / "bad.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a .npy array" in err and "\n" not in err
    np.save(tmp_path / "ok.npy", np.zeros((1, 4, 3, 3)))
    assert main(["run", str(tmp_path / "nofolder"), "--input", str(tmp_path / "ok.npy")]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_layer_that_cannot_fit_cbuf_even_split(make_model, tmp_path):
    """A 1x1 output element whose kernel alone needs more than 32 CBUF banks of weights."""
    from nvdla_int8.graph.ir import ConvLayer
    from nvdla_int8.lower.passes import lower_layer
    from nvdla_int8.quantize.network import quantize_layer

    c = 8192  # 8192 channels x 3x3 x 8 kernels of weights: 576 KiB > 128 KiB of CBUF
    layer = ConvLayer("huge", "Conv", "x", "y", np.ones((8, c, 3, 3)) * 0.01, np.zeros(8), (c, 3, 3), (8, 1, 1))
    with pytest.raises(InputError, match="'huge'.*CBUF"):
        lower_layer(quantize_layer(layer, 0.02, 0.05, "per-kernel", None))


# --- validation before conversion (issue: fuzzed models that compiled into garbage) ---

def _conv_model(tmp_path, w=None, meta=None, out_shape=(1, 4, 3, 3), dup=False):
    from onnx import TensorProto, helper, numpy_helper

    w = W.astype(np.float32) if w is None else w
    nodes = [n("Conv", ["x", "w"], ["y"], name="c")]
    if dup:
        nodes.append(n("Conv", ["x", "w"], ["y"], name="c2"))
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    if meta:
        helper.set_model_props(m, meta)
    p = tmp_path / "m.onnx"
    p.write_bytes(m.SerializeToString())
    return p


@pytest.mark.parametrize("case, kw, needles", [
    ("nan weight", {"w": np.where(np.arange(16).reshape(4, 4, 1, 1) == 5, np.nan, W).astype(np.float32)},
     ["'w'", "'c' (Conv)", "NaN"]),
    ("uint8 weights", {"w": np.ones((4, 4, 1, 1), dtype=np.uint8)}, ["'w'", "'c' (Conv)", "UINT8"]),
    ("float16 weights", {"w": np.ones((4, 4, 1, 1), dtype=np.float16)}, ["'w'", "FLOAT16"]),
    ("image_scale nan", {"meta": {"nvdla_int8.image_mean": "0", "nvdla_int8.image_scale": "nan"}},
     ["nvdla_int8.image_scale", "'nan'"]),
    ("image_scale 0", {"meta": {"nvdla_int8.image_mean": "0", "nvdla_int8.image_scale": "0"}},
     ["nvdla_int8.image_scale", "positive"]),
    ("image_mean text", {"meta": {"nvdla_int8.image_mean": "grey", "nvdla_int8.image_scale": "1"}},
     ["nvdla_int8.image_mean", "'grey'"]),
    ("declared dims disagree", {"out_shape": (1, 4, 5, 3)}, ["shape inference failed"]),
    ("duplicated node", {"dup": True}, ["not a valid ONNX model"]),
])
def test_invalid_models_are_refused_before_conversion(tmp_path, case, kw, needles):
    msg = _err(_conv_model(tmp_path, **kw))
    assert all(s in msg for s in needles), msg


# --- `run` inputs ---

@pytest.fixture
def compiled(conv_model, tmp_path):
    from nvdla_int8.cli import main

    table = tmp_path / "t.json"
    table.write_text('{"x": {"scale": 0.02}, "y": {"scale": 0.05}}\n')
    assert main(["compile", str(conv_model), "--calibtable", str(table), "-o", str(tmp_path / "v"),
                 "--missing-scale", "propagate"]) == 0
    return tmp_path / "v"


@pytest.mark.parametrize("case", ["limit", "labels", "shape", "nan", "corrupt npy", "corrupt manifest"])
def test_run_refuses_bad_inputs_in_one_line(compiled, tmp_path, capsys, case):
    from nvdla_int8.cli import main

    x = np.random.default_rng(0).normal(0, 1, (3, 3, 6, 5)).astype(np.float32)
    args = ["run", str(compiled), "--input", str(tmp_path / "x.npy")]
    if case == "limit":
        args += ["--limit", "-1"]
    elif case == "labels":
        np.save(tmp_path / "l.npy", np.zeros(2, dtype=np.int64))
        args += ["--labels", str(tmp_path / "l.npy")]
    elif case == "shape":
        x = x[:, :, :5]
    elif case == "nan":
        x[1, 0, 0, 0] = np.nan
    np.save(tmp_path / "x.npy", x)
    if case == "corrupt npy":
        (tmp_path / "x.npy").write_bytes(b"\x93NUMPY garbage")
    if case == "corrupt manifest":
        (compiled / "manifest.json").write_text('{"steps": ')
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nvdla-int8 run: error:") and "\n" not in err, err
