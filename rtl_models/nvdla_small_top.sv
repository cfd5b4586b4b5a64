// NVDLA nv_small INT8 conv + SDP model, programmed like NVDLA: an APB register port at the CSB
// byte addresses of shared/spec/registers.md, one 64-bit AXI4 master, one interrupt line.
// Interfaces inside are described in docs/rtl-architecture.md. The convolution pipeline
// (CDMA/CSC/CMAC/CACC, issue #5) plugs into the "conv side" section below; until it lands its
// outputs are tied off here.
module nvdla_small_top (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  // APB3 register port (zero wait states)
  input  logic [31:0]                   apb_paddr_i,
  input  logic                          apb_psel_i,
  input  logic                          apb_penable_i,
  input  logic                          apb_pwrite_i,
  input  logic [31:0]                   apb_pwdata_i,
  output logic [31:0]                   apb_prdata_o,
  output logic                          apb_pready_o,
  output logic                          apb_pslverr_o,
  // AXI4 master (memory): flat here, the names AXI tools expect; nvdla_pkg's structs inside
  output logic [nvdla_pkg::AxiIdW-1:0]  m_axi_awid,
  output logic [31:0]                   m_axi_awaddr,
  output logic [7:0]                    m_axi_awlen,
  output logic [2:0]                    m_axi_awsize,
  output logic [1:0]                    m_axi_awburst,
  output logic                          m_axi_awvalid,
  input  logic                          m_axi_awready,
  output logic [63:0]                   m_axi_wdata,
  output logic [7:0]                    m_axi_wstrb,
  output logic                          m_axi_wlast,
  output logic                          m_axi_wvalid,
  input  logic                          m_axi_wready,
  input  logic [nvdla_pkg::AxiIdW-1:0]  m_axi_bid,
  input  logic [1:0]                    m_axi_bresp,
  input  logic                          m_axi_bvalid,
  output logic                          m_axi_bready,
  output logic [nvdla_pkg::AxiIdW-1:0]  m_axi_arid,
  output logic [31:0]                   m_axi_araddr,
  output logic [7:0]                    m_axi_arlen,
  output logic [2:0]                    m_axi_arsize,
  output logic [1:0]                    m_axi_arburst,
  output logic                          m_axi_arvalid,
  input  logic                          m_axi_arready,
  input  logic [nvdla_pkg::AxiIdW-1:0]  m_axi_rid,
  input  logic [63:0]                   m_axi_rdata,
  input  logic [1:0]                    m_axi_rresp,
  input  logic                          m_axi_rlast,
  input  logic                          m_axi_rvalid,
  output logic                          m_axi_rready,
  output logic                          intr_o
);
  import nvdla_pkg::*;
  import nvdla_reg_pkg::*;

  // ---------------- APB -> per-unit CSB access ----------------
  logic csb_valid, csb_write;
  logic [9:0] csb_word;
  logic [31:0] csb_wdata;

  assign csb_valid = apb_psel_i && apb_penable_i;
  assign csb_write = apb_pwrite_i;
  assign csb_word = apb_paddr_i[11:2];
  assign csb_wdata = apb_pwdata_i;
  assign apb_pready_o = 1'b1;
  assign apb_pslverr_o = 1'b0;   // unmapped addresses read 0 and ignore writes, as NVDLA's CSB

  function automatic logic hit(input logic [31:0] base);
    return apb_paddr_i[31:12] == base[31:12];  // unit bases are 4 KiB aligned
  endfunction

  // ---------------- register files ----------------
  cdma_regs_t cdma_regs, cdma_hw;
  csc_regs_t csc_regs;
  cacc_regs_t cacc_regs, cacc_hw;
  sdp_rdma_regs_t rdma_regs;
  sdp_regs_t sdp_regs, sdp_hw;
  logic [31:0] glb_rdata, cdma_rdata, csc_rdata, cmac_a_rdata, cmac_b_rdata, cacc_rdata,
               rdma_rdata, sdp_rdata;
  logic cdma_op_en, csc_op_en, cmac_a_op_en, cmac_b_op_en, cacc_op_en, rdma_op_en, sdp_op_en;
  logic cdma_consumer, csc_consumer, cmac_a_consumer, cmac_b_consumer, cacc_consumer,
        rdma_consumer, sdp_consumer;
  logic cdma_done, csc_done, cmac_a_done, cmac_b_done, cacc_done, rdma_done, sdp_done;
  logic cdma_dat_done, cdma_wt_done;
  logic [31:0] sat_count;
  logic [31:0] done_events;

  always_comb begin
    cdma_hw = '0;
    cdma_hw.s_cbuf_flush_status.flush_done = 1'b1;  // no CBUF flush to wait for after reset
    cacc_hw = '0;
    cacc_hw.d_out_saturation.sat_count = conv_sat_count;
    sdp_hw = '0;
    sdp_hw.d_perf_out_saturation.out_saturation = sat_count;
  end

  nvdla_glb u_glb (
    .clk_i, .rst_ni,
    .csb_valid_i (csb_valid && hit(GLB_BASE)),
    .csb_write_i (csb_write),
    .csb_word_i  (csb_word),
    .csb_wdata_i (csb_wdata),
    .csb_rdata_o (glb_rdata),
    .done_events_i(done_events),
    .intr_o
  );

