"""tb/coverage/code.py on Verilator-format coverage files written here: points merged across files
and instances by source location, only rtl_models/ counted, holes listed with their source."""
from __future__ import annotations

from pathlib import Path

from tb.coverage.code import read_dat, report, summarize, toggle_groups


def _point(src: Path, line: int, page: str, what: str, inst: str) -> str:
    fields = {"f": str(src), "l": str(line), "page": page, "o": what, "h": inst}
    return "".join(f"\x01{k}\x02{v}" for k, v in fields.items())


def _dat(path: Path, points: dict[str, int]) -> Path:
    path.write_text("# SystemC::Coverage-3\n" + "".join(f"C '{k}' {n}\n" for k, n in points.items()))
    return path


def test_merge_by_location_any_instance_and_only_the_rtl(tmp_path):
    rtl = tmp_path / "rtl_models"
    rtl.mkdir()
    (rtl / "a.sv").write_text("module a;\n  x = 1;\n  if (y) z = 2;\nendmodule\n")
    other = tmp_path / "tb_top.sv"
    line_a0 = _point(rtl / "a.sv", 2, "v_line/a", "block", "top.u0")
    line_a1 = _point(rtl / "a.sv", 2, "v_line/a", "block", "top.u1")
    branch = _point(rtl / "a.sv", 3, "v_branch/a", "if", "top.u0")
    tog = _point(rtl / "a.sv", 1, "v_toggle/a", "y", "top.u0")
    d1 = _dat(tmp_path / "1.dat", {line_a0: 0, line_a1: 0, branch: 0, tog: 2,
                                   _point(other, 5, "v_line/tb_top", "block", "top"): 0})
    d2 = _dat(tmp_path / "2.dat", {line_a1: 3, branch: 0})
    assert read_dat(d1)[tog] == 2
    cov = summarize([d1, d2], rtl)
    # line 2 ran in instance u1 of the second file only: covered; tb_top.sv is not counted
    assert (cov.covered, cov.total) == ({"line": 1, "toggle": 1}, {"line": 1, "branch": 1, "toggle": 1})
    assert cov.holes == {"branch": [("a.sv", 3, "if")]}
    text = report(cov, rtl)
    assert "line 100.0% (1/1), branch 0.0% (0/1), toggle 100.0% (1/1)" in text
    assert "a.sv:3" in text and "if (y) z = 2;" in text


def test_toggle_holes_one_line_per_signal():
    holes = [("a.sv", 4, f"addr[{b}]:{e}") for b in (8, 9, 10, 31) for e in ("0->1", "1->0")] + \
            [("a.sv", 5, "busy:0->1")]
    assert toggle_groups(holes) == [("a.sv", 4, "addr: bits 8-10,31 never toggle"),
                                    ("a.sv", 5, "busy: bits 0 never 0->1")]
