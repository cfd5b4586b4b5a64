"""Lowering splits what does not fit CBUF into legal passes with the same result; the legality
checker rejects hand-made illegal programs."""
from __future__ import annotations

import numpy as np
import pytest

from nvdla_int8.lower.program_run import run_golden
from nvdla_int8.graph.ir import ConvLayer
from nvdla_int8.lower.legality import check_program
from nvdla_int8.lower.passes import _program, lower_layer
from nvdla_int8.quantize.network import quantize_layer
from nvdla_int8.hw.regmap import REGMAP


def _qlayer(c=64, h=48, w=48, k=20, r=3, mode="per-kernel", act=None, stride=(1, 1)):
    rng = np.random.default_rng(1)
    ho = (h + 2 - r) // stride[0] + 1
    wo = (w + 2 - r) // stride[1] + 1
    layer = ConvLayer("big", "Conv", "x", "y", rng.normal(0, 0.1, (k, c, r, r)), rng.normal(0, 0.1, k), (c, h, w),
                      (k, ho, wo), stride=stride, pads=(1, 1, 1, 1), act=act)
    return quantize_layer(layer, 0.02, 0.05, mode, None)


def test_small_layer_is_one_legal_pass():
    progs = lower_layer(_qlayer(c=8, h=6, w=5, k=10))
    assert len(progs) == 1 and check_program(progs[0].writes) == []


@pytest.mark.parametrize("mode,stride", [("per-kernel", (1, 1)), ("per-filter", (2, 1))])
def test_split_layer_matches_unsplit(mode, stride):
    q = _qlayer(mode=mode, stride=stride)
    progs = lower_layer(q)
    assert len(progs) > 1
    x = np.random.default_rng(2).integers(-128, 128, q.layer.in_shape).astype(np.int8)
    y = np.zeros(q.layer.out_shape, dtype=np.int8)
    for p in progs:
        assert check_program(p.writes) == [], p.name
        win, _, _ = run_golden(p, x)
        y[p.window["k0"]:p.window["k1"], p.window["y0"]:p.window["y1"]] = win
    k, ho = q.layer.out_shape[0], q.layer.out_shape[1]
    whole = _program(q, (0, k, 0, ho), "whole")
    assert any("CBUF" in v for v in check_program(whole.writes))  # too big for one pass...
    ref, _, _ = run_golden(whole, x)  # ...but the golden model computes it anyway
    assert np.array_equal(y, ref)


@pytest.mark.parametrize("mode,stride", [("per-kernel", (1, 1)), ("per-filter", (1, 2))])
def test_width_split_matches_unsplit(mode, stride):
    """64 channels x 700 columns: three input rows of one output row need 16800 CBUF entries,
    more than the 31 data banks hold, so no kernel/row split fits. The column passes (with their
    halo columns) must give exactly the unsplit computation."""
    q = _qlayer(c=64, h=3, w=700, k=8, mode=mode, stride=stride)
    progs = lower_layer(q)
    assert len({(p.window["x0"], p.window["x1"]) for p in progs}) > 1
    x = np.random.default_rng(3).integers(-128, 128, q.layer.in_shape).astype(np.int8)
    y = np.zeros(q.layer.out_shape, dtype=np.int8)
    written = np.zeros(q.layer.out_shape, dtype=int)
    for p in progs:
        assert check_program(p.writes) == [], p.name
        win, _, _ = run_golden(p, x)
        sl = (slice(p.window["k0"], p.window["k1"]), slice(p.window["y0"], p.window["y1"]),
              slice(p.window["x0"], p.window["x1"]))
        y[sl] = win
        written[sl] += 1
    assert (written == 1).all()  # every output element by exactly one pass
    k, ho, wo = q.layer.out_shape
    whole = _program(q, (0, k, 0, ho), "whole")
    assert any("CBUF" in v for v in check_program(whole.writes))
    ref, _, _ = run_golden(whole, x)
    assert np.array_equal(y, ref)


