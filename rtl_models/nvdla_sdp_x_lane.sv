// One element through one SDP X stage (X1 = BS or X2 = BN): ALU -> MUL or PReLU -> truncate ->
// ReLU, bit-exact to shared/spec/datapath.md §8.2. Combinational.
module nvdla_sdp_x_lane (
  input  nvdla_pkg::x_cfg_t           cfg_i,
  input  logic signed [31:0]          x_i,
  input  logic signed [15:0]          mem_alu_i,   // operand from BRDMA/NRDMA (ALU_SRC = MEM)
  input  logic signed [15:0]          mem_mul_i,   // operand from BRDMA/NRDMA (MUL_SRC = MEM)
  output logic signed [31:0]          y_o
);
  import nvdla_pkg::*;

  logic signed [15:0] alu_op, mul_op;
  logic signed [31:0] alu_op32, t;
  logic signed [32:0] x33, op33, a;   // the ALU result is 33 bits and not saturated

  assign alu_op = cfg_i.alu_src_mem ? mem_alu_i : cfg_i.alu_operand;
  assign mul_op = cfg_i.mul_src_mem ? mem_mul_i : cfg_i.mul_operand;
  assign alu_op32 = 32'(shl_sat16(alu_op, cfg_i.alu_shift, 32));
  assign x33 = 33'(x_i);
  assign op33 = 33'(alu_op32);

  always_comb begin
    if (cfg_i.alu_bypass) a = x33;
    else begin
      unique case (cfg_i.alu_algo)
        AluMax: a = (x33 > op33) ? x33 : op33;
        AluMin: a = (x33 < op33) ? x33 : op33;
        default: a = x33 + op33;  // SUM, and 3 behaves as SUM
      endcase
    end
  end

  always_comb begin
    if (cfg_i.mul_bypass) t = 32'(sat(shr_round(64'(a), 32'(cfg_i.mul_shift), XInW), 32));
    else if (cfg_i.mul_prelu && !a[32]) t = a[31:0];  // PReLU positive branch: raw low 32 bits
    else t = 32'(sat(shr_round(64'(mul33x16(a, mul_op)), 32'(cfg_i.mul_shift), XInW), 32));
  end

  always_comb begin
    if (cfg_i.bypass) y_o = x_i;
    else if (!cfg_i.relu_bypass && t < 0) y_o = '0;
    else y_o = t;
  end

endmodule : nvdla_sdp_x_lane
