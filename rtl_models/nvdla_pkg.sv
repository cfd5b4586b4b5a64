// nv_small configuration, inter-unit data types, the AXI port's channel structs and its 4 KiB
// burst split, and the bit-exact arithmetic primitives of shared/spec/datapath.md §2 (shr_round,
// sat, shl_sat) as the one copy of each that the datapath shares.
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

  // ---------------- AXI4 master port (one 64-bit port: nv_small's MCIF) ----------------
  // Internal modules pass these structs; only nvdla_small_top (the DUT boundary) and the
  // testbench's tb_top spell the channels out as m_axi_* ports, the names AXI tools expect.
  localparam int unsigned AxiAddrW = 32;
  localparam int unsigned AxiDataW = 8 * Atom;  // one atom a beat
  localparam int unsigned AxiIdW = RdIdW;       // ARID is the read client; writes use ID 0
  localparam int unsigned MaxBurstBeats = 256;  // AXI4 INCR
  localparam logic [2:0] AxiSizeAtom = 3'($clog2(Atom));
  localparam logic [1:0] AxiBurstIncr = 2'b01;
  localparam logic [1:0] AxiRespOkay = 2'b00;

  typedef struct packed {                    // one AW or AR request
    logic [AxiIdW-1:0]   id;
    logic [AxiAddrW-1:0] addr;
    logic [7:0]          len;                // beats - 1
    logic [2:0]          size;
    logic [1:0]          burst;
  } axi_ax_t;
  typedef struct packed {
    logic [AxiDataW-1:0]   data;
    logic [AxiDataW/8-1:0] strb;
    logic                  last;
  } axi_w_t;
  typedef struct packed {
    logic [AxiIdW-1:0] id;
    logic [1:0]        resp;
  } axi_b_t;
  typedef struct packed {
    logic [AxiIdW-1:0]   id;
    logic [AxiDataW-1:0] data;
    logic [1:0]          resp;
    logic                last;
  } axi_r_t;

  // Each direction as the master drives it (req) and as the slave answers (rsp).
  typedef struct packed {
    axi_ax_t aw;
    logic    aw_valid;
    axi_w_t  w;
    logic    w_valid;
    logic    b_ready;
  } axi_wr_req_t;
  typedef struct packed {
    logic    aw_ready;
    logic    w_ready;
    axi_b_t  b;
    logic    b_valid;
  } axi_wr_rsp_t;
  typedef struct packed {
    axi_ax_t ar;
    logic    ar_valid;
    logic    r_ready;
  } axi_rd_req_t;
  typedef struct packed {
    logic    ar_ready;
    axi_r_t  r;
    logic    r_valid;
  } axi_rd_rsp_t;

  // Beats of the next read burst starting at beat `page_beat` of its 4 KiB page (address bits
  // [11:3]): what is `left`, at most `max_beats`, and never across the page's end, which an AXI
  // burst may not cross. 1..256 for left >= 1.
  function automatic logic [8:0] burst_beats(input logic [11:3] page_beat, input logic [31:0] left,
                                             input int unsigned max_beats);
    logic [31:0] n;
    n = 32'd512 - 32'(page_beat);
    if (32'(max_beats) < n) n = 32'(max_beats);
    if (left < n) n = left;
    return 9'(n);
  endfunction

  // ---------------- arithmetic primitives (datapath.md §2) ----------------
  // The one copy CACC, the CDMA converter and the SDP use. Computed in 64 bits (every datapath
  // intermediate fits in 49); callers cast the result to their width.

  // shr_round(x, s, In): floor shift, +1 when the first discarded bit is set and x is
  // non-negative or a lower discarded bit is set (ties away from zero); s >= In gives 0.
  // `sticky_w` limits how many discarded bits below the first one are seen: NVDLA's CACC keeps
  // 15 (datapath.md §7), so for CLIP_TRUNCATE 17..31 a negative value whose only set discarded
  // bits lie lower rounds as an exact tie. The golden model does the same (golden/conv.py
  // cacc_round, hw/fixed.py shr_round's sticky_bits).
  function automatic logic signed [63:0] shr_round(input logic signed [63:0] x,
                                                   input int unsigned s, input int unsigned in_w,
                                                   input int unsigned sticky_w = 64);
    logic signed [63:0] fl;
    logic [63:0] below, seen;
    logic first, rest;
    if (s >= in_w) return '0;
    if (s == 0) return x;
    fl    = x >>> s;              // apart: in one unsigned sum below, >>> would shift logically
    below = 64'(x) & ((64'd1 << s) - 64'd1);
    first = below[s-1];
    seen  = (64'd1 << (s - 1)) - 64'd1;
    if (s - 1 > sticky_w) seen = seen & ~((64'd1 << (s - 1 - sticky_w)) - 64'd1);
    rest  = (below & seen) != 0;
    return fl + 64'(first && (!x[63] || rest));
  endfunction

  // sat(x, w): clamp to the signed w-bit range.
  function automatic logic signed [63:0] sat(input logic signed [63:0] x, input int unsigned w);
    logic signed [63:0] hi, lo;
    hi = (64'sd1 <<< (w - 1)) - 64'sd1;
    lo = -(64'sd1 <<< (w - 1));
    return (x > hi) ? hi : (x < lo) ? lo : x;
  endfunction

  // shl_sat(op, s, w) of a signed 16-bit operand: sat(op * 2^s, w). A shift past 46 saturates
  // every non-zero operand as 46 does, so it is clamped there to keep the product in 64 bits.
  function automatic logic signed [63:0] shl_sat16(input logic signed [15:0] op,
                                                   input logic [5:0] s, input int unsigned w);
    return sat(64'(op) <<< ((s > 6'd46) ? 6'd46 : s), w);
  endfunction

  // Exact signed product of a 33-bit value and a 16-bit operand (49 bits).
  function automatic logic signed [XInW-1:0] mul33x16(input logic signed [32:0] a,
                                                       input logic signed [15:0] b);
    return XInW'(a) * XInW'(b);
  endfunction

endpackage : nvdla_pkg
