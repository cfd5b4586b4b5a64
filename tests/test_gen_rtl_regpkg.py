"""The RTL register package is generated from the one register table; it must not go stale."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GEN = ROOT / "tools" / "gen_rtl_regpkg.py"


def test_committed_package_matches_the_table():
    r = subprocess.run([sys.executable, str(GEN), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_check_fails_on_a_stale_package(tmp_path):
    stale = tmp_path / "nvdla_reg_pkg.sv"
    text = (ROOT / "rtl_models" / "nvdla_reg_pkg.sv").read_text()
    stale.write_text(text.replace("localparam int unsigned SDP_D_CVT_SHIFT_WORD = 50;",
                                  "localparam int unsigned SDP_D_CVT_SHIFT_WORD = 51;"))
    assert stale.read_text() != text
    r = subprocess.run([sys.executable, str(GEN), "--check", "--out", str(stale)], capture_output=True, text=True)
    assert r.returncode == 1 and "stale" in r.stderr


def test_generated_offsets_agree_with_the_table():
    from nvdla_int8.hw.regmap import REGMAP
    text = (ROOT / "rtl_models" / "nvdla_reg_pkg.sv").read_text()
    for reg in REGMAP:
        assert f"localparam int unsigned {reg.unit}_{reg.name}_WORD = {reg.offset // 4};" in text
