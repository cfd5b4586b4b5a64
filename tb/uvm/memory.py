"""The memory on the DUT's AXI port, in two modes behind one interface (load an image, read
bytes back, write a few bytes):

- `SvMemory` (fast, default): tb_axi_mem.sv inside the harness, whose page table and words the
  testbench writes and reads in place (tb/uvm/bfm.py `mem_arrays`); seeded random latency and
  back-pressure come from the SV model.
- `AxiRamMemory`: cocotbext-axi's AxiRam, an independent model of the AXI protocol, with seeded
  random pauses on all five channels.

Both report the writes they commit, with their cycle, for the late/missing-write checks
(tb/uvm/write_log.py): the SV memory through the harness's write log, AxiRam here.
"""
from __future__ import annotations

import random

import numpy as np

from nvdla_int8.trace.memory import PAGE, PAGE_BITS, SparseMemory

from ..memory_files import PageMap, WORDS_PER_PAGE, load_image


class SvMemory:
    ext_mem = False

    def __init__(self, bfm):
        self.bfm = bfm
        self.map: PageMap | None = None

    async def load(self, image: SparseMemory, seed: int) -> None:
        self.map = load_image(image, *self.bfm.mem_arrays())
        await self.bfm.mem_loaded()

    def _pieces(self, base: int, size: int):
        """(offset in the 8-byte-aligned range, bytes view of the memory) for each page piece."""
        words = self.bfm.mem_arrays()[1].view(np.uint8)
        off = 0
        for _, first, n in self.map.word_range(base, size):
            yield off, words[8 * first:8 * (first + n)]
            off += 8 * n

    async def read(self, base: int, size: int) -> bytes:
        out = bytearray()
        for _, piece in self._pieces(base, size):
            out += piece.tobytes()
        lo = base & 7
        return bytes(out[lo:lo + size])

    async def write(self, base: int, data: bytes) -> None:
        """Overwrite bytes in place (the DUT is idle between layers)."""
        lo = base & 7
        buf = bytearray(await self.read(base - lo, (lo + len(data) + 7) & ~7))
        buf[lo:lo + len(data)] = data
        for off, piece in self._pieces(base - lo, len(buf)):
            piece[:] = np.frombuffer(bytes(buf[off:off + len(piece)]), dtype=np.uint8)

    def write_events(self) -> None:
        """None: the harness's write log already holds this memory's commits."""
        return None

    def set_mutation(self, mutation) -> None:
        """Faults of this memory are harness pins (tb/uvm/faults.py drives them)."""

    def fault(self) -> str | None:
        a = self.bfm.mem_fault()
        return None if a is None else f"DUT wrote outside the trace's memory image at {a:#010x}"


class AxiRamMemory:
    ext_mem = True

    def __init__(self, bfm, seed: int):
        from cocotbext.axi import AxiBus, AxiRam

        dut = bfm.dut
        # Clocked on clk_in, the port cocotb drives: an edge of the derived clk net is reported
        # after the design has evaluated it, and AxiRam would sample post-edge valid/ready.
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk_in, dut.rst_n, reset_active_level=False,
                          size=2 ** 32)
        self.rng = random.Random(seed)
        self._pages: set[int] = set()
        self.stall = False
        self.bfm = bfm
        self.writes: list[tuple[int, int]] = []  # (cycle, address) of each committed write
        self.drop_write: int | None = None  # fault drop_write:N: beat N is acknowledged, not stored
        self._beats = 0
        store = self.ram.write_if._write

        async def logged_write(address, data):
            beat = self._beats
            self._beats += 1
            if beat == self.drop_write:
                return
            self.writes.append((self.bfm.cycles(), address))
            await store(address, data)

        self.ram.write_if._write = logged_write

    def set_stall(self, on: bool, seed: int) -> None:
        self.rng.seed(seed)
        channels = [self.ram.write_if.aw_channel, self.ram.write_if.w_channel, self.ram.write_if.b_channel,
                    self.ram.read_if.ar_channel, self.ram.read_if.r_channel]
        for ch in channels:
            if on:
                ch.set_pause_generator(self._pauses(self.rng.getrandbits(32)))
            else:
                ch.clear_pause_generator()

    @staticmethod
    def _pauses(seed: int):
        r = random.Random(seed)
        while True:
            yield r.random() < 0.25

    def set_mutation(self, mutation) -> None:
        self.drop_write = mutation.index if mutation.kind == "drop_write" else None

    def write_events(self) -> list[tuple[int, int]]:
        """(cycle, address) of the writes committed since the last load."""
        return self.writes

    async def load(self, image: SparseMemory, seed: int) -> None:
        self.writes = []
        self._beats = 0
        for p in self._pages - set(image.pages):
            self.ram.write(p << PAGE_BITS, bytes(PAGE))
        for p, data in image.pages.items():
            self.ram.write(p << PAGE_BITS, data.tobytes())
        self._pages = set(image.pages)

    async def read(self, base: int, size: int) -> bytes:
        return bytes(self.ram.read(base, size))

    async def write(self, base: int, data: bytes) -> None:
        self.ram.write(base, data)

    def fault(self) -> str | None:
        return None


SPAN_LIMIT = 16 << 20  # read an address set's whole span at once up to this many bytes


async def read_addresses(memory, addrs: np.ndarray) -> np.ndarray:
    """uint8 values at an address array, reading only the 64 KiB pages it touches."""
    a = np.asarray(addrs, dtype=np.int64)
    lo, hi = int(a.min()), int(a.max()) + 1
    if hi - lo <= SPAN_LIMIT:
        data = np.frombuffer(await memory.read(lo, hi - lo), dtype=np.uint8)
        return data[a - lo]
    out = np.zeros(a.shape, dtype=np.uint8)
    pages = np.unique(a >> PAGE_BITS)
    flat_a, flat_o = a.ravel(), out.reshape(-1)
    for p in pages:
        sel = np.flatnonzero((flat_a >> PAGE_BITS) == p)
        lo, hi = int(flat_a[sel].min()), int(flat_a[sel].max()) + 1
        data = np.frombuffer(await memory.read(lo, hi - lo), dtype=np.uint8)
        flat_o[sel] = data[flat_a[sel] - lo]
    return out


__all__ = ["SvMemory", "AxiRamMemory", "read_addresses", "WORDS_PER_PAGE"]
