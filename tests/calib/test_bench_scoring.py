"""bench/bench_quant_vs_ort.py's scoring: a tie between int8 outputs counts as a shared guess, not
as the lowest class (argmax's rule), so the score does not depend on how classes are numbered;
the paired flips add up to the accuracy difference; --table keeps the latest row of a key and
refuses a file that is not saved rows in one line; onnxruntime's int8 is run as its fake-quant."""
from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest

from nvdla_int8.errors import InputError
from tests.suite import REPO


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_quant_vs_ort", REPO / "bench/bench_quant_vs_ort.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


def test_a_tie_is_shared_whatever_the_class_order(bench):
    scores = np.array([[0, 5, 5, 1],      # tie between 1 and 2, label 2: argmax says 1
                       [5, 5, 5, 1],      # three-way tie, label 0
                       [0, 1, 7, 2],      # clear and right
                       [9, 1, 7, 2]])     # clear and wrong
    labels = np.array([2, 0, 2, 2])
    assert bench.tie_credit(scores, labels).tolist() == [0.5, 1 / 3, 1.0, 0.0]
    order = np.array([3, 2, 1, 0])          # the same outputs with the classes numbered backwards
    assert bench.tie_credit(scores[:, order], order.argsort()[labels]).tolist() == [0.5, 1 / 3, 1.0, 0.0]


def test_score_and_flips_agree(bench):
    rng = np.random.default_rng(5)
    n = 200
    labels = rng.integers(0, 10, n)
    fp32 = {"digit": rng.normal(0, 1, (n, 10)) + 2 * np.eye(10)[labels]}
    q = lambda s: {"digit": np.round(fp32["digit"] / s) * s}   # noqa: E731  coarse steps tie often
    ours, theirs = q(0.5), q(0.9)
    assert np.sum(np.ptp(np.sort(theirs["digit"])[:, -2:], axis=1) == 0) > 5   # ties do occur
    a, b = bench.flips(bench.right(ours, labels), bench.right(theirs, labels))["digit"]
    acc = lambda o: bench.score(o, fp32, labels)["digit"]["acc"]   # noqa: E731
    assert np.isclose(acc(ours) - acc(theirs), (a - b) / n, rtol=0, atol=1e-12)
    assert bench.score(fp32, fp32, labels)["digit"]["agree"] == 1.0


def test_table_keeps_the_latest_row(bench, tmp_path):
    row = {"model": "m.onnx", "method": "max", "mode": "per-kernel", "ok": False}
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps([row, dict(row, mode="per-filter")]))
    second.write_text(json.dumps([dict(row, ok=True)]))
    assert bench.latest_rows([first, second]) == [dict(row, ok=True), dict(row, mode="per-filter")]
    bad = tmp_path / "bad.json"
    bad.write_text('[{"model": "m.onnx"}]')
    with pytest.raises(InputError, match="bad.json") as e:
        bench.latest_rows([first, bad])
    assert "\n" not in str(e.value)


def test_pooled_flips_sum_over_models_and_heads(bench):
    rows = [{"method": "max", "mode": "per-kernel", "flips": {"digit": [3, 5], "parity": [1, 0]}},
            {"method": "max", "mode": "per-kernel", "flips": {"digit": [2.5, 1]}},
            {"method": "mse", "mode": "per-filter", "flips": None}]       # a refused table has none
    text = bench.pooled(rows)
    assert "max          per-kernel  3 heads: 6.5 / 6, +0.5 images, 2 SE 7.1" in text
    assert "mse" not in text and "BEHIND" not in text
    assert "BEHIND by more than 2 SE" in bench.pooled([{"method": "max", "mode": "per-kernel", "flips": {"d": [2, 12]}}])


def test_summary_counts_rows_where_fp32_itself_would_miss(bench):
    def row(method, ort_acc, ours_acc):
        head = lambda a: {"acc": a, "mean": 1.0}   # noqa: E731
        return {"model": "m.onnx", "method": method, "mode": "per-kernel", "ort": {"digit": head(ort_acc)},
                "ours": {"digit": head(ours_acc)}, "fp32_acc": {"digit": 0.95}, "flips": {"digit": [0, 1]},
                "ok": ours_acc >= ort_acc}
    text = bench.summary([row("max", 0.951, 0.950), row("mse", 0.949, 0.950), row("entropy-trt", 0.96, 0.5)])
    assert "1/3 (model, method, mode) meet the bar" in text
    assert "above its FP32 accuracy on some head in 1 of the 2 rows other than entropy-trt" in text


def _qdq_conv(tmp_path, channels: int):
    """x -> Q/DQ -> 1x1 Conv (every weight int8 127) -> Q/DQ, symmetric, in quantize_static's QDQ
    form; returns the model path and the output scale."""
    from onnx import TensorProto, helper as oh, numpy_helper as nh, save

    sx, sw, sy = 1 / 127, 1 / 127, channels / 127
    nodes = [oh.make_node("QuantizeLinear", ["x", "sx", "z"], ["xq"]),
             oh.make_node("DequantizeLinear", ["xq", "sx", "z"], ["xd"]),
             oh.make_node("DequantizeLinear", ["w", "sw", "z"], ["wd"]),
             oh.make_node("Conv", ["xd", "wd"], ["y"]),
             oh.make_node("QuantizeLinear", ["y", "sy", "z"], ["yq"]),
             oh.make_node("DequantizeLinear", ["yq", "sy", "z"], ["out"])]
    inits = [nh.from_array(np.float32(sx), "sx"), nh.from_array(np.float32(sw), "sw"),
             nh.from_array(np.float32(sy), "sy"), nh.from_array(np.int8(0), "z"),
             nh.from_array(np.full((1, channels, 1, 1), 127, np.int8), "w")]
    graph = oh.make_graph(nodes, "qdq", [oh.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, 4, 4])],
                          [oh.make_tensor_value_info("out", TensorProto.FLOAT, [1, 1, 4, 4])], inits)
    path = tmp_path / "qdq.onnx"
    save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 13)]), path)
    return path, sy


def test_onnxruntime_int8_is_scored_as_its_fake_quant(bench, tmp_path):
    """onnxruntime's QDQ model is the peer as quantize_static wrote it: on an AVX2 CPU without VNNI
    its fused int8 kernels saturate 16-bit pair sums of 127 x 127 products (on this test's data
    they missed by up to 6 output steps on an AMD EPYC), which would score the CPU, not the
    calibration. The fake-quant here is exact: every product is 1/127^2 x an integer."""
    channels = 16
    path, sy = _qdq_conv(tmp_path, channels)
    x = np.random.default_rng(0).choice([-1.0, 1.0], (3, channels, 4, 4))
    want = np.round(x.sum(1) / sy) * sy           # x quantizes to +-127, weights are 127: sum(x) exactly
    got = bench.ort_outputs(path, x, as_written=True)["out"]
    np.testing.assert_array_equal(got, want.reshape(3, -1).astype(np.float32))
