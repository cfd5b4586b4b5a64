"""NVDLA trace format: `.cfg` command scripts, `.dat` memory images, sparse memory, CRC."""
from .cfg import Command, Name, Quoted, format_cfg, parse_cfg
from .dat import DatEntry, format_dat, parse_dat, read_dat
from .memory import SparseMemory
from .trace import Trace, apply_memory_command, fill_pattern

__all__ = ["Command", "Name", "Quoted", "format_cfg", "parse_cfg", "DatEntry", "format_dat", "parse_dat",
           "read_dat", "SparseMemory", "Trace", "apply_memory_command", "fill_pattern"]
