"""Issue #15 item 6: every bad input the fuzzing found, through the command line: exit status 2,
one `nvdla-int8 <command>: error:` line naming what is wrong, no traceback, and no output folder,
temporary sibling or stale file left behind."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from nvdla_int8.cli import main

DIGITS = Path(__file__).resolve().parents[2] / "models" / "digits_cnn.onnx"


def _error(capsys, args: list[str], command: str = "compile") -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"nvdla-int8 {command}: error:") and "\n" not in err, err
    assert "Traceback" not in err
    return err


def _nothing_written(out: Path) -> None:
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")] == []


@pytest.fixture
def digits_table(tmp_path) -> Path:
    """One scale per tensor of the digits model (any positive scales compile)."""
    m = onnx.load(str(DIGITS))
    names = [m.graph.input[0].name] + [o for n in m.graph.node for o in n.output]
    p = tmp_path / "digits.json"
    p.write_text(json.dumps({t: {"scale": 0.05, "offset": 0} for t in names}))
    return p


def _digits_mutant(tmp_path, edit) -> Path:
    m = onnx.load(str(DIGITS))
    edit(m)
    p = tmp_path / "mutant.onnx"
    p.write_bytes(m.SerializeToString())
    return p


def _node(m, name):
    return next(n for n in m.graph.node if n.name == name)


def _declare(m, tensor, dims):
    m.graph.value_info.append(helper.make_tensor_value_info(tensor, onnx.TensorProto.FLOAT, dims))


def _set_meta(key, value):
    def edit(m):
        next(p for p in m.metadata_props if p.key == key).value = value
    return edit


def _weight(name, fn):
    def edit(m):
        t = next(t for t in m.graph.initializer if t.name == name)
        t.CopyFrom(numpy_helper.from_array(fn(numpy_helper.to_array(t).copy()), name))
    return edit


def _nan_at_3(a):
    a.flat[3] = np.nan
    return a


def _no_kernel_shape(m):
    n = _node(m, "pool1")
    for a in list(n.attribute):
        if a.name == "kernel_shape":
            n.attribute.remove(a)


def _opset(v):
    def edit(m):
        m.opset_import[0].version = v
    return edit


@pytest.mark.parametrize("case, edit, needles", [
    ("reshape dims disagree", lambda m: _declare(m, "flat_out", [1, 100]), ["flatten", "Flatten", "shape"]),
    ("output dims disagree", lambda m: _declare(m, "pool2_out", [1, 16, 5, 5]), ["pool2", "shape"]),
    ("MaxPool without kernel_shape", _no_kernel_shape, ["'pool1' (MaxPool)", "kernel_shape"]),
    ("image_scale text", _set_meta("nvdla_int8.image_scale", "grey"), ["nvdla_int8.image_scale", "'grey'"]),
    ("image_scale nan", _set_meta("nvdla_int8.image_scale", "nan"), ["nvdla_int8.image_scale", "'nan'"]),
    ("image_scale 0", _set_meta("nvdla_int8.image_scale", "0"), ["nvdla_int8.image_scale", "positive"]),
    ("NaN conv weight", _weight("conv1.weight", _nan_at_3), ["'conv1.weight'", "'conv1' (Conv)", "NaN"]),
    ("infinite bias", _weight("fc.bias", lambda a: a + np.inf), ["'fc.bias'", "'fc' (Gemm)", "infinite"]),
    ("duplicated node", lambda m: m.graph.node.insert(3, m.graph.node[2]), ["relu1_out", "single static assignment"]),
    ("uint8 weights", _weight("conv1.weight", lambda a: a.astype(np.uint8)), ["'conv1.weight'", "UINT8"]),
    ("float16 weights", _weight("conv2.weight", lambda a: a.astype(np.float16)), ["'conv2.weight'", "FLOAT16"]),
    ("int32 BN variance", _weight("bn1.var", lambda a: a.astype(np.int32)), ["bn1", "int32"]),
    ("BN constant not 1-D", _weight("bn1.bias", lambda a: a.reshape(1, -1)), ["'bn1' (BatchNormalization)", "bias"]),
    ("BN variance negative", _weight("bn1.var", lambda a: a - 100), ["'bn1'", "var + epsilon"]),
    ("conv bias of another size", _weight("conv2.bias", lambda a: a[:5]), ["'conv2' (Conv)", "bias"]),
    ("opset 99", _opset(99), ["opset 99"]),
    ("opset 6", _opset(6), ["opset 6"]),
])
def test_bad_models_are_refused_in_one_line(tmp_path, capsys, digits_table, case, edit, needles):
    out = tmp_path / "out"
    err = _error(capsys, ["compile", str(_digits_mutant(tmp_path, edit)), "--calibtable", str(digits_table),
                          "-o", str(out)])
    assert all(s in err for s in needles), err
    _nothing_written(out)


def _one_conv(make_model, tmp_path, hw: int, pad: int, channels: int = 4) -> Path:
    n = helper.make_node("Conv", ["x", "w"], ["y"], name="convP", kernel_shape=[3, 3], pads=[pad] * 4)
    return make_model(tmp_path / "conv.onnx", [n], {"w": np.full((4, channels, 3, 3), 0.1)}, [1, channels, hw, hw],
                      [1, 4] + [hw + 2 * pad - 2] * 2)


@pytest.mark.parametrize("hw, pad, register, field", [
    (8, 40, "NVDLA_CDMA.D_ZERO_PADDING_0", "PAD_LEFT"),  # pads have 5 bits
    (2048, 1, "D_SURF_STRIDE_0", "SURF_STRIDE"),  # 2048 x 2048 x 8 bytes: 2^25, strides have 24 bits
])
def test_register_field_overflow_names_layer_and_field(make_model, tmp_path, capsys, hw, pad, register, field):
    table = tmp_path / "t.json"
    table.write_text('{"x": {"scale": 0.02}, "y": {"scale": 0.05}}')
    out = tmp_path / "out"
    err = _error(capsys, ["compile", str(_one_conv(make_model, tmp_path, hw, pad, channels=1 if hw > 8 else 4)),
                          "--calibtable", str(table), "-o", str(out)])
    assert "'convP'" in err and register in err and f".{field} = " in err, err
    _nothing_written(out)


@pytest.mark.parametrize("bad", [b'{"image": {"scale": 0.05\xff}}', b'{\n"im\xe9ge": {"scale": 0.05}}'])
def test_non_utf8_table(tmp_path, capsys, bad):
    table = tmp_path / "t.json"
    table.write_bytes(bad)
    err = _error(capsys, ["compile", str(DIGITS), "--calibtable", str(table), "-o", str(tmp_path / "o")])
    line = bad[:bad.index(b"\xff") if b"\xff" in bad else bad.index(b"\xe9")].count(b"\n") + 1
    assert f"t.json:{line}: not UTF-8" in err, err
    _nothing_written(tmp_path / "o")


@pytest.mark.parametrize("pre", ['"x"', '{"image_mean": "grey", "image_scale": 1}', '{"image_mean": 1}',
                                 '{"divisor": NaN}'])
def test_table_preprocessing_metadata_must_be_numbers(tmp_path, capsys, digits_table, pre):
    top = json.loads(digits_table.read_text())
    text = json.dumps({"nvdla_int8.metadata": {"preprocessing": "@@"}, **top}).replace('"@@"', pre)
    digits_table.write_text(text)
    err = _error(capsys, ["compile", str(DIGITS), "--calibtable", str(digits_table), "-o", str(tmp_path / "o")])
    assert "nvdla_int8.metadata.preprocessing" in err, err


def test_compile_input_of_the_wrong_shape(tmp_path, capsys, digits_table):
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 20, 20), np.uint8))
    err = _error(capsys, ["compile", str(DIGITS), "--calibtable", str(digits_table), "-o", str(tmp_path / "o"),
                          "--input", str(tmp_path / "x.npy")])
    assert "x.npy" in err and "400" in err and "28" in err, err
    _nothing_written(tmp_path / "o")


@pytest.fixture
def compiled(tmp_path, capsys, digits_table) -> Path:
    out = tmp_path / "v"
    assert main(["compile", str(DIGITS), "--calibtable", str(digits_table), "-o", str(out)]) == 0
    capsys.readouterr()
    return out


@pytest.mark.parametrize("case", ["input shape", "label count", "labels 2-D", "float labels"])
def test_run_refuses(compiled, tmp_path, capsys, case):
    x = np.zeros((3, 1, 20, 20) if case == "input shape" else (3, 1, 28, 28), np.uint8)
    np.save(tmp_path / "x.npy", x)
    labels = {"label count": np.zeros(2, np.int64), "labels 2-D": np.zeros((3, 2), np.int64),
              "float labels": np.zeros(3, np.float32)}.get(case)
    args = ["run", str(compiled), "--input", str(tmp_path / "x.npy")]
    if labels is not None:
        np.save(tmp_path / "l.npy", labels)
        args += ["--labels", str(tmp_path / "l.npy")]
    err = _error(capsys, args, "run")
    assert ("l.npy" in err) == (labels is not None), err


def test_calibration_data_that_is_a_corrupt_npz(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.npz").write_bytes(b"PK\x03\x04 not a zip")
    err = _error(capsys, ["calibrate", str(DIGITS), "--data", str(tmp_path / "data"), "--method", "max", "-q",
                          "-o", str(tmp_path / "c.json")], "calibrate")
    assert "a.npz" in err and "zip" in err, err
    assert not (tmp_path / "c.json").exists()


# --- output folders: whole or untouched ---

def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_failed_compile_leaves_a_previous_compile_untouched(compiled, tmp_path, capsys):
    before = _snapshot(compiled)
    bad = _digits_mutant(tmp_path, _weight("conv2.weight", _nan_at_3))
    _error(capsys, ["compile", str(bad), "--calibtable", str(tmp_path / "digits.json"), "-o", str(compiled)])
    assert _snapshot(compiled) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".v.")] == []


def test_recompiling_into_a_folder_leaves_no_file_of_the_previous_model(compiled, make_model, tmp_path, capsys):
    table = tmp_path / "t.json"
    table.write_text('{"x": {"scale": 0.02}, "y": {"scale": 0.05}}')
    model = _one_conv(make_model, tmp_path, 8, 1)
    for out in (compiled, tmp_path / "fresh"):
        assert main(["compile", str(model), "--calibtable", str(table), "-o", str(out)]) == 0
    assert _snapshot(compiled) == _snapshot(tmp_path / "fresh")  # a new folder's files, no more


def test_a_folder_of_other_files_is_not_replaced(tmp_path, capsys, digits_table):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    err = _error(capsys, ["compile", str(DIGITS), "--calibtable", str(digits_table), "-o", str(mine)])
    assert "not a compiled network" in err, err
    assert _snapshot(mine) == {"notes.txt": b"keep me"}


def test_the_current_folder_is_not_replaced(tmp_path, capsys, digits_table, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = _error(capsys, ["compile", str(DIGITS), "--calibtable", str(digits_table), "-o", "."])
    assert "current folder" in err, err
    assert Path.cwd() == tmp_path and tmp_path.is_dir()


def test_an_error_while_writing_leaves_no_half_written_folder(tmp_path, capsys, digits_table, monkeypatch):
    """An error after some traces are written (here: the manifest cannot be written)."""
    from nvdla_int8.lower import vectors

    real = vectors.write_atomic

    def failing(path, data, encoding="utf-8"):
        if Path(path).name == vectors.MANIFEST:
            raise OSError(28, "No space left on device")
        real(path, data, encoding)

    monkeypatch.setattr(vectors, "write_atomic", failing)
    out = tmp_path / "out"
    err = _error(capsys, ["compile", str(DIGITS), "--calibtable", str(digits_table), "-o", str(out)])
    assert "No space left" in err
    _nothing_written(out)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_compiled_files_get_the_umask_permissions(tmp_path, capsys, digits_table, umask):
    old = os.umask(umask)
    try:
        assert main(["compile", str(DIGITS), "--calibtable", str(digits_table), "-o", str(tmp_path / "o")]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "o").stat().st_mode & 0o777 == 0o777 & ~umask
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "o").iterdir()}
    assert set(modes.values()) == {0o666 & ~umask}, modes
