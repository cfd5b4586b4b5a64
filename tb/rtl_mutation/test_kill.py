"""End to end on one mutant: the cheapest kill tier passes the RTL as it is and kills a mutant
known to matter (shr_round's sticky bit dropped: a negative value more than half-way between two
results rounds down instead of up), built from its own copy through NVDLA_RTL_DIR."""
from __future__ import annotations

import pytest

from tb.rtl_mutation.points import generate
from tb.rtl_mutation.tiers import KILLED, SURVIVED, Traces, _raw, run_mutant, select

pytestmark = pytest.mark.rtl


def test_subset_tier_passes_the_rtl_and_kills_a_sticky_bit_mutant(tmp_path):
    traces = Traces.digest(tmp_path / "digests")
    [subset] = select("subset")
    verdict, msg = _raw(traces.subset, subset.timeout)  # rtl_models/ itself, make test's raw build
    assert verdict == SURVIVED, msg
    m = next(m for m in generate() if m.cls == "sticky" and m.original == "rest")
    row = run_mutant(m, [subset], traces, tmp_path / "mutant")
    assert row["status"] == KILLED and row["killed_by"] == "subset", row
    assert "FAIL" in row["tiers"]["subset"]["message"]
    assert not (tmp_path / "mutant").exists()  # its copy and builds are gone
