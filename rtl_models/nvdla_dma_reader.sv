// Reads a strided cube from memory as a stream of 8-byte beats in address order: surfaces outer,
// then lines, then the contiguous bytes of a line. Bursts stop at MaxBurst beats and at 4 KiB
// boundaries, and are only requested when the FIFO has room for every beat in flight, so the
// response channel never waits on this client (no cross-client deadlock on in-order memories).
module nvdla_dma_reader #(
  parameter int unsigned FifoDepth = 64,   // beats buffered; also the credit limit
  parameter int unsigned MaxBurst = 16     // beats per AXI burst
) (
  input  logic                            clk_i,
  input  logic                            rst_ni,
  input  logic                            start_i,        // pulse: latch geometry and begin
  input  logic [31:0]                     base_i,         // 8-byte aligned
  input  logic [31:0]                     line_stride_i,
  input  logic [31:0]                     surf_stride_i,
  input  logic [nvdla_pkg::BeatsW-1:0]    line_beats_i,   // >= 1
  input  logic [nvdla_pkg::DimW-1:0]      lines_i,        // lines per surface, >= 1
  input  logic [nvdla_pkg::SurfW-1:0]     surfs_i,        // >= 1
  // read client port (docs/rtl-architecture.md)
  output logic                            rd_req_valid_o,
  input  logic                            rd_req_ready_i,
  output logic [31:0]                     rd_req_addr_o,
  output logic [7:0]                      rd_req_len_o,   // beats - 1
  input  logic                            rd_rsp_valid_i,
  output logic                            rd_rsp_ready_o,
  input  logic [63:0]                     rd_rsp_data_i,
  // beats, in address order
  output logic                            beat_valid_o,
  input  logic                            beat_ready_i,
  output logic [63:0]                     beat_data_o
);
  import nvdla_pkg::*;

  localparam int unsigned CountW = $clog2(FifoDepth) + 1;
  localparam int unsigned LenW = $clog2(MaxBurst) + 1;  // a burst's beats, 1..MaxBurst

  logic active_q;
  logic [31:0] line_addr_q, surf_addr_q, line_stride_q, surf_stride_q;
  logic [BeatsW-1:0] beat_q, line_beats_q;
  logic [DimW-1:0] line_q, lines_q;
  logic [SurfW-1:0] surf_q, surfs_q;
  logic [CountW-1:0] inflight_q, fifo_count;
  logic fifo_empty, fifo_full;

  logic [31:0] addr;
  logic [BeatsW-1:0] beats_left;
  logic [LenW-1:0] len;
  logic has_credit, req_fire, last_burst_of_line;

  assign addr = line_addr_q + {13'b0, beat_q, 3'b000};
  assign beats_left = line_beats_q - beat_q;
  assign len = LenW'(burst_beats(addr[11:3], 32'(beats_left), MaxBurst));

  assign has_credit = (32'(fifo_count) + 32'(inflight_q) + 32'(len)) <= FifoDepth;
  assign rd_req_valid_o = active_q && has_credit;
  assign rd_req_addr_o = addr;
  assign rd_req_len_o = 8'(len - 1'b1);
  assign req_fire = rd_req_valid_o && rd_req_ready_i;
  assign last_burst_of_line = (BeatsW'(len) == beats_left);

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      active_q <= 1'b0;
      line_addr_q <= '0;
      surf_addr_q <= '0;
      line_stride_q <= '0;
      surf_stride_q <= '0;
      beat_q <= '0;
      line_beats_q <= '0;
      line_q <= '0;
      lines_q <= '0;
      surf_q <= '0;
      surfs_q <= '0;
    end else if (start_i) begin
      active_q <= 1'b1;
      line_addr_q <= base_i;
      surf_addr_q <= base_i;
      line_stride_q <= line_stride_i;
      surf_stride_q <= surf_stride_i;
      beat_q <= '0;
      line_beats_q <= line_beats_i;
      line_q <= '0;
      lines_q <= lines_i;
      surf_q <= '0;
      surfs_q <= surfs_i;
    end else if (req_fire) begin
      if (!last_burst_of_line) begin
        beat_q <= beat_q + BeatsW'(len);
      end else begin
        beat_q <= '0;
        if (line_q + 1'b1 != lines_q) begin
          line_q <= line_q + 1'b1;
          line_addr_q <= line_addr_q + line_stride_q;
        end else begin
          line_q <= '0;
          line_addr_q <= surf_addr_q + surf_stride_q;
          surf_addr_q <= surf_addr_q + surf_stride_q;
          if (surf_q + 1'b1 != surfs_q) surf_q <= surf_q + 1'b1;
          else active_q <= 1'b0;
        end
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) inflight_q <= '0;
    else inflight_q <= inflight_q + (req_fire ? CountW'(len) : '0)
                       - CountW'(rd_rsp_valid_i && rd_rsp_ready_o);
  end

  assign rd_rsp_ready_o = !fifo_full;

  nvdla_fifo #(.Width(64), .Depth(FifoDepth)) u_fifo (
    .clk_i,
    .rst_ni,
    .push_i (rd_rsp_valid_i),
    .data_i (rd_rsp_data_i),
    .pop_i  (beat_valid_o && beat_ready_i),
    .data_o (beat_data_o),
    .empty_o(fifo_empty),
    .full_o (fifo_full),
    .count_o(fifo_count)
  );

  assign beat_valid_o = !fifo_empty;

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni && start_i && base_i[2:0] != 3'b000) $error("%m: base %h is not 8-byte aligned", base_i);
  end
`endif

endmodule : nvdla_dma_reader
