"""conv_core against the golden model's per-stage CACC output, bit for bit (issue #5).

Layers come from the dc_* traces and from directed corner cases; each simulation also checks
the CACC saturation count. The quick set runs by default; NVDLA_RUN_SLOW=1 adds every dc_*
trace, one simulation each (tb/conv/conftest.py).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tb.conv import conv_case as cc
from tb.conv.conv_sim import REPO, run_cases
from tests.suite import CONFORMANCE, missing

pytestmark = pytest.mark.rtl

DC = sorted(CONFORMANCE.glob("*/dc_*/*.cfg"))


def _check(cases, **knobs):
    assert cases, "no cases to run"
    tests, failed = run_cases(cases, knobs)
    assert tests >= 1 and failed == 0, "see the cocotb log above for the first mismatch"


def test_conv_cfg_layout():
    """CFG_FIELDS must list conv_cfg_t's members in order with their widths."""
    src = (REPO / "rtl_models" / "conv" / "conv_pkg.sv").read_text()
    body = src[src.index("typedef struct packed"):src.index("} conv_cfg_t;")]
    members = re.findall(r"logic\s*(?:\[(\d+):0\])?\s+(\w+);", body)
    sv = [(name, int(msb) + 1 if msb else 1) for msb, name in members]
    assert sv == [(n, w) for n, w, *_ in cc.CFG_FIELDS]


# One simulation over a spread of small trace layers (partial C and K groups, stride,
# dilation, padding, CDMA CVT, 1x1 and tall kernels, several weight groups); every dc_* trace
# runs under -m slow, and through the top in `make conformance BACKEND=rtl`.
QUICK = ("dc_1x1x8_1x1x8x1_int8_0", "dc_8x8x36_4x4x36x16_dilation_int8_0", "dc_13x19x18_1x1x18x40_int8_1_78",
         "dc_11x7x64_4x6x64x8_int8_1_116", "dc_10x15x24_3x1x24x7_int8_1_114", "dc_2x13x63_2x2x63x8_int8_1_88",
         "dc_7x1x15_7x5x15x32_int8_1_100", "dc_25x1x48_3x4x48x7_int8_1_42")


def _traces(names) -> list[Path]:
    found = [p for p in DC if p.parent.name in names]
    if len(found) != len(names):
        missing(f"{', '.join(sorted(set(names) - {p.parent.name for p in found}))} of {CONFORMANCE}")
    return found


def test_trace_layers_quick():
    _check([cc.from_trace(p) for p in _traces(QUICK)])


@pytest.mark.slow
@pytest.mark.parametrize("cfg", DC, ids=lambda p: p.parent.name)
def test_trace_layer(cfg: Path):
    _check([cc.from_trace(cfg)])


DIRECTED = [
    # channel tails (C mod 8 = 1..7), kernel tails (K mod 8 = 1, 7)
    dict(name="ctail1_ktail1", w=5, h=4, c=1, k=9, r=2, s=2),
    dict(name="ctail7_ktail7", w=4, h=3, c=15, k=15, r=1, s=3),
    dict(name="ctail3_k1", w=6, h=4, c=11, k=1, r=3, s=1),
    # stride, dilation, all-four-sides padding with a negative raw pad value
    dict(name="stride3x2_pad4", w=9, h=8, c=9, k=8, r=3, s=3, stride=(3, 2), pad=(2, 1, 1, 2), pad_value=-77),
    dict(name="dilation3x2", w=10, h=9, c=8, k=8, r=2, s=3, dilation=(3, 2), pad=(1, 1, 1, 1), pad_value=113),
    dict(name="stride8_dil1", w=17, h=3, c=8, k=8, r=1, s=2, stride=(8, 1)),
    # a stripe wrapping over several short lines, 1x1 output, pad bigger than the kernel reach
    dict(name="narrow_lines", w=2, h=20, c=16, k=16, r=3, s=3, pad=(1, 1, 1, 1), pad_value=5),
    dict(name="all_pad_taps", w=1, h=1, c=8, k=8, r=3, s=3, pad=(1, 1, 1, 1), pad_value=-128),
    # CDMA converter on, with padding (the pad is not converted)
    dict(name="cvt_pad", w=5, h=5, c=10, k=8, r=3, s=3, pad=(1, 1, 1, 1), pad_value=-9,
         cvt=(-100, 23456, 9)),
    dict(name="cvt_neg_scale_t0", w=4, h=4, c=8, k=8, cvt=(37, -3, 0)),
    dict(name="cvt_truncate_big", w=4, h=3, c=8, k=8, r=2, s=2, cvt=(-32768, -32768, 40)),
    # weight groups that only fit the ring one at a time; a tight data region
    dict(name="one_group_ring", w=6, h=6, c=24, k=24, r=3, s=3, banks=(1, 1)),
    # channel tails with the one weight bank that NVDLA's packed rule (ceil(kn*BPK/8) entries a
    # group) allows but that one entry per (block, r, s, kernel) would overflow: 81 vs 648,
    # 324 + 243 (a ring that wraps at an unaligned group end) vs 576, 478 vs 588, 512 vs 2048 entries
    dict(name="packed_c1_r9s9", w=11, h=10, c=1, k=8, r=9, s=9, banks=(1, 1)),
    dict(name="packed_c9_ring", w=8, h=7, c=9, k=14, r=6, s=6, banks=(1, 1)),
    dict(name="packed_c13_k6", w=9, h=8, c=13, k=6, r=7, s=7, banks=(1, 1)),
    dict(name="packed_exact_bank", w=16, h=17, c=2, k=8, r=16, s=16, banks=(1, 1)),
]
# CLIP_TRUNCATE over its legal range 0..16
DIRECTED += [dict(name=f"clip{t}", w=4, h=3, c=16, k=8, r=2, s=2, clip=t, seed=100 + t) for t in range(17)]
# Long all-extreme accumulations (1024 operations of +-131072). The 34-bit and int32 clamps
# themselves need >= 2^14 operations on one resident kernel group, more weights than CBUF
# holds, so test_conv_cacc.py drives them on conv_cacc directly.
DIRECTED += [
    dict(name="extreme_pos_clip0", w=2, h=2, c=4096, k=8, r=2, s=1, feature_fill="min", weight_fill="min",
         banks=(16, 16)),
    dict(name="extreme_neg_clip0", w=2, h=2, c=4096, k=8, r=2, s=1, feature_fill="max", weight_fill="min",
         banks=(16, 16)),
]


