"""Whole hardware layers: grouped convolution over channel windows (equal to the dense
block-diagonal lowering, close to onnxruntime FP32), one multi-pass trace per layer (replays with
its CRC; equal to the passes run one by one), and CompiledNetwork's in-memory run on one reused
memory image (equal to fresh runs, image after image)."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from nvdla_int8.conformance import find_traces
from nvdla_int8.golden.replay import replay_trace
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.graph.ir import ConvLayer
from nvdla_int8.lower.legality import check_program
from nvdla_int8.lower.passes import dense_equivalent, kernel_blocks, lower_layer
from nvdla_int8.lower.program_run import layer_image, run_golden, run_layer, window_slices
from nvdla_int8.lower.vectors import build_vectors, layer_trace
from nvdla_int8.quantize.network import quantize, quantize_layer
from nvdla_int8.run.compiled import CompiledNetwork, sqnr_db
from nvdla_int8.run.reference import calibrated_scales, fp32_activations
from nvdla_int8.trace import Trace
from nvdla_int8.trace.memory import SparseMemory


def _grouped(c, k, group, h=20, w=18, r=3, stride=(1, 1), mode="per-filter"):
    rng = np.random.default_rng(5)
    ho = (h + 2 - r) // stride[0] + 1
    wo = (w + 2 - r) // stride[1] + 1
    layer = ConvLayer("g", "Conv", "x", "y", rng.normal(0, 0.3, (k, c // group, r, r)), rng.normal(0, 0.1, k),
                      (c, h, w), (k, ho, wo), stride=stride, pads=(1, 1, 1, 1), group=group)
    return quantize_layer(layer, 0.02, 0.05, mode, None)


def _run(progs, x):
    return run_layer(layer_image(progs), SparseMemory(), x)[0]


@pytest.mark.parametrize("c,k,group,stride", [(24, 24, 24, (1, 1)), (40, 40, 40, (2, 2)), (32, 16, 2, (1, 1)),
                                              (48, 24, 12, (1, 2)), (36, 12, 3, (1, 1))])
def test_grouped_conv_reads_channel_windows_and_equals_the_dense_lowering(c, k, group, stride):
    q = _grouped(c, k, group, stride=stride)
    progs = lower_layer(q)
    dense = lower_layer(dense_equivalent(q))
    for p in progs:
        assert check_program(p.writes) == [], p.name
        c0, c1 = p.window["channels"]
        assert c0 % 8 == 0 and c1 - c0 < c  # a window, never every channel
    x = np.random.default_rng(6).integers(-128, 128, q.layer.in_shape).astype(np.int8)
    assert np.array_equal(_run(progs, x), _run(dense, x))
    cg = c // group  # each block's window holds only the groups of its kernels (8-aligned at the start)
    for b in kernel_blocks(q):
        groups = range(b.k0 // (k // group), (b.k1 - 1) // (k // group) + 1)
        assert b.c1 == (groups[-1] + 1) * cg and b.c0 == 8 * (groups[0] * cg // 8)


def test_depthwise_macs_are_reported_honestly(tmp_path, make_model):
    """Depthwise 3x3 over 32 channels: useful MACs count C/group = 1 channel per output, the MAC
    array computes 8 (one channel window of 8 per block of 8 kernels): 1/8, not 1/32 as dense."""
    rng = np.random.default_rng(0)
    n = helper.make_node
    nodes = [n("Conv", ["x", "w", "b"], ["c"], name="dw", kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=32),
             n("Relu", ["c"], ["y"], name="relu")]
    path = make_model(tmp_path / "dw.onnx", nodes, {"w": rng.normal(0, 0.5, (32, 1, 3, 3)), "b": rng.normal(0, 0.1, 32)},
                      [1, 32, 12, 10], [1, 32, 12, 10])
    g = load_graph(path)
    x = rng.normal(0, 1, (12,) + g.input_shape)
    acts = fp32_activations(path, x, [g.input, "y"])
    man = build_vectors(quantize(g, calibrated_scales(acts, "max"), "per-filter"), path, tmp_path / "v", x[0], 1, "t")
    (step,) = [s for s in man["steps"] if s["kind"] == "hw"]
    assert step["macs"] == 32 * 12 * 10 * 9 and step["macs_computed"] == 8 * step["macs"]
    for t in find_traces([tmp_path / "v"]):
        assert replay_trace(Trace.load(t))[0].passed
    net = CompiledNetwork(tmp_path / "v")
    got = np.stack([net.dequantize("y", net.run(xi)["y"]) for xi in x])
    assert sqnr_db(acts["y"], got) > 25


def _big(c=64, h=48, w=48, k=20, r=3, stride=1):
    rng = np.random.default_rng(1)
    p = r // 2
    layer = ConvLayer("big", "Conv", "x", "y", rng.normal(0, 0.1, (k, c, r, r)), rng.normal(0, 0.1, k), (c, h, w),
                      (k, (h + 2 * p - r) // stride + 1, (w + 2 * p - r) // stride + 1), pads=(p, p, p, p),
                      stride=(stride, stride))
    return quantize_layer(layer, 0.02, 0.05, "per-filter", None)


def test_strided_1x1_reads_every_other_row_through_the_line_stride(monkeypatch):
    """1x1 stride 2 over 256 x 56 x 56 (ResNet's projection): the passes read only the rows the
    outputs use (line stride of two lines, vertical stride 1): fewer passes, the same output."""
    import nvdla_int8.lower.passes as passes

    q = _big(c=256, h=56, w=56, k=16, r=1, stride=2)
    progs = lower_layer(q)
    assert all(check_program(p.writes) == [] for p in progs)
    x = np.random.default_rng(2).integers(-128, 128, q.layer.in_shape).astype(np.int8)
    monkeypatch.setattr(passes, "row_step", lambda q: 1)
    every_row = lower_layer(q)
    assert len(progs) < len(every_row)
    assert np.array_equal(_run(progs, x), _run(every_row, x))


def test_multi_pass_layer_trace_replays_and_equals_the_passes_alone(tmp_path):
    q = _big()
    progs = lower_layer(q)
    assert len(progs) >= 2
    x = np.random.default_rng(2).integers(-128, 128, q.layer.in_shape).astype(np.int8)
    trace, y, _ = layer_trace(progs, x, "multi")
    alone = np.zeros_like(y)
    for p in progs:
        alone[window_slices(p.window, p.output_shape)] = run_golden(p, x)[0]
    assert np.array_equal(y, alone)
    assert [str(c.args[0]) for c in trace.commands if c.op == "intr_notify"] == \
        [f"SDP_{i % 2}" for i in range(len(progs))]  # alternating register groups
    outcome, player = replay_trace(Trace.load(trace.save(tmp_path)))
    assert outcome.passed, outcome.message
    assert len(player.m.layers) == len(progs)
    # one image per tensor: the input and the weights are loaded once
    loads = [str(c.args[2]) for c in trace.commands if c.op == "mem_load"]
    assert len(loads) == len(set(loads)) and sum(n.endswith("_weights.dat") for n in loads) == 1


def test_compiled_network_reuses_one_memory_image(tmp_path, conv_model):
    """Image after image on one memory image gives what a fresh network gives each image, and
    what the layer's trace replays."""
    g = load_graph(conv_model)
    x = np.random.default_rng(3).normal(0, 1, (3,) + g.input_shape)
    acts = fp32_activations(conv_model, x, [g.input] + [o.output for o in g.ops])
    build_vectors(quantize(g, calibrated_scales(acts, "max"), "per-kernel"), conv_model, tmp_path, x[0], 1, "t")
    net = CompiledNetwork(tmp_path)
    reused = [net.run(xi)["y"] for xi in x]
    fresh = [CompiledNetwork(tmp_path).run(xi)["y"] for xi in x]
    assert all(np.array_equal(a, b) for a, b in zip(reused, fresh))
    assert not np.array_equal(reused[0], reused[1])


@pytest.mark.rtl
def test_multi_pass_and_grouped_layer_traces_are_bit_exact_on_rtl(tmp_path):
    """Passes back to back in alternating register groups, and grouped passes reading channel
    windows: the RTL must agree with the golden model byte for byte."""
    from tb.trace_runner import run_traces

    paths = []
    for name, q in (("multi", _big(c=64, h=56, w=40, k=12)), ("grouped", _grouped(40, 40, 40, h=10, w=9)),
                    ("strided1x1", _big(c=256, h=40, w=30, k=8, r=1, stride=2))):
        x = np.random.default_rng(4).integers(-128, 128, q.layer.in_shape).astype(np.int8)
        progs = lower_layer(q)
        assert len(progs) >= 2
        paths.append(layer_trace(progs, x, name)[0].save(tmp_path))
    outcomes = list(run_traces(paths, work_dir=tmp_path / "rtl", stall=False))
    assert [o.passed for o in outcomes] == [True] * 3, [o.message for o in outcomes]


def _residual_model(tmp_path, make_model):
    """t = relu(conv1(x)); u = relu(conv2(t)); y = relu(conv3(u) + t): t is read by two layers."""
    rng = np.random.default_rng(7)
    n = helper.make_node
    nodes = [n("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             n("Relu", ["c1"], ["t"], name="r1"),
             n("Conv", ["t", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             n("Relu", ["c2"], ["u"], name="r2"),
             n("Conv", ["u", "w3", "b3"], ["c3"], name="conv3", kernel_shape=[1, 1]),
             n("Add", ["c3", "t"], ["s"], name="add"), n("Relu", ["s"], ["y"], name="r3")]
    inits = {"w1": rng.normal(0, 0.3, (16, 3, 3, 3)), "b1": rng.normal(0, 0.1, 16),
             "w2": rng.normal(0, 0.1, (16, 16, 3, 3)), "b2": rng.normal(0, 0.1, 16),
             "w3": rng.normal(0, 0.2, (16, 16, 1, 1)), "b3": rng.normal(0, 0.1, 16)}
    path = make_model(tmp_path / "res.onnx", nodes, inits, [1, 3, 10, 9], [1, 16, 10, 9])
    g = load_graph(path)
    x = rng.normal(0, 1, (6,) + g.input_shape)
    acts = fp32_activations(path, x, [g.input] + [o.output for o in g.ops])
    build_vectors(quantize(g, calibrated_scales(acts, "max"), "per-filter"), path, tmp_path / "v", x[0], 1, "t")
    return path, x, acts


def test_a_tensor_read_by_two_layers_is_written_once(tmp_path, make_model):
    _, x, acts = _residual_model(tmp_path, make_model)
    traces = {t.stem: Trace.load(t) for t in find_traces([tmp_path / "v"])}
    assert len(traces) == 3
    loads = {k: {str(c.args[2]) for c in tr.commands if c.op == "mem_load"} for k, tr in traces.items()}
    (t_file,) = [f for f in loads["L01_conv2"] if f.endswith("_t.dat")]
    assert t_file in loads["L02_conv3"]  # conv3's residual operand: the same file
    assert len(list((tmp_path / "v").glob("*_t.dat"))) == 1
    for tr in traces.values():
        assert replay_trace(tr)[0].passed
    net = CompiledNetwork(tmp_path / "v")
    got = np.stack([net.dequantize("y", net.run(xi)["y"]) for xi in x])
    assert sqnr_db(acts["y"], got) > 25


@pytest.mark.rtl
def test_run_backend_rtl_with_a_residual_and_shared_tensor_files(tmp_path, make_model):
    from nvdla_int8.run.compiled import evaluate

    path, x, _ = _residual_model(tmp_path, make_model)
    res = evaluate(tmp_path / "v", x[:2], None, path, "rtl", work_dir=tmp_path / "run", stall=False)
    assert res["bit_exact_vs_golden"], res
    assert all(layer["rtl_traces_bit_exact"] == layer["rtl_traces"] == 2 for layer in res["layers"])


def test_a_missing_program_image_is_a_one_line_error(tmp_path, conv_model):
    from nvdla_int8.errors import InputError

    g = load_graph(conv_model)
    x = np.random.default_rng(3).normal(0, 1, (2,) + g.input_shape)
    acts = fp32_activations(conv_model, x, [g.input] + [o.output for o in g.ops])
    build_vectors(quantize(g, calibrated_scales(acts, "max"), "per-kernel"), conv_model, tmp_path, x[0], 1, "t")
    (w,) = tmp_path.glob("*_weights.dat")
    w.unlink()
    with pytest.raises(InputError, match=w.name):
        CompiledNetwork(tmp_path)


def _concat_model(tmp_path, make_model, u_channels):
    """a = relu(conv(x)); u = conv1x1(a) (u_channels); v = conv3x3(a) (16); y = conv(concat(u, v))."""
    rng = np.random.default_rng(8)
    n = helper.make_node
    cu = u_channels
    nodes = [n("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             n("Relu", ["c1"], ["a"], name="r1"),
             n("Conv", ["a", "wu", "bu"], ["u"], name="branch_u", kernel_shape=[1, 1]),
             n("Conv", ["a", "wv", "bv"], ["v"], name="branch_v", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             n("Concat", ["u", "v"], ["cat"], name="cat", axis=1),
             n("Conv", ["cat", "w2", "b2"], ["y"], name="conv2", kernel_shape=[1, 1])]
    inits = {"w1": rng.normal(0, 0.3, (8, 3, 3, 3)), "b1": rng.normal(0, 0.1, 8),
             "wu": rng.normal(0, 0.3, (cu, 8, 1, 1)), "bu": rng.normal(0, 0.1, cu),
             "wv": rng.normal(0, 0.1, (16, 8, 3, 3)), "bv": rng.normal(0, 0.1, 16),
             "w2": rng.normal(0, 0.2, (8, cu + 16, 1, 1)), "b2": rng.normal(0, 0.1, 8)}
    path = make_model(tmp_path / f"cat{cu}.onnx", nodes, inits, [1, 3, 9, 10], [1, 8, 9, 10])
    g = load_graph(path)
    x = rng.normal(0, 1, (6,) + g.input_shape)
    acts = fp32_activations(path, x, [g.input] + [o.output for o in g.ops])
    out = tmp_path / f"v{cu}"
    man = build_vectors(quantize(g, calibrated_scales(acts, "max"), "per-filter"), path, out, x[0], 1, "t")
    return path, x, acts, out, man


@pytest.mark.parametrize("u_channels,in_place", [(8, True), (4, False)])
def test_concat_in_place_when_slices_start_on_8_channel_boundaries(tmp_path, make_model, u_channels, in_place):
    from nvdla_int8.lower.passes import OUTPUT_BASE, packed

    _, x, acts, out, man = _concat_model(tmp_path, make_model, u_channels)
    steps = {s["name"]: s for s in man["steps"]}
    assert man["tensors"]["u"] == man["tensors"]["v"] == man["tensors"]["cat"]  # the concat's scale
    assert steps["cat"].get("in_place", False) is in_place
    concat_surf = packed(OUTPUT_BASE, u_channels + 16, 9, 10)
    v_out = steps["branch_v"]["trace"]["output"]
    want = concat_surf.base + concat_surf.surf_stride if in_place else OUTPUT_BASE
    assert v_out["base"] == want and v_out["shape"] == [16, 9, 10]
    for t in find_traces([out]):
        assert replay_trace(Trace.load(t))[0].passed
    net = CompiledNetwork(out)
    got = np.stack([net.dequantize("y", net.run(xi)["y"]) for xi in x])
    assert sqnr_db(acts["y"], got) > 25


@pytest.mark.rtl
def test_concat_slices_are_bit_exact_on_rtl(tmp_path, make_model):
    from nvdla_int8.run.compiled import evaluate

    path, x, _, out, _ = _concat_model(tmp_path, make_model, 8)
    res = evaluate(out, x[:2], None, path, "rtl", work_dir=tmp_path / "run", stall=False)
    assert res["bit_exact_vs_golden"], res
