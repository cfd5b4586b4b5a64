"""Caffe -> ONNX: reading (schema, errors), names, shapes and arithmetic against numpy references
written here from Caffe's definitions (not from the converter)."""
from __future__ import annotations

import json
import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from nvdla_int8.errors import InputError
from nvdla_int8.importers import caffe
from nvdla_int8.importers.caffe_schema import messages


def run(model, x: np.ndarray, outputs=None) -> list[np.ndarray]:
    """onnxruntime on `model`, fetching `outputs` (any tensors; made graph outputs) or the outputs."""
    if outputs:
        model = onnx.ModelProto.FromString(model.SerializeToString())
        have = {o.name for o in model.graph.output}
        model.graph.output.extend(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None)
                                  for n in outputs if n not in have)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return s.run(outputs, {model.graph.input[0].name: x.astype(np.float32)})


def caffemodel(blobs: dict[str, list[np.ndarray]], path, v1: bool = False) -> str:
    """A binary caffemodel holding only the named layers' blobs (Caffe matches by name)."""
    net = messages().NetParameter(name="t")
    for name, arrays in blobs.items():
        layer = net.layers.add() if v1 else net.layer.add()
        layer.name = name
        for a in arrays:
            layer.blobs.append(caffe.to_blob(np.asarray(a, np.float32)))
    path.write_bytes(net.SerializeToString())
    return str(path)


def convert_text(text: str, weights_path=None, tmp_path=None):
    net = caffe.parse_prototxt(text, "t.prototxt")
    w = caffe.read_caffemodel(weights_path) if weights_path else None
    return caffe.convert(net, w, "t.prototxt", str(weights_path)).model()


