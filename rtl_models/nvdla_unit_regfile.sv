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

  // Registers as arrays of words, updated word by word in the clocked block: the simulator then
  // touches a word only when a CSB write or a done pulse changes it, instead of copying and
  // merging the whole register vector every cycle (docs/rtl-speed.md).
  logic [31:0] s_q [FirstDWord];    // S_ words
  // D_ words of each group, after D_OP_ENABLE (word FirstDWord), whose one bit is op_en_q:
  // that word holds its reset value otherwise, and has no read-only bits.
  logic [31:0] d_q [2][FirstDWord+1:Words-1];
  logic [1:0] op_en_q;
  logic consumer_q;
  logic producer;
  logic csb_wr;
  int unsigned w;
  logic [31:0] wmask;

  // Read-only bits of D_ word `word` (FirstDWord < word < Words, the words d_q holds).
  function automatic logic [31:0] d_ro(input int unsigned word);
    return ReadOnly[32*word +: 32];
  endfunction

  assign producer = s_q[S_POINTER_WORD][S_POINTER_PRODUCER_LSB];
  assign w = 32'(csb_word_i);
  assign wmask = (w < Words) ? Writable[32*w +: 32] : '0;
  assign csb_wr = csb_valid_i && csb_write_i && w < Words;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      for (int unsigned i = 0; i < FirstDWord; i++) s_q[i] <= ResetValue[32*i +: 32];
      for (int unsigned i = FirstDWord + 1; i < Words; i++) begin
        d_q[0][i] <= ResetValue[32*i +: 32];
        d_q[1][i] <= ResetValue[32*i +: 32];
      end
      op_en_q <= '0;
      consumer_q <= 1'b0;
    end else begin
      // A write in the same cycle comes second and wins where both touch a word, as before.
      if (done_i) begin
        op_en_q[consumer_q] <= 1'b0;
        consumer_q <= ~consumer_q;
        for (int unsigned i = FirstDWord + 1; i < Words; i++)
          if (d_ro(i) != '0)
            d_q[consumer_q][i] <= (d_q[consumer_q][i] & ~d_ro(i)) | (hw_status_i[32*i +: 32] & d_ro(i));
      end
      if (csb_wr) begin
        if (w < FirstDWord) begin
          s_q[w] <= (s_q[w] & ~wmask) | (csb_wdata_i & wmask);
        end else if (!op_en_q[producer]) begin
          // A running or pending group keeps its registers (registers.md §3).
          if (w == FirstDWord) begin
            op_en_q[producer] <= csb_wdata_i[D_OP_ENABLE_OP_EN_LSB];
            if (csb_wdata_i[D_OP_ENABLE_OP_EN_LSB])
              for (int unsigned i = FirstDWord + 1; i < Words; i++)
                if (d_ro(i) != '0) d_q[producer][i] <= d_q[producer][i] & ~d_ro(i);
          end else begin
            d_q[producer][w] <= (d_q[producer][w] & ~wmask) | (csb_wdata_i & wmask);
          end
        end
      end
    end
  end

  function automatic logic [1:0] group_status(input logic g);
    if (!op_en_q[g]) return GROUP_STATUS_IDLE;
    return (consumer_q == g) ? GROUP_STATUS_RUNNING : GROUP_STATUS_PENDING;
  endfunction

  always_comb begin
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
      csb_rdata_o = (s_q[w] & ~ReadOnly[32*w +: 32]) | (hw_status_i[32*w +: 32] & ReadOnly[32*w +: 32]);
    end else if (w == FirstDWord) begin
      csb_rdata_o[D_OP_ENABLE_OP_EN_LSB] = op_en_q[producer];
    end else begin
      csb_rdata_o = d_q[producer][w];
    end
  end

  always_comb begin
    for (int unsigned i = 0; i < FirstDWord; i++) regs_o[32*i +: 32] = s_q[i];
    regs_o[32*FirstDWord +: 32] = ResetValue[32*FirstDWord +: 32];
    regs_o[32*FirstDWord + D_OP_ENABLE_OP_EN_LSB] = op_en_q[consumer_q];
    for (int unsigned i = FirstDWord + 1; i < Words; i++) regs_o[32*i +: 32] = d_q[consumer_q][i];
  end

  assign op_en_o = op_en_q[consumer_q];
  assign consumer_o = consumer_q;

`ifndef SYNTHESIS
  // The hardware drops writes to a running group's D_ registers; a program that does so is wrong.
  always_ff @(posedge clk_i) begin
    if (rst_ni && csb_wr && w >= FirstDWord && op_en_q[producer]) begin
      $warning("%m: write to D_ word %0d of group %0d dropped: its OP_EN is set", csb_word_i, producer);
    end
  end
`endif

endmodule : nvdla_unit_regfile
