// One element through the SDP output converter C (shared/spec/datapath.md §8.4): subtract the
// offset, multiply by the scale, round-shift, clamp to 17 bits (counted) and to int8.
module nvdla_sdp_cvt_lane (
  input  logic signed [31:0]  y_i,
  input  logic signed [31:0]  offset_i,
  input  logic signed [15:0]  scale_i,
  input  logic [5:0]          shift_i,
  output logic [7:0]          out_o,
  output logic                sat17_o      // the counted 17-bit clamp fired
);
  import nvdla_pkg::*;

  logic signed [32:0] d33;
  logic signed [63:0] t;

  assign d33 = 33'(y_i) - 33'(offset_i);
  assign t = shr_round(64'(mul33x16(d33, scale_i)), 32'(shift_i), XInW);
  assign sat17_o = sat(t, CvtMidW) != t;
  assign out_o = 8'(sat(t, 8));  // sat8(sat17(t)) = sat8(t)

endmodule : nvdla_sdp_cvt_lane
