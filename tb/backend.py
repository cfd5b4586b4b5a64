"""The RTL backend of `nvdla-int8 replay` and `nvdla-int8 run` (registered in pyproject.toml under
the entry-point group `nvdla_int8.backends`): traces replayed on the Verilated RTL by
tb.trace_runner, all in one simulation.

Options not given fall back to the environment, as `make conformance BACKEND=rtl` sets it:
NVDLA_TB_MEM = sv | axiram, NVDLA_TB_SEED, NVDLA_TB_STALL = 1 | 0, NVDLA_TB_WAVES = 1.
"""
from __future__ import annotations

import os

from .trace_runner import run_traces


class RtlBackend:
    name = "rtl"
    dumps_outputs = True

    def replay(self, paths, *, dump_dir=None, work_dir=None, stall: bool | None = None, seed: int | None = None,
               mem_mode: str | None = None, waves: bool | None = None, extra_env: dict | None = None):
        e = os.environ
        env = dict(extra_env or {})
        if dump_dir is not None:
            env["TB_DUMP_OUTPUT"] = str(dump_dir)
        yield from run_traces(
            paths, mem_mode=mem_mode or e.get("NVDLA_TB_MEM", "sv"),
            seed=seed if seed is not None else int(e.get("NVDLA_TB_SEED", "1")),
            stall=stall if stall is not None else e.get("NVDLA_TB_STALL", "1") == "1",
            waves=waves if waves is not None else e.get("NVDLA_TB_WAVES") == "1",
            work_dir=work_dir, extra_env=env)
