"""The mutants of rtl_models/: points found in pyslang's syntax tree of each RTL file, each a
single replacement of a byte range of one file.

Classes (what a mutant does to the design):
- operator:  + <-> -, & <-> |, && <-> ||, < <-> <=, > <-> >=
- constant:  an integer literal +1 / -1 (sized ones stay inside their width), '0 <-> '1
- condition: an if or ?: condition inverted, !(c)
- enable:    an if condition inside always_ff stuck at 1'b1 and at 1'b0 (not the reset branch)
- sticky:    a read of shr_round's sticky bits (rest, seen) dropped to '0
- loop:      a for loop's stop test off by one: < <-> <=, and the bound minus one

Not mutated, because a fault there is not a datapath or control fault of the design: declared
widths (a dimension's expression and a cast's width), the `ifndef SYNTHESIS checks (parsed with
SYNTHESIS defined, so they are not in the tree), and the register package nvdla_reg_pkg.sv,
generated from the register map by tools/gen_rtl_regpkg.py (`make lint` checks it is current).
"""
from __future__ import annotations

import hashlib
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import pyslang
from pyslang import syntax

from nvdla_int8.errors import InputError

from ..rtl_build import ROOT

K = syntax.SyntaxKind
RTL = ROOT / "rtl_models"
GENERATED = frozenset({"nvdla_reg_pkg.sv"})
CLASSES = ("operator", "constant", "condition", "enable", "sticky", "loop")

SWAPS = {K.AddExpression: "-", K.SubtractExpression: "+", K.BinaryAndExpression: "|", K.BinaryOrExpression: "&",
         K.LogicalAndExpression: "||", K.LogicalOrExpression: "&&", K.LessThanExpression: "<=",
         K.LessThanEqualExpression: "<", K.GreaterThanExpression: ">=", K.GreaterThanEqualExpression: ">"}
RADIX = {"d": 10, "h": 16, "b": 2, "o": 8}
STICKY_FUNCTION = "shr_round"
STICKY_NAMES = frozenset({"rest", "seen"})


@dataclass(frozen=True)
class Mutant:
    file: str  # relative to rtl_models/
    start: int  # byte range of `original` in the file
    end: int
    original: str
    replacement: str
    cls: str
    line: int

    @property
    def id(self) -> str:
        """Stable while the file's text before the point does not move: file, line, class and a
        hash of the exact edit."""
        h = hashlib.sha1(f"{self.file}:{self.start}:{self.end}:{self.original}:{self.replacement}".encode())
        return f"{Path(self.file).stem}.{self.line}.{self.cls}.{h.hexdigest()[:6]}"

    def apply(self, text: bytes) -> bytes:
        if text[self.start:self.end].decode() != self.original:
            raise InputError(f"{self.id}: the file no longer has {self.original!r} there", where=f"{self.file}:{self.line}")
        return text[:self.start] + self.replacement.encode() + text[self.end:]

    def diff(self, rtl: Path = RTL) -> tuple[str, str]:
        """The mutated line, before and after."""
        text = (rtl / self.file).read_bytes()
        lo = text.rfind(b"\n", 0, self.start) + 1
        hi = text.find(b"\n", self.end)
        hi = len(text) if hi < 0 else hi
        return text[lo:hi].decode().strip(), self.apply(text)[lo:hi - len(self.original) + len(self.replacement)].decode().strip()

    def to_json(self) -> dict:
        return {"id": self.id, **asdict(self)}


def rtl_files(rtl: Path = RTL) -> list[str]:
    """The RTL's files in build order (rtl_models.f), less the generated register package."""
    names = [ln.strip() for ln in (rtl / "rtl_models.f").read_text().splitlines() if ln.strip()]
    return [n for n in names if Path(n).name not in GENERATED]


def _parse(path: Path):
    pp = pyslang.parsing.PreprocessorOptions()
    pp.predefines = ["SYNTHESIS"]
    tree = syntax.SyntaxTree.fromFile(str(path), syntax.SyntaxTree.getDefaultSourceManager(), pyslang.Bag([pp]))
    errors = [d for d in tree.diagnostics if d.isError()]
    if errors:
        msg = pyslang.DiagnosticEngine.reportAll(tree.sourceManager, errors).strip().splitlines()[0]
        raise InputError(f"pyslang cannot parse it: {msg}", where=str(path))
    return tree


def _ancestors(node):
    p = node.parent
    while p is not None:
        yield p
        p = p.parent


def _same(a, b) -> bool:
    return a is not None and b is not None and a.sourceRange.start.offset == b.sourceRange.start.offset \
        and a.sourceRange.end.offset == b.sourceRange.end.offset and a.kind == b.kind


def _is_width(node) -> bool:
    """Part of a declared width: a dimension, a data type (typedef elem_t [Atom-1:0] t), or the
    width of a cast."""
    child = node
    for p in _ancestors(node):
        if p.kind == K.VariableDimension or str(p.kind).endswith("Type"):
            return True
        if p.kind == K.CastExpression and _same(p.left, child):
            return True
        child = p
    return False


def _is_loop_stop(node) -> bool:
    p = node.parent
    return p is not None and p.kind == K.ForLoopStatement and _same(p.stopExpr, node)


def _in_function(node, name: str) -> bool:
    return any(p.kind == K.FunctionDeclaration and str(p.prototype.name).strip() == name for p in _ancestors(node))


def _identifiers(node) -> set[str]:
    names: set[str] = set()
    node.visit(lambda n: names.add(n.identifier.valueText) if n.kind == K.IdentifierName else None)
    return names


def _is_reset(expr) -> bool:
    return any(n.startswith("rst") for n in _identifiers(expr))


