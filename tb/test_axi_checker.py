"""The AXI protocol assertions (tb/hdl/tb_axi_checker.sv): each fires on the one rule its scenario
breaks and on nothing else, and legal traffic with wait states fires none (tb/axi_checker_tb.py).
That the checker is in every RTL run is shown by test_rtl_run_reports_a_broken_rule."""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path

import pytest

from tb.rtl_build import HDL, ROOT, _verilator_on_path

pytestmark = pytest.mark.rtl
BUILD = ROOT / "build" / "axi_checker_sim"
RULES = ["aw_stable", "w_stable", "ar_stable", "aw_burst", "ar_burst", "w_last", "b_after_aw", "r_stable", "b_stable"]


@pytest.fixture(scope="module")
def fired() -> dict[str, list[str]]:
    from cocotb_tools.runner import get_runner

    _verilator_on_path()
    BUILD.mkdir(parents=True, exist_ok=True)
    r = get_runner("verilator")
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        r.build(sources=[HDL / "tb_axi_checker.sv"], hdl_toplevel="tb_axi_checker", build_dir=BUILD,
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


def test_rtl_run_reports_a_broken_rule(tmp_path, monkeypatch):
    """The checker rides in every RTL build: a DUT whose reads are FIXED bursts (data still right:
    the testbench memory ignores the burst type) fails its trace naming the rule."""
    import shutil

    from nvdla_int8.conformance import find_traces
    from tb.trace_runner import run_traces
    from tests.suite import CONFORMANCE

    rtl = tmp_path / "rtl_models"
    shutil.copytree(ROOT / "rtl_models", rtl)
    arb = rtl / "nvdla_axi_rd_arb.sv"
    good = "assign m_axi_arburst = 2'b01;"
    assert arb.read_text().count(good) == 1, "the line this test breaks has changed"
    arb.write_text(arb.read_text().replace(good, "assign m_axi_arburst = 2'b00;"))
    monkeypatch.setenv("NVDLA_RTL_DIR", str(rtl))
    trace = next(p for p in find_traces([CONFORMANCE]) if p.stem == "sdp_8x8x32_bypass_int8_0")
    [outcome] = run_traces([trace], work_dir=tmp_path / "run")
    assert not outcome.passed and "AXI rule ar_burst:" in outcome.message, outcome.message