def _mutate(writes, unit, reg, **fields):
    r = REGMAP.reg(unit, reg)
    out = []
    for rr, v in writes:
        if rr is r:
            for f, val in fields.items():
                v = r.field(f).put(v, val)
        out.append((rr, v))
    return out


@pytest.mark.parametrize("unit,reg,fields,needle", [
    ("CACC", "D_CLIP_CFG", {"CLIP_TRUNCATE": 17}, "CLIP_TRUNCATE"),
    ("CDMA", "D_DATAIN_SIZE_0", {"DATAIN_WIDTH": 3}, "copies must agree"),
    ("CDMA", "D_BANK", {"DATA_BANK": 31}, "exceed"),
    ("CSC", "D_BANK", {"DATA_BANK": 5}, "copies must agree"),
    ("SDP", "D_DP_BS_MUL_CFG", {"BS_MUL_SHIFT_VALUE": 0x45}, "6 bits"),
    ("SDP_RDMA", "D_BRDMA_CFG", {"BRDMA_DISABLE": 1}, "disabled"),
    ("CSC", "D_MISC_CFG", {"PROC_PRECISION": 1}, "PROC_PRECISION"),
    ("CSC", "D_ATOMICS", {"ATOMICS": 5}, "ATOMICS"),
    ("CDMA", "D_ENTRY_PER_SLICE", {"ENTRIES": 1}, "ENTRY_PER_SLICE"),
    # what nv_small lacks or reads differently (shared/nvdla-rtl-findings.md)
    ("CDMA", "D_DAIN_RAM_TYPE", {"DATAIN_RAM_TYPE": 0}, "DATAIN_RAM_TYPE = 0 selects CVIF"),
    ("CDMA", "D_WEIGHT_RAM_TYPE", {"WEIGHT_RAM_TYPE": 0}, "WEIGHT_RAM_TYPE = 0 selects CVIF"),
    ("SDP", "D_DST_DMA_CFG", {"DST_RAM_TYPE": 0}, "DST_RAM_TYPE = 0 selects CVIF"),
    ("SDP_RDMA", "D_BRDMA_CFG", {"BRDMA_RAM_TYPE": 0}, "BRDMA_RAM_TYPE = 0 selects CVIF"),
    ("SDP", "D_DP_EW_CFG", {"EW_BYPASS": 0}, "no EW (X3) stage"),
    ("SDP_RDMA", "D_ERDMA_CFG", {"ERDMA_DISABLE": 0}, "no EW operand DMA"),
    ("CDMA", "D_LINE_STRIDE", {"LINE_STRIDE": 48}, "LINE_PACKED = 1 but the line stride 0x30"),
    ("CSC", "D_RELEASE", {"RLS_SLICES": 6}, "releases 7 slices of an input 6 high"),
])
def test_checker_rejects_illegal_programs(unit, reg, fields, needle):
    prog = lower_layer(_qlayer(c=8, h=6, w=5, k=10, mode="per-filter"))[0]
    assert check_program(prog.writes) == []  # the mutation alone makes it illegal
    bad = check_program(_mutate(prog.writes, unit, reg, **fields))
    assert any(needle in v for v in bad), bad


