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


def test_long_compute_without_bus_traffic_is_not_a_hang(tmp_path):
    """Nightly seed 835 (a 32x16x11 kernel: 1,024 atomic operations per output position, stripes of
    up to 32 positions) keeps the MAC array busy for more than the watchdog's 20,000 cycles between
    bus transfers; NVDLA's RTL and the golden model complete it, so must we. (Seed 1203, the 21x5x70
    kernel that showed it, draws another layer since the generator leaves room in CBUF for the
    conv layer before it.)"""
    reg = Regression(Constraints.load("nightly"), tmp_path, backend="rtl", worker="long")
    [r] = reg.run_batch([835])
    assert r.passed, failure_line(r)
    assert r.cycles > 100_000


def test_next_layer_atoms_wait_for_their_own_sdp_layer(tmp_path):
    """Nightly seed 1343: a flying SDP layer still busy after its last atom (its conv layer just
    ended, write responses delayed) must not take the first atom the next conv layer sends; it
    did only when reads were reordered (the default with stalls), and the next layer lost it.
    Drawn before stretched layers existed: without them, the seed draws that program still."""
    c = Constraints.load("nightly")
    c.knobs["stretch"] = {"choices": ["none"]}
    reg = Regression(c, tmp_path, backend="rtl", worker="budget")
    [r] = reg.run_batch([1343])
    assert r.passed, failure_line(r)
