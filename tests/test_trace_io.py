"""Trace reader/writer: round trips of the conformance traces, compressed images, and clear errors
on bad input."""
import gzip
import shutil

import numpy as np
import pytest

from nvdla_int8.errors import InputError
from nvdla_int8.trace import SparseMemory, Trace, apply_memory_command, parse_cfg, parse_dat
from nvdla_int8.trace.dat import DatEntry, entries_from_array, format_dat, read_dat


def _image(trace: Trace) -> SparseMemory:
    mem = SparseMemory()
    for c in trace.commands:
        apply_memory_command(trace, c, mem)
    return mem


def test_every_conformance_trace_round_trips(traces_dir, tmp_path):
    cfgs = sorted(traces_dir.rglob("*.cfg"))
    assert len(cfgs) >= 151
    for cfg in cfgs[::7]:  # a spread of both folders; all of them are replayed in test_conformance
        t = Trace.load(cfg)
        out = t.save(tmp_path / t.name)
        back = Trace.load(out)
        assert back.commands == t.commands, cfg
        assert back.dats == t.dats, cfg
        assert _image(back) == _image(t), cfg


def test_upper_case_and_unwrapped_dat_style():
    text = "{offset:0x0, size:4, payload:0xEE 0x20 0x18 0x57},\n{offset:0x20, size:2, payload:0x01}"
    assert parse_dat(text) == [DatEntry(0, bytes([0xEE, 0x20, 0x18, 0x57])), DatEntry(0x20, bytes([1, 0]))]


def test_dat_numbers_follow_upstream_rules():
    # octal with a leading 0, decimal otherwise; a short payload is padded with zeros
    assert parse_dat("{offset:010, size:3, payload:0x01 0x02}") == [DatEntry(8, bytes([1, 2, 0]))]


def test_cfg_comments_case_and_decimal():
    cmds = parse_cfg("// c\n\nreg_write(NVDLA_SDP.D_CVT_SHIFT_0, 0X1F); // trailing\n"
                     "check_crc(sync_id_0, 1, 0xa0000000, 8, 0x9F5EDD58);\nreg_write(NVDLA_SDP.D_CVT_SCALE_0, 0);\n")
    assert [c.op for c in cmds] == ["reg_write", "check_crc", "reg_write"]
    assert cmds[0].args[1] == 0x1F and cmds[1].args[4] == 0x9F5EDD58 and cmds[2].args[1] == 0
    assert cmds[1].line == 4


@pytest.mark.parametrize("line,msg", [
    ("reg_write(NVDLA_SDP.D_CVT_SHIFT_0, 0x1)", "not a trace command"),
    ("reg_poke(NVDLA_SDP.D_CVT_SHIFT_0, 0x1);", "unknown trace command 'reg_poke'"),
    ("reg_write(NVDLA_SDP.D_NOPE_0, 0x1);", "has no register D_NOPE"),
    ("reg_write(NVDLA_PDP.D_OP_ENABLE_0, 0x1);", "unknown NVDLA unit 'PDP'"),
    ("reg_write(NVDLA_SDP.D_CVT_SHIFT_0);", "takes 2 arguments, got 1"),
    ("reg_write(NVDLA_SDP.D_CVT_SHIFT_0, zz);", "expected a number"),
    ("mem_init(pri_mem, 0x0, 0x10, STRIPES);", "unknown mem_init pattern"),
    ("mem_load(pri_mem, 0x0, file.dat);", 'expected a "file" name'),
])
def test_bad_cfg_lines_name_file_and_line(line, msg):
    with pytest.raises(InputError, match=msg) as e:
        parse_cfg(f"// header\n{line}\n", "t.cfg")
    assert str(e.value).startswith("t.cfg:2: ")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("line,msg", [
    ("{offset:0x0, size:2}", "expected 'offset:N, size:N, payload"),
    ("{offset:0x0, size:2, bytes:0x01}", "expected keys offset, size, payload"),
    ("{offset:0xZ, size:1, payload:0x01}", "bad number"),
    ("{offset:0x0, size:1, payload:0x100}", "out of range"),
])
def test_bad_dat_lines_name_file_and_line(line, msg):
    with pytest.raises(InputError, match=msg) as e:
        parse_dat("{\n" + line + "\n}\n", "x.dat")
    assert str(e.value).startswith("x.dat:2: ")


def test_missing_dat_file_is_reported(tmp_path):
    (tmp_path / "t.cfg").write_text('mem_load(pri_mem, 0x0, "gone.dat");\n')
    with pytest.raises(InputError, match=r"t.cfg:1: mem_load names 'gone.dat'"):
        Trace.load(tmp_path / "t.cfg")


DAT = "{\n{offset:0x0, size:4, payload:0x01 0x02 0x00 0x04} ,\n{offset:0x10, size:1, payload:0xff} ,\n}\n"
CFG = 'mem_load(pri_mem, 0x100, "in.dat");\n'


