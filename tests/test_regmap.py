"""The register table: spot checks against the spec, and freshness of the generated JSON."""
import importlib.util
import json

import pytest

from nvdla_int8.hw import REGMAP
from tests.suite import REPO


def test_addresses_and_fields():
    assert REGMAP.reg("SDP", "D_CVT_SHIFT").address == 0x90C8
    assert REGMAP.reg("CDMA", "D_CVT_CFG").field("CVT_TRUNCATE").lsb == 4
    assert REGMAP.reg("SDP", "D_DP_BS_CFG").reset == 0x73
    assert REGMAP.reg("SDP", "D_DP_BN_CFG").reset == 0x53
    assert REGMAP.reg("SDP_RDMA", "D_FEATURE_MODE_CFG").reset == 0x14
    assert REGMAP.reg("GLB", "S_INTR_STATUS").field("CACC_DONE_STATUS1").lsb == 21
    assert REGMAP.from_trace_name("NVDLA_CMAC_B.D_OP_ENABLE_0").address == 0x6008
    assert REGMAP.from_trace_name("NVDLA_SDP.RDMA_D_BRDMA_CFG_0") is REGMAP.reg("SDP_RDMA", "D_BRDMA_CFG")


def test_reset_equals_field_resets():
    for r in REGMAP:
        assert sum(f.reset << f.lsb for f in r.fields) == r.reset, r.trace_name


def test_ro_fields_are_not_writable():
    r = REGMAP.reg("CACC", "D_OUT_SATURATION")
    assert r.writable_mask == 0 and r.ro_mask == 0xFFFFFFFF


def test_bad_names_are_reported():
    with pytest.raises(KeyError, match="no register"):
        REGMAP.from_trace_name("NVDLA_SDP.D_NOPE_0")
    with pytest.raises(KeyError, match="unknown NVDLA unit"):
        REGMAP.from_trace_name("NVDLA_PDP.D_OP_ENABLE_0")


def test_generated_table_is_fresh(spec_dir):
    """tools/regmap_from_spec.py on the spec must reproduce the committed table."""
    spec = importlib.util.spec_from_file_location("gen", REPO / "tools" / "regmap_from_spec.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    fresh = gen.parse((spec_dir / "registers.md").read_text(encoding="utf-8"))
    committed = json.loads((REPO / "compiler/nvdla_int8/hw/nv_small_regs.json").read_text(encoding="utf-8"))
    assert fresh == committed, "run: python tools/regmap_from_spec.py docs/spec/registers.md"
