"""The fast memory's image layout (no simulator): page mapping, the in-place load, the load files."""
from pathlib import Path

import numpy as np
import pytest

from nvdla_int8.trace.memory import PAGE, SparseMemory
from tb.memory_files import UNMAPPED, WORDS_PER_PAGE, PageMap, load_image, write_load_files


def parse_page_map(path: Path) -> dict[int, int]:
    """page -> physical page, as the raw harness reads page_map.hex (@page, then one entry a page)."""
    table, at = {}, 0
    for tok in path.read_text().split():
        if tok.startswith("@"):
            at = int(tok[1:], 16)
        else:
            table[at] = int(tok, 16)
            at += 1
    return table


def test_load_files_hold_every_mapped_page_whole(tmp_path):
    mem = SparseMemory()
    mem.write(0x8000_0400, bytes(range(1, 20)))
    mem.write(0x9000_fff8, b"\xaa" * 16)          # crosses into the next 64 KiB page
    mem.write(0x8000_0400 + 4096, b"\x01")         # a far run in the same page
    pm = write_load_files(mem, tmp_path)
    # each 64-bit word from 8 bytes, most significant first (tb/raw/main.cpp, tb/nvdla/player.cpp)
    words = np.frombuffer((tmp_path / "mem.bin").read_bytes(), dtype=">u8")
    assert len(words) == len(mem.pages) * WORDS_PER_PAGE
    for page, phys in pm.phys.items():
        assert (words[phys * WORDS_PER_PAGE:(phys + 1) * WORDS_PER_PAGE] == mem.pages[page].view("<u8")).all()
    assert parse_page_map(tmp_path / "page_map.hex") == {page: phys for page, phys in pm.phys.items()}


def test_word_range_merges_consecutive_pages_and_rejects_unmapped():
    pm = PageMap([5, 6, 7, 9])
    assert list(pm.word_range((5 << 16) + 8, 3 * PAGE - 8)) == [((5 << 16) + 8, 1, 3 * WORDS_PER_PAGE - 1)]
    assert list(pm.word_range(9 << 16, 16)) == [(9 << 16, 3 * WORDS_PER_PAGE, 2)]
    with pytest.raises(KeyError):  # page 8 is not part of the image
        list(pm.word_range(7 << 16, 2 * PAGE))


def test_load_image_writes_pages_little_endian_and_unmaps_the_rest():
    mem = SparseMemory()
    mem.write(0x8000_0000, bytes([1, 2, 3, 4, 5, 6, 7, 8]))
    mem.write(0x9000_0008, b"\xff")
    page_map = np.full(65536, 7, dtype=np.uint16)  # a previous trace's table
    words = np.full(4 * WORDS_PER_PAGE, 0x5A5A, dtype=np.uint64)
    pm = load_image(mem, page_map, words)
    # byte lane k of an AXI beat is bits 8k+7:8k of the SV word
    assert words[pm.phys[0x8000] * WORDS_PER_PAGE] == 0x0807060504030201
    assert words[pm.phys[0x9000] * WORDS_PER_PAGE + 1] == 0xFF
    assert (words[pm.phys[0x9000] * WORDS_PER_PAGE + 2:(pm.phys[0x9000] + 1) * WORDS_PER_PAGE] == 0).all()
    assert page_map[0x8000] == pm.phys[0x8000] and page_map[0x9000] == pm.phys[0x9000]
    assert (np.delete(page_map, [0x8000, 0x9000]) == UNMAPPED).all()
