"""Mutation detection rate of the RTL checker: every fault of tb/uvm/faults.py injected into
each of a set of traces (conv and stand-alone SDP), all in one simulation, with the clean run of
each trace first (a detection only counts when the clean run passes). Prints one line per
(trace, fault) and the rate; exits 1 below 100 % or on a false alarm.

A read_flip that corrupts bytes the layer never uses cannot change any result (an equivalent
mutant): when the golden model, given the same corruption in its memory image, produces the same
outputs, the miss is listed as equivalent and left out of the rate.

    .venv/bin/python -m tb.mutation_report [--mem sv] [--seed 1] [TRACE_DIR ...]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from nvdla_int8.conformance import find_traces
from nvdla_int8.errors import InputError
from nvdla_int8.golden.replay import GoldenPlayer
from nvdla_int8.trace.trace import Trace

from .rtl_build import ROOT
from .trace_runner import run_traces
from .uvm.faults import KINDS, SV_MEMORY_ONLY

NV_SMALL = ROOT / "vectors" / "conformance" / "nv_small"  # the suite in the repository
DEFAULT = ["sdp_3x3x33_bs_bn_int8_0", "sdp_23x13x42_bs_int8_mem_0", "sdp_8x8x32_bypass_int8_0",
           "dc_1x1x8_1x1x8x1_int8_0", "dc_6x8x192_3x3x192x32_int8_0", "dc_8x8x36_4x4x36x16_dilation_int8_0"]
# Indexed faults: a beat or atom early in the layer, so every trace has it.
INDEX = {"drop_write": 0, "read_flip": 0, "x1_tap": 0}


def golden_ignores(path: Path, addr: int) -> bool:
    """True when the golden model's outputs stay the same with the 8 bytes at `addr` XOR 0x55
    (as read_flip returns them) in its memory image before the first register write, and `addr`
    is no layer's output (a later layer would read what an earlier one wrote, not the image)."""

    class Flipped(GoldenPlayer):
        flipped = False

        def _reg_write(self, c):
            if not self.flipped:
                self.flipped = True
                old = self.m.memory.read(addr, 8)
                self.m.memory.write(addr, bytes(int(b) ^ 0x55 for b in old))
            super()._reg_write(c)

    clean, flipped = GoldenPlayer(Trace.load(path)), Flipped(Trace.load(path))
    clean.run()
    flipped.run()
    if any(addr & ~7 in set((np.asarray(layer.output_addresses()) & ~7).ravel().tolist()) for layer in clean.m.layers):
        return False
    return all(np.array_equal(a.output, b.output) for a, b in zip(clean.m.layers, flipped.m.layers))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("traces", nargs="*", type=Path, help="trace folders or .cfg files (default: six nv_small traces)")
    ap.add_argument("--mem", default="sv", choices=["sv", "axiram"])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    try:
        paths = find_traces(args.traces or [NV_SMALL / n / f"{n}.cfg" for n in DEFAULT])
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    kinds = [k for k in KINDS if args.mem == "sv" or k not in SV_MEMORY_ONLY]
    faults = ["none"] + [f"{k}:{INDEX[k]}" if k in INDEX else k for k in kinds]
    plan = [(p, f) for p in paths for f in faults]
    notes: list[dict] = []
    outcomes = run_traces([p for p, _ in plan], mem_mode=args.mem, seed=args.seed,
                          work_dir=ROOT / "build" / "mutation-report", notes=notes,
                          extra_env={"TB_MUTATE": json.dumps([f for _, f in plan])})
    detected = injected = false_alarms = equivalent = 0
    for (path, fault), o, note in zip(plan, outcomes, notes):
        if fault == "none":
            clean = o.passed
            false_alarms += not clean
            print(f"{path.stem:45s} {'clean':12s} {'pass' if clean else 'FALSE ALARM: ' + (o.message or '')}")
            continue
        hit = not o.passed and clean
        flip_addr = note.get("read_flip_addr")
        if not hit and fault.startswith("read_flip") and flip_addr is not None and golden_ignores(path, flip_addr):
            equivalent += 1
            print(f"{path.stem:45s} {fault:12s} equivalent: the golden model ignores the 8 bytes at "
                  f"{flip_addr:#010x} too")
            continue
        injected += 1
        detected += hit
        print(f"{path.stem:45s} {fault:12s} {'detected: ' + (o.message or '')[:120] if hit else 'MISSED'}")
    rate = 100.0 * detected / injected if injected else 0.0
    print(f"mutation detection rate: {detected}/{injected} = {rate:.1f} % ({args.mem} memory, seed {args.seed}); "
          f"{equivalent} equivalent mutants left out; false alarms on clean runs: {false_alarms}")
    return 0 if detected == injected and not false_alarms else 1


if __name__ == "__main__":
    sys.exit(main())
