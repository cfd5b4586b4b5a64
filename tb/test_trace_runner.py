"""The RTL trace runner's reading of the outcomes the simulation appends as it goes."""
from tb.trace_runner import complete_lines


def test_a_half_written_outcome_is_left_for_the_next_read(tmp_path):
    p = tmp_path / "results.jsonl"
    assert complete_lines(p) == []
    p.write_text('{"name": "a"}\n{"name": "b", "sta')
    assert complete_lines(p) == ['{"name": "a"}']
    p.write_text('{"name": "a"}\n{"name": "b", "status": "PASS"}\n')
    assert complete_lines(p) == ['{"name": "a"}', '{"name": "b", "status": "PASS"}']
