"""Empirical bias correction (calib/bias_correction.py): on one conv layer fed a constant input
whose int8 rounding is known, the measured correction is exactly the negative of that rounding
summed by the kernel, and the compiled network with it lands within half an output step of FP32
where without it the offset is ~22 steps; a table whose correction does not fit the model is
refused with one line naming the layer."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nvdla_int8.calib import bias_correction
from nvdla_int8.calib.nvdla_table import entries_from_scales, read_metadata, write_table
from nvdla_int8.commands.compile import compile_model
from nvdla_int8.errors import InputError
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.graph.ir import ConvLayer
from nvdla_int8.run.compiled import CompiledNetwork

S_IN, S_OUT = 0.01, 0.001
C = 0.0149                 # input value: C / S_IN = 1.49 rounds to 1, an error of -0.0049 per tap
W = (0.5, -0.5)            # 3x3 kernels of one value each: int8-exact in either granularity
BIAS = (0.01, -0.02)       # exact in accumulator units (S_IN * 0.5 / 127)


def one_conv(path):
    """x[1,1,5,5] -> Conv(2, 3x3, no padding) -> y[1,2,3,3]: every output position sees the same taps."""
    w = np.stack([np.full((1, 3, 3), v) for v in W]).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array(BIAS, np.float32), "b")]
    g = helper.make_graph([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv")], "one_conv",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 5, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3, 3])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def compiled_output(tmp_path, model, table, mode, x, correct=True):
    out = tmp_path / f"c_{mode}_{correct}"
    compile_model(str(model), str(table), str(out), mode, 1, None, bias_correction=correct)
    net = CompiledNetwork(out)
    return net.dequantize("y", net.run(x)["y"]).reshape(2, 3, 3)


@pytest.mark.parametrize("mode", ["per-kernel", "per-filter"])
def test_correction_removes_the_known_offset(tmp_path, mode):
    model = one_conv(tmp_path / "m.onnx")
    g = load_graph(model)
    x = np.full((1, 1, 5, 5), C)
    fp32 = 9 * np.asarray(W) * C + np.asarray(BIAS)                     # per channel, every position
    offset = 9 * np.asarray(W) * (round(C / S_IN) * S_IN - C)           # the input's rounding, summed by the kernel
    scales = {"x": S_IN, "y": S_OUT}
    delta = bias_correction.measure(g, scales, mode, x, {"x": x})
    assert np.allclose(delta["conv"], -offset, rtol=0, atol=1e-9), delta["conv"] + offset

    table = tmp_path / "t.json"
    write_table(table, entries_from_scales(scales),
                {"bias_correction": bias_correction.to_metadata({mode: delta}, 1)})
    err_without = compiled_output(tmp_path, model, table, mode, x[0], correct=False) - fp32[:, None, None]
    err_with = compiled_output(tmp_path, model, table, mode, x[0]) - fp32[:, None, None]
    assert np.all(np.abs(err_without) > 20 * S_OUT)                    # the offset is there without it
    assert np.all(np.abs(err_with) <= 0.5 * S_OUT + 1e-12)             # and gone with it: the nearest int8


@pytest.mark.parametrize("bad, why", [
    ({"per-kernel": {"conv": [0.1]}}, "'conv' needs 2 finite numbers"),
    ({"per-kernel": {"conv": [0.1, float("nan")]}}, "'conv' needs 2 finite numbers"),
    ({"per-kernel": {"fc": [0.1, 0.2]}}, "'fc' is not a conv layer"),
    ({"per-channel": {}}, "unknown mode 'per-channel'"),
])
def test_a_correction_that_does_not_fit_is_refused(tmp_path, bad, why):
    model = one_conv(tmp_path / "m.onnx")
    table = tmp_path / "t.json"
    write_table(table, entries_from_scales({"x": S_IN, "y": S_OUT}), {"bias_correction": bad})
    with pytest.raises(InputError, match=why) as e:
        compile_model(str(model), str(table), str(tmp_path / "c"), "per-kernel", 1, None)
    assert "\n" not in str(e.value) and "t.json" in str(e.value)


def test_a_correction_that_raises_the_held_out_error_is_not_stored(cnn, tmp_path, monkeypatch, capsys):
    """The guard of `calibrate --bias-correction`: a correction judged on held-out calibration
    samples to raise the network's output error (here a deliberately wrong +1 on every channel)
    is left out of the table, with a line naming the mode; the measured one is kept."""
    from nvdla_int8.cli import main

    def run(name):
        out = tmp_path / name
        assert main(["calibrate", str(cnn), "--data", "digits", "--method", "max", "--batches", "4",
                     "--bias-correction", "-o", str(out), "-q"]) == 0
        return read_metadata(out)["bias_correction"], capsys.readouterr().err

    kept, err = run("measured.json")
    assert all(kept["judged"][m][2] and m in kept for m in ("per-kernel", "per-filter")), (kept["judged"], err)
    wrong = {name: np.ones_like(d) for name, d in kept["per-kernel"].items()}
    monkeypatch.setattr(bias_correction, "measure", lambda *a, **k: {n: np.asarray(v) for n, v in wrong.items()})
    refused, err = run("wrong.json")
    assert "per-kernel" not in refused and "per-filter" not in refused
    assert "rises from" in err and "not stored for per-kernel" in err


def _same_qlayer(a, b) -> bool:
    """Every array and number of two QLayers' SDP plans and weights, bit for bit, and their reports."""
    if not (np.array_equal(a.weight, b.weight) and np.array_equal(a.w_scale, b.w_scale)
            and (a.in_scale, a.out_scale, a.cvt, a.res_scale) == (b.in_scale, b.out_scale, b.cvt, b.res_scale)
            and a.report == b.report):
        return False
    pa, pb = a.sdp.__dict__, b.sdp.__dict__
    return pa.keys() == pb.keys() and all(np.array_equal(pa[k], pb[k]) if pa[k] is not None else pb[k] is None
                                          for k in pa)


