"""bench/bench_quant_vs_ort.py run in parts over test images (--images LO:HI) and joined by
--table: the pooled row is the row one run over all the images gives, including which
onnxruntime method is "best" (it can differ between the parts) and the paired flips; overlapping
parts are refused in one line."""
from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from nvdla_int8.errors import InputError
from tests.suite import REPO


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_quant_vs_ort", REPO / "bench/bench_quant_vs_ort.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


def _outputs(rng, n, noise):
    return {h: rng.normal(0, 1, (n, k)) + noise * rng.normal(0, 1, (n, k)) for h, k in (("digit", 10), ("parity", 2))}


def _rows(bench, method, outs, ort, fp32, labels, lo, hi):
    part = slice(lo, hi)
    cut = lambda o: {h: v[part] for h, v in o.items()}   # noqa: E731
    ort_all = {m: bench.score(cut(o), cut(fp32), labels[part]) for m, o in ort.items()}
    row = bench.new_row("m.onnx", method, "per-kernel", ort_all, (lo, hi), True)
    bench.fill_row(row, cut(outs), cut(fp32), labels[part], {m: bench.right(cut(o), labels[part]) for m, o in ort.items()})
    return row


@pytest.mark.parametrize("method", ["max", "auto"])
def test_parts_pool_into_the_whole_run(bench, method):
    rng = np.random.default_rng(3)
    n = 40
    labels = rng.integers(0, 10, n)
    fp32 = _outputs(rng, n, 0)
    base = np.random.default_rng(4)
    fp32 = {h: v + 3 * np.eye(v.shape[1])[labels % v.shape[1]] for h, v in fp32.items()}   # mostly right
    first = np.arange(n)[:, None] < n // 2
    noisy = lambda s: {h: v + s * base.normal(0, 1, v.shape) for h, v in fp32.items()}   # noqa: E731
    # onnxruntime's best differs between the halves: max is FP32 itself on the first, percentile on
    # the second and close to it on the first, so percentile is the best overall
    ort = {"max": {h: np.where(first, fp32[h], v) for h, v in noisy(1.0).items()},
           "percentile": {h: np.where(first, v, fp32[h]) for h, v in noisy(0.3).items()},
           "entropy": noisy(1.1)}
    outs = {h: v + 0.8 * base.normal(0, 1, v.shape) for h, v in fp32.items()}
    whole = _rows(bench, method, outs, ort, fp32, labels, 0, n)
    parts = [_rows(bench, method, outs, ort, fp32, labels, lo, hi) for lo, hi in ((20, 40), (0, 20))]
    if method == "auto":
        assert (parts[1]["twin"], parts[0]["twin"], whole["twin"]) == ("max", "percentile", "percentile")
    [joined] = bench.join_rows(parts)
    assert joined["twin"] == whole["twin"] and joined["ok"] == whole["ok"] and joined["test_images"] == n
    assert joined["flips"] == whole["flips"] and joined["flips_all"] == whole["flips_all"]
    for side in ("ours", "ort"):
        for h, v in whole[side].items():
            assert v["max"] == joined[side][h]["max"]
            assert all(np.isclose(v[k], joined[side][h][k], rtol=1e-12, atol=0) for k in ("acc", "agree", "mean"))
    again = dict(parts[0], ok="replaced")            # the same range again: the later row wins, nothing pooled
    assert bench.join_rows([parts[0], again]) == [again]


def test_overlapping_parts_are_refused(bench):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 30)
    fp32 = _outputs(rng, 30, 0)
    ort = {m: _outputs(rng, 30, 1) for m in ("max", "percentile", "entropy")}
    outs = _outputs(rng, 30, 1)
    rows = [_rows(bench, "max", outs, ort, fp32, labels, lo, hi) for lo, hi in ((0, 20), (10, 30))]
    with pytest.raises(InputError, match="overlap") as e:
        bench.join_rows(rows)
    assert "\n" not in str(e.value)
    old = {k: v for k, v in rows[0].items() if k not in ("images", "ort_all")}
    with pytest.raises(InputError, match="run it again"):
        bench.join_rows([old, rows[1]])
