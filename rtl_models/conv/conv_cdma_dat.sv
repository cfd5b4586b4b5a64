// CDMA feature-data fetch: reads the input cube line by line (row y outer, surface b inner,
// so compute can start on the first rows while later rows stream in), converts each atom
// (conv_cdma_cvt) and writes it to the data region of CBUF at entry (b*Hi + y)*Wi + x.
// The whole cube is resident (conv_core checks it fits the DATA_BANK region).
module conv_cdma_dat
  import conv_pkg::*;
(
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              start_i,       // one-cycle pulse, cfg_i stable until done
  input  conv_cfg_t         cfg_i,
  // DMA read client (docs/rtl-architecture.md)
  output logic              rd_req_valid_o,
  input  logic              rd_req_ready_i,
  output logic [31:0]       rd_req_addr_o,
  output logic [7:0]        rd_req_len_o,
  input  logic              rd_rsp_valid_i,
  output logic              rd_rsp_ready_o,
  input  logic [63:0]       rd_rsp_data_i,
  // CBUF data-region write
  output logic              wr_en_o,
  output logic [CbufAw-1:0] wr_addr_o,
  output atom_t             wr_data_o,
  output logic [13:0]       rows_done_o,   // input rows complete in CBUF, all surfaces
  output logic              done_o         // pulse: last row written
);
  logic [13:0] wi, hi;
  logic [10:0] cb;  // surfaces = ceil(C/8)
  assign wi = 14'(cfg_i.datain_width) + 14'd1;
  assign hi = 14'(cfg_i.datain_height) + 14'd1;
  assign cb = 11'(cfg_i.datain_channel >> 3) + 11'd1;

  // ---------------------------------------------------------------- requests
  logic        req_act_q, req_act_d;
  logic [13:0] qy_q, qy_d, qx_q, qx_d;
  logic [10:0] qb_q, qb_d;
  logic [31:0] line_addr, addr;
  logic [13:0] left;
  logic [8:0]  beats;

  always_comb begin
    line_addr = cfg_i.dain_addr + 32'(qb_q) * cfg_i.surf_stride + 32'(qy_q) * cfg_i.line_stride;
    addr      = line_addr + {15'd0, qx_q, 3'd0};
    left      = wi - qx_q;
    beats     = nvdla_pkg::burst_beats(addr[11:3], 32'(left), nvdla_pkg::MaxBurstBeats);
  end
  assign rd_req_valid_o = req_act_q;
  assign rd_req_addr_o  = addr;
  assign rd_req_len_o   = 8'(beats - 9'd1);

  always_comb begin
    req_act_d = req_act_q;
    qy_d = qy_q;
    qx_d = qx_q;
    qb_d = qb_q;
    if (start_i) begin
      req_act_d = 1'b1;
      {qy_d, qx_d, qb_d} = '0;
    end else if (req_act_q && rd_req_ready_i) begin
      qx_d = qx_q + 14'(beats);
      if (qx_d == wi) begin
        qx_d = '0;
        qb_d = qb_q + 11'd1;
        if (qb_d == cb) begin
          qb_d = '0;
          qy_d = qy_q + 14'd1;
          if (qy_d == hi) req_act_d = 1'b0;
        end
      end
    end
  end

  // ---------------------------------------------------------------- responses -> CBUF
  logic [13:0] ry_q, ry_d, rx_q, rx_d;
  logic [10:0] rb_q, rb_d;
  logic [13:0] rows_q, rows_d;
  logic        wr_q, last_q;
  logic [CbufAw-1:0] waddr_q;
  atom_t       wdata_q, cvt_out;
  logic        row_end;

  conv_cdma_cvt u_cvt (
    .en_i       (cfg_i.cvt_en),
    .offset_i   (cfg_i.cvt_offset),
    .scale_i    (cfg_i.cvt_scale),
    .truncate_i (cfg_i.cvt_truncate),
    .data_i     (rd_rsp_data_i),
    .data_o     (cvt_out)
  );

  // The whole cube has a CBUF entry waiting for it, so data is never refused.
  assign rd_rsp_ready_o = 1'b1;
  assign row_end = (rb_q == cb - 11'd1) && (rx_q == wi - 14'd1);

  always_comb begin
    rx_d = rx_q;
    rb_d = rb_q;
    ry_d = ry_q;
    rows_d = rows_q + 14'(wr_q && last_q);
    if (start_i) begin
      {rx_d, rb_d, ry_d, rows_d} = '0;
    end else if (rd_rsp_valid_i) begin
      rx_d = rx_q + 14'd1;
      if (rx_d == wi) begin
        rx_d = '0;
        rb_d = rb_q + 11'd1;
        if (rb_d == cb) begin
          rb_d = '0;
          ry_d = ry_q + 14'd1;
        end
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      req_act_q <= 1'b0;
      {qy_q, qx_q, qb_q, ry_q, rx_q, rb_q, rows_q} <= '0;
      wr_q <= 1'b0;
      last_q <= 1'b0;
      waddr_q <= '0;
      wdata_q <= '0;
    end else begin
      req_act_q <= req_act_d;
      qy_q <= qy_d;
      qx_q <= qx_d;
      qb_q <= qb_d;
      ry_q <= ry_d;
      rx_q <= rx_d;
      rb_q <= rb_d;
      rows_q <= rows_d;
      wr_q <= rd_rsp_valid_i && !start_i;
      last_q <= row_end;
      waddr_q <= CbufAw'((32'(rb_q) * 32'(hi) + 32'(ry_q)) * 32'(wi) + 32'(rx_q));
      wdata_q <= cvt_out;
    end
  end

  assign wr_en_o     = wr_q;
  assign wr_addr_o   = waddr_q;
  assign wr_data_o   = wdata_q;
  assign rows_done_o = rows_q;
  assign done_o      = wr_q && last_q && (rows_q + 14'd1 == hi);
endmodule
