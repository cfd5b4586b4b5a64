"""The reviewed list of known code-coverage holes of rtl_models/ (tb/coverage/waivers.yaml).

Each entry names coverage points by file, signal pattern, optional bits and edge, and says why:
  - file: conv/conv_cdma_wt.sv      # path under rtl_models/
    signal: "rd_req_addr_o"         # the point's name without its bit index; * matches any text,
                                    # ? one character ([ and ] are literal)
    bits: "0-2"                     # optional: bits of the signal (default all)
    edge: "1->0"                    # optional: one toggle direction (default both)
    kind: toggle                    # optional: toggle (default), line or branch
    line: 88                        # optional: the source line (branch points are named "if", ...)
    action: waive                   # waive: structurally constant, left out of the waived figure
                                    # explain: reachable but not reached, still counted as a hole
    reason: "..."

A waiver must never hide a point that is reachable: `apply` reports every waive entry that
matches a covered point (over-broad or stale), every waive entry that matches no point (the RTL
moved) and every explain entry that explains no hole (an explanation may name a whole signal
whose low bits do move: it annotates, it changes no figure).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nvdla_int8.errors import InputError

DEFAULT = Path(__file__).with_name("waivers.yaml")
ACTIONS = ("waive", "explain")
_KINDS = ("toggle", "line", "branch")
_EDGES = ("0->1", "1->0")
# a toggle point: name, optional last [bit], edge ("addr[5]:0->1", "d_q[1][3][7]:1->0", "busy:0->1")
_TOGGLE = re.compile(r"^(.*?)(?:\[(\d+)\])?:([01]->[01])$")
_BITS = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")

Point = tuple[str, str, int, str]  # (kind, file under rtl_models/, line, what)


@dataclass(frozen=True)
class Waiver:
    index: int  # position in the file, for messages
    file: str
    signal: re.Pattern
    pattern: str
    bits: frozenset[int] | None
    edge: str | None
    line: int | None
    kind: str
    action: str
    reason: str

    def matches(self, point: Point) -> bool:
        kind, src, line, what = point
        if kind != self.kind or src != self.file or self.line not in (None, line):
            return False
        if kind != "toggle":
            return bool(self.signal.fullmatch(what))
        m = _TOGGLE.match(what)
        name, bit, edge = (m.group(1), int(m.group(2) or 0), m.group(3)) if m else (what, 0, None)
        return (bool(self.signal.fullmatch(name)) and (self.bits is None or bit in self.bits)
                and (self.edge is None or edge == self.edge))

    def label(self) -> str:
        bits = f" bits {_bits_text(self.bits)}" if self.bits is not None else ""
        edge = f" {self.edge}" if self.edge else ""
        at = f":{self.line}" if self.line is not None else ""
        return f"#{self.index} {self.action} {self.file}{at} {self.pattern}{bits}{edge}"


def _bits_text(bits: frozenset[int]) -> str:
    out, run = [], []
    for b in sorted(bits) + [None]:
        if run and (b is None or b != run[-1] + 1):
            out.append(f"{run[0]}" if len(run) == 1 else f"{run[0]}-{run[-1]}")
            run = []
        if b is not None:
            run.append(b)
    return ",".join(out)


def _parse_bits(text: str, where: str) -> frozenset[int]:
    text = str(text).replace(" ", "")
    if not _BITS.match(text):
        raise InputError(f"bits {text!r} is not like '3' or '0-2,21-26'", where=where)
    bits: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        if hi and int(hi) < int(lo):
            raise InputError(f"bits {part!r}: the range runs backwards", where=where)
        bits.update(range(int(lo), int(hi or lo) + 1))
    return frozenset(bits)


def load(path: Path = DEFAULT) -> list[Waiver]:
    """The entries of a waiver file, each checked; a bad entry is one InputError naming it."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as e:
        raise InputError(f"cannot read the waiver list: {e.strerror}", where=str(path)) from None
    except yaml.YAMLError as e:
        raise InputError(f"not YAML: {str(e).splitlines()[0]}", where=str(path)) from None
    if not isinstance(data, list):
        raise InputError("the waiver list must be a YAML list of entries", where=str(path))
    out = []
    for i, e in enumerate(data, 1):
        where = f"{path}: entry {i}"
        if not isinstance(e, dict):
            raise InputError("an entry must be a mapping (file, signal, reason, ...)", where=where)
        unknown = set(e) - {"file", "signal", "bits", "edge", "line", "kind", "action", "reason"}
        if unknown:
            raise InputError(f"unknown key(s) {', '.join(sorted(unknown))}", where=where)
        for key in ("file", "signal", "reason"):
            if not isinstance(e.get(key), str) or not e[key].strip():
                raise InputError(f"'{key}' is missing or empty", where=where)
        kind, action, edge = e.get("kind", "toggle"), e.get("action", "waive"), e.get("edge")
        if kind not in _KINDS:
            raise InputError(f"kind {kind!r}: use one of {', '.join(_KINDS)}", where=where)
        if action not in ACTIONS:
            raise InputError(f"action {action!r}: use one of {', '.join(ACTIONS)}", where=where)
        if edge is not None and edge not in _EDGES:
            raise InputError(f"edge {edge!r}: use one of {', '.join(_EDGES)}", where=where)
        if kind != "toggle" and ("bits" in e or edge):
            raise InputError("bits and edge apply to toggle points only", where=where)
        line = e.get("line")
        if line is not None and (isinstance(line, bool) or not isinstance(line, int) or line < 1):
            raise InputError(f"line {line!r} is not a source line number", where=where)
        regex = re.compile("".join({"*": ".*", "?": "."}.get(ch, re.escape(ch)) for ch in e["signal"]))
        bits = _parse_bits(e["bits"], where) if "bits" in e else None
        out.append(Waiver(i, e["file"], regex, e["signal"], bits, edge, line, kind, action, e["reason"].strip()))
    return out


@dataclass
class Applied:
    """What a waiver list makes of merged coverage counts."""
    waived: dict[Point, Waiver]      # holes left out of the waived figure
    explained: dict[Point, Waiver]   # holes still counted, with their reason
    over_broad: dict[Waiver, list[Point]]  # waive entries that match covered points
    unused: list[Waiver]             # waive entries that match no point, explain entries no hole

    def bad(self) -> list[str]:
        """One line per entry to fix: it hides covered points, or names nothing."""
        lines = [f"{w.label()}: matches {len(pts)} covered point(s), e.g. {pts[0][3]} "
                 f"({pts[0][1]}:{pts[0][2]})" for w, pts in self.over_broad.items()]
        return lines + [f"{w.label()}: matches no {'coverage point' if w.action == 'waive' else 'hole'}"
                        for w in self.unused]


def apply(waivers: list[Waiver], counts: dict[Point, int]) -> Applied:
    """The first entry that matches a hole claims it; every entry is checked against every point."""
    res = Applied({}, {}, {}, [])
    used: set[int] = set()
    by_file: dict[str, list[Waiver]] = {}
    for w in waivers:
        by_file.setdefault(w.file, []).append(w)
    for point, count in counts.items():
        for w in by_file.get(point[1], ()):
            if not w.matches(point):
                continue
            if w.action == "waive" or not count:
                used.add(w.index)
            if count and w.action == "waive":
                res.over_broad.setdefault(w, []).append(point)
            elif not count and point not in res.waived and point not in res.explained:
                (res.waived if w.action == "waive" else res.explained)[point] = w
    res.unused = [w for w in waivers if w.index not in used]
    return res
