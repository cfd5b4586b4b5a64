"""The AXI protocol assertions (tb/hdl/tb_axi_checker.sv): each fires on the one rule its scenario
breaks and on nothing else, and legal traffic with wait states fires none (tb/axi_checker_tb.py).
That the checker is in every RTL run is shown by test_rtl_runs_report_a_broken_rule."""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path

import pytest

from tb.rtl_build import HDL, ROOT, verilator_on_path

pytestmark = pytest.mark.rtl
BUILD = ROOT / "build" / "axi_checker_sim"
RULES = ["aw_stable", "w_stable", "ar_stable", "aw_burst", "ar_burst", "w_last", "b_after_aw", "r_stable", "b_stable"]


@pytest.fixture(scope="module")
def fired() -> dict[str, list[str]]:
    from cocotb_tools.runner import get_runner

    verilator_on_path()
    BUILD.mkdir(parents=True, exist_ok=True)
    r = get_runner("verilator")
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        r.build(sources=[ROOT / "rtl_models" / "nvdla_pkg.sv", HDL / "tb_axi_checker.sv"],
                hdl_toplevel="tb_axi_checker", build_dir=BUILD,
                build_args=["-j", "2", "--assert", "-Wno-fatal"], timescale=("1ns", "1ps"))
    with tempfile.TemporaryDirectory(prefix="axi_check_") as tmp:
        out = Path(tmp) / "fired.json"
        env = {"AXI_RESULTS": str(out), "PYTHONPATH": os.pathsep.join([str(ROOT / "compiler"), str(ROOT)])}
        r.test(test_module="tb.axi_checker_tb", hdl_toplevel="tb_axi_checker", build_dir=BUILD, test_dir=tmp,
               extra_env=env, results_xml=str(Path(tmp) / "results.xml"), plusargs=[f"+TB_MEM_DIR={tmp}"])
        seen = json.loads(out.read_text())
    print(json.dumps(seen, indent=1))
    return seen


def test_legal_traffic_fires_nothing(fired):
    assert fired["legal"] == []


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_fires_alone(fired, rule):
    lines = fired[rule]
    assert lines and all(f"AXI rule {rule}:" in ln for ln in lines), lines
    assert "(cycle " in lines[0]


# The one 4 KiB burst split (nvdla_pkg::burst_beats): the fault measures the room to the end of
# the next page instead, so bursts run across a page end. Read data stay right (the testbench
# memory is flat), so only the protocol check can see it. The trace's weights are 36 KiB in kernel
# groups of 9 KiB: group 1 starts mid-page and its 2 KiB bursts meet a page end.
PAGE_GOOD = "n = 32'd512 - 32'(page_beat);"
PAGE_BAD = "n = 32'd1024 - 32'(page_beat);"
PAGE_TRACE = "dc_8x16x128_3x3x128x32_int8"


def test_rtl_runs_report_a_broken_rule(tmp_path, monkeypatch):
    """The checker rides in every RTL build: with a broken burst split, the cocotb flow fails the
    trace naming the rule, and the raw harness refuses its run."""
    from tb.raw.run import run as raw_run
    from tb.rtl_mutation.points import broken_copy
    from tb.trace_runner import run_traces

    trace = ROOT / "vectors" / "conformance" / "nv_small" / PAGE_TRACE / f"{PAGE_TRACE}.cfg"
    monkeypatch.setenv("NVDLA_RTL_DIR", str(broken_copy(tmp_path, PAGE_GOOD, PAGE_BAD)))
    [outcome] = run_traces([trace], work_dir=tmp_path / "run")
    assert not outcome.passed and "AXI rule ar_burst:" in outcome.message, outcome.message
    with pytest.raises(RuntimeError, match="AXI rule ar_burst:"):
        raw_run([trace], work=tmp_path)
