"""The constraints of the random register-program generator, as data, in one place.

Every random choice the generator makes draws from one named knob here. A knob is a dict:
  {"choices": [v, ...], "weights": [w, ...]}   weighted pick (weights optional: uniform)
  {"range": [lo, hi]}                          uniform integer in lo..hi (inclusive)
  {"ranges": [[lo, hi], ...], "weights": [...]} weighted pick of a range, then uniform in it
A tier (smoke, nightly) is a named set of knobs; a JSON or YAML file
  {"tier": "nightly", "knobs": {"stride": {"range": [1, 2]}, ...}}
replaces whole knobs of its base tier, so a user narrows or widens the space without code.
Register limits (field widths, CLIP_TRUNCATE 0..16, CBUF banks) are not knobs: the generator
takes them from the register map and `check_program`, and rejects draws that break them.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nvdla_int8.errors import InputError

# Extremes that drive every converter into saturation or its boundary, plus "random".
_I16_EXTREMES = {"choices": [-32768, -32767, -1, 0, 1, 32767, "random"], "weights": [2, 1, 1, 1, 1, 2, 6]}
_I8_DATA = {"choices": ["random", "max", "min", "extremes", "small", "ties"], "weights": [5, 1, 1, 2, 1, 2]}

NIGHTLY: dict[str, dict] = {
    # trace structure
    "layers": {"choices": [1, 2, 3], "weights": [2, 3, 2]},
    "layer_kind": {"choices": ["conv", "sdp"], "weights": [3, 2]},
    "back_to_back": {"choices": [True, False], "weights": [3, 1]},  # program the next group before waiting
    # cube shape classes: W x H x C of the conv input / the stand-alone SDP cube
    "shape": {"choices": ["small", "1x1xC", "single_line", "wide_8192", "medium"], "weights": [6, 2, 2, 1, 2]},
    "small_w": {"range": [1, 12]}, "small_h": {"range": [1, 12]}, "small_c": {"range": [1, 40]},
    "medium_w": {"range": [12, 40]}, "medium_h": {"range": [8, 24]}, "medium_c": {"range": [8, 72]},
    "line_w": {"range": [2, 256]},
    "deep_c": {"ranges": [[1, 8], [9, 64], [65, 512]], "weights": [1, 2, 1]},
    "wide_c": {"range": [1, 8]},
    "kernels": {"ranges": [[1, 8], [9, 33], [34, 96]], "weights": [3, 3, 1]},
    # convolution geometry (field limits: kernel 32, stride 8, dilation 32, pads 31)
    "kernel": {"ranges": [[1, 1], [2, 3], [4, 7], [8, 31], [32, 32]], "weights": [6, 8, 4, 2, 1]},
    "stride": {"ranges": [[1, 1], [2, 3], [4, 7], [8, 8]], "weights": [8, 6, 2, 1]},
    "dilation": {"ranges": [[1, 1], [2, 4], [5, 31], [32, 32]], "weights": [10, 4, 2, 1]},
    # "none" or a wide_8192 input line with the kernel / dilation forced to the register limit
    "geometry_corner": {"choices": ["none", "line", "max_kernel", "max_dilation", "max_both"],
                        "weights": [24, 4, 1, 1, 1]},
    # kernel and dilation of the "line" corner
    "corner_kernel": {"ranges": [[8, 31], [32, 32]], "weights": [2, 1]},
    "corner_dilation": {"ranges": [[5, 31], [32, 32]], "weights": [1, 1]},
    "pad": {"ranges": [[0, 0], [1, 2], [3, 31]], "weights": [4, 3, 1]},
    "pad_value": {"choices": [0, -128, 127, -1, "random"], "weights": [3, 1, 1, 1, 2]},
    "cdma_cvt": {"choices": [True, False], "weights": [1, 1]},
    "cdma_cvt_offset": _I16_EXTREMES, "cdma_cvt_scale": _I16_EXTREMES,
    "cdma_cvt_truncate": {"ranges": [[0, 0], [1, 16], [17, 63]], "weights": [1, 4, 1]},
    "clip_truncate": {"range": [0, 16]},
    "data_banks_extra": {"choices": [0, 1, 4], "weights": [4, 1, 1]},  # banks beyond the minimum
    # weight banks for all the weights, or for one kernel group (the rest streams through them)
    "weight_banks": {"choices": ["all", "one_group"], "weights": [1, 1]},
    # CDMA BYTE_PER_KERNEL: R*S*C, as every compiler writes it, or "paced": any other value
    # NVDLA's CDMA runs (docs/nvdla-rules.md §7): with one kernel group anything in the 18-bit
    # field, with more R*S*C+1 up to hw.cdma_weights.pacing, that limit itself half
    # the time. Drawn from a stream of its own, so the rest of every program stays as it was.
    "byte_per_kernel": {"choices": ["rsc", "paced"], "weights": [3, 1]},
    # The two corners of the old generator's programs that hung NVDLA's RTL (generator
    # _old_hang_corner): an output row or column with every kernel tap in the padding, one output
    # channel with a kernel larger than 1x1. Both run on NVDLA's RTL, alone and after a conv layer,
    # since the conv-after-conv rules (docs/nvdla-rules.md §5, replayed 2026-12-06): "allow" draws
    # them, "avoid" redraws the geometry (smoke, whose programs stay as they were). One choice
    # unweighted draws nothing from the stream.
    "old_hang_corners": {"choices": ["allow"]},
    "cycle_budget": {"choices": [400_000]},  # ideal MAC cycles of one conv layer: bounds simulation time
    # SDP: each X stage (X1 = BS, X2 = BN)
    "x_bypass": {"choices": [True, False], "weights": [1, 3]},
    "alu": {"choices": ["bypass", "SUM", "MAX", "MIN"], "weights": [2, 3, 1, 1]},
    "mul": {"choices": ["bypass", "MUL", "PRELU"], "weights": [2, 4, 1]},
    "relu": {"choices": [True, False], "weights": [1, 2]},
    "operand_src": {"choices": ["REG", "MEM"], "weights": [1, 1]},
    "operand_mode": {"choices": ["per_kernel", "per_element"], "weights": [1, 1]},
    "operand_bytes": {"choices": [1, 2], "weights": [1, 1]},
    "operand_value": _I16_EXTREMES,
    "alu_shift": {"ranges": [[0, 0], [1, 15], [16, 63]], "weights": [2, 3, 1]},
    "mul_shift": {"ranges": [[0, 0], [1, 20], [21, 63]], "weights": [2, 5, 1]},
    # SDP output converter
    "out_cvt_offset": {"choices": [0, -(2**31), 2**31 - 1, "small", "random"], "weights": [3, 1, 1, 3, 1]},
    "out_cvt_scale": _I16_EXTREMES,
    "out_cvt_shift": {"ranges": [[0, 0], [1, 24], [25, 63]], "weights": [1, 5, 1]},
    # data in memory: biased towards the saturation corners
    "feature_data": _I8_DATA, "weight_data": _I8_DATA, "sdp_input_data": _I8_DATA,
    "stride_gap": {"choices": [0, 8, 64], "weights": [2, 1, 1]},  # bytes past the packed line/surface
    # where each memory region (input, weights, operands, output) starts: anywhere in the 32-bit
    # space the memory models hold, so every address bit moves (rounded down to an 8-byte atom)
    "region_base": {"range": [0, 2**32 - 1]},
    # "fixed": each layer at 0x8000_0000 + 128 MiB * layer, regions at fixed offsets (the layout
    # of vectors/nvdla-rules, generated before region_base existed)
    "address_layout": {"choices": ["random", "fixed"], "weights": [1, 0]},
    # "stretch": one more layer at the end of the program, drawn from a stream of its own with the
    # knobs of STRETCH[kind] in place of the tier's: sizes near the register and CBUF limits, which
    # move the high bits of the RTL's counters, strides and addresses. Only with address_layout
    # "random" (the "fixed" layout is vectors/nvdla-rules', kept as NVDLA's RTL ran them); the
    # smoke tier never stretches.
    "stretch": {"choices": ["none", "tall", "wide", "deep", "many_kernels", "big_kernel", "far_strides"],
                "weights": [12, 3, 2, 2, 2, 2, 2]},
    # tall: a narrow input of up to 4096 rows for a conv layer (RLS_SLICES, 12 bits, releases them
    # all), up to 8192 (the 13-bit field) for a stand-alone SDP layer
    "tall_w": {"range": [1, 3]}, "tall_h": {"range": [257, 4096]}, "tall_sdp_h": {"range": [4097, 8192]},
    "tall_c": {"range": [1, 8]},
    "wide_w": {"range": [257, 8191]},  # wide: a line between 257 and 8191 wide
    "stretch_deep_c": {"range": [513, 8192]},  # deep: a 1x1 input of more than 512 channels
    # many_kernels: more than 128 kernels (16 kernel groups) on a 1x1 input; 128+ channels for
    # more than 2^17 weight entries
    "many_kernels": {"range": [129, 8192]},
    "many_kernels_c": {"ranges": [[1, 8], [128, 160]], "weights": [1, 1]},
    # big_kernel: a 1x1 input padded out to a 16..32 square kernel: a kernel group of up to 31
    # weight banks (BYTE_PER_KERNEL up to 2^16)
    "big_kernel": {"range": [16, 32]}, "big_kernel_c": {"range": [8, 64]}, "big_kernel_k": {"range": [2, 8]},
    # far_strides: one line of at most 8 channels, so its line and surface strides can be anything
    # up to the 32-bit registers without the cube spanning more than one line of memory
    "far_w": {"range": [1, 16]}, "far_c": {"range": [1, 8]},
    "far_gap": {"range": [2**19, 2**31 - 2**16]},
}

# The knobs a stretched layer draws with: a knob name takes that knob's spec (so a constraints
# file that overrides "tall_h" steers the tall layers), a dict is the spec itself.
STRETCH: dict[str, dict[str, str | dict]] = {
    "tall": {"shape": {"choices": ["tall"]}, "kernel": {"ranges": [[1, 1], [2, 3]], "weights": [1, 1]},
             "geometry_corner": {"choices": ["none"]}},
    "wide": {"shape": {"choices": ["single_line"]}, "line_w": "wide_w", "geometry_corner": {"choices": ["none"]}},
    "deep": {"shape": {"choices": ["1x1xC"]}, "deep_c": "stretch_deep_c", "geometry_corner": {"choices": ["none"]}},
    "many_kernels": {"shape": {"choices": ["1x1xC"]}, "kernels": "many_kernels", "deep_c": "many_kernels_c",
                     "kernel": {"choices": [1]}, "geometry_corner": {"choices": ["none"]}},
    "big_kernel": {"shape": {"choices": ["1x1xC"]}, "deep_c": "big_kernel_c", "kernel": "big_kernel",
                   "kernels": "big_kernel_k", "dilation": {"choices": [1]}, "stride": {"choices": [1]},
                   "pad": {"choices": [0]}, "geometry_corner": {"choices": ["none"]},
                   "weight_banks": {"choices": ["one_group"]}},
    "far_strides": {"shape": {"choices": ["far"]}, "stride_gap": "far_gap", "geometry_corner": {"choices": ["none"]}},
}

# Smoke: the same space, shrunk so a handful of seeds simulate in about a minute on 2 cores.
SMOKE: dict[str, dict] = {
    **NIGHTLY,
    "layers": {"choices": [1, 2], "weights": [1, 1]},
    "shape": {"choices": ["small", "1x1xC", "single_line"], "weights": [4, 1, 1]},
    "small_w": {"range": [1, 6]}, "small_h": {"range": [1, 6]}, "small_c": {"range": [1, 20]},
    "line_w": {"range": [2, 24]}, "deep_c": {"range": [1, 40]},
    "kernels": {"range": [1, 20]},
    "cycle_budget": {"choices": [3_000]},
    "kernel": {"ranges": [[1, 1], [2, 3]], "weights": [1, 2]},
    "stride": {"range": [1, 2]}, "dilation": {"range": [1, 2]},
    "pad": {"ranges": [[0, 0], [1, 2]], "weights": [1, 1]},
    "stretch": {"choices": ["none"]},
    "byte_per_kernel": {"choices": ["rsc"]},
    "old_hang_corners": {"choices": ["avoid"]},
}

TIERS = {"smoke": SMOKE, "nightly": NIGHTLY}


@dataclass
class Constraints:
    tier: str
    knobs: dict[str, dict] = field(default_factory=dict)
    source: str = ""  # the override file, if any

    @classmethod
    def load(cls, tier: str = "nightly", path: str | Path | None = None) -> "Constraints":
        """The tier's knobs, with the knobs of an override file (JSON or YAML) replacing them."""
        override: dict = {}
        if path:
            override = _read_file(Path(path))
            tier = override.get("tier", tier)
        if tier not in TIERS:
            raise InputError(f"unknown tier {tier!r}: use one of {', '.join(TIERS)}", where=str(path or "TIER"))
        knobs = copy.deepcopy(TIERS[tier])
        for name, spec in (override.get("knobs") or {}).items():
            if name not in knobs:
                raise InputError(f"unknown knob {name!r} (known: {', '.join(sorted(knobs))})", where=str(path))
            _validate(name, spec, str(path))
            knobs[name] = spec
        return cls(tier, knobs, str(path or ""))

    def draw(self, rng: np.random.Generator, name: str):
        spec = self.knobs[name]
        if "choices" in spec:
            i = _pick(rng, len(spec["choices"]), spec.get("weights"))
            return spec["choices"][i]
        if "range" in spec:
            lo, hi = spec["range"]
            return int(rng.integers(lo, hi + 1))
        i = _pick(rng, len(spec["ranges"]), spec.get("weights"))
        lo, hi = spec["ranges"][i]
        return int(rng.integers(lo, hi + 1))

    def stretched(self, kind: str) -> "Constraints":
        """The knobs a layer of stretch `kind` draws with (STRETCH)."""
        knobs = dict(self.knobs)
        for name, spec in STRETCH[kind].items():
            knobs[name] = self.knobs[spec] if isinstance(spec, str) else spec
        return Constraints(self.tier, knobs, self.source)

    def fingerprint(self) -> str:
        """Canonical text of the knobs: two runs with equal fingerprints draw the same programs."""
        return json.dumps({"tier": self.tier, "knobs": self.knobs}, sort_keys=True)


