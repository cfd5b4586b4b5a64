"""cocotb tests of the register files through the APB port: every register of the map reads its
reset value, stores exactly its RW bits and drops writes to RO bits; D_ groups with S_POINTER
producer/consumer, OP_EN and S_STATUS; GLB interrupt mask / set / status and the line.
Expected values come from the register table (REGMAP), never re-typed."""
from __future__ import annotations

import cocotb

from nvdla_int8.hw.regmap import REGMAP
from tb.uvm.bfm import HarnessBfm

# Read-only fields the hardware drives to something other than their reset value.
HW_RO = {("CDMA", "S_CBUF_FLUSH_STATUS"): REGMAP.reg("CDMA", "S_CBUF_FLUSH_STATUS").field("FLUSH_DONE").mask}
GLB_INTR = {"S_INTR_MASK", "S_INTR_SET", "S_INTR_STATUS"}  # behaviour tested on its own
CONTROL = {"S_POINTER", "D_OP_ENABLE"}  # change groups or start layers: tested on their own


def wo_mask(reg) -> int:
    m = 0
    for f in reg.fields:
        if f.access == "WO":
            m |= f.mask
    return m


def ro_value(reg) -> int:
    return HW_RO.get((reg.unit, reg.name), reg.reset & reg.ro_mask)


async def setup(dut) -> HarnessBfm:
    bfm = HarnessBfm(dut)
    bfm.start_clock(internal=False)
    await bfm.reset(ext_mem=False, stall=False, seed=1, watchdog=0)
    return bfm


def plain_registers():
    return [r for r in REGMAP if not (r.unit == "GLB" and r.name in GLB_INTR) and r.name not in CONTROL]


@cocotb.test()
async def every_register_resets_stores_rw_and_drops_ro(dut):
    bfm = await setup(dut)
    errors = []
    for reg in plain_registers():
        expect_reset = (reg.reset & reg.writable_mask) | ro_value(reg)
        got = await bfm.apb(reg.address, False)
        if got != expect_reset:
            errors.append(f"{reg.trace_name} resets to {got:#x}, table says {expect_reset:#x}")
        for pattern in (0xFFFFFFFF, 0x5A5A5A5A, 0):
            await bfm.apb(reg.address, True, pattern)
            got = await bfm.apb(reg.address, False)
            want = (pattern & reg.writable_mask) | ro_value(reg)
            if got != want:
                errors.append(f"{reg.trace_name} after writing {pattern:#x} reads {got:#x}, expected {want:#x}")
                break
    assert not errors, f"{len(errors)} register errors, first: {errors[:5]}"


@cocotb.test()
async def d_groups_follow_the_producer_pointer(dut):
    bfm = await setup(dut)
    sdp = REGMAP.unit("SDP").by_name
    ptr, scale, op_en, status = sdp["S_POINTER"], sdp["D_CVT_SCALE"], sdp["D_OP_ENABLE"], sdp["S_STATUS"]
    producer = ptr.field("PRODUCER")
    idle, running, pending = (status.field("STATUS_0").enums[k] for k in ("IDLE", "RUNNING", "PENDING"))

    await bfm.apb(scale.address, True, 0x1234)                         # group 0
    await bfm.apb(ptr.address, True, ptr.encode(PRODUCER=1))
    assert await bfm.apb(scale.address, False) == scale.reset, "group 1 must start at reset"
    await bfm.apb(scale.address, True, 0x5678)
    assert producer.get(await bfm.apb(ptr.address, False)) == 1
    assert ptr.field("CONSUMER").get(await bfm.apb(ptr.address, False)) == 0
    await bfm.apb(ptr.address, True, ptr.encode(PRODUCER=0))
    assert await bfm.apb(scale.address, False) == 0x1234

    # Stand-alone SDP waits for SDP_RDMA too: the group stays enabled, so its writes are dropped.
    await bfm.apb(op_en.address, True, op_en.encode(OP_EN=1))
    st = await bfm.apb(status.address, False)
    assert status.field("STATUS_0").get(st) == running and status.field("STATUS_1").get(st) == idle, hex(st)
    await bfm.apb(scale.address, True, 0x9999)
    assert await bfm.apb(scale.address, False) == 0x1234, "write to an enabled group must be dropped"
    assert op_en.field("OP_EN").get(await bfm.apb(op_en.address, False)) == 1

    await bfm.apb(ptr.address, True, ptr.encode(PRODUCER=1))
    await bfm.apb(op_en.address, True, op_en.encode(OP_EN=1))
    st = await bfm.apb(status.address, False)
    assert status.field("STATUS_1").get(st) == pending, hex(st)
    assert await bfm.apb(scale.address, False) == 0x5678


