// CDMA weight fetch: one kernel group at a time, once the group fits in the free part of the
// weight ring (the WEIGHT_BANK region of CBUF). The packed byte stream of
// shared/spec/memory-layouts.md §2 is cut into one CBUF entry per (block, r, s, kernel):
// the block's cn channels in lanes 0..cn-1, zeros above, so CSC reads one kernel per entry
// and channels past C multiply by 0.
module conv_cdma_wt
  import conv_pkg::*;
(
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              start_i,
  input  conv_cfg_t         cfg_i,
  output logic              rd_req_valid_o,
  input  logic              rd_req_ready_i,
  output logic [31:0]       rd_req_addr_o,
  output logic [7:0]        rd_req_len_o,
  input  logic              rd_rsp_valid_i,
  output logic              rd_rsp_ready_o,
  input  logic [63:0]       rd_rsp_data_i,
  output logic              wr_en_o,
  output logic [CbufAw-1:0] wr_addr_o,
  output atom_t             wr_data_o,
  output logic [31:0]       written_o,     // entries written since start (ring-absolute)
  input  logic              release_i,     // CSC finished the oldest resident group
  output logic              done_o         // pulse: last weight entry written
);
  // ---------------------------------------------------------------- layer geometry
  logic [10:0] cb, ngroups;
  logic [3:0]  cn_last;
  logic [9:0]  rs;
  logic [31:0] ops, bpk, wcap, wbase;
  assign cb      = 11'(cfg_i.datain_channel >> 3) + 11'd1;
  assign cn_last = 4'(cfg_i.datain_channel[2:0]) + 4'd1;
  assign ngroups = 11'(cfg_i.weight_kernel >> 3) + 11'd1;
  assign rs      = (10'(cfg_i.weight_width) + 10'd1) * (10'(cfg_i.weight_height) + 10'd1);
  assign ops     = 32'(cb) * 32'(rs);
  assign bpk     = 32'(cfg_i.byte_per_kernel) + 32'd1;
  assign wcap    = (32'(cfg_i.weight_bank) + 32'd1) * BankEntries;
  assign wbase   = (32'(cfg_i.data_bank) + 32'd1) * BankEntries;


  // ---------------------------------------------------------------- requests
  logic        req_act_q, req_act_d;
  logic [10:0] qg_q, qg_d;          // group being requested
  logic [31:0] qbeat_q, qbeat_d;    // beats of it already requested
  logic [31:0] resv_q, resv_d;      // entries reserved (fetched or being fetched) ...
  logic [31:0] freed_q, freed_d;    // ... and released by CSC, both since start
  logic [10:0] relg_q, relg_d;
  logic        grp_open_q, grp_open_d;  // qg_q has its ring space reserved
  logic [3:0]  qkn;
  logic [31:0] qbeats, qent, addr;
  logic [9:0]  to4k;
  logic [8:0]  beats;
  logic [31:0] left;

  always_comb begin
    qkn    = kn_of(qg_q[9:0], cfg_i.weight_kernel);
    qbeats = (32'(qkn) * bpk + 32'd7) >> 3;
    qent   = ops * 32'(qkn);
    addr   = cfg_i.weight_addr + 32'(qg_q) * (bpk << 3) + (qbeat_q << 3);
    left   = qbeats - qbeat_q;
    to4k   = 10'd512 - 10'(addr[11:3]);
    beats  = 9'd256;
    if (to4k < 10'(beats)) beats = 9'(to4k);
    if (left < 32'(beats)) beats = 9'(left);
  end
  assign rd_req_valid_o = req_act_q && grp_open_q;
  assign rd_req_addr_o  = addr;
  assign rd_req_len_o   = 8'(beats - 9'd1);

  always_comb begin
    req_act_d  = req_act_q;
    qg_d       = qg_q;
    qbeat_d    = qbeat_q;
    resv_d     = resv_q;
    grp_open_d = grp_open_q;
    freed_d    = freed_q + (release_i ? ops * 32'(kn_of(relg_q[9:0], cfg_i.weight_kernel)) : 32'd0);
    relg_d     = relg_q + 11'(release_i);
    if (start_i) begin
      req_act_d  = 1'b1;
      grp_open_d = 1'b0;
      {qg_d, qbeat_d, resv_d, freed_d, relg_d} = '0;
    end else if (req_act_q && !grp_open_q) begin
      if (resv_q - freed_q + qent <= wcap) begin
        grp_open_d = 1'b1;
        resv_d     = resv_q + qent;
      end
    end else if (rd_req_valid_o && rd_req_ready_i) begin
      qbeat_d = qbeat_q + 32'(beats);
      if (qbeat_d == qbeats) begin
        qbeat_d    = '0;
        grp_open_d = 1'b0;
        qg_d       = qg_q + 11'd1;
        if (qg_d == ngroups) req_act_d = 1'b0;
      end
    end
  end

  // ---------------------------------------------------------------- responses -> entries
  logic [127:0] buf_q, buf_d;
  logic [4:0]   cnt_q, cnt_d, cnt_e;
  logic [3:0]   rk_q, rk_d;
  logic [9:0]   rrs_q, rrs_d;
  logic [10:0]  rb_q, rb_d, rg_q, rg_d;
  logic [3:0]   cn, rkn;
  logic         emit, grp_end, last_in;
  logic [31:0]  rbeat_q, rbeat_d;   // beats of group rg_q taken in
  logic [31:0]  wr_cnt_q, wr_cnt_d, wp_q, wp_d;
  atom_t        entry;
  logic         wr_q;
  logic [CbufAw-1:0] waddr_q;
  atom_t        wdata_q;

  always_comb begin
    cn      = (rb_q == cb - 11'd1) ? cn_last : 4'd8;
    rkn     = kn_of(rg_q[9:0], cfg_i.weight_kernel);
    emit    = (rg_q < ngroups) && (cnt_q >= 5'(cn)) && !start_i;
    grp_end = (rk_q == rkn - 4'd1) && (rrs_q == rs - 10'd1) && (rb_q == cb - 11'd1);
    for (int l = 0; l < int'(AtomBytes); l++) entry[l] = (l < int'(cn)) ? buf_q[8*l +: 8] : '0;

    buf_d = buf_q;
    cnt_e = cnt_q;
    rk_d = rk_q;
    rrs_d = rrs_q;
    rb_d = rb_q;
    rg_d = rg_q;
    if (emit) begin
      buf_d = buf_q >> {cn, 3'd0};
      cnt_e = cnt_q - 5'(cn);
      rk_d  = rk_q + 4'd1;
      if (rk_d == rkn) begin
        rk_d = '0;
        rrs_d = rrs_q + 10'd1;
        if (rrs_d == rs) begin
          rrs_d = '0;
          rb_d = rb_q + 11'd1;
          if (rb_d == cb) begin
            rb_d = '0;
            rg_d = rg_q + 11'd1;
          end
        end
      end
      // The tail of a group's last beat is padding up to 8 bytes, never a weight.
      if (grp_end) begin
        buf_d = '0;
        cnt_e = '0;
      end
    end
    // Once a group's last beat is in, the next group's first beat waits for the group to end:
    // it must not land behind the padding bytes that the group end discards.
    last_in = (rbeat_q == ((32'(rkn) * bpk + 32'd7) >> 3));
    rbeat_d = (emit && grp_end) ? '0 : rbeat_q;
    rd_rsp_ready_o = (cnt_e <= 5'd8) && (!last_in || (emit && grp_end));
    cnt_d = cnt_e;
    if (rd_rsp_valid_i && rd_rsp_ready_o) begin
      buf_d = buf_d | (128'(rd_rsp_data_i) << {cnt_e, 3'd0});
      cnt_d = cnt_e + 5'd8;
      rbeat_d = rbeat_d + 32'd1;
    end
    wr_cnt_d = wr_cnt_q + 32'(emit);
    wp_d = wp_q;
    if (emit) wp_d = (wp_q + 32'd1 == wcap) ? '0 : wp_q + 32'd1;
    if (start_i) begin
      buf_d = '0;
      cnt_d = '0;
      {rk_d, rrs_d, rb_d, rg_d, wr_cnt_d, wp_d, rbeat_d} = '0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      req_act_q <= 1'b0;
      grp_open_q <= 1'b0;
      {qg_q, qbeat_q, resv_q, freed_q, relg_q} <= '0;
      buf_q <= '0;
      {cnt_q, rk_q, rrs_q, rb_q, rg_q, wr_cnt_q, wp_q, rbeat_q} <= '0;
      wr_q <= 1'b0;
      waddr_q <= '0;
      wdata_q <= '0;
    end else begin
      req_act_q <= req_act_d;
      grp_open_q <= grp_open_d;
      qg_q <= qg_d;
      qbeat_q <= qbeat_d;
      resv_q <= resv_d;
      freed_q <= freed_d;
      relg_q <= relg_d;
      buf_q <= buf_d;
      cnt_q <= cnt_d;
      rk_q <= rk_d;
      rrs_q <= rrs_d;
      rb_q <= rb_d;
      rg_q <= rg_d;
      wr_cnt_q <= wr_cnt_d;
      wp_q <= wp_d;
      rbeat_q <= rbeat_d;
      wr_q <= emit;
      waddr_q <= CbufAw'(wbase + wp_q);
      wdata_q <= entry;
    end
  end

  // written_o counts an entry once it is in CBUF (one cycle after emit).
  logic [31:0] written_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni || start_i) written_q <= '0;
    else written_q <= wr_cnt_q;
  end
  assign wr_en_o   = wr_q;
  assign wr_addr_o = waddr_q;
  assign wr_data_o = wdata_q;
  assign written_o = written_q;
  assign done_o    = wr_q && (rg_q == ngroups) && (wr_cnt_q - written_q == 32'd1);
endmodule