def test_dat_gz_reads_like_dat(tmp_path):
    """A trace naming "in.dat" loads "in.dat.gz" when only that is there, with the same entries;
    the plain file wins when both are there."""
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    for d in (plain, packed):
        d.mkdir()
        (d / "t.cfg").write_text(CFG)
    (plain / "in.dat").write_text(DAT)
    (packed / "in.dat.gz").write_bytes(gzip.compress(DAT.encode()))
    a, b = Trace.load(plain / "t.cfg"), Trace.load(packed / "t.cfg")
    assert a.dats == b.dats == {"in.dat": [DatEntry(0, bytes([1, 2, 0, 4])), DatEntry(0x10, b"\xff")]}
    assert read_dat(packed / "in.dat.gz") == read_dat(plain / "in.dat")
    (packed / "in.dat").write_text(DAT.replace("0xff", "0x7f"))
    assert Trace.load(packed / "t.cfg").dats["in.dat"][1].data == b"\x7f"


@pytest.mark.parametrize("content, words", [
    (b"not gzip at all", "not a readable gzip file"),
    (gzip.compress(DAT.encode(), mtime=0)[:-9], "not a readable gzip file"),  # truncated stream
    (gzip.compress(b"\xff\xfe", mtime=0), "not an ASCII .dat file"),
    (gzip.compress(b"{\n{offset:0x0, size:2}\n}\n", mtime=0), "expected 'offset:N"),
], ids=["not-gzip", "truncated", "not-ascii", "bad-line"])
def test_bad_dat_gz_is_one_line_error(tmp_path, content, words):
    (tmp_path / "t.cfg").write_text(CFG)
    (tmp_path / "in.dat.gz").write_bytes(content)
    with pytest.raises(InputError) as e:
        Trace.load(tmp_path / "t.cfg")
    assert words in str(e.value) and str(e.value).startswith(str(tmp_path / "in.dat.gz"))
    assert "\n" not in str(e.value)


def test_import_tool_round_trips_and_is_deterministic(tmp_path, traces_dir, capsys):
    """tools/import_traces.py: .dat -> .dat.gz whose gunzip is the original, everything else as is;
    a second import writes nothing; --check sees a changed file and a stray one."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("import_traces", traces_dir.parents[1] / "tools" / "import_traces.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    name = "sdp_3x3x33_bs_bn_int8_0"  # also has upstream's legacy .reg/.mem files
    src = tmp_path / "src" / name
    shutil.copytree(next(traces_dir.rglob(f"{name}.cfg")).parent, src)
    for p in src.glob("*.gz"):  # the repository keeps them compressed; the tool's input is plain
        p.with_suffix("").write_bytes(gzip.decompress(p.read_bytes()))
        p.unlink()
    dest = tmp_path / "dest"
    assert tool.main([str(tmp_path / "src"), str(dest)]) == 0
    got = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    want = sorted(p.relative_to(tmp_path / "src").as_posix().replace(".dat", ".dat.gz")
                  for p in (tmp_path / "src").rglob("*") if p.is_file())
    assert got == want and any(g.endswith(".reg") for g in got)
    for p in src.iterdir():
        stored = dest / name / (p.name + (".gz" if p.suffix == ".dat" else ""))
        raw = stored.read_bytes()
        assert (gzip.decompress(raw) if p.suffix == ".dat" else raw) == p.read_bytes()
    assert Trace.load(dest / name / f"{name}.cfg").dats == Trace.load(src / f"{name}.cfg").dats
    before = {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert tool.main([str(tmp_path / "src"), str(dest)]) == 0
    assert "0 written, 0 removed" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()} == before
    assert tool.main([str(tmp_path / "src"), str(dest), "--check"]) == 0
    (src / f"{name}.cfg").write_text((src / f"{name}.cfg").read_text() + "\n")
    (dest / "stray.txt").write_text("x")
    assert tool.main([str(tmp_path / "src"), str(dest), "--check"]) == 1
    out = capsys.readouterr().out
    assert f"differs: {name}/{name}.cfg" in out and "stray.txt" in out
    assert tool.main([str(tmp_path / "nowhere"), str(dest)]) == 2


def test_sparse_dat_writer_skips_zero_runs():
    data = np.zeros(100, dtype=np.uint8)
    data[3], data[4], data[90] = 1, 2, 3
    entries = entries_from_array(data, offset=0x1000, skip_zero_runs=8)
    assert entries == [DatEntry(0x1003, bytes([1, 2])), DatEntry(0x1000 + 90, bytes([3]))]
    assert parse_dat(format_dat(entries)) == entries


def test_memory_across_pages_and_crc():
    m = SparseMemory()
    base = 0x8000_FFF0  # straddles a 64 KiB page boundary
    m.write(base, bytes(range(32)))
    assert m.read(base - 4, 40).tolist() == [0] * 4 + list(range(32)) + [0] * 4
    addrs = np.array([[base + 31, base], [base + 16, base + 15]])
    assert m.gather(addrs).tolist() == [[31, 0], [16, 15]]
    m.scatter(addrs, np.array([[-1, 7], [8, 9]]))
    assert m.read(base, 1)[0] == 7 and m.read(base + 31, 1)[0] == 0xFF
    import zlib
    assert m.crc32(base, 32) == zlib.crc32(m.read(base, 32).tobytes())
    with pytest.raises(ValueError, match="outside the 32-bit"):
        m.write(0xFFFF_FFFF, b"ab")
