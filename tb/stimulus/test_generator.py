"""The random program generator, golden model only (fast): legality over many seeds, golden
replay of each trace, determinism, constraint files, and the legality gate failing loudly."""
from __future__ import annotations

import filecmp
import json

import pytest

from nvdla_int8.errors import InputError
from nvdla_int8.golden import GoldenMachine
from nvdla_int8.golden.replay import GoldenPlayer, replay_trace
from nvdla_int8.trace.trace import Trace
from tb.stimulus import Constraints, GeneratorBug, generate


@pytest.mark.parametrize("tier", ["smoke", "nightly"])
def test_many_seeds_are_legal_and_replay_on_golden(tier, tmp_path):
    c = Constraints.load(tier)
    kinds = set()
    for seed in range(40):
        g = generate(seed, c)  # raises GeneratorBug on an illegal layer
        assert 1 <= len(g.layers) <= 3 + (tier == "nightly")  # + a stretched layer
        path = g.save(tmp_path)
        outcome, player = replay_trace(Trace.load(path))  # from the files, as the RTL player reads them
        assert outcome.passed, outcome.message
        assert len(player.m.layers) == len(g.layers)
        assert len(player.crcs) == len(g.layers)
        kinds |= {la.kind for la in g.layers}
    assert kinds == {"conv", "sdp"}


def test_weights_both_resident_and_streamed_one_kernel_group_at_a_time():
    """Weight banks hold one kernel group (packed, as NVDLA and our RTL store it) and, for some
    layers, not all kernels: the rest streams through the banks, as in 11 of NVDLA's traces."""
    from nvdla_int8.hw.regmap import REGMAP
    bank = REGMAP.reg("CDMA", "D_BANK")
    c = Constraints.load("nightly")
    streamed = resident = 0
    for seed in range(60):
        m = GoldenMachine()
        g = generate(seed, c)
        GoldenPlayer(g.trace, m).run()
        convs = [la for la in g.layers if la.kind == "conv"]
        for la, res in zip(convs, [x for x in m.layers if x.kind == "conv"]):
            p = res.conv
            capacity = (bank.field("WEIGHT_BANK").get(la.prog.value("CDMA", "D_BANK")) + 1) * 4096
            bpk = p.channels * p.kernel_h * p.kernel_w
            assert min(8, p.kernels) * bpk <= capacity, (seed, la.summary)
            streamed += p.kernels * bpk > capacity
            resident += p.kernels * bpk <= capacity
    assert streamed >= 5 and resident >= 5, (streamed, resident)


def _writes_into_held_groups(trace) -> list[str]:
    """D_ register writes aimed at a group some layer still holds: from the layer's OP_EN until the
    interrupt that ends it (the SDP done of its group), hardware drops writes to that group."""
    producer: dict[str, int] = {}
    held: dict[tuple[str, int], int] = {}  # (unit, group) -> layer
    layers: list[tuple[int, dict[str, int]]] = []  # enabled, not yet ended: (SDP group, unit -> group)
    bad = []
    for cmd in trace.commands:
        if cmd.op == "reg_write":
            reg, value = cmd.args
            g = producer.get(reg.unit, 0)
            if reg.name == "S_POINTER":
                producer[reg.unit] = reg.field("PRODUCER").get(value)
            elif reg.name == "D_OP_ENABLE" and value & 1:
                if not layers or reg.unit in layers[-1][1]:
                    layers.append((-1, {}))
                layers[-1][1][reg.unit] = g
                held[(reg.unit, g)] = len(layers)
                if reg.unit == "SDP":
                    layers[-1] = (g, layers[-1][1])
            elif reg.double_buffered and (reg.unit, g) in held:
                bad.append(f"{trace.where(cmd)}: {reg.trace_name} into held group {g}")
        elif cmd.op == "intr_notify":
            group = int(str(cmd.args[0]).rsplit("_", 1)[1])
            k = next(k for k, (sdp, _) in enumerate(layers) if sdp == group)
            for unit_group in layers.pop(k)[1].items():
                held.pop(unit_group, None)
    return bad


