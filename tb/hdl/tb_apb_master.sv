// APB3 master of the harness: plays register accesses on the DUT's APB port with the timing of
// an APB3 host without wait states (setup cycle, access cycle, the next setup right after), so
// the testbench hands over a whole run of register writes at once instead of driving pins each
// clock. A go pulse starts either the single access on the *_i pins (batch_i = 0) or the first
// len_i accesses of apb_prog.hex (batch_i = 1; entries {write, addr, data}, 68 bits: 17 hex
// digits), loaded when the pulse is seen. done_o is low from the pulse to the end of the last
// access; rdata_o holds the data of the last read. Every access is logged as the bus showed it
// (cycle of its access phase, address, write, write or read data) for the testbench's APB
// monitor, and dumped to apb_log.hex on log_dump_i. Not synthesizable.
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
  input  logic        log_dump_i,
  output logic [31:0] log_count_o
);
  string dir;
  initial begin
    if (!$value$plusargs("TB_MEM_DIR=%s", dir)) dir = ".";
  end

  logic [67:0] prog [ProgDepth];
  logic [31:0] left_q, next_q;   // accesses still to start after the current one; next entry

  // Entry: [127:96] 1 = write, [95:64] address, [63:32] data written or read, [31:0] cycle.
  logic [127:0] log_q [LogDepth];

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
        $readmemh({dir, "/apb_prog.hex"}, prog, 0, (len_i < ProgDepth ? len_i : ProgDepth) - 1);
        {pwrite_o, paddr_o, pwdata_o} <= {prog[0][64], prog[0][63:0]};
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
        {pwrite_o, paddr_o, pwdata_o} <= {prog[next_q][64], prog[next_q][63:0]};
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
    if (log_dump_i && log_count_o != 0)
      $writememh({dir, "/apb_log.hex"}, log_q, 0, (log_count_o < LogDepth ? log_count_o : LogDepth) - 1);
  end

endmodule : tb_apb_master
