"""Natural RGB photographs shipped inside the scikit-image wheel, as 224x224 ImageNet-style inputs.

The photos are the seven colour photographs among skimage.data's files that need no download
(pooch): astronaut, chelsea, coffee, rocket, the two stereo_motorcycle views, hubble_deep_field.
(lily, eagle, kidney, skin... are fetched from the network at first use, so they are not used;
cat is chelsea again; retina, immunohistochemistry, logo, colorwheel are not photographs.)

Each photo gives 16 square crops (several positions and scales, one mirrored), each resized to
224x224 with anti-aliasing (Pillow's bilinear filter): 112 images, fully deterministic. No labels exist; they serve for
calibration and for comparing INT8 with FP32 (SQNR, top-1 agreement). Two disjoint splits:
`test` (crops 0, 2, 4, ... of every photo: 56 images) and `calib` (the odd crops: 56 images).
Both splits come from the same seven photos (different crops): that is all the wheel offers.

`imagenet_preprocess` is the one place the ImageNet normalisation lives: pixels / 255, then
(x - mean) / std per RGB channel with torchvision's constants, float32 NCHW; `caffe_preprocess`
is the Caffe ResNet-50's: BGR pixels minus the per-channel mean (104, 117, 123).
"""
from __future__ import annotations

import functools

import numpy as np

from ..errors import InputError

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right", "hubble_deep_field")
SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_BGR_MEAN = (104.0, 117.0, 123.0)  # the Caffe ResNet-50 deploy model's mean pixel, B, G, R

# (side as a fraction of the photo's short side, vertical position 0..1, horizontal 0..1, mirror)
VIEWS = (
    (1.0, .5, .5, False), (1.0, .5, .5, True),
    (.8, 0, 0, False), (.8, 0, 1, False), (.8, 1, 0, False), (.8, 1, 1, False),
    (.65, .5, .5, False), (.65, .25, .25, False), (.65, .75, .75, False), (.65, .25, .75, False),
    (.65, .75, .25, False),
    (.5, .5, .5, False), (.5, 0, .5, False), (.5, 1, .5, False), (.5, .5, 0, False), (.5, .5, 1, False),
)
SPLITS = {"test": 0, "calib": 1}   # parity of the view index


def _photo(name: str) -> np.ndarray:
    import skimage.data as data

    if name.startswith("motorcycle_"):
        left, right, _ = data.stereo_motorcycle()
        return left if name == "motorcycle_left" else right
    return getattr(data, name)()


def _crop(img: np.ndarray, scale: float, fy: float, fx: float, mirror: bool) -> np.ndarray:
    # Pillow's resampling widens its filter when it shrinks (anti-aliased), in integer arithmetic
    # on uint8: deterministic, and 10x faster than skimage.transform.resize
    from PIL import Image

    h, w = img.shape[:2]
    side = int(round(scale * min(h, w)))
    y0, x0 = int(round(fy * (h - side))), int(round(fx * (w - side)))
    c = img[y0:y0 + side, x0:x0 + side]
    if mirror:
        c = c[:, ::-1]
    return np.asarray(Image.fromarray(np.ascontiguousarray(c)).resize((SIZE, SIZE), Image.Resampling.BILINEAR))


@functools.lru_cache(maxsize=1)
def _all_crops() -> np.ndarray:
    crops = np.stack([_crop(_photo(p), *v) for p in PHOTOS for v in VIEWS])
    crops.setflags(write=False)
    return crops


def natural_images(split: str) -> np.ndarray:
    """uint8 RGB crops (N, 224, 224, 3) of one split, photo-major (views of photo 0 first)."""
    if split not in SPLITS:
        raise InputError(f"unknown natural-images split {split!r} (known: {', '.join(SPLITS)})")
    keep = np.array([i % 2 == SPLITS[split] for i in range(len(VIEWS))] * len(PHOTOS))
    return _all_crops()[keep]


def imagenet_preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) RGB -> float32 (N, 3, H, W): (pixel / 255 - mean) / std per channel."""
    x = images.astype(np.float32) / np.float32(255)
    x = (x - np.asarray(IMAGENET_MEAN, np.float32)) / np.asarray(IMAGENET_STD, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def caffe_preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) RGB -> float32 (N, 3, H, W): BGR pixels minus the Caffe mean pixel."""
    x = images[..., ::-1].astype(np.float32) - np.asarray(CAFFE_BGR_MEAN, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
