// GLB: hardware version, interrupt mask / set / status and the interrupt line
// (shared/spec/registers.md §5). Status bits are set by unit done events whether or not masked;
// S_INTR_STATUS is write-1-to-clear, S_INTR_SET write-1-to-set; a set and a clear in the same
// cycle: set wins.
module nvdla_glb (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        csb_valid_i,
  input  logic        csb_write_i,
  input  logic [9:0]  csb_word_i,
  input  logic [31:0] csb_wdata_i,
  output logic [31:0] csb_rdata_o,
  input  logic [31:0] done_events_i,   // one pulse per unit/group, at its S_INTR_STATUS bit
  output logic        intr_o
);
  import nvdla_reg_pkg::*;

  localparam logic [31:0] MaskBits = GLB_WRITABLE[32*GLB_S_INTR_MASK_WORD +: 32];
  localparam logic [31:0] StatusBits = GLB_WRITABLE[32*GLB_S_INTR_STATUS_WORD +: 32];
  // S_INTR_SET's write-only fields sit at the status bit positions (registers.md §5).
  localparam logic [31:0] SetBits = StatusBits;
  localparam logic [31:0] HwVersion = GLB_RESET[32*GLB_S_NVDLA_HW_VERSION_WORD +: 32];

  logic [31:0] mask_q, mask_d, status_q, status_d;
  logic wr;

  assign wr = csb_valid_i && csb_write_i;

  always_comb begin
    mask_d = mask_q;
    status_d = status_q;
    if (wr && 32'(csb_word_i) == GLB_S_INTR_MASK_WORD) mask_d = csb_wdata_i & MaskBits;
    if (wr && 32'(csb_word_i) == GLB_S_INTR_STATUS_WORD) status_d = status_q & ~csb_wdata_i;
    if (wr && 32'(csb_word_i) == GLB_S_INTR_SET_WORD) status_d = status_d | (csb_wdata_i & SetBits);
    status_d = status_d | (done_events_i & StatusBits);
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      mask_q <= GLB_RESET[32*GLB_S_INTR_MASK_WORD +: 32];
      status_q <= GLB_RESET[32*GLB_S_INTR_STATUS_WORD +: 32];
    end else begin
      mask_q <= mask_d;
      status_q <= status_d;
    end
  end

  always_comb begin
    unique case (32'(csb_word_i))
      GLB_S_NVDLA_HW_VERSION_WORD: csb_rdata_o = HwVersion;
      GLB_S_INTR_MASK_WORD: csb_rdata_o = mask_q;
      GLB_S_INTR_STATUS_WORD: csb_rdata_o = status_q;
      default: csb_rdata_o = '0;  // S_INTR_SET is write-only
    endcase
  end

  assign intr_o = |(status_q & ~mask_q);

endmodule : nvdla_glb
