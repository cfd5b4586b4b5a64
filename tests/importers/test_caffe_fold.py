"""A converted Caffe Convolution + BatchNorm + Scale + ReLU goes through today's ONNX front end
(import + fold) as one hardware layer, named for NVDLA's table, with the folded weights and bias
of a numpy reference written from Caffe's definitions."""
from __future__ import annotations

import numpy as np

from nvdla_int8.graph.fold import load_graph
from nvdla_int8.importers import caffe
from nvdla_int8.importers.caffe_schema import messages

NET = """input: "data" input_shape { dim: 1 dim: 3 dim: 6 dim: 6 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "bn_conv1" type: "BatchNorm" bottom: "conv1" top: "conv1" batch_norm_param { eps: 0.001 } }
layer { name: "scale_conv1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "conv1_relu" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "fc" type: "InnerProduct" bottom: "conv1" top: "fc" inner_product_param { num_output: 2 } }
"""


def test_conv_batchnorm_scale_relu_fold_into_one_layer(tmp_path):
    rng = np.random.default_rng(7)
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    mean, var, factor = rng.standard_normal(4), rng.uniform(0.5, 2, 4), 123.5
    gamma, beta = rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
    fw, fb = rng.standard_normal((2, 64)), rng.standard_normal(2)
    net = messages().NetParameter()
    for name, arrays in {"conv1": [w, b], "bn_conv1": [mean * factor, var * factor, [factor]],
                         "scale_conv1": [gamma, beta], "fc": [fw, fb]}.items():
        layer = net.layer.add(name=name)
        layer.blobs.extend(caffe.to_blob(np.asarray(a, np.float32)) for a in arrays)
    (tmp_path / "n.prototxt").write_text(NET)
    (tmp_path / "n.caffemodel").write_bytes(net.SerializeToString())
    caffe.caffe_to_onnx_file(tmp_path / "n.prototxt", tmp_path / "n.caffemodel", tmp_path / "n.onnx")

    graph = load_graph(tmp_path / "n.onnx")
    conv = graph.ops[0]
    assert (conv.name, conv.output, conv.fused) == ("conv1", "conv1_relu", ["bn_conv1", "scale_conv1_mul",
                                                                            "scale_conv1", "conv1_relu"])
    a = gamma / np.sqrt(var + 1e-3)
    f32 = lambda v: np.float32(v).astype(np.float64)  # noqa: E731  (the model stores float32)
    np.testing.assert_allclose(conv.weight, f32(w) * a[:, None, None, None], rtol=1e-5)
    np.testing.assert_allclose(conv.bias, (f32(b) - mean) * a + beta, rtol=1e-5, atol=1e-5)
    assert conv.act.kind == "relu"
