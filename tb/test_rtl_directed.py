"""Directed conv traces for RTL behaviour that neither the conformance suite nor the random seeds
check, found while reading the survivors of `make rtl-mutation` (tb/rtl_mutation/survivors.yaml).

Programs come from the constrained-random generator with knobs pinned to the corner (and, where
a bit pattern is needed, data written here); the expected results come from the golden model
(CRCs) and the register map (status bits), never from the RTL. Each test also asserts that its
program reaches the corner, so a generator change cannot make it moot."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from nvdla_int8.golden.conv import PSUM_BITS, cacc_round
from nvdla_int8.hw.config import NV_SMALL
from nvdla_int8.hw.fixed import shr_round
from nvdla_int8.hw.regmap import REGMAP
from nvdla_int8.trace.cfg import Command
from nvdla_int8.trace.program import CONV_ENABLE_ORDER

pytestmark = pytest.mark.rtl

# One conv layer whose flying SDP passes CACC's output through unchanged (int8 saturation only).
CONV_ONLY = {
    "layers": {"choices": [1]}, "layer_kind": {"choices": ["conv"]}, "geometry_corner": {"choices": ["none"]},
    "shape": {"choices": ["small"]}, "kernel": {"range": [1, 1]}, "stride": {"range": [1, 1]},
    "dilation": {"range": [1, 1]}, "pad": {"range": [0, 0]}, "cdma_cvt": {"choices": [False]},
    "stride_gap": {"choices": [0]}, "x_bypass": {"choices": [True]}, "out_cvt_offset": {"choices": [0]},
    "out_cvt_scale": {"choices": [1]}, "out_cvt_shift": {"range": [0, 0]}}


def generated(seed: int, **knobs):
    """generate() of the smoke tier with CONV_ONLY and `knobs` pinned."""
    from tb.stimulus import Constraints, generate
    c = Constraints.load("smoke")
    c.knobs.update({**CONV_ONLY, **knobs})
    return generate(seed, c)


def with_golden_crcs(name: str, layers):
    """The trace of `layers` (one after the other) with its check_crc values from the golden model."""
    from tb.stimulus.generator import assemble_checked
    return assemble_checked(name, layers, [False] * len(layers))


def play(traces, tmp_path, **kw):
    from tb.trace_runner import run_traces
    paths = [t.save(tmp_path / t.name) for t in traces]
    outcomes = list(run_traces(paths, work_dir=tmp_path / "run", **kw))
    assert len(outcomes) == len(paths)
    return outcomes


def assert_passed(outcomes):
    bad = [f"{o.name}: {o.message}" for o in outcomes if not o.passed]
    assert not bad, "\n".join(bad)


# CACC rounding with CLIP_TRUNCATE t: the first discarded bit plus a sticky window of the 15 bits
# below it (NV_SMALL.cacc_sticky_bits; datapath.md §7). Each psum below is negative with the first
# discarded bit set and the window's lowest bit its only other set bit, so it rounds up only if
# that bit is seen: a window one bit narrower makes it an exact tie, rounded down (mutants
# nvdla_pkg.155 and conv_pkg.18 of `make rtl-mutation`). With CLIP_TRUNCATE <= 16 the window
# holds every discarded bit, so 17 is the first value where the window's end matters; 16 is where
# a 14-bit window would first cut a bit. 17..31 lie outside the legal range (datapath.md §7), which
# check_program and the generator enforce, but the RTL accepts them and rounds as NVDLA's RTL does
# (the golden model too, bit for bit), so the trace sets 17 after the generator's check.
# Features and weights are 8 channels, identical at every position and for every kernel, so every
# output is the same int8 value.
STICKY_CASES = {  # CLIP_TRUNCATE: (8 features, 8 weights)
    17: ([-128, -128, -128, -128, 127, -2, 0, 0], [127, 127, 127, 127, -4, 1, 0, 0]),  # psum -65534
    16: ([-128, -128, 127, -1, 0, 0, 0, 0], [127, 127, -2, 1, 0, 0, 0, 0]),  # psum -32767
}


def sticky_trace(t: int):
    feats, wts = STICKY_CASES[t]
    psum = int(np.dot(feats, wts))
    assert psum < 0 and (psum >> (t - 1)) & 1, "the first discarded bit must be set on a negative psum"
    narrower = shr_round(psum, t, PSUM_BITS, NV_SMALL.cacc_out_bits, NV_SMALL.cacc_sticky_bits - 1)
    assert cacc_round(psum, t) != narrower, f"psum {psum} does not tell a {NV_SMALL.cacc_sticky_bits}-bit window from a narrower one"
    g = generated(1, small_c={"range": [8, 8]})
    [layer] = g.layers
    # set after the generator's legality check, which refuses 17..31 (datapath.md §7)
    layer.prog.set("CACC", "D_CLIP_CFG", CLIP_TRUNCATE=t)
    regions = []
    for base, data, what in layer.regions:
        if what in ("feature", "weight"):
            pattern = np.array(feats if what == "feature" else wts, dtype=np.int8).view(np.uint8)
            assert len(data) % 8 == 0  # whole 8-channel atoms; bytes past the last kernel are never read
            data = np.tile(pattern, len(data) // 8)
        regions.append((base, data, what))
    layer.regions = regions
    return with_golden_crcs(f"cacc_sticky_t{t}", [layer])


def test_cacc_rounding_sees_exactly_its_sticky_window(tmp_path):
    assert_passed(play([sticky_trace(t) for t in STICKY_CASES], tmp_path))


def test_weight_ring_wraps_when_a_group_ends_on_its_last_entry(tmp_path):
    """One weight bank (512 entries) and 1x1x64 kernels: a group of 8 kernels is 64 entries, so
    groups 0-7 fill the ring exactly and group 8 must start again at its first entry, in CDMA's
    writes and CSC's reads alike. No conformance trace or seed ends a group on the ring's last
    entry. Random weights, so the kernels of group 8 read from the wrong entries give other
    outputs."""
    g = generated(2, small_c={"range": [64, 64]}, kernels={"range": [72, 72]},
                  weight_banks={"choices": ["one_group"]}, data_banks_extra={"choices": [0]},
                  clip_truncate={"range": [10, 10]}, feature_data={"choices": ["random"]},
                  weight_data={"choices": ["random"]})
    prog = g.layers[0].prog
    field = lambda unit, reg, f: REGMAP.reg(unit, reg).field(f).get(prog.value(unit, reg))  # noqa: E731
    ring = (field("CSC", "D_BANK", "WEIGHT_BANK") + 1) * NV_SMALL.cbuf_bank_entries
    group_entries = NV_SMALL.atomic_k * (field("CDMA", "D_WEIGHT_SIZE_0", "BYTE_PER_KERNEL") + 1) // NV_SMALL.memory_atom
    groups = (field("CSC", "D_WEIGHT_SIZE_EXT_1", "WEIGHT_KERNEL") + 1) // NV_SMALL.atomic_k
    assert ring % group_entries == 0 and groups > ring // group_entries, (ring, group_entries, groups)
    assert_passed(play([g.trace], tmp_path))


def test_conv_done_bits_land_in_the_consumer_groups_status(tmp_path):
    """Two conv layers, in register group 0 then group 1: once each has raised SDP_DONE, GLB
    S_INTR_STATUS holds exactly the CDMA data, CDMA weight and CACC done bits of that group (the
    player has claimed the SDP bit). They are masked, so no conformance trace looks at them
    (mutant nvdla_small_top.155 set CACC's bit of the other group)."""
    g = generated(3, layers={"choices": [2]}, back_to_back={"choices": [False]})
    status = REGMAP.reg("GLB", "S_INTR_STATUS")
    trace = g.trace
    cmds, group = [], 0
    for c in trace.commands:
        cmds.append(c)
        if c.op == "check_crc":
            done = sum(status.field(f"{u}_DONE_STATUS{group}").mask for u in ("CDMA_DAT", "CDMA_WT", "CACC"))
            cmds += [Command("reg_read_check", (status, done)), Command("reg_write", (status, done))]
            group += 1
    assert group == 2
    trace.commands = cmds
    assert_passed(play([trace], tmp_path))


def test_conv_starts_only_when_all_five_conv_units_are_enabled(tmp_path):
    """The layer starts once CDMA, CSC, CMAC_A, CMAC_B and CACC all have OP_EN set: without any
    one of them no interrupt ever comes (mutants nvdla_small_top.239 turned one `&&` of the
    arming condition into `||`). The complete trace passes, so each hang is the missing enable."""
    g = generated(4)
    conv_units = [u for u in CONV_ENABLE_ORDER if u != "SDP"]
    traces = []
    for unit in conv_units:
        t = copy.copy(g.trace)  # shares the register objects, compared by identity below
        t.name = f"no_{unit.lower()}_op_en"
        op_en = REGMAP.reg(unit, "D_OP_ENABLE")
        t.commands = [c for c in t.commands if not (c.op == "reg_write" and c.args[0] is op_en)]
        traces.append(t)
    outcomes = play([g.trace, *traces], tmp_path)
    assert outcomes[0].passed, outcomes[0].message
    for unit, o in zip(conv_units, outcomes[1:]):
        assert not o.passed and "interrupt SDP_0 never arrived" in o.message, f"without {unit} OP_EN: {o.message}"


def test_conv_refuses_a_bank_split_past_the_32_banks(tmp_path):
    """DATA_BANK + WEIGHT_BANK encode 33 banks: conv_core refuses the layer (its units end at
    once, the SDP never gets data, so no SDP interrupt), although the cube and a kernel group
    would fit the banks asked for. Set after the generator, whose legality check refuses it.
    A CBUF of 33 banks (mutant conv_pkg.8) ran the layer."""
    g = generated(5)
    most = (1 << REGMAP.reg("CDMA", "D_BANK").field("DATA_BANK").width) - 1  # DATA_BANK + 1 banks
    assert most + 1 + 1 == NV_SMALL.cbuf_banks + 1
    for unit in ("CDMA", "CSC"):
        g.layers[0].prog.set(unit, "D_BANK", DATA_BANK=most, WEIGHT_BANK=0)
    trace = with_golden_crcs("banks_33", g.layers)
    [o] = play([trace], tmp_path)
    assert not o.passed and "interrupt SDP_0 never arrived" in o.message, o.message


def test_kernel_group_larger_than_64_kib(tmp_path):
    """8 kernels of 3x3x1024 (BYTE_PER_KERNEL 9216): one kernel group is 73,728 bytes, so CSC's
    byte offset within the group passes 2^16 (conv_pkg GrpByteW, narrowed to what the program
    check allows; a 16-bit offset wraps into the group's first ops). No conformance trace or
    seed has a group over 64 KiB. Random data, so weights read from the wrong entries give other
    outputs."""
    g = generated(3, small_c={"range": [1024, 1024]}, small_h={"range": [3, 3]}, small_w={"range": [3, 3]},
                  kernel={"range": [3, 3]}, kernels={"range": [8, 8]}, clip_truncate={"range": [12, 12]},
                  feature_data={"choices": ["random"]}, weight_data={"choices": ["random"]})
    prog = g.layers[0].prog
    field = lambda unit, reg, f: REGMAP.reg(unit, reg).field(f).get(prog.value(unit, reg))  # noqa: E731
    kn = min(field("CSC", "D_WEIGHT_SIZE_EXT_1", "WEIGHT_KERNEL") + 1, NV_SMALL.atomic_k)
    assert kn * (field("CDMA", "D_WEIGHT_SIZE_0", "BYTE_PER_KERNEL") + 1) > 1 << 16
    assert_passed(play([g.trace], tmp_path))