def test_no_register_write_lands_in_a_group_a_running_layer_holds():
    """Every register write of a generated program takes effect. Before the fix, nightly seeds
    (4, 113, ...) wrote SDP_RDMA registers of a layer that does not enable SDP_RDMA into the group
    the layer before still held: dropped by the RTL, harmless there, but not the program the
    trace says."""
    c = Constraints.load("nightly")
    for seed in range(120):
        trace = generate(seed, c).trace
        assert _writes_into_held_groups(trace) == [], seed


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    c = Constraints.load("nightly")
    a, b, other = tmp_path / "a", tmp_path / "b", tmp_path / "o"
    for d, seed in ((a, 7), (b, 7), (other, 8)):
        generate(seed, c).save(d)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert match == names and not mismatch and not errors
    assert (a / "rand_nightly_s7.cfg").read_bytes() != (other / "rand_nightly_s8.cfg").read_bytes()


def _layers(seed, c):
    m = GoldenMachine()
    GoldenPlayer(generate(seed, c).trace, m).run()
    return m.layers


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_constraint_file_narrows_the_space(fmt, tmp_path):
    knobs = {"layer_kind": {"choices": ["conv"]}, "shape": {"choices": ["small"]},
             "stride": {"range": [2, 2]}, "dilation": {"choices": [1]}, "kernel": {"choices": [3]},
             "clip_truncate": {"choices": [5]}, "cdma_cvt": {"choices": [False]}}
    f = tmp_path / f"narrow.{fmt}"
    if fmt == "json":
        f.write_text(json.dumps({"tier": "smoke", "knobs": knobs}))
    else:
        import yaml
        f.write_text(yaml.safe_dump({"tier": "smoke", "knobs": knobs}))
    c = Constraints.load("nightly", f)
    assert c.tier == "smoke"
    for seed in range(15):
        for layer in _layers(seed, c):
            p = layer.conv
            assert layer.kind == "conv"
            assert (p.stride_x, p.stride_y, p.dilation_x, p.kernel_w, p.kernel_h) == (2, 2, 1, 3, 3)
            assert p.clip_truncate == 5 and not p.cvt_en


def test_widening_past_a_register_limit_is_a_generator_bug(tmp_path):
    f = tmp_path / "wide.json"
    f.write_text(json.dumps({"knobs": {"layer_kind": {"choices": ["conv"]}, "clip_truncate": {"range": [17, 20]}}}))
    with pytest.raises(GeneratorBug, match="CLIP_TRUNCATE"):
        generate(1, Constraints.load("smoke", f))


@pytest.mark.parametrize("text, msg", [
    ('{"knobs": {"stride": {"range": [3, 1]}}}', "knob 'stride'"),
    ('{"knobs": {"no_such_knob": {"range": [1, 2]}}}', "unknown knob"),
    ('{"tier": "weekly"}', "unknown tier"),
    ('{"knobs": ', "cannot parse constraints"),
])
def test_bad_constraint_file_is_one_line_naming_the_file(text, msg, tmp_path):
    f = tmp_path / "bad.json"
    f.write_text(text)
    with pytest.raises(InputError, match=msg) as e:
        Constraints.load("smoke", f)
    assert str(f) in str(e.value) and "\n" not in str(e.value)


