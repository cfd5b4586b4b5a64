#!/usr/bin/env python3
"""Regenerate the register table (compiler/nvdla_int8/hw/nv_small_regs.json) from the spec.

The spec's register tables (docs/spec/registers.md §7, a copy of the team's spec; the table's
"source" field keeps that spec's own name) were themselves generated from NVDLA's RDL files; this
tool turns them into the one machine-readable table every part of the project reads. Run it only
when the spec changes: `python tools/regmap_from_spec.py docs/spec/registers.md`
(tests/test_regmap.py fails while the committed table is stale).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "compiler/nvdla_int8/hw/nv_small_regs.json"
UNIT_HEADING = re.compile(r"^### (\w+) \(base (0x[0-9a-f]+)\)")
FIELD = re.compile(r"`(\w+)\[(\d+)(?::(\d+))?\]`(?: \(([^)]*)\))?")
ENUM = re.compile(r"(\w+)=(\d+)")


def parse_field(m: re.Match) -> dict:
    name, hi, lo, extra = m.group(1), int(m.group(2)), m.group(3), m.group(4) or ""
    lo = hi if lo is None else int(lo)
    access, reset, enums = "RW", 0, {}
    for part in (p.strip() for p in extra.split(";")):
        if part in ("RO", "WO"):
            access = part
        elif part.startswith("rst "):
            reset = int(part[4:], 0)
        elif "=" in part and "…" not in part:  # enums; the 36 pixel formats are elided in the spec
            enums = {k: int(v) for k, v in ENUM.findall(part)}
    return {"name": name, "msb": hi, "lsb": lo, "access": access, "reset": reset, "enums": enums}


def parse(spec_text: str) -> dict:
    units: list[dict] = []
    unit = None
    for line in spec_text.splitlines():
        h = UNIT_HEADING.match(line)
        if h:
            unit = {"name": h.group(1), "base": int(h.group(2), 16), "registers": []}
            units.append(unit)
            continue
        if unit is None or not line.startswith("| 0x"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        off, _addr, reg, fields, reset, klass, notes = cells[:7]
        unit["registers"].append({
            "name": reg,
            "offset": int(off, 16),
            "reset": int(reset, 16),
            "class": klass,
            "double_buffered": reg.startswith("D_"),
            "fields": [parse_field(m) for m in FIELD.finditer(fields)],
            "notes": notes,
        })
    return {"source": "shared/spec/registers.md §7 (NVDLA nvdla/hw master 1a65f1f RDL)", "units": units}


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    table = parse(Path(sys.argv[1]).read_text(encoding="utf-8"))
    OUT.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    n = sum(len(u["registers"]) for u in table["units"])
    print(f"wrote {OUT} ({len(table['units'])} units, {n} registers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
