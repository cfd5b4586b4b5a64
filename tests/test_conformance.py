"""The conformance replay on the golden model: every trace of the suite passes, and broken traces fail."""
import gzip
import json
import re
import shutil


from nvdla_int8.cli import main
from nvdla_int8.conformance import closing_line, find_traces, format_line
from nvdla_int8.golden.replay import replay_traces


def test_all_conformance_traces_pass_on_golden(traces_dir):
    paths = find_traces([traces_dir])
    assert len(paths) >= 151
    failed = [f"{o.name}: {o.message}" for o in replay_traces(paths) if not o.passed]
    assert not failed, "\n".join(failed)


def _copy(traces_dir, name, tmp_path):
    src = next(traces_dir.rglob(f"{name}.cfg")).parent
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst / f"{name}.cfg"


def test_corrupted_expected_crc_fails(traces_dir, tmp_path):
    cfg = _copy(traces_dir, "sdp_3x3x33_bn_int8_reg_0", tmp_path)
    cfg.write_text(cfg.read_text().replace("0xb81f461a", "0xb81f461b"))
    (o,) = replay_traces([cfg])
    assert not o.passed and o.expected_crc == "0xb81f461b" and o.crc == "0xb81f461a"
    assert "CRC of" in o.message


def test_changed_input_byte_fails(traces_dir, tmp_path):
    cfg = _copy(traces_dir, "sdp_8x8x32_bypass_int8_1", tmp_path)  # identity SDP: every input byte shows
    packed = cfg.parent / "SDP_0_input.dat.gz"  # stored compressed (vectors/README.md)
    text = gzip.decompress(packed.read_bytes()).decode()
    packed.unlink()
    m = re.search(r"payload:0x([0-9a-fA-F]{2})", text)
    flipped = f"{int(m.group(1), 16) ^ 0x01:02x}"
    (cfg.parent / "SDP_0_input.dat").write_text(text[:m.start(1)] + flipped + text[m.end(1):])
    (o,) = replay_traces([cfg])
    assert not o.passed


