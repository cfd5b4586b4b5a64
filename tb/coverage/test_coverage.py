"""The coverage model: the probe sees the events it claims, sampling hits exactly the bins of a
program, per-run files merge by adding hits, and the report names holes with their reasons."""
from __future__ import annotations

import json

import numpy as np
import yaml
from cocotb_coverage.coverage import coverage_db

from nvdla_int8.hw.fixed import shr_round
from tb.coverage.events import DatapathEvents
from tb.coverage.model import export, sample_trace
from tb.coverage.report import load, merge, text_report
from tb.stimulus import Constraints, generate


class _Machine:
    layers: list = []


def _probe():
    e = DatapathEvents()
    e.machine = _Machine()
    return e


def test_probe_names_each_tie_direction_and_saturation():
    e = _probe()
    x = np.array([6, 7, -6, -5])  # shift 2: 6 = 1.5 (tie), -6 = -1.5 (tie); 7, -5 are not ties
    e.rounding("X1", x, 2, 49)
    assert e.current == {"X1.tie_pos", "X1.tie_neg"}
    # the probe agrees with the primitive: ties go away from zero
    assert list(shr_round(x, 2, 49, 32)[0]) == [2, 2, -2, -1]
    e = _probe()
    e.rounding("X1", np.array([7, -5, 5]), 2, 49)
    e.rounding("X1", np.array([6]), 0, 49)  # shift 0 never rounds
    assert e.current == set()
    v, flags = shr_round(np.array([1 << 40, -(1 << 40), 5]), 1, 49, 32)
    e.saturation("X2.mul_shift", flags, np.array([1 << 40, -(1 << 40), 5]))
    assert e.current == {"X2.mul_shift.sat_pos", "X2.mul_shift.sat_neg"}


def _hits(name):
    return dict(coverage_db[name].detailed_coverage)


def test_sampling_hits_the_bins_of_the_program(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"knobs": {"layers": {"choices": [1]}, "layer_kind": {"choices": ["conv"]},
                                       "clip_truncate": {"choices": [13]}}}))
    g = generate(3, Constraints.load("smoke", f))
    before = _hits("nvdla.conv.clip_truncate")
    kind_before = _hits("nvdla.layer.kind")
    sample_trace(g.trace)
    after = _hits("nvdla.conv.clip_truncate")
    assert after[13] == before[13] + 1
    assert all(after[b] == before[b] for b in after if b != 13)
    assert _hits("nvdla.layer.kind")["conv"] == kind_before["conv"] + 1
    assert _hits("nvdla.layer.kind")["sdp"] == kind_before["sdp"]


def test_runs_merge_by_adding_hits_and_report_lists_holes(tmp_path):
    c = Constraints.load("smoke")
    sample_trace(generate(11, c).trace)
    export(tmp_path / "a.yml")
    sample_trace(generate(12, c).trace)
    export(tmp_path / "b.yml")
    merged = merge(tmp_path / "m.yml", [tmp_path / "a.yml", tmp_path / "b.yml"])
    a, b, m = (yaml.safe_load((tmp_path / n).read_text()) for n in ("a.yml", "b.yml", "m.yml"))
    item = "nvdla.layer.kind"
    for bin_, hits in m[item]["bins:_hits"].items():
        assert hits == a[item]["bins:_hits"][bin_] + b[item]["bins:_hits"][bin_]
    s = load(merged)
    assert s.size == m["nvdla"]["size"] and 0 < s.covered <= s.size
    holes = {(h.item, h.bin): h.reason for h in s.holes}
    assert holes[("nvdla.dp.saturation", "CACC.int32.sat_pos")].startswith("unreachable")
    text = text_report(s)
    assert "UNREACHABLE nvdla.dp.saturation [CACC.int32.sat_pos]" in text
    assert all(f"HOLE {i} [{b}]" in text for (i, b), r in holes.items() if not r)


def test_the_probe_changes_no_result():
    from nvdla_int8.golden import GoldenMachine
    from nvdla_int8.golden.replay import GoldenPlayer
    g = generate(21, Constraints.load("nightly"))
    plain, probed = GoldenMachine(), GoldenMachine()
    DatapathEvents().attach(probed)
    GoldenPlayer(g.trace, plain).run()
    GoldenPlayer(g.trace, probed).run()
    assert len(plain.layers) == len(probed.layers) == len(g.layers)
    for a, b in zip(plain.layers, probed.layers):
        for stage in ("sdp_in", "x1", "x2", "output"):
            assert np.array_equal(getattr(a, stage), getattr(b, stage))


def test_extent_bins_name_the_limits_a_layer_reaches(tmp_path):
    """layer.extent hits exactly the size classes of the layer: none for a small layer, the
    height for a tall one (the stretch kinds of tb/stimulus)."""
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"knobs": {"layers": {"choices": [1]}, "layer_kind": {"choices": ["conv"]}}}))
    before = _hits("nvdla.layer.extent")
    sample_trace(generate(3, Constraints.load("smoke", small)).trace)
    assert _hits("nvdla.layer.extent") == before
    c = Constraints.load("smoke", small)  # a small conv layer, then a tall one
    c.knobs["stretch"] = {"choices": ["tall"]}
    sample_trace(generate(3, c).trace)
    after = _hits("nvdla.layer.extent")
    assert after["height 257+"] == before["height 257+"] + 1
    assert all(after[b] == before[b] for b in after if b != "height 257+")


def test_byte_per_kernel_bins_follow_the_pacing_drawn():
    """conv.byte_per_kernel: R*S*C for the compilers' value; under the "paced" knob, the bin of
    each conv layer's draw, every bin reached over a few seeds."""
    from tb.coverage.model import BYTE_PER_KERNEL

    one = {"layers": {"choices": [1]}, "layer_kind": {"choices": ["conv"]}}
    plain, paced = Constraints.load("nightly"), Constraints.load("nightly")
    plain.knobs.update(one, stretch={"choices": ["none"]}, byte_per_kernel={"choices": ["rsc"]})
    paced.knobs.update(one, stretch={"choices": ["none"]}, byte_per_kernel={"choices": ["paced"]})
    before = _hits("nvdla.conv.byte_per_kernel")
    sample_trace(generate(5, plain).trace)
    after = _hits("nvdla.conv.byte_per_kernel")
    assert after == {**before, "R*S*C": before["R*S*C"] + 1}
    reached = set()
    for seed in range(30):
        g = generate(seed, paced)
        before = _hits("nvdla.conv.byte_per_kernel")
        sample_trace(g.trace)
        after = _hits("nvdla.conv.byte_per_kernel")
        hit = [b for b in after if after[b] != before[b]]
        assert len(hit) == 1 and after[hit[0]] == before[hit[0]] + 1
        assert (hit[0] == "R*S*C") == ("byte_per_kernel" not in g.layers[0].summary), (seed, g.layers[0].summary)
        reached.add(hit[0])
    assert reached >= set(BYTE_PER_KERNEL[1:])
