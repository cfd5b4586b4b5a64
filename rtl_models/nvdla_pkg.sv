// nv_small configuration, inter-unit data types and the bit-exact arithmetic primitives of
// shared/spec/datapath.md §2 (shr_round, sat, shl_sat) as functions the datapath shares.
package nvdla_pkg;

  // ---------------- configuration (datapath.md §1) ----------------
  localparam int unsigned Atom = 8;          // bytes per memory atom = lanes per atom = atomic C/K
  localparam int unsigned AccW = 32;         // CACC -> SDP and SDP inter-stage element width
  localparam int unsigned XInW = 49;         // SDP X multiplier result / shifter input width
  localparam int unsigned CvtMidW = 17;      // SDP output converter clamp that is counted
  localparam int unsigned DimW = 14;         // a cube size (1..8192) held as a count, not count-1
  localparam int unsigned SurfW = 11;        // surfaces = ceil(C/8), 1..1024
  localparam int unsigned BeatsW = 16;       // beats per line: W * 4 at most (2-byte BOTH operands)

  // ---------------- DMA read clients, in arbiter priority order ----------------
  localparam int unsigned NumRdClients = 5;
  localparam int unsigned RdIdW = 3;         // AXI ARID carries the client index
  localparam int unsigned RdCdmaDat = 0;
  localparam int unsigned RdCdmaWt = 1;
  localparam int unsigned RdSdpMrdma = 2;    // then BRDMA (3) and NRDMA (4): nvdla_sdp's order
  localparam int unsigned RdSdpNrdma = 4;

  // ---------------- data types ----------------
  typedef logic signed [AccW-1:0] elem_t;
  typedef elem_t [Atom-1:0] atom32_t;        // one atom of int32 elements, lane 0 at bits [31:0]
  typedef logic [Atom-1:0][7:0] atom8_t;     // one atom of int8 output bytes
  typedef struct packed {
    logic signed [15:0] alu;
    logic signed [15:0] mul;
  } operand_t;                               // one element's X operands from memory (§8.3)
  typedef operand_t [Atom-1:0] operand_atom_t;

  typedef enum logic [1:0] {
    AluMax = 2'd0,
    AluMin = 2'd1,
    AluSum = 2'd2,
    AluSumAlt = 2'd3                          // behaves as SUM (datapath §8.2)
  } alu_algo_e;

  typedef enum logic [1:0] {
    UseMul = 2'd0,
    UseAlu = 2'd1,
    UseBoth = 2'd2
  } operand_use_e;

  // One X stage's controls, taken from D_DP_BS_* or D_DP_BN_* (datapath §8.2).
  typedef struct packed {
    logic       bypass;
    logic       alu_bypass;
    alu_algo_e  alu_algo;
    logic       alu_src_mem;
    logic [5:0] alu_shift;
    logic signed [15:0] alu_operand;
    logic       mul_bypass;
    logic       mul_prelu;
    logic       mul_src_mem;
    logic [5:0] mul_shift;                   // only [5:0] of MUL_SHIFT_VALUE reach the datapath
    logic signed [15:0] mul_operand;
    logic       relu_bypass;
  } x_cfg_t;

  // ---------------- arithmetic primitives (datapath.md §2) ----------------

  // shr_round(x, s, IN=49): round to nearest, ties away from zero; s >= 49 gives 0. The +1 of
  // rounding cannot overflow 49 bits (the floor is at most 2^47 - 1 for s >= 1).
  function automatic logic signed [XInW-1:0] shr_round49(input logic signed [XInW-1:0] x,
                                                          input logic [5:0] s);
    logic signed [XInW-1:0] floor_v;
    logic [XInW-1:0] below_mask;
    logic first_dropped, sticky;
    if (s == 6'd0) return x;
    if (s >= 6'(XInW)) return '0;
    floor_v = x >>> s;
    first_dropped = x[s - 6'd1];
    below_mask = (XInW'(1) << (s - 6'd1)) - XInW'(1);
    sticky = |($unsigned(x) & below_mask);
    return floor_v + $signed({{(XInW - 1){1'b0}}, first_dropped & (~x[XInW-1] | sticky)});
  endfunction

  function automatic logic signed [31:0] sat49to32(input logic signed [XInW-1:0] x);
    if (x > XInW'(64'sh7fff_ffff)) return 32'sh7fff_ffff;
    if (x < -XInW'(64'sh8000_0000)) return 32'sh8000_0000;
    return x[31:0];
  endfunction

  function automatic logic sat49to17_fires(input logic signed [XInW-1:0] x);
    return (x > XInW'((1 << (CvtMidW - 1)) - 1)) || (x < -XInW'(1 << (CvtMidW - 1)));
  endfunction

  function automatic logic [7:0] sat49to8(input logic signed [XInW-1:0] x);
    if (x > XInW'(127)) return 8'h7f;
    if (x < -XInW'(128)) return 8'h80;
    return x[7:0];
  endfunction

  // shl_sat(op, s, 32): saturating left shift of a signed 16-bit operand by 0..63.
  function automatic logic signed [31:0] shl_sat16to32(input logic signed [15:0] op,
                                                        input logic [5:0] s);
    logic signed [79:0] wide;
    wide = 80'(op) <<< s;
    if (wide > 80'sh7fff_ffff) return 32'sh7fff_ffff;
    if (wide < -80'sh8000_0000) return 32'sh8000_0000;
    return wide[31:0];
  endfunction

  // Exact signed product of a 33-bit value and a 16-bit operand (49 bits).
  function automatic logic signed [XInW-1:0] mul33x16(input logic signed [32:0] a,
                                                       input logic signed [15:0] b);
    return XInW'(a) * XInW'(b);
  endfunction

endpackage : nvdla_pkg
