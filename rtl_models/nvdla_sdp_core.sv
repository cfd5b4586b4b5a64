// SDP datapath, one atom (8 elements) per clock: X1 (BS) -> X2 (BN) -> output converter C, with
// the BRDMA/NRDMA operand streams joined to the input atom stream. The output register also
// holds the stage taps (input, X1, X2) the testbench compares with the golden model.
module nvdla_sdp_core (
  input  logic                         clk_i,
  input  logic                         rst_ni,
  input  logic                         start_i,       // layer start: clears the saturation count
  input  nvdla_pkg::x_cfg_t            x1_cfg_i,
  input  nvdla_pkg::x_cfg_t            x2_cfg_i,
  input  logic signed [31:0]           cvt_offset_i,
  input  logic signed [15:0]           cvt_scale_i,
  input  logic [5:0]                   cvt_shift_i,
  input  logic                         sat_count_en_i, // D_PERF_ENABLE.PERF_SAT_EN
  input  logic                         bs_stream_i,    // BRDMA runs: one operand set per atom
  input  logic                         bn_stream_i,    // NRDMA runs
  input  logic                         in_valid_i,
  output logic                         in_ready_o,
  input  nvdla_pkg::atom32_t           in_atom_i,
  input  logic                         bs_valid_i,
  output logic                         bs_ready_o,
  input  nvdla_pkg::operand_atom_t     bs_i,
  input  logic                         bn_valid_i,
  output logic                         bn_ready_o,
  input  nvdla_pkg::operand_atom_t     bn_i,
  output logic                         out_valid_o,
  input  logic                         out_ready_i,
  output nvdla_pkg::atom8_t            out_atom_o,
  output logic [31:0]                  sat_count_o,   // 17-bit clamps this layer
  output nvdla_pkg::atom32_t           tap_in_o,      // stage taps of the atom in out_atom_o
  output nvdla_pkg::atom32_t           tap_x1_o,
  output nvdla_pkg::atom32_t           tap_x2_o
);
  import nvdla_pkg::*;

  atom32_t x1, x2;
  atom8_t out;
  logic [Atom-1:0] sat17;
  logic fire, operands_ready;
  logic [3:0] sat_in_atom;

  assign operands_ready = (!bs_stream_i || bs_valid_i) && (!bn_stream_i || bn_valid_i);
  assign fire = in_valid_i && operands_ready && (!out_valid_o || out_ready_i);
  assign in_ready_o = fire;
  assign bs_ready_o = fire && bs_stream_i;
  assign bn_ready_o = fire && bn_stream_i;

  for (genvar l = 0; l < Atom; l++) begin : g_lane
    nvdla_sdp_x_lane u_x1 (
      .cfg_i    (x1_cfg_i),
      .x_i      (in_atom_i[l]),
      .mem_alu_i(bs_i[l].alu),
      .mem_mul_i(bs_i[l].mul),
      .y_o      (x1[l])
    );
    nvdla_sdp_x_lane u_x2 (
      .cfg_i    (x2_cfg_i),
      .x_i      (x1[l]),
      .mem_alu_i(bn_i[l].alu),
      .mem_mul_i(bn_i[l].mul),
      .y_o      (x2[l])
    );
    nvdla_sdp_cvt_lane u_cvt (
      .y_i      (x2[l]),
      .offset_i (cvt_offset_i),
      .scale_i  (cvt_scale_i),
      .shift_i  (cvt_shift_i),
      .out_o    (out[l]),
      .sat17_o  (sat17[l])
    );
  end

  always_comb begin
    sat_in_atom = '0;
    for (int unsigned l = 0; l < Atom; l++) sat_in_atom = sat_in_atom + 4'(sat17[l]);
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      out_valid_o <= 1'b0;
      out_atom_o <= '0;
      tap_in_o <= '0;
      tap_x1_o <= '0;
      tap_x2_o <= '0;
    end else begin
      if (out_valid_o && out_ready_i) out_valid_o <= 1'b0;
      if (fire) begin
        out_valid_o <= 1'b1;
        out_atom_o <= out;
        tap_in_o <= in_atom_i;
        tap_x1_o <= x1;
        tap_x2_o <= x2;
      end
    end
  end

  // Counts every lane of every atom, the lanes past the last channel included: the hardware
  // converts whole atoms (datapath §8.6). Saturates at 2^32 - 1 (§8.4).
  always_ff @(posedge clk_i) begin
    if (!rst_ni || start_i) sat_count_o <= '0;
    else if (fire && sat_count_en_i) begin
      if (sat_count_o > 32'hffff_ffff - 32'(sat_in_atom)) sat_count_o <= 32'hffff_ffff;
      else sat_count_o <= sat_count_o + 32'(sat_in_atom);
    end
  end

endmodule : nvdla_sdp_core
