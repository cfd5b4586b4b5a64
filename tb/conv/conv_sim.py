"""Build conv_core with Verilator (cocotb runner) once, and run pickled cases on it."""
from __future__ import annotations

import fcntl
import json
import os
import pickle
import tempfile
from pathlib import Path

from tb.rtl_build import build_root, rtl_dir, verilator_on_path

REPO = Path(__file__).resolve().parents[2]
# Packages first; the rest in dependency order does not matter to Verilator.
MODULES = ("conv_pkg", "conv_cdma_cvt", "conv_cdma_dat", "conv_cdma_wt", "conv_cbuf", "conv_csc",
           "conv_cmac", "conv_cacc", "conv_core")


def build_dir() -> Path:
    """Where conv_core of the RTL under test (rtl_models/, or $NVDLA_RTL_DIR's copy) is built."""
    return build_root() / "conv_core_sim"


def runner():
    """The built simulator (built once; concurrent pytest workers wait on a lock)."""
    from cocotb_tools.runner import get_runner
    verilator_on_path()
    rtl, build = rtl_dir(), build_dir()
    build.mkdir(parents=True, exist_ok=True)
    r = get_runner("verilator")
    with open(build / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        r.build(sources=[rtl / "nvdla_pkg.sv"] + [rtl / "conv" / f"{m}.sv" for m in MODULES], hdl_toplevel="conv_core",
                build_dir=build, build_args=["-j", "2", "-Wno-fatal", "-O3"], timescale=("1ns", "1ps"))
    return r


def run_cases(cases, knobs: dict | None = None, results: Path | None = None) -> tuple[int, int]:
    """Run the cases in one simulation; returns (tests, failures) from cocotb's results."""
    from cocotb_tools.check_results import get_results
    r = runner()
    with tempfile.TemporaryDirectory(prefix="conv_case_") as tmp:
        f = Path(tmp) / "cases.pkl"
        f.write_bytes(pickle.dumps(cases))
        env = {
            "CONV_CASES": str(f),
            "CONV_KNOBS": json.dumps(knobs or {}),
            "PYTHONPATH": os.pathsep.join([str(REPO / "compiler"),
                                           str(REPO), os.environ.get("PYTHONPATH", "")]),
        }
        if results is not None:
            env["CONV_RESULTS"] = str(results)
        xml = Path(tmp) / "results.xml"
        try:
            r.test(test_module="tb.conv.conv_core_tb", hdl_toplevel="conv_core", build_dir=build_dir(),
                   test_dir=tmp, extra_env=env, results_xml=str(xml))
        except SystemExit:  # the runner exits when a test failed; the results file says which
            pass
        return get_results(xml)