def test_one_output_channel_dilated_both_ways_and_per_kernel_strides_are_legal():
    """Two rules drawn from the findings' failures are gone (docs/nvdla-rules.md §4): replayed on
    NVDLA's RTL under check_sequence's rules, one output channel with a 2x2 or 7x7 kernel dilated
    2x2 and PER_KERNEL operand strides 48/112 (smoke seed 91's layer) compute as the golden model
    does, alone and after a conv layer. The checker takes them; it still refuses a bad output size."""
    from nvdla_int8.golden.program import ConvParams, encode_conv
    from nvdla_int8.hw.layouts import Surface
    from nvdla_int8.trace.program import RegisterProgram
    prog = lower_layer(_qlayer(c=8, h=6, w=5, k=1, r=1, mode="per-filter"))[0]

    def with_geometry(k, dx, dy, out_h=4):
        p = RegisterProgram(list(prog.writes))
        encode_conv(p, ConvParams(width=5, height=6, channels=8, kernels=k, kernel_w=2, kernel_h=2, out_w=5 - dx,
                                  out_h=out_h, stride_x=1, stride_y=1, dilation_x=dx, dilation_y=dy, pad_left=0,
                                  pad_top=0, pad_value=0, feature=Surface(0x1000, 40, 240), weight_base=0x8000,
                                  cvt_en=False, cvt_offset=0, cvt_scale=0, cvt_truncate=0, clip_truncate=0))
        # encode_conv leaves the SDP's cube size to the layer's own SDP program: those copies differ
        return [v for v in check_program(p.writes) if "NVDLA_SDP." not in v]
    assert with_geometry(1, 2, 2) == [] and with_geometry(1, 1, 2) == [] and with_geometry(2, 2, 2) == []
    assert any("output height 3 does not follow" in v for v in with_geometry(1, 2, 2, out_h=3))
    strided = _mutate(_mutate(prog.writes, "SDP_RDMA", "D_BS_LINE_STRIDE", BS_LINE_STRIDE=48),
                      "SDP_RDMA", "D_BS_SURFACE_STRIDE", BS_SURFACE_STRIDE=112)
    assert REGMAP.reg("SDP_RDMA", "D_BRDMA_CFG").field("BRDMA_DATA_MODE").get(
        dict(prog.writes)[REGMAP.reg("SDP_RDMA", "D_BRDMA_CFG")]) == 0  # PER_KERNEL
    assert check_program(strided) == []


def test_a_one_channel_dilated_layer_lowers_to_one_legal_pass():
    """What the compiler makes of a 3x3 conv dilated 2x2 to one output channel (refused until the
    rule went; NVDLA's RTL runs such layers, docs/nvdla-rules.md §5)."""
    rng = np.random.default_rng(4)
    layer = ConvLayer("d", "Conv", "x", "y", rng.normal(0, 0.2, (1, 8, 3, 3)), rng.normal(0, 0.1, 1), (8, 12, 10),
                      (1, 12, 10), stride=(1, 1), pads=(2, 2, 2, 2), dilation=(2, 2))
    progs = lower_layer(quantize_layer(layer, 0.02, 0.05, "per-filter", None))
    assert [check_program(p.writes) for p in progs] == [[]]


def test_checker_rejects_an_unpacked_1x1_input_marked_surface_packed():
    """NVDLA's CDMA reads a 1x1 input marked SURF_PACKED as one line of channel groups 8 bytes
    apart; with another surface stride the golden model would read other bytes."""
    prog = lower_layer(_qlayer(c=20, h=1, w=1, k=4, r=1))[0]
    assert check_program(prog.writes) == []
    bad = check_program(_mutate(prog.writes, "CDMA", "D_SURF_STRIDE", SURF_STRIDE=16))
    assert any("SURF_PACKED = 1 on a 1x1 input" in v for v in bad), bad
    unhinted = _mutate(_mutate(prog.writes, "CDMA", "D_SURF_STRIDE", SURF_STRIDE=16), "CDMA", "D_DAIN_MAP", SURF_PACKED=0)
    assert check_program(unhinted) == []


