"""The compiler fuzzer (tools/fuzz_compiler.py): a small seeded sample of mutants in `make test`
(the full campaign is `make fuzz`), and proof that its judge catches each failure it counts."""
from __future__ import annotations

import sys

import onnx
import pytest

from tools import fuzz_compiler as fz

SAMPLE = 30
SAMPLE_SEED = 15  # any seed; fixed so a failure here replays with `--seed 15 --case i`


def test_a_sample_of_mutants_is_refused_cleanly_or_compiled_whole(tmp_path):
    results = fz.campaign(SAMPLE, SAMPLE_SEED, tmp_path)
    failures = [c for c in results if c.verdict in fz.FAILURES]
    assert not failures, fz.summary(results, SAMPLE_SEED)
    assert {c.kind for c in results} == {"model", "table"}


def test_another_model_is_mutated_from_its_own_table(tmp_path):
    """--model: the graph models are fuzzed from their own calibration (a few cases here)."""
    model = fz.REPO / "models" / "fire_concat.onnx"
    results = fz.campaign(4, SAMPLE_SEED, tmp_path, model_path=model)
    assert not [c for c in results if c.verdict in fz.FAILURES], fz.summary(results, SAMPLE_SEED, model)
    assert "/fire1/Concat" in fz.base_table(tmp_path, model)  # a tensor digits_cnn does not have
    assert "fire_concat.onnx" in fz.summary(results, SAMPLE_SEED, model).splitlines()[0]


def test_mutants_are_reproducible(tmp_path):
    table = fz.base_table(tmp_path)
    for i in range(6):
        a, b = tmp_path / f"a{i}", tmp_path / f"b{i}"
        a.mkdir(), b.mkdir()
        assert fz.make_mutant(i, 7, a, table) == fz.make_mutant(i, 7, b, table)
        assert all((a / f).read_bytes() == (b / f).read_bytes() for f in ("model.onnx", "table.json"))


# --- the judge: a stand-in `compile` misbehaving in each way must get that verdict

_FAKES = {
    "traceback": "raise RuntimeError('boom')",
    "hang": "import time; time.sleep(60)",
    "partial": "import os, pathlib; os.makedirs(out); pathlib.Path(out, 'L00_x.cfg').touch(); "
               "sys.stderr.write('nvdla-int8 compile: error: x\\n'); sys.exit(2)",
    "leftover": "import os; os.makedirs(os.path.join(os.path.dirname(out), '.out.abc.tmp')); "
                "sys.stderr.write('nvdla-int8 compile: error: x\\n'); sys.exit(2)",
    "unclear error": "sys.exit(2)",
    "stray output": "sys.stderr.write('RuntimeWarning: invalid value\\nnvdla-int8 compile: error: x\\n'); sys.exit(2)",
    "no manifest": "import os; os.makedirs(out)",
    "success": "import os, json, pathlib; os.makedirs(out); pathlib.Path(out, 'manifest.json').write_text("
               "json.dumps({'steps': [], 'tensors': {'x': {'scale': 0.1}}}))",
    "refused": "sys.stderr.write('nvdla-int8 compile: error: m.onnx: bad\\n'); sys.exit(2)",
}


def _judge(tmp_path, fake: str, model_edit=None) -> fz.Case:
    m = onnx.load(str(fz.MODEL))
    if model_edit:
        model_edit(m)
    (tmp_path / "model.onnx").write_bytes(m.SerializeToString())
    (tmp_path / "table.json").write_text("{}")
    cmd = [sys.executable, "-c", f"import sys; out = sys.argv[-1]; {_FAKES[fake]}"]
    return fz.judge(fz.Case(0, "model", "test", fake), tmp_path, cmd, timeout=3)


@pytest.mark.parametrize("fake, verdict", [
    ("traceback", "traceback"), ("hang", "hang"), ("partial", "partial"), ("leftover", "partial"),
    ("unclear error", "unclear error"), ("stray output", "stray output"), ("no manifest", "partial"),
    ("success", "compiled"), ("refused", "refused"),
])
def test_the_judge_tells_each_outcome(tmp_path, fake, verdict):
    assert _judge(tmp_path, fake).verdict == verdict


def test_success_on_a_model_onnxruntime_refuses_is_a_silent_success(tmp_path):
    def opset_99(m):
        m.opset_import[0].version = 99

    assert _judge(tmp_path, "success", opset_99).verdict == "silent success"
