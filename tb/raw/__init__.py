"""The raw harness: the same Verilated harness as the cocotb flow (tb/hdl/tb_top.sv around
rtl_models/), driven by a small C++ main (main.cpp) with no Python in the loop. It replays
digested traces (digest.py: memory load files + a flat command list), checks each check_crc and
reports cycles; the speed-of-light reference of bench/bench_rtl_speed.py. Run:
`python -m tb.raw TRACE.cfg|DIR ...` (docs/rtl-speed.md)."""
