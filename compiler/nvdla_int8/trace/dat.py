"""NVDLA `.dat` memory-image files (docs/spec/trace-format.md §3), plain or gzip-compressed.

Grammar: optional `{`/`}` wrapper lines, `#` comments, and entries
`{offset:0x4, size:4, payload:0xaa 0x8e 0xfd 0x3f} ,`. Byte i of an entry goes to
base + offset + i. Parsing follows the upstream reader (numbers hex/octal/decimal, short payloads
padded with 0, extra tokens ignored) but, unlike it, rejects a line it cannot read with an error
naming file and line rather than skipping it silently.
"""
from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import write_atomic


@dataclass(frozen=True)
class DatEntry:
    offset: int
    data: bytes


def _number(tok: str) -> int:
    """Upstream number rule: 0x hex, leading-0 octal, else decimal."""
    t = tok.strip()
    if t.lower().startswith("0x"):
        return int(t, 16)
    if len(t) > 1 and t.startswith("0"):
        return int(t, 8)
    return int(t, 10)


_ENTRY = re.compile(r"\{offset:(0x[0-9a-fA-F]+|[1-9]\d*|0), size:(\d+), payload:([0-9a-fA-FxX ]*)\} ?,?")
_FRAMING = str.maketrans("", "", "{}, \t\r\n")  # what may stand between entries (wrapper lines, blanks)


