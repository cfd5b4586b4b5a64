// APB3 master of the harness: plays register accesses on the DUT's APB port with the timing of
// an APB3 host without wait states (setup cycle, access cycle, the next setup right after), so
// the testbench hands over a whole run of register writes at once instead of driving pins each
// clock. A go pulse starts either the single access on the *_i pins (batch_i = 0) or the writes
// prog[0 .. len_i-1] (batch_i = 1; entries {addr, data}), which the testbench wrote in place
// (tb/hdl/tb_shared.cpp) before the pulse. done_o is low from the pulse to the end of the last
// access; rdata_o holds the data of the last read. Every access is logged as the bus showed it
// (cycle of its access phase, address, write, write or read data) in log_q, which the
// testbench's APB monitor reads in place. Not synthesizable.
module tb_apb_master #(
  parameter int unsigned ProgDepth = 16384,
  parameter int unsigned LogDepth = 65536
) (
  input  logic        clk,
  input  logic        rst_n,
  input  logic        go_i,
  input  logic        batch_i,
  input  logic [31:0] len_i,
  input  logic        write_i,
  input  logic [31:0] addr_i,
  input  logic [31:0] wdata_i,
  output logic        done_o,
  output logic [31:0] rdata_o,
  output logic [31:0] paddr_o,
  output logic        psel_o,
  output logic        penable_o,
  output logic        pwrite_o,
  output logic [31:0] pwdata_o,
  input  logic [31:0] prdata_i,
  input  logic [63:0] cycles_i,
  input  logic        log_clear_i,
  output logic [31:0] log_count_o
);
  logic [63:0] prog [ProgDepth] /*verilator public_flat_rd*/;  // {addr, data}
  logic [31:0] left_q, next_q;   // accesses still to start after the current one; next entry

  // Entry: [127:96] 1 = write, [95:64] address, [63:32] data written or read, [31:0] cycle.
  logic [127:0] log_q [LogDepth] /*verilator public_flat_rd*/;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      psel_o <= 1'b0;
      penable_o <= 1'b0;
      done_o <= 1'b1;
      left_q <= '0;
      next_q <= '0;
    end else if (go_i && done_o) begin
      done_o <= 1'b0;
      psel_o <= 1'b1;
      penable_o <= 1'b0;
      if (batch_i) begin
        {pwrite_o, paddr_o, pwdata_o} <= {1'b1, prog[0]};
        left_q <= len_i - 1;
        next_q <= 1;
      end else begin
        {pwrite_o, paddr_o, pwdata_o} <= {write_i, addr_i, wdata_i};
        left_q <= '0;
      end
    end else if (psel_o && !penable_o) begin
      penable_o <= 1'b1;
    end else if (psel_o) begin
      // The access phase ends at this edge: the DUT takes the write, the read data is sampled.
      if (!pwrite_o) rdata_o <= prdata_i;
      if (left_q != 0) begin
        {pwrite_o, paddr_o, pwdata_o} <= {1'b1, prog[next_q]};
        penable_o <= 1'b0;
        left_q <= left_q - 1;
        next_q <= next_q + 1;
      end else begin
        psel_o <= 1'b0;
        penable_o <= 1'b0;
        done_o <= 1'b1;
      end
    end
  end

  always_ff @(posedge clk) begin
    if (log_clear_i) log_count_o <= '0;
    else if (psel_o && penable_o) begin
      if (log_count_o < LogDepth)
        log_q[log_count_o] <= {31'b0, pwrite_o, paddr_o, pwrite_o ? pwdata_o : prdata_i, cycles_i[31:0]};
      log_count_o <= log_count_o + 1'b1;
    end
  end

endmodule : tb_apb_master
