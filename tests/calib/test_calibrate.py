"""FP32 runner, data sources, max/percentile/MSE calibrators and the `calibrate` command."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from tests.calib.conftest import digits_cnn
from nvdla_int8.calib.calibrators import MaxCalibrator, MseCalibrator, PercentileCalibrator, mse_candidates
from nvdla_int8.calib.collect import collect_histograms
from nvdla_int8.calib.datasets import DataSource, batches
from nvdla_int8.calib.fp32_runner import Fp32Runner
from nvdla_int8.calib.histogram import AbsHistogram
from nvdla_int8.calib.nvdla_table import read_table
from nvdla_int8.calib.trt_cache import read_cache
from nvdla_int8.cli import main


def test_runner_yields_every_activation(cnn):
    r = Fp32Runner(cnn)
    assert r.tensor_names == ("x", "conv_out", "relu_out", "flat", "y")
    x = np.random.default_rng(0).random((5, 1, 8, 8), dtype=np.float32)
    acts = r.run({"x": x})
    ref = ort.InferenceSession(str(cnn), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(acts["y"], ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(acts["relu_out"], np.maximum(acts["conv_out"], 0))
    np.testing.assert_array_equal(acts["x"], x)


def test_constants_are_not_calibrated(tmp_path):
    """An exporter's Identity of a conv bias (and anything computed from constants only) is a
    weight: no histogram, no table entry."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    g = helper.make_graph(
        [helper.make_node("Identity", ["b0"], ["b"], name="bias_copy"),
         helper.make_node("Mul", ["b", "two"], ["b2"], name="bias_twice"),
         helper.make_node("Conv", ["x", "w", "b2"], ["y"], name="conv")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])],
        [numpy_helper.from_array(rng.normal(size=(2, 1, 1, 1)).astype(np.float32), "w"),
         numpy_helper.from_array(np.ones(2, np.float32), "b0"), numpy_helper.from_array(np.float32(2), "two")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "m.onnx"))
    assert Fp32Runner(tmp_path / "m.onnx").tensor_names == ("x", "y")


def test_max_calibration_equals_brute_force(cnn, tmp_path):
    """Streaming max over batches == max over every activation computed at once."""
    r = Fp32Runner(cnn)
    src = DataSource("digits")
    hists = collect_histograms(r.iterate(batches(src, r.inputs, 100), progress=False))
    allx = next(src.samples(r.inputs))["x"]
    full = r.run({"x": allx})
    for name, h in hists.items():
        assert MaxCalibrator().threshold(h) == float(np.abs(full[name]).max())
        assert h.total == full[name].size


def test_fixed_batch_dimension_is_obeyed(tmp_path):
    m = digits_cnn(tmp_path / "b4.onnx", batch=4)
    r = Fp32Runner(m)
    sizes = [b["x"].shape[0] for b in batches(DataSource("digits"), r.inputs, 100, max_batches=3)]
    assert sizes == [4, 4, 4]
    assert len(list(batches(DataSource("digits"), r.inputs, 100))) == 1797 // 4


