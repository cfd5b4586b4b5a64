"""Build the raw harness: tb_top (clock from C++) + tb/raw/main.cpp with Verilator --exe, the
same RTL and Verilator options as the cocotb build (tb/rtl_build.py), no VPI. Rebuilt only when
a source or the options change."""
from __future__ import annotations

from pathlib import Path

from .. import rtl_build

MAIN = Path(__file__).resolve().parent / "main.cpp"
BINARY = "tb_raw"


def build(extra_args: list[str] | None = None, name: str = "rtl_raw") -> Path:
    """The raw harness binary (built now if missing or stale)."""
    d = rtl_build.build_dir(False, False).parent / name
    return rtl_build.verilate(d, MAIN, ["+define+TB_SV_MEM_ONLY", "-LDFLAGS", "-lz", *(extra_args or [])], BINARY)
