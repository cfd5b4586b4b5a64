"""The regression summary: pass rate, coverage and its holes, cycles per seed, slowest seeds,
failures with their replay commands; Markdown and HTML in the run's folder."""
from __future__ import annotations

import html
import os
from pathlib import Path

from nvdla_int8.fileio import write_atomic

from ..coverage.report import CoverageSummary
from .runner import SeedResult, failure_line


def _rows(results: list[SeedResult], slowest: int = 10):
    by_time = sorted(results, key=lambda r: r.sim_seconds + r.gen_seconds, reverse=True)[:slowest]
    return by_time


def markdown(info: dict, results: list[SeedResult], cov: CoverageSummary | None) -> str:
    n = len(results)
    passed = sum(r.passed for r in results)
    lines = [f"# Regression {info.get('name', '')}", "",
             f"- tier **{info.get('tier')}**, backend {info.get('backend')}, seeds {info.get('seeds')}, "
             f"shard {info.get('shard')}, jobs {info.get('jobs')}",
             f"- wall time {info.get('wall_seconds', 0):.1f} s; load average at the end {info.get('load', '')}",
             f"- **pass rate {passed}/{n}" + (f" ({100.0 * passed / n:.1f}%)**" if n else "**")]
    if cov is not None:
        lines.append(f"- **functional coverage {cov.percent:.1f}%** ({cov.covered}/{cov.size} bins; "
                     f"{cov.percent_reachable:.1f}% of the reachable bins)")
    if info.get("code_coverage"):
        lines.append(f"- **code coverage of rtl_models/**: {info['code_coverage']} (holes, each with its reason, "
                     f"and the waiver list's figures: code-coverage.txt)")
        lines += [f"- waiver list entry to fix: {ln}" for ln in info.get("waivers_to_fix", [])]
    if info.get("psum_max") is not None:
        lines.append(f"- largest |CACC partial sum| reached: {info['psum_max']}")
    fails = [r for r in results if not r.passed]
    lines += ["", "## Failures", ""] + ([f"- `{failure_line(r)}`" for r in fails] or ["none"])
    if cov is not None:
        lines += ["", "## Coverage holes", ""]
        lines += [f"- {h.item} [{h.bin}]: {h.reason or 'not hit yet (reachable)'}" for h in cov.holes] or ["none"]
    cyc = [r.cycles for r in results if r.cycles]
    if cyc:
        lines += ["", f"## Cycles per seed: min {min(cyc)}, median {sorted(cyc)[len(cyc) // 2]}, max {max(cyc)}, "
                      f"total {sum(cyc)}"]
    lines += ["", "## Slowest seeds", "", "| seed | status | cycles | sim s | gen+cov s | layers |",
              "|---|---|---|---|---|---|"]
    for r in _rows(results):
        lines.append(f"| {r.seed} | {r.status} | {r.cycles or '-'} | {r.sim_seconds:.2f} | {r.gen_seconds:.2f} | "
                     f"{'; '.join(r.layers)} |")
    lines += ["", "## All seeds", "", "| seed | status | cycles | sim s |", "|---|---|---|---|"]
    lines += [f"| {r.seed} | {r.status} | {r.cycles or '-'} | {r.sim_seconds:.2f} |" for r in results]
    return "\n".join(lines) + "\n"


def to_html(md: str, title: str) -> str:
    """The Markdown report as simple HTML (headings, lists, tables), no extra dependency."""
    out, table = [], False
    for ln in md.splitlines():
        if ln.startswith("|"):
            cells = [c.strip() for c in ln.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            if not table:
                out.append("<table>")
                table = True
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if table:
            out.append("</table>")
            table = False
        if ln.startswith("#"):
            lvl = len(ln) - len(ln.lstrip("#"))
            out.append(f"<h{lvl}>{html.escape(ln[lvl:].strip())}</h{lvl}>")
        elif ln.startswith("- "):
            out.append(f"<li>{html.escape(ln[2:]).replace('**', '')}</li>")
        elif ln.strip():
            out.append(f"<p>{html.escape(ln)}</p>")
    if table:
        out.append("</table>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
            "body{font-family:sans-serif}table{border-collapse:collapse}td{border:1px solid #999;padding:2px 6px}"
            "</style></head><body>" + "\n".join(out) + "</body></html>\n")


def write(out_dir: Path, info: dict, results: list[SeedResult], cov: CoverageSummary | None) -> Path:
    info = {**info, "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    md = markdown(info, results, cov)
    write_atomic(Path(out_dir) / "report.md", md)
    write_atomic(Path(out_dir) / "report.html", to_html(md, f"Regression {info.get('name', '')}"))
    return Path(out_dir) / "report.md"
