"""Directed traces of the rules NVDLA's RTL taught us (shared/nvdla-rtl-findings.md), written by the
random generator (tb/stimulus) under narrowed constraints into vectors/nvdla-rules/<kind>/:

- sdp_1x1_strided: stand-alone SDP on 1x1xC (C > 8) cubes whose input, output and PER_ELEMENT
  operand strides are not packed: NVDLA reads and writes them packed (hw.layouts.sdp_dma_surface);
- conv_1x1_out: conv layers with a 1x1xK output (K > 8), unpacked output and operand strides;
- per_kernel: PER_KERNEL operand streams (NVDLA's strides, 8 x bytes per element) on small cubes;
- conv_after_conv: three conv layers in one program (weights seldom a multiple of 128 bytes): what a
  conv layer leaves in NVDLA's CBUF bookkeeping for the next (lower.legality.check_sequence);
- bpk: per_kernel s1 and one conformance trace with BYTE_PER_KERNEL other than R*S*C
  (BPK_VARIANTS), which NVDLA's RTL ran with the trace's own CRC: the layout is R*S*C, BPK only
  paces the CDMA (docs/nvdla-rules.md §7);
- one_kernel, taps_in_padding: the corners of the findings' two hanging programs (§4), one output
  channel with a kernel larger than 1x1 and an output row with every kernel tap in the padding,
  each after a conv layer of the same kind: NVDLA's RTL runs them under the conv-after-conv rules;
- per_kernel_strides: the per_kernel traces with PER_KERNEL operand strides 48/112 (findings §3),
  which NVDLA's RTL reads straight, with the same CRCs (docs/nvdla-rules.md §4).

Same seeds, same files. Usage: python tools/gen_nvdla_rules.py [OUT_DIR] (default vectors/nvdla-rules).
"""
from __future__ import annotations

import copy
import shutil
import sys
from pathlib import Path

from nvdla_int8.conformance import find_traces
from nvdla_int8.trace.cfg import Command, Quoted
from nvdla_int8.trace.trace import Trace
from tb.stimulus.constraints import NIGHTLY, Constraints
from tb.stimulus.generator import generate

SEEDS = range(1, 5)
CONFORMANCE = Path(__file__).resolve().parents[1] / "vectors" / "conformance"
_MEM_OPERANDS = {"operand_src": {"choices": ["MEM", "REG"], "weights": [3, 1]}, "x_bypass": {"choices": [False]},
                 "alu": {"choices": ["SUM", "MAX", "MIN"]}, "mul": {"choices": ["MUL", "PRELU"]}}
