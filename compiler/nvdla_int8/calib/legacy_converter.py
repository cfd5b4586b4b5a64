"""Byte-for-byte reproduction of NVDLA's `calib_txt_to_json.py` (``convert-calib --compat``).

The upstream script (nvdla/sw `umd/utils/calibdata/calib_txt_to_json.py`, Python 2 only) is
described in spec/calibration.md §4; this module re-implements that description, not its code:
every line is stripped and split on **every** ':'; lines that do not give exactly two fields are
skipped (this drops the header, blank lines and every name containing ':'); later duplicates
overwrite earlier ones in place; each entry is ``{"scale", "min": 0, "max": 0, "offset": 0}``;
output is Python 2's ``json.dumps(indent=4)``, whose ', ' item separator leaves a trailing space
on every line inside the objects, and no final newline.

Where the original crashes with a traceback (a value that is not 8 hex digits) we raise
InputError instead; everything the original does silently is returned as warnings so the CLI can
say what was dropped.
"""
from __future__ import annotations

import json
from collections import OrderedDict

from ..errors import InputError
from .trt_cache import _HEX8, decode_scale


def convert_compat(text: str, path: str = "<cache>") -> tuple[str, list[str]]:
    """Cache text -> (JSON text exactly as upstream writes it, warnings)."""
    table: OrderedDict[str, dict] = OrderedDict()
    warnings: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        fields = raw.strip().split(":")
        if len(fields) != 2:
            if lineno > 1 and raw.strip():
                warnings.append(f"{path}:{lineno}: line dropped as upstream does "
                                f"(name contains ':'): {raw.strip()[:60]!r}")
            continue
        name, value = fields[0].strip(), fields[1].strip()
        if not _HEX8.fullmatch(value):
            raise InputError(f"bad hex value {value!r} for {name!r} (the original script would crash)",
                             where=f"{path}:{lineno}")
        if name in table:
            warnings.append(f"{path}:{lineno}: duplicate {name!r} overwrites the earlier value, as upstream does")
        table[name] = {"scale": float(decode_scale(value)), "min": 0, "max": 0, "offset": 0}
    return json.dumps(table, indent=4, separators=(", ", ": ")), warnings
