#!/usr/bin/env python3
"""RTL simulation speed on the largest SDP trace: simulated cycles per wall second, and how the
wall time splits between the simulator and Python.

"Largest" = the sdp_* trace with the most output atoms (ties: the first by name). The trace is
replayed REPEAT times in one simulation (the first replay pays no build; the build is done
before timing starts). Wall time per replay splits into
  simulator: the testbench waits for the layer's interrupt, Python idle (clock in C++, no
             per-cycle Python), so this is Verilator running the layer;
  Python:    everything else: golden model run, memory image load, APB register traffic (one
             Python coroutine per access), CRC read-back and the scoreboard's comparisons.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from nvdla_int8.conformance import find_traces  # noqa: E402
from nvdla_int8.golden.replay import GoldenPlayer  # noqa: E402
from nvdla_int8.trace.trace import Trace  # noqa: E402


def largest_sdp_trace(root: Path) -> Path:
    best, best_atoms = None, -1
    for p in find_traces([root]):
        if not p.name.startswith("sdp_"):
            continue
        g = GoldenPlayer(Trace.load(p))
        g.run()
        atoms = sum(layer.output.size // 8 for layer in g.m.layers)
        if atoms > best_atoms:
            best, best_atoms = p, atoms
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", type=Path, default=ROOT / "vectors" / "conformance")
    ap.add_argument("--trace", type=Path, help="benchmark this .cfg instead of the largest sdp_* trace")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mem", choices=["sv", "axiram"], default="sv")
    ap.add_argument("--no-stall", action="store_true", help="memory without random latency/back-pressure")
    args = ap.parse_args(argv)

    from tb.rtl_build import get_runner
    from tb.trace_runner import run_traces

    trace = args.trace or largest_sdp_trace(args.traces)
    get_runner(False)  # build (or reuse) before timing
    waits: dict[str, float] = {}
    rows = []
    for i in range(args.repeat):
        o = next(iter(run_traces([trace], mem_mode=args.mem, seed=1 + i, stall=not args.no_stall,
                                 work_dir=ROOT / "build" / "bench-rtl-sdp", wait_seconds=waits)))
        if not o.passed:
            print(f"{o.name}: FAIL {o.message}", file=sys.stderr)
            return 1
        rows.append((o.cycles, o.seconds, waits[o.name]))
    cycles = sum(r[0] for r in rows)
    wall = sum(r[1] for r in rows)
    sim = sum(r[2] for r in rows)
    print(f"trace            {trace.parent.name}  (memory {args.mem}, stalls {'off' if args.no_stall else 'on'}, "
          f"{args.repeat} replays)")
    print(f"cycles/replay    {rows[0][0]}  (first register write -> done interrupt)")
    print(f"wall/replay      {wall / len(rows):.3f} s")
    print(f"cycles per wall second, whole replay      {cycles / wall:12,.0f}")
    print(f"cycles per wall second, simulator alone   {cycles / sim:12,.0f}" if sim > 0 else "")
    print(f"split: simulator {sim / wall:6.1%}   Python {1 - sim / wall:6.1%}")
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    rc = main()
    sys.exit(rc)
