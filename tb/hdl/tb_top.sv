// Test harness around nvdla_small_top: the APB master that plays register accesses (tb_apb_master,
// with its log of every access for the APB monitor); the fast-mode AXI memory (tb_axi_mem) or,
// with ext_mem_en, the DUT's AXI port passed out to cocotbext-axi's AxiRam; a cycle counter; a
// no-progress watchdog; capture buffers for the SDP stage taps, read by the scoreboard to say at
// which stage a mismatch began; a log of committed writes and SDP done pulses (the late-write
// check) and, from the AXI write-bus monitor, every write beat with its data. The testbench
// reads those buffers and the APB log, and writes the APB program and the
// fast memory, in place (public arrays, tb/hdl/tb_shared.cpp), while the DUT is idle; and the fault injections of the checker's mutation tests
// (mut_*: each makes the harness, never the checker, misbehave in one way).
//
// Speed (docs/rtl-speed.md): no combinational path starts at an input of this module. Inputs
// feed flops only (static controls are registered, pulses are taken by clocked blocks), so the
// simulator evaluates the model's logic once a clock cycle rather than on every evaluation, and
// the testbench never drives a pin per clock. Built with TB_SV_MEM_ONLY (the cocotb fast mode,
// the raw harness) the AxiRam inputs are not read at all.
module tb_top #(
  parameter int unsigned TapDepth = 65536   // atoms of stage taps kept per layer
) (
  input  logic        clk_in,          // from cocotb, or from the fast build's C++ main
  input  logic        rst_n,
  // The testbench waits for intr, watchdog_fired or a timer only: the fast build's main may then
  // evaluate clock edges without scheduling callbacks until one of them happens.
  input  logic        turbo,
  // register accesses (tb_apb_master): a go pulse plays one access or a run of writes (u_apb.prog)
  input  logic        apb_go,
  input  logic        apb_batch,
  input  logic [31:0] apb_len,
  input  logic        apb_write,
  input  logic [31:0] apb_addr,
  input  logic [31:0] apb_wdata,
  output logic        apb_done,
  output logic [31:0] apb_rdata,
  output logic [31:0] alog_count,       // APB accesses logged since tap_clear (u_apb.log_q)
  output logic        intr,
  // memory selection and the fast memory's controls
  input  logic        ext_mem_en,
  input  logic [31:0] mem_seed,
  input  logic        mem_stall_en,
  input  logic        mem_reorder_en,   // reads reordered/interleaved across ARIDs, B delayed
  input  logic        mem_load,         // pulse after the testbench wrote an image: reseed
  output logic        mem_fault,
  output logic [31:0] mem_reordered,    // read bursts served out of order or interleaved
  output logic        mut_read_flipped, // mut_read_flip: the beat was corrupted ...
  output logic [31:0] mut_read_flip_addr, // ... and read from this address
  output logic [31:0] mem_fault_addr,
  // run control
  output logic [63:0] cycles,
  input  logic [31:0] watchdog_limit,   // cycles without progress before watchdog_fired; 0 = off
  output logic        watchdog_fired,
  input  logic        tap_clear,
  output logic [31:0] tap_count,
  // write log: committed writes (fast memory only) and SDP done pulses, since tap_clear
  output logic [31:0] wlog_count,
  // the AXI write-bus monitor's logs (u_wr_mon), since tap_clear
  output logic [31:0] bus_aw_count,
  output logic [31:0] bus_w_count,
  // fault injection (mutation tests of the checker)
  input  logic        mut_late_write,   // first output beat lands after the interrupt
  input  logic        mut_drop_write,   // write beat mut_index never lands
  input  logic        mut_read_flip,    // read beat mut_index is corrupted
  input  logic        mut_no_intr,      // the interrupt line never reaches the testbench
  input  logic        mut_x1_tap,       // X1 tap atom mut_index captured with lane 0 bit 0 flipped
  input  logic        mut_apb_read,     // APB reads of mut_apb_addr return bit 0 flipped
  input  logic [31:0] mut_apb_addr,
  input  logic [31:0] mut_index,
  // the DUT's AXI port, for cocotbext-axi (used when ext_mem_en = 1): flat, as AxiRam finds it
  output logic [nvdla_pkg::AxiIdW-1:0]       m_axi_awid,
  output logic [nvdla_pkg::AxiAddrW-1:0]     m_axi_awaddr,
  output logic [7:0]                         m_axi_awlen,
  output logic [2:0]                         m_axi_awsize,
  output logic [1:0]                         m_axi_awburst,
  output logic                               m_axi_awvalid,
  input  logic                               m_axi_awready,
  output logic [nvdla_pkg::AxiDataW-1:0]     m_axi_wdata,
  output logic [nvdla_pkg::AxiDataW/8-1:0]   m_axi_wstrb,
  output logic                               m_axi_wlast,
  output logic                               m_axi_wvalid,
  input  logic                               m_axi_wready,
  input  logic [nvdla_pkg::AxiIdW-1:0]       m_axi_bid,
  input  logic [1:0]                         m_axi_bresp,
  input  logic                               m_axi_bvalid,
  output logic                               m_axi_bready,
  output logic [nvdla_pkg::AxiIdW-1:0]       m_axi_arid,
  output logic [nvdla_pkg::AxiAddrW-1:0]     m_axi_araddr,
  output logic [7:0]                         m_axi_arlen,
  output logic [2:0]                         m_axi_arsize,
  output logic [1:0]                         m_axi_arburst,
  output logic                               m_axi_arvalid,
  input  logic                               m_axi_arready,
  input  logic [nvdla_pkg::AxiIdW-1:0]       m_axi_rid,
  input  logic [nvdla_pkg::AxiDataW-1:0]     m_axi_rdata,
  input  logic [1:0]                         m_axi_rresp,
  input  logic                               m_axi_rlast,
  input  logic                               m_axi_rvalid,
  output logic                               m_axi_rready
);
  // The clock: from cocotb (Clock on clk_in) or, in the fast build, from its C++ main
  // (tb/hdl/vpi_main.cpp), which also reads `turbo`.
  logic clk;
  assign clk = clk_in;
  logic unused_turbo;
  assign unused_turbo = turbo;

  // Static controls, registered (the testbench sets them during reset).
  logic rst_q, ext_mem_q, stall_q, reorder_q, mut_late_write_q, mut_drop_write_q, mut_read_flip_q,
        mut_no_intr_q, mut_apb_read_q;
  logic [31:0] mut_index_q, mut_apb_addr_q, watchdog_limit_q;
  always_ff @(posedge clk) begin
    rst_q <= rst_n;
    ext_mem_q <= ext_mem_en;
    stall_q <= mem_stall_en;
    reorder_q <= mem_reorder_en;
    mut_late_write_q <= mut_late_write;
    mut_drop_write_q <= mut_drop_write;
    mut_read_flip_q <= mut_read_flip;
    mut_no_intr_q <= mut_no_intr;
    mut_apb_read_q <= mut_apb_read;
    mut_index_q <= mut_index;
    mut_apb_addr_q <= mut_apb_addr;
    watchdog_limit_q <= watchdog_limit;
  end

  logic ext_mem;
