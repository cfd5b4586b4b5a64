"""The campaign's outputs: kill_matrix.json (mutant x tier -> verdict, seconds, message) and
report.md (score, counts per class and tier, every survivor with file:line, diff and class).

Survivors are classified by hand in survivors.yaml, read here: `equivalent` (no output can
change: the entry says why) leaves the mutant out of the score; `hole` names the test added to
kill it (a hole whose test works no longer survives, so it stays listed only as history). The
score is killed / (sampled - stillborn - equivalent).
"""
from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

import yaml

from nvdla_int8.errors import InputError
from nvdla_int8.fileio import write_atomic

from .points import CLASSES, Mutant
from .tiers import KILLED, STILLBORN, SURVIVED

CLASSIFIED = Path(__file__).resolve().parent / "survivors.yaml"
KINDS = ("equivalent", "hole")


def classifications(path: Path = CLASSIFIED) -> dict[str, dict]:
    """mutant id -> {class, why[, test]} from survivors.yaml."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    for mid, entry in data.items():
        if not isinstance(entry, dict) or entry.get("class") not in KINDS or not entry.get("why"):
            raise InputError(f"entry {mid}: give class ({' or '.join(KINDS)}) and why", where=str(path))
    return data


def is_equivalent(mid: str, known: dict[str, dict]) -> bool:
    return known.get(mid, {}).get("class") == "equivalent"


def score(rows: list[dict], known: dict[str, dict]) -> tuple[int, int]:
    """(killed, non-equivalent mutants that built)."""
    built = [r for r in rows if r["status"] != STILLBORN]
    counted = [r for r in built if not (r["status"] == SURVIVED and is_equivalent(r["id"], known))]
    return sum(r["status"] == KILLED for r in counted), len(counted)


def percent(killed: int, total: int) -> str:
    return f"{100.0 * killed / total:.1f}%" if total else "n/a"


def write_matrix(out: Path, info: dict, rows: list[dict]) -> Path:
    p = Path(out) / "kill_matrix.json"
    write_atomic(p, json.dumps({"info": info, "mutants": sorted(rows, key=lambda r: r["id"])}, indent=1) + "\n")
    return p


def read_matrix(path: Path) -> tuple[dict, list[dict]]:
    data = json.loads(Path(path).read_text())
    return data["info"], data["mutants"]


def _table(head: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(map(str, r)) + " |" for r in rows]


def render(info: dict, rows: list[dict], known: dict[str, dict]) -> str:
    killed, total = score(rows, known)
    status = Counter(r["status"] for r in rows)
    survivors = [r for r in rows if r["status"] == SURVIVED]
    equivalent = sum(is_equivalent(r["id"], known) for r in survivors)
    lines = ["# RTL mutation campaign", "", f"Command: `{info['command']}`", "",
             f"{info['generated']} mutants of rtl_models/ generated; {len(rows)} run (sample {info['sample']}, "
             f"seed {info['seed']}, shard {info['shard']}), tiers {', '.join(info['tiers'])}; "
             f"wall time {info['wall_seconds']:.0f} s on {info['jobs']} worker(s).", "",
             f"**Score: {killed} of {total} non-equivalent mutants killed ({percent(killed, total)})**; "
             f"{status[STILLBORN]} stillborn (Verilator refused them), {equivalent} equivalent, "
             f"{len(survivors) - equivalent} other survivors.", ""]
    by_tier = Counter(r["killed_by"] for r in rows if r["status"] == KILLED)
    lines += ["## Kills per tier (first tier that killed)", ""]
    lines += _table(["tier", "killed", "median seconds"],
                    [[t, by_tier[t], _median([r["tiers"][t]["seconds"] for r in rows
                                              if r["tiers"].get(t, {}).get("verdict") in (KILLED, SURVIVED)])]
                     for t in info["tiers"]])
    builds = [r["build_seconds"] for r in rows if r["status"] != STILLBORN]
    lines += ["", f"Median build time of a mutant (all harnesses it needed): {_median(builds)} s.", "",
              "## Per class", ""]
    per = [[c] + [sum(r["cls"] == c and r["status"] == s for r in rows) for s in (KILLED, SURVIVED, STILLBORN)]
           for c in CLASSES]
    lines += _table(["class", "killed", "survived", "stillborn"], [p for p in per if sum(p[1:])])
    lines += ["", "## Survivors", ""]
    if not survivors:
        lines.append("None.")
    for r in survivors:
        m = Mutant(**{k: r[k] for k in ("file", "start", "end", "original", "replacement", "cls", "line")})
        c = known.get(r["id"], {"class": "unclassified", "why": "not yet read"})
        lines += [f"### `{r['id']}` — rtl_models/{r['file']}:{r['line']} ({r['cls']})", "",
                  "```diff", f"- {r['diff'][0]}", f"+ {r['diff'][1]}", "```", "",
                  f"**{c['class']}**: {c['why']}" + (f" Test: `{c['test']}`." if c.get("test") else ""), ""]
    closed = [r for r in rows if r["status"] == KILLED and known.get(r["id"], {}).get("class") == "hole"]
    if closed:
        lines += ["## Test holes closed (survived once, killed since by the test named)", ""]
        lines += [f"- `{r['id']}` (rtl_models/{r['file']}:{r['line']}, `{r['diff'][0]}` -> `{r['diff'][1]}`): "
                  f"killed by tier {r['killed_by']}, `{known[r['id']].get('test', '?')}`" for r in closed] + [""]
    stillborn = [r for r in rows if r["status"] == STILLBORN]
    if stillborn:
        lines += ["## Stillborn", ""] + [f"- `{r['id']}`: {r.get('message', '')}" for r in stillborn]
    return "\n".join(lines) + "\n"


def _median(xs: list[float]) -> str:
    return f"{statistics.median(xs):.1f}" if xs else "-"


def write(out: Path, info: dict, rows: list[dict], known: dict[str, dict] | None = None) -> Path:
    """kill_matrix.json and report.md in out; returns report.md."""
    known = classifications() if known is None else known
    write_matrix(out, info, rows)
    p = Path(out) / "report.md"
    write_atomic(p, render(info, rows, known))
    return p