_ONE_LAYER = {"layers": {"choices": [1]}, "stride_gap": {"choices": [8, 64]}}
KINDS = {
    "sdp_1x1_strided": {**_ONE_LAYER, **_MEM_OPERANDS, "layer_kind": {"choices": ["sdp"]},
                        "shape": {"choices": ["1x1xC"]}, "deep_c": {"range": [9, 40]},
                        "operand_mode": {"choices": ["per_element"]}},
    "conv_1x1_out": {**_ONE_LAYER, **_MEM_OPERANDS, "layer_kind": {"choices": ["conv"]},
                     "shape": {"choices": ["1x1xC"]}, "deep_c": {"range": [1, 24]}, "kernel": {"choices": [1]},
                     "stride": {"choices": [1]}, "dilation": {"choices": [1]}, "pad": {"choices": [0]},
                     "geometry_corner": {"choices": ["none"]}, "kernels": {"range": [9, 24]},
                     "operand_mode": {"choices": ["per_element"]}},
    "per_kernel": {**_ONE_LAYER, **_MEM_OPERANDS, "layer_kind": {"choices": ["conv", "sdp"]},
                   "shape": {"choices": ["small", "single_line", "1x1xC"]}, "small_c": {"range": [1, 20]},
                   "line_w": {"range": [2, 24]}, "deep_c": {"range": [1, 24]}, "kernels": {"range": [1, 20]},
                   "kernel": {"range": [1, 3]}, "geometry_corner": {"choices": ["none"]},
                   "operand_mode": {"choices": ["per_kernel"]}, "cycle_budget": {"choices": [3_000]}},
    "conv_after_conv": {"layers": {"choices": [3]}, "layer_kind": {"choices": ["conv"]},
                        "shape": {"choices": ["small", "single_line"]}, "kernels": {"range": [3, 40]},
                        "geometry_corner": {"choices": ["none"]}, "cycle_budget": {"choices": [3_000]}},
    # findings §4's corners, which ran on NVDLA's RTL under the conv-after-conv rules: one output
    # channel with a kernel larger than 1x1 (dilated both ways mostly), after a conv layer of one
    # channel too; and an output row whose kernel taps all fall in the padding (a one-row input,
    # kernel height 3 dilated 5, top pad 3..9 past every tap's row)
    "one_kernel": {"layers": {"choices": [2]}, "layer_kind": {"choices": ["conv"]}, "kernels": {"choices": [1]},
                   "shape": {"choices": ["small", "single_line"]}, "kernel": {"range": [2, 7]},
                   "dilation": {"ranges": [[1, 1], [2, 4]], "weights": [1, 3]},
                   "geometry_corner": {"choices": ["none"]}, "cycle_budget": {"choices": [20_000]},
                   "old_hang_corners": {"choices": ["allow"]}},
    "taps_in_padding": {"layers": {"choices": [2]}, "layer_kind": {"choices": ["conv"]},
                        "shape": {"choices": ["single_line"]}, "line_w": {"range": [12, 40]},
                        "kernel": {"choices": [3]}, "dilation": {"choices": [5]}, "stride": {"range": [2, 4]},
                        "pad": {"ranges": [[3, 4], [6, 9]]}, "geometry_corner": {"choices": ["none"]},
                        "cycle_budget": {"choices": [20_000]}, "old_hang_corners": {"choices": ["allow"]}},
}


# (base trace, BPK, D_WEIGHT_BYTES or None to keep it). per_kernel_s1: K 19 in 3 kernel groups,
# R*S*C 60, 1144 weight bytes; 59 is below R*S*C; 71 the largest whose last-but-one report, 2 * 8
# * BPK bytes, comes within the 1144 fetched (72 hangs NVDLA's RTL); two fetch K * BPK bytes,
# rounded up to 8. STREAMED: K 32 in 4 groups of 8 * 280 bytes through 2 weight banks (8192
# bytes); 528 is the largest whose last-but-one report, 3 * 8 * BPK, fits the banks beside the
# 2 groups released before it (529 hangs NVDLA's RTL).
STREAMED = "dc_11x21x40_1x7x40x32_int8_1_58"
BPK_VARIANTS = (("per_kernel_s1", 59, None), ("per_kernel_s1", 61, None), ("per_kernel_s1", 68, None),
                ("per_kernel_s1", 71, None), ("per_kernel_s1", 68, 1296), ("per_kernel_s1", 120, 2280),
                (STREAMED, 528, 14400))


def constraints(kind: str) -> Constraints:
    knobs = copy.deepcopy(NIGHTLY)
    # the draws the committed vectors were made with (BPK_VARIANTS edit BYTE_PER_KERNEL on purpose)
    knobs["byte_per_kernel"] = {"choices": ["rsc"]}
    knobs["old_hang_corners"] = {"choices": ["avoid"]}
    knobs.update(copy.deepcopy(KINDS[kind]))
    knobs["address_layout"] = {"choices": ["fixed"]}  # the addresses the committed vectors were run with
    return Constraints("nightly", knobs, f"tools/gen_nvdla_rules.py:{kind}")


def _rename(trace: Trace, name: str) -> None:
    """Name the trace and its .dat files after the kind, not after the regress seed it is not."""
    old = trace.name
    trace.name = name
    new = {f: f.replace(old, name, 1) for f in trace.dats}
    trace.dats = {new[f]: entries for f, entries in trace.dats.items()}
    trace.commands = [Command(c.op, tuple(Quoted(new[a]) if isinstance(a, Quoted) and a in new else a
                                          for a in c.args)) for c in trace.commands]