def _vector_constants(node) -> list[tuple[object, str]]:
    """(value token, new text) of a sized/based literal, +1 and -1 inside its width."""
    raw = node.value.rawText
    digits = raw.replace("_", "")
    radix = RADIX.get(node.base.rawText[-1].lower())
    if radix is None or any(c in "xXzZ?" for c in digits):
        return []
    value = int(digits, radix)
    width = int(node.size.rawText) if node.size is not None else 32
    out = []
    for new in (value + 1, value - 1):
        if 0 <= new < (1 << width):
            text = str(new) if radix == 10 else format(new, {16: "x", 2: "b", 8: "o"}[radix]).zfill(len(digits))
            out.append((node.value, text))
    return out


def _points(node) -> list[tuple[object, str, str]]:
    """(token or node whose range is replaced, replacement, class) of one syntax node."""
    k = node.kind
    if k in SWAPS and not _is_loop_stop(node):
        return [(node.operatorToken, SWAPS[k], "operator")]
    if k == K.IntegerLiteralExpression and node.literal.kind == pyslang.parsing.TokenKind.IntegerLiteral:
        v = int(node.literal.rawText.replace("_", ""))
        return [(node, str(n), "constant") for n in (v + 1, v - 1) if n >= 0]
    if k == K.IntegerVectorExpression:
        return [(tok, text, "constant") for tok, text in _vector_constants(node)]
    if k == K.UnbasedUnsizedLiteralExpression and node.literal.rawText in ("'0", "'1"):
        return [(node, "'1" if node.literal.rawText == "'0" else "'0", "constant")]
    if k in (K.ConditionalStatement, K.ConditionalExpression):
        conds = node.predicate.conditions
        if len(conds) != 1 or conds[0].matchesClause is not None:
            return []
        expr = conds[0].expr
        out = [(expr, f"!({str(expr).strip()})", "condition")]
        if k == K.ConditionalStatement and not _is_reset(expr) and any(p.kind == K.AlwaysFFBlock for p in _ancestors(node)):
            out += [(expr, "1'b1", "enable"), (expr, "1'b0", "enable")]
        return out
    if k == K.IdentifierName and node.identifier.valueText in STICKY_NAMES and _in_function(node, STICKY_FUNCTION):
        p = node.parent
        if p.kind == K.AssignmentExpression and _same(p.left, node):
            return []
        return [(node, "'0", "sticky")]
    if k == K.ForLoopStatement and node.stopExpr is not None and node.stopExpr.kind in SWAPS:
        stop = node.stopExpr
        return [(stop.operatorToken, SWAPS[stop.kind], "loop"), (stop.right, f"({str(stop.right).strip()}) - 1", "loop")]
    return []


def _range(x, sm, buffer) -> tuple[int, int] | None:
    """The byte range of x in the parsed file. A token of a macro expansion has offsets in
    pyslang's expansion buffer, not in the file: it is mapped back to where its text is written
    (a macro argument at the use site, a token of the body in the `define, which every expansion
    shares). None if that is not in this file."""
    r = x.range if hasattr(x, "range") else x.sourceRange
    if sm.isMacroLoc(r.start) or sm.isMacroLoc(r.end):
        r = sm.getFullyOriginalRange(r)
    if r.start.buffer != buffer or r.end.buffer != buffer or r.end.offset <= r.start.offset:
        return None
    return r.start.offset, r.end.offset


def file_mutants(rtl: Path, name: str) -> list[Mutant]:
    path = rtl / name
    tree = _parse(path)
    text = path.read_bytes()
    found: list[tuple] = []

    def visit(node):
        if isinstance(node, syntax.SyntaxNode) and not _is_width(node):
            found.extend(_points(node))

    tree.root.visit(visit)
    buffer = tree.root.sourceRange.start.buffer
    out = {}
    for target, replacement, cls in found:
        where = _range(target, tree.sourceManager, buffer)
        if where is None:
            continue
        start, end = where
        original = text[start:end].decode()
        if original == replacement:
            continue
        m = Mutant(name, start, end, original, replacement, cls, text.count(b"\n", 0, start) + 1)
        out[(start, end, replacement)] = m
    return [out[k] for k in sorted(out)]


def generate(rtl: Path = RTL) -> list[Mutant]:
    """Every mutant of the RTL, in file order then position: deterministic for a given text."""
    return [m for name in rtl_files(rtl) for m in file_mutants(rtl, name)]


def sample(mutants: list[Mutant], n: int | None, seed: int) -> list[Mutant]:
    """A reproducible sample of n mutants (all when n is None or not smaller), in their order."""
    if n is None or n >= len(mutants):
        return list(mutants)
    keep = set(random.Random(seed).sample(range(len(mutants)), n))
    return [m for i, m in enumerate(mutants) if i in keep]


def _copy(dest: Path, rtl: Path = RTL) -> Path:
    out = Path(dest) / "rtl_models"
    shutil.copytree(rtl, out, ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
    return out


def mutant_copy(dest: Path, mutant: Mutant, rtl: Path = RTL) -> Path:
    """rtl copied to dest/rtl_models with the mutant applied; returns that folder."""
    out = _copy(dest, rtl)
    f = out / mutant.file
    f.write_bytes(mutant.apply(f.read_bytes()))
    return out


def broken_copy(dest: Path, good: str, bad: str, file: str = "nvdla_pkg.sv") -> Path:
    """rtl_models/ copied to dest/rtl_models with the one occurrence of `good` in `file` replaced by
    `bad` (a hand-picked fault, for tests that need one RTL fault known to matter)."""
    out = _copy(dest)
    f = out / file
    text = f.read_text()
    assert text.count(good) == 1, f"the line this test breaks has changed: {good}"
    f.write_text(text.replace(good, bad))
    return out
