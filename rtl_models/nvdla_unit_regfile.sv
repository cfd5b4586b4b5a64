// Register file of one double-buffered NVDLA unit (CDMA, CSC, CMAC_A/B, CACC, SDP_RDMA, SDP):
// single S_ registers plus two groups of D_ registers with S_POINTER producer/consumer,
// D_OP_ENABLE and S_STATUS as in shared/spec/registers.md §3. The layout (word count, resets,
// writable and read-only bits) comes from the generated nvdla_reg_pkg.
module nvdla_unit_regfile #(
  parameter int unsigned Words = 4,                 // highest register word + 1
  parameter int unsigned FirstDWord = 2,            // words from here up are D_ (D_OP_ENABLE first)
  parameter logic [Words*32-1:0] ResetValue = '0,
  parameter logic [Words*32-1:0] Writable = '0,     // bits a CSB write stores
  parameter logic [Words*32-1:0] ReadOnly = '0      // bits the hardware supplies (hw_status_i)
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  // CSB access to this unit (already decoded by the top); word = byte offset / 4
  input  logic                  csb_valid_i,
  input  logic                  csb_write_i,
  input  logic [9:0]            csb_word_i,
  input  logic [31:0]           csb_wdata_i,
  output logic [31:0]           csb_rdata_o,
  // RO bits: S_ words are read live, D_ words are latched into the consumer group on done_i
  input  logic [Words*32-1:0]   hw_status_i,
  input  logic                  done_i,            // the consumer group's layer has finished
  output logic                  op_en_o,           // OP_EN of the consumer group
  output logic                  consumer_o,
  output logic [Words*32-1:0]   regs_o             // S_ words + the consumer group's D_ words
);
  import nvdla_reg_pkg::*;

  logic [Words*32-1:0] s_q, s_d;
  logic [1:0][Words*32-1:0] d_q, d_d;
  logic [1:0] op_en_q, op_en_d;
  logic consumer_q, consumer_d;
  logic producer;

  // Registers below FirstDWord are single; D_OP_ENABLE's bit lives in op_en_q, not in d_q.
  function automatic logic [Words*32-1:0] d_ro_mask();
    logic [Words*32-1:0] m = '0;
    for (int unsigned w = FirstDWord; w < Words; w++) m[32*w +: 32] = ReadOnly[32*w +: 32];
    return m;
  endfunction
  localparam logic [Words*32-1:0] DReadOnly = d_ro_mask();

  assign producer = s_q[32*S_POINTER_WORD + S_POINTER_PRODUCER_LSB];

  always_comb begin
    int unsigned w;
    logic [31:0] wmask;
    s_d = s_q;
    d_d = d_q;
    op_en_d = op_en_q;
    consumer_d = consumer_q;
    w = 32'(csb_word_i);
    wmask = (w < Words) ? Writable[32*w +: 32] : '0;
    if (done_i) begin
      op_en_d[consumer_q] = 1'b0;
      consumer_d = ~consumer_q;
      d_d[consumer_q] = (d_q[consumer_q] & ~DReadOnly) | (hw_status_i & DReadOnly);
    end
    if (csb_valid_i && csb_write_i && w < Words) begin
      if (w < FirstDWord) begin
        s_d[32*w +: 32] = (s_q[32*w +: 32] & ~wmask) | (csb_wdata_i & wmask);
      end else if (!op_en_q[producer]) begin
        // A running or pending group keeps its registers (registers.md §3).
        if (w == FirstDWord) begin
          op_en_d[producer] = csb_wdata_i[D_OP_ENABLE_OP_EN_LSB];
          if (csb_wdata_i[D_OP_ENABLE_OP_EN_LSB]) d_d[producer] = d_q[producer] & ~DReadOnly;
        end else begin
          d_d[producer][32*w +: 32] = (d_q[producer][32*w +: 32] & ~wmask) | (csb_wdata_i & wmask);
        end
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      s_q <= ResetValue;
      d_q <= {ResetValue, ResetValue};
      op_en_q <= '0;
      consumer_q <= 1'b0;
    end else begin
      s_q <= s_d;
      d_q <= d_d;
      op_en_q <= op_en_d;
      consumer_q <= consumer_d;
    end
  end

  function automatic logic [1:0] group_status(input logic g);
    if (!op_en_q[g]) return GROUP_STATUS_IDLE;
    return (consumer_q == g) ? GROUP_STATUS_RUNNING : GROUP_STATUS_PENDING;
  endfunction

  always_comb begin
    int unsigned w;
    w = 32'(csb_word_i);
    csb_rdata_o = '0;
    if (w >= Words) begin
      csb_rdata_o = '0;
    end else if (w == S_STATUS_WORD) begin
      csb_rdata_o[S_STATUS_STATUS_0_LSB +: 2] = group_status(1'b0);
      csb_rdata_o[S_STATUS_STATUS_1_LSB +: 2] = group_status(1'b1);
    end else if (w == S_POINTER_WORD) begin
      csb_rdata_o[S_POINTER_PRODUCER_LSB] = producer;
      csb_rdata_o[S_POINTER_CONSUMER_LSB] = consumer_q;
    end else if (w < FirstDWord) begin
      csb_rdata_o = (s_q[32*w +: 32] & ~ReadOnly[32*w +: 32]) | (hw_status_i[32*w +: 32] & ReadOnly[32*w +: 32]);
    end else if (w == FirstDWord) begin
      csb_rdata_o[D_OP_ENABLE_OP_EN_LSB] = op_en_q[producer];
    end else begin
      csb_rdata_o = d_q[producer][32*w +: 32];
    end
  end

  always_comb begin
    regs_o = d_q[consumer_q];
    for (int unsigned w = 0; w < FirstDWord; w++) regs_o[32*w +: 32] = s_q[32*w +: 32];
    regs_o[32*FirstDWord + D_OP_ENABLE_OP_EN_LSB] = op_en_q[consumer_q];
  end

  assign op_en_o = op_en_q[consumer_q];
  assign consumer_o = consumer_q;

`ifndef SYNTHESIS
  // The hardware drops writes to a running group's D_ registers; a program that does so is wrong.
  always_ff @(posedge clk_i) begin
    if (rst_ni && csb_valid_i && csb_write_i && 32'(csb_word_i) >= FirstDWord
        && 32'(csb_word_i) < Words && op_en_q[producer]) begin
      $warning("%m: write to D_ word %0d of group %0d dropped: its OP_EN is set", csb_word_i, producer);
    end
  end
`endif

endmodule : nvdla_unit_regfile
