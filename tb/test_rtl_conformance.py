"""The whole conformance suite on the RTL, through the top (APB, AXI memory, interrupt), in two
simulations: the 72 dc_* and 79 sdp_* traces of vectors/conformance on the fast SystemVerilog
memory with random latency and back-pressure, each bit-exact with the golden model and its CRC
(the golden side: tests/test_conformance.py; the same run by hand: `make conformance BACKEND=rtl`)."""
from __future__ import annotations

import pytest

from nvdla_int8.conformance import find_traces
from tests.suite import CONFORMANCE, require

pytestmark = pytest.mark.rtl
SHARDS = 2


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_conformance_trace_on_the_rtl(tmp_path, shard):
    from tb.trace_runner import run_traces
    every = find_traces([require(CONFORMANCE)])
    assert len(every) == 151
    paths = every[shard::SHARDS]
    outcomes = list(run_traces(paths, work_dir=tmp_path, mem_mode="sv", seed=7 + shard))
    assert [o.name for o in outcomes] == [p.stem for p in paths]
    bad = [f"{o.name}: {o.message}" for o in outcomes if not o.passed]
    assert not bad, "\n".join(bad)
    assert all(o.cycles and o.cycles > 0 for o in outcomes)
