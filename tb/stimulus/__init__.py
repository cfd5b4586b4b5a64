"""Constrained-random stimulus: constraints as data (constraints.py) and the program generator
(generator.py) that writes each seed as an NVDLA trace."""
from .constraints import TIERS, Constraints
from .generator import Generated, GeneratorBug, generate, trace_name

__all__ = ["TIERS", "Constraints", "Generated", "GeneratorBug", "generate", "trace_name"]
