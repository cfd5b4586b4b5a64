"""TensorRT calibration cache (text form): read, validate, write.

Format (spec/calibration.md §3)::

    TRT-<version>-<algorithm>
    <tensor name>: <8 hex digits>      # big-endian IEEE-754 float32 *scale* (= threshold / 127)

Choices where the public description is silent:

- A line is split at the **last** ``": "`` (names may contain ``:`` and spaces, e.g.
  ``conv/BiasAdd:0``); the value must be exactly 8 hex digits, either case. Writers that drop
  leading zeros (``hex()``) are rejected rather than guessed at: such a value would be a scale
  below 2.5e-29 anyway.
- Blank lines are ignored (some tools append one); every other line must parse.
- The algorithm is any word of letters and digits; the known TensorRT ones are listed in
  `KNOWN_ALGORITHMS` and others are accepted (future TensorRT names), not invented by us.
- Every scale must be finite and > 0 (a zero or negative scale has no meaning for the symmetric
  int8 range and makes the compiler divide by zero); a name may appear only once.
- Values are kept as `numpy.float32`, so read -> write -> read is bit-exact.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import write_atomic

KNOWN_ALGORITHMS = ("EntropyCalibration2", "EntropyCalibration", "MinMaxCalibration", "LegacyCalibration")
_HEADER = re.compile(r"TRT-(\d+)-([A-Za-z0-9]+)")
_ENTRY = re.compile(r"(.+): (\S*)")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


@dataclass(frozen=True)
class TrtCache:
    """One TensorRT calibration cache: header fields and scales in file (network) order."""

    version: int
    algorithm: str
    scales: dict[str, np.float32] = field(default_factory=dict)

    def thresholds(self) -> dict[str, float]:
        """Threshold T = 127 * scale per tensor (float64, exact product of the float32 scale)."""
        return {k: 127.0 * float(v) for k, v in self.scales.items()}


def trt_version_string(version: int) -> str:
    """Human form of TensorRT's NV_TENSORRT_VERSION number.

    >>> trt_version_string(5101), trt_version_string(8501), trt_version_string(100300)
    ('5.1.1', '8.5.1', '10.3.0')
    """
    if version >= 100000:  # TensorRT 10 switched to major*10000 + minor*100 + patch
        return f"{version // 10000}.{version // 100 % 100}.{version % 100}"
    return f"{version // 1000}.{version // 100 % 10}.{version % 100}"


def parse_header(line: str) -> tuple[int, str] | None:
    """(version, algorithm) of a `TRT-<version>-<algorithm>` header line, None if it is not one.

    >>> parse_header("TRT-8400-MinMaxCalibration")
    (8400, 'MinMaxCalibration')
    """
    m = _HEADER.fullmatch(line.strip())
    return (int(m.group(1)), m.group(2)) if m else None


def decode_scale(hex8: str) -> np.float32:
    """Big-endian float32 bits to a scale.

    >>> float(decode_scale("3f9839e4"))
    1.1892666816711426
    """
    return np.frombuffer(bytes.fromhex(hex8), dtype=">f4")[0].astype(np.float32)


def encode_scale(scale: float | np.float32) -> str:
    """A scale as TensorRT writes it: float32 bits, 8 lower-case hex digits, most significant first.

    >>> encode_scale(1.1892666816711426)
    '3f9839e4'
    """
    return np.asarray(scale, dtype=">f4").tobytes().hex()


def check_scale(name: str, value: float, where: str) -> None:
    """Reject scales the int8 symmetric range cannot use."""
    v = float(value)
    if np.isnan(v) or np.isinf(v):
        raise InputError(f"scale of {name!r} is {v} (must be finite)", where=where)
    if v <= 0:
        raise InputError(f"scale of {name!r} is {v!r} (must be > 0)", where=where)


def parse_cache(text: str, path: str = "<cache>") -> TrtCache:
    """Parse cache text; every problem raises InputError naming file:line and tensor."""
    lines = text.splitlines()
    if not lines:
        raise InputError("empty file, expected a 'TRT-<version>-<algorithm>' header", where=f"{path}:1")
    m = _HEADER.fullmatch(lines[0].strip())
    if not m:
        raise InputError(f"bad header {lines[0][:60]!r}, expected 'TRT-<version>-<algorithm>' "
                         "such as 'TRT-8501-EntropyCalibration2'", where=f"{path}:1")
    scales: dict[str, np.float32] = {}
    first_line: dict[str, int] = {}
    for lineno, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        e = _ENTRY.fullmatch(line)
        if not e:
            raise InputError(f"expected '<tensor name>: <8 hex digits>', got {line[:60]!r}", where=where)
        name, value = e.group(1), e.group(2)
        if not _HEX8.fullmatch(value):
            raise InputError(f"bad hex value {value!r} for {name!r}: expected exactly 8 hex digits "
                             "(big-endian float32 bits)", where=where)
        scale = decode_scale(value)
        check_scale(name, scale, where)
        if name in scales:
            raise InputError(f"duplicate tensor name {name!r} (first on line {first_line[name]})", where=where)
        scales[name] = scale
        first_line[name] = lineno
    return TrtCache(int(m.group(1)), m.group(2), scales)


def read_cache(path: str | Path) -> TrtCache:
    """Read a cache file (UTF-8; TensorRT writes names as bytes, Latin-1 is the fallback)."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_cache(text, str(path))


def format_cache(cache: TrtCache) -> str:
    """Cache text with a final newline, as TensorRT writes it."""
    if not re.fullmatch(r"[A-Za-z0-9]+", cache.algorithm):
        raise InputError(f"algorithm name {cache.algorithm!r} must be letters and digits only")
    if cache.version < 0:
        raise InputError(f"TensorRT version {cache.version} must be >= 0")
    out = [f"TRT-{cache.version}-{cache.algorithm}"]
    for name, scale in cache.scales.items():
        if not name or "\n" in name or "\r" in name:
            # The parser could not give this name back unchanged.
            raise InputError(f"tensor name {name!r} cannot be written to a cache line")
        check_scale(name, scale, "cache")
        out.append(f"{name}: {encode_scale(scale)}")
    return "\n".join(out) + "\n"


def write_cache(path: str | Path, cache: TrtCache) -> None:
    """Write a cache atomically."""
    write_atomic(path, format_cache(cache))
