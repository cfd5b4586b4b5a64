"""Trace reader/writer: round trips of the shared traces, and clear errors on bad input."""
import numpy as np
import pytest

from nvdla_int8.errors import InputError
from nvdla_int8.trace import SparseMemory, Trace, apply_memory_command, parse_cfg, parse_dat
from nvdla_int8.trace.dat import DatEntry, entries_from_array, format_dat


def _image(trace: Trace) -> SparseMemory:
    mem = SparseMemory()
    for c in trace.commands:
        apply_memory_command(trace, c, mem)
    return mem


def test_every_shared_trace_round_trips(traces_dir, tmp_path):
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
