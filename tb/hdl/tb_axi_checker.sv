// AXI4 protocol rules on the DUT's memory port (its nvdla_pkg channel structs), as concurrent
// assertions that Verilator checks (--assert, on in every build). Bound into nvdla_small_top
// (tb_axi_checker_bind.sv), so every RTL run, cocotb or raw harness, carries it without a port of
// its own. A failing rule appends one line to axi_check.txt in +TB_MEM_DIR (opened per failure:
// the testbench deletes the file before each trace and fails the trace if it reappears); nothing
// stops the simulation.
//
// Master rules (the DUT): a valid stays up with a stable payload until its ready (AW, W, AR);
// bursts are INCR of 8-byte beats, 8-byte aligned, inside one 4 KiB page (AW, AR); every write
// burst has exactly AWLEN+1 beats, WLAST on the last; no B is accepted without its AW.
// Responder rules (the testbench memory): R and B hold valid and payload until ready.
module tb_axi_checker
  import nvdla_pkg::*;
(
  input logic        clk_i,
  input logic        rst_ni,
  input axi_wr_req_t wr_req_i,
  input axi_wr_rsp_t wr_rsp_i,
  input axi_rd_req_t rd_req_i,
  input axi_rd_rsp_t rd_rsp_i
);
  // The protocol's own encodings, not nvdla_pkg's: a fault in the DUT's constants must not move
  // the rule with it (mutant nvdla_pkg.70 of `make rtl-mutation`, AxiBurstIncr = FIXED).
  localparam logic [2:0] Size8 = 3'd3;   // 8-byte beats
  localparam logic [1:0] BurstIncr = 2'b01;

  logic [63:0] cycle;
  always_ff @(posedge clk_i) cycle <= rst_ni ? cycle + 64'd1 : 64'd0;

  string path;
  initial begin
    string dir;
    if (!$value$plusargs("TB_MEM_DIR=%s", dir)) dir = ".";
    path = {dir, "/axi_check.txt"};
  end

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
      wr_req_i.aw_valid && !wr_rsp_i.aw_ready |=> wr_req_i.aw_valid && $stable(wr_req_i.aw))
    else fail("aw_stable: AWVALID dropped or AW payload changed before AWREADY", wr_req_i.aw.addr);
  w_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      wr_req_i.w_valid && !wr_rsp_i.w_ready |=> wr_req_i.w_valid && $stable(wr_req_i.w))
    else fail("w_stable: WVALID dropped or W payload changed before WREADY", 32'd0);
  ar_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      rd_req_i.ar_valid && !rd_rsp_i.ar_ready |=> rd_req_i.ar_valid && $stable(rd_req_i.ar))
    else fail("ar_stable: ARVALID dropped or AR payload changed before ARREADY", rd_req_i.ar.addr);

  // ---- master: burst shape ----
  function automatic logic shape_ok(input axi_ax_t ax);
    return ax.burst == BurstIncr && ax.size == Size8 && ax.addr[2:0] == 3'd0 &&
           {1'b0, ax.addr[11:0]} + ({5'b0, ax.len} + 13'd1) * 13'd8 <= 13'd4096;
  endfunction
  aw_burst: assert property (@(posedge clk_i) disable iff (!rst_ni) wr_req_i.aw_valid |-> shape_ok(wr_req_i.aw))
    else fail("aw_burst: not an aligned INCR burst of 8-byte beats inside one 4 KiB page", wr_req_i.aw.addr);
  ar_burst: assert property (@(posedge clk_i) disable iff (!rst_ni) rd_req_i.ar_valid |-> shape_ok(rd_req_i.ar))
    else fail("ar_burst: not an aligned INCR burst of 8-byte beats inside one 4 KiB page", rd_req_i.ar.addr);

  // ---- master: write bursts match their AW (W may run ahead of AW in AXI4) ----
  // Burst lengths from AW handshakes and beat counts of finished W bursts, paired in order.
  logic aw_fire, w_fire, b_fire;
  assign aw_fire = wr_req_i.aw_valid && wr_rsp_i.aw_ready;
  assign w_fire = wr_req_i.w_valid && wr_rsp_i.w_ready;
  assign b_fire = wr_rsp_i.b_valid && wr_req_i.b_ready;
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
      if (aw_fire) aw_lens.push_back({1'b0, wr_req_i.aw.len} + 9'd1);
      if (w_fire) begin
        if (wr_req_i.w.last) begin
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
      b_orphan <= b_fire && aw_outstanding + 32'(aw_fire) == 32'd0;
      aw_outstanding <= aw_outstanding + 32'(aw_fire) - 32'(b_fire);
    end
  end
  w_last: assert property (@(posedge clk_i) disable iff (!rst_ni) !wlen_bad)
    else fail("w_last: a write burst's beat count is not AWLEN+1 (WLAST misplaced)", 32'd0);
  b_after_aw: assert property (@(posedge clk_i) disable iff (!rst_ni) !b_orphan)
    else fail("b_after_aw: a write response was accepted with no write burst outstanding", 32'd0);

  // ---- responder (the testbench memory) ----
  r_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      rd_rsp_i.r_valid && !rd_req_i.r_ready |=> rd_rsp_i.r_valid && $stable(rd_rsp_i.r))
    else fail("r_stable: RVALID dropped or R payload changed before RREADY", 32'd0);
  b_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      wr_rsp_i.b_valid && !wr_req_i.b_ready |=> wr_rsp_i.b_valid && $stable(wr_rsp_i.b))
    else fail("b_stable: BVALID dropped or B payload changed before BREADY", 32'd0);
endmodule
