"""nv_small's one memory port, and the RAM-type fields that must name it.

nv_small has MCIF (the AXI port to DRAM) and no CVIF (the secondary SRAM port). Every DMA a
layer uses names its port in a RAM-type field whose reset value, 0, selects CVIF. Without
NVDLA_SECONDARY_MEMIF_ENABLE, NVDLA's DMA interface (nvdla/hw vmod/nvdla/nocif
NV_NVDLA_DMAIF_rdreq.v, NV_NVDLA_DMAIF_wr.v) never accepts a request whose RAM type is 0: the DMA
stalls and the layer never ends (observed for the CDMA on NVDLA's RTL, shared/nvdla-rtl-findings.md
§1). The golden model, the RTL and the legality checker all take their list from here.
"""
from __future__ import annotations

from typing import Callable

MCIF = 1  # the RAM-type value a nv_small program must write

# (unit, register, field, the DMA it steers)
CDMA_INPUT = ("CDMA", "D_DAIN_RAM_TYPE", "DATAIN_RAM_TYPE", "the CDMA input read")
CDMA_WEIGHT = ("CDMA", "D_WEIGHT_RAM_TYPE", "WEIGHT_RAM_TYPE", "the CDMA weight read")
SDP_INPUT = ("SDP_RDMA", "D_SRC_DMA_CFG", "SRC_RAM_TYPE", "the stand-alone input read (MRDMA)")
SDP_OUTPUT = ("SDP", "D_DST_DMA_CFG", "DST_RAM_TYPE", "the SDP output write (WDMA)")
OPERAND = {"B": ("SDP_RDMA", "D_BRDMA_CFG", "BRDMA_RAM_TYPE", "the X1 operand read (BRDMA)"),
           "N": ("SDP_RDMA", "D_NRDMA_CFG", "NRDMA_RAM_TYPE", "the X2 operand read (NRDMA)")}

Getter = Callable[[str, str, str], int]  # (unit, register, field) -> the layer's value


def used_ram_types(get: Getter, conv: bool, rdma: bool) -> list[tuple[str, str, str, str]]:
    """The RAM-type fields of the DMAs a layer runs: a conv layer (`conv`) reads input and
    weights through the CDMA, a stand-alone SDP layer its input through MRDMA; both write through
    the WDMA; an operand stream reads when SDP_RDMA takes part (`rdma`) and the stream is enabled."""
    fields = [CDMA_INPUT, CDMA_WEIGHT] if conv else [SDP_INPUT]
    fields.append(SDP_OUTPUT)
    if rdma:
        fields += [OPERAND[x] for x in "BN" if not get("SDP_RDMA", f"D_{x}RDMA_CFG", f"{x}RDMA_DISABLE")]
    return fields


def cvif_selections(get: Getter, conv: bool, rdma: bool) -> list[str]:
    """One line per used DMA whose RAM type selects CVIF (why NVDLA's layer would never end)."""
    return [f"NVDLA_{u}.{r}_0.{f} = {get(u, r, f)} selects CVIF, which nv_small lacks: {what} is never "
            f"issued and the layer never ends (write {MCIF}, MCIF)"
            for u, r, f, what in used_ram_types(get, conv, rdma) if get(u, r, f) != MCIF]