@cocotb.test()
async def glb_interrupt_mask_set_status(dut):
    bfm = await setup(dut)
    glb = REGMAP.unit("GLB").by_name
    mask, iset, status = glb["S_INTR_MASK"], glb["S_INTR_SET"], glb["S_INTR_STATUS"]
    sdp0 = status.field("SDP_DONE_STATUS0").mask
    cacc1 = status.field("CACC_DONE_STATUS1").mask
    all_bits = status.writable_mask

    assert await bfm.apb(glb["S_NVDLA_HW_VERSION"].address, False) == glb["S_NVDLA_HW_VERSION"].reset
    assert await bfm.apb(mask.address, False) == 0 and not bfm.intr()
    await bfm.apb(mask.address, True, 0xFFFFFFFF)
    assert await bfm.apb(mask.address, False) == mask.writable_mask
    await bfm.apb(iset.address, True, sdp0 | cacc1)
    assert await bfm.apb(iset.address, False) == 0, "S_INTR_SET is write-only"
    assert await bfm.apb(status.address, False) == sdp0 | cacc1, "status is set even when masked"
    await bfm.clocks(1)
    assert not bfm.intr(), "every source masked: no interrupt"
    await bfm.apb(mask.address, True, all_bits & ~sdp0)
    await bfm.clocks(1)
    assert bfm.intr(), "SDP_DONE0 unmasked and set: interrupt"
    await bfm.apb(status.address, True, sdp0)  # write 1 to clear
    assert await bfm.apb(status.address, False) == cacc1
    await bfm.clocks(1)
    assert not bfm.intr()
    await bfm.apb(status.address, True, 0)  # zeros clear nothing
    assert await bfm.apb(status.address, False) == cacc1


GLB_SIDE_EFFECTS = {"S_INTR_SET", "S_INTR_STATUS"}  # a write there sets or clears interrupts


def _mapped(address: int) -> bool:
    return any(u.base >> 12 == address >> 12 for u in REGMAP.units)  # each unit owns one 4 KiB page


@cocotb.test()
async def unit_pages_are_decoded_on_every_address_bit(dut):
    """An address that differs from a register's in any one bit from 12 to 31 and lands outside
    every unit's page is unmapped: it reads 0 and a write there changes nothing (no alias of a
    unit at a high address: mutant nvdla_small_top.66 of `make rtl-mutation` decoded 30:12)."""
    bfm = await setup(dut)
    errors = []
    for unit in REGMAP.units:
        reg = next(r for r in unit.registers if r.writable_mask and r.name not in CONTROL | GLB_SIDE_EFFECTS)
        before = await bfm.apb(reg.address, False)
        for bit in range(12, 32):
            alias = reg.address ^ (1 << bit)
            if _mapped(alias):
                continue
            await bfm.apb(alias, True, ~before & reg.writable_mask)
            if (got := await bfm.apb(alias, False)) != 0:
                errors.append(f"{alias:#010x} (bit {bit} of {reg.trace_name}) reads {got:#x}, expected 0")
            if (got := await bfm.apb(reg.address, False)) != before:
                errors.append(f"a write to {alias:#010x} changed {reg.trace_name} to {got:#x}")
                await bfm.apb(reg.address, True, before)
    assert not errors, f"{len(errors)} decode errors, first: {errors[:5]}"