`define NVDLA_UNIT_REGFILE(U, u, HW, DONE, REGS) \
  nvdla_unit_regfile #( \
    .Words(U``_WORDS), .FirstDWord(U``_FIRST_D_WORD), .ResetValue(U``_RESET), \
    .Writable(U``_WRITABLE), .ReadOnly(U``_READ_ONLY) \
  ) u_``u``_regfile ( \
    .clk_i, .rst_ni, \
    .csb_valid_i (csb_valid && hit(U``_BASE)), \
    .csb_write_i (csb_write), \
    .csb_word_i  (csb_word), \
    .csb_wdata_i (csb_wdata), \
    .csb_rdata_o (u``_rdata), \
    .hw_status_i (HW), \
    .done_i      (DONE), \
    .op_en_o     (u``_op_en), \
    .consumer_o  (u``_consumer), \
    .regs_o      (REGS) \
  );

  `NVDLA_UNIT_REGFILE(CDMA, cdma, cdma_hw, cdma_done, cdma_regs)
  `NVDLA_UNIT_REGFILE(CSC, csc, '0, csc_done, csc_regs)
  // CMAC_A/B have no functional field (direct convolution, INT8 only): their registers are only
  // stored and read back, so nothing takes regs_o.
  `NVDLA_UNIT_REGFILE(CMAC_A, cmac_a, '0, cmac_a_done, )
  `NVDLA_UNIT_REGFILE(CMAC_B, cmac_b, '0, cmac_b_done, )
  `NVDLA_UNIT_REGFILE(CACC, cacc, cacc_hw, cacc_done, cacc_regs)
  `NVDLA_UNIT_REGFILE(SDP_RDMA, rdma, '0, rdma_done, rdma_regs)
  `NVDLA_UNIT_REGFILE(SDP, sdp, sdp_hw, sdp_done, sdp_regs)
`undef NVDLA_UNIT_REGFILE

  always_comb begin
    apb_prdata_o = '0;
    if (hit(GLB_BASE)) apb_prdata_o = glb_rdata;
    if (hit(CDMA_BASE)) apb_prdata_o = cdma_rdata;
    if (hit(CSC_BASE)) apb_prdata_o = csc_rdata;
    if (hit(CMAC_A_BASE)) apb_prdata_o = cmac_a_rdata;
    if (hit(CMAC_B_BASE)) apb_prdata_o = cmac_b_rdata;
    if (hit(CACC_BASE)) apb_prdata_o = cacc_rdata;
    if (hit(SDP_RDMA_BASE)) apb_prdata_o = rdma_rdata;
    if (hit(SDP_BASE)) apb_prdata_o = sdp_rdata;
  end

  // Done events at their S_INTR_STATUS bit: unit done for the group that was the consumer.
  always_comb begin
    done_events = '0;
    done_events[sdp_consumer ? GLB_SDP_DONE_STATUS1_BIT : GLB_SDP_DONE_STATUS0_BIT] = sdp_done;
    done_events[cdma_consumer ? GLB_CDMA_DAT_DONE_STATUS1_BIT : GLB_CDMA_DAT_DONE_STATUS0_BIT] = cdma_dat_done;
    done_events[cdma_consumer ? GLB_CDMA_WT_DONE_STATUS1_BIT : GLB_CDMA_WT_DONE_STATUS0_BIT] = cdma_wt_done;
    done_events[cacc_consumer ? GLB_CACC_DONE_STATUS1_BIT : GLB_CACC_DONE_STATUS0_BIT] = cacc_done;
  end

  // ---------------- DMA read clients and the AXI read arbiter ----------------
  logic [NumRdClients-1:0] rd_req_valid, rd_req_ready, rd_rsp_valid, rd_rsp_ready;
  logic [NumRdClients-1:0][31:0] rd_req_addr;
  logic [NumRdClients-1:0][7:0] rd_req_len;
  logic [63:0] rd_rsp_data;
  // nv_small has one memory port, MCIF. A DMA whose RAM type selects CVIF (0, the reset value)
  // is never accepted, as in NVDLA's DMA interface without a secondary port: the layer never
  // ends (compiler/nvdla_int8/hw/memif.py; the testbench names the field when it hangs).
  logic [NumRdClients-1:0] rd_mcif, rd_req_ready_mc;
  logic wr_mcif, wr_ready_mc;
  axi_rd_req_t axi_rd_req;
  axi_rd_rsp_t axi_rd_rsp;
  axi_wr_req_t axi_wr_req;
  axi_wr_rsp_t axi_wr_rsp;

  always_comb begin
    rd_mcif = '0;
    rd_mcif[RdCdmaDat] = cdma_regs.d_dain_ram_type.datain_ram_type;
    rd_mcif[RdCdmaWt] = cdma_regs.d_weight_ram_type.weight_ram_type;
    rd_mcif[RdSdpMrdma] = rdma_regs.d_src_dma_cfg.src_ram_type;
    rd_mcif[RdSdpMrdma + 1] = rdma_regs.d_brdma_cfg.brdma_ram_type;
    rd_mcif[RdSdpNrdma] = rdma_regs.d_nrdma_cfg.nrdma_ram_type;
  end
  assign wr_mcif = sdp_regs.d_dst_dma_cfg.dst_ram_type;
  assign rd_req_ready = rd_req_ready_mc & rd_mcif;

  nvdla_axi_rd_arb u_rd_arb (
    .clk_i, .rst_ni,
    .req_valid_i (rd_req_valid & rd_mcif),
    .req_ready_o (rd_req_ready_mc),
    .req_addr_i  (rd_req_addr),
    .req_len_i   (rd_req_len),
    .rsp_valid_o (rd_rsp_valid),
    .rsp_ready_i (rd_rsp_ready),
    .rsp_data_o  (rd_rsp_data),
    .axi_o       (axi_rd_req),
    .axi_i       (axi_rd_rsp)
  );

  // ---------------- conv side (issue #5): rtl_models/conv/conv_core ----------------
  // Drives read clients RdCdmaDat and RdCdmaWt, the CACC -> SDP atom stream, the conv units'
  // done pulses and CACC's saturation count. It starts once all five conv units have OP_EN on
  // their consumer group; the register files then hold those fields until the done pulse.
  logic cacc2sdp_valid, cacc2sdp_ready;
  atom32_t cacc2sdp_data;
  conv_pkg::conv_cfg_t conv_cfg;
  logic conv_arm, conv_run_q, conv_start, conv_done, conv_error;
  logic [31:0] conv_sat_count;
  conv_pkg::acc_atom_t conv_atom;

  always_comb begin
    conv_cfg = '0;
    conv_cfg.dain_addr       = cdma_regs.d_dain_addr_low_0.datain_addr_low_0;
    conv_cfg.line_stride     = cdma_regs.d_line_stride.line_stride;
    conv_cfg.surf_stride     = cdma_regs.d_surf_stride.surf_stride;
    conv_cfg.weight_addr     = cdma_regs.d_weight_addr_low.weight_addr_low;
    conv_cfg.byte_per_kernel = cdma_regs.d_weight_size_0.byte_per_kernel;
    conv_cfg.weight_bytes    = cdma_regs.d_weight_bytes.weight_bytes;
    conv_cfg.cvt_en          = cdma_regs.d_cvt_cfg.cvt_en;
    conv_cfg.cvt_truncate    = cdma_regs.d_cvt_cfg.cvt_truncate;
    conv_cfg.cvt_offset      = cdma_regs.d_cvt_offset.cvt_offset;
    conv_cfg.cvt_scale       = cdma_regs.d_cvt_scale.cvt_scale;
    conv_cfg.data_bank       = cdma_regs.d_bank.data_bank;
    conv_cfg.weight_bank     = cdma_regs.d_bank.weight_bank;
    conv_cfg.datain_width    = csc_regs.d_datain_size_ext_0.datain_width_ext;
    conv_cfg.datain_height   = csc_regs.d_datain_size_ext_0.datain_height_ext;
    conv_cfg.datain_channel  = csc_regs.d_datain_size_ext_1.datain_channel_ext;
    conv_cfg.weight_width    = csc_regs.d_weight_size_ext_0.weight_width_ext;
    conv_cfg.weight_height   = csc_regs.d_weight_size_ext_0.weight_height_ext;
    conv_cfg.weight_kernel   = csc_regs.d_weight_size_ext_1.weight_kernel;
    conv_cfg.dataout_width   = csc_regs.d_dataout_size_0.dataout_width;
    conv_cfg.dataout_height  = csc_regs.d_dataout_size_0.dataout_height;
    conv_cfg.x_stride        = csc_regs.d_conv_stride_ext.conv_x_stride_ext;
    conv_cfg.y_stride        = csc_regs.d_conv_stride_ext.conv_y_stride_ext;
    conv_cfg.x_dilation      = csc_regs.d_dilation_ext.x_dilation_ext;
    conv_cfg.y_dilation      = csc_regs.d_dilation_ext.y_dilation_ext;
    conv_cfg.pad_left        = csc_regs.d_zero_padding.pad_left;
    conv_cfg.pad_top         = csc_regs.d_zero_padding.pad_top;
    conv_cfg.pad_value       = csc_regs.d_zero_padding_value.pad_value[7:0];
    conv_cfg.clip_truncate   = cacc_regs.d_clip_cfg.clip_truncate;
  end

  assign conv_arm = cdma_op_en && csc_op_en && cmac_a_op_en && cmac_b_op_en && cacc_op_en;
  assign conv_start = conv_arm && !conv_run_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) conv_run_q <= 1'b0;
    else conv_run_q <= conv_start ? 1'b1 : (conv_done || conv_error) ? 1'b0 : conv_run_q;
  end

  conv_core u_conv (
    .clk_i, .rst_ni,
    .start_i            (conv_start),
    .cfg_i              (conv_cfg),
    .dat_rd_req_valid_o (rd_req_valid[RdCdmaDat]),
    .dat_rd_req_ready_i (rd_req_ready[RdCdmaDat]),
    .dat_rd_req_addr_o  (rd_req_addr[RdCdmaDat]),
    .dat_rd_req_len_o   (rd_req_len[RdCdmaDat]),
    .dat_rd_rsp_valid_i (rd_rsp_valid[RdCdmaDat]),
    .dat_rd_rsp_ready_o (rd_rsp_ready[RdCdmaDat]),
    .dat_rd_rsp_data_i  (rd_rsp_data),
    .wt_rd_req_valid_o  (rd_req_valid[RdCdmaWt]),
    .wt_rd_req_ready_i  (rd_req_ready[RdCdmaWt]),
    .wt_rd_req_addr_o   (rd_req_addr[RdCdmaWt]),
    .wt_rd_req_len_o    (rd_req_len[RdCdmaWt]),
    .wt_rd_rsp_valid_i  (rd_rsp_valid[RdCdmaWt]),
    .wt_rd_rsp_ready_o  (rd_rsp_ready[RdCdmaWt]),
    .wt_rd_rsp_data_i   (rd_rsp_data),
    .cacc2sdp_valid_o   (cacc2sdp_valid),
    .cacc2sdp_ready_i   (cacc2sdp_ready),
    .cacc2sdp_data_o    (conv_atom),
    .dat_done_o         (cdma_dat_done),
    .wt_done_o          (cdma_wt_done),
    .done_o             (conv_done),
    .error_o            (conv_error),
    .sat_count_o        (conv_sat_count)
  );
  assign cacc2sdp_data = conv_atom;
  // An illegal CBUF bank program ends the conv units' layer (OP_EN clears) without CACC_DONE
  // and without atoms: the SDP layer then never completes, so the host sees no SDP interrupt.
  assign cdma_done = conv_done || conv_error;
  assign csc_done = conv_done || conv_error;
  assign cmac_a_done = conv_done || conv_error;
  assign cmac_b_done = conv_done || conv_error;
  assign cacc_done = conv_done;

  // ---------------- SDP ----------------
  logic wr_valid, wr_ready, wr_idle;
  logic [31:0] wr_addr;
  logic [63:0] wr_data;
  logic sdp_tap_valid;
  atom32_t sdp_tap_in, sdp_tap_x1, sdp_tap_x2;

  nvdla_sdp u_sdp (
    .clk_i, .rst_ni,
    .sdp_regs_i       (sdp_regs),
    .rdma_regs_i      (rdma_regs),
    .sdp_op_en_i      (sdp_op_en),
    .rdma_op_en_i     (rdma_op_en),
    .sdp_done_o       (sdp_done),
    .conv_done_i      (conv_done),
    .rdma_done_o      (rdma_done),
    .sat_count_o      (sat_count),
    .cacc2sdp_valid_i (cacc2sdp_valid),
    .cacc2sdp_ready_o (cacc2sdp_ready),
    .cacc2sdp_data_i  (cacc2sdp_data),
    .rd_req_valid_o   (rd_req_valid[RdSdpNrdma:RdSdpMrdma]),
    .rd_req_ready_i   (rd_req_ready[RdSdpNrdma:RdSdpMrdma]),
    .rd_req_addr_o    (rd_req_addr[RdSdpNrdma:RdSdpMrdma]),
    .rd_req_len_o     (rd_req_len[RdSdpNrdma:RdSdpMrdma]),
    .rd_rsp_valid_i   (rd_rsp_valid[RdSdpNrdma:RdSdpMrdma]),
    .rd_rsp_ready_o   (rd_rsp_ready[RdSdpNrdma:RdSdpMrdma]),
    .rd_rsp_data_i    (rd_rsp_data),
    .wr_valid_o       (wr_valid),
    .wr_ready_i       (wr_ready),
    .wr_addr_o        (wr_addr),
    .wr_data_o        (wr_data),
    .wr_idle_i        (wr_idle),
    .tap_valid_o      (sdp_tap_valid),
    .tap_in_o         (sdp_tap_in),
    .tap_x1_o         (sdp_tap_x1),
    .tap_x2_o         (sdp_tap_x2)
  );

  assign wr_ready = wr_ready_mc && wr_mcif;

  nvdla_axi_wr u_axi_wr (
    .clk_i, .rst_ni,
    .req_valid_i (wr_valid && wr_mcif),
    .req_ready_o (wr_ready_mc),
    .req_addr_i  (wr_addr),
    .req_data_i  (wr_data),
    .idle_o      (wr_idle),
    .axi_o       (axi_wr_req),
    .axi_i       (axi_wr_rsp)
  );

  // ---------------- the AXI structs <-> the flat m_axi_* port ----------------
  assign m_axi_awid = axi_wr_req.aw.id;
  assign m_axi_awaddr = axi_wr_req.aw.addr;
  assign m_axi_awlen = axi_wr_req.aw.len;
  assign m_axi_awsize = axi_wr_req.aw.size;
  assign m_axi_awburst = axi_wr_req.aw.burst;
  assign m_axi_awvalid = axi_wr_req.aw_valid;
  assign m_axi_wdata = axi_wr_req.w.data;
  assign m_axi_wstrb = axi_wr_req.w.strb;
  assign m_axi_wlast = axi_wr_req.w.last;
  assign m_axi_wvalid = axi_wr_req.w_valid;
  assign m_axi_bready = axi_wr_req.b_ready;
  assign axi_wr_rsp = '{aw_ready: m_axi_awready, w_ready: m_axi_wready,
                        b: '{id: m_axi_bid, resp: m_axi_bresp}, b_valid: m_axi_bvalid};
  assign m_axi_arid = axi_rd_req.ar.id;
  assign m_axi_araddr = axi_rd_req.ar.addr;
  assign m_axi_arlen = axi_rd_req.ar.len;
  assign m_axi_arsize = axi_rd_req.ar.size;
  assign m_axi_arburst = axi_rd_req.ar.burst;
  assign m_axi_arvalid = axi_rd_req.ar_valid;
  assign m_axi_rready = axi_rd_req.r_ready;
  assign axi_rd_rsp = '{ar_ready: m_axi_arready,
                        r: '{id: m_axi_rid, data: m_axi_rdata, resp: m_axi_rresp, last: m_axi_rlast},
                        r_valid: m_axi_rvalid};

endmodule : nvdla_small_top
