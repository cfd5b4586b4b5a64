// Every RTL build carries the AXI protocol checker on the DUT's memory port (tb_axi_checker.sv),
// on the top's channel structs, before they are flattened into m_axi_* ports.
bind nvdla_small_top tb_axi_checker u_axi_check (
  .clk_i, .rst_ni, .wr_req_i(axi_wr_req), .wr_rsp_i(axi_wr_rsp), .rd_req_i(axi_rd_req), .rd_rsp_i(axi_rd_rsp)
);
