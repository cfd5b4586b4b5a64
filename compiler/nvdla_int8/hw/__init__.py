"""Hardware facts of NVDLA nv_small: the one place the rest of the project reads them from."""
from .config import NV_SMALL, HwConfig
from .regmap import REGMAP, Field, Register, RegisterMap, Unit

__all__ = ["NV_SMALL", "HwConfig", "REGMAP", "Field", "Register", "RegisterMap", "Unit"]
