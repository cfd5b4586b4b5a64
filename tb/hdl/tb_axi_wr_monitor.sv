// Bus monitor of the DUT's AXI write port: logs every AW and every W handshake as the bus showed
// it, in order, into two arrays the testbench's AXI monitor agent reads in place
// (tb/uvm/agents.py AxiWriteMonitor). The agent rebuilds each beat's address from them (AXI4
// write data follows the order of the addresses; the DUT issues INCR bursts of 8-byte beats), so
// what the scoreboard checks is what crossed the bus, independent of the memory model behind it.
// Counts may pass the depth: entries past it are lost and the agent says so. Not synthesizable.
module tb_axi_wr_monitor
  import nvdla_pkg::*;
#(
  parameter int unsigned Depth = 1 << 18
) (
  input  logic        clk,
  input  logic        clear_i,      // start of a trace: both logs emptied
  input  logic [63:0] cycles_i,
  input  axi_wr_req_t req_i,
  input  axi_wr_rsp_t rsp_i,
  output logic [31:0] aw_count_o,
  output logic [31:0] w_count_o
);
  // AW entry: [127:120] len, [119:96] id, [95:64] address, [63:0] cycle.
  logic [127:0] aw_log [Depth] /*verilator public_flat_rd*/;
  // W entry: [104] last, [103:96] strobe, [95:64] cycle (low 32 bits), [63:0] data.
  logic [127:0] w_log [Depth] /*verilator public_flat_rd*/;

  always_ff @(posedge clk) begin
    if (clear_i) begin
      aw_count_o <= '0;
      w_count_o <= '0;
    end else begin
      if (req_i.aw_valid && rsp_i.aw_ready) begin
        if (aw_count_o < Depth)
          aw_log[aw_count_o] <= {req_i.aw.len, 24'(req_i.aw.id), req_i.aw.addr, cycles_i};
        aw_count_o <= aw_count_o + 1'b1;
      end
      if (req_i.w_valid && rsp_i.w_ready) begin
        if (w_count_o < Depth)
          w_log[w_count_o] <= {23'b0, req_i.w.last, req_i.w.strb, cycles_i[31:0], req_i.w.data};
        w_count_o <= w_count_o + 1'b1;
      end
    end
  end

endmodule : tb_axi_wr_monitor