def _parse_strict(text: str) -> list[DatEntry] | None:
    """Fast path for files in the exact style NVDLA's tools write: one regex pass over the entries,
    the text between them checked to be only framing, every payload checked to be `0xhh`
    tokens one space apart (vectorised), one hex decode for the whole file, merged with numpy.
    None if anything deviates (comments included); the careful parser takes over."""
    found = _ENTRY.findall(text)
    if not found:
        return None if text.translate(_FRAMING) else []
    if _ENTRY.sub("", text).translate(_FRAMING):
        return None
    payloads = [f[2] for f in found]
    sizes = np.array([int(f[1]) for f in found], dtype=np.int64)
    if not np.array_equal((np.array([len(p) for p in payloads]) + 1) // 5, sizes):
        return None  # short or long payloads: leave the padding rules to the careful parser
    tokens = np.frombuffer((" ".join(payloads) + " ").encode("ascii"), dtype=np.uint8)
    if tokens.size != 5 * int(sizes.sum()):
        return None
    tok = tokens.reshape(-1, 5)
    hexd = tok[:, 2:4]
    if not (np.all(tok[:, 0] == ord("0")) and np.all((tok[:, 1] | 0x20) == ord("x")) and np.all(tok[:, 4] == ord(" "))
            and not np.any((hexd == ord(" ")) | ((hexd | 0x20) == ord("x")))):
        return None
    blob = bytes.fromhex(hexd.tobytes().decode("ascii"))
    offs = np.array([int(f[0], 0) for f in found], dtype=np.int64)
    first = np.flatnonzero(np.r_[True, offs[1:] != offs[:-1] + sizes[:-1]])  # runs of contiguous entries
    cum = np.r_[0, np.cumsum(sizes)]
    bounds = np.r_[first, len(found)]
    return [DatEntry(int(offs[i]), blob[cum[i]:cum[j]]) for i, j in zip(bounds[:-1], bounds[1:])]


def _merge(entries) -> list[DatEntry]:
    runs: list[tuple[int, bytearray]] = []
    for offset, data in entries:
        if runs and runs[-1][0] + len(runs[-1][1]) == offset:
            runs[-1][1].extend(data)  # contiguous entries become one run
        else:
            runs.append((offset, bytearray(data)))
    return [DatEntry(o, bytes(d)) for o, d in runs]


def parse_dat(text: str, where: str = "<dat>") -> list[DatEntry]:
    """Entries of a .dat text; contiguous entries come back merged into one."""
    strict = _parse_strict(text)
    if strict is not None:
        return strict
    entries: list[tuple[int, bytes]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip("{}, \t\r")
        if not line or line.startswith("#"):
            continue
        loc = f"{where}:{lineno}"
        parts = line.split(",")
        if len(parts) != 3:
            raise InputError(f"expected 'offset:N, size:N, payload:...', got {raw.strip()[:60]!r}", where=loc)
        fields = {}
        for p in parts:
            key, sep, val = p.partition(":")
            if not sep:
                raise InputError(f"missing ':' in {p.strip()!r}", where=loc)
            fields[key.strip()] = val.strip()
        if set(fields) != {"offset", "size", "payload"}:
            raise InputError(f"expected keys offset, size, payload; got {', '.join(fields)}", where=loc)
        try:
            offset, size = _number(fields["offset"]), _number(fields["size"])
            toks = fields["payload"].split()[:size]
            if all(len(t) == 4 and t[:2] in ("0x", "0X") for t in toks):  # the common case, fast
                data = bytes.fromhex("".join(t[2:] for t in toks))
            else:
                vals = [_number(t) for t in toks]
                if any(not 0 <= v <= 0xFF for v in vals):
                    raise InputError("payload byte out of range 0..0xff", where=loc)
                data = bytes(vals)
        except ValueError as e:
            raise InputError(f"bad number ({e})", where=loc) from None
        if offset < 0 or size < 0:
            raise InputError("negative offset or size", where=loc)
        entries.append((offset, data + bytes(size - len(data))))
    return _merge(entries)


GZ = ".gz"  # the in-repo conformance suite stores its images as `<name>.dat.gz` (vectors/conformance)


def find_dat(folder: Path, name: str) -> Path | None:
    """The file a trace's `"name"` argument means: `name` itself, else its `name.gz`."""
    for p in (folder / name, folder / (name + GZ)):
        if p.is_file():
            return p
    return None


def read_dat(path: str | Path) -> list[DatEntry]:
    """Entries of a `.dat` file; a name ending in `.gz` is decompressed first."""
    p = Path(path)
    raw = p.read_bytes()
    if p.name.endswith(GZ):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):  # BadGzipFile is an OSError; truncated streams raise EOFError
            raise InputError("not a readable gzip file", where=str(p)) from None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise InputError("not an ASCII .dat file", where=str(p)) from None
    return parse_dat(text, str(p))


_TOKENS = np.frombuffer("".join(f"0x{b:02x} " for b in range(256)).encode("ascii"), dtype=np.uint8).reshape(256, 5)


def format_dat(entries: list[DatEntry], bytes_per_line: int = 32) -> str:
    """Write in the common upstream style (wrapper lines, lower-case hex); long entries split.
    Payload text comes from a table of the 256 tokens, one fancy-index per entry."""
    out = ["{"]
    for e in entries:
        text = _TOKENS[np.frombuffer(e.data, dtype=np.uint8)].tobytes().decode("ascii")  # "0xhh " per byte
        for i in range(0, len(e.data), bytes_per_line):
            n = min(bytes_per_line, len(e.data) - i)
            out.append(f"{{offset:{e.offset + i:#x}, size:{n}, payload:{text[5 * i:5 * (i + n) - 1]}}} ,")
    out.append("}")
    return "\n".join(out) + "\n"


def entries_from_array(data: np.ndarray, offset: int = 0, skip_zero_runs: int = 0) -> list[DatEntry]:
    """One entry per contiguous run; with skip_zero_runs = n, runs of >= n zero bytes are left out
    (for sparse images over zero-initialised memory)."""
    buf = np.asarray(data, dtype=np.uint8).tobytes()
    if not skip_zero_runs:
        return [DatEntry(offset, buf)] if buf else []
    entries = []
    nz = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8))
    if nz.size == 0:
        return []
    # Split where the gap between non-zero bytes is at least skip_zero_runs.
    gaps = np.flatnonzero(np.diff(nz) > skip_zero_runs)
    starts = np.r_[nz[0], nz[gaps + 1]]
    ends = np.r_[nz[gaps], nz[-1]] + 1
    for s, e in zip(starts, ends):
        entries.append(DatEntry(offset + int(s), buf[s:e]))
    return entries


def write_dat(path: str | Path, entries: list[DatEntry]) -> None:
    write_atomic(path, format_dat(entries))