def _pick(rng: np.random.Generator, n: int, weights) -> int:
    if not weights:
        return int(rng.integers(0, n))
    w = np.asarray(weights, dtype=np.float64)
    return int(rng.choice(n, p=w / w.sum()))


def _validate(name: str, spec, where: str) -> None:
    ok = isinstance(spec, dict) and sum(k in spec for k in ("choices", "range", "ranges")) == 1
    if ok and "choices" in spec:
        ok = isinstance(spec["choices"], list) and len(spec["choices"]) > 0
    if ok and "range" in spec:
        r = spec["range"]
        ok = isinstance(r, list) and len(r) == 2 and all(isinstance(v, int) for v in r) and r[0] <= r[1]
    if ok and "ranges" in spec:
        ok = isinstance(spec["ranges"], list) and len(spec["ranges"]) > 0 and all(
            isinstance(r, list) and len(r) == 2 and r[0] <= r[1] for r in spec["ranges"])
    if ok and spec.get("weights") is not None:
        n = len(spec.get("choices") or spec.get("ranges") or [])
        w = spec["weights"]
        ok = (isinstance(w, list) and len(w) == n and sum(w) > 0
              and all(isinstance(v, (int, float)) and v >= 0 for v in w))
    if not ok:
        raise InputError(f"knob {name!r}: {spec!r} is not {{choices[, weights]}}, {{range: [lo, hi]}} "
                         f"or {{ranges[, weights]}}", where=where)


def _read_file(p: Path) -> dict:
    if not p.is_file():
        raise InputError("no such constraints file", where=str(p))
    text = p.read_text()
    try:
        if p.suffix in (".yml", ".yaml"):
            import yaml
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as e:  # noqa: BLE001 - any parse error becomes one line naming the file
        raise InputError(f"cannot parse constraints: {str(e).splitlines()[0]}", where=str(p)) from None
    if not isinstance(data, dict):
        raise InputError("constraints must be a mapping with 'knobs' (and optionally 'tier')", where=str(p))
    return data
