// Testbench AXI4 slave memory for the fast mode: a sparse 32-bit address space held in
// PhysPages pages of 64 KiB, mapped by a page table, loaded and read back in bulk with
// $readmemh/$writememh so Python never touches a beat. Seeded random latency and back-pressure
// on every channel. Not synthesizable.
module tb_axi_mem #(
  parameter int unsigned PhysPages = 1024,  // 64 MiB of backing store
  parameter int unsigned IdW = 3
) (
  input  logic            clk,
  input  logic            rst_n,
  input  logic [31:0]     seed_i,        // sampled on load_i
  input  logic            stall_en_i,    // random latency and back-pressure on
  input  logic            load_i,        // pulse: clear, then load page table and contents
  input  logic [15:0]     clear_pages_i, // physical pages to clear before loading
  input  logic            patch_i,       // pulse: overwrite words from patch.hex, nothing cleared
  input  logic            dump_i,        // pulse: write words [dump_first_i, dump_last_i]
  input  logic [31:0]     dump_first_i,
  input  logic [31:0]     dump_last_i,
  output logic            fault_o,       // sticky: a write hit an unmapped page (reads give 0)
  output logic [31:0]     fault_addr_o,
  input  logic [IdW-1:0]  s_axi_awid,
  input  logic [31:0]     s_axi_awaddr,
  input  logic [7:0]      s_axi_awlen,
  input  logic [2:0]      s_axi_awsize,
  input  logic [1:0]      s_axi_awburst,
  input  logic            s_axi_awvalid,
  output logic            s_axi_awready,
  input  logic [63:0]     s_axi_wdata,
  input  logic [7:0]      s_axi_wstrb,
  input  logic            s_axi_wlast,
  input  logic            s_axi_wvalid,
  output logic            s_axi_wready,
  output logic [IdW-1:0]  s_axi_bid,
  output logic [1:0]      s_axi_bresp,
  output logic            s_axi_bvalid,
  input  logic            s_axi_bready,
  input  logic [IdW-1:0]  s_axi_arid,
  input  logic [31:0]     s_axi_araddr,
  input  logic [7:0]      s_axi_arlen,
  input  logic [2:0]      s_axi_arsize,
  input  logic [1:0]      s_axi_arburst,
  input  logic            s_axi_arvalid,
  output logic            s_axi_arready,
  output logic [IdW-1:0]  s_axi_rid,
  output logic [63:0]     s_axi_rdata,
  output logic [1:0]      s_axi_rresp,
  output logic            s_axi_rlast,
  output logic            s_axi_rvalid,
  input  logic            s_axi_rready
);
  localparam int unsigned WordsPerPage = 8192;
  localparam logic [15:0] Unmapped = 16'hffff;

  logic [63:0] mem [PhysPages * WordsPerPage];
  logic [15:0] page_map [65536];
  string dir;

  initial begin
    if (!$value$plusargs("TB_MEM_DIR=%s", dir)) dir = ".";
  end

  // xorshift32, one step per cycle; each channel takes its own bits.
  logic [31:0] rnd, rnd_a, rnd_b;
  assign rnd_a = rnd ^ (rnd << 13);
  assign rnd_b = rnd_a ^ (rnd_a >> 17);
  always_ff @(posedge clk) begin
    if (load_i) rnd <= (seed_i == 0) ? 32'h1 : seed_i;
    else rnd <= rnd_b ^ (rnd_b << 5);
  end

  function automatic int unsigned word_index(input logic [31:0] addr, output logic mapped);
    logic [15:0] p;
    p = page_map[addr[31:16]];
    mapped = (p != Unmapped);
    return 32'(p) * WordsPerPage + 32'(addr[15:3]);
  endfunction

  // ---------------- bulk load / dump ----------------
  always_ff @(posedge clk) begin
    if (load_i) begin
      for (int unsigned i = 0; i < 65536; i++) page_map[i] = Unmapped;
      for (int unsigned i = 0; i < 32'(clear_pages_i) * WordsPerPage && i < PhysPages * WordsPerPage; i++) mem[i] = '0;
      $readmemh({dir, "/page_map.hex"}, page_map);
      $readmemh({dir, "/mem.hex"}, mem);
    end
    if (patch_i) $readmemh({dir, "/patch.hex"}, mem);
    if (dump_i) $writememh({dir, "/mem_dump.hex"}, mem, dump_first_i, dump_last_i);
  end

  // ---------------- reads ----------------
  typedef struct packed {
    logic [IdW-1:0] id;
    logic [31:0] addr;
    logic [7:0] len;
  } burst_t;

  burst_t ar_q[$];
  logic r_active;
  burst_t r_cur;
  logic [8:0] r_beat;
  logic [3:0] r_wait;
  logic r_mapped;
  int unsigned r_idx;

  assign s_axi_arready = rst_n && ar_q.size() < 8 && (!stall_en_i || rnd[1:0] != 2'b00);
  assign s_axi_rvalid = r_active && r_wait == 0 && (!stall_en_i || rnd[3:2] != 2'b00);
  assign s_axi_rid = r_cur.id;
  assign s_axi_rresp = 2'b00;
  assign s_axi_rlast = r_active && (r_beat == {1'b0, r_cur.len});
  always_comb begin
    r_idx = word_index(r_cur.addr + {20'b0, r_beat, 3'b000}, r_mapped);
    s_axi_rdata = r_mapped ? mem[r_idx] : '0;
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      ar_q.delete();
      r_active <= 1'b0;
      r_beat <= '0;
      r_wait <= '0;
    end else begin
      if (s_axi_arvalid && s_axi_arready) ar_q.push_back('{s_axi_arid, s_axi_araddr, s_axi_arlen});
      if (!r_active && ar_q.size() != 0) begin
        r_cur <= ar_q.pop_front();
        r_active <= 1'b1;
        r_beat <= '0;
        r_wait <= stall_en_i ? rnd[11:8] : 4'd0;
      end else if (r_active && r_wait != 0) begin
        r_wait <= r_wait - 1'b1;
      end else if (s_axi_rvalid && s_axi_rready) begin
        if (s_axi_rlast) r_active <= 1'b0;
        r_beat <= r_beat + 1'b1;
      end
    end
  end

  // ---------------- writes ----------------
  burst_t aw_q[$];
  logic [IdW-1:0] b_q[$];
  logic [8:0] w_beat;
  logic w_mapped;
  int unsigned w_idx;

  assign s_axi_awready = rst_n && aw_q.size() < 8 && (!stall_en_i || rnd[5:4] != 2'b00);
  assign s_axi_wready = rst_n && aw_q.size() != 0 && (!stall_en_i || rnd[7:6] != 2'b00);
  assign s_axi_bvalid = b_q.size() != 0 && (!stall_en_i || rnd[13:12] != 2'b00);
  assign s_axi_bid = (b_q.size() != 0) ? b_q[0] : '0;
  assign s_axi_bresp = 2'b00;

  always_comb begin
    w_idx = 0;
    w_mapped = 1'b0;
    if (aw_q.size() != 0) w_idx = word_index(aw_q[0].addr + {20'b0, w_beat, 3'b000}, w_mapped);
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      aw_q.delete();
      b_q.delete();
      w_beat <= '0;
      fault_o <= 1'b0;
      fault_addr_o <= '0;
    end else begin
      if (s_axi_awvalid && s_axi_awready) aw_q.push_back('{s_axi_awid, s_axi_awaddr, s_axi_awlen});
      if (s_axi_bvalid && s_axi_bready) void'(b_q.pop_front());
      if (s_axi_wvalid && s_axi_wready) begin
        if (w_mapped) begin
          for (int b = 0; b < 8; b++) if (s_axi_wstrb[b]) mem[w_idx][8*b +: 8] <= s_axi_wdata[8*b +: 8];
        end else if (!fault_o) begin
          fault_o <= 1'b1;
          fault_addr_o <= aw_q[0].addr + {20'b0, w_beat, 3'b000};
        end
        if (s_axi_wlast) begin
          b_q.push_back(aw_q[0].id);
          void'(aw_q.pop_front());
          w_beat <= '0;
        end else begin
          w_beat <= w_beat + 1'b1;
        end
      end
    end
  end

endmodule : tb_axi_mem
