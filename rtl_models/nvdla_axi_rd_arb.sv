// Round-robin arbiter of the DMA read clients onto the AXI AR/R channels. ARID is the client
// index and R beats are routed back by RID, so each client sees its own responses in order.
module nvdla_axi_rd_arb
  import nvdla_pkg::*;
#(
  parameter int unsigned NumClients = NumRdClients
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
  output axi_rd_req_t                  axi_o,
  input  axi_rd_rsp_t                  axi_i
);
  logic [AxiIdW-1:0] last_q, grant, held_q;
  logic holding_q, found;

  // Search from the client after the last one served; keep the grant while AR waits so the
  // request on the bus stays stable (AXI rule).
  always_comb begin
    logic [AxiIdW-1:0] c;
    c = '0;
    grant = held_q;
    found = holding_q;
    if (!holding_q) begin
      for (int unsigned i = 1; i <= NumClients; i++) begin
        c = AxiIdW'((32'(last_q) + i) % NumClients);
        if (!found && req_valid_i[c]) begin
          grant = c;
          found = 1'b1;
        end
      end
    end
  end

  assign axi_o.ar_valid = found;
  assign axi_o.ar = '{id: grant, addr: req_addr_i[grant], len: req_len_i[grant], size: AxiSizeAtom,
                      burst: AxiBurstIncr};

  always_comb begin
    req_ready_o = '0;
    req_ready_o[grant] = found && axi_i.ar_ready;
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      last_q <= AxiIdW'(NumClients - 1);
      held_q <= '0;
      holding_q <= 1'b0;
    end else begin
      holding_q <= found && !axi_i.ar_ready;
      held_q <= grant;
      if (found && axi_i.ar_ready) last_q <= grant;
    end
  end

  always_comb begin
    rsp_valid_o = '0;
    rsp_valid_o[axi_i.r.id] = axi_i.r_valid;
  end
  assign rsp_data_o = axi_i.r.data;
  assign axi_o.r_ready = rsp_ready_i[axi_i.r.id];

  // RRESP and RLAST carry nothing a client needs: every burst length is known to its reader.
  logic unused_r;
  assign unused_r = ^{axi_i.r.resp, axi_i.r.last};

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni && axi_i.r_valid && axi_o.r_ready && axi_i.r.resp != AxiRespOkay)
      $error("%m: read error response %0d for client %0d", axi_i.r.resp, axi_i.r.id);
    // Bursts across 4 KiB and the other AXI4 rules: tb/hdl/tb_axi_checker.sv, bound to the top.
  end
`endif

endmodule : nvdla_axi_rd_arb