@pytest.mark.parametrize("mode", ["per-kernel", "per-filter"])
@pytest.mark.parametrize("which", ["residual", "prelu_image"])
def test_set_bias_delta_is_quantize_with_that_delta(tmp_path, mode, which):
    """measure re-quantizes one layer at a time with set_bias_delta: after it, the network must be
    the one quantize(..., bias_delta) makes, including a residual layer (its X2 alignment) and an
    image input's first layer (the CDMA converter), and a layer without a delta is untouched."""
    from nvdla_int8.quantize.network import quantize, set_bias_delta
    from nvdla_int8.run.reference import calibrated_scales, fp32_activations
    from tests.compile.test_graph import _residual_model
    from tests.suite import REPO

    model = _residual_model(tmp_path / "res.onnx") if which == "residual" else REPO / "models/digits_prelu.onnx"
    g = load_graph(model)
    x = np.random.default_rng(1).normal(0, 1, (4,) + g.input_shape)
    scales = calibrated_scales(fp32_activations(model, x, g.calibrated_tensors() + list(g.outputs)), "max")
    convs = [op for op in g.ops if isinstance(op, ConvLayer)]
    rng = np.random.default_rng(2)
    delta = {op.name: rng.normal(0, 0.05, op.out_shape[0]) for op in convs[:-1]}   # the last one keeps its bias
    qnet = quantize(g, scales, mode)
    for name, d in delta.items():
        set_bias_delta(qnet, name, d)
    want = quantize(g, scales, mode, bias_delta=delta)
    assert qnet.layers.keys() == want.layers.keys()
    assert all(_same_qlayer(qnet.layers[op.name], want.layers[op.name]) for op in convs)
    assert qnet.report == want.report
    assert not _same_qlayer(qnet.layers[convs[0].name], quantize(g, scales, mode).layers[convs[0].name])
    if which == "residual":
        assert any(op.residual for op in convs[:-1])
    else:
        assert qnet.layers[convs[0].name].cvt is not None


def test_first_samples_keeps_the_first_n_across_batches_and_passes_the_stream_on():
    from nvdla_int8.calib.collect import FirstSamples

    rng = np.random.default_rng(0)
    stream = [{"x": rng.normal(size=(b, 3)), "y_src": rng.normal(size=(b, 2, 2))} for b in (4, 4, 4, 2)]
    fs = FirstSamples({"x": "x", "y": "y_src"}, 10, "x")
    seen = list(fs.watch(iter(stream)))
    assert all(a is b for a, b in zip(seen, stream)) and len(seen) == len(stream)   # nothing dropped or changed
    got = fs.result()
    assert np.array_equal(got["x"], np.concatenate([s["x"] for s in stream])[:10])
    assert np.array_equal(got["y"], np.concatenate([s["y_src"] for s in stream])[:10])
    stream[0]["x"][:] = 0                                    # a batch buffer reused later does not change them
    assert not np.array_equal(fs.result()["x"][:4], stream[0]["x"])
    short = FirstSamples({"x": "x"}, 100, "x")
    list(short.watch(iter(stream)))
    assert len(short.result()["x"]) == 14                    # fewer samples than asked: all of them


@pytest.mark.parametrize("method, two_pass", [("max", False), ("max", True), ("auto", False)])
def test_bias_correction_adds_no_fp32_pass(cnn, tmp_path, monkeypatch, method, two_pass):
    """--bias-correction takes its FP32 samples from the histogram pass: as many FP32 runs with it
    as without it (it used to run the first calibration batches a second time)."""
    from nvdla_int8.calib.fp32_runner import Fp32Runner
    from nvdla_int8.cli import main

    calls = []
    real = Fp32Runner.run
    monkeypatch.setattr(Fp32Runner, "run", lambda self, feeds: calls.append(1) or real(self, feeds))

    def runs(*extra):
        calls.clear()
        assert main(["calibrate", str(cnn), "--data", "digits", "--method", method, "--batches", "6",
                     *(["--two-pass"] if two_pass else []), *extra, "-o", str(tmp_path / "t.json"), "-q"]) == 0
        return len(calls)

    without = runs()
    assert without == 6 * (2 if two_pass else 1)
    assert runs("--bias-correction") == without
    assert "bias_correction" in read_metadata(tmp_path / "t.json")
