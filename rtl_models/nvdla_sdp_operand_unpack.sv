// Turns a BRDMA/NRDMA beat stream into one operand set per atom (8 lanes of ALU and MUL
// operands), per shared/spec/memory-layouts.md §4: an element is bpe = n * bpc bytes (bpc = 1 or
// 2 bytes a component, n = 2 for BOTH), so an atom takes bpe beats. One-byte components are
// sign-extended, two-byte ones little-endian. PER_KERNEL sets are reused for every (x, y) of
// their surface; PER_ELEMENT sets are used once.
module nvdla_sdp_operand_unpack (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        start_i,
  input  logic                        two_byte_i,     // DATA_SIZE = TWO_BYTE
  input  nvdla_pkg::operand_use_e     use_i,          // DATA_USE
  input  logic                        per_kernel_i,   // DATA_MODE = PER_KERNEL
  input  logic [27:0]                 uses_i,         // atoms per surface (W * H) for PER_KERNEL
  input  logic                        beat_valid_i,
  output logic                        beat_ready_o,
  input  logic [63:0]                 beat_data_i,
  output logic                        op_valid_o,
  input  logic                        op_ready_i,
  output nvdla_pkg::operand_atom_t    op_o
);
  import nvdla_pkg::*;

  logic [3:0][63:0] buf_q;
  logic [2:0] beats_q;          // beats collected for the current set
  logic [27:0] used_q;          // times the current PER_KERNEL set has been handed out
  logic [2:0] beats_per_atom;   // = bpe
  logic both;
  logic [255:0] bytes;

  assign both = (use_i == UseBoth);
  assign beats_per_atom = both ? (two_byte_i ? 3'd4 : 3'd2) : (two_byte_i ? 3'd2 : 3'd1);
  assign op_valid_o = (beats_q == beats_per_atom);
  assign beat_ready_o = !op_valid_o;
  assign bytes = buf_q;  // beat i holds bytes [8i, 8i+8) of the set

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      beats_q <= '0;
      used_q <= '0;
      buf_q <= '0;
    end else if (start_i) begin
      beats_q <= '0;
      used_q <= '0;
    end else begin
      if (beat_valid_i && beat_ready_o) begin
        buf_q[beats_q[1:0]] <= beat_data_i;
        beats_q <= beats_q + 1'b1;
      end
      if (op_valid_o && op_ready_i) begin
        if (per_kernel_i && used_q + 1'b1 != uses_i) begin
          used_q <= used_q + 1'b1;
        end else begin
          used_q <= '0;
          beats_q <= '0;
        end
      end
    end
  end

  // Component k of lane l starts at byte l*bpe + k*bpc.
  function automatic logic signed [15:0] component(input logic [255:0] b, input int unsigned at,
                                                   input logic two);
    if (two) return $signed({b[8*(at+1) +: 8], b[8*at +: 8]});
    return 16'($signed(b[8*at +: 8]));
  endfunction

  always_comb begin
    for (int unsigned l = 0; l < Atom; l++) begin
      int unsigned bpc, bpe;
      logic signed [15:0] c0, c1;
      bpc = two_byte_i ? 2 : 1;
      bpe = both ? 2 * bpc : bpc;
      c0 = component(bytes, l * bpe, two_byte_i);
      c1 = both ? component(bytes, l * bpe + bpc, two_byte_i) : c0;
      op_o[l].alu = (use_i == UseMul) ? '0 : c0;
      op_o[l].mul = (use_i == UseAlu) ? '0 : c1;
    end
  end

endmodule : nvdla_sdp_operand_unpack
