// CDMA input converter (shared/spec/datapath.md §4) on the 8 lanes of one feature atom:
// y = sat8(shr_round((x - offset) * scale, truncate, 34, 17)). Offset is subtracted, as in
// NVDLA's RTL (the RDL text says "added"). Combinational; the caller registers the result.
module conv_cdma_cvt
  import conv_pkg::*;
  import nvdla_pkg::shr_round, nvdla_pkg::sat;
(
  input  logic        en_i,         // CVT_EN: 0 passes the bytes unchanged
  input  logic [15:0] offset_i,
  input  logic [15:0] scale_i,
  input  logic [5:0]  truncate_i,
  input  atom_t       data_i,
  output atom_t       data_o
);
  for (genvar l = 0; l < int'(AtomBytes); l++) begin : g_lane
    logic signed [17:0] d18;
    logic signed [33:0] m34;
    logic signed [63:0] t;
    always_comb begin
      d18 = 18'(data_i[l]) - 18'($signed(offset_i));
      m34 = 34'(d18) * 34'($signed(scale_i));
      t   = sat(shr_round(64'(m34), 32'(truncate_i), 34), 17);
      data_o[l] = en_i ? int8_t'(sat(t, 8)) : data_i[l];
    end
  end
endmodule
