// CMAC: the 8x8 int8 multiplier array (CMAC_A and CMAC_B together). One atomic operation per
// clock: for each kernel k, sum over 8 channels of weight x data, exact in 19 bits
// (shared/spec/datapath.md §6). One register stage.
module conv_cmac
  import conv_pkg::*;
(
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic                   valid_i,
  input  atom_t                  data_i,
  input  atom_t [AtomBytes-1:0]  wt_i,
  input  logic [StripeAw-1:0]    slot_i,
  input  logic                   first_i,
  input  logic                   last_i,
  output logic                   valid_o,
  output mac_atom_t sum_o,
  output logic [StripeAw-1:0]    slot_o,
  output logic                   first_o,
  output logic                   last_o
);
  mac_atom_t sum;
  always_comb begin
    for (int k = 0; k < int'(AtomBytes); k++) begin
      sum[k] = '0;
      for (int c = 0; c < int'(AtomBytes); c++) begin
        sum[k] = sum[k] + MacW'(16'(wt_i[k][c]) * 16'(data_i[c]));
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      valid_o <= 1'b0;
      sum_o   <= '0;
      slot_o  <= '0;
      first_o <= 1'b0;
      last_o  <= 1'b0;
    end else begin
      valid_o <= valid_i;
      sum_o   <= sum;
      slot_o  <= slot_i;
      first_o <= first_i;
      last_o  <= last_i;
    end
  end
endmodule
