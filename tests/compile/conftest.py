"""Small ONNX models built in memory for the compiler tests."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper


def make_model(path, nodes, inits: dict, in_shape, out_shape, out="y", meta=None):
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)],
                          [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    if meta:
        helper.set_model_props(m, meta)
    onnx.save(m, str(path))
    return path


@pytest.fixture(name="make_model")
def _make_model_fixture():
    return make_model


@pytest.fixture
def conv_model(tmp_path):
    """Conv(3->10, 3x3, pad 1, stride 1) + BN + Mul + LeakyRelu on a 6x5x3 input."""
    rng = np.random.default_rng(0)
    n = helper.make_node
    nodes = [n("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             n("BatchNormalization", ["c", "g", "be", "m", "v"], ["bn"], name="bn"),
             n("Mul", ["bn", "k"], ["mu"], name="mul"),
             n("LeakyRelu", ["mu"], ["y"], name="act", alpha=0.1)]
    inits = {"w": rng.normal(0, 0.3, (10, 3, 3, 3)), "b": rng.normal(0, 0.2, 10), "g": rng.uniform(0.5, 1.5, 10),
             "be": rng.normal(0, 0.1, 10), "m": rng.normal(0, 0.1, 10), "v": rng.uniform(0.5, 1.5, 10),
             "k": rng.uniform(0.5, 2, (10, 1, 1))}
    return make_model(tmp_path / "conv.onnx", nodes, inits, [1, 3, 6, 5], [1, 10, 6, 5])
