// The SDP unit with its read DMA: layer control, MRDMA (stand-alone input), BRDMA/NRDMA operand
// streams, the X1 -> X2 -> C datapath and the write DMA (shared/spec/datapath.md §8). The input
// is the CACC atom stream in flying mode and the MRDMA stream otherwise; both are int32 atoms in
// the same order, so one datapath serves both.
module nvdla_sdp (
  input  logic                             clk_i,
  input  logic                             rst_ni,
  input  nvdla_reg_pkg::sdp_regs_t         sdp_regs_i,       // consumer group of SDP
  input  nvdla_reg_pkg::sdp_rdma_regs_t    rdma_regs_i,      // consumer group of SDP_RDMA
  input  logic                             sdp_op_en_i,
  input  logic                             rdma_op_en_i,
  output logic                             sdp_done_o,       // pulse: SDP layer done
  input  logic                             conv_done_i,      // pulse: the conv layer feeding it ended
  output logic                             rdma_done_o,      // pulse: SDP_RDMA took part and is done
  output logic [31:0]                      sat_count_o,
  // CACC -> SDP atoms (flying mode)
  input  logic                             cacc2sdp_valid_i,
  output logic                             cacc2sdp_ready_o,
  input  nvdla_pkg::atom32_t               cacc2sdp_data_i,
  // read clients: MRDMA, BRDMA, NRDMA (index order of the arrays)
  output logic [2:0]                       rd_req_valid_o,
  input  logic [2:0]                       rd_req_ready_i,
  output logic [2:0][31:0]                 rd_req_addr_o,
  output logic [2:0][7:0]                  rd_req_len_o,
  input  logic [2:0]                       rd_rsp_valid_i,
  output logic [2:0]                       rd_rsp_ready_o,
  input  logic [63:0]                      rd_rsp_data_i,
  // to the write path
  output logic                             wr_valid_o,
  input  logic                             wr_ready_i,
  output logic [31:0]                      wr_addr_o,
  output logic [63:0]                      wr_data_o,
  input  logic                             wr_idle_i,
  // stage taps for the testbench: valid with each output atom
  output logic                             tap_valid_o,
  output nvdla_pkg::atom32_t               tap_in_o,
  output nvdla_pkg::atom32_t               tap_x1_o,
  output nvdla_pkg::atom32_t               tap_x2_o
);
  import nvdla_pkg::*;

  localparam int unsigned Mr = 0, Br = 1, Nr = 2;

  logic busy_q, rdma_used_q, start, flying, done, mem_operands;
  logic wdma_done, drained_q, conv_fin_q, conv_fin;
  logic [DimW-1:0] width, height;
  logic [SurfW-1:0] surfs;
  logic bs_stream, bn_stream, pack_1x1;
  x_cfg_t x1_cfg, x2_cfg;

  assign flying = sdp_regs_i.d_feature_mode_cfg.flying_mode;
  assign width = DimW'(sdp_regs_i.d_data_cube_width.width) + 1'b1;
  assign height = DimW'(sdp_regs_i.d_data_cube_height.height) + 1'b1;
  assign surfs = SurfW'(sdp_regs_i.d_data_cube_channel.channel[12:3]) + 1'b1;
  // A 1x1 cube moves as one straight run of atoms from each base, whatever the strides say
  // (NVDLA's cfg_mode_1x1_pack in its SDP MRDMA, RDMA and WDMA; hw/layouts.sdp_dma_surface).
  assign pack_1x1 = (width == DimW'(1)) && (height == DimW'(1));
  // A stage that takes an ALU or MUL operand from memory needs SDP_RDMA's BRDMA/NRDMA stream.
  assign mem_operands =
      (!sdp_regs_i.d_dp_bs_cfg.bs_bypass &&
       ((sdp_regs_i.d_dp_bs_alu_cfg.bs_alu_src && !sdp_regs_i.d_dp_bs_cfg.bs_alu_bypass) ||
        (sdp_regs_i.d_dp_bs_mul_cfg.bs_mul_src && !sdp_regs_i.d_dp_bs_cfg.bs_mul_bypass))) ||
      (!sdp_regs_i.d_dp_bn_cfg.bn_bypass &&
       ((sdp_regs_i.d_dp_bn_alu_cfg.bn_alu_src && !sdp_regs_i.d_dp_bn_cfg.bn_alu_bypass) ||
        (sdp_regs_i.d_dp_bn_mul_cfg.bn_mul_src && !sdp_regs_i.d_dp_bn_cfg.bn_mul_bypass)));
  // Stand-alone needs SDP_RDMA. In flying mode a layer with memory operands waits for SDP_RDMA's
  // OP_EN too (software may enable it after SDP); without them SDP_RDMA takes part only if enabled.
  assign start = !busy_q && sdp_op_en_i && (rdma_op_en_i || (flying && !mem_operands));
  assign bs_stream = rdma_used_q && !rdma_regs_i.d_brdma_cfg.brdma_disable;
  assign bn_stream = rdma_used_q && !rdma_regs_i.d_nrdma_cfg.nrdma_disable;

  // SDP_DONE is the only interrupt the host waits for, and it then reprograms this layer's
  // group in every unit; so a flying layer is done only once its conv layer has ended too (the
  // CDMA may still be fetching input rows no output needs, with the conv groups' OP_EN set, after
  // the last atom has been written). A conv layer ends only after this SDP layer took its last
  // atom, and the next conv layer's atoms need the next SDP layer, so one flag pairs them.
  assign conv_fin = conv_fin_q || conv_done_i;
  assign done = (wdma_done || drained_q) && (!flying || conv_fin);

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      drained_q <= 1'b0;
      conv_fin_q <= 1'b0;
    end else begin
      drained_q <= (drained_q || wdma_done) && !done;
      conv_fin_q <= conv_fin && !(done && flying);
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      rdma_used_q <= 1'b0;
    end else if (start) begin
      busy_q <= 1'b1;
      rdma_used_q <= rdma_op_en_i;
    end else if (done) begin
      busy_q <= 1'b0;
      rdma_used_q <= 1'b0;
    end
  end

  assign sdp_done_o = done;
  assign rdma_done_o = done && rdma_used_q;

  // ---------------- X stage controls from the registers ----------------
  always_comb begin
    x1_cfg.bypass = sdp_regs_i.d_dp_bs_cfg.bs_bypass;
    x1_cfg.alu_bypass = sdp_regs_i.d_dp_bs_cfg.bs_alu_bypass;
    x1_cfg.alu_algo = alu_algo_e'(sdp_regs_i.d_dp_bs_cfg.bs_alu_algo);
    x1_cfg.alu_src_mem = sdp_regs_i.d_dp_bs_alu_cfg.bs_alu_src;
    x1_cfg.alu_shift = sdp_regs_i.d_dp_bs_alu_cfg.bs_alu_shift_value;
    x1_cfg.alu_operand = sdp_regs_i.d_dp_bs_alu_src_value.bs_alu_operand;
    x1_cfg.mul_bypass = sdp_regs_i.d_dp_bs_cfg.bs_mul_bypass;
    x1_cfg.mul_prelu = sdp_regs_i.d_dp_bs_cfg.bs_mul_prelu;
    x1_cfg.mul_src_mem = sdp_regs_i.d_dp_bs_mul_cfg.bs_mul_src;
    x1_cfg.mul_shift = sdp_regs_i.d_dp_bs_mul_cfg.bs_mul_shift_value[5:0];
    x1_cfg.mul_operand = sdp_regs_i.d_dp_bs_mul_src_value.bs_mul_operand;
    x1_cfg.relu_bypass = sdp_regs_i.d_dp_bs_cfg.bs_relu_bypass;
    x2_cfg.bypass = sdp_regs_i.d_dp_bn_cfg.bn_bypass;
    x2_cfg.alu_bypass = sdp_regs_i.d_dp_bn_cfg.bn_alu_bypass;
    x2_cfg.alu_algo = alu_algo_e'(sdp_regs_i.d_dp_bn_cfg.bn_alu_algo);
    x2_cfg.alu_src_mem = sdp_regs_i.d_dp_bn_alu_cfg.bn_alu_src;
    x2_cfg.alu_shift = sdp_regs_i.d_dp_bn_alu_cfg.bn_alu_shift_value;
    x2_cfg.alu_operand = sdp_regs_i.d_dp_bn_alu_src_value.bn_alu_operand;
    x2_cfg.mul_bypass = sdp_regs_i.d_dp_bn_cfg.bn_mul_bypass;
    x2_cfg.mul_prelu = sdp_regs_i.d_dp_bn_cfg.bn_mul_prelu;
    x2_cfg.mul_src_mem = sdp_regs_i.d_dp_bn_mul_cfg.bn_mul_src;
    x2_cfg.mul_shift = sdp_regs_i.d_dp_bn_mul_cfg.bn_mul_shift_value[5:0];
    x2_cfg.mul_operand = sdp_regs_i.d_dp_bn_mul_src_value.bn_mul_operand;
    x2_cfg.relu_bypass = sdp_regs_i.d_dp_bn_cfg.bn_relu_bypass;
  end

  // ---------------- MRDMA: stand-alone input cube ----------------
  logic mr_valid, mr_ready;
  logic [63:0] mr_beat;
  atom32_t mr_atom, in_atom;
  logic in_valid, in_ready;

  nvdla_dma_reader u_mrdma (
    .clk_i,
    .rst_ni,
    .start_i       (start && !flying),
    .base_i        (rdma_regs_i.d_src_base_addr_low.src_base_addr_low),
    .line_stride_i (rdma_regs_i.d_src_line_stride.src_line_stride),
    .surf_stride_i (pack_1x1 ? 32'd8 : rdma_regs_i.d_src_surface_stride.src_surface_stride),
    .line_beats_i  (BeatsW'(width)),
    .lines_i       (height),
    .surfs_i       (surfs),
    .rd_req_valid_o(rd_req_valid_o[Mr]),
    .rd_req_ready_i(rd_req_ready_i[Mr]),
    .rd_req_addr_o (rd_req_addr_o[Mr]),
    .rd_req_len_o  (rd_req_len_o[Mr]),
    .rd_rsp_valid_i(rd_rsp_valid_i[Mr]),
    .rd_rsp_ready_o(rd_rsp_ready_o[Mr]),
    .rd_rsp_data_i (rd_rsp_data_i),
    .beat_valid_o  (mr_valid),
    .beat_ready_i  (mr_ready),
    .beat_data_o   (mr_beat)
  );

  // Stand-alone int8 inputs are sign-extended to int32 (datapath §8.5).
  for (genvar l = 0; l < Atom; l++) begin : g_sext
    assign mr_atom[l] = 32'($signed(mr_beat[8*l +: 8]));
  end

  // A layer takes exactly its cube's atoms. A flying layer can stay busy after its last atom
  // (waiting for its conv layer to end and for its write responses) while the next conv layer,
  // in the other register group, already sends atoms: those belong to the next SDP layer.
  logic [38:0] in_left_q;
  logic in_open;
  assign in_open = busy_q && in_left_q != '0;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) in_left_q <= '0;
    else if (start) in_left_q <= 39'(width) * 39'(height) * 39'(surfs);
    else if (in_open && in_valid && in_ready) in_left_q <= in_left_q - 1'b1;
  end

  assign in_valid = flying ? cacc2sdp_valid_i : mr_valid;
  assign in_atom = flying ? cacc2sdp_data_i : mr_atom;
  assign cacc2sdp_ready_o = in_open && flying && in_ready;
  assign mr_ready = !flying && in_ready;

  // ---------------- BRDMA / NRDMA operand streams ----------------
  operand_atom_t bs_op, bn_op;
  logic bs_valid, bs_ready, bn_valid, bn_ready;
  logic [27:0] atoms_per_surface;

  assign atoms_per_surface = 28'(width) * 28'(height);

  nvdla_sdp_operand_reader u_brdma (
    .clk_i,
    .rst_ni,
    .start_i       (start && rdma_op_en_i && !rdma_regs_i.d_brdma_cfg.brdma_disable),
    .base_i        (rdma_regs_i.d_bs_base_addr_low.bs_base_addr_low),
    .line_stride_i (rdma_regs_i.d_bs_line_stride.bs_line_stride),
    .surf_stride_i (rdma_regs_i.d_bs_surface_stride.bs_surface_stride),
    .packed_i      (pack_1x1),
    .two_byte_i    (rdma_regs_i.d_brdma_cfg.brdma_data_size),
    .use_i         (operand_use_e'(rdma_regs_i.d_brdma_cfg.brdma_data_use)),
    .per_kernel_i  (!rdma_regs_i.d_brdma_cfg.brdma_data_mode),
    .width_i       (width),
    .height_i      (height),
    .surfs_i       (surfs),
    .atoms_per_surface_i(atoms_per_surface),
    .rd_req_valid_o(rd_req_valid_o[Br]),
    .rd_req_ready_i(rd_req_ready_i[Br]),
    .rd_req_addr_o (rd_req_addr_o[Br]),
    .rd_req_len_o  (rd_req_len_o[Br]),
    .rd_rsp_valid_i(rd_rsp_valid_i[Br]),
    .rd_rsp_ready_o(rd_rsp_ready_o[Br]),
    .rd_rsp_data_i (rd_rsp_data_i),
    .op_valid_o    (bs_valid),
    .op_ready_i    (bs_ready),
    .op_o          (bs_op)
  );

  nvdla_sdp_operand_reader u_nrdma (
    .clk_i,
    .rst_ni,
    .start_i       (start && rdma_op_en_i && !rdma_regs_i.d_nrdma_cfg.nrdma_disable),
    .base_i        (rdma_regs_i.d_bn_base_addr_low.bn_base_addr_low),
    .line_stride_i (rdma_regs_i.d_bn_line_stride.bn_line_stride),
    .surf_stride_i (rdma_regs_i.d_bn_surface_stride.bn_surface_stride),
    .packed_i      (pack_1x1),
    .two_byte_i    (rdma_regs_i.d_nrdma_cfg.nrdma_data_size),
    .use_i         (operand_use_e'(rdma_regs_i.d_nrdma_cfg.nrdma_data_use)),
    .per_kernel_i  (!rdma_regs_i.d_nrdma_cfg.nrdma_data_mode),
    .width_i       (width),
    .height_i      (height),
    .surfs_i       (surfs),
    .atoms_per_surface_i(atoms_per_surface),
    .rd_req_valid_o(rd_req_valid_o[Nr]),
    .rd_req_ready_i(rd_req_ready_i[Nr]),
    .rd_req_addr_o (rd_req_addr_o[Nr]),
    .rd_req_len_o  (rd_req_len_o[Nr]),
    .rd_rsp_valid_i(rd_rsp_valid_i[Nr]),
    .rd_rsp_ready_o(rd_rsp_ready_o[Nr]),
    .rd_rsp_data_i (rd_rsp_data_i),
    .op_valid_o    (bn_valid),
    .op_ready_i    (bn_ready),
    .op_o          (bn_op)
  );

  // ---------------- datapath and write DMA ----------------
  logic out_valid, out_ready;
  atom8_t out_atom;

  nvdla_sdp_core u_core (
    .clk_i,
    .rst_ni,
    .start_i        (start),
    .x1_cfg_i       (x1_cfg),
    .x2_cfg_i       (x2_cfg),
    .cvt_offset_i   (sdp_regs_i.d_cvt_offset.cvt_offset),
    .cvt_scale_i    (sdp_regs_i.d_cvt_scale.cvt_scale),
    .cvt_shift_i    (sdp_regs_i.d_cvt_shift.cvt_shift),
    .sat_count_en_i (sdp_regs_i.d_perf_enable.perf_sat_en),
    .bs_stream_i    (bs_stream),
    .bn_stream_i    (bn_stream),
    .in_valid_i     (in_open && in_valid),
    .in_ready_o     (in_ready),
    .in_atom_i      (in_atom),
    .bs_valid_i     (bs_valid),
    .bs_ready_o     (bs_ready),
    .bs_i           (bs_op),
    .bn_valid_i     (bn_valid),
    .bn_ready_o     (bn_ready),
    .bn_i           (bn_op),
    .out_valid_o    (out_valid),
    .out_ready_i    (out_ready),
    .out_atom_o     (out_atom),
    .sat_count_o    (sat_count_o),
    .tap_in_o       (tap_in_o),
    .tap_x1_o       (tap_x1_o),
    .tap_x2_o       (tap_x2_o)
  );

  assign tap_valid_o = out_valid && out_ready;

  nvdla_sdp_wdma u_wdma (
    .clk_i,
    .rst_ni,
    .start_i       (start),
    .base_i        (sdp_regs_i.d_dst_base_addr_low.dst_base_addr_low),
    .line_stride_i (sdp_regs_i.d_dst_line_stride.dst_line_stride),
    .surf_stride_i (pack_1x1 ? 32'd8 : sdp_regs_i.d_dst_surface_stride.dst_surface_stride),
    .width_i       (width),
    .height_i      (height),
    .surfs_i       (surfs),
    .atom_valid_i  (out_valid),
    .atom_ready_o  (out_ready),
    .atom_i        (out_atom),
    .wr_valid_o,
    .wr_ready_i,
    .wr_addr_o,
    .wr_data_o,
    .wr_idle_i,
    .done_o        (wdma_done)
  );

endmodule : nvdla_sdp
