// One SDP operand DMA (BRDMA for X1, NRDMA for X2): reads the operand array in the layout of
// shared/spec/memory-layouts.md §4 and hands out one operand set per atom. PER_ELEMENT arrays
// are read like a feature cube with bpe-byte elements; a PER_KERNEL array is read one surface's
// 8 sets at a time (bpe beats at BASE + s * 8 * bpe) and reused for every (x, y). A packed
// (1x1) PER_ELEMENT array is laid out the same way, whatever its surface stride says.
module nvdla_sdp_operand_reader (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  input  logic                          start_i,
  input  logic [31:0]                   base_i,
  input  logic [31:0]                   line_stride_i,
  input  logic [31:0]                   surf_stride_i,
  input  logic                          packed_i,       // 1x1 cube: surfaces 8 * bpe apart
  input  logic                          two_byte_i,
  input  nvdla_pkg::operand_use_e       use_i,
  input  logic                          per_kernel_i,
  input  logic [nvdla_pkg::DimW-1:0]    width_i,
  input  logic [nvdla_pkg::DimW-1:0]    height_i,
  input  logic [nvdla_pkg::SurfW-1:0]   surfs_i,
  input  logic [27:0]                   atoms_per_surface_i,
  output logic                          rd_req_valid_o,
  input  logic                          rd_req_ready_i,
  output logic [31:0]                   rd_req_addr_o,
  output logic [7:0]                    rd_req_len_o,
  input  logic                          rd_rsp_valid_i,
  output logic                          rd_rsp_ready_o,
  input  logic [63:0]                   rd_rsp_data_i,
  output logic                          op_valid_o,
  input  logic                          op_ready_i,
  output nvdla_pkg::operand_atom_t      op_o
);
  import nvdla_pkg::*;

  logic [2:0] bpe;    // bytes per element = beats per atom
  logic beat_valid, beat_ready;
  logic [63:0] beat;

  assign bpe = (use_i == UseBoth) ? (two_byte_i ? 3'd4 : 3'd2) : (two_byte_i ? 3'd2 : 3'd1);

  nvdla_dma_reader u_reader (
    .clk_i,
    .rst_ni,
    .start_i,
    .base_i,
    .line_stride_i (per_kernel_i ? 32'd0 : line_stride_i),
    .surf_stride_i (per_kernel_i || packed_i ? 32'(bpe) << 3 : surf_stride_i),
    .line_beats_i  (per_kernel_i ? BeatsW'(bpe) : BeatsW'(width_i) * BeatsW'(bpe)),
    .lines_i       (per_kernel_i ? DimW'(1) : height_i),
    .surfs_i,
    .rd_req_valid_o,
    .rd_req_ready_i,
    .rd_req_addr_o,
    .rd_req_len_o,
    .rd_rsp_valid_i,
    .rd_rsp_ready_o,
    .rd_rsp_data_i,
    .beat_valid_o  (beat_valid),
    .beat_ready_i  (beat_ready),
    .beat_data_o   (beat)
  );

  nvdla_sdp_operand_unpack u_unpack (
    .clk_i,
    .rst_ni,
    .start_i,
    .two_byte_i,
    .use_i,
    .per_kernel_i,
    .uses_i        (atoms_per_surface_i),
    .beat_valid_i  (beat_valid),
    .beat_ready_o  (beat_ready),
    .beat_data_i   (beat),
    .op_valid_o,
    .op_ready_i,
    .op_o
  );

endmodule : nvdla_sdp_operand_reader
