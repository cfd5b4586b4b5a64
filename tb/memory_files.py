"""Files that move a sparse memory image in and out of the fast-mode SystemVerilog memory
(tb/hdl/tb_axi_mem.sv) in bulk: a page table for $readmemh and the pages' contents for $fread,
and the $writememh dump read back. Pure Python, no simulator. These are scratch files the
simulator reads at once and every trace rewrites, not outputs: written plainly, not atomically.

Logical 64 KiB pages are mapped, in address order, onto physical pages 0..n-1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nvdla_int8.trace.memory import PAGE, PAGE_BITS, SparseMemory

PHYS_PAGES = 1024  # tb_axi_mem PhysPages
WORDS_PER_PAGE = PAGE // 8


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
    """page_map.hex and mem.bin (the mapped pages whole, in physical order, every 64-bit word
    big-endian as $fread fills an array) for tb_axi_mem's load; returns the mapping used."""
    pm = PageMap(mem.pages)
    lines = [f"@{page:x}\n{phys:04x}" for page, phys in pm.phys.items()]
    (folder / "page_map.hex").write_text("\n".join(lines) + "\n")
    if pm.phys:
        image = np.stack([mem.pages[page] for page in pm.phys])  # pm.phys is in physical order
        data = image.reshape(-1, 8)[:, ::-1].tobytes()
    else:
        data = b""
    (folder / "mem.bin").write_bytes(data)
    return pm


def read_dump(path: Path, words: int) -> bytes:
    """Bytes of a $writememh dump of `words` 64-bit words (little-endian, word order)."""
    data = bytes.fromhex(path.read_text())  # whitespace between the words is skipped
    if len(data) != 8 * words:
        raise RuntimeError(f"{path}: expected {words} words of 16 hex digits")
    return np.frombuffer(data, dtype=">u8").astype("<u8").tobytes()
