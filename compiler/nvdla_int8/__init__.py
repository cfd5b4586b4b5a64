"""nvdla_int8: the open toolchain for NVDLA nv_small's INT8 conv + SDP path.

Layers, bottom up (each imports only those below it):
  hw/      hardware facts: nv_small configuration, register map, fixed-point primitives, layouts
  trace/   NVDLA trace format (.cfg/.dat), sparse memory image, CRC
  golden/  bit-exact golden model that executes register programs on a memory image
  calib/   calibration: FP32 reference runs, calibrators, TensorRT caches and NVDLA JSON tables
  cli.py   the `nvdla-int8` command line
"""
__version__ = "0.1.0"
