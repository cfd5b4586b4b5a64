"""Files that move a sparse memory image in and out of the fast-mode SystemVerilog memory
(tb/hdl/tb_axi_mem.sv) in bulk: a page table and the pages' contents for $readmemh, and the
$writememh dump read back. Pure Python, no simulator.

Logical 64 KiB pages are mapped, in address order, onto physical pages 0..n-1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nvdla_int8.fileio import write_atomic
from nvdla_int8.trace.memory import PAGE, PAGE_BITS, SparseMemory

PHYS_PAGES = 1024  # tb_axi_mem PhysPages
WORDS_PER_PAGE = PAGE // 8
RUN_GAP = 8  # zero words worth an "@address" line


class PageMap:
    """Logical page -> physical page of the SV memory."""

    def __init__(self, pages):
        pages = sorted(pages)
        if len(pages) > PHYS_PAGES:
            raise ValueError(f"trace touches {len(pages)} pages of 64 KiB; the fast memory holds {PHYS_PAGES}")
        self.phys = {p: i for i, p in enumerate(pages)}

    def __len__(self) -> int:
        return len(self.phys)

    def word_range(self, base: int, size: int):
        """Yield (logical address, physical first word, word count) for each page piece of
        [base, base+size), 8-byte aligned outward."""
        lo, hi = base & ~7, (base + size + 7) & ~7
        a = lo
        while a < hi:
            page = a >> PAGE_BITS
            if page not in self.phys:
                raise KeyError(f"address {a:#x} is not in the memory image")
            last = page  # extend over pages that are consecutive in the physical memory too
            while ((last + 1) << PAGE_BITS) < hi and self.phys.get(last + 1) == self.phys[last] + 1:
                last += 1
            end = min(hi, (last + 1) << PAGE_BITS)
            first = self.phys[page] * WORDS_PER_PAGE + ((a & (PAGE - 1)) >> 3)
            yield a, first, (end - a) >> 3
            a = end


def write_load_files(mem: SparseMemory, folder: Path) -> PageMap:
    """page_map.hex and mem.hex for tb_axi_mem's load; returns the mapping used."""
    pm = PageMap(mem.pages)
    lines = []
    for page, phys in pm.phys.items():
        lines.append(f"@{page:x}\n{phys:04x}")
    write_atomic(folder / "page_map.hex", "\n".join(lines) + "\n")
    out = []
    for page, phys in pm.phys.items():
        words = mem.pages[page].view("<u8")
        nz = np.flatnonzero(words)
        if nz.size == 0:
            continue  # the memory clears mapped pages before loading
        # Only runs of non-zero words (gaps of up to RUN_GAP zero words are kept in a run):
        # strided cubes leave most of a page zero.
        breaks = np.flatnonzero(np.diff(nz) > RUN_GAP)
        starts = np.r_[nz[0], nz[breaks + 1]]
        ends = np.r_[nz[breaks], nz[-1]] + 1
        text = np.char.mod("%016x", words)
        for s, e in zip(starts.tolist(), ends.tolist()):
            out.append(f"@{phys * WORDS_PER_PAGE + s:x}")
            out.append("\n".join(text[s:e]))
    write_atomic(folder / "mem.hex", "\n".join(out) + "\n")
    return pm


def read_dump(path: Path, words: int) -> bytes:
    """Bytes of a $writememh dump of `words` 64-bit words (little-endian, word order)."""
    toks = [t for t in path.read_text().split() if not t.startswith(("//", "@"))]
    if len(toks) != words or any(len(t) != 16 for t in toks):
        raise RuntimeError(f"{path}: expected {words} words of 16 hex digits")
    return np.frombuffer(bytes.fromhex("".join(toks)), dtype=">u8").astype("<u8").tobytes()
