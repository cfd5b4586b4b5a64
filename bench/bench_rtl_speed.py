#!/usr/bin/env python3
"""RTL simulation speed: the cocotb flow (tb/, as `make conformance BACKEND=rtl` runs it, every
default check on: random latency and reordering, stage taps, write log, interrupts) against the
raw harness (tb/raw: the same Verilated harness driven by C++, no Python in the loop), on the
same traces with the same memory seeds, in the same run; and our cycles against NVDLA's own RTL.

Sections:
  suite       every trace under --traces: wall time of the whole replay (simulator start-up and
              per-trace Python included) and simulated cycles per second; "sim" rates count only
              the time spent waiting for interrupts (the model running alone). Both flows must
              report the same cycles for every trace (same harness, same seeds).
  conv-bound  the dc_ traces of at least --conv-cycles cycles: the rate the issue's 1 M cycles/s
              target is about, per flow and their ratio.
  nvdla       our cycles (raw harness, no memory stalls, as NVDLA's were measured) against
              nv_small-nvdla-rtl-cycles.tsv and the generated traces' MANIFEST.tsv.
  digits      one image of the bundled digits model end to end (`nvdla-int8 run --backend rtl`),
              then its layer traces on the raw harness.
  stem        the same for ResNet-50's 7x7/2 stem on one 224x224 image (built here with seeded
              random weights: ONNX -> calibrate -> compile).
Rates are given per wall second and per CPU second of the simulator processes (the machine is
shared: CPU seconds say more when it is loaded; the load average is printed).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from bench_rtl_conv import nvdla_cycles  # a sibling script: bench/ is sys.path[0]

TRACES = ROOT / "vectors" / "conformance"


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def rate(cycles: int, seconds: float) -> str:
    return f"{cycles / seconds / 1e6:6.3f} M/s" if seconds > 0 else "    - M/s"


def cocotb_flow(paths, work: Path, env: dict[str, str] | None = None):
    """Replay on the cocotb flow: (outcomes, wall, simulator CPU seconds, wait seconds per trace)."""
    from tb.trace_runner import run_traces

    waits: dict[str, float] = {}
    cpu0, t0 = child_cpu(), time.perf_counter()
    outcomes = list(run_traces(paths, work_dir=work, wait_seconds=waits, extra_env=env))
    return outcomes, time.perf_counter() - t0, child_cpu() - cpu0, waits


def raw_flow(paths, work: Path, stall: bool = True):
    """Digest (not timed) and replay on the raw harness: (rows, wall, CPU seconds)."""
    from tb.raw.digest import digest_all
    from tb.raw.run import replay

    shutil.rmtree(work, ignore_errors=True)
    dirs = digest_all(paths, work)
    cpu0 = child_cpu()
    rows, wall = replay(dirs, stall=stall)
    for p, r in zip(paths, rows):
        r["name"] = Path(p).stem
    return rows, wall, child_cpu() - cpu0


def suite(paths, work: Path, conv_cycles: int) -> bool:
    outcomes, c_wall, c_cpu, waits = cocotb_flow(paths, work / "cocotb")
    rows, r_wall, r_cpu = raw_flow(paths, work / "raw")
    failed = [o.name for o in outcomes if not o.passed] + [r["name"] for r in rows if r["status"] != "PASS"]
    cyc = sum(o.cycles or 0 for o in outcomes)
    c_wait = sum(waits.values())
    r_wait = sum(r["wait_seconds"] for r in rows)
    differ = [o.name for o, r in zip(outcomes, rows) if o.cycles != r["cycles"]]
    print(f"== suite: {len(paths)} traces, {cyc:,} cycles; {len(failed)} failed"
          + (f" ({', '.join(failed[:4])})" if failed else ""))
    print(f"  {'':10s} {'wall':>8s} {'rate/wall':>11s} {'rate/CPU':>11s} {'sim only':>11s}")
    print(f"  {'cocotb':10s} {c_wall:7.1f}s {rate(cyc, c_wall)} {rate(cyc, c_cpu)} {rate(cyc, c_wait)}")
    print(f"  {'raw':10s} {r_wall:7.1f}s {rate(cyc, r_wall)} {rate(cyc, r_cpu)} {rate(cyc, r_wait)}")
    print(f"  cocotb / raw: {r_wall / c_wall:.2f} (whole run), {r_wait / c_wait:.2f} (sim only); "
          f"traces whose cycles differ between the flows: {len(differ)}"
          + (f" ({', '.join(differ[:4])})" if differ else ""))

    conv = [(o, r) for o, r in zip(outcomes, rows) if o.name.startswith("dc_") and (o.cycles or 0) >= conv_cycles]
    if conv:
        cc = sum(o.cycles for o, _ in conv)
        cw = sum(waits[o.name] for o, _ in conv)
        cs = sum(o.seconds for o, _ in conv)
        rw = sum(r["wait_seconds"] for _, r in conv)
        rs = sum(r["seconds"] for _, r in conv)
        print(f"== conv-bound: {len(conv)} dc_ traces of >= {conv_cycles:,} cycles, {cc:,} cycles")
        print(f"  cocotb {rate(cc, cw)} sim only, {rate(cc, cs)} per trace with its Python "
              "(load, golden model, checks)")
        print(f"  raw    {rate(cc, rw)} sim only, {rate(cc, rs)} per trace")
        print(f"  cocotb / raw: {rw / cw:.2f} (sim only), {rs / cs:.2f} (per trace)")
    return not failed and not differ


def nvdla(paths, work: Path, traces: Path) -> None:
    try:
        theirs = nvdla_cycles(traces)
    except FileNotFoundError as e:
        print(f"== nvdla: skipped ({e})")
        return
    dc = [p for p in paths if Path(p).stem in theirs]
    rows, _, _ = raw_flow(dc, work / "raw-nostall", stall=False)
    ok = [r for r in rows if r["status"] == "PASS"]
    slower = [r["name"] for r in ok if r["cycles"] > theirs[r["name"]]]
    ours, nv = sum(r["cycles"] for r in ok), sum(theirs[r["name"]] for r in ok)
    print(f"== nvdla: {len(ok)} dc_ traces without memory stalls: {len(slower)} slower than NVDLA's RTL"
          + (f" ({', '.join(slower[:4])})" if slower else "") + f"; total cycles ours / NVDLA = {ours / nv:.3f}")


def one_image(label: str, vec: Path, inputs: list[str], work: Path) -> None:
    """One image through `nvdla-int8 run --backend rtl` (every layer trace in one simulation per
    layer), then the same layer traces on the raw harness."""
    run_dir = work / "run"
    cpu0, t0 = child_cpu(), time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "nvdla_int8.cli", "run", str(vec), "--backend", "rtl", *inputs,
                        "--limit", "1", "--work-dir", str(run_dir)], capture_output=True, text=True, cwd=ROOT)
    wall, cpu = time.perf_counter() - t0, child_cpu() - cpu0
    traces = sorted(run_dir.rglob("*.cfg"))
    if p.returncode or not traces:
        print(f"== {label}: `nvdla-int8 run` failed ({p.returncode}): {(p.stdout + p.stderr)[-500:]}")
        return
    rows, r_wall, r_cpu = raw_flow(traces, work / "raw")
    cyc = sum(r["cycles"] for r in rows)
    bad = sum(r["status"] != "PASS" for r in rows)
    print(f"== {label}: one image, {len(traces)} layer traces, {cyc:,} cycles (raw harness; {bad} failed)")
    print(f"  cocotb `nvdla-int8 run --backend rtl --limit 1`: {wall:6.2f}s wall, {cpu:6.2f}s CPU, "
          f"{rate(cyc, wall)} (compile not counted; golden model and start-up included)")
    print(f"  raw harness, the same traces:                  {r_wall:6.2f}s wall, {r_cpu:6.2f}s CPU, "
          f"{rate(cyc, r_wall)}")


def digits(work: Path) -> None:
    """models/digits_cnn.onnx, compiled as `make vectors` does (per-kernel), first test image."""
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "nvdla_int8.commands.sim", "vectors", "--build", str(work),
                    "--vectors", str(work / "vectors")], check=True, capture_output=True, cwd=ROOT)
    one_image("digits", work / "vectors" / "per-kernel", ["--dataset", "test"], work)


def resnet50_stem(work: Path) -> None:
    """ResNet-50's first layer (7x7/2 conv, 3 -> 64 channels, ReLU) on one 224x224 image: seeded
    He-initialised weights and a random image, max calibration over four random images."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shutil.rmtree(work, ignore_errors=True)
    (work / "calib").mkdir(parents=True)
    rng = np.random.default_rng(50)
    w = (rng.standard_normal((64, 3, 7, 7)) * np.sqrt(2 / (3 * 49))).astype(np.float32)
    b = (rng.standard_normal(64) * 0.1).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "W", "B"], ["c"], kernel_shape=[7, 7], strides=[2, 2], pads=[3] * 4,
                          name="conv1"),
         helper.make_node("Relu", ["c"], ["out"], name="conv1_relu")],
        "resnet50_stem", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 64, 112, 112])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
    model = work / "stem.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)
    np.save(work / "calib" / "images.npy", rng.standard_normal((4, 3, 224, 224)).astype(np.float32))
    np.save(work / "image.npy", rng.standard_normal((1, 3, 224, 224)).astype(np.float32))
    cli = [sys.executable, "-m", "nvdla_int8.cli"]
    subprocess.run([*cli, "calibrate", str(model), "--data", str(work / "calib"), "--method", "max",
                    "-o", str(work / "calib.json"), "-q"], check=True, capture_output=True, cwd=ROOT)
    subprocess.run([*cli, "compile", str(model), "--calibtable", str(work / "calib.json"), "-o", str(work / "vec")],
                   check=True, capture_output=True, cwd=ROOT)
    one_image("ResNet-50 stem", work / "vec", ["--input", str(work / "image.npy")], work)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", type=Path, default=TRACES, help=f"trace folder (default {TRACES.relative_to(ROOT)})")
    ap.add_argument("--conv-cycles", type=int, default=100_000, help="dc_ traces this long count as conv-bound")
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: suite,nvdla,digits,stem")
    a = ap.parse_args(argv)

    from nvdla_int8.conformance import find_traces
    from tb.raw.build import build
    from tb.rtl_build import get_runner

    skip = set(filter(None, a.skip.split(",")))
    paths = find_traces([a.traces])
    get_runner(False)  # builds (or reuses) both, before any timing
    build()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    work = ROOT / "build" / "bench-rtl-speed"
    ok = True
    if "suite" not in skip:
        ok = suite(paths, work, a.conv_cycles)
    if "nvdla" not in skip:
        nvdla(paths, work, a.traces)
    if "digits" not in skip:
        digits(work / "digits")
    if "stem" not in skip:
        resnet50_stem(work / "stem")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0 if ok else 1


if __name__ == "__main__":
    t0 = time.perf_counter()
    rc = main()
    print(f"({time.perf_counter() - t0:.0f} s)")
    sys.exit(rc)
