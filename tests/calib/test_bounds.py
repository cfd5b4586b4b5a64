"""Graph-bounded tensors (calib/bounds.py): no threshold above a Clip's bound, so a ReLU6 output
calibrated by any method compiles (the compiler runs Clip(0, max) as ReLU + saturation)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nvdla_int8.calib.bounds import bounded_threshold, clip_bounds
from nvdla_int8.calib.nvdla_table import read_table
from nvdla_int8.cli import main

CLIP_MAX = 6.0


def relu6_net(path, opset=13):
    """x[1,1,8,8] -> Conv(4, 3x3) -> Clip(0, 6) -> Flatten -> MatMul(10): weights large enough that
    most conv outputs saturate at 6, so the ReLU6 output fills [0, 6] and its entropy threshold,
    a bin centre, lands above 6."""
    rng = np.random.default_rng(5)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 1, 3, 3)).astype(np.float32) * 3, "w"),
             numpy_helper.from_array(np.full(4, 1.0, np.float32), "b"),
             numpy_helper.from_array(rng.standard_normal((144, 10)).astype(np.float32) * 0.1, "fw")]
    if opset >= 11:
        inits += [numpy_helper.from_array(np.array(0.0, np.float32), "lo")]
        clip = [helper.make_node("Constant", [], ["hi"], value=numpy_helper.from_array(np.array(CLIP_MAX, np.float32))),
                helper.make_node("Clip", ["conv_out", "lo", "hi"], ["relu6"], name="relu6")]
    else:
        clip = [helper.make_node("Clip", ["conv_out"], ["relu6"], name="relu6", min=0.0, max=CLIP_MAX)]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["conv_out"], name="conv1"), *clip,
             helper.make_node("Flatten", ["relu6"], ["flat"], name="flatten"),
             helper.make_node("MatMul", ["flat", "fw"], ["y"], name="fc")]
    g = helper.make_graph(nodes, "relu6", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return path


@pytest.mark.parametrize("opset", [6, 13])
def test_clip_bounds_from_inputs_constants_and_attributes(tmp_path, opset):
    m = onnx.load(str(relu6_net(tmp_path / "m.onnx", opset)))
    assert clip_bounds(m) == {"relu6": CLIP_MAX}


def test_bounded_threshold_keeps_the_stored_scale_under_the_bound():
    # bounds whose float32(bound / 127) rounds up: 127 * scale would pass the bound
    ups = [b for b in np.linspace(1, 7, 2001) if float(np.float32(b / 127)) * 127 > b]
    assert ups
    for b in ups[:50]:
        t = bounded_threshold(b * 1.001, b)
        assert float(np.float32(t / 127)) * 127 <= b and t > b * (1 - 1e-6)
    assert bounded_threshold(2.5, 6.0) == 2.5 and bounded_threshold(7.0, None) == 7.0


@pytest.mark.parametrize("method", ["entropy", "entropy-trt", "max", "auto"])
def test_relu6_output_never_calibrated_above_six_and_compiles(tmp_path, capsys, method):
    model = relu6_net(tmp_path / "m.onnx")
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "a.npy", np.random.default_rng(6).standard_normal((200, 1, 8, 8)).astype(np.float32))
    table = tmp_path / "t.json"
    assert main(["calibrate", str(model), "--data", str(data), "--method", method, "-o", str(table), "-q"]) == 0
    scale = read_table(table)["relu6"].scale
    assert 127 * scale <= CLIP_MAX and 127 * scale > CLIP_MAX * 0.9
    assert main(["compile", str(model), "--calibtable", str(table), "-o", str(tmp_path / "out")]) == 0, \
        capsys.readouterr().err