def conv_ref(x, w, b, pad, stride, dil, group):
    """Direct convolution, NCHW, batch 1, zero padding."""
    c, h, wd = x.shape[1:]
    k, cg, kh, kw = w.shape
    (pt, pl), (sh, sw), (dh, dw) = pad, stride, dil
    xp = np.zeros((c, h + 2 * pt, wd + 2 * pl))
    xp[:, pt:pt + h, pl:pl + wd] = x[0]
    oh = (h + 2 * pt - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pl - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((k, oh, ow))
    kg = k // group
    for o in range(k):
        g = o // kg
        for i in range(oh):
            for j in range(ow):
                patch = xp[g * cg:(g + 1) * cg, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
                y[o, i, j] = np.sum(patch * w[o]) + (b[o] if b is not None else 0)
    return y[None]


def caffe_pool_ref(x, method, k, s, p, ceil=True):
    """Caffe's PoolingLayer forward (CPU), loop for loop, for square kernels."""
    _, c, h, w = x.shape
    f = math.ceil if ceil else math.floor
    o = [int(f((d + 2 * p - k) / s)) + 1 for d in (h, w)]
    for i, d in enumerate((h, w)):
        if p and (o[i] - 1) * s >= d + p:
            o[i] -= 1
    y = np.zeros((1, c, o[0], o[1]))
    for ph in range(o[0]):
        for pw in range(o[1]):
            hs, ws = ph * s - p, pw * s - p
            he, we = min(hs + k, h + p), min(ws + k, w + p)
            size = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            win = x[0, :, hs:he, ws:we]
            y[0, :, ph, pw] = win.max(axis=(1, 2)) if method == "MAX" else win.sum(axis=(1, 2)) / size
    return y


INPUT = 'input: "data" input_shape { dim: 1 dim: %d dim: %d dim: %d }\n'


# ------------------------------------------------------------------------------------- ResNet-50

def test_resnet50_every_table_name_is_a_tensor(resnet50_prototxt, resnet50_table):
    model = caffe.caffe_to_onnx(resnet50_prototxt)
    net = caffe.read_prototxt(resnet50_prototxt)
    layers = caffe.layers_of(net)
    assert len(layers) == 228
    tensors = {i.name for i in model.graph.input} | {o for n in model.graph.node for o in n.output}
    table = json.loads(resnet50_table.read_text())
    assert len(table) == 229
    assert [k for k in table if k not in tensors] == []
    assert list(table)[1:] == [layer.name for layer in layers]  # every layer is a tensor, data first
    # the in-place ReLU after scale_conv1 reads scale_conv1's tensor, not the blob name conv1
    relu = next(n for n in model.graph.node if n.output == ["conv1_relu"])
    assert list(relu.input) == ["scale_conv1"]


def test_resnet50_shapes_checker_and_onnxruntime(resnet50_prototxt):
    model = caffe.caffe_to_onnx(resnet50_prototxt)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    expect = {"conv1": [1, 64, 112, 112], "pool1": [1, 64, 56, 56], "res2c_relu": [1, 256, 56, 56],
              "res3a_branch1": [1, 512, 28, 28], "res4f_relu": [1, 1024, 14, 14],
              "res5c_relu": [1, 2048, 7, 7], "pool5": [1, 2048, 1, 1], "fc1000": [1, 1000], "prob": [1, 1000]}
    assert {k: shapes[k] for k in expect} == expect
    assert [o.name for o in model.graph.output] == ["prob"]
    (prob,) = run(model, np.zeros((1, 3, 224, 224)))
    np.testing.assert_allclose(prob, np.full((1, 1000), 1e-3), rtol=1e-5)  # zero weights: uniform


# ------------------------------------------------------------------------------ arithmetic checks

BN_NET = INPUT % (3, 7, 6) + """
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { eps: %s } }
layer { name: "sc" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
"""


@pytest.mark.parametrize("factor", [0.25, 999.98, 0.0])
def test_batchnorm_scale_against_numpy(tmp_path, factor):
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    mean, var = rng.standard_normal(4), rng.uniform(0.5, 2.0, 4)
    gamma, beta = rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
    eps = 2e-5
    wpath = caffemodel({"conv": [w, b], "bn": [mean * factor, var * factor, [factor]], "sc": [gamma, beta]},
                       tmp_path / "t.caffemodel")
    model = convert_text(BN_NET % str(eps), wpath)
    x = rng.standard_normal((1, 3, 7, 6))
    conv, bn, sc, relu = run(model, x, ["conv", "bn", "sc", "relu"])
    ref_conv = conv_ref(x, w, b, (1, 1), (1, 1), (1, 1), 1)
    m, v = (mean, var) if factor else (np.zeros(4), np.zeros(4))  # Caffe: factor 0 -> statistics 0
    ref_bn = (ref_conv - m[None, :, None, None]) / np.sqrt(v[None, :, None, None] + eps)
    ref_sc = ref_bn * gamma[None, :, None, None] + beta[None, :, None, None]
    np.testing.assert_allclose(conv, ref_conv, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn, ref_bn, rtol=1e-4, atol=2e-3 if not factor else 1e-4)
    np.testing.assert_allclose(sc, ref_sc, rtol=1e-4, atol=2e-3 if not factor else 1e-4)
    np.testing.assert_allclose(relu, np.maximum(ref_sc, 0), rtol=1e-4, atol=2e-3 if not factor else 1e-4)
    # what the ONNX importer folds: BatchNormalization, then Mul and Add by per-channel constants
    assert [n.op_type for n in model.graph.node] == ["Conv", "BatchNormalization", "Mul", "Add", "Relu"]


@pytest.mark.parametrize("params, kernel, pad, stride, dil, group", [
    ("kernel_size: 3 pad: 1 stride: 2", (3, 3), (1, 1), (2, 2), (1, 1), 1),
    ("kernel_size: 3 kernel_size: 2 pad: 2 pad: 0 stride: 1 stride: 2", (3, 2), (2, 0), (1, 2), (1, 1), 1),
    ("kernel_h: 1 kernel_w: 3 pad_h: 0 pad_w: 1 stride_h: 2 stride_w: 1", (1, 3), (0, 1), (2, 1), (1, 1), 1),
    ("kernel_size: 3 pad: 2 dilation: 2 group: 2", (3, 3), (2, 2), (1, 1), (2, 2), 2),
])
def test_convolution_forms_against_numpy(tmp_path, params, kernel, pad, stride, dil, group):
    rng = np.random.default_rng(2)
    kh, kw = kernel
    w, b = rng.standard_normal((6, 4 // group, kh, kw)), rng.standard_normal(6)
    text = INPUT % (4, 9, 8) + f"""layer {{ name: "c" type: "Convolution" bottom: "data" top: "c"
        convolution_param {{ num_output: 6 {params} }} }}"""
    model = convert_text(text, caffemodel({"c": [w, b]}, tmp_path / "w.caffemodel"))
    x = rng.standard_normal((1, 4, 9, 8))
    (y,) = run(model, x)
    np.testing.assert_allclose(y, conv_ref(x, w, b, pad, stride, dil, group), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("method, size, k, s, p", [
    ("MAX", 112, 3, 2, 0),   # ResNet-50 pool1: ceil gives 56 where floor gives 55
    ("MAX", 13, 3, 2, 1),    # padding
    ("MAX", 5, 2, 2, 1),     # the last-window clip: ceil gives 4, the 4th window would start in the padding
    ("AVE", 5, 2, 2, 1),
    ("MAX", 10, 3, 3, 1),
    ("AVE", 7, 7, 1, 0),     # ResNet-50 pool5
    ("AVE", 12, 3, 2, 0),    # extra end padding, not counted
    ("AVE", 9, 3, 2, 1),     # padding counted, no extra
    ("AVE", 10, 3, 2, 1),    # padding counted and extra not: Pad + AveragePool
    ("AVE", 11, 4, 3, 2),
])
def test_pooling_matches_caffe(method, size, k, s, p):
    text = INPUT % (3, size, size) + f"""layer {{ name: "pool" type: "Pooling" bottom: "data" top: "pool"
        pooling_param {{ pool: {method} kernel_size: {k} stride: {s} pad: {p} }} }}"""
    model = convert_text(text)
    x = np.random.default_rng(3).standard_normal((1, 3, size, size))
    (y,) = run(model, x)
    ref = caffe_pool_ref(x, method, k, s, p)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    assert all(a.name != "ceil_mode" for n in model.graph.node for a in n.attribute)


def test_global_pooling_eltwise_coeff_fc_softmax_concat(tmp_path):
    rng = np.random.default_rng(4)
    fw, fb = rng.standard_normal((5, 6)), rng.standard_normal(5)
    text = INPUT % (3, 4, 4) + """
layer { name: "g" type: "Pooling" bottom: "data" top: "g" pooling_param { pool: AVE global_pooling: true } }
layer { name: "m" type: "Pooling" bottom: "data" top: "m" pooling_param { pool: MAX global_pooling: true } }
layer { name: "cat" type: "Concat" bottom: "g" bottom: "m" top: "cat" }
layer { name: "drop" type: "Dropout" bottom: "cat" top: "cat" dropout_param { dropout_ratio: 0.5 } }
layer { name: "sub" type: "Eltwise" bottom: "g" bottom: "m" top: "sub" eltwise_param { coeff: 1 coeff: -0.5 } }
layer { name: "fc" type: "InnerProduct" bottom: "cat" top: "fc" inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
"""
    model = convert_text(text, caffemodel({"fc": [fw, fb]}, tmp_path / "w.caffemodel"))
    x = rng.standard_normal((1, 3, 4, 4))
    assert sorted(o.name for o in model.graph.output) == ["prob", "sub"]
    sub, prob, fc = run(model, x, ["sub", "prob", "fc"])
    g, m = x.mean(axis=(2, 3)), x.max(axis=(2, 3))
    np.testing.assert_allclose(sub.reshape(1, 3), g - 0.5 * m, rtol=1e-5, atol=1e-6)
    ref_fc = np.concatenate([g, m], axis=1) @ fw.T + fb
    np.testing.assert_allclose(fc, ref_fc, rtol=1e-4, atol=1e-5)
    e = np.exp(ref_fc - ref_fc.max())
    np.testing.assert_allclose(prob, e / e.sum(), rtol=1e-4)
    fc_node = next(n for n in model.graph.node if n.output == ["fc"])
    assert fc_node.op_type == "Gemm" and fc_node.input[0] == "fc_flatten"  # Dropout dropped


def test_v1_layers_and_legacy_blob_shapes(tmp_path):
    """The V1 format (`layers { type: INNER_PRODUCT }`) and 4-D legacy blob shapes (1, 1, N, K)."""
    rng = np.random.default_rng(5)
    w, b = rng.standard_normal((3, 12)), rng.standard_normal(3)
    net = messages().NetParameter(name="t")
    layer = net.layers.add(name="ip")
    for a in (w.reshape(1, 1, 3, 12), b.reshape(1, 1, 1, 3)):
        blob = layer.blobs.add(num=a.shape[0], channels=a.shape[1], height=a.shape[2], width=a.shape[3])
        blob.data.extend(a.reshape(-1).astype(np.float32).tolist())
    (tmp_path / "w.caffemodel").write_bytes(net.SerializeToString())
    text = 'input: "data" input_dim: 10 input_dim: 3 input_dim: 2 input_dim: 2\n' + """
layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "ip" inner_product_param { num_output: 3 } }
layers { name: "relu" type: RELU bottom: "ip" top: "ip" relu_param { negative_slope: 0.1 } }
"""
    model = convert_text(text, tmp_path / "w.caffemodel")
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [1, 3, 2, 2]  # batch 1
    x = rng.standard_normal((1, 3, 2, 2))
    (y,) = run(model, x)
    ref = x.reshape(1, 12) @ w.T + b
    np.testing.assert_allclose(y, np.where(ref > 0, ref, 0.1 * ref), rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------------ bad input

def test_eltwise_prod_refused_naming_the_layer():
    text = INPUT % (2, 3, 3) + """
layer { name: "a" type: "ReLU" bottom: "data" top: "a" }
layer { name: "my_prod" type: "Eltwise" bottom: "data" bottom: "a" top: "p" eltwise_param { operation: PROD } }"""
    with pytest.raises(InputError, match=r"layer 'my_prod' \(Eltwise\): operation PROD is not supported"):
        convert_text(text)
    with pytest.raises(InputError, match=r"layer 'my_prod' \(Eltwise\): operation MAX"):
        convert_text(text.replace("PROD", "MAX"))


def test_unknown_field_names_line_and_column():
    text = INPUT % (1, 4, 4) + """layer {
  name: "c" type: "Convolution" bottom: "data" top: "c"
  convolution_param { num_output: 2 kernal_size: 3 }
}"""
    with pytest.raises(InputError) as e:
        caffe.parse_prototxt(text, "net.prototxt")
    msg = str(e.value)
    assert msg.startswith("net.prototxt:4:") and "kernal_size" in msg and "\n" not in msg
    # the name mapping reads leniently: names, types, bottoms and tops are all it needs
    assert [layer.name for layer in caffe.layers_of(caffe.parse_prototxt(text, strict=False))] == ["c"]


@pytest.mark.parametrize("text, match", [
    (INPUT % (1, 4, 4) + 'layer { name: "l" type: "LRN" bottom: "data" top: "l" }', r"'l' \(LRN\).*not supported"),
    (INPUT % (1, 4, 4) + 'layer { name: "r" type: "ReLU" bottom: "nope" top: "r" }', r"bottom 'nope' is not produced"),
    (INPUT % (1, 4, 4) + 'layer { name: "b" type: "BatchNorm" bottom: "data" top: "b" '
     'batch_norm_param { use_global_stats: false } }', r"'b' \(BatchNorm\): use_global_stats: false"),
    ('layer { name: "r" type: "ReLU" bottom: "x" top: "r" }', r"declares no input"),
    ("layer { name: ", r"t.prototxt:1:"),
])
def test_bad_networks_are_one_line_errors(text, match):
    with pytest.raises(InputError, match=match) as e:
        convert_text(text)
    assert "\n" not in str(e.value)


def test_missing_or_misshapen_weights_name_the_layer(tmp_path):
    text = INPUT % (2, 4, 4) + """layer { name: "c" type: "Convolution" bottom: "data" top: "c"
        convolution_param { num_output: 3 kernel_size: 1 } }"""
    with pytest.raises(InputError, match=r"w.caffemodel: layer 'c' \(Convolution\) has no weights"):
        convert_text(text, caffemodel({"other": [np.zeros(3)]}, tmp_path / "w.caffemodel"))
    with pytest.raises(InputError, match=r"layer 'c' \(Convolution\): weights has shape \[3, 2, 3, 3\]"):
        convert_text(text, caffemodel({"c": [np.zeros((3, 2, 3, 3)), np.zeros(3)]}, tmp_path / "w.caffemodel"))
    (tmp_path / "junk.caffemodel").write_bytes(b"\xff\xff\xff")
    with pytest.raises(InputError, match="junk.caffemodel: not a Caffe binary model"):
        caffe.read_caffemodel(tmp_path / "junk.caffemodel")


def test_cli_writes_the_onnx_file(tmp_path, capsys):
    (tmp_path / "n.prototxt").write_text(INPUT % (1, 4, 4) + 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" }')
    assert caffe.main([str(tmp_path / "n.prototxt"), "-o", str(tmp_path / "n.onnx")]) == 0
    assert [n.op_type for n in onnx.load(str(tmp_path / "n.onnx")).graph.node] == ["Relu"]
    assert caffe.main([str(tmp_path / "missing.prototxt"), "-o", str(tmp_path / "m.onnx")]) == 2
    assert "missing.prototxt: cannot read" in capsys.readouterr().err


def test_name_mapping_reads_networks_it_cannot_convert():
    """calib's prototxt layout uses the same schema reader, leniently: an LRN layer's parameters
    (outside the schema) are skipped, V1 types become current type strings, TRAIN layers drop."""
    from nvdla_int8.calib.caffe_prototxt import parse_prototxt

    text = """name: "alex"
layers { name: "data" type: DATA top: "data" include { phase: TRAIN } data_param { source: "x" } }
layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" blobs_lr: 1 }
layers { name: "norm1" type: LRN bottom: "conv1" top: "norm1" lrn_param { local_size: 5 alpha: 0.0001 } }
"""
    with pytest.raises(InputError, match="mixes 'layer' and V1 'layers'"):
        parse_prototxt(text)
    net = parse_prototxt(text.replace('layer { name: "in" type: "Input" top: "data" input_param '
                                      '{ shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n', 'input: "data"\n'))
    assert net.inputs == ("data",)
    assert [(la.name, la.type) for la in net.layers] == [("conv1", "Convolution"), ("norm1", "LRN")]
    with pytest.raises(InputError, match=r"net.prototxt:\d+:\d+"):
        parse_prototxt("layers { name: ", "net.prototxt")
