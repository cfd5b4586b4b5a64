"""The seeds of `make regress`: one class per batch, one test per seed (collected only when
named on the command line, with -p tb.regress.plugin, which fills BATCHES first)."""
import pytest

from tb.regress.plugin import BATCHES
from tb.regress.runner import failure_line


def _batch_class(batch: list[int]):
    @pytest.mark.parametrize("regress_seed", batch, ids=[f"seed{s}" for s in batch])
    def test_seed(self, regress_seed, regress):
        r = regress["run"].result(batch, regress_seed)
        if not r.passed:
            pytest.fail(failure_line(r), pytrace=False)

    return type(f"TestBatch{batch[0]}", (), {"test_seed": test_seed})


for _b in BATCHES:
    _cls = _batch_class(_b)
    globals()[_cls.__name__] = _cls
