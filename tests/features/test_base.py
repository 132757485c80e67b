"""The plumbing every image transformer shares: checking and chunking of batches."""

import tracemalloc

import numpy as np
import pytest

from facefeat.faces.batch import FaceBatch
from facefeat.features.gabor import GaborFeatures
from facefeat.features.hog import HOGFeatures
from facefeat.features.lbp import LBPHistogram

# small settings, so that the output is small next to the images and the test is quick
EXTRACTORS = {
    "lbp": lambda: LBPHistogram(method="uniform", grid=(2, 2)),
    "hog": lambda: HOGFeatures(pixels_per_cell=(16, 16), cells_per_block=(2, 2)),
    "gabor": lambda: GaborFeatures(n_scales=1, n_orientations=2, grid=(2, 2)),
}


def _faces(n, size=48, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size), dtype=np.uint8)


def _extra_peak(est, X):
    """Peak bytes that ``est.fit_transform(X)`` allocates beyond its output."""
    tracemalloc.start()
    try:
        out = est.fit_transform(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - out.nbytes


@pytest.mark.parametrize("name", list(EXTRACTORS))
def test_working_memory_does_not_grow_with_the_batch(name):
    # Issue 15: the whole batch was converted to float64 at once (a list of
    # copies, then a stacked one: 16 bytes a pixel, 37 kB a 48 px face), 4.6 GB
    # for FER2013's 28,709 faces. In chunks, 1,500 more faces (3.5 MB of
    # uint8) add under 1 MiB beyond their features, where they added 55 MB.
    est = EXTRACTORS[name]()
    small = _extra_peak(est, FaceBatch(_faces(1000), np.zeros((1000, 68, 2)), np.ones(1000, bool)))
    large = _extra_peak(est, FaceBatch(_faces(2500), np.zeros((2500, 68, 2)), np.ones(2500, bool)))
    assert large - small < 2**20, f"{(large - small) / 1e6:.1f} MB more for 1,500 more faces"


@pytest.mark.parametrize("name", list(EXTRACTORS))
def test_chunked_features_equal_one_image_at_a_time(name, monkeypatch):
    import facefeat.features._base as base

    faces = _faces(23, size=32, seed=1)
    est = EXTRACTORS[name]()
    whole = est.fit_transform(faces)
    monkeypatch.setattr(base, "_CHUNK_PIXELS", 3 * 32 * 32 + 5)  # chunks of 4, 4, ... and 3 images
    np.testing.assert_array_equal(est.fit_transform(faces), whole)
    np.testing.assert_array_equal(est.transform(list(faces)), whole)
    np.testing.assert_array_equal(np.vstack([est.transform(f[None]) for f in faces]), whole)


def test_errors_name_the_image_of_the_whole_batch(monkeypatch):
    import facefeat.features._base as base

    monkeypatch.setattr(base, "_CHUNK_PIXELS", 2 * 32 * 32)
    faces = _faces(7, size=32).astype(float)
    faces[5, 3, 3] = np.nan
    with pytest.raises(ValueError, match="image 5: contains NaN or infinite values"):
        LBPHistogram().fit_transform(faces)
    with pytest.raises(ValueError, match="image 5: contains NaN"):
        LBPHistogram().fit(faces)


def test_hog_refuses_shapes_mixed_across_chunks(monkeypatch):
    import facefeat.features._base as base

    monkeypatch.setattr(base, "_CHUNK_PIXELS", 2 * 48 * 48)
    faces = list(_faces(3)) + [_faces(1, size=40)[0]]
    with pytest.raises(ValueError, match=r"HOGFeatures needs all images of one shape; got images of shapes "
                                         r"\[\(40, 40\), \(48, 48\)\]"):
        HOGFeatures().transform(faces)
    with pytest.raises(ValueError, match=r"needs all images of the fitted shape \(48, 48\); got images of shapes "
                                         r"\[\(40, 40\), \(48, 48\)\]"):
        HOGFeatures().fit_transform(faces)