def test_checker_rejects_what_a_standalone_layer_cannot_run_on_nv_small():
    import dataclasses

    from nvdla_int8.golden.program import USE_MUL, OperandStream, SdpParams, StageParams, encode_sdp
    from nvdla_int8.hw.layouts import Surface
    from nvdla_int8.lower.legality import check_sdp_program
    from nvdla_int8.trace.program import RegisterProgram
    stream = OperandStream(enabled=True, use=USE_MUL, two_byte=True, per_element=False, surface=Surface(0x3000, 16, 16))
    x1 = StageParams(name="BS", bypass=False, alu_bypass=True, alu_algo=2, alu_from_mem=False, alu_shift=0,
                     alu_operand=0, mul_bypass=False, mul_prelu=False, relu_bypass=True, mul_from_mem=True,
                     mul_shift=3, mul_operand=0, stream=stream)
    x2 = dataclasses.replace(x1, name="BN", bypass=True, stream=dataclasses.replace(stream, enabled=False))
    p = SdpParams(flying=False, width=3, height=2, channels=19, src=Surface(0x1000, 32, 96),
                  dst=Surface(0x2000, 32, 96), x1=x1, x2=x2, cvt_offset=0, cvt_scale=1, cvt_shift=0, perf_sat_en=True)
    writes = encode_sdp(RegisterProgram(), p).writes + [(REGMAP.reg(u, "D_OP_ENABLE"), 1) for u in ("SDP", "SDP_RDMA")]
    assert check_sdp_program(writes) == []
    for unit, reg, fields, needle in [
            ("SDP_RDMA", "D_SRC_DMA_CFG", {"SRC_RAM_TYPE": 0}, "SRC_RAM_TYPE = 0 selects CVIF"),
            ("SDP", "D_DST_DMA_CFG", {"DST_RAM_TYPE": 0}, "DST_RAM_TYPE = 0 selects CVIF"),
            ("SDP_RDMA", "D_BRDMA_CFG", {"BRDMA_RAM_TYPE": 0}, "BRDMA_RAM_TYPE = 0 selects CVIF"),
            ("SDP_RDMA", "D_FEATURE_MODE_CFG", {"IN_PRECISION": 1}, "IN_PRECISION = 1")]:
        bad = check_sdp_program(_mutate(writes, unit, reg, **fields))
        assert any(needle in v for v in bad), (reg, bad)
    # a disabled stream's RAM type is not used; a PER_KERNEL stream's strides are not either
    assert check_sdp_program(_mutate(writes, "SDP_RDMA", "D_NRDMA_CFG", NRDMA_RAM_TYPE=0)) == []
    assert check_sdp_program(_mutate(writes, "SDP_RDMA", "D_BS_SURFACE_STRIDE", BS_SURFACE_STRIDE=112)) == []


def test_checker_rejects_a_kernel_group_too_big_for_the_weight_banks():
    """Weights stream through the weight banks a kernel group at a time: 8 kernels x 576 bytes
    need two banks; all 10 kernels need not fit."""
    prog = lower_layer(_qlayer(c=64, h=6, w=5, k=10))[0]
    one_bank = _mutate(_mutate(prog.writes, "CDMA", "D_BANK", WEIGHT_BANK=0), "CSC", "D_BANK", WEIGHT_BANK=0)
    assert any("one kernel group's 4608 weight bytes do not fit 1 weight banks" in v for v in check_program(one_bank))
    two_banks = _mutate(_mutate(prog.writes, "CDMA", "D_BANK", WEIGHT_BANK=1), "CSC", "D_BANK", WEIGHT_BANK=1)
    assert check_program(two_banks) == []


def test_checker_accepts_every_nvdla_conv_trace(traces_dir):
    """NVDLA's own programs are legal, including the 11 whose weights stream through the banks."""
    from nvdla_int8.conformance import find_traces
    from nvdla_int8.trace import Trace

    dc = [p for p in find_traces([traces_dir]) if p.name.startswith("dc_")]
    assert len(dc) >= 72
    for path in dc:
        writes = [(c.args[0].address, c.args[1]) for c in Trace.load(path).commands if c.op == "reg_write"]
        assert check_program(writes) == [], path.stem


