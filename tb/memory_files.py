"""The layout of a sparse memory image in the fast-mode SystemVerilog memory
(tb/hdl/tb_axi_mem.sv): logical 64 KiB pages mapped, in address order, onto physical pages
0..n-1 of its word array. The cocotb flow writes an image into the model's arrays in place
(`load_image`); the raw harness and NVDLA's trace player read it from files (`write_load_files`:
scratch files every trace rewrites, not outputs, so written plainly, not atomically). Pure
Python, no simulator.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nvdla_int8.trace.memory import PAGE, PAGE_BITS, SparseMemory

PHYS_PAGES = 1024  # tb_axi_mem PhysPages
WORDS_PER_PAGE = PAGE // 8
UNMAPPED = 0xFFFF  # tb_axi_mem Unmapped


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
    most significant byte first) for the raw harness and NVDLA's player, which both read this
    format; returns the mapping used."""
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


def load_image(mem: SparseMemory, page_map: np.ndarray, words: np.ndarray) -> PageMap:
    """Write an image into the SV memory's arrays (uint16 page table, uint64 words, as views of
    the model or plain arrays); returns the mapping used. Pages past the image are unmapped."""
    pm = PageMap(mem.pages)
    page_map[:] = UNMAPPED
    for page, phys in pm.phys.items():
        page_map[page] = phys
        words[phys * WORDS_PER_PAGE:(phys + 1) * WORDS_PER_PAGE] = mem.pages[page].view("<u8")
    return pm
