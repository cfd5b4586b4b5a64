"""python -m tb.nvdla.tiers [--player EXE] [--nightly N] [--smoke N] [--seed-start S] [--out DIR]:
every kind of vector the project emits, replayed on NVDLA's own nv_small RTL beside ours (issue #18
item 4, `make nvdla-tiers`), to run once per change of the generator or the compiler:

- the conformance suite (vectors/conformance) and the directed vectors/nvdla-rules;
- `make vectors`' compiled model (its command, into DIR);
- every model of models/ calibrated (max, MNIST calibration split) and compiled in both modes,
  as NVDLA's trace players should get it: a layer flagged `nvdla_rtl_may_hang` by its pass
  traces, every other layer by its layer trace;
- fresh random programs of each generator tier (seeds from --seed-start), the row naming how many
  end with a stretched layer, of which kind, and how many conv layers pace BYTE_PER_KERNEL.

Prints one Markdown row per tier (the table of docs/verification.md, "Replayed on NVDLA's own
RTL") and writes DIR/tiers.json; exit status 1 when any trace fails or hangs on NVDLA's RTL.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from nvdla_int8.conformance import find_traces
from nvdla_int8.errors import InputError
from nvdla_int8.fileio import write_atomic

from ..stimulus.constraints import Constraints
from ..stimulus.generator import generate
from .run import HANG, PASS, check, player_binary

ROOT = Path(__file__).resolve().parents[2]
MODES = ("per-kernel", "per-filter")


def random_traces(tier: str, seeds: range, out: Path) -> tuple[list[Path], str]:
    """Fresh programs of a generator tier, as `make regress BACKEND=golden` writes them, and what
    the row says of their stretched last layers (stretch_note) and paced layers (paced_note)."""
    c = Constraints.load(tier)
    programs = [generate(seed, c) for seed in seeds]
    note = (stretch_note([g.layers[-1].summary for g in programs])
            + paced_note([la.summary for g in programs for la in g.layers]))
    return [g.trace.save(out) for g in programs], note


def stretch_note(last_layers: list[str]) -> str:
    """', 106 stretched (28 many_kernels, 23 deep, ...)' from the summaries of the programs' last
    layers, where the generator marks a stretched one '(stretch KIND)'; '' when none is."""
    kinds = Counter(m.group(1) for s in last_layers if (m := re.search(r"\(stretch (\w+)\)$", s)))
    if not kinds:
        return ""
    return f", {sum(kinds.values())} stretched ({', '.join(f'{n} {k}' for k, n in kinds.most_common())})"


def paced_note(layers: list[str]) -> str:
    """', 58 conv layers with BYTE_PER_KERNEL != R*S*C' from the layer summaries, where the
    generator names a paced one's 'byte_per_kernel N'; '' when none is."""
    n = sum(" byte_per_kernel " in s for s in layers)
    return f", {n} conv layers with BYTE_PER_KERNEL != R*S*C" if n else ""


def make_vectors(out: Path) -> list[Path]:
    """`make vectors`' command, into out/<mode> instead of vectors/digits_cnn."""
    subprocess.run([sys.executable, "-m", "nvdla_int8.commands.sim", "vectors", "--vectors", str(out)],
                   check=True, capture_output=True, cwd=ROOT)
    return [cfg for mode in MODES for cfg in player_traces(out / mode)]


def compiled_traces(model: Path, out: Path) -> list[Path]:
    """The model calibrated (max) and compiled in both modes under out/; the traces an NVDLA
    trace player should get (a flagged layer's pass traces instead of its layer trace)."""
    cli = [sys.executable, "-m", "nvdla_int8.cli"]
    table = out / f"{model.stem}.json"
    subprocess.run(cli + ["calibrate", str(model), "--data", "mnist:calib", "--method", "max", "-q",
                          "-o", str(table)], check=True, capture_output=True)
    cfgs = []
    for mode in MODES:
        d = out / f"{model.stem}-{mode}"
        subprocess.run(cli + ["compile", str(model), "--calibtable", str(table), "-o", str(d),
                              "--quantizationMode", mode], check=True, capture_output=True)
        cfgs += player_traces(d)
    return cfgs


def player_traces(compiled: Path) -> list[Path]:
    """The traces of a compile folder an NVDLA trace player should get, in layer order: a layer's
    pass traces where its layer trace is flagged `nvdla_rtl_may_hang`, else the layer trace."""
    man = json.loads((compiled / "manifest.json").read_text())
    return [compiled / name for step in man["steps"] if step["kind"] == "hw"
            for name in step["trace"].get("nvdla_pass_traces") or [step["trace"]["cfg"]]]


