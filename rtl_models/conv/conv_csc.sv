// CSC: sequences the direct convolution (shared/spec/datapath.md §5) as weight-stationary
// stripes: for kernel group g, for a stripe of up to Stripe output positions (raster order),
// for each operation (channel block b, kernel row r, kernel column s) it streams the stripe's
// input atoms -- or the raw pad value outside the input -- past one 8x8 weight block. CBUF holds
// the weights packed as in memory (conv_cdma_wt), so the next block is the kn*cn bytes after the
// current one: the <= 8 entries covering them load into a shadow buffer while the current block
// computes, and its bytes are picked out when it becomes active. A stripe of >= 8 positions so
// issues one atomic operation per clock.
module conv_csc
  import conv_pkg::*;
(
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              start_i,
  input  conv_cfg_t         cfg_i,
  input  logic [13:0]       rows_done_i,    // from CDMA data: complete input rows in CBUF
  input  logic [WtEntW-1:0] wt_written_i,   // from CDMA weights: entries written (ring-absolute)
  output logic              wt_release_o,   // oldest weight group no longer needed
  input  logic              atom_pop_i,     // CACC handed one atom to the SDP
  // CBUF reads
  output logic              dat_rd_en_o,
  output logic [CbufAw-1:0] dat_rd_addr_o,
  input  atom_t             dat_rd_data_i,
  output logic              wt_rd_en_o,
  output logic [CbufAw-1:0] wt_rd_addr_o,
  input  atom_t             wt_rd_data_i,
  // to CMAC, one atomic operation per valid
  output logic              op_valid_o,
  output atom_t             op_data_o,
  output atom_t [AtomBytes-1:0] op_wt_o,    // [k] = weights of kernel k, lane c = channel c
  output logic [StripeAw-1:0] op_slot_o,    // output position within the stripe
  output logic              op_first_o,     // first operation of this output: start the sum
  output logic              op_last_o,      // last one: the sum is final
  output logic              busy_o
);
  localparam int unsigned FifoDepth = 2 * Stripe;  // must equal conv_cacc's FIFO depth
  localparam int unsigned FifoCntW = $clog2(FifoDepth) + 1;  // a count of slots, 0..FifoDepth

  // ---------------------------------------------------------------- geometry
  logic [13:0] wi, hi, wo, ho;
  logic [10:0] cb, ngroups;
  logic [5:0]  sk, rk;
  logic [3:0]  sx, sy;
  logic [5:0]  dx, dy;
  logic [27:0] npos;
  logic [22:0] nstripes;
  logic [CbufCntW-1:0] wcap, wbase;
  logic [OpsW-1:0] ops;
  logic [BpkW-1:0] bpk;
  logic [3:0]  cn_last;
  logic [11:0] rsn;
  assign wi = 14'(cfg_i.datain_width) + 14'd1;
  assign hi = 14'(cfg_i.datain_height) + 14'd1;
  assign wo = 14'(cfg_i.dataout_width) + 14'd1;
  assign ho = 14'(cfg_i.dataout_height) + 14'd1;
  assign cb = 11'(cfg_i.datain_channel >> 3) + 11'd1;
  assign ngroups = 11'(cfg_i.weight_kernel >> 3) + 11'd1;
  assign sk = 6'(cfg_i.weight_width) + 6'd1;
  assign rk = 6'(cfg_i.weight_height) + 6'd1;
  assign sx = 4'(cfg_i.x_stride) + 4'd1;
  assign sy = 4'(cfg_i.y_stride) + 4'd1;
  assign dx = 6'(cfg_i.x_dilation) + 6'd1;
  assign dy = 6'(cfg_i.y_dilation) + 6'd1;
  assign npos = 28'(wo) * 28'(ho);
  assign nstripes = 23'((npos + 28'(Stripe - 1)) >> StripeAw);
  assign wcap  = CbufCntW'((32'(cfg_i.weight_bank) + 32'd1) * BankEntries);
  assign wbase = CbufCntW'((32'(cfg_i.data_bank) + 32'd1) * BankEntries);
  assign ops   = OpsW'(32'(cb) * 32'(sk) * 32'(rk));
  assign bpk   = BpkW'(kernel_bytes_of(cfg_i));
  assign cn_last = 4'(cfg_i.datain_channel[2:0]) + 4'd1;
  assign rsn   = 12'(sk) * 12'(rk);


  // ---------------------------------------------------------------- weight loader
  // Walks the same (group, stripe, operation) sequence as the issue stage, one op ahead.
  logic        ld_act_q, ld_act_d;
  logic [10:0] lg_q, lg_d;
  logic [22:0] lst_q, lst_d;
  logic [OpsW-1:0] lop_q, lop_d;                 // op index in the group ...
  logic [GrpByteW-1:0] loff_q, loff_d;           // ... and its first byte
  // group start: absolute entry, ring position (< wcap; a sum of two before the wrap)
  logic [WtEntW-1:0] lgabs_q, lgabs_d;
  logic [CbufCntW-1:0] lgring_q, lgring_d;
  logic [3:0]  lk_q, lk_d, lkn, lcn, lne;        // entries requested; kernels, channels, entries
  logic [6:0]  lbytes;                           // kn*cn weight bytes of this op
  logic [BpkW-1:0] lgent;                        // entries of this group
  logic [3:0]  fill_q;                           // entries arrived in the shadow
  logic        rd_pend_q;
  logic [2:0]  rd_lane_q;
  // shadow: raw CBUF entries, the op's first byte at loff_q[2:0]; active: [k][c] weights
  atom_t [AtomBytes-1:0] shadow_q, shadow_d, active_q, active_d, picked;
  logic [AtomBytes*AtomBytes-1:0][7:0] sbytes;
  logic [5:0]  idx;                              // < 64 wherever it is used
  logic        shadow_full, swap, ld_rd;
  // The CBUF program check (conv_core) admits only groups of <= wcap entries, so the ring
  // position of an op's entry is below 2 * wcap before its wrap.
  logic [CbufCntW-1:0] ring;
  logic [WtEntW-1:0] ent_abs;

  always_comb begin
    lkn     = kn_of(lg_q[9:0], cfg_i.weight_kernel);
    // ops of the last channel block come last in a group (memory-layouts.md §2)
    lcn     = (lop_q >= ops - OpsW'(rsn)) ? cn_last : 4'd8;
    lbytes  = 7'(lkn) * 7'(lcn);
    lne     = 4'((7'(loff_q[2:0]) + lbytes + 7'd7) >> 3);
    lgent   = BpkW'((32'(lkn) * 32'(bpk) + 32'd7) >> 3);
    ent_abs = lgabs_q + WtEntW'(loff_q >> 3) + WtEntW'(lk_q);
    ring    = lgring_q + CbufCntW'(loff_q >> 3) + CbufCntW'(lk_q);
    if (ring >= wcap) ring = ring - wcap;
    shadow_full = ld_act_q && (fill_q == lne);
    ld_rd = ld_act_q && (lk_q < lne) && (ent_abs < wt_written_i);
  end

  // Kernel k's cn bytes start at byte loff%8 + k*cn of the shadow; lanes past cn and kernels
  // past kn multiply by 0.
  always_comb begin
    sbytes = shadow_q;
    for (int k = 0; k < int'(AtomBytes); k++) begin
      for (int c = 0; c < int'(AtomBytes); c++) begin
        idx = 6'(loff_q[2:0]) + 6'(k) * 6'(lcn) + 6'(c);
        picked[k][c] = (k < int'(lkn) && c < int'(lcn)) ? sbytes[idx] : '0;
      end
    end
  end
  assign wt_rd_en_o   = ld_rd;
  assign wt_rd_addr_o = CbufAw'(wbase + ring);

  // ---------------------------------------------------------------- issue stage
  logic        run_q, run_d;
  logic [10:0] g_q, g_d, b_q, b_d;
  logic [5:0]  r_q, r_d, s_q, s_d;
  logic [10:0] rdy_q, rdy_d, sdx_q, sdx_d;       // r*dy, s*dx
  logic [13:0] x_q, x_d, x0_q, x0_d;             // output column; the row lives in ys (y*sy)
  logic [16:0] xs_q, xs_d, ys_q, ys_d, xs0_q, xs0_d, ys0_q, ys0_d;  // x*sx, y*sy
  logic [27:0] left_q, left_d;                   // output positions from the stripe start
  logic [StripeAw:0] p_q, p_d, n;
  // CACC FIFO slots reserved / freed, modulo 2^FifoCntW: only their difference (<= FifoDepth) counts
  logic [FifoCntW-1:0] resv_q, resv_d, pops_q;
  logic        first_op, last_op, pad, dat_ok, go;
  logic signed [19:0] ii, jj;
  logic        op_end, stripe_end;

  always_comb begin
    // Stripes are Stripe long, except that the last two share what is left: a short last
    // stripe (say 2 positions) would make each pass wait for its 8 weight entries.
    if (left_q <= 28'(Stripe)) n = (StripeAw+1)'(left_q);
    else if (left_q < 28'(2 * Stripe)) n = (StripeAw+1)'((left_q + 28'd1) >> 1);
    else n = (StripeAw+1)'(Stripe);
    first_op = (b_q == '0) && (r_q == '0) && (s_q == '0);
    last_op  = (b_q == cb - 11'd1) && (r_q == rk - 6'd1) && (s_q == sk - 6'd1);
    ii       = 20'($signed({3'd0, ys_q})) + 20'($signed({9'd0, rdy_q})) - 20'($signed({15'd0, cfg_i.pad_top}));
    jj       = 20'($signed({3'd0, xs_q})) + 20'($signed({9'd0, sdx_q})) - 20'($signed({15'd0, cfg_i.pad_left}));
    pad      = (ii < 0) || (ii >= 20'($signed({6'd0, hi}))) || (jj < 0) || (jj >= 20'($signed({6'd0, wi})));
    dat_ok   = pad || (ii < 20'($signed({6'd0, rows_done_i})));
    // Each operation pass starts only with its weights loaded; the last pass of a stripe only
    // when the CACC output FIFO has room for the stripe's n results.
    go = run_q && dat_ok &&
         (p_q != '0 || (shadow_full &&
                        (!last_op || (FifoCntW'(FifoDepth) - (resv_q - pops_q) >= FifoCntW'(n)))));
    swap = go && (p_q == '0);
    op_end = go && (p_q + 1'b1 == n);
    stripe_end = op_end && last_op;
  end

  assign dat_rd_en_o   = go && !pad;
  assign dat_rd_addr_o = CbufAw'((32'(b_q) * 32'(hi) + 32'(ii[13:0])) * 32'(wi) + 32'(jj[13:0]));

  always_comb begin
    run_d = run_q;
    {g_d, b_d, r_d, s_d, rdy_d, sdx_d} = {g_q, b_q, r_q, s_q, rdy_q, sdx_q};
    {x_d, x0_d} = {x_q, x0_q};
    {xs_d, ys_d, xs0_d, ys0_d} = {xs_q, ys_q, xs0_q, ys0_q};
    left_d = left_q;
    p_d = p_q;
    resv_d = resv_q + ((swap && last_op) ? FifoCntW'(n) : '0);
    if (start_i) begin
      run_d = 1'b1;
      {g_d, b_d, r_d, s_d, rdy_d, sdx_d} = '0;
      {x_d, x0_d, xs_d, ys_d, xs0_d, ys0_d} = '0;
      left_d = npos;
      p_d = '0;
      resv_d = '0;
    end else if (go) begin
      p_d = p_q + 1'b1;
      x_d = x_q + 14'd1;
      xs_d = xs_q + 17'(sx);
      if (x_d == wo) begin
        x_d = '0;
        xs_d = '0;
        ys_d = ys_q + 17'(sy);
      end
      if (op_end) begin
        p_d = '0;
        s_d = s_q + 6'd1;
        sdx_d = sdx_q + 11'(dx);
        if (s_d == sk) begin
          s_d = '0;
          sdx_d = '0;
          r_d = r_q + 6'd1;
          rdy_d = rdy_q + 11'(dy);
          if (r_d == rk) begin
            r_d = '0;
            rdy_d = '0;
            b_d = b_q + 11'd1;
            if (b_d == cb) b_d = '0;
          end
        end
        if (stripe_end) begin
          // the next stripe starts where this pass ended
          {x0_d, xs0_d, ys0_d} = {x_d, xs_d, ys_d};
          left_d = left_q - 28'(n);
          if (left_d == '0) begin
            {x0_d, xs0_d, ys0_d} = '0;
            left_d = npos;
            g_d = g_q + 11'd1;
            if (g_d == ngroups) run_d = 1'b0;
          end
        end
        {x_d, xs_d, ys_d} = {x0_d, xs0_d, ys0_d};
      end
    end
  end

  // ---------------------------------------------------------------- weight loader sequencing
  always_comb begin
    ld_act_d = ld_act_q;
    {lg_d, lst_d, lop_d, loff_d, lgabs_d, lgring_d, lk_d} =
        {lg_q, lst_q, lop_q, loff_q, lgabs_q, lgring_q, lk_q};
    shadow_d = shadow_q;
    active_d = active_q;
    wt_release_o = 1'b0;
    if (rd_pend_q) shadow_d[rd_lane_q] = wt_rd_data_i;
    if (ld_rd) lk_d = lk_q + 4'd1;
    if (swap) begin
      active_d = picked;
      lk_d = '0;
      lop_d = lop_q + OpsW'(1);
      loff_d = loff_q + GrpByteW'(lbytes);
      if (lop_d == ops) begin
        lop_d = '0;
        loff_d = '0;
        lst_d = lst_q + 23'd1;
        if (lst_d == nstripes) begin
          lst_d = '0;
          lg_d = lg_q + 11'd1;
          wt_release_o = 1'b1;
          lgabs_d = lgabs_q + WtEntW'(lgent);
          lgring_d = lgring_q + CbufCntW'(lgent);
          if (lgring_d >= wcap) lgring_d = lgring_d - wcap;
          if (lg_d == ngroups) ld_act_d = 1'b0;
        end
      end
    end
    if (start_i) begin
      ld_act_d = 1'b1;
      {lg_d, lst_d, lop_d, loff_d, lgabs_d, lgring_d, lk_d} = '0;
      shadow_d = '0;
    end
  end

  // ---------------------------------------------------------------- registers
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      run_q <= 1'b0;
      {g_q, b_q, r_q, s_q, rdy_q, sdx_q} <= '0;
      {x_q, x0_q, xs_q, ys_q, xs0_q, ys0_q} <= '0;
      left_q <= '0;
      p_q <= '0;
      resv_q <= '0;
      pops_q <= '0;
      ld_act_q <= 1'b0;
      {lg_q, lst_q, lop_q, loff_q, lgabs_q, lgring_q, lk_q} <= '0;
      fill_q <= '0;
      rd_pend_q <= 1'b0;
      rd_lane_q <= '0;
      shadow_q <= '0;
      active_q <= '0;
    end else begin
      run_q <= run_d;
      {g_q, b_q, r_q, s_q, rdy_q, sdx_q} <= {g_d, b_d, r_d, s_d, rdy_d, sdx_d};
      {x_q, x0_q, xs_q, ys_q, xs0_q, ys0_q} <= {x_d, x0_d, xs_d, ys_d, xs0_d, ys0_d};
      left_q <= left_d;
      p_q <= p_d;
      resv_q <= resv_d;
      pops_q <= start_i ? '0 : pops_q + FifoCntW'(atom_pop_i);
      ld_act_q <= ld_act_d;
      {lg_q, lst_q, lop_q, loff_q, lgabs_q, lgring_q, lk_q} <=
          {lg_d, lst_d, lop_d, loff_d, lgabs_d, lgring_d, lk_d};
      // shadow_full waits for arrival, so no read is in flight across a swap
      fill_q <= (swap || start_i) ? 4'd0 : fill_q + 4'(rd_pend_q);
      rd_pend_q <= ld_rd;
      rd_lane_q <= 3'(lk_q);
      shadow_q <= shadow_d;
      active_q <= active_d;
    end
  end

  // ---------------------------------------------------------------- to CMAC (aligned with CBUF)
  logic              v_q, pad_q, first_q, last_q;
  logic [StripeAw-1:0] slot_q;
  atom_t [AtomBytes-1:0] w_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      {v_q, pad_q, first_q, last_q} <= '0;
      slot_q <= '0;
      w_q <= '0;
    end else begin
      v_q <= go;
      pad_q <= pad;
      first_q <= first_op;
      last_q <= last_op;
      slot_q <= StripeAw'(p_q);
      w_q <= active_d;
    end
  end
  assign op_valid_o = v_q;
  assign op_data_o  = pad_q ? {AtomBytes{cfg_i.pad_value}} : dat_rd_data_i;
  assign op_wt_o    = w_q;
  assign op_slot_o  = slot_q;
  assign op_first_o = first_q;
  assign op_last_o  = last_q;
  assign busy_o     = run_q || v_q;
endmodule
