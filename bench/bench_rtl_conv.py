#!/usr/bin/env python3
"""Conv pipeline throughput on the RTL next to NVDLA's own RTL, per dc_* trace.

Our cycles run from the trace's first register write to the done interrupt (the testbench
scoreboard's trace_cycles), twice: on the fast SV memory with zero latency ("ours 0-lat"), and
with the testbench's default random read latency and back-pressure ("ours rand"). NVDLA's come
from vectors/conformance/nv_small-nvdla-rtl-cycles.tsv (upstream traces) and
generated/MANIFEST.tsv (generated ones); they run from the first register write to the end of
NVDLA's trace player, which models a 32-cycle read latency and adds about 241 cycles after the
last interrupt (status and mask reads, the W1C write, 200 idle cycles: docs/nvdla-rtl-findings.md
section 5). "nv layer" subtracts that tail: the layer time our counts measure. Ratios are ours /
nv layer. MAC utilization = ideal cycles of a 64-MAC array (Wo*Ho*R*S*ceil(C/8)*ceil(K/8), one
atomic operation a clock) / our zero-latency cycles.

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
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from tb.conv.conv_case import CFG_FIELDS, from_trace

STRIPE = 32          # rtl_models/conv/conv_pkg.sv Stripe
NVDLA_PLAYER_TAIL = 241   # cycles NVDLA's trace player counts after the last interrupt (findings §5)
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
    work = ROOT / "build" / "bench-rtl-conv"
    fast = list(run_traces(paths, mem_mode=args.mem, stall=False, work_dir=work, wait_seconds=waits))
    stalled = list(run_traces(paths, mem_mode=args.mem, stall=True, work_dir=work / "stall"))
    print(f"{'trace':44s} {'ours 0-lat':>10s} {'ours rand':>10s} {'nvdla':>9s} {'nv layer':>9s} {'0-lat':>6s} "
          f"{'rand':>6s} {'util':>6s} {'nv_util':>7s} {'cyc/s':>9s}  bound")
    worse, failed = {"0-lat": 0, "rand": 0}, 0
    totals = {"0-lat": 0, "rand": 0, "nvdla": 0, "layer": 0}
    for p, o, st in zip(paths, fast, stalled):
        if not (o.passed and st.passed):
            failed += 1
            print(f"{o.name:44s} FAIL {o.message or st.message}")
            continue
        case = from_trace(p)
        theirs = nv.get(o.name)
        if not theirs:
            print(f"{o.name:44s} {o.cycles:10d} {st.cycles:10d}  (no NVDLA count)")
            continue
        layer = theirs - NVDLA_PLAYER_TAIL
        bound = ""
        if o.cycles > layer:
            name, cyc = max(bounds(case).items(), key=lambda kv: kv[1])
            bound = name if o.cycles <= 1.1 * cyc else f"latency (largest bound {name} {cyc})"
        worse["0-lat"] += o.cycles > layer
        worse["rand"] += st.cycles > layer
        for k, v in (("0-lat", o.cycles), ("rand", st.cycles), ("nvdla", theirs), ("layer", layer)):
            totals[k] += v
        wall = waits.get(o.name) or o.seconds
        print(f"{o.name:44s} {o.cycles:10d} {st.cycles:10d} {theirs:9d} {layer:9d} {o.cycles / layer:6.3f} "
              f"{st.cycles / layer:6.3f} {case.ideal_cycles / o.cycles:6.3f} {case.ideal_cycles / theirs:7.3f} "
              f"{o.cycles / wall if wall else float('nan'):9.0f}  {bound}")
    print(f"{len(paths) - failed} traces, {failed} failed; slower than NVDLA's layer time: {worse['0-lat']} with zero "
          f"latency, {worse['rand']} with random latency")
    print(f"total cycles: ours zero-latency / NVDLA's count = {totals['0-lat'] / max(totals['nvdla'], 1):.3f}, "
          f"/ NVDLA's layer time = {totals['0-lat'] / max(totals['layer'], 1):.3f}; ours random latency / NVDLA's "
          f"layer time = {totals['rand'] / max(totals['layer'], 1):.3f}")
    return 1 if failed else 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    rc = main()
    print(f"({time.perf_counter() - t0:.0f} s)")
    sys.exit(rc)