def test_directed_corners():
    _check([cc.directed(**d) for d in DIRECTED if not d["name"].startswith(("clip", "extreme"))])


def test_directed_clip_truncate_0_to_16():
    _check([cc.directed(**d) for d in DIRECTED if d["name"].startswith("clip")])


def test_directed_extreme_sums():
    _check([cc.directed(**d) for d in DIRECTED if d["name"].startswith("extreme")])


def test_random_latency_and_backpressure():
    cases = [cc.directed(**d) for d in DIRECTED[:8]]
    cases += [cc.from_trace(p) for p in _traces(["dc_8x8x36_4x4x36x16_dilation_int8_0"])]
    _check(cases, seed=7, latency=20, jitter=40, rsp_idle=0.3, req_stall=0.3, sink_stall=0.4)


def test_illegal_bank_program_raises_error():
    ok = cc.directed(name="banks_ok", w=4, h=4, c=8, k=8, banks=(16, 16))
    over = cc.directed(name="banks_33", w=4, h=4, c=8, k=8, banks=(16, 16))
    over.cfg = _with_banks(over.cfg, 17, 16)
    over.expect_error = True
    small = cc.directed(name="cube_too_big", w=64, h=16, c=16, k=8, banks=(4, 4))
    small.cfg = _with_banks(small.cfg, 3, 4)  # 2048 entries needed, 1536 given
    small.expect_error = True
    # 9 x 57 positions of one channel block: 513 entries, one more than a data bank holds (NVDLA
    # hangs, docs/nvdla-rules.md §8); one row or column fewer would fit
    row_over = cc.directed(name="cube_one_entry_over", w=9, h=57, c=8, k=8, banks=(2, 2))
    row_over.cfg = _with_banks(row_over.cfg, 1, 2)
    row_over.expect_error = True
    # one kernel group of 8 x 576 packed bytes = 576 entries > 1 bank
    group = cc.directed(name="group_too_big", w=6, h=6, c=16, k=8, r=6, s=6, banks=(1, 2))
    group.cfg = _with_banks(group.cfg, 1, 1)
    group.expect_error = True
    # a group of fewer than 8 kernels counts each of them: 7 x 648 bytes = 567 entries > 1 bank
    group7 = cc.directed(name="group_of_7_too_big", w=10, h=10, c=8, k=7, r=9, s=9, banks=(2, 2))
    group7.cfg = _with_banks(group7.cfg, 2, 1)
    group7.expect_error = True
    # ... while 7 x 576 = 4032 bytes fit one bank (8 kernels' 4608 would not)
    fits7 = cc.directed(name="group_of_7_fills_a_bank", w=4, h=4, c=64, k=7, r=3, s=3, banks=(2, 1))
    # a group 13 bytes past its bank is refused: 7 x 587 bytes, 514 entries of which 2 partly
    past = cc.directed(name="group_13_bytes_over", w=2, h=2, c=587, k=7, banks=(2, 2))
    past.cfg = _with_banks(past.cfg, 2, 1)
    past.expect_error = True
    # and one a single byte past it: one kernel of 1x1x4097 is 513 entries, the last holding 1 byte
    byte_over = cc.directed(name="group_1_byte_over", w=1, h=1, c=4097, k=1, banks=(2, 2))
    byte_over.cfg = _with_banks(byte_over.cfg, 2, 1)
    byte_over.expect_error = True
    # BYTE_PER_KERNEL only paces NVDLA's CDMA (docs/nvdla-rules.md §7): with R*S*C = 8*3*3 = 72,
    # two kernel groups and 16*72 = 1152 weight bytes, NVDLA hangs once the first group waits
    # for 8*BPK > 1152 bytes (from BPK 145), so that is refused like a bad bank split
    hang = cc.directed(name="bpk_nvdla_hangs", w=6, h=6, c=8, k=16, r=3, s=3, banks=(4, 4))
    hang.cfg = _with_field(hang.cfg, "byte_per_kernel", 145 - 1)
    hang.expect_error = True
    # ... as is one whose second of 3 groups waits for 2 * 8 * BPK bytes, more than the one weight
    # bank holds beyond the first group's 576 once that is released (4672: BPK 293), though the
    # 8000 weight bytes the CDMA is told to fetch would bring them
    ring = cc.directed(name="bpk_past_the_banks", w=6, h=6, c=8, k=24, r=3, s=3, banks=(4, 1))
    ring.cfg = _with_field(_with_field(ring.cfg, "weight_bytes", 8000), "byte_per_kernel", 293 - 1)
    ring.expect_error = True
    # ... and so is a weight count that is not a whole number of 8-byte entries (1152 + 4, + 1)
    ragged = cc.directed(name="weight_bytes_ragged", w=6, h=6, c=8, k=16, r=3, s=3, banks=(4, 4))
    ragged.cfg = _with_field(ragged.cfg, "weight_bytes", 1156)
    ragged.expect_error = True
    ragged1 = cc.directed(name="weight_bytes_one_past", w=6, h=6, c=8, k=16, r=3, s=3, banks=(4, 4))
    ragged1.cfg = _with_field(ragged1.cfg, "weight_bytes", 1153)
    ragged1.expect_error = True
    # An input cube of 1024 channel blocks x 8192 x 8192 is 2^36 entries, 0 in 32 bits: it must
    # be refused like any cube the data banks cannot hold, not wrap past the check
    huge = cc.directed(name="cube_wraps", w=6, h=6, c=8, k=1, r=1, s=1, banks=(4, 4))
    for field in ("datain_channel", "datain_height", "datain_width", "byte_per_kernel"):
        huge.cfg = _with_field(huge.cfg, field, 8191)
    huge.expect_error = True
    _check([over, ok, small, row_over, group, group7, fits7, past, byte_over, hang, ring, ragged, ragged1, huge])