def bpk_variant(base: Trace, bpk: int, wbytes: int | None) -> Trace:
    """`base` with CDMA's BYTE_PER_KERNEL = bpk - 1 and, when given, D_WEIGHT_BYTES (CDMA and CSC)
    = wbytes, its weight region zero-filled that far so that any player reads defined bytes."""
    t = copy.deepcopy(base)
    assert t.rewrite_writes("NVDLA_CDMA.D_WEIGHT_SIZE_0_0", lambda _, v: bpk - 1) == 1
    name = f"bpk_{bpk}"
    if wbytes is not None:
        for unit in ("CDMA", "CSC"):
            assert t.rewrite_writes(f"NVDLA_{unit}.D_WEIGHT_BYTES_0", lambda _, v: wbytes) == 1
        [addr] = [c.args[1] for c in t.commands if c.op == "reg_write"
                  and c.args[0].trace_name == "NVDLA_CDMA.D_WEIGHT_ADDR_LOW_0"]
        t.commands = [Command(c.op, (*c.args[:2], max(c.args[2], wbytes), *c.args[3:]), c.line)
                      if c.op == "mem_init" and c.args[1] == addr else c for c in t.commands]
        name += f"_wb{wbytes}"
    _rename(t, name)
    return t


# PER_KERNEL operand strides other than NVDLA's 8 x bytes per element: the findings' 48 (line) and
# 112 (surface), over the per_kernel traces, whose operand streams are all PER_KERNEL. NVDLA reads
# the array straight whatever the strides, as the golden model does, so the CRCs stay.
ODD_STRIDES = {"LINE": 48, "SURFACE": 112}


def stride_variant(base: Trace) -> Trace:
    """`base` with every BS/BN operand line and surface stride at ODD_STRIDES."""
    t = copy.deepcopy(base)
    changed = sum(t.rewrite_writes(f"NVDLA_SDP_RDMA.D_{stage}_{what}_STRIDE_0", lambda _, v, n=n: n)
                  for stage in ("BS", "BN") for what, n in ODD_STRIDES.items())
    assert changed, base.name
    _rename(t, base.name.replace("per_kernel", "per_kernel_strides", 1))
    return t


def main(out: Path) -> None:
    made = {}
    for kind in KINDS:
        folder = out / kind
        shutil.rmtree(folder, ignore_errors=True)
        for seed in SEEDS:
            g = generate(seed, constraints(kind))
            _rename(g.trace, f"{kind}_s{seed}")
            head = (f"{g.trace.name}: directed nv_small program ({kind}), generator seed {seed}; written by "
                    "tools/gen_nvdla_rules.py\n" + "\n".join(f"layer {i}: {la.summary}" for i, la in enumerate(g.layers)))
            g.trace.save(folder / g.trace.name, header=head)
            made[g.trace.name] = (g.trace, head)
            print(f"{folder / g.trace.name}: " + "; ".join(la.summary for la in g.layers))
    [streamed] = find_traces([CONFORMANCE / "generated" / STREAMED])
    made[STREAMED] = (Trace.load(streamed), f"{STREAMED}: vectors/conformance/generated")
    _write_variants(out / "bpk", [
        (bpk_variant(made[base][0], bpk, wbytes), made[base][1],
         f"{base} with BYTE_PER_KERNEL {bpk}" + (f" and D_WEIGHT_BYTES {wbytes}" if wbytes else ""))
        for base, bpk, wbytes in BPK_VARIANTS])
    _write_variants(out / "per_kernel_strides", [
        (stride_variant(made[f"per_kernel_s{seed}"][0]), made[f"per_kernel_s{seed}"][1],
         f"per_kernel_s{seed} with PER_KERNEL operand strides 48 (line) and 112 (surface)") for seed in SEEDS])


def _write_variants(folder: Path, variants: list[tuple[Trace, str, str]]) -> None:
    """Write (trace, its base's header, what was changed) into `folder`, afresh."""
    shutil.rmtree(folder, ignore_errors=True)
    for t, base_head, how in variants:
        head = f"{t.name}: {how}; written by tools/gen_nvdla_rules.py\n" + base_head.split("\n", 1)[-1]
        t.save(folder / t.name, header=head)
        print(f"{folder / t.name}")

if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "vectors/nvdla-rules"))
