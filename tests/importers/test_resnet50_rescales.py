"""The seed's rescale derivation on the compiled ResNet-50 (spec/calibration.md §5.5). With NVDLA's
table, `res2a` adds `scale2a_branch1` (0.1195462) and `scale2a_branch2c` into `res2a_relu`
(0.0984744): the branch the addition is fused into accumulates, the other one enters per element
at Sr / So, which is 1.2139824 or 0.7370216 (the two pairs of §5.5); read back from the compiled
layer's registers (X2 ALU shift and output converter)."""
from __future__ import annotations

import numpy as np
import onnx

from nvdla_int8.calib.nvdla_table import read_table
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.hw.regmap import REGMAP
from nvdla_int8.importers.caffe import caffe_to_onnx
from nvdla_int8.lower.passes import lower_layer
from nvdla_int8.quantize.network import quantize


def test_shortcut_rescale_of_res2a_from_the_compiled_program(resnet50_prototxt, resnet50_table, tmp_path):
    path = tmp_path / "r50.onnx"
    onnx.save(caffe_to_onnx(resnet50_prototxt), str(path))  # placeholder weights: the scales are the table's
    graph = load_graph(path)
    table = {k: float(e.effective_scale()) for k, e in read_table(resnet50_table).items()}
    qnet = quantize(graph, table, "per-kernel", source=str(resnet50_table))
    (q,) = [q for q in qnet.layers.values() if q.layer.output == "res2a_relu"]
    assert {q.layer.name, q.layer.residual} in ({"res2a_branch1", "scale2a_branch2c"},
                                                {"res2a_branch2c", "scale2a_branch1"})
    regs = {(r.unit, r.name): v for r, v in lower_layer(q)[0].writes}
    shift = REGMAP.reg("SDP", "D_DP_BN_ALU_CFG").field("BN_ALU_SHIFT_VALUE").get(regs[("SDP", "D_DP_BN_ALU_CFG")])
    cvt_m = REGMAP.reg("SDP", "D_CVT_SCALE").field("CVT_SCALE").get(regs[("SDP", "D_CVT_SCALE")])
    cvt_t = REGMAP.reg("SDP", "D_CVT_SHIFT").field("CVT_SHIFT").get(regs[("SDP", "D_CVT_SHIFT")])
    factor = 2.0 ** shift * cvt_m / 2.0 ** cvt_t
    want = table[q.layer.residual] / table["res2a_relu"]
    assert abs(factor / want - 1) < 1e-4
    assert np.isclose(want, {"scale2a_branch1": 1.2139824, "scale2a_branch2c": 0.7370216}[q.layer.residual],
                      atol=1e-6)


def test_a_table_keyed_by_tensorrt_names_is_refused_with_every_missing_name(resnet50_prototxt, tmp_path):
    import pytest

    from nvdla_int8.errors import InputError
    from tests.suite import RESNET50, require

    path = tmp_path / "r50.onnx"
    onnx.save(caffe_to_onnx(resnet50_prototxt), str(path))
    graph = load_graph(path)
    names = require(RESNET50 / "resnet50.tensor-names.json")
    table = {k: float(e.effective_scale()) for k, e in read_table(names).items()}
    with pytest.raises(InputError) as e:
        quantize(graph, table, "per-kernel", source=str(names))
    msg = str(e.value)
    absent = [t for t in graph.calibrated_tensors()[1:] if t not in table]
    assert len(absent) > 50 and f"no scale for {len(absent)} tensor(s)" in msg
    assert all(repr(t) in msg for t in absent) and "\n" not in msg
