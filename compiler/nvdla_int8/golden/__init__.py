"""Bit-exact golden model of nv_small's INT8 conv + SDP datapath, driven by register programs."""
from .machine import GoldenMachine, LayerResult

__all__ = ["GoldenMachine", "LayerResult"]
