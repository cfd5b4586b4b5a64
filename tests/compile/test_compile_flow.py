"""Compile -> vectors -> golden: traces replay PASS, files are byte-identical per seed, results
track the FP32 model, and the default digits model keeps its accuracy."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nvdla_int8.run.reference import calibrated_scales, fp32_activations
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.quantize.network import quantize
from nvdla_int8.run.compiled import CompiledNetwork, sqnr_db
from nvdla_int8.lower.vectors import build_vectors, default_input
from nvdla_int8.conformance import find_traces
from nvdla_int8.golden.replay import replay_trace
from nvdla_int8.trace import Trace

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "models" / "digits_cnn.onnx"


def _table(model, n=20, seed=3):
    g = load_graph(model)
    x = np.random.default_rng(seed).normal(0, 1, (n,) + g.input_shape)
    tens = [g.input] + [o.output for o in g.ops]
    return g, x, fp32_activations(model, x, tens)


@pytest.mark.parametrize("mode", ["per-kernel", "per-filter"])
def test_conv_bn_mul_leaky_replays_and_tracks_fp32(conv_model, tmp_path, mode):
    g, x, acts = _table(conv_model)
    qnet = quantize(g, calibrated_scales(acts, "max"), mode)
    out = tmp_path / "v"
    build_vectors(qnet, conv_model, out, x[0], 1, "t.json")
    traces = find_traces([out])
    assert traces
    for t in traces:
        outcome, _ = replay_trace(Trace.load(t))
        assert outcome.passed, outcome.message
    net = CompiledNetwork(out)
    got = np.stack([net.dequantize("y", net.run(xi)["y"]) for xi in x[:8]])
    assert sqnr_db(acts["y"][:8], got) > 25


def test_vectors_byte_identical_for_same_seed(conv_model, tmp_path):
    g, x, acts = _table(conv_model)
    qnet = quantize(g, calibrated_scales(acts, "max"), "per-kernel")
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        build_vectors(qnet, conv_model, d, default_input(qnet, 7), 7, "t.json")
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    build_vectors(qnet, conv_model, tmp_path / "c", default_input(qnet, 8), 8, "t.json")
    assert (tmp_path / "c" / "manifest.json").read_bytes() != (a / "manifest.json").read_bytes()


@pytest.mark.skipif(not DIGITS.is_file(), reason="default model not built")
@pytest.mark.parametrize("mode", ["per-kernel", "per-filter"])
def test_digits_model_keeps_accuracy(tmp_path, mode):
    from nvdla_int8.calib.digits import load_split
    from nvdla_int8.commands.sim import preprocess_for
    from nvdla_int8.run.compiled import evaluate

    g = load_graph(DIGITS)
    cal, _ = load_split("calib")
    tens = [g.input] + [o.output for o in g.ops if o.kind == "conv"]
    scales = calibrated_scales(fp32_activations(DIGITS, preprocess_for(g)(cal[:200]), tens), "max")
    qnet = quantize(g, scales, mode)
    build_vectors(qnet, DIGITS, tmp_path, cal[0], 1, "t.json")
    for t in find_traces([tmp_path]):
        assert replay_trace(Trace.load(t))[0].passed
    images, labels = load_split("test")
    res = evaluate(tmp_path, images[:60], labels[:60], DIGITS, "golden", preprocess_for(g))
    assert res["int8_accuracy"] >= res["fp32_accuracy"] - 0.02
    assert all(layer["sqnr_db"] > 20 for layer in res["layers"])
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["input"]["mode"] == "image" and man["input"]["cdma_cvt"]["truncate"] > 0


@pytest.mark.rtl
def test_compiled_conv_with_memory_operands_is_bit_exact_on_rtl(conv_model, tmp_path):
    """Compiled conv layers take per-channel bias/multipliers from memory in flying mode and enable
    SDP_RDMA after SDP: the combination no shared trace covers. The RTL must wait for SDP_RDMA
    and agree with the golden model byte for byte, in both quantization modes."""
    from tb.trace_runner import run_traces
    g, x, acts = _table(conv_model)
    paths = []
    for mode in ("per-kernel", "per-filter"):
        build_vectors(quantize(g, calibrated_scales(acts, "max"), mode), conv_model, tmp_path / mode, x[0], 1, "t.json")
        paths += find_traces([tmp_path / mode])
    outcomes = list(run_traces(paths, work_dir=tmp_path / "rtl"))
    assert len(outcomes) == len(paths) >= 2
    bad = [f"{o.name}: {o.message}" for o in outcomes if not o.passed]
    assert not bad, "\n".join(bad)


@pytest.mark.rtl
def test_run_backend_rtl_feeds_rtl_bytes_and_catches_a_flipped_byte(conv_model, tmp_path):
    """`nvdla-int8 run --backend rtl`: each input's layer runs on the RTL and the RTL's own output
    bytes come back; they equal the golden model's. With one output byte flipped in memory by the
    testbench (TB_FLIP), the per-image agreement must drop below 100%."""
    from nvdla_int8.run.compiled import evaluate

    g, x, acts = _table(conv_model)
    build_vectors(quantize(g, calibrated_scales(acts, "max"), "per-filter"), conv_model, tmp_path / "v", x[0], 1,
                  "t.json")
    res = evaluate(tmp_path / "v", x[:2], None, conv_model, "rtl", work_dir=tmp_path / "run", stall=False)
    (layer,) = res["layers"]
    assert res["bit_exact_vs_golden"] and layer["bytes_agree_vs_golden"] == 1.0
    assert layer["rtl_traces_bit_exact"] == layer["rtl_traces"] == 2 and layer["cycles_per_image"] > 0
    assert layer["sqnr_db"] > 25
    bad = evaluate(tmp_path / "v", x[:1], None, None, "rtl", work_dir=tmp_path / "run", stall=False,
                   extra_env={"TB_FLIP": "1"})
    (layer,) = bad["layers"]
    assert not bad["bit_exact_vs_golden"]
    assert layer["bytes_agree_vs_golden"] == 1 - 1 / np.prod(g.conv_layers()[0].out_shape)
