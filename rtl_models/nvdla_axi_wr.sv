// The single AXI write path: one full 8-byte atom per request, sent as a one-beat burst. Counts
// bursts awaiting their B response so the writer knows when its data has landed.
module nvdla_axi_wr
  import nvdla_pkg::*;
(
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            req_valid_i,
  output logic            req_ready_o,
  input  logic [31:0]     req_addr_i,
  input  logic [63:0]     req_data_i,
  output logic            idle_o,        // nothing buffered, every B received
  output axi_wr_req_t     axi_o,
  input  axi_wr_rsp_t     axi_i
);
  logic aw_pending_q, w_pending_q;
  logic [31:0] addr_q;
  logic [63:0] data_q;
  logic [15:0] outstanding_q;
  logic aw_fire, w_fire, accept;

  assign aw_fire = axi_o.aw_valid && axi_i.aw_ready;
  assign w_fire = axi_o.w_valid && axi_i.w_ready;
  // Take a new atom once both halves of the previous one have gone (or are going) out.
  assign req_ready_o = (!aw_pending_q || aw_fire) && (!w_pending_q || w_fire);
  assign accept = req_valid_i && req_ready_o;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      aw_pending_q <= 1'b0;
      w_pending_q <= 1'b0;
      addr_q <= '0;
      data_q <= '0;
    end else begin
      if (aw_fire) aw_pending_q <= 1'b0;
      if (w_fire) w_pending_q <= 1'b0;
      if (accept) begin
        aw_pending_q <= 1'b1;
        w_pending_q <= 1'b1;
        addr_q <= req_addr_i;
        data_q <= req_data_i;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) outstanding_q <= '0;
    else outstanding_q <= outstanding_q + 16'(accept) - 16'(axi_i.b_valid && axi_o.b_ready);
  end

  assign axi_o.aw = '{id: '0, addr: addr_q, len: 8'd0, size: AxiSizeAtom, burst: AxiBurstIncr};
  assign axi_o.aw_valid = aw_pending_q;
  assign axi_o.w = '{data: data_q, strb: '1, last: 1'b1};
  assign axi_o.w_valid = w_pending_q;
  assign axi_o.b_ready = 1'b1;
  assign idle_o = !aw_pending_q && !w_pending_q && outstanding_q == '0;

  logic unused_bid;
  assign unused_bid = ^axi_i.b.id;  // every write uses ID 0

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni && axi_i.b_valid && axi_i.b.resp != AxiRespOkay)
      $error("%m: write error response %0d", axi_i.b.resp);
  end
`endif

endmodule : nvdla_axi_wr
