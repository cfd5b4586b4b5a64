"""Merge cocotb-coverage YAML files (seeds, shards, runs) and report them as text and HTML.

`merge` is cocotb-coverage's own merger; the report reads the merged YAML, so a coverage file
from another machine or an earlier run is reported the same way. Every bin with no hits is a
hole; holes known to be unreachable carry their reason (tb/coverage/model.py HOLE_REASONS).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import yaml
from cocotb_coverage.coverage import merge_coverage

from nvdla_int8.errors import InputError
from nvdla_int8.fileio import write_atomic

from .model import HOLE_REASONS, TOP


def merge(out: str | Path, files) -> Path:
    files = [str(f) for f in files]
    if not files:
        raise InputError("no coverage files to merge", where=str(out))
    for f in files:
        if not Path(f).is_file():
            raise InputError("no such coverage file", where=f)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if len(files) == 1:
        write_atomic(Path(out), Path(files[0]).read_text())
    else:
        tmp = Path(out).with_suffix(".tmp.yml")
        merge_coverage(lambda *_: None, str(tmp), *files)
        tmp.replace(out)
    return Path(out)


@dataclass
class Hole:
    item: str
    bin: str
    reason: str  # "" when the bin should be reachable


@dataclass
class CoverageSummary:
    percent: float
    covered: int
    size: int
    items: list[tuple[str, float, int, int]]  # (name, percent, covered bins, bins) per point/cross
    holes: list[Hole]

    @property
    def percent_reachable(self) -> float:
        unreachable = sum(1 for h in self.holes if h.reason)
        return 100.0 * self.covered / max(1, self.size - unreachable)


def load(path: str | Path) -> CoverageSummary:
    p = Path(path)
    try:
        db = yaml.safe_load(p.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise InputError(f"not a coverage YAML file: {e}", where=str(p)) from None
    if not isinstance(db, dict) or TOP not in db:
        raise InputError(f"not a coverage file of this model (no {TOP!r} node)", where=str(p))
    items, holes = [], []
    for name in sorted(db):
        node = db[name]
        if "bins:_hits" not in node:
            continue
        hits = node["bins:_hits"]
        items.append((name, float(node["cover_percentage"]), int(node["coverage"]), int(node["size"])))
        for b, n in hits.items():
            if n < node.get("at_least", 1):
                holes.append(Hole(name, str(b), HOLE_REASONS.get((name, str(b)), "")))
    top = db[TOP]
    return CoverageSummary(100.0 * top["coverage"] / max(1, top["size"]), int(top["coverage"]), int(top["size"]),
                           items, holes)


def text_report(s: CoverageSummary) -> str:
    lines = [f"functional coverage: {s.percent:.1f}% ({s.covered}/{s.size} bins); "
             f"{s.percent_reachable:.1f}% of the reachable bins"]
    for name, pct, cov, size in s.items:
        lines.append(f"  {name:44} {pct:6.1f}%  {cov}/{size}")
    real = [h for h in s.holes if not h.reason]
    known = [h for h in s.holes if h.reason]
    lines.append(f"holes: {len(real)} to close, {len(known)} unreachable")
    lines += [f"  HOLE {h.item} [{h.bin}]" for h in real]
    lines += [f"  UNREACHABLE {h.item} [{h.bin}]: {h.reason}" for h in known]
    return "\n".join(lines) + "\n"


def html_report(s: CoverageSummary, title: str = "nvdla-int8 functional coverage") -> str:
    e = html.escape
    rows = "".join(f"<tr><td>{e(n)}</td><td>{p:.1f}%</td><td>{c}/{z}</td></tr>" for n, p, c, z in s.items)
    holes = "".join(f"<tr><td>{e(h.item)}</td><td>{e(h.bin)}</td><td>{e(h.reason or 'to close')}</td></tr>"
                    for h in s.holes)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;"
            "padding:2px 6px}</style></head><body>"
            f"<h1>{e(title)}</h1><p>{s.percent:.1f}% of {s.size} bins ({s.covered} hit); "
            f"{s.percent_reachable:.1f}% of the reachable bins</p>"
            f"<h2>Holes</h2><table><tr><th>item</th><th>bin</th><th>reason</th></tr>{holes}</table>"
            f"<h2>Coverpoints and crosses</h2><table><tr><th>item</th><th>coverage</th><th>bins</th></tr>{rows}"
            "</table></body></html>\n")


def write_reports(merged: str | Path, out_dir: str | Path) -> CoverageSummary:
    s = load(merged)
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    write_atomic(d / "coverage.txt", text_report(s))
    write_atomic(d / "coverage.html", html_report(s))
    return s
