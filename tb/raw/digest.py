"""Turn a trace into what tb/raw/main.cpp replays: the fast memory's load files
(tb/memory_files.py, as the cocotb flow writes them) and program.txt, one command a line,
numbers in hex:

    load                                  reset the harness, then load page_map.hex + mem.bin
    w <addr> <data>                       APB write (consecutive ones go to the harness as one run)
    r <addr> <expected>                   APB read, must equal
    p <addr> <expected>                   APB reads until equal (at most 1000, as sequences.py)
    i <bit> <status> <mask>               wait for the interrupt; read GLB S_INTR_STATUS and
                                          S_INTR_MASK (addresses given), claim <bit> (0: the
                                          lowest pending), clear it (W1C)
    c <expected> <skip> <size> <first> <words> [<first> <words> ...]
                                          CRC-32 of <size> bytes from byte <skip> of the dumped words

Memory commands are applied here (the image is loaded before the first register write);
check_file and check_nothing are not digested (the conformance traces use check_crc only).
"""
from __future__ import annotations

from pathlib import Path

from nvdla_int8.errors import InputError
from nvdla_int8.fileio import write_atomic
from nvdla_int8.golden.replay import intr_bit
from nvdla_int8.hw.regmap import REGMAP
from nvdla_int8.trace.memory import SparseMemory
from nvdla_int8.trace.trace import Trace, apply_memory_command

from ..memory_files import write_load_files

MEMORY_OPS = ("mem_init", "mem_load")
_STATUS = REGMAP.reg("GLB", "S_INTR_STATUS")
_MASK = REGMAP.reg("GLB", "S_INTR_MASK")


def digest(trace: Trace, folder: Path) -> int:
    """Write folder/page_map.hex, mem.bin and program.txt; returns the pages the image maps."""
    image = SparseMemory()
    lines: list[str] = []
    for c in trace.commands:
        if c.op in MEMORY_OPS:
            apply_memory_command(trace, c, image)
    pm = write_load_files(image, folder)
    lines.append("load")
    for c in trace.commands:
        if c.op == "reg_write":
            reg, value = c.args
            lines.append(f"w {reg.address:x} {value:x}")
        elif c.op == "reg_read_check":
            reg, value = c.args
            lines.append(f"r {reg.address:x} {value:x}")
        elif c.op == "poll_reg_equal":
            reg, value = c.args
            lines.append(f"p {reg.address:x} {value:x}")
        elif c.op == "intr_notify":
            bit = intr_bit(str(c.args[0]), trace.where(c)) if len(c.args) == 2 else 0
            lines.append(f"i {bit:x} {_STATUS.address:x} {_MASK.address:x}")
        elif c.op == "check_crc":
            _, _, base, size, expected = c.args
            pieces = " ".join(f"{first:x} {words:x}" for _, first, words in pm.word_range(base, size))
            lines.append(f"c {expected:x} {base & 7:x} {size:x} {pieces}")
        elif c.op == "check_nothing":
            continue  # a sync point with nothing to compare: the intr_notify before it already waited
        elif c.op not in MEMORY_OPS:
            raise InputError(f"{c.op} is not supported by the raw harness", where=trace.where(c))
    write_atomic(folder / "program.txt", "\n".join(lines) + "\n")
    return len(pm)


def digest_all(cfgs, out: Path) -> list[Path]:
    """One folder per trace under out/, in order; returns the folders."""
    folders = []
    for i, cfg in enumerate(cfgs):
        trace = Trace.load(cfg)
        d = out / f"{i:04d}_{trace.name}"
        d.mkdir(parents=True, exist_ok=True)
        digest(trace, d)
        folders.append(d)
    return folders