def test_missing_interrupt_and_unknown_sync_fail(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text("mem_init(pri_mem, 0x0, 0x8, ALL_ZERO);\nintr_notify(SDP_0, s0);\n"
                   "check_crc(s0, 1, 0x0, 0x8, 0x0);\n")
    (o,) = replay_traces([cfg])
    assert not o.passed and "SDP_0 never arrived" in o.message


def test_malformed_trace_is_one_failure_line(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("reg_write(NVDLA_SDP.D_CVT_SHIFT_0 0x1);\n")
    (o,) = replay_traces([cfg])
    assert not o.passed and o.message.startswith(f"{cfg}:1: ")


def test_cli_report_shape(traces_dir, tmp_path, capsys):
    cfg = next(traces_dir.rglob("dc_1x1x8_1x1x8x1_int8_0.cfg"))
    report = tmp_path / "r.json"
    assert main(["replay", "--report", str(report), str(cfg)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "1 passed, 0 failed"
    assert out[0].startswith("dc_1x1x8_1x1x8x1_int8_0") and " PASS " in out[0]
    r = json.loads(report.read_text())
    assert r["backend"] == "golden" and r["passed"] == 1 and r["failed"] == 0
    (t,) = r["traces"]
    assert t["name"] == "dc_1x1x8_1x1x8x1_int8_0" and t["status"] == "PASS"
    assert t["expected_crc"] == t["crc"] == "0x8f68a2ae" and isinstance(t["seconds"], float)


def test_cli_bad_path_is_one_line(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not a trace (.cfg) or a folder" in err


def test_check_file_compares_memory_with_a_dat(tmp_path):
    (tmp_path / "in.dat").write_text("{\n{offset:0x0, size:4, payload:0x01 0x02 0x00 0x04} ,\n}\n")
    # the file's gaps count as zero bytes, like never-written memory
    (tmp_path / "want.dat").write_text("{\n{offset:0x0, size:2, payload:0x01 0x02} ,\n{offset:0x3, size:1, payload:0x04} ,\n}\n")
    (tmp_path / "bad.dat").write_text("{\n{offset:0x0, size:4, payload:0x01 0x02 0x00 0x05} ,\n}\n")
    head = ('mem_load(pri_mem, 0x100, "in.dat");\nreg_write(NVDLA_GLB.S_INTR_SET_0, 0x1);\n'
            "intr_notify(SDP_0, s0);\n")
    for name, fname, ok in (("good", "want.dat", True), ("bad", "bad.dat", False)):
        cfg = tmp_path / f"{name}.cfg"
        cfg.write_text(head + f'check_file(s0, pri_mem, 0x100, 0x4, "{fname}");\n')
        (o,) = replay_traces([cfg])
        assert o.passed is ok, o.message
    assert "differs from bad.dat at 0x103: 0x04, expected 0x05" in o.message


def test_nvdla_rules_vectors_pass_on_golden_and_regenerate_identically(tmp_path):
    """vectors/nvdla-rules (1x1 cubes with unpacked strides, PER_KERNEL operands with NVDLA's
    strides and others, conv after conv, BYTE_PER_KERNEL other than R*S*C, the findings' two old
    hang corners) replay on the golden model with nothing to say of NVDLA's RTL (but bpk_59's
    race), and tools/gen_nvdla_rules.py writes the same files again."""
    import filecmp
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    committed = root / "vectors" / "nvdla-rules"
    paths = find_traces([committed])
    assert len(paths) == 35
    outcomes = list(replay_traces(paths))
    failed = [f"{o.name}: {o.message}" for o in outcomes if not o.passed]
    assert not failed, "\n".join(failed)
    warned = [f"{o.name}: {o.nvdla_warning}" for o in outcomes if o.nvdla_warning]
    assert warned == ["bpk_59: layer 0 (conv): NVDLA_CDMA.D_WEIGHT_SIZE_0_0.BYTE_PER_KERNEL = 58: below R*S*C - 1 = 59, "
                      "so NVDLA's CDMA hands the CSC kernel groups before all their weights are fetched; NVDLA's RTL "
                      "computes differently where the CSC reads them first"]
    subprocess.run([sys.executable, "tools/gen_nvdla_rules.py", str(tmp_path)], cwd=root, check=True,
                   capture_output=True)
    for p in paths:
        fresh = tmp_path / p.relative_to(committed)
        files = sorted(f.name for f in p.parent.iterdir())
        assert sorted(f.name for f in fresh.parent.iterdir()) == files
        _, mismatch, errors = filecmp.cmpfiles(p.parent, fresh.parent, files, shallow=False)
        assert not mismatch and not errors, (p.parent.name, mismatch, errors)


def test_a_conv_layer_nvdla_would_compute_differently_passes_and_says_so(tmp_path):
    """conv_after_conv s3 (its conv layers keep one D_BANK) with the first layer's D_WEIGHT_BYTES
    rounded up to 128, as NVDLA's one-layer traces do: NVDLA's RTL computes its second layer
    differently (docs/nvdla-rules.md §5); the golden model still computes it right (same CRCs), and
    the outcome names the layer and field. The untouched trace has nothing to say."""
    from pathlib import Path
    from nvdla_int8.trace.trace import Trace
    from tests.trace_edits import pad_first_weight_bytes
    cfg = Path(__file__).resolve().parents[1] / "vectors/nvdla-rules/conv_after_conv/conv_after_conv_s3/conv_after_conv_s3.cfg"
    [clean] = replay_traces([cfg])
    assert clean.passed and clean.nvdla_warning == ""
    t = Trace.load(cfg)
    padded = pad_first_weight_bytes(t)
    [o] = replay_traces([t.save(tmp_path)])
    assert o.passed and o.crc == clean.crc, o.message
    assert o.nvdla_warning == (f"layer 0 (conv): NVDLA_CDMA.D_WEIGHT_BYTES_0 = {padded}: 1 CBUF entries past its 120 "
                               "weight bytes stay in CBUF and shift the weights of the next conv layer, layer 1 "
                               "(conv), which keeps its D_BANK; program 120")
    assert "[NVDLA's RTL: layer 0 (conv)" in format_line(o)
    assert closing_line([clean, o]).endswith("2 passed, 0 failed; 1 that NVDLA's own RTL may compute "
                                             "differently or hang on")


def test_a_byte_per_kernel_nvdla_hangs_on_passes_and_says_so(tmp_path):
    """BYTE_PER_KERNEL paces NVDLA's CDMA reports to the CSC but not the layout (docs/nvdla-rules.md
    §7): per_kernel_s1 (K 19, R*S*C 60, D_WEIGHT_BYTES 1144) with BPK 68 ran on NVDLA's RTL with the
    BPK-60 CRC, with BPK 120 it hung. The golden model computes both (same CRC) and says so of 120 only."""
    from pathlib import Path
    from nvdla_int8.trace.trace import Trace
    cfg = Path(__file__).resolve().parents[1] / "vectors/nvdla-rules/per_kernel/per_kernel_s1/per_kernel_s1.cfg"
    [clean] = replay_traces([cfg])
    outcomes = {}
    for bpk in (68, 120):
        t = Trace.load(cfg)
        assert t.rewrite_writes("NVDLA_CDMA.D_WEIGHT_SIZE_0_0", lambda _, v: bpk - 1) == 1
        (tmp_path / str(bpk)).mkdir()
        [outcomes[bpk]] = replay_traces([t.save(tmp_path / str(bpk))])
    assert all(o.passed and o.crc == clean.crc for o in outcomes.values())
    assert outcomes[68].nvdla_warning == ""
    assert outcomes[120].nvdla_warning == (
        "layer 0 (conv): NVDLA_CDMA.D_WEIGHT_SIZE_0_0.BYTE_PER_KERNEL = 119: NVDLA's CDMA hands the CSC its "
        "last-but-one kernel group after 1920 bytes, but fetches 1144 (D_WEIGHT_BYTES); NVDLA's RTL hangs")


def test_a_byte_per_kernel_past_the_weight_banks_passes_and_says_nvdla_hangs(tmp_path):
    """vectors/nvdla-rules/bpk/bpk_528_wb14400 (K 32 in 4 groups of 2240 bytes through 2 weight banks,
    14400 weight bytes): NVDLA's RTL ran BPK 528 and hung on 529, whose last-but-one report waits for
    3 * 8 * 529 bytes while the banks hold 8192 beyond the 2 groups released (docs/nvdla-rules.md §7)."""
    from pathlib import Path
    from nvdla_int8.trace.trace import Trace
    cfg = Path(__file__).resolve().parents[1] / "vectors/nvdla-rules/bpk/bpk_528_wb14400/bpk_528_wb14400.cfg"
    [clean] = replay_traces([cfg])
    assert clean.passed and clean.nvdla_warning == ""
    t = Trace.load(cfg)
    assert t.rewrite_writes("NVDLA_CDMA.D_WEIGHT_SIZE_0_0", lambda _, v: v + 1) == 1
    [o] = replay_traces([t.save(tmp_path)])
    assert o.passed and o.crc == clean.crc, o.message
    assert o.nvdla_warning == (
        "layer 0 (conv): NVDLA_CDMA.D_WEIGHT_SIZE_0_0.BYTE_PER_KERNEL = 528: NVDLA's CDMA hands the CSC its "
        "last-but-one kernel group after 12696 bytes, but its 2 weight banks hold 8192 bytes beyond the 4480 of "
        "the groups released before; NVDLA's RTL hangs")


def test_an_input_cube_its_data_banks_cannot_hold_passes_and_says_nvdla_hangs(tmp_path):
    """NVDLA's dc_35x22x54 (input 5390 CBUF entries) ran on NVDLA's RTL with 11 data banks and hung
    with 10 (docs/nvdla-rules.md §8); the golden model computes both and says so of 10 only."""
    from nvdla_int8.trace.trace import Trace
    from tests.suite import CONFORMANCE, require
    [cfg] = find_traces([require(CONFORMANCE) / "nv_small" / "dc_35x22x54_6x8x54x29_int8_0"])
    outcomes = {}
    for banks in (11, 10):
        t = Trace.load(cfg)
        for unit in ("CDMA", "CSC"):
            assert t.rewrite_writes(f"NVDLA_{unit}.D_BANK_0", lambda r, v: r.field("DATA_BANK").put(v, banks - 1)) == 1
        (tmp_path / str(banks)).mkdir()
        [outcomes[banks]] = replay_traces([t.save(tmp_path / str(banks))])
    assert all(o.passed for o in outcomes.values()), [o.message for o in outcomes.values()]
    assert outcomes[11].nvdla_warning == ""
    assert outcomes[10].nvdla_warning == (
        "layer 0 (conv): NVDLA_CDMA.D_BANK_0.DATA_BANK = 9: the 35x22x54 input cube is 5390 CBUF entries, more "
        "than the 5120 of 10 data banks; NVDLA's RTL hangs")
