"""The smoke tier of the random regression inside `make test`: a handful of seeds of legal random
conv/SDP programs on the RTL, each compared bit for bit (outputs and stage taps) with the golden
model (`make regress` runs any number of seeds, sharded, with reports)."""
from __future__ import annotations

import pytest

from tb.regress.runner import Regression, failure_line
from tb.stimulus import Constraints

pytestmark = pytest.mark.rtl
SMOKE_SEEDS = list(range(1, 13))


def test_smoke_tier_seeds_pass_bit_exact(tmp_path):
    reg = Regression(Constraints.load("smoke"), tmp_path, backend="rtl", worker="smoke")
    results = reg.run_batch(SMOKE_SEEDS)
    assert [r.seed for r in results] == SMOKE_SEEDS
    bad = [failure_line(r) for r in results if not r.passed]
    assert not bad, "\n".join(bad)
    assert all(r.cycles and r.cycles > 0 for r in results)
