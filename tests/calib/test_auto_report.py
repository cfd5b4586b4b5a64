"""`--method auto` (validation split, choice by held-out error), the per-tensor report (threshold,
clipped fraction, SQNR, flag), and the TensorRT cache header kept through a JSON table."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nvdla_int8.calib.choose import auto_thresholds, clipped_fraction, tensor_stats
from nvdla_int8.calib.collect import collect_split_histograms
from nvdla_int8.calib.histogram import AbsHistogram
from nvdla_int8.calib.nvdla_table import read_metadata, read_table
from nvdla_int8.calib.trt_cache import read_cache
from nvdla_int8.cli import main


def fakequant(x, t):
    s = t / 127
    return np.sign(x) * np.minimum(np.floor(np.abs(x) / s + 0.5), 127) * s


def test_split_holds_out_every_fifth_sample_across_batches():
    x = np.arange(1, 24, dtype=np.float64)[:, None] * np.ones((1, 3))    # sample k has value k + 1
    stream = [{"t": x[:7], "c": np.ones(2)}, {"t": x[7:16], "c": np.ones(2)}, {"t": x[16:], "c": np.ones(2)}]
    cal, val, _ = collect_split_histograms(iter(stream), 5)
    assert val["t"].total == 3 * 4 and val["t"].amax == 20.0          # samples 4, 9, 14, 19 -> 5, 10, 15, 20
    assert cal["t"].total == 3 * 19 and cal["t"].amax == 23.0
    assert "c" in cal and "c" not in val                             # no batch axis: calibration only


def test_auto_keeps_the_candidate_with_least_held_out_error():
    """Calibration data a Gaussian (MSE clips its tail); validation data with the same bulk plus
    rare large values: on held-out data clipping them costs more than resolution, so auto must
    take the candidate whose error on the held-out values themselves is least."""
    rng = np.random.default_rng(2)
    cal_x = np.concatenate([rng.standard_normal(50_000), [4.0]])
    val_x = np.concatenate([rng.standard_normal(10_000), rng.uniform(3.0, 4.0, 300)])
    cal, val = AbsHistogram(), AbsHistogram()
    cal.update(cal_x)
    val.update(val_x)
    method, t, cands = auto_thresholds({"t": cal}, {"t": val})["t"]
    exact = {m: float(np.sum((fakequant(val_x, c) - val_x) ** 2)) for m, c in cands.items()}
    assert t == cands[method]
    assert exact[method] <= min(exact.values()) * 1.02               # binned estimate vs exact values
    assert method != "mse" and cands["mse"] < t                      # the calibration-fitted optimum lost


def test_stats_against_exact_values():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(100_000), np.zeros(5_000)])
    h = AbsHistogram()
    h.update(x)
    for t in (1.5, 3.0, h.amax):
        st = tensor_stats(h, t)
        assert st.clipped == pytest.approx(np.mean(np.abs(x) > t), abs=2e-4)
        exact = 10 * np.log10(np.sum(x ** 2) / np.sum((fakequant(x, t) - x) ** 2))
        assert st.sqnr_db == pytest.approx(exact, abs=0.3)
    assert clipped_fraction(h, h.amax) == 0.0


def test_cli_auto_report_and_flags(cnn, tmp_path, capsys):
    out, rep, plots = tmp_path / "t.json", tmp_path / "r.json", tmp_path / "plots"
    assert main(["calibrate", str(cnn), "--data", "digits", "--method", "auto", "-o", str(out), "--report", str(rep),
                 "--plot-dir", str(plots), "--flag-sqnr", "45"]) == 0
    printed = capsys.readouterr().out
    r = json.loads(rep.read_text())
    assert [t["tensor"] for t in r["tensors"]] == list(read_table(out))
    assert "validation split" in r["sqnr_measured_on"]
    for t in r["tensors"]:
        assert t["method"] in t["candidates"] and t["threshold"] == t["candidates"][t["method"]]
        assert 0 <= t["clipped_fraction"] < 1 and t["flagged"] == (t["sqnr_db"] is not None and t["sqnr_db"] < 45)
    assert any(t["flagged"] for t in r["tensors"]) and not all(t["flagged"] for t in r["tensors"]) and printed.count("LOW (< 45 dB)") == sum(
        t["flagged"] for t in r["tensors"])
    assert read_metadata(out)["method"] == "auto"
    assert (plots / "summary.png").is_file()


def test_trt_header_survives_cache_json_cache(caches, tmp_path, capsys):
    src = caches / "trt8400_minmax.cache"
    table, back = tmp_path / "t.json", tmp_path / "back.cache"
    assert main(["convert-calib", str(src), "-o", str(table)]) == 0
    assert read_metadata(table)["trt_header"] == "TRT-8400-MinMaxCalibration"
    assert main(["convert-calib", str(table), "-o", str(back)]) == 0
    assert back.read_text() == src.read_text()                       # header and every scale, byte for byte
    assert "warning" not in capsys.readouterr().err


def test_table_without_header_warns_when_written_as_cache(tmp_path, capsys):
    table, back = tmp_path / "t.json", tmp_path / "back.cache"
    table.write_text('{"x": {"scale": 0.5, "offset": 0}}\n')
    assert main(["convert-calib", str(table), "-o", str(back)]) == 0
    err = capsys.readouterr().err
    assert "records no TensorRT cache header" in err and "TRT-8501-EntropyCalibration2" in err
    assert read_cache(back).algorithm == "EntropyCalibration2"
    assert main(["convert-calib", str(table), "--trt-version", "8400", "--algorithm", "MinMaxCalibration",
                 "-o", str(back)]) == 0
    assert "warning" not in capsys.readouterr().err