`ifdef TB_SV_MEM_ONLY
  assign ext_mem = 1'b0;
  logic unused_ext_mem;
  assign unused_ext_mem = ext_mem_q;
`else
  assign ext_mem = ext_mem_q;
`endif

  // The DUT's AXI port as nvdla_pkg's structs (req: what the DUT drives, rsp: its answers),
  // routed to the fast memory (im_*) or out to the m_axi_* port.
  nvdla_pkg::axi_wr_req_t wr_req, im_wr_req;
  nvdla_pkg::axi_wr_rsp_t wr_rsp, im_wr_rsp;
  nvdla_pkg::axi_rd_req_t rd_req, im_rd_req;
  nvdla_pkg::axi_rd_rsp_t rd_rsp, im_rd_rsp;
  logic [31:0] paddr, pwdata, dut_prdata, prdata;
  logic        psel, penable, pwrite, dut_pready, dut_pslverr;
  logic        dut_intr, wr_commit;
  logic [31:0] wr_commit_addr;

  tb_apb_master u_apb (
    .clk, .rst_n(rst_q),
    .go_i(apb_go), .batch_i(apb_batch), .len_i(apb_len), .write_i(apb_write), .addr_i(apb_addr),
    .wdata_i(apb_wdata), .done_o(apb_done), .rdata_o(apb_rdata),
    .paddr_o(paddr), .psel_o(psel), .penable_o(penable), .pwrite_o(pwrite), .pwdata_o(pwdata),
    .prdata_i(prdata), .cycles_i(cycles),
    .log_clear_i(tap_clear), .log_count_o(alog_count)
  );

  nvdla_small_top u_dut (
    .clk_i(clk), .rst_ni(rst_q),
    .apb_paddr_i(paddr), .apb_psel_i(psel), .apb_penable_i(penable),
    .apb_pwrite_i(pwrite), .apb_pwdata_i(pwdata), .apb_prdata_o(dut_prdata),
    .apb_pready_o(dut_pready), .apb_pslverr_o(dut_pslverr),
    .m_axi_awid(wr_req.aw.id), .m_axi_awaddr(wr_req.aw.addr), .m_axi_awlen(wr_req.aw.len),
    .m_axi_awsize(wr_req.aw.size), .m_axi_awburst(wr_req.aw.burst), .m_axi_awvalid(wr_req.aw_valid),
    .m_axi_awready(wr_rsp.aw_ready),
    .m_axi_wdata(wr_req.w.data), .m_axi_wstrb(wr_req.w.strb), .m_axi_wlast(wr_req.w.last),
    .m_axi_wvalid(wr_req.w_valid), .m_axi_wready(wr_rsp.w_ready),
    .m_axi_bid(wr_rsp.b.id), .m_axi_bresp(wr_rsp.b.resp), .m_axi_bvalid(wr_rsp.b_valid),
    .m_axi_bready(wr_req.b_ready),
    .m_axi_arid(rd_req.ar.id), .m_axi_araddr(rd_req.ar.addr), .m_axi_arlen(rd_req.ar.len),
    .m_axi_arsize(rd_req.ar.size), .m_axi_arburst(rd_req.ar.burst), .m_axi_arvalid(rd_req.ar_valid),
    .m_axi_arready(rd_rsp.ar_ready),
    .m_axi_rid(rd_rsp.r.id), .m_axi_rdata(rd_rsp.r.data), .m_axi_rresp(rd_rsp.r.resp),
    .m_axi_rlast(rd_rsp.r.last), .m_axi_rvalid(rd_rsp.r_valid), .m_axi_rready(rd_req.r_ready),
    .intr_o(dut_intr)
  );

  // The DUT answers every access at once (PREADY tied high, PSLVERR low): the master has no wait states.
  logic unused_apb;
  assign unused_apb = dut_pready ^ dut_pslverr;
  assign prdata = dut_prdata ^ {31'b0, mut_apb_read_q && paddr == mut_apb_addr_q};
  assign intr = dut_intr && !mut_no_intr_q;

  // The fast memory sees the DUT's requests with their valids and readies held off under ext_mem.
  always_comb begin
    im_wr_req = wr_req;
    im_wr_req.aw_valid = wr_req.aw_valid && !ext_mem;
    im_wr_req.w_valid = wr_req.w_valid && !ext_mem;
    im_wr_req.b_ready = wr_req.b_ready && !ext_mem;
    im_rd_req = rd_req;
    im_rd_req.ar_valid = rd_req.ar_valid && !ext_mem;
    im_rd_req.r_ready = rd_req.r_ready && !ext_mem;
  end

  tb_axi_mem u_mem (
    .clk, .rst_n(rst_q),
    .seed_i(mem_seed), .stall_en_i(stall_q), .reorder_en_i(reorder_q), .intr_i(dut_intr),
    .mut_late_write_i(mut_late_write_q), .mut_drop_write_i(mut_drop_write_q), .mut_read_flip_i(mut_read_flip_q),
    .mut_index_i(mut_index_q), .reordered_o(mem_reordered),
    .flipped_o(mut_read_flipped), .flipped_addr_o(mut_read_flip_addr),
    .wr_commit_o(wr_commit), .wr_commit_addr_o(wr_commit_addr),
    .load_i(mem_load),
    .fault_o(mem_fault), .fault_addr_o(mem_fault_addr),
    .wr_i(im_wr_req), .wr_o(im_wr_rsp), .rd_i(im_rd_req), .rd_o(im_rd_rsp)
  );

  assign m_axi_awid = wr_req.aw.id;
  assign m_axi_awaddr = wr_req.aw.addr;
  assign m_axi_awlen = wr_req.aw.len;
  assign m_axi_awsize = wr_req.aw.size;
  assign m_axi_awburst = wr_req.aw.burst;
  assign m_axi_awvalid = wr_req.aw_valid && ext_mem;
  assign m_axi_wdata = wr_req.w.data;
  assign m_axi_wstrb = wr_req.w.strb;
  assign m_axi_wlast = wr_req.w.last;
  assign m_axi_wvalid = wr_req.w_valid && ext_mem;
  assign m_axi_bready = wr_req.b_ready && ext_mem;
  assign m_axi_arid = rd_req.ar.id;
  assign m_axi_araddr = rd_req.ar.addr;
  assign m_axi_arlen = rd_req.ar.len;
  assign m_axi_arsize = rd_req.ar.size;
  assign m_axi_arburst = rd_req.ar.burst;
  assign m_axi_arvalid = rd_req.ar_valid && ext_mem;
  assign m_axi_rready = rd_req.r_ready && ext_mem;

`ifdef TB_SV_MEM_ONLY
  assign wr_rsp = im_wr_rsp;
  assign rd_rsp = im_rd_rsp;