def test_byte_per_kernel_leaves_the_layout_to_r_s_c():
    """BPK 59, 80 and 144 (8*144 = the 1152 bytes fetched: the largest BPK NVDLA does not hang on)
    with R*S*C 72 and two kernel groups, and 292 with three through one bank: NVDLA's RTL
    computes the R*S*C layout whatever BPK says (docs/nvdla-rules.md §7), so the golden atoms of the
    untouched program are expected; a layout taken from BPK would fetch the second group elsewhere."""
    cases = []
    for bpk in (59, 80, 144):
        case = cc.directed(name=f"bpk_{bpk}", w=6, h=6, c=8, k=16, r=3, s=3, banks=(4, 4), seed=bpk)
        case.cfg = _with_field(case.cfg, "byte_per_kernel", bpk - 1)
        cases.append(case)
    # 3 groups through one weight bank, 8000 weight bytes: 292 is the largest BPK whose second
    # report, 2 * 8 * BPK = 4672 bytes, fits the bank beside the released first group
    ring = cc.directed(name="bpk_292_one_bank", w=6, h=6, c=8, k=24, r=3, s=3, banks=(4, 1))
    ring.cfg = _with_field(_with_field(ring.cfg, "weight_bytes", 8000), "byte_per_kernel", 292 - 1)
    _check(cases + [ring])


def _with_banks(cfg: int, data_banks: int, weight_banks: int) -> int:
    """Rewrite DATA_BANK/WEIGHT_BANK inside a packed conv_cfg_t."""
    return _with_field(_with_field(cfg, "data_bank", data_banks - 1), "weight_bank", weight_banks - 1)


def _with_field(cfg: int, field: str, value: int) -> int:
    """Rewrite one raw register field inside a packed conv_cfg_t."""
    shift = sum(w for _, w, *_ in cc.CFG_FIELDS)
    for name, width, *_ in cc.CFG_FIELDS:
        shift -= width
        if name == field:
            return (cfg & ~(((1 << width) - 1) << shift)) | (value << shift)
    raise KeyError(field)


@pytest.mark.parametrize("fault", ["cacc_value", "sat_count", "atom_count"])
def test_scoreboard_catches_faults(fault):
    """The scoreboard must fail when the golden expectation differs by one element, one count
    or one atom (proof that a wrong RTL result would be caught)."""
    case = cc.directed(name=f"fault_{fault}", w=5, h=4, c=11, k=10, r=3, s=2, pad=(1, 1, 1, 1), pad_value=-3)
    case.cacc = case.cacc.copy()
    if fault == "cacc_value":
        case.cacc[9, 2, 3] += 1
    elif fault == "sat_count":
        case.sat_count += 1
    else:
        case.cacc = case.cacc[:, :, :-1]
    tests, failed = run_cases([case])
    assert (tests, failed) == (1, 1)
