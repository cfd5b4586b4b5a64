"""TensorRT caches, NVDLA JSON tables, the upstream-compatible converter and name mapping."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nvdla_int8.calib.legacy_converter import convert_compat
from nvdla_int8.calib.name_mapping import load_model_names, map_names
from nvdla_int8.calib.nvdla_table import (TableEntry, entries_from_scales, format_table, parse_table, read_table,
                                         stored_scale, write_table)
from nvdla_int8.calib.trt_cache import format_cache, parse_cache, read_cache
from nvdla_int8.cli import main
from nvdla_int8.errors import InputError

# NVDLA's real ResNet-50 cache and synthetic stand-ins for three TensorRT 8.x caches (tests/calib/data)
CACHES = ["resnet50.txt", "trt8001_entropy2.cache", "trt8400_minmax.cache", "trt8501_entropy2.cache"]


def cache_path(resnet50, caches, name):
    return (resnet50 if name == "resnet50.txt" else caches) / name


@pytest.mark.parametrize("name", CACHES)
def test_caches_round_trip(resnet50, caches, name):
    text = cache_path(resnet50, caches, name).read_text()
    c = read_cache(cache_path(resnet50, caches, name))
    again = parse_cache(format_cache(c))
    assert list(again.scales) == list(c.scales)
    assert all(again.scales[k].tobytes() == c.scales[k].tobytes() for k in c.scales)
    assert (again.version, again.algorithm) == (c.version, c.algorithm)
    assert format_cache(c) == text            # TensorRT's own layout, byte for byte
    assert len(c.scales) == len(text.splitlines()) - 1


def test_headers_and_known_values(resnet50, caches):
    got = {n: read_cache(cache_path(resnet50, caches, n)) for n in CACHES}
    assert [(c.version, c.algorithm) for c in got.values()] == [
        (5101, "EntropyCalibration2"), (8001, "EntropyCalibration2"), (8400, "MinMaxCalibration"),
        (8501, "EntropyCalibration2")]
    r = got["resnet50.txt"]
    assert float(r.scales["data"]) == pytest.approx(1.1892667, rel=1e-7)
    assert 127 * float(r.scales["data"]) == pytest.approx(151.0369, rel=1e-6)
    assert 127 * float(got["trt8001_entropy2.cache"].scales["input0"]) == pytest.approx(1.000244, rel=1e-6)
    assert "onnx::Gemm_41" in got["trt8400_minmax.cache"].scales
    assert list(got["trt8501_entropy2.cache"].scales)[1].startswith("/body/")


def test_names_with_colons_and_spaces():
    c = parse_cache("TRT-100300-EntropyCalibration2\nconv/BiasAdd:0: 3c010a14\na b: c: 3f800000\n")
    assert list(c.scales) == ["conv/BiasAdd:0", "a b: c"]
    assert float(c.scales["a b: c"]) == 1.0
    assert parse_cache(format_cache(c)) == c or list(parse_cache(format_cache(c)).scales) == list(c.scales)


@pytest.mark.parametrize("text, words", [
    ("", "header"),
    ("TRT-abc-EntropyCalibration2\nx: 3f800000\n", "bad header"),
    ("TRT-8501-\nx: 3f800000\n", "bad header"),
    ("data: 3f800000\n", "bad header"),
    ("TRT-8501-EntropyCalibration2\nx: 3f80000g\n", "bad hex"),
    ("TRT-8501-EntropyCalibration2\nx: 3f8000\n", "bad hex"),
    ("TRT-8501-EntropyCalibration2\nx 3f800000\n", "expected"),
    ("TRT-8501-EntropyCalibration2\nx: 7fc00000\n", "finite"),      # NaN
    ("TRT-8501-EntropyCalibration2\nx: 7f800000\n", "finite"),      # +Inf
    ("TRT-8501-EntropyCalibration2\nx: 00000000\n", "> 0"),         # zero
    ("TRT-8501-EntropyCalibration2\nx: bf800000\n", "> 0"),         # -1.0
    ("TRT-8501-EntropyCalibration2\nx: 3f800000\ny: 3f800000\nx: 3f800000\n", "duplicate"),
])
def test_cache_validation(text, words):
    with pytest.raises(InputError) as e:
        parse_cache(text, "c.cache")
    assert words in str(e.value) and str(e.value).startswith("c.cache:")
    assert "\n" not in str(e.value)


def test_cache_error_names_line():
    with pytest.raises(InputError, match=r"^c.cache:3: .*'y'"):
        parse_cache("TRT-8501-EntropyCalibration2\nx: 3f800000\ny: zz\n", "c.cache")


@pytest.mark.parametrize("text, words", [
    ('{"a": {"scale": 0}}', "> 0"),
    ('{"a": {"scale": -1.5}}', "> 0"),
    ('{"a": {"scale": NaN}}', "finite"),
    ('{"a": {"scale": Infinity}}', "finite"),
    ('{"a": {"min": 2, "max": 1}}', "min 2.0 > max 1.0"),
    ('{"a": {"scale": 1, "offset": 3}}', "offset 3"),
    ('{"a": {"scale": 1, "offset": 0.5}}', "integer"),
    ('{"a": {"scale": 1, "offset": Infinity}}', "integer"),
    ('{"a": {"scale": 1, "offset": NaN}}', "integer"),
    ('{"a": {"scale": 1},\n "b": {"scale": 1},\n "a": {"scale": 2}}', "duplicate"),
    ('{"a": {"min": 1}}', "both"),
    ('{"a": {"min": 0, "max": 0}}', "both 0"),
    ('{"a": {"scale": "1"}}', "number"),
    ('{"a": {"scale": 1, "zero_point": 0}}', "unknown key"),
    ('{"a": 3}', "expected an object"),
    ('[1, 2]', "top level"),
    ('{"a": {"scale": 1e-50}}', "is 0.0 in float32"),
    ('{"a": {"scale": 1e50}}', "is inf in float32"),
    ('{"a": {"min": -1e300, "max": 0}}', "is inf in float32"),
    ('{"a": {"scale": 1}', "not valid JSON"),
])
def test_table_validation(text, words):
    with pytest.raises(InputError) as e:
        parse_table(text, "t.json")
    assert words in str(e.value) and str(e.value).startswith("t.json:")
    assert "\n" not in str(e.value)


def test_table_duplicate_reports_its_line():
    with pytest.raises(InputError, match=r"^t.json:3: duplicate name 'a' \(first on line 1\)"):
        parse_table('{"a": {"scale": 1},\n "b": {"scale": 1},\n "a": {"scale": 2}}', "t.json")


def test_table_round_trip_and_minmax():
    entries = {"x": TableEntry(scale=float(np.float32(0.1))), "y": TableEntry(min=-3.0, max=2.0)}
    back = parse_table(format_table(entries))
    assert back == entries
    assert back["y"].effective_scale() == 3.0 / 127


def test_reference_tables_load(resnet50):
    a = read_table(resnet50 / "resnet50.json")
    b = read_table(resnet50 / "resnet50.tensor-names.json")
    assert len(a) == len(b) == 229
    assert [e.scale for e in a.values()] == [e.scale for e in b.values()]


def test_compat_reproduces_upstream_bytes(resnet50):
    text, warnings = convert_compat((resnet50 / "resnet50.txt").read_text())
    assert text + "\n" == (resnet50 / "resnet50.tensor-names.json").read_text()
    assert warnings == []


def test_compat_drops_colon_names_with_warning():
    text, warnings = convert_compat("TRT-8501-EntropyCalibration2\nconv/BiasAdd:0: 3c010a14\nx: 3f800000\n")
    assert list(json.loads(text)) == ["x"]
    assert len(warnings) == 1 and "conv/BiasAdd:0" in warnings[0]


def test_mapping_gives_resnet50_json_keys(resnet50):
    names = load_model_names(resnet50 / "ResNet-50-deploy.prototxt")
    r = map_names(read_cache(resnet50 / "resnet50.txt").scales, names)
    want = list(json.loads((resnet50 / "resnet50.json").read_text()))
    assert list(r.mapped) == want
    assert r.unmapped == () and r.missing == ()


def test_mapping_reports_unmapped_and_missing(resnet50):
    names = load_model_names(resnet50 / "ResNet-50-deploy.prototxt")
    scales = dict(read_cache(resnet50 / "resnet50.txt").scales)
    del scales["(Unnamed Layer* 0) [Convolution]_output"], scales["prob"]
    scales["not_in_model"] = np.float32(1)
    r = map_names(scales, names)
    assert r.unmapped == ("not_in_model",)
    assert r.missing == ("conv1", "prob")


def test_cli_convert_compat_and_mapped(resnet50, tmp_path, capsys):
    out = tmp_path / "t.json"
    assert main(["convert-calib", str(resnet50 / "resnet50.txt"), "--compat", "-o", str(out)]) == 0
    assert out.read_text() + "\n" == (resnet50 / "resnet50.tensor-names.json").read_text()
    model = str(resnet50 / "ResNet-50-deploy.prototxt")
    assert main(["convert-calib", str(resnet50 / "resnet50.txt"), "--compat", "--model", model,
                 "-o", str(out)]) == 0
    assert out.read_text() + "\n" == (resnet50 / "resnet50.json").read_text()
    clean = tmp_path / "clean.json"
    assert main(["convert-calib", str(resnet50 / "resnet50.txt"), "--model", model, "-o", str(clean)]) == 0
    got, want = read_table(clean), read_table(resnet50 / "resnet50.json")
    assert list(got) == list(want) and all(got[k].scale == want[k].scale for k in got)
    # and back to a cache: tensor names are gone, scales and header kept bit-exactly
    cache = tmp_path / "back.cache"
    assert main(["convert-calib", str(clean), "--trt-version", "5101", "-o", str(cache)]) == 0
    orig, back = read_cache(resnet50 / "resnet50.txt"), read_cache(cache)
    assert [v.tobytes() for v in back.scales.values()] == [v.tobytes() for v in orig.scales.values()]
    assert cache.read_text().startswith("TRT-5101-EntropyCalibration2\ndata: 3f9839e4\nconv1: 40d0f64f\n")


def test_cli_missing_layers_is_one_line_error(resnet50, tmp_path, capsys):
    model = str(resnet50 / "ResNet-50-deploy.prototxt")
    lines = (resnet50 / "resnet50.txt").read_text().splitlines(keepends=True)
    cut = tmp_path / "cut.cache"
    cut.write_text("".join(l for l in lines if not l.startswith(("(Unnamed Layer* 0)", "prob:"))))
    rc = main(["convert-calib", str(cut), "--model", model, "-o", str(tmp_path / "x.json")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "2 layer(s)" in err and "conv1, prob" in err and "NVDLA's compiler aborts" in err
    assert not (tmp_path / "x.json").exists()


def test_cli_bad_cache_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.cache"
    bad.write_text("TRT-8501-EntropyCalibration2\nx: nothex!\n")
    assert main(["convert-calib", str(bad), "-o", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}:2" in err and "Traceback" not in err
    assert main(["convert-calib", str(tmp_path / "absent.cache"), "-o", str(tmp_path / "o.json")]) == 2


def test_cli_missing_layer_of_onnx_model(cnn, tmp_path, capsys):
    """The missing-layer rule for an ONNX model (not only Caffe): named, with what the compiler does."""
    model = cnn
    cache = tmp_path / "c.cache"
    cache.write_text("TRT-8501-EntropyCalibration2\nx: 3c010a14\nconv_out: 3c010a14\ny: 3c010a14\n")
    rc = main(["convert-calib", str(cache), "--model", str(model), "--keys", "tensor", "-o", str(tmp_path / "t.json")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "relu_out" in err and "NVDLA's compiler aborts" in err
    assert "conv_out" not in err.split("no scale:")[1]
    assert not (tmp_path / "t.json").exists()


def test_cli_bad_table_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": {"scale": 1},\n "b": {"scale": -2}}')
    assert main(["convert-calib", str(bad), "-o", str(tmp_path / "o.cache")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}:2" in err and "'b'" in err and "Traceback" not in err
    assert not (tmp_path / "o.cache").exists()


def test_stored_scale_is_what_a_written_table_reads_back(tmp_path):
    """network_choice and bias correction judge scales in memory with stored_scale: they must be
    the float32 values `calibrate` writes, or the judged network is not the compiled one."""
    thresholds = {"a": 1.0, "b": 0.123456789, "c": 6.57, "d": 1e-3 / 3}
    table = tmp_path / "t.json"
    write_table(table, entries_from_scales({n: t / 127.0 for n, t in thresholds.items()}))
    back = read_table(table)
    assert {n: stored_scale(t) for n, t in thresholds.items()} == {n: e.scale for n, e in back.items()}
    assert stored_scale(0.123456789) != 0.123456789 / 127.0       # the float32 rounding is there