`else
  assign wr_rsp = ext_mem ? '{aw_ready: m_axi_awready, w_ready: m_axi_wready,
                              b: '{id: m_axi_bid, resp: m_axi_bresp}, b_valid: m_axi_bvalid}
                          : im_wr_rsp;
  assign rd_rsp = ext_mem ? '{ar_ready: m_axi_arready,
                              r: '{id: m_axi_rid, data: m_axi_rdata, resp: m_axi_rresp, last: m_axi_rlast},
                              r_valid: m_axi_rvalid}
                          : im_rd_rsp;
`endif

  // Every write on the DUT's AXI port, as the bus showed it, whichever memory answers.
  tb_axi_wr_monitor u_wr_mon (
    .clk, .clear_i(tap_clear), .cycles_i(cycles), .req_i(wr_req), .rsp_i(wr_rsp),
    .aw_count_o(bus_aw_count), .w_count_o(bus_w_count)
  );

  // ---------------- cycles and watchdog ----------------
  logic [31:0] idle_q;
  logic progress;
  // APB reads are not progress: a testbench polling status must not keep a hung run alive.
  // The MAC array working is: a stripe of a large kernel computes for tens of thousands of
  // cycles without touching the bus (21x5x70: 945 atomic operations per output position; seed
  // 1203 of the nightly tier), which a bus-only watchdog called a hang.
  assign progress = (wr_req.aw_valid && wr_rsp.aw_ready) || (wr_req.w_valid && wr_rsp.w_ready)
                 || (wr_rsp.b_valid && wr_req.b_ready) || (rd_req.ar_valid && rd_rsp.ar_ready)
                 || (rd_rsp.r_valid && rd_req.r_ready) || (psel && penable && pwrite) || intr
                 || u_dut.u_conv.op_valid;

  always_ff @(posedge clk) begin
    if (!rst_q) begin
      cycles <= '0;
      idle_q <= '0;
    end else begin
      cycles <= cycles + 1'b1;
      idle_q <= progress ? '0 : idle_q + 1'b1;
    end
  end
  assign watchdog_fired = (watchdog_limit_q != 0) && (idle_q >= watchdog_limit_q);

  // ---------------- SDP stage taps ----------------
  logic [255:0] tap_in [TapDepth] /*verilator public_flat_rd*/;
  logic [255:0] tap_x1 [TapDepth] /*verilator public_flat_rd*/;
  logic [255:0] tap_x2 [TapDepth] /*verilator public_flat_rd*/;

  always_ff @(posedge clk) begin
    if (tap_clear) tap_count <= '0;
    else if (u_dut.sdp_tap_valid) begin
      if (tap_count < TapDepth) begin
        tap_in[tap_count] <= u_dut.sdp_tap_in;
        tap_x1[tap_count] <= u_dut.sdp_tap_x1 ^ {255'b0, mut_x1_tap && tap_count == mut_index};
        tap_x2[tap_count] <= u_dut.sdp_tap_x2;
      end
      tap_count <= tap_count + 1'b1;
    end
  end

  // ---------------- write log ----------------
  // Entry: [127:96] kind (1 = write committed, 2 = SDP done) << 4 | SDP group, [95:64] address,
  // [63:0] cycle. wlog_count may exceed the depth (entries lost).
  localparam int unsigned WlogDepth = 1 << 18;
  logic [127:0] wlog [WlogDepth] /*verilator public_flat_rd*/;
  logic wlog_done;
  logic [31:0] wlog_kind;
  assign wlog_done = u_dut.sdp_done;
  assign wlog_kind = wlog_done ? (32'h20 | 32'(u_dut.sdp_consumer)) : 32'h10;

  always_ff @(posedge clk) begin
    if (tap_clear) wlog_count <= '0;
    else if ((wr_commit && !ext_mem) || wlog_done) begin
      if (wlog_count < WlogDepth) wlog[wlog_count] <= {wlog_kind, wr_commit_addr, cycles};
      wlog_count <= wlog_count + 1'b1;
    end
  end

endmodule : tb_top
