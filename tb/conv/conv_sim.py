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
CORE_FILES = ("nvdla_pkg", *(f"conv/{m}" for m in (
    "conv_pkg", "conv_cdma_cvt", "conv_cdma_dat", "conv_cdma_wt", "conv_cbuf", "conv_csc",
    "conv_cmac", "conv_cacc", "conv_core")))


def build_unit(toplevel: str, files: tuple[str, ...], *args: str):
    """Build one conv unit of the RTL under test (rtl_models/, or $NVDLA_RTL_DIR's copy, so that
    `make rtl-mutation` tests the mutant) into build_root()/<toplevel>_sim, once; concurrent
    pytest workers wait on a lock. Returns (runner, build folder)."""
    from cocotb_tools.runner import get_runner
    verilator_on_path()
    rtl, build = rtl_dir(), build_root() / f"{toplevel}_sim"
    build.mkdir(parents=True, exist_ok=True)
    r = get_runner("verilator")
    with open(build / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        r.build(sources=[rtl / f"{f}.sv" for f in files], hdl_toplevel=toplevel, build_dir=build,
                build_args=["-j", "2", "-Wno-fatal", *args], timescale=("1ns", "1ps"))
    return r, build


def run_cases(cases, knobs: dict | None = None, results: Path | None = None) -> tuple[int, int]:
    """Run the cases in one simulation; returns (tests, failures) from cocotb's results."""
    from cocotb_tools.check_results import get_results
    r, build = build_unit("conv_core", CORE_FILES, "-O3")
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
            r.test(test_module="tb.conv.conv_core_tb", hdl_toplevel="conv_core", build_dir=build,
                   test_dir=tmp, extra_env=env, results_xml=str(xml))
        except SystemExit:  # the runner exits when a test failed; the results file says which
            pass
        return get_results(xml)
