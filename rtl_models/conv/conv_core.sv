// nv_small INT8 direct-convolution pipeline: CDMA (data + converter, weights) -> CBUF -> CSC
// -> CMAC (8x8) -> CACC, ending in the CACC->SDP atom stream of docs/rtl-architecture.md.
// The top starts it once the conv group's OP_ENs are all set and holds cfg_i for the layer.
module conv_core
  import conv_pkg::*;
(
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        start_i,            // one-cycle pulse
  input  conv_cfg_t   cfg_i,
  // DMA read client: CDMA feature data
  output logic        dat_rd_req_valid_o,
  input  logic        dat_rd_req_ready_i,
  output logic [31:0] dat_rd_req_addr_o,
  output logic [7:0]  dat_rd_req_len_o,
  input  logic        dat_rd_rsp_valid_i,
  output logic        dat_rd_rsp_ready_o,
  input  logic [63:0] dat_rd_rsp_data_i,
  // DMA read client: CDMA weights
  output logic        wt_rd_req_valid_o,
  input  logic        wt_rd_req_ready_i,
  output logic [31:0] wt_rd_req_addr_o,
  output logic [7:0]  wt_rd_req_len_o,
  input  logic        wt_rd_rsp_valid_i,
  output logic        wt_rd_rsp_ready_o,
  input  logic [63:0] wt_rd_rsp_data_i,
  // CACC -> SDP (flying mode); also the testbench's CACC tap
  output logic        cacc2sdp_valid_o,
  input  logic        cacc2sdp_ready_i,
  output acc_atom_t   cacc2sdp_data_o,
  // status
  output logic        dat_done_o,         // pulse: CDMA data fetch done   (GLB CDMA_DAT_DONE)
  output logic        wt_done_o,          // pulse: CDMA weight fetch done (GLB CDMA_WT_DONE)
  output logic        done_o,             // pulse: last atom taken by SDP (GLB CACC_DONE)
  output logic        error_o,            // pulse instead of done_o: illegal CBUF bank program
  output logic [31:0] sat_count_o         // CACC D_OUT_SATURATION of the layer
);
  // ---------------------------------------------------------------- CBUF bank program check
  // Banks are split DATA_BANK+1 / WEIGHT_BANK+1 out of 32. This model keeps the whole input
  // cube and at least one kernel group resident, so a split that cannot hold them is refused
  // as well as one that overflows the 32 banks; the group check bounds the weight counters
  // (conv_pkg). Weight counts on which NVDLA's RTL hangs are refused too (docs/nvdla-rules.md
  // §7): NVDLA's CDMA fetches D_WEIGHT_BYTES / 8 whole entries and hands the CSC kernel group g
  // (all but the last) once it has (g+1)*8*BPK bytes, the last once it has D_WEIGHT_BYTES, so
  // the CSC waits forever when a count is not a whole number of entries or a group's is more
  // than the fetch brings: all of D_WEIGHT_BYTES, or the weight banks' bytes beyond the groups
  // the CSC released before it (with the group check, only the last-but-one group can wait for
  // more, hw/cdma_weights.py). Any other BPK leaves the result as it is: the layout is R*S*C
  // (kernel_bytes_of).
  logic [6:0]  banks;
  logic [36:0] cube_entries;  // ceil(C/8) * H * W <= 2^10 * 2^13 * 2^13 = 2^36: 32 bits would wrap
  logic [31:0] group_entries, kernel_bytes;
  logic [31:0] paced_bytes;  // (ceil(K/8)-1) * 8 * BPK < 2^10 * 2^3 * 2^18 = 2^31
  logic [42:0] ring_limit;   // (ceil(K/8)-2) * 8 * R*S*C + ring < 2^10 * 2^3 * 2^23 * 2 + 2^17
  logic [17:0] ring_bytes;   // the weight banks' bytes, <= 32 * 4096
  logic        paced_bad;
  logic [3:0]  kn0;
  logic        bank_bad;
  always_comb begin
    banks = 7'(cfg_i.data_bank) + 7'(cfg_i.weight_bank) + 7'd2;
    cube_entries = (37'(cfg_i.datain_channel >> 3) + 37'd1) * (37'(cfg_i.datain_height) + 37'd1)
                 * (37'(cfg_i.datain_width) + 37'd1);
    kn0 = (cfg_i.weight_kernel >= 13'd7) ? 4'd8 : 4'(cfg_i.weight_kernel) + 4'd1;
    kernel_bytes = kernel_bytes_of(cfg_i);
    // packed as in memory: kn*R*S*C bytes, 8 an entry (conv_cdma_wt)
    group_entries = (32'(kn0) * kernel_bytes + 32'd7) >> 3;
    paced_bytes = (32'(cfg_i.weight_kernel >> 3) * (32'(cfg_i.byte_per_kernel) + 32'd1)) << 3;
    ring_bytes = (18'(cfg_i.weight_bank) + 18'd1) * 18'(BankEntries * AtomBytes);
    ring_limit = ((43'(cfg_i.weight_kernel >> 3) - 43'd1) * 43'(kernel_bytes) << 3) + 43'(ring_bytes);
    paced_bad = (cfg_i.weight_kernel >> 3) != 13'd0  // a report before the last
             && (paced_bytes > cfg_i.weight_bytes || 43'(paced_bytes) > ring_limit);
    bank_bad = (banks > 7'(CbufBanks))
            || (cfg_i.weight_bytes[2:0] != 3'd0) || paced_bad
            || (cube_entries > (37'(cfg_i.data_bank) + 37'd1) * 37'(BankEntries))
            || (group_entries > (32'(cfg_i.weight_bank) + 32'd1) * BankEntries);
  end

  logic go, run_q, dat_seen_q, wt_seen_q, err_q;
  assign go = start_i && !bank_bad;

  // ---------------------------------------------------------------- units
  logic              dwr_en, wwr_en, drd_en, wrd_en;
  logic [CbufAw-1:0] dwr_addr, wwr_addr, drd_addr, wrd_addr;
  atom_t             dwr_data, wwr_data, drd_data, wrd_data;
  logic [13:0]       rows_done;
  logic [WtEntW-1:0] wt_written;
  logic              wt_release, dat_done, wt_done, csc_busy, cacc_empty;
  logic              op_valid, op_first, op_last;
  atom_t             op_data;
  atom_t [AtomBytes-1:0] op_wt;
  logic [StripeAw-1:0] op_slot;
  logic              mac_valid, mac_first, mac_last;
  mac_atom_t         mac_sum;
  logic [StripeAw-1:0] mac_slot;

  conv_cdma_dat u_cdma_dat (
    .clk_i, .rst_ni, .start_i(go), .cfg_i,
    .rd_req_valid_o(dat_rd_req_valid_o), .rd_req_ready_i(dat_rd_req_ready_i),
    .rd_req_addr_o(dat_rd_req_addr_o), .rd_req_len_o(dat_rd_req_len_o),
    .rd_rsp_valid_i(dat_rd_rsp_valid_i), .rd_rsp_ready_o(dat_rd_rsp_ready_o),
    .rd_rsp_data_i(dat_rd_rsp_data_i),
    .wr_en_o(dwr_en), .wr_addr_o(dwr_addr), .wr_data_o(dwr_data),
    .rows_done_o(rows_done), .done_o(dat_done)
  );

  conv_cdma_wt u_cdma_wt (
    .clk_i, .rst_ni, .start_i(go), .cfg_i,
    .rd_req_valid_o(wt_rd_req_valid_o), .rd_req_ready_i(wt_rd_req_ready_i),
    .rd_req_addr_o(wt_rd_req_addr_o), .rd_req_len_o(wt_rd_req_len_o),
    .rd_rsp_valid_i(wt_rd_rsp_valid_i), .rd_rsp_ready_o(wt_rd_rsp_ready_o),
    .rd_rsp_data_i(wt_rd_rsp_data_i),
    .wr_en_o(wwr_en), .wr_addr_o(wwr_addr), .wr_data_o(wwr_data),
    .written_o(wt_written), .release_i(wt_release), .done_o(wt_done)
  );

  conv_cbuf u_cbuf (
    .clk_i,
    .dat_wr_en_i(dwr_en), .dat_wr_addr_i(dwr_addr), .dat_wr_data_i(dwr_data),
    .wt_wr_en_i(wwr_en), .wt_wr_addr_i(wwr_addr), .wt_wr_data_i(wwr_data),
    .dat_rd_en_i(drd_en), .dat_rd_addr_i(drd_addr), .dat_rd_data_o(drd_data),
    .wt_rd_en_i(wrd_en), .wt_rd_addr_i(wrd_addr), .wt_rd_data_o(wrd_data)
  );

  conv_csc u_csc (
    .clk_i, .rst_ni, .start_i(go), .cfg_i,
    .rows_done_i(rows_done), .wt_written_i(wt_written), .wt_release_o(wt_release),
    .atom_pop_i(cacc2sdp_valid_o && cacc2sdp_ready_i),
    .dat_rd_en_o(drd_en), .dat_rd_addr_o(drd_addr), .dat_rd_data_i(drd_data),
    .wt_rd_en_o(wrd_en), .wt_rd_addr_o(wrd_addr), .wt_rd_data_i(wrd_data),
    .op_valid_o(op_valid), .op_data_o(op_data), .op_wt_o(op_wt), .op_slot_o(op_slot),
    .op_first_o(op_first), .op_last_o(op_last), .busy_o(csc_busy)
  );

  conv_cmac u_cmac (
    .clk_i, .rst_ni,
    .valid_i(op_valid), .data_i(op_data), .wt_i(op_wt), .slot_i(op_slot),
    .first_i(op_first), .last_i(op_last),
    .valid_o(mac_valid), .sum_o(mac_sum), .slot_o(mac_slot),
    .first_o(mac_first), .last_o(mac_last)
  );

  conv_cacc u_cacc (
    .clk_i, .rst_ni, .start_i(go), .clip_truncate_i(cfg_i.clip_truncate),
    .valid_i(mac_valid), .sum_i(mac_sum), .slot_i(mac_slot),
    .first_i(mac_first), .last_i(mac_last),
    .cacc2sdp_valid_o, .cacc2sdp_ready_i, .cacc2sdp_data_o,
    .sat_count_o, .empty_o(cacc_empty)
  );

  // ---------------------------------------------------------------- layer done
  // Done once every atom has gone to the SDP and both fetches have ended (rows below the
  // last output's window are still fetched; the next layer must not race them).
  logic fin;
  assign fin = run_q && !go && !csc_busy && !mac_valid && cacc_empty
            && (dat_seen_q || dat_done) && (wt_seen_q || wt_done);
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      {run_q, dat_seen_q, wt_seen_q, err_q} <= '0;
    end else begin
      run_q      <= go ? 1'b1 : fin ? 1'b0 : run_q;
      dat_seen_q <= go ? 1'b0 : dat_seen_q || dat_done;
      wt_seen_q  <= go ? 1'b0 : wt_seen_q || wt_done;
      err_q      <= start_i && bank_bad;
    end
  end
  assign dat_done_o = dat_done;
  assign wt_done_o  = wt_done;
  assign done_o     = fin;
  assign error_o    = err_q;
endmodule
