"""The mutants of `make rtl-mutation`: one test per mutant (collected only when named on the
command line, with -p tb.rtl_mutation.plugin, which fills MUTANTS first)."""
import pytest

from tb.rtl_mutation.plugin import MUTANTS, record
from tb.rtl_mutation.report import is_equivalent
from tb.rtl_mutation.tiers import KILLED, STILLBORN, run_mutant


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_is_killed(mutant, rtl_mutation):
    s = rtl_mutation
    row = run_mutant(mutant, s["tiers"], s["traces"], s["out"] / "mutants" / mutant.id, keep=s["keep"])
    record(s, row)
    if row["status"] == STILLBORN:
        pytest.skip(f"stillborn: {row.get('message', '')}")
    if row["status"] != KILLED and not is_equivalent(mutant.id, s["known"]):
        before, after = row["diff"]
        pytest.fail(f"survived every tier: rtl_models/{mutant.file}:{mutant.line} ({mutant.cls}) "
                    f"{before!r} -> {after!r}", pytrace=False)
