"""The .dat fast path (`_parse_strict`) gives what the careful parser gives, and steps aside (None)
on anything but the exact upstream style, so the careful parser's padding rules and errors apply."""
from __future__ import annotations

import numpy as np
import pytest

from nvdla_int8.errors import InputError
from nvdla_int8.trace import dat


def _careful(text, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(dat, "_parse_strict", lambda t: None)
        return dat.parse_dat(text)


def test_fast_path_equals_the_careful_parser_on_written_files(monkeypatch):
    data = np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8).tobytes()
    text = dat.format_dat([dat.DatEntry(0x40, data), dat.DatEntry(0x1000, data[:5])])
    fast = dat._parse_strict(text)
    assert fast is not None and fast == _careful(text, monkeypatch)
    assert fast == [dat.DatEntry(0x40, data), dat.DatEntry(0x1000, data[:5])]


@pytest.mark.parametrize("line", [
    "{offset:0x0, size:3, payload:0xab 0xc 0xdef}",  # tokens of the wrong width
    "{offset:0x0, size:3, payload:0xab 0xcd}",  # short payload: padded by the careful parser
    "{offset:0x0, size:2, payload:0xabx0xcd}",  # no space between tokens
    "{offset:0x0, size:2, payload:0x  0xcd}",
    "# a comment\n{offset:0x0, size:2, payload:0xab 0xcd}",
    "{offset:0x0, size:2, payload:0xab 0xcd} junk",
])
def test_fast_path_steps_aside_on_anything_else(line, monkeypatch):
    text = "{\n" + line + "\n}\n"
    assert dat._parse_strict(text) is None
    try:
        want = _careful(text, monkeypatch)
    except InputError:
        with pytest.raises(InputError):
            dat.parse_dat(text)
        return
    assert dat.parse_dat(text) == want