def test_the_old_hang_corners_are_drawn_in_nightly_and_avoided_in_smoke():
    """shared/nvdla-rtl-findings.md §4's two hanging programs, both conv after conv under the old
    rules: their corners (an output row with every tap in the padding; one output channel with a
    kernel larger than 1x1) run on NVDLA's RTL since check_sequence's rules (docs/nvdla-rules.md
    §5), so the nightly tier draws them; smoke avoids them, so its programs stay as they were."""
    from tb.stimulus.generator import _old_hang_corner, _taps_in_padding
    # 133x1x17, kernel 4x3 (S x R), stride (1, 4), dilation (1, 5), pads left 3 top 2 (right 0,
    # bottom 8): one output row, whose taps are input rows -2, 3, 8
    wo = (133 + 3 + 0 - 4) // 1 + 1
    assert _old_hang_corner(133, 1, 5, 4, 3, (1, 4), (1, 5), (3, 2), (wo, 1))
    assert not _old_hang_corner(133, 1, 5, 4, 3, (1, 4), (1, 5), (3, 0), (wo, 1))  # pad top 0: taps on row 0
    # 38x19x72, kernel 7x7, one output channel
    assert _old_hang_corner(38, 19, 1, 7, 7, (1, 1), (1, 1), (0, 0), (32, 13))
    assert not _old_hang_corner(38, 19, 2, 7, 7, (1, 1), (1, 1), (0, 0), (32, 13))
    assert not _old_hang_corner(38, 19, 1, 1, 1, (1, 1), (1, 1), (0, 0), (38, 19))

    def corners(c, seeds):
        found = set()
        for seed in seeds:
            m = GoldenMachine()
            GoldenPlayer(generate(seed, c).trace, m).run()
            for q in (la.conv for la in m.layers if la.kind == "conv"):
                geometry = (q.width, q.height, q.kernel_w, q.kernel_h, (q.stride_x, q.stride_y),
                            (q.dilation_x, q.dilation_y), (q.pad_left, q.pad_top), (q.out_w, q.out_h))
                found |= {"taps in padding"} if _taps_in_padding(*geometry) else set()
                found |= {"one kernel"} if q.kernels == 1 and q.kernel_w * q.kernel_h > 1 else set()
        return found
    assert Constraints.load("smoke").knobs["old_hang_corners"] == {"choices": ["avoid"]}
    avoid = Constraints.load("nightly")
    avoid.knobs["old_hang_corners"] = {"choices": ["avoid"]}
    assert corners(Constraints.load("nightly"), range(1, 41)) == {"taps in padding", "one kernel"}
    assert corners(avoid, range(1, 41)) == set()


def test_regions_spread_over_the_whole_address_space_without_overlap():
    """Every memory region is atom-aligned, inside the 32-bit space, and clear of the others by the
    guard; across seeds every address bit above the atom takes both values, as the RTL's DMA
    address ports should see (code coverage of rtl_models/, docs/verification.md)."""
    from tb.stimulus.generator import ADDRESS_SPACE, ATOM, REGION_GUARD
    c = Constraints.load("nightly")
    ones = zeros = 0
    for seed in range(40):
        spans = sorted((base, base + (data if isinstance(data, int) else len(data)))
                       for la in generate(seed, c).layers for base, data, _ in la.regions)
        for (lo, hi), (nxt, _) in zip(spans, spans[1:]):
            assert hi + REGION_GUARD <= nxt, (seed, hex(lo), hex(nxt))
        for lo, hi in spans:
            assert lo % ATOM == 0 and REGION_GUARD <= lo and hi + REGION_GUARD <= ADDRESS_SPACE, (seed, hex(lo))
            ones |= lo
            zeros |= ~lo
    moving = (ADDRESS_SPACE - 1) & ~(ATOM - 1)
    assert ones & moving == moving and zeros & moving == moving


def test_a_region_base_range_too_small_for_the_program_is_a_clear_generator_error(tmp_path):
    f = tmp_path / "tiny.json"
    f.write_text(json.dumps({"knobs": {"region_base": {"range": [0x10000, 0x10100]}}}))
    with pytest.raises(GeneratorBug, match="no free .*region_base"):
        generate(1, Constraints.load("smoke", f))


def test_stretched_layers_reach_every_extent_legally():
    """Each stretch kind draws legal layers (generate raises GeneratorBug otherwise) that replay on
    the golden model, and together they reach every extent bin of the coverage model: the sizes
    whose high counter and stride bits the RTL's code coverage needs (docs/verification.md)."""
    from tb.coverage.model import EXTENTS, _extent
    from tb.stimulus.constraints import STRETCH
    reached = set()
    for kind in STRETCH:
        c = Constraints.load("nightly")
        c.knobs["stretch"] = {"choices": [kind]}
        c.knobs["layers"] = {"choices": [1]}
        for seed in range(4):
            g = generate(seed, c)
            assert len(g.layers) == 2 and g.layers[-1].summary.endswith(f"(stretch {kind})")
            m = GoldenMachine()
            player = GoldenPlayer(g.trace, m)
            player.run()
            assert all(want == got for want, got in player.crcs), (kind, seed)
            reached |= _extent(m.layers[-1])
    assert reached == set(EXTENTS)


