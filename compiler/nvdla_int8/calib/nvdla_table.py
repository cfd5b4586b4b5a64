"""NVDLA JSON calibration table: read, validate, write (spec/calibration.md §2).

One entry per network input and per layer output::

    {"<name>": {"scale": s, "offset": 0}, ...}            # what we write by default
    {"<name>": {"min": a, "max": b, "offset": 0}, ...}    # also accepted

How NVDLA's compiler reads an entry: ``scale`` if present, else ``max(|min|, |max|) / 127``
(asymmetric ranges are silently made symmetric); ``offset`` is never read. So we validate:

- ``scale`` finite and > 0; without ``scale``, both ``min`` and ``max`` finite, ``min <= max`` and
  not both zero; the scale used (given, or ``max(|min|, |max|) / 127``) finite and > 0 in float32;
- ``offset``, when present, an integer equal to 0 (NVDLA's int8 path is symmetric only; a
  non-zero offset would be silently ignored by NVDLA's compiler, so we refuse it);
- no other keys, no duplicate names (JSON allows them, the compiler would keep one silently).

One reserved top-level key, ``"nvdla_int8.metadata"``, holds an object about the table, not a
tensor: how it was made (method, data, input preprocessing) and the TensorRT cache header it came
from, so that cache -> JSON -> cache keeps the header. NVDLA's compiler looks entries up by layer
name and ignores keys it does not ask for, so the key is harmless there.

Values are written as the shortest decimal that reads back to the same float64, and the float64
is the exact value of the float32 scale, so JSON <-> TensorRT cache conversions are bit-exact.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import write_atomic

_ALLOWED_KEYS = {"scale", "min", "max", "offset"}
METADATA_KEY = "nvdla_int8.metadata"


@dataclass(frozen=True)
class TableEntry:
    """One table entry. `scale` wins over `min`/`max` exactly as in NVDLA's compiler."""

    scale: float | None = None
    min: float | None = None
    max: float | None = None
    offset: int = 0

    def effective_scale(self) -> float:
        """The scale NVDLA's compiler uses for this entry."""
        if self.scale is not None:
            return self.scale
        return max(abs(self.min), abs(self.max)) / 127.0

    def threshold(self) -> float:
        """The symmetric threshold T (= 127 * scale)."""
        return 127.0 * self.effective_scale()


def entries_from_scales(scales: dict[str, float]) -> dict[str, TableEntry]:
    """Table entries for a name -> scale map (scales rounded to float32, as TensorRT stores them)."""
    return {k: TableEntry(scale=float(np.float32(v))) for k, v in scales.items()}


def stored_scale(threshold: float) -> float:
    """The scale a table written by `calibrate` holds for threshold T: T / 127 rounded to float32
    (entries_from_scales), so that scales judged in memory are the ones `compile` will read."""
    return float(np.float32(threshold / 127.0))


def _line_of_key(text: str, name: str, occurrence: int = 1) -> int:
    """Line (1-based) of the n-th occurrence of `"name":` in the JSON text, 0 if not found."""
    pat = re.compile(re.escape(json.dumps(name)) + r"\s*:")
    pos = -1
    for _ in range(occurrence):
        m = pat.search(text, pos + 1)
        if not m:
            return 0
        pos = m.start()
    return text.count("\n", 0, pos) + 1


def _number(name: str, key: str, v, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"{name!r}: {key!r} must be a number, got {v!r}", where=where)
    f = float(v)
    if not math.isfinite(f):
        raise InputError(f"{name!r}: {key} is {f} (must be finite)", where=where)
    return f


def _entry(name: str, obj, where: str) -> TableEntry:
    if not isinstance(obj, dict):
        raise InputError(f"{name!r}: expected an object with 'scale' or 'min'/'max', got {obj!r}", where=where)
    unknown = sorted(set(obj) - _ALLOWED_KEYS)
    if unknown:
        raise InputError(f"{name!r}: unknown key(s) {', '.join(map(repr, unknown))}; "
                         "allowed: scale, min, max, offset", where=where)
    scale = _number(name, "scale", obj["scale"], where) if "scale" in obj else None
    lo = _number(name, "min", obj["min"], where) if "min" in obj else None
    hi = _number(name, "max", obj["max"], where) if "max" in obj else None
    if "offset" in obj:
        off = obj["offset"]
        if isinstance(off, bool) or not isinstance(off, (int, float)) or not math.isfinite(off) or off != int(off):
            raise InputError(f"{name!r}: offset must be an integer, got {off!r}", where=where)
        if off != 0:
            raise InputError(f"{name!r}: offset {off} but NVDLA int8 is symmetric: offset must be 0 "
                             "(NVDLA's compiler would silently ignore it)", where=where)
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"{name!r}: min {lo!r} > max {hi!r}", where=where)
    if scale is not None:
        if scale <= 0:
            raise InputError(f"{name!r}: scale {scale!r} must be > 0", where=where)
    elif lo is None or hi is None:
        raise InputError(f"{name!r}: needs 'scale' or both 'min' and 'max'", where=where)
    elif max(abs(lo), abs(hi)) == 0:
        raise InputError(f"{name!r}: min and max are both 0 and there is no scale", where=where)
    entry = TableEntry(scale, lo, hi, 0)
    s32 = _float32(entry.effective_scale())
    if not (math.isfinite(s32) and s32 > 0):
        raise InputError(f"{name!r}: scale {entry.effective_scale()!r} is {s32} in float32, the precision "
                         "of NVDLA's compiler and of TensorRT caches", where=where)
    return entry


