"""A trace test: its command script plus the `.dat` images it loads (trace-format.md §1)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import write_atomic
from .cfg import Command, Name, Quoted, format_cfg, parse_cfg
from .dat import DatEntry, find_dat, format_dat, read_dat
from .memory import SparseMemory


@dataclass
class Trace:
    name: str
    commands: list[Command]
    dats: dict[str, list[DatEntry]] = field(default_factory=dict)  # file name -> entries
    source: Path | None = None  # the .cfg it was read from

    @classmethod
    def load(cls, cfg: str | Path) -> "Trace":
        p = Path(cfg)
        if not p.is_file():
            raise InputError("no such trace file", where=str(p))
        try:
            text = p.read_text(encoding="ascii")
        except UnicodeDecodeError:
            raise InputError("not an ASCII trace script", where=str(p)) from None
        commands = parse_cfg(text, str(p))
        dats = {}
        for c in commands:
            for a in c.args:
                if isinstance(a, Quoted) and a not in dats:
                    f = find_dat(p.parent, a)
                    if f is None:
                        raise InputError(f"{c.op} names {a!r}, which is not in {p.parent}", where=f"{p}:{c.line}")
                    dats[str(a)] = read_dat(f)
        return cls(p.stem, commands, dats, p)

    def save(self, folder: str | Path, header: str | None = None) -> Path:
        """Write `<folder>/<name>.cfg` and its .dat files (atomically, each)."""
        d = Path(folder)
        for fname, entries in self.dats.items():
            write_atomic(d / fname, format_dat(entries), encoding="ascii")
        cfg = d / f"{self.name}.cfg"
        write_atomic(cfg, format_cfg(self.commands, header), encoding="ascii")
        return cfg

    def file_image(self, fname: str, size: int) -> np.ndarray:
        """The `size` bytes a `check_file` of `fname` expects, from the file's offset 0 (gaps 0)."""
        want = np.zeros(size, dtype=np.uint8)
        for e in self.dats[fname]:
            lo, hi = e.offset, min(size, e.offset + len(e.data))
            if lo < size:
                want[lo:hi] = np.frombuffer(e.data[:hi - lo], dtype=np.uint8)
        return want

    def rewrite_writes(self, register: str, new_value, first: int | None = None) -> int:
        """Give the `reg_write`s of `register` (its trace name, e.g. NVDLA_CDMA.D_WEIGHT_BYTES_0) the
        value `new_value(register, old)`; only the first `first` of them when given. Returns how many changed."""
        hit = 0
        for i, c in enumerate(self.commands):
            if c.op == "reg_write" and c.args[0].trace_name == register and (first is None or hit < first):
                self.commands[i] = Command("reg_write", (c.args[0], new_value(c.args[0], c.args[1])), c.line)
                hit += 1
        return hit

    def where(self, c: Command) -> str:
        return f"{self.source or self.name}:{c.line}" if c.line else str(self.source or self.name)


def fill_pattern(pattern: str, base: int, size: int) -> np.ndarray:
    """Bytes of a mem_init pattern. RANDOM and X have no defined values upstream; we use a
    pseudo-random sequence seeded by the base address so a replay is repeatable."""
    if pattern == "ALL_ZERO":
        return np.zeros(size, dtype=np.uint8)
    if pattern == "ONES":
        return np.full(size, 0xFF, dtype=np.uint8)
    if pattern == "AFIVE":
        return np.full(size, 0xA5, dtype=np.uint8)
    if pattern == "FIVEA":
        return np.full(size, 0x5A, dtype=np.uint8)
    if pattern == "ADDR":
        return ((base + np.arange(size, dtype=np.int64)) & 0xFF).astype(np.uint8)
    return np.random.default_rng(base).integers(0, 256, size, dtype=np.uint8)  # RANDOM, X


def apply_memory_command(trace: Trace, c: Command, mem: SparseMemory) -> None:
    """Execute one mem_init / mem_load on a memory image; other commands are ignored."""
    if c.op == "mem_init":
        base, size_or_file, pattern = c.args[1], c.args[2], str(c.args[3])
        if isinstance(size_or_file, Quoted):
            entries = trace.dats[str(size_or_file)]
            lo = min((e.offset for e in entries), default=0)
            hi = max((e.offset + len(e.data) for e in entries), default=0)
            base, size = base + lo, hi - lo
        else:
            size = size_or_file
        mem.write(base, fill_pattern(pattern, base, size))
    elif c.op == "mem_load":
        base = c.args[1]
        for e in trace.dats[str(c.args[2])]:
            mem.write(base + e.offset, e.data)


def file_mismatch(fname: str, base: int, got: np.ndarray, want: np.ndarray) -> str | None:
    """One line naming the first differing address of a check_file, or None when equal."""
    bad = np.flatnonzero(np.asarray(got, dtype=np.uint8) != want)
    if not bad.size:
        return None
    a = int(bad[0])
    return (f"memory differs from {fname} at {base + a:#x}: {int(got[a]):#04x}, expected {int(want[a]):#04x} "
            f"({bad.size} bytes differ)")


def is_secondary(mem_arg) -> bool:
    """nv_small has one memory: anything but `sec_mem` names the primary one (trace-format §2)."""
    return isinstance(mem_arg, Name) and mem_arg == "sec_mem"