def test_a_stretched_layer_leaves_the_program_before_it_alone():
    """The stretched layer comes last and draws from a stream of its own: the smoke tier never
    stretches, and the layers before it are the program the seed drew before stretching existed
    (the seeds tests replay: 835, and 1343 with stretching off)."""
    assert Constraints.load("smoke").knobs["stretch"] == {"choices": ["none"]}
    c = Constraints.load("nightly")
    plain = Constraints.load("nightly")
    plain.knobs["stretch"] = {"choices": ["none"]}
    stretched = 0
    for seed in (835, 1343, *range(1, 12)):
        g, h = generate(seed, c), generate(seed, plain)
        n = len(h.layers)
        assert [la.summary for la in g.layers[:n]] == [la.summary for la in h.layers], seed
        assert all("(stretch" not in la.summary for la in h.layers)
        if len(g.layers) == n:
            assert [repr(x) for x in g.trace.commands] == [repr(x) for x in h.trace.commands], seed
            assert g.trace.dats == h.trace.dats
        else:
            stretched += 1
            assert "(stretch" in g.layers[-1].summary
    assert 3 <= stretched <= 10


def test_paced_byte_per_kernel_moves_only_that_register_up_to_nvdlas_limit():
    """The byte_per_kernel knob draws from a stream of its own: with "paced" a seed's program is
    the R*S*C one but for CDMA BYTE_PER_KERNEL (and its check_crc values, since the layout comes
    from R*S*C). Multi-group layers stay within hw.cdma_weights.pacing's limit, and those at the
    limit are one short of what the checker refuses: the generator's bound is NVDLA's, not a
    narrower one."""
    from nvdla_int8.hw.cdma_weights import WeightLedger, pacing
    from nvdla_int8.hw.regmap import REGMAP

    bpk_reg = REGMAP.reg("CDMA", "D_WEIGHT_SIZE_0")
    assert Constraints.load("smoke").knobs["byte_per_kernel"] == {"choices": ["rsc"]}
    paced, plain = Constraints.load("nightly"), Constraints.load("nightly")
    paced.knobs["byte_per_kernel"] = {"choices": ["paced"]}
    plain.knobs["byte_per_kernel"] = {"choices": ["rsc"]}
    seen = set()
    for seed in range(40):
        g, h = generate(seed, paced), generate(seed, plain)
        assert len(g.trace.commands) == len(h.trace.commands) and g.trace.dats == h.trace.dats
        for a, b in zip(g.trace.commands, h.trace.commands):
            assert a == b or (a.op == "reg_write" and a.args[0] is bpk_reg), (seed, a, b)
        machine = GoldenMachine()
        GoldenPlayer(g.trace, machine).run()
        for la, ran in zip(g.layers, machine.layers):
            if la.kind != "conv":
                continue
            regs = {(r.unit, r.name): v for r, v in la.prog.writes}
            get = lambda u, r, f: REGMAP.reg(u, r).field(f).get(regs[(u, r)])  # noqa: E731
            p = ran.conv
            bpk, rsc = get("CDMA", "D_WEIGHT_SIZE_0", "BYTE_PER_KERNEL") + 1, p.kernel_h * p.kernel_w * p.channels
            pace = pacing(p.kernels, rsc, get("CDMA", "D_WEIGHT_BYTES", "WEIGHT_BYTES"),
                          get("CDMA", "D_BANK", "WEIGHT_BANK") + 1)
            if pace is None:
                if bpk != rsc:
                    seen.add("one group, below" if bpk < rsc else "one group, above")
                continue
            assert rsc <= bpk <= pace.limit, (seed, la.summary)
            if bpk == pace.limit > rsc:
                seen.add("at the limit")
                over = {**regs, ("CDMA", "D_WEIGHT_SIZE_0"): bpk_reg.encode(BYTE_PER_KERNEL=bpk)}
                get_over = lambda u, r, f: REGMAP.reg(u, r).field(f).get(over[(u, r)])  # noqa: E731
                assert WeightLedger().conv_layer("L", get) == []
                assert "NVDLA's RTL hangs" in WeightLedger().conv_layer("L", get_over)[0]
            elif bpk > rsc:
                seen.add("between")
    assert {"one group, below", "one group, above", "at the limit", "between"} <= seen
