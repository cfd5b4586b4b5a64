// AXI4 protocol rules on the DUT's memory port, as concurrent assertions that Verilator checks
// (--assert, on in every build). Bound into nvdla_small_top (tb_axi_checker_bind.sv), so every RTL
// run, cocotb or raw harness, carries it without a port of its own. A failing rule appends one
// line to axi_check.txt in +TB_MEM_DIR (opened per failure: the testbench deletes
// the file before each trace and fails the trace if it reappears); nothing stops the simulation.
//
// Master rules (the DUT): a valid stays up with a stable payload until its ready (AW, W, AR);
// bursts are INCR of 8-byte beats, 8-byte aligned, inside one 4 KiB page (AW, AR); every write
// burst has exactly AWLEN+1 beats, WLAST on the last; no B is accepted without its AW.
// Responder rules (the testbench memory): R and B hold valid and payload until ready.
module tb_axi_checker #(
  parameter int unsigned IdW = 3
) (
  input logic           clk_i,
  input logic           rst_ni,
  input logic [IdW-1:0] m_axi_awid,
  input logic [31:0]    m_axi_awaddr,
  input logic [7:0]     m_axi_awlen,
  input logic [2:0]     m_axi_awsize,
  input logic [1:0]     m_axi_awburst,
  input logic           m_axi_awvalid,
  input logic           m_axi_awready,
  input logic [63:0]    m_axi_wdata,
  input logic [7:0]     m_axi_wstrb,
  input logic           m_axi_wlast,
  input logic           m_axi_wvalid,
  input logic           m_axi_wready,
  input logic [IdW-1:0] m_axi_bid,
  input logic [1:0]     m_axi_bresp,
  input logic           m_axi_bvalid,
  input logic           m_axi_bready,
  input logic [IdW-1:0] m_axi_arid,
  input logic [31:0]    m_axi_araddr,
  input logic [7:0]     m_axi_arlen,
  input logic [2:0]     m_axi_arsize,
  input logic [1:0]     m_axi_arburst,
  input logic           m_axi_arvalid,
  input logic           m_axi_arready,
  input logic [IdW-1:0] m_axi_rid,
  input logic [63:0]    m_axi_rdata,
  input logic [1:0]     m_axi_rresp,
  input logic           m_axi_rlast,
  input logic           m_axi_rvalid,
  input logic           m_axi_rready
);
  localparam logic [1:0] BurstIncr = 2'b01;
  localparam logic [2:0] Size8 = 3'd3;

  logic [63:0] cycle;
  always_ff @(posedge clk_i) cycle <= rst_ni ? cycle + 64'd1 : 64'd0;

  string path;
  initial begin
    string dir;
    if (!$value$plusargs("TB_MEM_DIR=%s", dir)) dir = ".";
    path = {dir, "/axi_check.txt"};
  end

  function automatic logic page_ok(input logic [31:0] addr, input logic [7:0] len);
    return {1'b0, addr[11:0]} + ({5'b0, len} + 13'd1) * 13'd8 <= 13'd4096;
  endfunction

  task automatic fail(input string rule, input logic [31:0] addr);
    int fd;
    fd = $fopen(path, "a");
    if (fd != 0) begin
      $fwrite(fd, "AXI rule %s (cycle %0d, address 0x%08x)\n", rule, cycle, addr);
      $fclose(fd);
    end
  endtask

  // ---- master: handshakes ----
  aw_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      m_axi_awvalid && !m_axi_awready |=> m_axi_awvalid &&
      $stable({m_axi_awid, m_axi_awaddr, m_axi_awlen, m_axi_awsize, m_axi_awburst}))
    else fail("aw_stable: AWVALID dropped or AW payload changed before AWREADY", m_axi_awaddr);
  w_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      m_axi_wvalid && !m_axi_wready |=> m_axi_wvalid && $stable({m_axi_wdata, m_axi_wstrb, m_axi_wlast}))
    else fail("w_stable: WVALID dropped or W payload changed before WREADY", 32'd0);
  ar_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      m_axi_arvalid && !m_axi_arready |=> m_axi_arvalid &&
      $stable({m_axi_arid, m_axi_araddr, m_axi_arlen, m_axi_arsize, m_axi_arburst}))
    else fail("ar_stable: ARVALID dropped or AR payload changed before ARREADY", m_axi_araddr);

  // ---- master: burst shape ----
  aw_burst: assert property (@(posedge clk_i) disable iff (!rst_ni)
      m_axi_awvalid |-> m_axi_awburst == BurstIncr && m_axi_awsize == Size8 && m_axi_awaddr[2:0] == 3'd0 &&
      page_ok(m_axi_awaddr, m_axi_awlen))
    else fail("aw_burst: not an aligned INCR burst of 8-byte beats inside one 4 KiB page", m_axi_awaddr);
  ar_burst: assert property (@(posedge clk_i) disable iff (!rst_ni)
      m_axi_arvalid |-> m_axi_arburst == BurstIncr && m_axi_arsize == Size8 && m_axi_araddr[2:0] == 3'd0 &&
      page_ok(m_axi_araddr, m_axi_arlen))
    else fail("ar_burst: not an aligned INCR burst of 8-byte beats inside one 4 KiB page", m_axi_araddr);

  // ---- master: write bursts match their AW (W may run ahead of AW in AXI4) ----
  // Burst lengths from AW handshakes and beat counts of finished W bursts, paired in order.
  logic [8:0] aw_lens[$];
  logic [8:0] w_lens[$];
  logic [8:0] w_beats;
  logic [31:0] aw_outstanding;   // AWs accepted minus Bs accepted
  logic wlen_bad, b_orphan;
  always_ff @(posedge clk_i) begin
    wlen_bad <= 1'b0;
    b_orphan <= 1'b0;
    if (!rst_ni) begin
      aw_lens.delete();
      w_lens.delete();
      w_beats <= 9'd0;
      aw_outstanding <= 32'd0;
    end else begin
      if (m_axi_awvalid && m_axi_awready) aw_lens.push_back({1'b0, m_axi_awlen} + 9'd1);
      if (m_axi_wvalid && m_axi_wready) begin
        if (m_axi_wlast) begin
          w_lens.push_back(w_beats + 9'd1);
          w_beats <= 9'd0;
        end else begin
          w_beats <= w_beats + 9'd1;
          if (w_beats == 9'd255) wlen_bad <= 1'b1;   // more than 256 beats without WLAST
        end
      end
      if (aw_lens.size() > 0 && w_lens.size() > 0) begin
        if (aw_lens[0] != w_lens[0]) wlen_bad <= 1'b1;
        void'(aw_lens.pop_front());
        void'(w_lens.pop_front());
      end
      b_orphan <= m_axi_bvalid && m_axi_bready &&
                  aw_outstanding + 32'(m_axi_awvalid && m_axi_awready) == 32'd0;
      aw_outstanding <= aw_outstanding + 32'(m_axi_awvalid && m_axi_awready) - 32'(m_axi_bvalid && m_axi_bready);
    end
  end
  w_last: assert property (@(posedge clk_i) disable iff (!rst_ni) !wlen_bad)
    else fail("w_last: a write burst's beat count is not AWLEN+1 (WLAST misplaced)", 32'd0);
  b_after_aw: assert property (@(posedge clk_i) disable iff (!rst_ni) !b_orphan)
    else fail("b_after_aw: a write response was accepted with no write burst outstanding", 32'd0);

  // ---- responder (the testbench memory) ----
  r_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      m_axi_rvalid && !m_axi_rready |=> m_axi_rvalid && $stable({m_axi_rid, m_axi_rdata, m_axi_rresp, m_axi_rlast}))
    else fail("r_stable: RVALID dropped or R payload changed before RREADY", 32'd0);
  b_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      m_axi_bvalid && !m_axi_bready |=> m_axi_bvalid && $stable({m_axi_bid, m_axi_bresp}))
    else fail("b_stable: BVALID dropped or B payload changed before BREADY", 32'd0);
endmodule
