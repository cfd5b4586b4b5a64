// CACC: per output position of the stripe, a 34-bit partial sum per kernel lane, saturated at
// every addition; on the last operation the sum is rounded (ties away from zero) by
// CLIP_TRUNCATE and saturated to int32 (shared/spec/datapath.md §7), counted when that clamp
// fires, and queued for the SDP in output order.
module conv_cacc
  import conv_pkg::*;
  import nvdla_pkg::shr_round, nvdla_pkg::sat;
(
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic                   start_i,
  input  logic [4:0]             clip_truncate_i,
  input  logic                   valid_i,
  input  mac_atom_t sum_i,
  input  logic [StripeAw-1:0]    slot_i,
  input  logic                   first_i,
  input  logic                   last_i,
  // CACC -> SDP atom stream (flying mode)
  output logic                   cacc2sdp_valid_o,
  input  logic                   cacc2sdp_ready_i,
  output acc_atom_t              cacc2sdp_data_o,
  output logic [31:0]            sat_count_o,   // int32 clamps since start (saturating)
  output logic                   empty_o
);
  localparam int unsigned FifoDepth = 2 * Stripe;  // conv_csc reserves slots against this
  localparam int unsigned FifoAw = $clog2(FifoDepth);

  logic signed [PsumW-1:0] acc_q [Stripe][AtomBytes];
  logic signed [PsumW-1:0] psum [AtomBytes];
  acc_atom_t out;
  logic [3:0] nsat;

  always_comb begin
    nsat = '0;
    for (int k = 0; k < int'(AtomBytes); k++) begin
      logic signed [63:0] base, t;
      base = first_i ? 64'sd0 : 64'(acc_q[slot_i][k]);
      psum[k] = PsumW'(sat(base + 64'(sum_i[k]), PsumW));
      t = shr_round(64'(psum[k]), 32'(clip_truncate_i), PsumW, CaccStickyW);
      out[k] = int32_t'(sat(t, 32));
      nsat = nsat + 4'(t != 64'(out[k]));
    end
  end

  always_ff @(posedge clk_i) begin
    if (valid_i) begin
      for (int k = 0; k < int'(AtomBytes); k++) acc_q[slot_i][k] <= psum[k];
    end
  end

  // ---------------------------------------------------------------- output FIFO
  acc_atom_t fifo_q [FifoDepth];
  logic [FifoAw:0] wp_q, rp_q;
  logic [31:0] sat_q;
  logic push, pop;
  logic [32:0] sat_sum;
  assign push = valid_i && last_i;
  assign pop  = cacc2sdp_valid_o && cacc2sdp_ready_i;
  assign sat_sum = 33'(sat_q) + 33'(push ? nsat : 4'd0);

  always_ff @(posedge clk_i) begin
    if (push) fifo_q[wp_q[FifoAw-1:0]] <= out;
    if (!rst_ni || start_i) begin
      wp_q  <= '0;
      rp_q  <= '0;
      sat_q <= '0;
    end else begin
      wp_q  <= wp_q + (FifoAw+1)'(push);
      rp_q  <= rp_q + (FifoAw+1)'(pop);
      sat_q <= sat_sum[32] ? 32'hffff_ffff : sat_sum[31:0];
    end
  end

  assign cacc2sdp_valid_o = (wp_q != rp_q);
  assign cacc2sdp_data_o  = fifo_q[rp_q[FifoAw-1:0]];
  assign sat_count_o      = sat_q;
  assign empty_o          = (wp_q == rp_q);
endmodule