def row(name: str, results, seconds: float) -> dict:
    counts = {s: sum(r.status == s for r in results) for s in {r.status for r in results}}
    both = [r for r in results if r.ratio is not None]
    ratio = sum(r.ours_cycles for r in both) / sum(r.cycles for r in both) if both else None
    bad = [f"{r.name} {r.status}" for r in results if r.status != PASS]
    return {"tier": name, "traces": len(results), "nvdla_pass": counts.get(PASS, 0),
            "nvdla_hang": counts.get(HANG, 0), "ours_pass": sum(r.ours_status == PASS for r in results),
            "ours_over_nvdla": ratio, "nvdla_cycles": sum(r.cycles or 0 for r in results),
            "seconds": round(seconds, 1), "not_passing": bad}


def markdown(rows: list[dict]) -> str:
    lines = ["| vectors | NVDLA's RTL | our RTL | ours/NVDLA cycles | NVDLA cycles, wall |", "|---|---|---|---|---|"]
    for r in rows:
        nv = f"{r['nvdla_pass']}/{r['traces']}" + (f" ({r['nvdla_hang']} hang)" if r["nvdla_hang"] else "")
        if r["not_passing"]:
            nv = f"**{nv}**: {', '.join(r['not_passing'][:5])}"
        ratio = f"{r['ours_over_nvdla']:.3f}" if r["ours_over_nvdla"] is not None else "-"
        lines.append(f"| {r['tier']} | {nv} | {r['ours_pass']}/{r['traces']} | {ratio} | "
                     f"{r['nvdla_cycles'] / 1e6:.2f} M, {r['seconds']:.0f} s |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.nvdla.tiers", description=__doc__.splitlines()[0])
    ap.add_argument("--player", help="a built player binary (tb/nvdla/player.cpp + NVDLA's RTL); default $NVDLA_PLAYER")
    ap.add_argument("--nightly", type=int, default=200, help="fresh nightly programs (default 200)")
    ap.add_argument("--smoke", type=int, default=100, help="fresh smoke programs (default 100)")
    ap.add_argument("--seed-start", type=int, default=1, help="first seed of the random programs")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "nvdla-tiers")
    a = ap.parse_args(argv)
    try:
        exe = player_binary(a.player)
        a.out.mkdir(parents=True, exist_ok=True)
        seeds = lambda n: range(a.seed_start, a.seed_start + n)  # noqa: E731
        # each set gives its traces and what to add to its row's name
        sets = [("`vectors/conformance`", lambda: (find_traces([ROOT / "vectors" / "conformance"]), "")),
                ("`vectors/nvdla-rules`", lambda: (find_traces([ROOT / "vectors" / "nvdla-rules"]), "")),
                ("`make vectors` (the default model, `make sim`'s tables, both modes)",
                 lambda: (make_vectors(a.out / "make-vectors"), ""))]
        sets += [(f"`models/{m.name}` compiled (max table) in both modes",
                  lambda m=m: (compiled_traces(m, a.out / "compiled"), ""))
                 for m in sorted((ROOT / "models").glob("*.onnx"))]
        sets += [(f"fresh {tier} programs, seeds {seeds(n).start}-{seeds(n).stop - 1}",
                  lambda tier=tier, n=n: random_traces(tier, seeds(n), a.out / tier))
                 for tier, n in (("smoke", a.smoke), ("nightly", a.nightly)) if n]
        rows = []
        for name, traces in sets:
            t0 = time.perf_counter()
            cfgs, note = traces()
            rows.append(row(name + note, check(exe, cfgs), time.perf_counter() - t0))
            print(f"{name}: NVDLA {rows[-1]['nvdla_pass']}/{rows[-1]['traces']}", file=sys.stderr, flush=True)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        why = (e.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or [f"exit {e.returncode}"]
        print(f"error: {' '.join(map(str, e.cmd[2:5]))}: {why[0]}", file=sys.stderr)
        return 2
    table = markdown(rows)
    print(table)
    write_atomic(a.out / "tiers.json", json.dumps(rows, indent=1) + "\n")
    write_atomic(a.out / "tiers.md", table + "\n")
    return 0 if all(not r["not_passing"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