def _float32(x: float) -> float:
    import numpy as np

    with np.errstate(over="ignore", under="ignore"):
        return float(np.float32(x))


def parse_table(text: str, path: str = "<table>") -> dict[str, TableEntry]:
    """Parse and validate NVDLA JSON table text, keeping key order."""
    seen: list[list[tuple[str, object]]] = []

    def keep_pairs(pairs):
        seen.append(pairs)
        return dict(pairs)

    try:
        top = json.loads(text, object_pairs_hook=keep_pairs)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", where=f"{path}:{e.lineno}") from None
    if not isinstance(top, dict):
        raise InputError("top level must be an object {name: {scale: ...}}", where=f"{path}:1")
    top_pairs = seen[-1]  # the hook runs innermost first, so the top object comes last
    counts: dict[str, int] = {}
    out: dict[str, TableEntry] = {}
    for name, obj in top_pairs:
        if name == METADATA_KEY:
            continue
        counts[name] = counts.get(name, 0) + 1
        where = f"{path}:{_line_of_key(text, name, counts[name])}"
        if counts[name] > 1:
            raise InputError(f"duplicate name {name!r} (first on line {_line_of_key(text, name)})", where=where)
        out[name] = _entry(name, obj, where)
    return out


def _read_text(path: str | Path) -> str:
    """A table's text: JSON is UTF-8 (RFC 8259); other bytes are refused naming their line."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise InputError(f"not UTF-8 text: byte {raw[e.start]:#04x} at offset {e.start} ({e.reason})",
                         where=f"{path}:{line}") from None


def read_table(path: str | Path) -> dict[str, TableEntry]:
    """Read and validate a table file."""
    return parse_table(_read_text(path), str(path))


def read_metadata(path: str | Path) -> dict:
    """The table's ``nvdla_int8.metadata`` object ({} when absent, e.g. NVDLA's own tables)."""
    text = _read_text(path)
    try:
        top = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", where=f"{path}:{e.lineno}") from None
    meta = top.get(METADATA_KEY, {}) if isinstance(top, dict) else {}
    where = f"{path}:{_line_of_key(text, METADATA_KEY)}"
    if not isinstance(meta, dict):
        raise InputError(f"{METADATA_KEY!r} must be an object", where=where)
    _check_preprocessing(meta.get("preprocessing", {}), where)
    return meta


def _check_preprocessing(pre, where: str) -> None:
    """The numbers `preprocessing_mismatch` compares with the model's must be numbers: a garbled
    one would either crash the comparison or hide a real mismatch."""
    if not isinstance(pre, dict):
        raise InputError(f"{METADATA_KEY}.preprocessing must be an object, got {pre!r}", where=where)
    for key in ("image_mean", "image_scale", "divisor"):
        v = pre.get(key, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{METADATA_KEY}.preprocessing.{key} = {v!r} is not a finite number", where=where)
    if ("image_mean" in pre) != ("image_scale" in pre):
        raise InputError(f"{METADATA_KEY}.preprocessing needs image_mean and image_scale together", where=where)


def format_table(entries: dict[str, TableEntry], metadata: dict | None = None) -> str:
    """Clean JSON: 2-space indent, one entry per line, final newline; validated before writing.
    `metadata`, if any, comes first under ``nvdla_int8.metadata``."""
    lines = [f"  {json.dumps(METADATA_KEY)}: {json.dumps(metadata, sort_keys=True)}"] if metadata else []
    for name, e in entries.items():
        _entry(name, _as_obj(e), "table")
        lines.append(f"  {json.dumps(name)}: {json.dumps(_as_obj(e))}")
    return "{\n" + ",\n".join(lines) + ("\n" if lines else "") + "}\n"


def _as_obj(e: TableEntry) -> dict:
    obj: dict = {}
    if e.scale is not None:
        obj["scale"] = float(e.scale)
    if e.min is not None:
        obj["min"] = e.min
    if e.max is not None:
        obj["max"] = e.max
    obj["offset"] = 0
    return obj


def write_table(path: str | Path, entries: dict[str, TableEntry], metadata: dict | None = None) -> None:
    """Write a table atomically."""
    write_atomic(path, format_table(entries, metadata))


def preprocessing_mismatch(metadata: dict, declared: tuple[float, float] | None, table: str, model: str) -> str | None:
    """A warning when the data a table was calibrated on was preprocessed otherwise than the model
    declares (metadata nvdla_int8.image_mean / image_scale); None when they agree or either is unknown."""
    used = metadata.get("preprocessing")
    if not isinstance(used, dict) or declared is None or "values" in used:
        return None
    mean, scale = declared
    if "image_mean" in used and np.isclose(used["image_mean"], mean, rtol=1e-9, atol=0) \
            and np.isclose(used["image_scale"], scale, rtol=1e-9, atol=0):
        return None
    got = (f"(pixel - {used['image_mean']:.6g}) * {used['image_scale']:.6g}" if "image_mean" in used
           else f"pixel / {used.get('divisor', '?')}")
    return (f"{table} was calibrated on {got} but {model} declares its input as (pixel - {mean:.6g}) * "
            f"{scale:.6g}: the input scale will not match the data (calibrate again with that preprocessing)")
