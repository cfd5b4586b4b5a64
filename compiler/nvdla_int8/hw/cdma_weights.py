"""What NVDLA's CDMA weight bookkeeping makes of a conv layer, and what the layer leaves in it for
the next conv layer of the same program (no reset between them); docs/nvdla-rules.md §5 and §7.

Facts of NVDLA's RTL, none of which changes a result of ours (the first two §5, the last §7):
- the CDMA fetches D_WEIGHT_BYTES / 8 CBUF entries and the CSC releases only those it reads, so
  entries fetched past the weights are read by the next conv layer as the start of its weights,
  unless that layer's D_BANK differs: a bank change sends both through their "pending" path
  (NV_NVDLA_CDMA_wt.v `need_pending`, `clear_all`), which resets the CBUF write index and the
  available count. Measured on NVDLA's RTL: conv_after_conv s1-s4 with the first layer's weight
  bytes rounded to 128 pass where the next layer changes D_BANK (s1, s2, s4) and differ where it
  keeps it (s3);
- the CDMA counts weight releases only while its own clock runs (NV_NVDLA_CDMA_wt.v
  `wt_wr_dmatx_cnt`, clock-gated once the CDMA is done; nvdla/hw#235), so releases that come
  after it finished are lost until reset, and the count stops weight reads once it reaches the
  layer's weight-bank entries. A bank change does not clear that count. Which releases come late
  depends on timing; the bound used here, every earlier layer's entries, is the most they can add
  up to. NVDLA's own testbench ties the clock-gating disable input low, so its trace players hang
  where a chip with clock gating disabled would not;
- BYTE_PER_KERNEL only paces the CDMA's reports to the CSC, not the layout (NV_NVDLA_CDMA_wt.v,
  `normal_bpg`, `wt_required_bytes`): a layer whose next-to-last report waits for more bytes than
  the CDMA fetches hangs (measured: BPK 72 and 120 hang where 71 runs). So does one whose fetch
  stalls on full weight banks first, since the CSC frees a kernel group only once it has computed
  it (measured: BPK 528 runs, 529 hangs, where 3 * 8 * BPK passes the 2 groups of 2240 bytes
  released plus 2 banks). A BPK below R*S*C hands the CSC a group before all of it is fetched: a
  race, which NVDLA won on the one trace replayed (BPK 1, 30 and 59 ran right) and which a CSC
  reading faster than the fetch would lose (not replayed). The CDMA fetches D_WEIGHT_BYTES / 8
  whole entries (`reg2dp_weight_bytes[31:3]`) and its last report waits for D_WEIGHT_BYTES
  itself, so a count that is not a multiple of 8 hangs too (measured).

The legality checker refuses what this finds; the golden model, which computes every such layer
as if its bookkeeping were clean, says where NVDLA's RTL would differ or hang.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import NV_SMALL
from .layouts import ceil_div
from .memif import Getter


def carried_weight_entries(k: int, rsc: int) -> int:
    """The weight entries a conv layer of K kernels of R*S*C bytes adds to what the conv layers
    after it must leave room for."""
    return ceil_div(k * rsc, NV_SMALL.cbuf_entry_bytes)


def weight_banks_with_carried(carried: int, k: int, rsc: int) -> int:
    """The weight banks a conv layer needs to hold its own weight entries and the `carried` ones
    of the conv layers before it (what WeightLedger checks)."""
    return ceil_div(carried + carried_weight_entries(k, rsc), NV_SMALL.cbuf_bank_entries)


@dataclass(frozen=True)
class Pacing:
    """How NVDLA's CDMA paces a conv layer of more than one kernel group (docs/nvdla-rules.md §7).

    The report of kernel group g < ceil(K/8) - 1 waits for (g+1) * 8 * BPK fetched bytes; the
    fetch stops at D_WEIGHT_BYTES rounded down to an entry, and at the weight banks' bytes beyond
    the g groups of 8 * R*S*C bytes the CSC has released before report g. (g+1) * 8 * BPK - g * 8 *
    R*S*C grows with g when BPK > R*S*C, and with BPK <= R*S*C it stays within one group, which
    fits the banks: the last-but-one report is the one that bounds BPK."""
    per_bpk: int   # bytes the last-but-one report waits for, per unit of BPK: (ceil(K/8) - 1) * 8
    fetched: int   # bytes the CDMA fetches: D_WEIGHT_BYTES rounded down to an entry
    released: int  # bytes of the kernel groups the CSC has released before that report
    banks: int     # bytes of the weight banks

    @property
    def fetch_limit(self) -> int:
        """The largest BPK (the count, not the field) whose report comes within the fetch."""
        return self.fetched // self.per_bpk

    @property
    def bank_limit(self) -> int:
        """The largest BPK whose report comes before the fetch stalls on full weight banks."""
        return (self.released + self.banks) // self.per_bpk

    @property
    def limit(self) -> int:
        """The largest BPK on which NVDLA's CDMA runs the layer."""
        return min(self.fetch_limit, self.bank_limit)


