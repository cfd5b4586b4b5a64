"""The three trained graph models of models/ (two PReLU heads with ceil-mode pooling, depthwise
separable, fire modules with concat and a residual Add) through the whole flow, as `make sim`
runs the default model: calibrated on the calibration split (`make sim`'s default method),
compiled in both quantization modes, the 1,000 held-out digits on the golden model with every
head's INT8 accuracy within 1 pp of FP32 (issue #12's bar), and the first images on the RTL,
every layer trace equal to the golden model's."""
from __future__ import annotations

import numpy as np
import pytest

from nvdla_int8.calib.digits import load_split
from nvdla_int8.commands.compile import compile_model
from nvdla_int8.commands.sim import DEFAULT_METHOD, mode_tables, preprocess_for
from nvdla_int8.graph.fold import load_graph
from nvdla_int8.run.compiled import CompiledNetwork, evaluate
from nvdla_int8.run.reference import fp32_activations

from tests.models.test_trained_models import FLOORS, LABELS, MODELS

MODES = ("per-kernel", "per-filter")
RTL_IMAGES = 4


@pytest.fixture(scope="module", params=sorted(FLOORS))
def compiled(request, tmp_path_factory):
    """(model path, {mode: compiled folder}) for one trained model."""
    model = MODELS / request.param
    build = tmp_path_factory.mktemp(model.stem)
    tables = mode_tables(model, build, DEFAULT_METHOD)
    folders = {}
    for mode in MODES:
        folders[mode] = build / mode
        compile_model(str(model), str(tables[mode]), str(folders[mode]), mode, 1, None)
    return model, folders


def _head_accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(outputs.reshape(len(labels), -1).argmax(1) == labels))


@pytest.mark.parametrize("mode", MODES)
def test_int8_within_1pp_of_fp32_on_every_head(compiled, mode, tmp_path):
    model, folders = compiled
    images, y = load_split("test")
    x = preprocess_for(load_graph(model))(images)
    heads = CompiledNetwork(folders[mode]).manifest["outputs"]
    assert heads == list(FLOORS[model.name])
    evaluate(folders[mode], images, None, backend="golden", save_outputs=tmp_path / "int8.npz")
    int8 = np.load(tmp_path / "int8.npz")
    fp32 = fp32_activations(model, x, heads)
    for head in heads:
        labels = LABELS[head](y)
        acc32, acc8 = _head_accuracy(fp32[head], labels), _head_accuracy(int8[head], labels)
        print(f"{model.name} {mode} {head}: FP32 {100 * acc32:.2f}%, INT8 {100 * acc8:.2f}%")
        assert acc8 >= acc32 - 0.01, (head, acc32, acc8)


@pytest.mark.rtl
@pytest.mark.parametrize("mode", MODES)
def test_rtl_equals_golden_on_every_layer(compiled, mode, tmp_path):
    model, folders = compiled
    images, y = load_split("test")
    res = evaluate(folders[mode], images[:RTL_IMAGES], y[:RTL_IMAGES], model, "rtl",
                   preprocess_for(load_graph(model)), work_dir=tmp_path)
    layers = res["layers"]
    assert len(layers) >= 6
    assert all(L["rtl_traces"] == L["rtl_traces_bit_exact"] == RTL_IMAGES for L in layers), \
        [(L["layer"], L["rtl_failures"]) for L in layers if L["rtl_traces_bit_exact"] != RTL_IMAGES]
    assert all(L["bit_exact_vs_golden"] == 1.0 for L in layers)
    assert all(o["bit_exact_vs_golden"] == 1.0 for o in res["outputs"])
    assert all(L["cycles_per_image"] > 0 for L in layers)
