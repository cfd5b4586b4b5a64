"""Graphs, not chains: residual adds, stand-alone adds, concat, grouped and depthwise convolution,
ceil-mode pooling, several outputs and aliases, each compiled in both quantization modes, its
traces replayed on the golden model (their CRCs), and its outputs compared with onnxruntime's
FP32 ones (SQNR; a wrong scale, shift or operand layout drops it far below the bound)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nvdla_int8.conformance import find_traces
from nvdla_int8.golden.replay import replay_trace
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.graph.ir import ConvLayer, EltwiseAdd
from nvdla_int8.lower.vectors import build_vectors
from nvdla_int8.quantize.network import quantize
from nvdla_int8.run.compiled import CompiledNetwork, sqnr_db
from nvdla_int8.run.reference import calibrated_scales, fp32_activations
from nvdla_int8.trace import Trace

n = helper.make_node
MODES = ["per-kernel", "per-filter"]


def _model(path, nodes, inits, in_shape, outputs: dict, opset=13):
    rng = np.random.default_rng(0)
    inits = {k: (v(rng) if callable(v) else v) for k, v in inits.items()}
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info(k, TensorProto.FLOAT, s) for k, s in outputs.items()],
                          [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return path


def _conv(name, x, y, k, c, r=3, group=1, stride=1, bn=True, relu=True):
    """Conv [+ BN] [+ Relu] nodes and their initializers (He-scaled random weights)."""
    pad = r // 2
    nodes = [n("Conv", [x, f"{name}_w", f"{name}_b"], [f"{name}_c" if (bn or relu) else y], name=name,
               kernel_shape=[r, r], pads=[pad] * 4, strides=[stride] * 2, group=group)]
    fan = c // group * r * r
    inits = {f"{name}_w": lambda g: g.normal(0, np.sqrt(2 / fan), (k, c // group, r, r)),
             f"{name}_b": lambda g: g.normal(0, 0.1, k)}
    t = f"{name}_c"
    if bn:
        out = y if not relu else f"{name}_bn"
        nodes.append(n("BatchNormalization", [t] + [f"{name}_{s}" for s in ("g", "be", "m", "v")], [out],
                       name=f"{name}_bnorm"))
        inits.update({f"{name}_g": lambda g: g.uniform(0.5, 1.5, k), f"{name}_be": lambda g: g.normal(0, 0.2, k),
                      f"{name}_m": lambda g: g.normal(0, 0.1, k), f"{name}_v": lambda g: g.uniform(0.5, 1.5, k)})
        t = out
    if relu:
        nodes.append(n("Relu", [t], [y], name=f"{name}_relu"))
    return nodes, inits


def _residual_model(path):
    """conv1 -> [conv2 -> conv3(+bn) + shortcut conv(+bn)] -> relu, then a pre-activation block
    (relu before the add: a stand-alone addition) and an Identity the exporter would write."""
    nodes, inits = _chain(_conv("c1", "x", "a", 16, 3), _conv("c2", "a", "b", 16, 16),
                          _conv("c3", "b", "c3o", 24, 16, r=1, relu=False), _conv("sc", "a", "sco", 24, 16, r=1, relu=False),
                          [n("Add", ["c3o", "sco"], ["sum"], name="add1"), n("Relu", ["sum"], ["s0"], name="add1_relu"),
                           n("Identity", ["s0"], ["s"], name="ident")],
                          _conv("p1", "s", "p1o", 24, 24), _conv("p2", "s", "p2o", 24, 24, r=1),
                          [n("Add", ["p1o", "p2o"], ["y"], name="add2")])
    return _model(path, nodes, inits, [1, 3, 10, 9], {"y": [1, 24, 10, 9]})


def _chain(*parts):
    """Nodes and initializers of parts in order; a part is (nodes, inits) or a list of nodes."""
    nodes, inits = [], {}
    for part in parts:
        if isinstance(part, list):
            nodes += part
        else:
            nodes += part[0]
            inits.update(part[1])
    return nodes, inits


def _compile(model, tmp_path, mode, n_img=12):
    g = load_graph(model)
    x = np.random.default_rng(5).normal(0, 1, (n_img,) + g.input_shape)
    acts = fp32_activations(model, x, g.calibrated_tensors() + [t for t in g.outputs])
    qnet = quantize(g, calibrated_scales(acts, "max"), mode)
    out = tmp_path / mode
    build_vectors(qnet, model, out, x[0], 1, "t.json")
    return g, x, acts, out


def _check(model, tmp_path, mode, min_sqnr):
    g, x, acts, out = _compile(model, tmp_path, mode)
    for t in find_traces([out]):
        outcome, _ = replay_trace(Trace.load(t))
        assert outcome.passed, outcome.message
    net = CompiledNetwork(out)
    runs = [net.run(xi) for xi in x]
    for t in g.outputs:
        got = np.stack([net.dequantize(t, r[t]) for r in runs]).reshape(len(x), -1)
        assert sqnr_db(acts[t].reshape(len(x), -1), got) > min_sqnr, t
    return g, net


@pytest.mark.parametrize("mode", MODES)
def test_residual_adds_fuse_into_the_conv_and_track_fp32(tmp_path, mode):
    model = _residual_model(tmp_path / "res.onnx")
    g, net = _check(model, tmp_path, mode, 25)
    convs = {o.name: o for o in g.ops if isinstance(o, ConvLayer)}
    assert convs["c3"].residual == "sco" and convs["c3"].act is not None  # add + relu fused into c3
    assert [o.name for o in g.ops if isinstance(o, EltwiseAdd)] == ["add2"]  # p1 has its ReLU: no fusion
    assert "s" not in g.calibrated_tensors() and "s0" in g.calibrated_tensors()  # the Identity is an alias
    steps = [s["name"] for s in net.manifest["steps"]]
    assert steps.index("c3") > steps.index("sc")  # c3 runs where the addition was
    rep = {r["layer"]: r for r in net.manifest["quantization_report"]}
    assert rep["c3"]["residual_shift"] > 8 and rep["add2"]["residual_shift"] > 8


def test_residual_scaling_is_what_the_sqnr_measures(tmp_path, monkeypatch):
    """The SQNR bound above can fail: the same network with the residual operand's shift off by
    one (the residual counted double) falls far below it."""
    import nvdla_int8.lower.passes as passes

    real = passes.sdp_stages

    def off_by_one(p, sl, kn, residual):
        if p.residual_shift is not None:
            p = type(p)(**{**p.__dict__, "residual_shift": p.residual_shift + 1})
        return real(p, sl, kn, residual)

    monkeypatch.setattr(passes, "sdp_stages", off_by_one)
    model = _residual_model(tmp_path / "res.onnx")
    g, x, acts, out = _compile(model, tmp_path, "per-kernel")
    net = CompiledNetwork(out)
    got = np.stack([net.dequantize("y", net.run(xi)["y"]) for xi in x]).reshape(len(x), -1)
    assert sqnr_db(acts["y"].reshape(len(x), -1), got) < 15


@pytest.mark.parametrize("mode", MODES)
def test_depthwise_and_grouped_conv(tmp_path, mode):
    nodes, inits = _chain(_conv("c1", "x", "a", 16, 3), _conv("dw", "a", "b", 16, 16, group=16),
                          _conv("pw", "b", "c", 16, 16, r=1), _conv("g4", "c", "y", 24, 16, group=4, relu=False))
    model = _model(tmp_path / "dw.onnx", nodes, inits, [1, 3, 9, 10], {"y": [1, 24, 9, 10]})
    g, _ = _check(model, tmp_path, mode, 25)
    assert {o.name: o.group for o in g.conv_layers()}["dw"] == 16


@pytest.mark.parametrize("mode", MODES)
def test_concat_two_heads_and_ceil_mode_pooling(tmp_path, mode):
    """Two branches concatenated along channels (their producers take the Concat's scale), a
    MaxPool with ceil_mode=1, and two outputs: a class head (Gemm + Softmax) and a box head."""
    nodes, inits = _chain(
        _conv("c1", "x", "a", 8, 3), _conv("b1", "a", "u", 8, 8, r=1), _conv("b2", "a", "v", 16, 8),
        [n("Concat", ["u", "v"], ["cat"], name="cat", axis=1),
         n("MaxPool", ["cat"], ["p"], name="pool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)],
        _conv("c2", "p", "q", 16, 24), _conv("box", "q", "boxes", 4, 16, r=1, bn=False, relu=False),
        [n("GlobalAveragePool", ["q"], ["gap"], name="gap"), n("Flatten", ["gap"], ["f"], name="flat"),
         n("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
         n("Softmax", ["logits"], ["prob"], name="softmax", axis=1)])
    inits.update({"fc_w": lambda r: r.normal(0, 0.3, (5, 16)), "fc_b": lambda r: r.normal(0, 0.1, 5)})
    model = _model(tmp_path / "cat.onnx", nodes, inits, [1, 3, 12, 11],
                   {"prob": [1, 5], "boxes": [1, 4, 6, 5]})
    g, x, acts, out = _compile(model, tmp_path, mode)
    assert g.outputs == ["prob", "boxes"]
    net = CompiledNetwork(out)
    runs = [net.run(xi) for xi in x]
    boxes = np.stack([net.dequantize("boxes", r["boxes"]) for r in runs]).reshape(len(x), -1)
    assert sqnr_db(acts["boxes"].reshape(len(x), -1), boxes) > 20
    prob = np.stack([r["prob"].reshape(-1) for r in runs])
    assert np.mean(np.abs(prob - acts["prob"].reshape(len(x), -1))) < 0.02


def test_pooling_matches_onnxruntime_exactly(tmp_path):
    """Host pooling on int8 values (scale 1) equals onnxruntime's on the same values: ceil_mode,
    asymmetric pads, count_include_pad both ways (rounded the datapath's way)."""
    import onnxruntime as ort

    from nvdla_int8.graph.ir import HostOp
    from nvdla_int8.importers.onnx import import_onnx
    from nvdla_int8.run.hostops import run_host_op

    x = np.random.default_rng(1).integers(-128, 128, (1, 3, 7, 8)).astype(np.float32)
    cases = [("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
             ("MaxPool", dict(kernel_shape=[2, 3], strides=[2, 2], pads=[0, 1, 1, 0], ceil_mode=1)),
             ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1, count_include_pad=0)),
             ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1,
                                  count_include_pad=1)),
             ("AveragePool", dict(kernel_shape=[2, 2], strides=[2, 2], pads=[1, 0, 0, 1], count_include_pad=0))]
    for i, (op, attrs) in enumerate(cases):
        m = helper.make_model(helper.make_graph(
            [n(op, ["x"], ["y"], name="p", **attrs)], "p", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                          list(x.shape))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]), opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        path = tmp_path / f"p{i}.onnx"
        onnx.save(onnx.shape_inference.infer_shapes(m), str(path))
        want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0][0]
        _, raw = import_onnx(path)
        (hop,) = [o for o in raw if isinstance(o, HostOp)]
        got = run_host_op(hop, [x[0].astype(np.int8)], [1.0], 1.0)
        want = np.sign(want) * np.floor(np.abs(want.astype(np.float64)) + 0.5)
        assert got.shape == want.shape and np.array_equal(got, want), (op, attrs)


