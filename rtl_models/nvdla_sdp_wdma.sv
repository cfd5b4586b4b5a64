// SDP write DMA: writes the output atom stream (surface, line, column order) to memory in the
// feature-surface layout of the SDP D_DST_* registers (memory-layouts §5); done once every
// atom has been acknowledged by the memory.
module nvdla_sdp_wdma (
  input  logic                         clk_i,
  input  logic                         rst_ni,
  input  logic                         start_i,
  input  logic [31:0]                  base_i,
  input  logic [31:0]                  line_stride_i,
  input  logic [31:0]                  surf_stride_i,
  input  logic [nvdla_pkg::DimW-1:0]   width_i,       // atoms per line
  input  logic [nvdla_pkg::DimW-1:0]   height_i,
  input  logic [nvdla_pkg::SurfW-1:0]  surfs_i,
  input  logic                         atom_valid_i,
  output logic                         atom_ready_o,
  input  nvdla_pkg::atom8_t            atom_i,
  output logic                         wr_valid_o,
  input  logic                         wr_ready_i,
  output logic [31:0]                  wr_addr_o,
  output logic [63:0]                  wr_data_o,
  input  logic                         wr_idle_i,
  output logic                         done_o         // pulse
);
  import nvdla_pkg::*;

  logic active_q, sent_all_q;
  logic [31:0] line_addr_q, surf_addr_q;
  logic [DimW-1:0] x_q, y_q;
  logic [SurfW-1:0] s_q;
  logic fire;

  assign wr_valid_o = active_q && !sent_all_q && atom_valid_i;
  assign atom_ready_o = active_q && !sent_all_q && wr_ready_i;
  assign wr_addr_o = line_addr_q + {15'b0, x_q, 3'b000};
  assign wr_data_o = atom_i;
  assign fire = wr_valid_o && wr_ready_i;
  assign done_o = active_q && sent_all_q && wr_idle_i;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      active_q <= 1'b0;
      sent_all_q <= 1'b0;
      line_addr_q <= '0;
      surf_addr_q <= '0;
      x_q <= '0;
      y_q <= '0;
      s_q <= '0;
    end else if (start_i) begin
      active_q <= 1'b1;
      sent_all_q <= 1'b0;
      line_addr_q <= base_i;
      surf_addr_q <= base_i;
      x_q <= '0;
      y_q <= '0;
      s_q <= '0;
    end else if (done_o) begin
      active_q <= 1'b0;
    end else if (fire) begin
      if (x_q + 1'b1 != width_i) begin
        x_q <= x_q + 1'b1;
      end else begin
        x_q <= '0;
        if (y_q + 1'b1 != height_i) begin
          y_q <= y_q + 1'b1;
          line_addr_q <= line_addr_q + line_stride_i;
        end else begin
          y_q <= '0;
          line_addr_q <= surf_addr_q + surf_stride_i;
          surf_addr_q <= surf_addr_q + surf_stride_i;
          if (s_q + 1'b1 != surfs_i) s_q <= s_q + 1'b1;
          else sent_all_q <= 1'b1;
        end
      end
    end
  end

endmodule : nvdla_sdp_wdma
