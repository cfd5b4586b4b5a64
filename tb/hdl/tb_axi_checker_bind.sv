// Every RTL build carries the AXI protocol checker on the DUT's memory port (tb_axi_checker.sv).
bind nvdla_small_top tb_axi_checker #(.IdW(nvdla_pkg::RdIdW)) u_axi_check (.*);
