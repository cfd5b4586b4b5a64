"""Self-check of the checker (issue #7 §4): each fault the harness can inject (tb/uvm/faults.py)
is played on the same trace in one simulation, and the test for each fault proves the outcome
fails with a message that names it; the un-mutated run of that trace passes, so a detection is
not a false alarm. `python -m tb.mutation_report` runs every fault over more traces."""
from __future__ import annotations

import pytest

from tests.suite import NV_SMALL, require

pytestmark = pytest.mark.rtl

TRACE = "sdp_3x3x33_bs_bn_int8_0"  # C = 33, H = W = 3, BS and BN from registers

# fault -> what the failure message must say (each of them)
EXPECTED = {
    "flip_byte": "output differs at (channel 1, line 1, column 1)",
    "late_write": "late write: output atom",
    "drop_write:3": "missing write: 1 of",
    "read_flip:2": "first stage to differ: SDP input differs at",  # saturates away: output right
    # an input beat that changes an output byte: the AXI write monitor sees it on the bus as the
    # layer ends, before the memory is read back
    "read_flip:5": ("layer 0: bus: write at 0x900002d0 in cycle", "carries 0, golden 127", "output differs at"),
    "no_intr": "interrupt SDP_0 never arrived (no progress for",
    "x1_tap:1": "first stage to differ: X1 differs at",
    "sat_count": "SDP.D_PERF_OUT_SATURATION reads",
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """One simulation: the clean trace, then the same trace once per fault. Under pytest-xdist
    the first worker to get here runs it and the others read its results (one run per session)."""
    import fcntl
    import json
    from dataclasses import asdict

    from nvdla_int8.conformance import TraceOutcome
    from tb.trace_runner import run_traces
    mutations = ["none", *EXPECTED]
    import os
    base = tmp_path_factory.getbasetemp()
    shared_dir = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one per session
    cache = shared_dir / "rtl_mutations.json"
    with open(shared_dir / "rtl_mutations.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cache.exists():
            path = require(NV_SMALL / TRACE / f"{TRACE}.cfg")
            got = list(run_traces([path] * len(mutations), work_dir=tmp_path_factory.mktemp("mutations"), seed=21,
                                  extra_env={"TB_MUTATE": json.dumps(mutations)}))
            cache.write_text(json.dumps([asdict(o) for o in got]))
    got = [TraceOutcome(**d) for d in json.loads(cache.read_text())]
    assert len(got) == len(mutations)
    return dict(zip(mutations, got))


def test_unmutated_run_passes(outcomes):
    o = outcomes["none"]
    assert o.passed, o.message


@pytest.mark.parametrize("fault", list(EXPECTED))
def test_fault_is_reported(outcomes, fault):
    o = outcomes[fault]
    assert not o.passed, f"{fault} went undetected"
    want = EXPECTED[fault]
    for text in (want,) if isinstance(want, str) else want:
        assert text in o.message, o.message


def test_write_checks_with_the_axiram_memory(tmp_path):
    """AxiRam's committed writes feed the same write checks: a clean run passes, a dropped
    write is reported as missing, and a fault only the fast memory has is a clear error."""
    import json

    from tb.trace_runner import run_traces
    path = require(NV_SMALL / TRACE / f"{TRACE}.cfg")
    clean, dropped, sv_only = run_traces([path] * 3, work_dir=tmp_path, mem_mode="axiram", seed=4,
                                         extra_env={"TB_MUTATE": json.dumps(["", "drop_write:3", "late_write"])})
    assert clean.passed, clean.message
    assert not dropped.passed and "missing write: 1 of" in dropped.message, dropped.message
    assert not sv_only.passed and "late_write needs the fast memory" in sv_only.message, sv_only.message


def test_bad_knobs_are_one_line_errors_before_simulating(tmp_path):
    from nvdla_int8.errors import InputError
    from tb.trace_runner import run_traces
    for env, msg in [({"TB_MUTATE": "flip"}, "unknown mutation 'flip'"),
                     ({"TB_MUTATE": "drop_write:x"}, "index 'x' is not an integer"),
                     ({"TB_MUTATE": '["none", '}, "TB_MUTATE: not a JSON list"),
                     ({"TB_RESET_AT": "soon"}, "TB_RESET_AT: 'soon' is not an integer"),
                     ({"TB_STATUS_READS": "-5"}, "TB_STATUS_READS: -5 is negative")]:
        with pytest.raises(InputError, match=msg):
            next(iter(run_traces([tmp_path / "never_run.cfg"], work_dir=tmp_path, extra_env=env)))