def pacing(k: int, rsc: int, weight_bytes: int, weight_banks: int) -> Pacing | None:
    """The pacing of a layer of K kernels of R*S*C bytes; None for one kernel group, whose only
    report waits for D_WEIGHT_BYTES whatever BYTE_PER_KERNEL says."""
    groups = ceil_div(k, NV_SMALL.atomic_k)
    if groups < 2:
        return None
    return Pacing(per_bpk=(groups - 1) * NV_SMALL.atomic_k,
                  fetched=weight_bytes // NV_SMALL.cbuf_entry_bytes * NV_SMALL.cbuf_entry_bytes,
                  released=(groups - 2) * NV_SMALL.atomic_k * rsc,
                  banks=weight_banks * NV_SMALL.cbuf_bank_bytes)


class WeightLedger:
    """Feed it the conv layers of one program in order; each call returns what NVDLA's CDMA
    bookkeeping makes of that layer, one line per problem (empty: NVDLA runs it as we do)."""

    def __init__(self) -> None:
        self.carried = 0  # weight entries of the conv layers so far
        self._previous: tuple | None = None  # name, D_WEIGHT_BYTES, entries fetched, weight bytes, D_BANK

    def conv_layer(self, name: str, get: Getter) -> list[str]:
        k = get("CDMA", "D_WEIGHT_SIZE_1", "WEIGHT_KERNEL") + 1
        bpk = get("CDMA", "D_WEIGHT_SIZE_0", "BYTE_PER_KERNEL") + 1
        rsc = ((get("CSC", "D_DATAIN_SIZE_EXT_1", "DATAIN_CHANNEL_EXT") + 1)
               * (get("CSC", "D_WEIGHT_SIZE_EXT_0", "WEIGHT_WIDTH_EXT") + 1)
               * (get("CSC", "D_WEIGHT_SIZE_EXT_0", "WEIGHT_HEIGHT_EXT") + 1))
        wbytes = get("CDMA", "D_WEIGHT_BYTES", "WEIGHT_BYTES")
        wbanks = get("CDMA", "D_BANK", "WEIGHT_BANK") + 1
        banks = (get("CDMA", "D_BANK", "DATA_BANK"), wbanks)
        entries = wbytes // NV_SMALL.cbuf_entry_bytes
        problems = []
        paced = pacing(k, rsc, wbytes, wbanks)
        fetched_bytes = entries * NV_SMALL.cbuf_entry_bytes
        if paced and bpk > paced.fetch_limit:
            problems.append(
                f"{name}: NVDLA_CDMA.D_WEIGHT_SIZE_0_0.BYTE_PER_KERNEL = {bpk - 1}: NVDLA's CDMA hands the CSC its "
                f"last-but-one kernel group after {paced.per_bpk * bpk} bytes, but fetches {fetched_bytes} "
                f"(D_WEIGHT_BYTES); NVDLA's RTL hangs")
        elif paced and bpk > paced.bank_limit:
            problems.append(
                f"{name}: NVDLA_CDMA.D_WEIGHT_SIZE_0_0.BYTE_PER_KERNEL = {bpk - 1}: NVDLA's CDMA hands the CSC its "
                f"last-but-one kernel group after {paced.per_bpk * bpk} bytes, but its {wbanks} weight banks hold "
                f"{paced.banks} bytes beyond the {paced.released} of the groups released before; NVDLA's RTL hangs")
        if bpk < rsc and k > NV_SMALL.atomic_k:
            problems.append(
                f"{name}: NVDLA_CDMA.D_WEIGHT_SIZE_0_0.BYTE_PER_KERNEL = {bpk - 1}: below R*S*C - 1 = {rsc - 1}, so "
                "NVDLA's CDMA hands the CSC kernel groups before all their weights are fetched; NVDLA's RTL "
                "computes differently where the CSC reads them first")
        if fetched_bytes != wbytes:
            problems.append(
                f"{name}: NVDLA_CDMA.D_WEIGHT_BYTES_0 = {wbytes}: not a multiple of the "
                f"{NV_SMALL.cbuf_entry_bytes}-byte CBUF entry; NVDLA's CDMA fetches {fetched_bytes} bytes and "
                f"waits for {wbytes}: NVDLA's RTL hangs")
        if self._previous is not None:
            prev, prev_bytes, fetched, used, prev_banks = self._previous
            exact = ceil_div(used, NV_SMALL.cbuf_entry_bytes)
            if fetched != exact and prev_banks == banks:
                problems.append(
                    f"{prev}: NVDLA_CDMA.D_WEIGHT_BYTES_0 = {prev_bytes}: {fetched - exact} CBUF entries past its "
                    f"{used} weight bytes stay in CBUF and shift the weights of the next conv layer, {name}, which keeps "
                    f"its D_BANK; program {exact * NV_SMALL.cbuf_entry_bytes}")
        room = wbanks * NV_SMALL.cbuf_bank_entries
        if self.carried and self.carried + entries > room:
            problems.append(
                f"{name}: NVDLA_CDMA.D_BANK_0.WEIGHT_BANK = {wbanks - 1}: its {entries} weight entries and the "
                f"{self.carried} of the conv layers before it (whose release NVDLA's CDMA may not count) exceed "
                f"the {room} entries of {wbanks} weight banks; NVDLA's RTL may hang")
        self.carried += entries
        self._previous = (name, wbytes, entries, k * rsc, banks)
        return problems
