"""The NVDLA tiers run without NVDLA's RTL: which traces of a compile folder a player gets, and
the table row of a tier (a hang or a difference is named, never counted as a pass)."""
from __future__ import annotations

import json

from tb.nvdla.run import FAIL, HANG, PASS, Result
from tb.nvdla.tiers import markdown, paced_note, player_traces, row, stretch_note


def test_a_flagged_layer_goes_to_the_player_as_its_pass_traces(tmp_path):
    steps = [{"kind": "hw", "trace": {"cfg": "L00_a.cfg"}},
             {"kind": "host"},
             {"kind": "hw", "trace": {"cfg": "L01_b.cfg", "nvdla_rtl_may_hang": "why",
                                      "nvdla_pass_traces": ["L01_b_pass0.cfg", "L01_b_pass1.cfg"]}}]
    (tmp_path / "manifest.json").write_text(json.dumps({"steps": steps}))
    assert [p.name for p in player_traces(tmp_path)] == ["L00_a.cfg", "L01_b_pass0.cfg", "L01_b_pass1.cfg"]


def test_a_tier_row_counts_passes_and_names_what_did_not_pass():
    results = [Result("a", PASS, 100, PASS, 80), Result("b", PASS, 300, PASS, 120),
               Result("c", HANG, None, PASS, 50), Result("d", FAIL, 10, PASS, 10)]
    r = row("tier x", results, 2.0)
    assert (r["traces"], r["nvdla_pass"], r["nvdla_hang"], r["ours_pass"]) == (4, 2, 1, 4)
    assert r["ours_over_nvdla"] == 200 / 400  # over the traces both passed
    assert r["not_passing"] == ["c HANG", "d FAIL"]
    line = markdown([r]).splitlines()[-1]
    assert line.startswith("| tier x | **2/4 (1 hang)**: c HANG, d FAIL | 4/4 | 0.500 |")


def test_a_random_tier_row_counts_its_stretched_programs_by_kind():
    last = ["conv small 6x6x8 * 3x3x8", "conv small 9x9x64 * 3x3x300 (stretch many_kernels)",
            "sdp 1x1x20", "conv tall 4x200x8 * 1x1x8 (stretch tall)", "conv 2x2x8 (stretch many_kernels)"]
    assert stretch_note(last) == ", 3 stretched (2 many_kernels, 1 tall)"
    assert stretch_note(last[:1]) == ""


def test_a_random_tier_row_counts_its_paced_conv_layers():
    layers = ["conv small 6x6x8 * 3x3x20 stride 1,1 dilation 1,1 pads (0, 0, 0, 0) -> 4x4x20 byte_per_kernel 90",
              "sdp 1x1x20", "conv 1x1xC 1x1x9 * 1x1x3 stride 1,1 dilation 1,1 pads (0, 0, 0, 0) -> 1x1x3 cvt",
              "conv 1x1xC 1x1x9 * 1x1x3 stride 1,1 dilation 1,1 pads (0, 0, 0, 0) -> 1x1x3 byte_per_kernel 7 "
              "(stretch big_kernel)"]
    assert paced_note(layers) == ", 2 conv layers with BYTE_PER_KERNEL != R*S*C"
    assert paced_note(layers[1:3]) == ""
