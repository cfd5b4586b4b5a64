"""cocotb entry point: replays the traces listed in $TB_TRACES on the RTL through the pyuvm
environment (tb/uvm/env.py) and appends one JSON outcome per trace to $TB_RESULTS."""
import cocotb
from pyuvm import uvm_root

from tb.uvm.env import TracePlayerTest


@cocotb.test()
async def play_traces(dut):
    TracePlayerTest.dut = dut
    await uvm_root().run_test(TracePlayerTest)
