"""The `natural` data source: scikit-image's photos as 224x224 ImageNet-preprocessed inputs."""
from __future__ import annotations

import numpy as np
import pytest

from nvdla_int8.calib.datasets import DataSource, batches, count_batches
from nvdla_int8.calib.fp32_runner import InputSpec
from nvdla_int8.calib.natural_images import imagenet_preprocess, natural_images
from nvdla_int8.errors import InputError

SPEC = (InputSpec("data", (1, 3, 224, 224), np.dtype(np.float32)),)


def test_two_disjoint_splits_of_distinct_rgb_images():
    test, calib = natural_images("test"), natural_images("calib")
    assert test.shape == calib.shape == (56, 224, 224, 3) and test.dtype == np.uint8
    flat = np.concatenate([test, calib]).reshape(112, -1)
    assert len(np.unique(flat, axis=0)) == 112
    # colour photographs: the channels differ, and every image has contrast
    assert all(np.abs(img[..., 0].astype(int) - img[..., 2]).mean() > 3 for img in test[:48])
    assert (flat.std(axis=1) > 10).all()


def test_mirrored_view_is_the_mirror_of_the_full_view():
    # view 0 (test) is the whole centre square, view 1 (calib) the same square mirrored
    for photo in range(7):
        full, mirrored = natural_images("test")[8 * photo], natural_images("calib")[8 * photo]
        assert np.abs(full[:, ::-1].astype(int) - mirrored).max() <= 1


def test_imagenet_preprocess_per_channel():
    img = np.zeros((1, 2, 3, 3), np.uint8)
    img[..., 0] = 255
    x = imagenet_preprocess(img)
    assert x.shape == (1, 3, 2, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 0, 0], [(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225], rtol=1e-6)


def test_data_source_feeds_nchw_batches():
    src = DataSource("natural")
    got = list(batches(src, SPEC, batch_size=8))
    assert len(got) == count_batches(src, SPEC, 8, None) == 56
    assert got[0]["data"].shape == (1, 3, 224, 224) and got[0]["data"].dtype == np.float32
    np.testing.assert_array_equal(got[3]["data"][0], imagenet_preprocess(natural_images("test")[3:4])[0])
    calib = next(DataSource("natural-calib").samples(SPEC))["data"]
    np.testing.assert_array_equal(calib, imagenet_preprocess(natural_images("calib")))


@pytest.mark.parametrize("src,spec,match", [
    (DataSource("natural", divisor=255.0), SPEC, "--divisor"),
    (DataSource("natural"), (InputSpec("x", (1, 1, 28, 28), np.dtype(np.float32)),), "values per sample"),
])
def test_bad_use_is_one_input_error(src, spec, match):
    with pytest.raises(InputError, match=match):
        next(src.samples(spec))
