// Round-robin arbiter of the DMA read clients onto the AXI AR/R channels. ARID is the client
// index and R beats are routed back by RID, so each client sees its own responses in order.
module nvdla_axi_rd_arb #(
  parameter int unsigned NumClients = nvdla_pkg::NumRdClients,
  parameter int unsigned IdW = nvdla_pkg::RdIdW
) (
  input  logic                         clk_i,
  input  logic                         rst_ni,
  input  logic [NumClients-1:0]        req_valid_i,
  output logic [NumClients-1:0]        req_ready_o,
  input  logic [NumClients-1:0][31:0]  req_addr_i,
  input  logic [NumClients-1:0][7:0]   req_len_i,
  output logic [NumClients-1:0]        rsp_valid_o,
  input  logic [NumClients-1:0]        rsp_ready_i,
  output logic [63:0]                  rsp_data_o,     // shared; valid for the client in rsp_valid_o
  // AXI4 read channels
  output logic [IdW-1:0]               m_axi_arid,
  output logic [31:0]                  m_axi_araddr,
  output logic [7:0]                   m_axi_arlen,
  output logic [2:0]                   m_axi_arsize,
  output logic [1:0]                   m_axi_arburst,
  output logic                         m_axi_arvalid,
  input  logic                         m_axi_arready,
  input  logic [IdW-1:0]               m_axi_rid,
  input  logic [63:0]                  m_axi_rdata,
  input  logic [1:0]                   m_axi_rresp,
  input  logic                         m_axi_rlast,
  input  logic                         m_axi_rvalid,
  output logic                         m_axi_rready
);
  logic [IdW-1:0] last_q, grant, held_q;
  logic holding_q, found;

  // Search from the client after the last one served; keep the grant while AR waits so the
  // request on the bus stays stable (AXI rule).
  always_comb begin
    logic [IdW-1:0] c;
    c = '0;
    grant = held_q;
    found = holding_q;
    if (!holding_q) begin
      for (int unsigned i = 1; i <= NumClients; i++) begin
        c = IdW'((32'(last_q) + i) % NumClients);
        if (!found && req_valid_i[c]) begin
          grant = c;
          found = 1'b1;
        end
      end
    end
  end

  assign m_axi_arvalid = found;
  assign m_axi_arid = grant;
  assign m_axi_araddr = req_addr_i[grant];
  assign m_axi_arlen = req_len_i[grant];
  assign m_axi_arsize = 3'd3;   // 8 bytes a beat
  assign m_axi_arburst = 2'b01; // INCR

  always_comb begin
    req_ready_o = '0;
    req_ready_o[grant] = found && m_axi_arready;
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      last_q <= IdW'(NumClients - 1);
      held_q <= '0;
      holding_q <= 1'b0;
    end else begin
      holding_q <= found && !m_axi_arready;
      held_q <= grant;
      if (found && m_axi_arready) last_q <= grant;
    end
  end

  always_comb begin
    rsp_valid_o = '0;
    rsp_valid_o[m_axi_rid] = m_axi_rvalid;
  end
  assign rsp_data_o = m_axi_rdata;
  assign m_axi_rready = rsp_ready_i[m_axi_rid];

  // RRESP and RLAST carry nothing a client needs: every burst length is known to its reader.
  logic unused_r;
  assign unused_r = ^{m_axi_rresp, m_axi_rlast};

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni && m_axi_rvalid && m_axi_rready && m_axi_rresp != 2'b00)
      $error("%m: read error response %0d for client %0d", m_axi_rresp, m_axi_rid);
  end
`endif

endmodule : nvdla_axi_rd_arb
