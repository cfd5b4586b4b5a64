"""NVDLA trace command scripts (`.cfg`), read and written (shared/spec/trace-format.md §2).

A parsed script is a list of `Command`s whose arguments are typed tokens: `int` numbers,
`Name` identifiers (memories, sync ids, patterns, interrupt ids), `Quoted` file names and
`Register`s from the register map. Every line is checked against the command's argument
signature; anything else is an `InputError` naming the file and line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError
from ..hw.regmap import REGMAP, Register


class Name(str):
    """An identifier argument (memory, sync id, pattern, interrupt id)."""


class Quoted(str):
    """A double-quoted argument (a .dat file name)."""


Token = int | Name | Quoted | Register

# Argument signatures: "reg", "num", "id", "str", "mem" (identifier or number), "size" (num or str).
SIGNATURES: dict[str, tuple[tuple[str, ...], ...]] = {
    "reg_write": (("reg", "num"),),
    "reg_read_check": (("reg", "num"),),
    "reg_read": (("reg", "id"),),
    "poll_reg_equal": (("reg", "num"),),
    "sync_notify": (("id", "id"),),
    "sync_wait": (("id", "id"),),
    "intr_notify": (("id",), ("id", "id")),
    "mem_init": (("mem", "num", "size", "id"), ("mem", "num", "size", "id", "id")),
    "mem_load": (("mem", "num", "str"), ("mem", "num", "str", "id")),
    "mem_reserve": (("mem", "num", "num"),),
    "mem_release": (("mem", "num", "id"),),
    "check_crc": (("id", "mem", "num", "num", "num"),),
    "check_file": (("id", "mem", "num", "num", "str"),),
    "check_nothing": (("id",),),
}
PATTERNS = ("ALL_ZERO", "RANDOM", "ONES", "AFIVE", "FIVEA", "ADDR", "X")

_COMMAND = re.compile(r"^\s*(\w+)\s*\((.*)\)\s*;\s*(//.*)?$")
_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)$")
_IDENT = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Command:
    op: str
    args: tuple[Token, ...]
    line: int = 0  # 1-based line in the source file; 0 for commands built in memory

    def __eq__(self, other) -> bool:  # the source line is not part of a command's meaning
        return isinstance(other, Command) and (self.op, self.args) == (other.op, other.args)

    def __hash__(self) -> int:
        return hash((self.op, self.args))

    def format(self) -> str:
        return f"{self.op}({', '.join(_format_token(a) for a in self.args)});"


def _format_token(t: Token) -> str:
    if isinstance(t, Register):
        return t.trace_name
    if isinstance(t, Quoted):
        return f'"{t}"'
    if isinstance(t, Name):
        return str(t)
    return f"{t:#x}"


def _split_args(text: str) -> list[str]:
    args, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    tail = "".join(cur).strip()
    if tail or args:
        args.append(tail)
    return args


def _token(text: str, kind: str, where: str) -> Token:
    if kind == "reg":
        try:
            return REGMAP.from_trace_name(text)
        except KeyError as e:
            raise InputError(str(e.args[0]), where=where) from None
    if kind in ("num", "mem", "size") and _NUMBER.match(text):
        return int(text, 0)
    if kind in ("str", "size") and len(text) >= 2 and text[0] == text[-1] == '"':
        return Quoted(text[1:-1])
    if kind in ("id", "mem") and _IDENT.match(text):
        return Name(text)
    expected = {"reg": "a register", "num": "a number", "id": "an identifier", "str": 'a "file" name',
                "mem": "a memory name", "size": 'a size or "file"'}[kind]
    raise InputError(f"expected {expected}, got {text!r}", where=where)


def parse_line(raw: str, where: str) -> Command | None:
    """One `.cfg` line -> Command, or None for blank/comment lines."""
    s = raw.strip()
    if not s or s.startswith("//"):
        return None
    m = _COMMAND.match(s)
    if not m:
        raise InputError(f"not a trace command (expected 'name(args);'): {s[:80]!r}", where=where)
    op, argtext = m.group(1), m.group(2)
    sigs = SIGNATURES.get(op)
    if sigs is None:
        raise InputError(f"unknown trace command {op!r}", where=where)
    texts = _split_args(argtext)
    for sig in sigs:
        if len(sig) == len(texts):
            break
    else:
        counts = " or ".join(str(len(s)) for s in sigs)
        raise InputError(f"{op} takes {counts} arguments, got {len(texts)}", where=where)
    args = tuple(_token(t, k, where) for t, k in zip(texts, sig))
    if op == "mem_init" and args[3] not in PATTERNS:
        raise InputError(f"unknown mem_init pattern {args[3]!r} (known: {', '.join(PATTERNS)})", where=where)
    line = int(where.rsplit(":", 1)[1]) if ":" in where else 0
    return Command(op, args, line)


def parse_cfg(text: str, where: str = "<cfg>") -> list[Command]:
    cmds = []
    for n, raw in enumerate(text.splitlines(), 1):
        c = parse_line(raw, f"{where}:{n}")
        if c is not None:
            cmds.append(c)
    return cmds


def format_cfg(commands: list[Command], header: str | None = None) -> str:
    lines = [f"// {h}" for h in header.splitlines()] if header else []
    lines += [c.format() for c in commands]
    return "\n".join(lines) + "\n"
