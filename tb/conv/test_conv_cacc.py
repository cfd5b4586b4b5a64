"""conv_cacc on its own: the 34-bit saturating partial sum and the int32 clamp with its counter
(datapath.md §7), which a layer small enough for CBUF cannot reach through conv_core."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from tb.conv.conv_sim import REPO, build_unit

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("spec", [
    dict(ops=40000, back=0, clip=0, seed=1),      # all lanes pinned at +-2^33, int32 clamp on 4+
    dict(ops=40000, back=1500, clip=16, seed=2),  # saturate, then walk back: wraps would differ
    dict(ops=17000, back=0, clip=1, seed=3),      # past int32 but inside 34 bits, clip 1
    dict(ops=300, back=100, clip=5, seed=4),      # nothing saturates
    dict(ops=300, back=100, clip=5, seed=4, fault=1),  # the check itself: one lane off must fail
    # CLIP_TRUNCATE 17: the 15-bit sticky; -65535 rounds like the tie -65536 (to -1), not to 0
    dict(ops=1, back=0, clip=17, seed=5, values=[-65535, -65534, 65536, -65536, 65535, -1, 131071, -196607]),
    # The saturation counter (CACC D_OUT_SATURATION) from just below 2^31 and 2^32 (4 lanes clamp):
    # it counts past 2^31 and stops at 2^32 - 1. No test can clamp 2^31 outputs, so the counter
    # is set there (mutant conv_cacc.70 of `make rtl-mutation` stopped it at 2^31).
    dict(ops=9000, back=0, clip=0, seed=6, sat_from=(1 << 31) - 2),
    dict(ops=9000, back=0, clip=0, seed=6, sat_from=(1 << 32) - 2),
], ids=lambda d: f"ops{d['ops']}_back{d['back']}_clip{d['clip']}" + ("_fault" if d.get("fault") else "")
     + (f"_sat_from_{d['sat_from']:#x}" if "sat_from" in d else ""))
def test_cacc_saturation(spec):
    from cocotb_tools.check_results import get_results
    r, build = build_unit("conv_cacc", ("nvdla_pkg", "conv/conv_pkg", "conv/conv_cacc"))
    with tempfile.TemporaryDirectory(prefix="cacc_") as tmp:
        env = {"CACC_SPEC": json.dumps(spec),
               "PYTHONPATH": os.pathsep.join([str(REPO / "compiler"), str(REPO)])}
        xml = Path(tmp) / "results.xml"
        try:
            r.test(test_module="tb.conv.conv_cacc_tb", hdl_toplevel="conv_cacc", build_dir=build, test_dir=tmp,
                   extra_env=env, results_xml=str(xml))
        except SystemExit:  # the runner exits when the test failed; the results file says so
            pass
        tests, failed = get_results(xml)
    assert (tests, failed) == (1, 1 if spec.get("fault") else 0)
