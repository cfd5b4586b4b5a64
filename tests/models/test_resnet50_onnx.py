"""tools/models/resnet50_onnx.py: torchvision's ResNet-50 topology, sane random weights."""
from __future__ import annotations

import collections

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from nvdla_int8.calib.natural_images import imagenet_preprocess, natural_images
from tools.models.resnet50_onnx import build_resnet50, resnet50

TORCHVISION_RESNET50_PARAMETERS = 25_557_032   # sum(p.numel() for p in torchvision.models.resnet50().parameters())


def _session(model: onnx.ModelProto, extra_outputs=()) -> ort.InferenceSession:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for name in extra_outputs:
        m.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    return imagenet_preprocess(natural_images("test")[::8])     # one view of each of the 7 photos


@pytest.fixture(scope="module")
def unfolded() -> onnx.ModelProto:
    return resnet50(opset=17, seed=3, fold_bn=False)


def test_topology_is_torchvision_v1_5(unfolded):
    ops = collections.Counter(n.op_type for n in unfolded.graph.node)
    assert ops == {"Conv": 53, "BatchNormalization": 53, "Relu": 49, "Add": 16, "MaxPool": 1,
                   "GlobalAveragePool": 1, "Flatten": 1, "Gemm": 1}
    params = sum(int(np.prod(t.dims)) for t in unfolded.graph.initializer if not t.name.endswith(("running_mean", "running_var")))
    assert params == TORCHVISION_RESNET50_PARAMETERS
    attrs = {n.name: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute} for n in unfolded.graph.node}
    # v1.5: the stride sits on the 3x3 conv of a stage's first block, and on its 1x1 shortcut
    assert attrs["/layer2/layer2.0/conv1/Conv"]["strides"] == [1, 1]
    assert attrs["/layer2/layer2.0/conv2/Conv"]["strides"] == [2, 2]
    assert attrs["/layer2/layer2.0/downsample.0/Conv"]["strides"] == [2, 2]
    assert attrs["/conv1/Conv"]["kernel_shape"] == [7, 7] and attrs["/conv1/Conv"]["strides"] == [2, 2]
    assert attrs["/maxpool/MaxPool"]["pads"] == [1, 1, 1, 1]


def test_folded_model_computes_the_same(unfolded, photos, tmp_path):
    path = build_resnet50(tmp_path / "r50.onnx", opset=13, seed=3)
    folded = onnx.load(str(path))
    onnx.checker.check_model(folded)
    assert folded.opset_import[0].version == 13 and not folded.metadata_props
    assert not any(n.op_type == "BatchNormalization" for n in folded.graph.node)
    a = np.concatenate([_session(unfolded).run(None, {"input": p[None]})[0] for p in photos[:2]])
    b = np.concatenate([_session(folded).run(None, {"input": p[None]})[0] for p in photos[:2]])
    np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-3 * np.abs(a).max())


def test_activations_are_sane_and_top1_varies(unfolded, photos):
    blocks = [n.output[0] for n in unfolded.graph.node if n.name.endswith("relu_2/Relu")]
    sess = _session(unfolded, blocks)
    runs = [sess.run(None, {"input": p[None]}) for p in photos]
    for i, name in enumerate(blocks, start=1):
        rms = float(np.sqrt(np.mean([np.mean(r[i] ** 2) for r in runs])))
        assert 0.3 < rms < 3, (name, rms)
    top1 = {int(r[0].argmax()) for r in runs}
    assert len(top1) >= 4, top1


def test_fresh_statistics_with_identity_biases_as_the_exporter_writes():
    m = resnet50(opset=13, seed=0, bn_stats="fresh", identity_biases=True)
    ids = [n for n in m.graph.node if n.op_type == "Identity"]
    assert len(ids) == 47     # issue #12: 53 zero biases, 6 distinct lengths
    inits = {t.name for t in m.graph.initializer}
    assert all(n.input[0] in inits for n in ids)
    assert len({n.input[0] for n in ids}) == 6


def test_bad_options():
    with pytest.raises(ValueError, match="bn_stats"):
        resnet50(bn_stats="trained")
    with pytest.raises(ValueError, match="fold_bn"):
        resnet50(fold_bn=False, identity_biases=True)
