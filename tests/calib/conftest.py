"""Fixtures: tiny ONNX models built with onnx.helper, and the calibration reference data in the
repository (tests/suite.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.suite import CALIB_CACHES, RESNET50, require


@pytest.fixture
def resnet50() -> Path:
    """NVDLA's ResNet-50 cache and JSON tables, and the Caffe prototxt they name."""
    return require(RESNET50)


@pytest.fixture
def caches() -> Path:
    """The synthetic TensorRT 8.x caches (tests/calib/data)."""
    return require(CALIB_CACHES)


def digits_cnn(path: Path, batch=None, seed=0) -> Path:
    """x[N,1,8,8] -> Conv(4, 3x3) -> Relu -> Flatten -> Gemm(10) -> y."""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.standard_normal((4, 1, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    fw = numpy_helper.from_array(rng.standard_normal((144, 10)).astype(np.float32) * 0.1, "fw")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["conv_out"], name="conv1"),
        helper.make_node("Relu", ["conv_out"], ["relu_out"], name="relu1"),
        helper.make_node("Flatten", ["relu_out"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "fw"], ["y"], name="fc"),
    ]
    g = helper.make_graph(nodes, "digits_cnn",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch or "N", 1, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch or "N", 10])],
                          [w, b, fw])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return path


@pytest.fixture
def cnn(tmp_path) -> Path:
    return digits_cnn(tmp_path / "cnn.onnx")