def test_folder_source_npy_and_npz(cnn, tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    rng = np.random.default_rng(1)
    a, b = rng.random((7, 1, 8, 8)), rng.random((5, 1, 8, 8))
    np.save(d / "a.npy", a)
    np.savez(d / "b.npz", x=b)
    r = Fp32Runner(cnn)
    got = np.concatenate([f["x"] for f in batches(DataSource(str(d)), r.inputs, 4)])
    np.testing.assert_array_equal(got, np.concatenate([a, b]).astype(np.float32))


def test_percentile_brute_force():
    rng = np.random.default_rng(2)
    x = np.concatenate([np.zeros(1000), rng.standard_normal(50_000)])
    h = AbsHistogram()
    h.update(x)
    for p in (50.0, 99.0, 99.99, 100.0):
        t = PercentileCalibrator(p).threshold(h)
        frac = np.mean(np.abs(x) <= t)
        assert frac >= p / 100 - 1e-12                  # right edge: at least p % covered
        assert np.mean(np.abs(x) <= t - h.bin_width) < p / 100 + 1e-12   # ... by the first such bin
    assert PercentileCalibrator(100).threshold(h) == h.amax


def test_mse_against_direct_loop():
    rng = np.random.default_rng(3)
    h = np.bincount(np.minimum((np.abs(rng.standard_normal(30_000)) * 250).astype(int), 2047),
                    minlength=2048).astype(float)
    k, err = mse_candidates(h)
    centres = np.arange(2048) + 0.5
    for idx in (0, 500, 1000, 1920):
        s = (k[idx] + 0.5) / 127
        want = sum(c * (min(np.floor(x / s + 0.5), 127) * s - x) ** 2 for c, x in zip(h, centres))
        assert err[idx] == pytest.approx(want, rel=1e-10)
    hist = AbsHistogram()
    hist.counts, hist.range_, hist.amax = h, 2048.0, 2048.0
    t = MseCalibrator().threshold(hist)
    assert t == k[np.argmin(err)] + 0.5
    assert t < 1500   # a Gaussian's long tail is clipped


def test_calibrate_cli_end_to_end(cnn, tmp_path, capsys):
    out, cache, plots = tmp_path / "calib.json", tmp_path / "trt.cache", tmp_path / "plots"
    rc = main(["calibrate", str(cnn), "--data", "digits", "--method", "entropy", "--batches", "10",
               "-o", str(out), "--cache-out", str(cache), "--plot-dir", str(plots), "-q"])
    assert rc == 0, capsys.readouterr().err
    table, c = read_table(out), read_cache(cache)
    assert list(table) == ["x", "conv_out", "relu_out", "flat", "y"]
    assert c.algorithm == "EntropyCalibration2" and c.version == 8501
    assert all(np.float32(table[k].scale) == c.scales[k] for k in table)
    # x is digits / 16 with 16 present: filled range -> T = 1 * (1 + 2^-12)
    assert 127 * float(c.scales["x"]) == pytest.approx(1 + 2 ** -12, rel=1e-7)
    pngs = sorted(p.name for p in plots.iterdir())
    assert pngs == ["000_x.png", "001_conv_out.png", "002_relu_out.png", "003_flat.png", "004_y.png", "summary.png"]
    assert all((plots / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_calibrate_cli_layer_keys_two_pass_mnist(tmp_path, capsys):
    from onnx import TensorProto, helper
    import onnx

    w = np.random.default_rng(4).standard_normal((784, 16)).astype(np.float32) * 0.05
    g = helper.make_graph([helper.make_node("MatMul", ["img", "w"], ["h"], name="fc1"),
                           helper.make_node("Relu", ["h"], ["out"], name="act1")], "mlp",
                          [helper.make_tensor_value_info("img", TensorProto.FLOAT, ["N", 784])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 16])],
                          [onnx.numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "mlp.onnx"))
    out = tmp_path / "t.json"
    assert main(["calibrate", str(tmp_path / "mlp.onnx"), "--data", "mnist", "--method", "percentile",
                 "--percentile", "99.9", "--batches", "20", "--batch-size", "50", "--two-pass", "--keys", "layer",
                 "-o", str(out), "-q"]) == 0
    assert list(read_table(out)) == ["img", "fc1", "act1"]


@pytest.mark.parametrize("argv, words", [
    (["--data", "nosuchdataset"], "neither a folder"),
    (["--data", "digits", "--method", "percentile", "--percentile", "0"], "percentile"),
    (["--data", "digits", "--batches", "0"], "--batches"),
    (["--data", "digits", "--method", "mse", "--cache-out", "x.cache"], "--algorithm"),
])
def test_calibrate_bad_input_one_line(cnn, tmp_path, capsys, argv, words):
    rc = main(["calibrate", str(cnn), "-o", str(tmp_path / "o.json"), "-q"] + argv)
    err = capsys.readouterr().err
    assert rc == 2 and words in err and err.count("\n") == 1


def test_calibrate_bad_model_and_data(tmp_path, capsys, cnn):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    assert main(["calibrate", str(bad), "--data", "digits", "-o", str(tmp_path / "o.json"), "-q"]) == 2
    assert "bad.onnx" in capsys.readouterr().err
    d = tmp_path / "d"
    d.mkdir()
    np.save(d / "a.npy", np.zeros((3, 1, 9, 9), np.float32))
    assert main(["calibrate", str(cnn), "--data", str(d), "-o", str(tmp_path / "o.json"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "a.npy" in err and "dimension 2 must be 8" in err and err.count("\n") == 1


def test_aliases_share_the_histogram_of_their_source(cnn):
    """Flatten's output holds relu_out's values: one histogram pass, identical result to two."""
    r = Fp32Runner(cnn)
    assert r.aliases == {"flat": "relu_out"}
    feeds = list(batches(DataSource("digits"), r.inputs, 300, 4))
    shared = collect_histograms(r.iterate(iter(feeds), progress=False), aliases=r.aliases)
    separate = collect_histograms(r.iterate(iter(feeds), progress=False))
    assert list(shared) == list(separate) == list(r.tensor_names)
    for name in separate:
        a, b = shared[name], separate[name]
        assert (a.range_, a.amax, a.zeros, a.total) == (b.range_, b.amax, b.zeros, b.total)
        np.testing.assert_array_equal(a.counts, b.counts)
    assert shared["flat"] is not shared["relu_out"]


def test_histogram_chunks_equal_one_pass(monkeypatch):
    """Chunked binning (several chunks, a value at exactly the range, zeros, negatives, float16) gives
    the counts of floor(|x| * bins / range) over the whole array at once."""
    from nvdla_int8.calib import histogram

    monkeypatch.setattr(histogram, "_CHUNK", 1000)
    rng = np.random.default_rng(8)
    for x in (np.concatenate([rng.standard_normal(12_345), [0.0] * 77, [-4.5]]).astype(np.float32),
              rng.standard_normal(5_000).astype(np.float16)):
        h = AbsHistogram()
        h.update(x)
        a = np.abs(x.astype(np.float64))
        want = np.bincount(np.minimum((a[a > 0] * (2048 / a.max())).astype(int), 2047), minlength=2048)
        np.testing.assert_array_equal(h.counts, want)
        assert h.zeros == np.count_nonzero(x == 0) and h.amax == a.max()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_activation_is_a_one_line_error(monkeypatch, bad):
    """Caught in any chunk, not only the first; reported with the tensor and the batch."""
    from nvdla_int8.calib import histogram
    from nvdla_int8.errors import InputError

    monkeypatch.setattr(histogram, "_CHUNK", 100)
    good = np.ones((2, 500), np.float32)
    broken = good.copy()
    broken[1, 377] = bad
    with pytest.raises(FloatingPointError):
        AbsHistogram().update(broken)
    with pytest.raises(InputError, match=r"^batch 2: tensor 't' has NaN or Inf in batch 2") as e:
        collect_histograms(iter([{"t": good}, {"t": broken}]))
    assert "\n" not in str(e.value)
