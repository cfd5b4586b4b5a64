"""The mutant generator and the campaign's score (no simulator): mutation points come from the
syntax tree, each mutant is exactly one edit, ids and samples are reproducible."""
from __future__ import annotations

from pathlib import Path

import pytest

from nvdla_int8.errors import InputError
from tb.rtl_mutation import points, report
from tb.rtl_mutation.points import RTL, Mutant, file_mutants, generate, mutant_copy, sample

# A module written for this test: what each line must (or must not) yield is known by reading it.
TOY = """module toy #(parameter int W = 8) (input logic clk_i, input logic rst_ni, input logic en_i,
  input logic [W-1:0] a_i, output logic [W-1:0] q_o);
  logic [W-1:0] s;
  assign s = a_i + 8'd3;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) q_o <= '0;
    else if (en_i) q_o <= s;
  end
`ifndef SYNTHESIS
  always_ff @(posedge clk_i) if (en_i && a_i < 4) $error("checker only");
`endif
endmodule
"""


def _toy(tmp_path: Path, text: str = TOY) -> Path:
    (tmp_path / "toy.sv").write_text(text)
    (tmp_path / "rtl_models.f").write_text("toy.sv\n")
    return tmp_path


def test_toy_module_yields_the_expected_points(tmp_path):
    got = {(m.line, m.cls, m.original, m.replacement) for m in file_mutants(_toy(tmp_path), "toy.sv")}
    want = {
        (4, "operator", "+", "-"),
        (4, "constant", "3", "4"), (4, "constant", "3", "2"),
        (6, "condition", "!rst_ni", "!(!rst_ni)"),  # the reset branch: inverted, but no stuck enable
        (6, "constant", "'0", "'1"),
        (7, "condition", "en_i", "!(en_i)"),
        (7, "enable", "en_i", "1'b1"), (7, "enable", "en_i", "1'b0"),
        (1, "constant", "8", "9"), (1, "constant", "8", "7"),  # the parameter's default
    }
    # nothing from the declared widths ([W-1:0]) nor from the `ifndef SYNTHESIS checker
    assert got == want


def test_loop_bounds_and_sticky_bits(tmp_path):
    text = """package p;
  function automatic logic f(input logic [7:0] x);
    logic r;
    r = 1'b0;
    for (int i = 0; i < 4; i++) r = r | x[i];
    return r;
  endfunction
  function automatic logic shr_round(input logic [7:0] x);
    logic rest;
    rest = x[0];
    return x[1] && rest;
  endfunction
endpackage
"""
    ms = file_mutants(_toy(tmp_path, text), "toy.sv")
    loop = {(m.original, m.replacement) for m in ms if m.cls == "loop"}
    assert loop == {("<", "<="), ("4", "(4) - 1")}
    assert not [m for m in ms if m.cls == "operator" and m.line == 5 and m.original == "<"]  # the loop's own
    sticky = [(m.line, m.original, m.replacement) for m in ms if m.cls == "sticky"]
    assert sticky == [(11, "rest", "'0")]  # the read, not the assignment on line 10


def test_every_rtl_mutant_is_one_real_edit_and_ids_are_stable():
    ms = generate()
    assert {m.cls for m in ms} == set(points.CLASSES)
    assert all(Path(m.file).name not in points.GENERATED for m in ms)
    assert len({m.id for m in ms}) == len(ms)
    texts = {f: (RTL / f).read_bytes() for f in {m.file for m in ms}}
    for m in ms:
        assert texts[m.file][m.start:m.end].decode() == m.original != m.replacement
        assert m.apply(texts[m.file]) != texts[m.file]
    assert [m.id for m in generate()] == [m.id for m in ms]


MACRO = """// a header comment long enough to hold the macro buffer's offsets: && '0 + 1
module toy (input logic a_i, input logic b_i, output logic [1:0] q_o, output logic [1:0] r_o);
`define PAIR(X) {a_i && b_i, X}
  assign q_o = `PAIR('0);
  assign r_o = `PAIR(1'b1);
endmodule
"""


def test_macro_tokens_are_mutated_where_their_text_is_written(tmp_path):
    # pyslang gives a token of a macro expansion offsets in its expansion buffer; taken as file
    # offsets they landed in the header comment (line 1) and the two uses' arguments merged.
    got = {(m.line, m.cls, m.original, m.replacement) for m in file_mutants(_toy(tmp_path, MACRO), "toy.sv")}
    assert got == {
        (3, "operator", "&&", "||"),  # the body, once: every expansion shares that text
        (4, "constant", "'0", "'1"),  # each argument at its own use site
        (5, "constant", "1", "0"),  # 1'b1 - 1 (its +1 leaves the width)
    }


def test_no_rtl_mutant_edits_a_comment():
    for m in generate():
        before, after = m.diff()
        assert not before.startswith("//"), m.id
        code = lambda line: line.split("//")[0]
        assert code(before) != code(after), m.id


def test_sample_is_reproducible():
    ms = generate()
    a, b = sample(ms, 20, 3), sample(ms, 20, 3)
    assert a == b and len(a) == 20 and len(set(a)) == 20
    assert sample(ms, 20, 4) != a
    assert [m for m in ms if m in set(a)] == a  # kept in generation order
    assert sample(ms, None, 1) == ms and sample(ms, len(ms) + 5, 1) == ms


def test_mutant_copy_changes_exactly_one_file(tmp_path):
    m = next(m for m in generate() if m.cls == "sticky")
    rtl = mutant_copy(tmp_path, m)
    changed = [p.relative_to(rtl).as_posix() for p in rtl.rglob("*") if p.is_file()
               and p.read_bytes() != (RTL / p.relative_to(rtl)).read_bytes()]
    assert changed == [m.file]
    assert m.replacement in (rtl / m.file).read_text()


def test_a_moved_point_and_a_bad_file_are_one_line_errors(tmp_path):
    m = Mutant("toy.sv", 0, 6, "module", "x", "operator", 1)
    with pytest.raises(InputError, match="toy.sv:1"):
        m.apply(b"package p; endpackage")
    _toy(tmp_path, "module m; assign a = ; endmodule\n")
    with pytest.raises(InputError, match="toy.sv.*expected expression"):
        file_mutants(tmp_path, "toy.sv")


def _row(mid: str, status: str) -> dict:
    return {"id": mid, "status": status}


def test_score_leaves_out_stillborn_and_equivalent_only():
    rows = [_row("a", "killed"), _row("b", "killed"), _row("c", "survived"), _row("d", "survived"),
            _row("e", "stillborn")]
    known = {"c": {"class": "equivalent", "why": "x"}, "d": {"class": "hole", "why": "y"}}
    assert report.score(rows, known) == (2, 3)  # d still counts against: its test does not kill it yet
    assert report.score(rows, {}) == (2, 4)


def test_a_classification_without_a_reason_is_refused(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("m1: {class: equivalent}\n")
    with pytest.raises(InputError, match="m1"):
        report.classifications(f)
    f.write_text("m1: {class: maybe, why: x}\n")
    with pytest.raises(InputError, match="m1"):
        report.classifications(f)
    assert report.classifications() is not None  # the shipped file is valid