def test_checker_rejects_stray_bits_and_missing_start():
    prog = lower_layer(_qlayer(c=8, h=6, w=5, k=10))[0]
    r = REGMAP.reg("CACC", "D_CLIP_CFG")
    assert any("outside every field" in v for v in check_program(prog.writes + [(r, 0x100)]))
    assert any("never set" in v for v in check_program(prog.config))
    assert any("no nv_small register" in v for v in check_program(prog.writes + [(0x9ff0, 1)]))


@pytest.mark.rtl
def test_width_split_passes_are_bit_exact_on_rtl(tmp_path):
    """The column passes read a window of a wider input line (CDMA line not packed) and write
    one of a wider output line: the RTL must agree with the golden model byte for byte."""
    from nvdla_int8.lower.vectors import program_trace
    from tb.trace_runner import run_traces

    q = _qlayer(c=256, h=3, w=150, k=8, mode="per-filter", stride=(1, 2))
    progs = lower_layer(q)
    assert len(progs) == 2 and progs[1].window["x0"] > 0
    x = np.random.default_rng(3).integers(-128, 128, q.layer.in_shape).astype(np.int8)
    paths = [program_trace(p, x, f"wsplit{i}")[0].save(tmp_path) for i, p in enumerate(progs)]
    outcomes = list(run_traces(paths, work_dir=tmp_path / "rtl", stall=False))
    assert [o.passed for o in outcomes] == [True, True], [o.message for o in outcomes]


def _conv_pair(k0=10, wbanks1=1):
    """Two conv layers of one program: K = k0 (8 channels, 3x3: 72 bytes a kernel) then K = 10."""
    first = lower_layer(_qlayer(c=8, h=6, w=5, k=k0, mode="per-filter"))[0]
    second = lower_layer(_qlayer(c=8, h=6, w=5, k=10, mode="per-filter"))[0]
    second_w = _mutate(second.writes, "CDMA", "D_BANK", WEIGHT_BANK=wbanks1 - 1)
    return [("layer 0", first.writes), ("layer 1", _mutate(second_w, "CSC", "D_BANK", WEIGHT_BANK=wbanks1 - 1))]


def test_sequence_refuses_weight_bytes_past_the_weights_before_another_conv_layer():
    """NVDLA's CDMA fetches D_WEIGHT_BYTES / 8 CBUF entries, its CSC releases what it reads: the
    excess (the upstream traces' rounding to 128) shifted the next layer's weights on NVDLA's RTL
    (nightly seeds 1003, 1077). The last conv layer of a program may keep it."""
    from nvdla_int8.lower.legality import check_sequence
    pair = _conv_pair()
    assert check_program(pair[0][1]) == [] and check_sequence(pair) == []
    padded = pair[0][1]
    for unit in ("CDMA", "CSC"):  # 720 weight bytes rounded up to 128, as NVDLA's one-layer traces do
        padded = _mutate(padded, unit, "D_WEIGHT_BYTES", WEIGHT_BYTES=768)
    assert check_program(padded) == []  # legal alone
    bad = check_sequence([("layer 0", padded)] + pair[1:])
    assert len(bad) == 1 and bad[0].startswith("layer 0: NVDLA_CDMA.D_WEIGHT_BYTES_0 = 768: 6 CBUF entries"), bad
    assert check_sequence(pair[:1] + [("layer 1", padded)]) == []
    # a bank change between the layers resets NVDLA's CBUF write index (its "pending" path)
    bank = REGMAP.reg("CDMA", "D_BANK")
    [data_bank] = [bank.field("DATA_BANK").get(v) for r, v in pair[1][1] if r is bank]
    moved = pair[1][1]
    for unit in ("CDMA", "CSC"):
        moved = _mutate(moved, unit, "D_BANK", DATA_BANK=data_bank + 1)
    assert check_program(moved) == [] and check_sequence([("layer 0", padded), ("layer 1", moved)]) == []


