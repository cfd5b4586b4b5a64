// Testbench AXI4 slave memory for the fast mode: a sparse 32-bit address space held in
// PhysPages pages of 64 KiB, mapped by a page table. The testbench writes the pages and the
// table, and reads results back, in place through the model's memory (tb/hdl/tb_shared.cpp:
// both arrays are public), between layers while no burst is in flight: no file, no beat by
// Python. Seeded random latency and back-pressure on every channel; with reorder_en_i, read bursts of different ARIDs are served out of order and
// their beats interleaved (AXI4 keeps order only within one ID) and each B response is held a
// random 0..31 cycles. Reports every committed write (wr_commit_o) for the harness's write log,
// and carries the fault injections of the checker's mutation tests (mut_*). Not synthesizable.
module tb_axi_mem
  import nvdla_pkg::*;
#(
  parameter int unsigned PhysPages = 1024  // 64 MiB of backing store
) (
  input  logic            clk,
  input  logic            rst_n,
  input  logic [31:0]     seed_i,        // sampled on load_i
  input  logic            stall_en_i,    // random latency and back-pressure on
  input  logic            reorder_en_i,  // reorder/interleave reads across IDs, delay B responses
  input  logic            intr_i,        // the DUT's interrupt: a held (late) write lands after it
  input  logic            mut_late_write_i,   // hold the first write beat until after intr_i
  input  logic            mut_drop_write_i,   // never commit write beat number mut_index_i
  input  logic            mut_read_flip_i,    // read beat number mut_index_i returns data ^ 0x55..
  input  logic [31:0]     mut_index_i,
  output logic [31:0]     reordered_o,        // bursts served out of order or interleaved
  output logic            flipped_o,          // mut_read_flip_i has corrupted its beat ...
  output logic [31:0]     flipped_addr_o,     // ... read from this address
  output logic            wr_commit_o,        // a write beat reached memory this cycle
  output logic [31:0]     wr_commit_addr_o,
  input  logic            load_i,        // pulse: the testbench has loaded an image; restart the
                                         // random sequence from seed_i
  output logic            fault_o,       // sticky: a write hit an unmapped page (reads give 0)
  output logic [31:0]     fault_addr_o,
  // the AXI slave port; AxSIZE and AxBURST are not read: the DUT only issues 8-byte INCR bursts
  input  axi_wr_req_t     wr_i,
  output axi_wr_rsp_t     wr_o,
  input  axi_rd_req_t     rd_i,
  output axi_rd_rsp_t     rd_o
);
  localparam int unsigned WordsPerPage = 8192;
  localparam logic [15:0] Unmapped = 16'hffff;

  // Written by the testbench in place (tb/uvm/memory.py, tb/raw/main.cpp): each word
  // little-endian (byte lane k at bits 8k+7:8k); page_map entries Unmapped where no page is.
  logic [63:0] mem [PhysPages * WordsPerPage] /*verilator public_flat_rd*/;
  logic [15:0] page_map [65536] /*verilator public_flat_rd*/;

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

  // ---------------- reads ----------------
  typedef struct packed {
    logic [AxiIdW-1:0] id;
    logic [31:0] addr;
    logic [7:0] len;
    logic [8:0] beat;
  } rd_burst_t;

  // Accepted read bursts, oldest first. The burst presented is the oldest one of ID r_id_q: a
  // later burst of the same ID never overtakes an earlier one.
  rd_burst_t ar_q[$];
  logic r_active;
  logic [AxiIdW-1:0] r_id_q;
  logic [3:0] r_wait;
  logic r_switched_q;       // the last burst was left mid-way to interleave: no new latency
  logic r_mapped, r_found;
  int unsigned r_idx, r_pos;
  logic [31:0] r_beats_q;   // read beats delivered since reset (mut_read_flip_i's index)
  logic [AxiDataW-1:0] r_data;

  always_comb begin
    r_pos = 0;
    r_found = 1'b0;
    for (int unsigned i = 0; i < ar_q.size(); i++) begin
      if (!r_found && ar_q[i].id == r_id_q) begin
        r_pos = i;
        r_found = 1'b1;
      end
    end
  end

  assign rd_o.ar_ready = rst_n && ar_q.size() < 8 && (!stall_en_i || rnd[1:0] != 2'b00);
  assign rd_o.r_valid = r_active && r_wait == 0 && (!stall_en_i || rnd[3:2] != 2'b00);
  assign rd_o.r.id = r_id_q;
  assign rd_o.r.resp = AxiRespOkay;
  assign rd_o.r.data = r_data;
  assign rd_o.r.last = r_active && r_found && (ar_q[r_pos].beat == {1'b0, ar_q[r_pos].len});
  always_comb begin
    r_idx = 0;
    r_mapped = 1'b0;
    if (r_found) r_idx = word_index(ar_q[r_pos].addr + {20'b0, ar_q[r_pos].beat, 3'b000}, r_mapped);
    r_data = r_mapped ? mem[r_idx] : '0;
    if (mut_read_flip_i && r_beats_q == mut_index_i) r_data = r_data ^ {8{8'h55}};
  end

  // The ID to serve next: the oldest burst's, or under reorder_en_i any ID with a burst waiting.
  function automatic logic [AxiIdW-1:0] pick_id(input logic [31:0] r);
    int unsigned n;
    n = 32'(ar_q.size());
    if (!reorder_en_i || n == 0) return (n == 0) ? '0 : ar_q[0].id;
    return ar_q[r % n].id;
  endfunction

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      ar_q.delete();
      r_active <= 1'b0;
      r_id_q <= '0;
      r_wait <= '0;
      r_switched_q <= 1'b0;
      r_beats_q <= '0;
      reordered_o <= '0;
      flipped_o <= 1'b0;
      flipped_addr_o <= '0;
    end else begin
      if (rd_i.ar_valid && rd_o.ar_ready)
        ar_q.push_back('{rd_i.ar.id, rd_i.ar.addr, rd_i.ar.len, 9'd0});
      if (!r_active && ar_q.size() != 0) begin
        r_id_q <= pick_id({16'b0, rnd[31:16]});
        if (pick_id({16'b0, rnd[31:16]}) != ar_q[0].id || r_switched_q) reordered_o <= reordered_o + 1'b1;
        r_active <= 1'b1;
        r_wait <= (stall_en_i && !r_switched_q) ? rnd[11:8] : 4'd0;
        r_switched_q <= 1'b0;
      end else if (r_active && r_wait != 0) begin
        r_wait <= r_wait - 1'b1;
      end else if (rd_o.r_valid && rd_i.r_ready) begin
        r_beats_q <= r_beats_q + 1'b1;
        if (mut_read_flip_i && r_beats_q == mut_index_i) begin
          flipped_o <= 1'b1;
          flipped_addr_o <= ar_q[r_pos].addr + {20'b0, ar_q[r_pos].beat, 3'b000};
        end
        if (rd_o.r.last) begin
          ar_q.delete(r_pos);
          r_active <= 1'b0;
        end else begin
          ar_q[r_pos].beat = ar_q[r_pos].beat + 1'b1;
          // Interleave: after a beat, sometimes switch to another ID's burst.
          if (reorder_en_i && rnd[15:14] == 2'b00) begin
            r_active <= 1'b0;
            r_switched_q <= 1'b1;
          end
        end
      end
    end
  end

  // ---------------- writes ----------------
  typedef struct packed {
    logic [AxiIdW-1:0] id;
    logic [31:0] due;   // cycle from which the response may be presented
  } b_rsp_t;

  axi_ax_t aw_q[$];
  b_rsp_t b_q[$];
  logic [8:0] w_beat;
  logic w_mapped;
  int unsigned w_idx;
  logic [31:0] now_q, w_beats_q;
  logic held_q, held_done_q, intr_seen_q;   // mut_late_write_i: a beat held, then released
  int unsigned held_idx;
  logic [31:0] held_addr;
  logic [63:0] held_data;
  logic [7:0] held_strb;
  logic w_hold, w_drop;
  logic [31:0] w_addr;

  assign wr_o.aw_ready = rst_n && aw_q.size() < 8 && (!stall_en_i || rnd[5:4] != 2'b00);
  assign wr_o.w_ready = rst_n && aw_q.size() != 0 && (!stall_en_i || rnd[7:6] != 2'b00);
  assign wr_o.b_valid = b_q.size() != 0 && (!stall_en_i || rnd[13:12] != 2'b00)
                        && (!reorder_en_i || now_q >= b_q[0].due);
  assign wr_o.b.id = (b_q.size() != 0) ? b_q[0].id : '0;
  assign wr_o.b.resp = AxiRespOkay;

  always_comb begin
    w_idx = 0;
    w_mapped = 1'b0;
    w_addr = '0;
    if (aw_q.size() != 0) begin
      w_addr = aw_q[0].addr + {20'b0, w_beat, 3'b000};
      w_idx = word_index(w_addr, w_mapped);
    end
  end
  assign w_hold = mut_late_write_i && !held_q && !held_done_q;
  assign w_drop = mut_drop_write_i && w_beats_q == mut_index_i;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      aw_q.delete();
      b_q.delete();
      w_beat <= '0;
      fault_o <= 1'b0;
      fault_addr_o <= '0;
      now_q <= '0;
      w_beats_q <= '0;
      held_q <= 1'b0;
      held_done_q <= 1'b0;
      intr_seen_q <= 1'b0;
      wr_commit_o <= 1'b0;
      wr_commit_addr_o <= '0;
    end else begin
      now_q <= now_q + 1'b1;
      wr_commit_o <= 1'b0;
      if (wr_i.aw_valid && wr_o.aw_ready) aw_q.push_back(wr_i.aw);
      if (wr_o.b_valid && wr_i.b_ready) void'(b_q.pop_front());
      // The held beat lands one cycle after the interrupt was seen: after the layer's end.
      if (held_q && intr_seen_q) begin
        for (int b = 0; b < 8; b++) if (held_strb[b]) mem[held_idx][8*b +: 8] <= held_data[8*b +: 8];
        wr_commit_o <= 1'b1;
        wr_commit_addr_o <= held_addr;
        held_q <= 1'b0;
        held_done_q <= 1'b1;
      end
      if (held_q && intr_i) intr_seen_q <= 1'b1;
      if (wr_i.w_valid && wr_o.w_ready) begin
        w_beats_q <= w_beats_q + 1'b1;
        if (w_mapped) begin
          if (w_hold) begin
            held_q <= 1'b1;
            held_idx <= w_idx;
            held_addr <= w_addr;
            held_data <= wr_i.w.data;
            held_strb <= wr_i.w.strb;
          end else if (!w_drop) begin
            for (int b = 0; b < 8; b++) if (wr_i.w.strb[b]) mem[w_idx][8*b +: 8] <= wr_i.w.data[8*b +: 8];
            wr_commit_o <= 1'b1;
            wr_commit_addr_o <= w_addr;
          end
        end else if (!fault_o) begin
          fault_o <= 1'b1;
          fault_addr_o <= w_addr;
        end
        if (wr_i.w.last) begin
          b_q.push_back('{aw_q[0].id, now_q + (reorder_en_i ? {27'b0, rnd[28:24]} : 32'd0)});
          void'(aw_q.pop_front());
          w_beat <= '0;
        end else begin
          w_beat <= w_beat + 1'b1;
        end
      end
    end
  end

endmodule : tb_axi_mem
