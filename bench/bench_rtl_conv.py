#!/usr/bin/env python3
"""Conv pipeline throughput on the RTL next to NVDLA's own RTL, per dc_* trace.

Our cycles are measured as NVDLA's were: from the trace's first register write to the done
interrupt (the testbench scoreboard's trace_cycles), on the fast SV memory without stalls.
NVDLA's come from vectors/conformance/nv_small-nvdla-rtl-cycles.tsv (upstream traces) and
generated/MANIFEST.tsv (generated ones). MAC utilization = ideal cycles of a 64-MAC array
(Wo*Ho*R*S*ceil(C/8)*ceil(K/8), one atomic operation a clock) / our cycles.

Where we take more cycles than NVDLA, the "bound" column names the largest of these lower
bounds of our design, in cycles:
  mac   the atomic operations themselves (ideal cycles)
  axi   bytes fetched at 8 bytes a clock (whole input cube + every weight group)
  csc   stripes shorter than a weight load (Wo*Ho < 8 positions left in a stripe: each pass
        waits for its kn weight entries, one a clock)
  cbuf  the weight ring holds one kernel group only (ceil(8*BPK/8) = BPK packed entries each),
        so group g+1 is fetched after group g finishes instead of during it
and "latency" when our cycles exceed every bound by more than 10% (pipeline fill, first rows).
cyc/s = simulated cycles per wall second of the simulator (of the whole replay if the trace
runner does not report the simulator's share).
"""
from __future__ import annotations

import argparse
import csv
import inspect
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from tb.conv.conv_case import CFG_FIELDS, from_trace

STRIPE = 32          # rtl_models/conv/conv_pkg.sv Stripe
BANK_ENTRIES = 512


def fields(cfg: int) -> dict[str, int]:
    out, shift = {}, sum(w for _, w, *_ in CFG_FIELDS)
    for name, width, *_ in CFG_FIELDS:
        shift -= width
        out[name] = (cfg >> shift) & ((1 << width) - 1)
    return out


def bounds(case) -> dict[str, int]:
    f = fields(case.cfg)
    wi, hi, c = f["datain_width"] + 1, f["datain_height"] + 1, f["datain_channel"] + 1
    k, s, r = f["weight_kernel"] + 1, f["weight_width"] + 1, f["weight_height"] + 1
    npos = (f["dataout_width"] + 1) * (f["dataout_height"] + 1)
    bpk, cb, groups = f["byte_per_kernel"] + 1, math.ceil(c / 8), math.ceil(k / 8)
    ops = cb * r * s
    kn = [min(8, k - 8 * g) for g in range(groups)]
    wbeats = [math.ceil(n * bpk / 8) for n in kn]
    stripes = [min(STRIPE, npos - i) for i in range(0, npos, STRIPE)]
    csc_g = [sum(ops * max(n, kg) for n in stripes) for kg in kn]
    wcap = (f["weight_bank"] + 1) * BANK_ENTRIES
    one_group = 2 * wbeats[0] > wcap and groups > 1   # a group's beats = its CBUF entries
    return {
        "mac": case.ideal_cycles,
        "axi": cb * hi * wi + sum(wbeats),
        "csc": sum(csc_g),
        "cbuf": sum(wbeats) + sum(csc_g) if one_group else 0,
    }


def nvdla_cycles(suite: Path) -> dict[str, int]:
    out = {}
    with open(suite / "nv_small-nvdla-rtl-cycles.tsv") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out[row["trace"]] = int(row["nvdla_cycles"])
    with open(suite / "generated" / "MANIFEST.tsv") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["name"].startswith("dc_"):
                out[row["name"]] = int(row["nvdla_rtl_cycles"])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", type=Path, default=ROOT / "vectors" / "conformance")
    ap.add_argument("--mem", choices=["sv", "axiram"], default="sv")
    ap.add_argument("--only", default="", help="substring filter on trace names")
    args = ap.parse_args(argv)

    from nvdla_int8.conformance import find_traces
    from tb.rtl_build import get_runner
    from tb.trace_runner import run_traces

    nv = nvdla_cycles(args.traces)
    paths = [p for p in find_traces([args.traces]) if p.name.startswith("dc_") and args.only in p.name]
    get_runner(False)  # build (or reuse) before timing
    waits: dict[str, float] = {}
    print(f"{'trace':44s} {'ours':>9s} {'nvdla':>9s} {'ratio':>6s} {'util':>6s} {'nv_util':>7s} "
          f"{'cyc/s':>9s}  bound")
    worse, total_ours, total_nv, failed = 0, 0, 0, 0
    # Simulator-only wall time per trace where the runner reports it, else the whole replay's.
    timing = {"wait_seconds": waits} if "wait_seconds" in inspect.signature(run_traces).parameters else {}
    outcomes = run_traces(paths, mem_mode=args.mem, stall=False, work_dir=ROOT / "build" / "bench-rtl-conv",
                          **timing)
    for p, o in zip(paths, outcomes):
        if not o.passed:
            failed += 1
            print(f"{o.name:44s} FAIL {o.message}")
            continue
        case = from_trace(p)
        b = bounds(case)
        theirs = nv.get(o.name)
        ratio = o.cycles / theirs if theirs else float("nan")
        bound = ""
        if theirs and o.cycles > theirs:
            worse += 1
            name, cyc = max(b.items(), key=lambda kv: kv[1])
            bound = name if o.cycles <= 1.1 * cyc else f"latency (largest bound {name} {cyc})"
        wall = waits.get(o.name) or o.seconds
        speed = o.cycles / wall if wall else float("nan")
        total_ours += o.cycles
        total_nv += theirs or 0
        print(f"{o.name:44s} {o.cycles:9d} {theirs or 0:9d} {ratio:6.3f} {case.ideal_cycles / o.cycles:6.3f} "
              f"{case.ideal_cycles / theirs if theirs else float('nan'):7.3f} {speed:9.0f}  {bound}")
    print(f"{len(paths) - failed} traces, {worse} slower than NVDLA's RTL, {failed} failed; "
          f"total cycles ours/NVDLA = {total_ours / max(total_nv, 1):.3f}")
    return 1 if failed else 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    rc = main()
    print(f"({time.perf_counter() - t0:.0f} s)")
    sys.exit(rc)