def test_sequence_refuses_weight_banks_without_room_for_the_weights_before():
    """NVDLA's CDMA may not count the release of earlier layers' weights (nvdla/hw#235): a conv
    layer's weight banks must hold them and its own (nightly seeds 1021, 1108, 1122, 1139, 1155
    hung on NVDLA's RTL without it)."""
    from nvdla_int8.lower.legality import check_sequence
    assert check_sequence(_conv_pair(k0=10, wbanks1=1)) == []  # 90 + 90 entries fit one bank
    bad = check_sequence(_conv_pair(k0=60, wbanks1=1))  # 540 + 90 do not
    assert len(bad) == 1 and "layer 1: NVDLA_CDMA.D_BANK_0.WEIGHT_BANK = 0: its 90 weight entries and the 540" in bad[0]
    assert check_sequence(_conv_pair(k0=60, wbanks1=2)) == []


def test_a_multi_pass_layer_gets_weight_banks_for_the_passes_before():
    """NVDLA's CDMA may never count the release of a pass's weights (nvdla/hw#235): where CBUF has
    room, a later pass's weight banks also hold every earlier pass's weight entries, so NVDLA's
    RTL runs the layer's trace (a compiled dw_separable layer hung in its eighth pass without)."""
    from nvdla_int8.lower.legality import check_sequence
    big = _qlayer()  # 2 passes of 20 kernels x 64 channels x 3x3 = 1440 weight entries each
    progs = lower_layer(big)
    assert [p.cbuf["weight_banks"] for p in progs] == [2, 6]  # 2: one group streams; 6: 2880 / 512 entries
    assert check_sequence([(p.name, p.writes) for p in progs]) == []
    assert all(check_program(p.writes) == [] for p in progs)


def test_a_multi_pass_layer_without_that_room_says_nvdla_may_hang_on_it():
    """Where CBUF has no room for the earlier passes' weights, the manifest names the sequence rule
    the layer's trace breaks (build_vectors, "nvdla_rtl_may_hang"); a one-pass layer has nothing to say."""
    from nvdla_int8.lower.vectors import nvdla_sequence_problem
    wide = _qlayer(c=64, h=96, w=96, k=64)  # 4608 weight entries a pass, 30 data banks in most passes
    progs = lower_layer(wide)
    assert len(progs) > 1 and "WEIGHT_BANK = 1: its 4608 weight entries" in nvdla_sequence_problem(wide.layer, progs)
    small = _qlayer(c=8, h=6, w=5, k=10)
    assert nvdla_sequence_problem(small.layer, lower_layer(small)) is None


def test_a_flagged_layer_also_gets_one_trace_per_pass_that_computes_its_window(tmp_path):
    """For NVDLA's trace players, a layer whose one trace may hang there also gets each pass as a
    trace of its own (from reset); each writes the same window the layer trace computes for it,
    sharing the layer trace's weight and operand files."""
    from nvdla_int8.golden.replay import GoldenPlayer
    from nvdla_int8.lower.program_run import window_slices
    from nvdla_int8.lower.vectors import layer_trace, nvdla_sequence_problem, pass_traces
    from nvdla_int8.trace.trace import Trace
    q = _qlayer(c=256, h=16, w=32, k=32)  # 2 passes, no CBUF room for the first one's weights
    progs = lower_layer(q)
    assert len(progs) == 2 and nvdla_sequence_problem(q.layer, progs)
    x = np.random.default_rng(4).integers(-128, 128, q.layer.in_shape).astype(np.int8)
    layer, y, li = layer_trace(progs, x, "L00_big", None, {"input": "T000_x.dat"})
    layer.save(tmp_path)
    written = set(layer.dats)
    names = pass_traces(progs, x, None, "L00_big", {"input": "T000_x.dat"}, written, tmp_path, "big")
    assert names == ["L00_big_pass0.cfg", "L00_big_pass1.cfg"]
    assert sorted(p.name for p in tmp_path.glob("*.dat")) == sorted(layer.dats)  # no copies
    surf, shape = li.output
    for name, prog in zip(names, progs):
        player = GoldenPlayer(Trace.load(tmp_path / name))
        player.run()
        assert not player.failures, player.failures
        got = surf.read_cube(player.m.memory, *shape).view(np.int8)
        win = window_slices(prog.window, prog.output_shape)
        assert np.array_equal(got[win], y[win])


