"""tools/make_resnet50_caffemodel.py on a tiny residual network: the written caffemodel, read back
through the converter, reaches the table's T = 127 x scale where its parameters can set it."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from nvdla_int8.importers import caffe

TOOL = Path(__file__).resolve().parents[2] / "tools" / "make_resnet50_caffemodel.py"

NET = """input: "data" input_shape { dim: 1 dim: 3 dim: 10 dim: 10 }
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" convolution_param { num_output: 8 kernel_size: 3 pad: 1 bias_term: false } }
layer { name: "bn1" type: "BatchNorm" bottom: "c1" top: "c1" }
layer { name: "s1" type: "Scale" bottom: "c1" top: "c1" scale_param { bias_term: true } }
layer { name: "c1_relu" type: "ReLU" bottom: "c1" top: "c1" }
layer { name: "c2" type: "Convolution" bottom: "c1" top: "c2" convolution_param { num_output: 8 kernel_size: 1 bias_term: false } }
layer { name: "bn2" type: "BatchNorm" bottom: "c2" top: "c2" }
layer { name: "s2" type: "Scale" bottom: "c2" top: "c2" scale_param { bias_term: true } }
layer { name: "res" type: "Eltwise" bottom: "c1" bottom: "c2" top: "res" }
layer { name: "res_relu" type: "ReLU" bottom: "res" top: "res" }
layer { name: "pool" type: "Pooling" bottom: "res" top: "pool" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc" type: "InnerProduct" bottom: "pool" top: "fc" inner_product_param { num_output: 4 } }
"""


def _tool():
    spec = importlib.util.spec_from_file_location("make_resnet50_caffemodel", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_synthetic_weights_reach_the_table(tmp_path):
    tool = _tool()
    net = caffe.parse_prototxt(NET, "tiny.prototxt")
    # shortcut c1_relu (T 3) alone is below the sum's target (T 5): bisection on s2's factor
    table = {"c1": 20.0, "bn1": 4.0, "c1_relu": 3.0, "c2": 7.0, "bn2": 2.5, "s2": 2.0, "res_relu": 5.0, "fc": 9.0}
    images = np.random.default_rng(0).normal(0, 50, (4, 3, 10, 10)).astype(np.float32)
    blobs = tool.synthesize(net, table, images, seed=1)
    (tmp_path / "tiny.prototxt").write_text(NET)
    (tmp_path / "w.caffemodel").write_bytes(tool.caffemodel_bytes(net, blobs))
    bn = caffe.read_caffemodel(tmp_path / "w.caffemodel").layer[1]
    assert bn.name == "bn1" and bn.blobs[2].data[0] == np.float32(tool.BN_FACTOR)  # stored as Caffe does

    model = caffe.caffe_to_onnx(tmp_path / "tiny.prototxt", tmp_path / "w.caffemodel")
    names = list(table) + ["s1"]
    model.graph.output.extend(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None)
                              for n in names if n != "fc")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = dict.fromkeys(names, -np.inf)
    for x in images:
        for n, v in zip(names, sess.run(names, {"data": x[None]})):
            got[n] = max(got[n], float(v.max()))
    for n in ("c1", "bn1", "c1_relu", "c2", "bn2", "res_relu", "fc"):
        assert abs(got[n] / table[n] - 1) < 1e-4, (n, got[n], table[n])
    assert got["s1"] == got["c1_relu"]  # the Scale before a ReLU aims at the ReLU's T
    ratios = tool.report(tmp_path / "tiny.prototxt", tmp_path / "w.caffemodel", {"res_relu": 5.0, "s2": 2.0}, images)
    assert abs(ratios["res_relu"] - 1) < 1e-4 and abs(ratios["s2"] - got["s2"] / 2.0) < 1e-6


def test_residual_fit_shifts_channels_when_the_shortcut_is_too_large():
    tool = _tool()
    rng = np.random.default_rng(2)
    a = np.abs(rng.normal(0, 1, (2, 3, 4, 4)))
    a[:, 1] *= 10  # channel 1 of the shortcut alone exceeds the target
    b = rng.normal(0, 1, (2, 3, 4, 4))
    f, d = tool._residual_fit(b, a, 5.0, own=0.5)
    assert f == 0.5 and d[1] > 0
    assert abs(float((a + f * b - d[None, :, None, None]).max()) - 5.0) < 1e-9
    f, d = tool._residual_fit(b, a / 100, 5.0, own=0.5)  # below: bisection, no shift
    assert not d.any() and abs(float((a / 100 + f * b).max()) - 5.0) < 1e-6