def test_save_outputs_holds_every_output(tmp_path):
    from nvdla_int8.run.compiled import evaluate

    model = _residual_model(tmp_path / "res.onnx")
    _, x, _, out = _compile(model, tmp_path, "per-kernel", n_img=4)
    f = tmp_path / "o.npz"
    res = evaluate(out, x, None, model, save_outputs=f)
    d = np.load(f)
    assert set(d.files) == {"y", "y.int8"} and d["y"].shape == (4, 24, 10, 9) and d["y.int8"].dtype == np.int8
    assert res["outputs"][0]["tensor"] == "y" and res["outputs"][0]["bit_exact_vs_golden"] == 1.0


@pytest.mark.rtl
def test_residual_and_add_traces_are_bit_exact_on_rtl(tmp_path):
    """Conv + per-element residual operand (flying SDP with NRDMA per element) and the
    stand-alone addition, both modes, replayed on the RTL with the golden CRCs."""
    from nvdla_int8 import backends

    paths = []
    for mode in MODES:
        paths += find_traces([_compile(_residual_model(tmp_path / "res.onnx"), tmp_path, mode, n_img=2)[3]])
    outcomes = list(backends.get("rtl").replay(paths, work_dir=tmp_path / "rtl"))
    assert len(outcomes) == len(paths) and all(o.passed for o in outcomes), [o.message for o in outcomes
                                                                             if not o.passed]
