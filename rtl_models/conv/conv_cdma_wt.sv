// CDMA weight fetch: one kernel group at a time, once the group fits in the free part of the
// weight ring (the WEIGHT_BANK region of CBUF). CBUF holds the packed byte stream of
// shared/spec/memory-layouts.md §2 as it is in memory, one 8-byte beat per entry, so a group
// takes ceil(kn*BPK/8) entries, BPK being a kernel's R*S*C bytes (conv_pkg::kernel_bytes_of):
// NVDLA's packed rule, and no more banks than NVDLA needs. Every group starts on an entry
// boundary because its memory offset 8*BPK*g is a multiple of 8; only the last group's last
// entry carries bytes past the weights, which CSC never selects.
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
  output logic [WtEntW-1:0] written_o,     // entries written since start (ring-absolute)
  input  logic              release_i,     // CSC finished the oldest resident group
  output logic              done_o         // pulse: last weight entry written
);
  // ---------------------------------------------------------------- layer geometry
  logic [10:0] ngroups;
  logic [BpkW-1:0] bpk;
  logic [CbufCntW-1:0] wcap, wbase;
  assign ngroups = 11'(cfg_i.weight_kernel >> 3) + 11'd1;
  assign bpk     = BpkW'(kernel_bytes_of(cfg_i));
  assign wcap    = CbufCntW'((32'(cfg_i.weight_bank) + 32'd1) * BankEntries);
  assign wbase   = CbufCntW'((32'(cfg_i.data_bank) + 32'd1) * BankEntries);

  // ---------------------------------------------------------------- requests
  logic        req_act_q, req_act_d;
  logic [10:0] qg_q, qg_d;          // group being requested
  logic [BpkW-1:0] qbeat_q, qbeat_d;  // beats of it already requested
  // Entries reserved (fetched or being fetched) and released by CSC since start, modulo
  // 2^CbufCntW: only their difference, the ring's occupancy (<= wcap), is used.
  logic [CbufCntW-1:0] resv_q, resv_d, freed_q, freed_d;
  logic [10:0] relg_q, relg_d;
  logic        grp_open_q, grp_open_d;  // qg_q has its ring space reserved
  logic [3:0]  qkn;
  logic [BpkW-1:0] qbeats, left;  // a group's beats = its ring entries (<= BPK)
  logic [31:0] addr;
  logic [8:0]  beats;

  always_comb begin
    qkn    = kn_of(qg_q[9:0], cfg_i.weight_kernel);
    qbeats = BpkW'((32'(qkn) * 32'(bpk) + 32'd7) >> 3);
    addr   = cfg_i.weight_addr + 32'(qg_q) * (32'(bpk) << 3) + (32'(qbeat_q) << 3);
    left   = qbeats - qbeat_q;
    beats  = nvdla_pkg::burst_beats(addr[11:3], 32'(left), nvdla_pkg::MaxBurstBeats);
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
    freed_d    = freed_q + (release_i ? CbufCntW'((32'(kn_of(relg_q[9:0], cfg_i.weight_kernel)) * 32'(bpk)
                                                    + 32'd7) >> 3)
                                      : '0);
    relg_d     = relg_q + 11'(release_i);
    if (start_i) begin
      req_act_d  = 1'b1;
      grp_open_d = 1'b0;
      {qg_d, qbeat_d, resv_d, freed_d, relg_d} = '0;
    end else if (req_act_q && !grp_open_q) begin
      if (32'(CbufCntW'(resv_q - freed_q)) + 32'(qbeats) <= 32'(wcap)) begin
        grp_open_d = 1'b1;
        resv_d     = resv_q + CbufCntW'(qbeats);
      end
    end else if (rd_req_valid_o && rd_req_ready_i) begin
      qbeat_d = qbeat_q + BpkW'(beats);
      if (qbeat_d == qbeats) begin
        qbeat_d    = '0;
        grp_open_d = 1'b0;
        qg_d       = qg_q + 11'd1;
        if (qg_d == ngroups) req_act_d = 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      req_act_q <= 1'b0;
      grp_open_q <= 1'b0;
      {qg_q, qbeat_q, resv_q, freed_q, relg_q} <= '0;
    end else begin
      req_act_q <= req_act_d;
      grp_open_q <= grp_open_d;
      qg_q <= qg_d;
      qbeat_q <= qbeat_d;
      resv_q <= resv_d;
      freed_q <= freed_d;
      relg_q <= relg_d;
    end
  end

  // ---------------------------------------------------------------- responses -> entries
  // A beat is an entry: always accepted, written one cycle later at the next ring position.
  logic [WtEntW-1:0] total;         // entries of the layer: a group of 8 kernels is BPK entries
  logic [WtEntW-1:0] wr_cnt_q;
  logic [CbufAw-1:0] wp_q;          // ring position, < wcap
  logic        fire, wr_q;
  logic [CbufAw-1:0] waddr_q;
  atom_t       wdata_q;
  assign total = WtEntW'(32'(ngroups - 11'd1) * 32'(bpk)
               + ((32'(kn_of(10'(ngroups - 11'd1), cfg_i.weight_kernel)) * 32'(bpk) + 32'd7) >> 3));
  assign rd_rsp_ready_o = 1'b1;
  assign fire = rd_rsp_valid_i && !start_i;

  always_ff @(posedge clk_i) begin
    if (!rst_ni || start_i) begin
      {wr_cnt_q, wp_q} <= '0;
      wr_q <= 1'b0;
    end else begin
      wr_cnt_q <= wr_cnt_q + WtEntW'(fire);
      if (fire) wp_q <= (CbufCntW'(wp_q) + CbufCntW'(1) == wcap) ? '0 : wp_q + CbufAw'(1);
      wr_q <= fire;
    end
  end
  always_ff @(posedge clk_i) begin
    waddr_q <= CbufAw'(wbase + CbufCntW'(wp_q));
    wdata_q <= rd_rsp_data_i;
  end

  // written_o counts an entry once it is in CBUF (one cycle after the write).
  logic [WtEntW-1:0] written_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni || start_i) written_q <= '0;
    else written_q <= wr_cnt_q;
  end
  assign wr_en_o   = wr_q;
  assign wr_addr_o = waddr_q;
  assign wr_data_o = wdata_q;
  assign written_o = written_q;
  assign done_o    = wr_q && (wr_cnt_q == total);
endmodule
