// The single AXI write path: one full 8-byte atom per request, sent as a one-beat burst. Counts
// bursts awaiting their B response so the writer knows when its data has landed.
module nvdla_axi_wr #(
  parameter int unsigned IdW = nvdla_pkg::RdIdW
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            req_valid_i,
  output logic            req_ready_o,
  input  logic [31:0]     req_addr_i,
  input  logic [63:0]     req_data_i,
  output logic            idle_o,        // nothing buffered, every B received
  output logic [IdW-1:0]  m_axi_awid,
  output logic [31:0]     m_axi_awaddr,
  output logic [7:0]      m_axi_awlen,
  output logic [2:0]      m_axi_awsize,
  output logic [1:0]      m_axi_awburst,
  output logic            m_axi_awvalid,
  input  logic            m_axi_awready,
  output logic [63:0]     m_axi_wdata,
  output logic [7:0]      m_axi_wstrb,
  output logic            m_axi_wlast,
  output logic            m_axi_wvalid,
  input  logic            m_axi_wready,
  input  logic [IdW-1:0]  m_axi_bid,
  input  logic [1:0]      m_axi_bresp,
  input  logic            m_axi_bvalid,
  output logic            m_axi_bready
);
  logic aw_pending_q, w_pending_q;
  logic [31:0] addr_q;
  logic [63:0] data_q;
  logic [15:0] outstanding_q;
  logic aw_fire, w_fire, accept;

  assign aw_fire = m_axi_awvalid && m_axi_awready;
  assign w_fire = m_axi_wvalid && m_axi_wready;
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
    else outstanding_q <= outstanding_q + 16'(accept) - 16'(m_axi_bvalid && m_axi_bready);
  end

  assign m_axi_awid = '0;
  assign m_axi_awaddr = addr_q;
  assign m_axi_awlen = 8'd0;
  assign m_axi_awsize = 3'd3;
  assign m_axi_awburst = 2'b01;
  assign m_axi_awvalid = aw_pending_q;
  assign m_axi_wdata = data_q;
  assign m_axi_wstrb = 8'hff;
  assign m_axi_wlast = 1'b1;
  assign m_axi_wvalid = w_pending_q;
  assign m_axi_bready = 1'b1;
  assign idle_o = !aw_pending_q && !w_pending_q && outstanding_q == '0;

  logic unused_bid;
  assign unused_bid = ^m_axi_bid;  // every write uses ID 0

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni && m_axi_bvalid && m_axi_bresp != 2'b00) $error("%m: write error response %0d", m_axi_bresp);
  end
`endif

endmodule : nvdla_axi_wr