def test_byte_per_kernel_is_judged_as_nvdla_paces_its_cdma_by_it():
    """BYTE_PER_KERNEL leaves the layout to R*S*C and only paces NVDLA's CDMA reports to the CSC
    (docs/nvdla-rules.md §7): a larger one is legal until the last-but-one report waits for more
    than D_WEIGHT_BYTES (NVDLA hangs), a smaller one races the fetch; a weight count that is not
    whole entries hangs NVDLA, one below K*R*S*C misses weights."""
    from nvdla_int8.lower.legality import check_sequence
    prog = lower_layer(_qlayer(c=8, h=6, w=5, k=10, mode="per-filter"))[0]
    field = lambda reg, f: [REGMAP.reg("CDMA", reg).field(f).get(v)  # noqa: E731
                            for r, v in prog.writes if r is REGMAP.reg("CDMA", reg)][-1]
    rsc = field("D_WEIGHT_SIZE_0", "BYTE_PER_KERNEL") + 1
    wbytes = field("D_WEIGHT_BYTES", "WEIGHT_BYTES")
    assert wbytes == 10 * rsc  # two kernel groups: one report before the last

    def judged(**fields):
        writes = prog.writes
        for reg, values in fields.items():
            for unit in ("CDMA", "CSC") if reg == "D_WEIGHT_BYTES" else ("CDMA",):
                writes = _mutate(writes, unit, reg, **values)
        return check_program(writes), check_sequence([("layer 0", writes)])

    largest = wbytes // 8  # 8 * BPK bytes before the second group's report
    assert judged(D_WEIGHT_SIZE_0={"BYTE_PER_KERNEL": largest - 1}) == ([], [])
    _, seq = judged(D_WEIGHT_SIZE_0={"BYTE_PER_KERNEL": largest})
    assert len(seq) == 1 and seq[0].endswith(f"after {8 * (largest + 1)} bytes, but fetches {wbytes} "
                                             "(D_WEIGHT_BYTES); NVDLA's RTL hangs"), seq
    _, seq = judged(D_WEIGHT_SIZE_0={"BYTE_PER_KERNEL": rsc - 2})
    assert len(seq) == 1 and f"below R*S*C - 1 = {rsc - 1}" in seq[0], seq
    _, seq = judged(D_WEIGHT_BYTES={"WEIGHT_BYTES": wbytes + 4})
    assert len(seq) == 1 and "not a multiple of the 8-byte CBUF entry" in seq[0], seq
    single, _ = judged(D_WEIGHT_BYTES={"WEIGHT_BYTES": wbytes - 8})
    assert any(f"less than the {wbytes} weight bytes of K*R*S*C" in v for v in single), single


def test_paced_limits_are_the_boundaries_measured_on_nvdlas_rtl():
    """hw.cdma_weights.pacing against the two boundaries NVDLA's RTL showed
    (docs/nvdla-rules.md §7): per_kernel_s1 (K 19, R*S*C 60, 1144 weight bytes, 1 weight bank)
    runs BPK 71 and hangs at 72 (the fetch bound); the streamed dc_11x21x40 (K 32, R*S*C 280,
    14400 weight bytes, 2 weight banks) runs 528 and hangs at 529 (the weight-bank bound). One
    kernel group has no bound: its only report waits for D_WEIGHT_BYTES."""
    from nvdla_int8.hw.cdma_weights import pacing
    one = pacing(19, 60, 1144, 1)
    assert one.fetch_limit == 71 < one.bank_limit
    streamed = pacing(32, 280, 14400, 2)
    assert streamed.bank_limit == 528 < streamed.fetch_limit
    assert pacing(8, 60, 480, 1) is None
