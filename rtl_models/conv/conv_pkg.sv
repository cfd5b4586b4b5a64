// Shared types of the nv_small INT8 direct-convolution pipeline (rtl_models/conv/).
// The register fields arrive as one packed struct of the consumer group's values; the top
// fills it from its register file, so no unit here decodes a CSB address.
package conv_pkg;

  // ---------------------------------------------------------------- configuration
  localparam int unsigned AtomBytes   = 8;     // nv_small memory atom = atomic C = atomic K
  localparam int unsigned CbufBanks   = 32;
  localparam int unsigned BankEntries = 512;   // 4 KiB / 8 B
  localparam int unsigned CbufEntries = CbufBanks * BankEntries;
  localparam int unsigned CbufAw      = $clog2(CbufEntries);
  localparam int unsigned CbufCntW    = CbufAw + 1;  // a count of entries, 0..CbufEntries
  // Widths of the weight counters, from what conv_core's program check lets compute (a program
  // it refuses raises error_o and computes nothing). BPK here is a kernel's bytes in memory,
  // R*S*C (kernel_bytes_of), not the BYTE_PER_KERNEL register. The first kernel group,
  // kn0 = min(8, K) kernels packed at ceil(kn0 * BPK / 8) entries, fits the weight banks, at
  // most 31 of 32 (the data side keeps one): kn0 * BPK <= 8 * 31 * 512 = 126,976 bytes.
  // - BPK <= 126,976 < 2^17 (kn0 = 1); a group's entries, <= 15,872, fit as well.
  // - a byte offset within a group is at most kn * BPK <= 126,976 < 2^17.
  // - a group's operations, ceil(C/8) * S * R <= (C*R*S + 7*R*S) / 8 <= (126,976 + 7 * 1024) / 8
  //   = 16,768 < 2^15 (R, S <= 32).
  // - a layer's weight entries: one group (K < 8, <= 15,872), or at most 1024 groups (K <= 8192)
  //   of BPK <= 15,872 entries (kn0 = 8): 16,252,928 < 2^24.
  localparam int unsigned BpkW        = 17;
  localparam int unsigned GrpByteW    = 17;
  localparam int unsigned OpsW        = 15;
  localparam int unsigned WtEntW      = 24;
  // Output positions that share one weight load (weight-stationary stripe). A power of two
  // so the stripe count is a shift; >= 8 hides the 8-cycle weight load behind the MACs.
  localparam int unsigned Stripe      = 32;
  localparam int unsigned StripeAw    = $clog2(Stripe);
  localparam int unsigned MacW        = 2 * 8 + $clog2(AtomBytes);  // 19-bit sum of 8 products
  localparam int unsigned PsumW       = 34;
  localparam int unsigned CaccStickyW = 15;  // discarded bits below the first that CACC rounding
                                             // sees (nvdla_pkg::shr_round's sticky_w)

  typedef logic signed [7:0] int8_t;
  typedef int8_t [AtomBytes-1:0] atom_t;              // lane i = byte i of a memory atom
  typedef logic signed [MacW-1:0] mac_t;
  typedef mac_t [AtomBytes-1:0] mac_atom_t;           // CMAC result, one sum per kernel lane
  typedef logic signed [31:0] int32_t;
  typedef int32_t [AtomBytes-1:0] acc_atom_t;         // one CACC->SDP atom, 8 lanes x int32

  // Register fields a conv layer needs, raw from the consumer group ("-1" encodings kept:
  // the units add 1 where they count). Field names follow shared/spec/registers.md.
  typedef struct packed {
    // CDMA
    logic [31:0] dain_addr;         // CDMA.D_DAIN_ADDR_LOW_0
    logic [31:0] line_stride;       // CDMA.D_LINE_STRIDE
    logic [31:0] surf_stride;       // CDMA.D_SURF_STRIDE
    logic [31:0] weight_addr;       // CDMA.D_WEIGHT_ADDR_LOW
    logic [17:0] byte_per_kernel;   // CDMA.D_WEIGHT_SIZE_0.BYTE_PER_KERNEL (BPK-1): paces the fetch only
    logic [31:0] weight_bytes;      // CDMA.D_WEIGHT_BYTES
    logic        cvt_en;            // CDMA.D_CVT_CFG.CVT_EN
    logic [5:0]  cvt_truncate;      // CDMA.D_CVT_CFG.CVT_TRUNCATE
    logic [15:0] cvt_offset;        // CDMA.D_CVT_OFFSET
    logic [15:0] cvt_scale;         // CDMA.D_CVT_SCALE
    logic [4:0]  data_bank;         // CDMA.D_BANK.DATA_BANK (banks-1)
    logic [4:0]  weight_bank;       // CDMA.D_BANK.WEIGHT_BANK (banks-1)
    // CSC
    logic [12:0] datain_width;      // CSC.D_DATAIN_SIZE_EXT_0 (Wi-1)
    logic [12:0] datain_height;     // (Hi-1)
    logic [12:0] datain_channel;    // CSC.D_DATAIN_SIZE_EXT_1 (C-1)
    logic [4:0]  weight_width;      // CSC.D_WEIGHT_SIZE_EXT_0 (S-1)
    logic [4:0]  weight_height;     // (R-1)
    logic [12:0] weight_kernel;     // CSC.D_WEIGHT_SIZE_EXT_1.WEIGHT_KERNEL (K-1)
    logic [12:0] dataout_width;     // CSC.D_DATAOUT_SIZE_0 (Wo-1)
    logic [12:0] dataout_height;    // (Ho-1)
    logic [2:0]  x_stride;          // CSC.D_CONV_STRIDE_EXT (sx-1)
    logic [2:0]  y_stride;          // (sy-1)
    logic [4:0]  x_dilation;        // CSC.D_DILATION_EXT (dx-1)
    logic [4:0]  y_dilation;        // (dy-1)
    logic [4:0]  pad_left;          // CSC.D_ZERO_PADDING
    logic [4:0]  pad_top;
    logic [7:0]  pad_value;         // CSC.D_ZERO_PADDING_VALUE.PAD_VALUE[7:0] ([15:8] unused in INT8)
    // CACC
    logic [4:0]  clip_truncate;     // CACC.D_CLIP_CFG.CLIP_TRUNCATE
  } conv_cfg_t;

  // A kernel's bytes in memory, R*S*C from the CSC's sizes: the layout NVDLA's CSC walks.
  // BYTE_PER_KERNEL does not move it; NVDLA's CDMA only paces its reports to the CSC by it
  // (docs/nvdla-rules.md §7), which conv_core checks.
  function automatic logic [31:0] kernel_bytes_of(input conv_cfg_t cfg);
    return (32'(cfg.datain_channel) + 32'd1) * (32'(cfg.weight_height) + 32'd1)
         * (32'(cfg.weight_width) + 32'd1);
  endfunction

  // Kernels in group g (8 except the last group): min(8, K - 8g), with kmax = K-1.
  function automatic logic [3:0] kn_of(input logic [9:0] g, input logic [12:0] kmax);
    logic [12:0] left;
    left = kmax - {g, 3'd0};
    return (left >= 13'd7) ? 4'd8 : 4'(left) + 4'd1;
  endfunction

endpackage
