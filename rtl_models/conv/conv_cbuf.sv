// Convolution buffer: 32 banks x 512 entries x 8 bytes, one entry address space. The data
// region is banks 0..DATA_BANK, the weight region the WEIGHT_BANK+1 banks after it; the
// clients compute entry addresses inside their region (conv_core checks the split is legal).
// The two regions never share a bank, so a data and a weight access proceed in the same cycle.
module conv_cbuf
  import conv_pkg::*;
(
  input  logic              clk_i,
  input  logic              dat_wr_en_i,
  input  logic [CbufAw-1:0] dat_wr_addr_i,
  input  atom_t             dat_wr_data_i,
  input  logic              wt_wr_en_i,
  input  logic [CbufAw-1:0] wt_wr_addr_i,
  input  atom_t             wt_wr_data_i,
  input  logic              dat_rd_en_i,
  input  logic [CbufAw-1:0] dat_rd_addr_i,
  output atom_t             dat_rd_data_o,    // one cycle after dat_rd_en_i
  input  logic              wt_rd_en_i,
  input  logic [CbufAw-1:0] wt_rd_addr_i,
  output atom_t             wt_rd_data_o
);
  atom_t mem [CbufEntries];

  always_ff @(posedge clk_i) begin
    if (dat_wr_en_i) mem[dat_wr_addr_i] <= dat_wr_data_i;
    if (wt_wr_en_i) mem[wt_wr_addr_i] <= wt_wr_data_i;
    if (dat_rd_en_i) dat_rd_data_o <= mem[dat_rd_addr_i];
    if (wt_rd_en_i) wt_rd_data_o <= mem[wt_rd_addr_i];
  end
endmodule
