"""Build the raw harness: tb_top (clock from C++) + tb/raw/main.cpp with Verilator --exe, the
same RTL and Verilator options as the cocotb build (tb/rtl_build.py), no VPI. Rebuilt only when
a source or the options change."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from .. import rtl_build

MAIN = Path(__file__).resolve().parent / "main.cpp"
BINARY = "tb_raw"


def build(extra_args: list[str] | None = None, name: str = "rtl_raw") -> Path:
    """The raw harness binary (built now if missing or stale)."""
    rtl_build._verilator_on_path()
    d = rtl_build.build_dir(False, False).parent / name
    sources = rtl_build.rtl_sources()
    args = ["verilator", "--cc", "--exe", "--build", "-j", "2", "-Mdir", str(d), "--top-module", rtl_build.TOPLEVEL,
            "-o", BINARY, "--timescale", "1ns/1ps", *rtl_build.model_args(), *(extra_args or []),
            "-LDFLAGS", "-lz", str(MAIN), *map(str, sources)]
    stamp = d / ".args"
    key = hashlib.sha256("\0".join(args).encode()).hexdigest()
    exe = d / BINARY
    newest = max(p.stat().st_mtime for p in [MAIN, *sources, rtl_build.rtl_dir() / "lint.vlt"])
    with rtl_build._build_lock(d):
        if exe.exists() and stamp.exists() and stamp.read_text() == key and exe.stat().st_mtime >= newest:
            return exe
        env = {**os.environ, "MAKEFLAGS": rtl_build.MAKEFLAGS}
        log = d / "build.log"
        with open(log, "w") as f:
            r = subprocess.run(args, stdout=f, stderr=subprocess.STDOUT, env=env)
        if r.returncode:
            raise RuntimeError(f"raw harness build failed (see {log})")
        stamp.write_text(key)
    return exe
