"""Calibration: FP32 reference runs, calibrators, TensorRT caches and NVDLA JSON tables."""
