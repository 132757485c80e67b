"""Property-based tests: random arrays and random files never crash the library.

Each property states the whole contract: the call either returns a result of
the documented form or raises one of the documented exception types with a
message -- never anything else, and never a crash inside dlib (C++), which
is why the aligner and ``detect_landmarks`` validate before calling it.
``tests/test_io.py`` already feeds random bytes to ``read_image``; here they
go to ``read_images`` in batches, with and without ``on_error="skip"``.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from facefeat.faces.align import FaceAligner, NoFaceWarning, detect_landmarks
from facefeat.features._base import check_images
from facefeat.features.hog import HOGFeatures
from facefeat.features.lbp import LBPHistogram
from facefeat.images.io import ImageReadError, SkippedImagesWarning, read_images
from conftest import png_bytes

_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

DTYPES = st.sampled_from([np.uint8, np.uint16, np.int32, np.int64, np.float32, np.float64, np.bool_, np.complex64])
# (n, h, w) or (n, h, w, c), sides 0..80 (few large ones: enough to reach every branch)
SHAPES = st.tuples(st.integers(0, 3), st.integers(0, 80), st.integers(0, 80),
                   st.sampled_from([None, 1, 2, 3, 4])).map(lambda t: t[:3] if t[3] is None else t)


@st.composite
def batches(draw):
    """Random arrays of random dtype and shape, with NaN/inf among the floats."""
    dtype = draw(DTYPES)
    shape = draw(SHAPES)
    elements = None
    if np.issubdtype(dtype, np.floating):
        elements = st.floats(allow_nan=True, allow_infinity=True, width=32 if dtype == np.float32 else 64)
    arr = draw(hnp.arrays(dtype, shape, elements=elements, fill=st.nothing() if elements is None else elements))
    return arr if draw(st.booleans()) else list(arr)  # arrays and lists of images take different paths


def _real(img):
    return np.issubdtype(img.dtype, np.integer) or np.issubdtype(img.dtype, np.floating)


def _valid_image(img):
    ok_shape = img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (1, 3))
    valid = ok_shape and min(img.shape[:2]) >= 1 and img.dtype != np.bool_ and _real(img) and np.isfinite(img).all()
    scale = 257.0 if img.dtype == np.uint16 else 1.0  # uint16 is rescaled to 0..255
    return valid and 0 <= img.min() / scale and img.max() / scale <= 255


@_settings
@given(X=batches())
def test_check_images_accepts_exactly_the_documented_inputs(X):
    items = list(X)
    try:
        out = check_images(X)
    except (ValueError, TypeError) as exc:
        assert str(exc)
        assert not items or not all(_valid_image(np.asarray(im)) for im in items)
        return
    assert items and all(_valid_image(np.asarray(im)) for im in items)
    assert len(out) == len(items)
    assert all(im.dtype == np.float64 and im.ndim == 2 and np.isfinite(im).all() for im in out)


@_settings
@given(X=batches())
def test_extractors_return_finite_features_or_refuse(X):
    for est in (LBPHistogram(grid=(2, 2)), HOGFeatures(pixels_per_cell=(4, 4), cells_per_block=(1, 1))):
        try:
            out = est.fit_transform(X)
        except (ValueError, TypeError) as exc:
            assert str(exc)
            continue
        assert out.shape == (len(X), est.n_features_out_) and np.isfinite(out).all()


@st.composite
def aligner_inputs(draw):
    """Mostly uint8 images (what reaches dlib), some of other dtypes and shapes."""
    if draw(st.integers(0, 3)) == 0:
        return draw(batches())
    n = draw(st.integers(1, 2))
    shape = draw(st.tuples(st.integers(0, 80), st.integers(0, 80)).flatmap(
        lambda hw: st.sampled_from([hw, hw + (1,), hw + (3,), hw + (4,)])))
    return [draw(hnp.arrays(np.uint8, shape)) for _ in range(n)]


@settings(max_examples=30, deadline=None)
@given(X=aligner_inputs())
def test_aligner_never_crashes(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoFaceWarning)
        try:
            batch = FaceAligner(size=16).fit_transform(X)
        except (ValueError, TypeError) as exc:
            assert str(exc)
            return
    assert batch.images.shape == (len(X), 16, 16) and batch.images.dtype == np.uint8
    assert np.isfinite(batch.landmarks).all()


@settings(max_examples=30, deadline=None)
@given(gray=hnp.arrays(st.sampled_from([np.uint8, np.float64, np.bool_]),
                       st.tuples(st.integers(0, 40), st.integers(0, 40)) | st.tuples(
                           st.integers(1, 20), st.integers(1, 20), st.integers(1, 4))))
def test_detect_landmarks_validates_before_dlib(gray):
    try:
        pts, status = detect_landmarks(gray)
    except (ValueError, TypeError) as exc:
        assert gray.dtype != np.uint8 or gray.ndim != 2 or gray.size == 0, exc
        return
    assert pts.shape == (68, 2) and status in (0, 1)


# header-shaped starts make the decoders go further than plain noise
PREFIXES = st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"II*\x00", b"BM", b"P5\n",
                            png_bytes(3, 2, b"\x00\x01\x02\x03\x00\x04\x05\x06")[:40]])
FILES = st.lists(st.tuples(PREFIXES, st.binary(max_size=512)), min_size=1, max_size=5)


@pytest.mark.filterwarnings("ignore::UserWarning:PIL")
@_settings
@given(contents=FILES, ext=st.sampled_from([".png", ".jpg", ".gif", ".tif", ".bin"]))
def test_read_images_reads_or_names_every_random_file(tmp_path, contents, ext):
    paths = []
    for i, (prefix, body) in enumerate(contents):
        paths.append(tmp_path / f"f{i}{ext}")
        paths[-1].write_bytes(prefix + body)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkippedImagesWarning)
        res = read_images(paths, on_error="skip", max_pixels=100_000)
    assert sorted(res.indices + [paths.index(type(paths[0])(p)) for p, _ in res.skipped]) == list(range(len(paths)))
    assert all(im.dtype == np.uint8 and im.ndim == 2 and im.size > 0 for im in res.images)
    skips = [w for w in caught if issubclass(w.category, SkippedImagesWarning)]
    assert len(skips) == (1 if res.skipped else 0)
    for p, reason in res.skipped:
        assert reason and f"'{p}' ({reason})" in str(skips[0].message)
    try:
        strict = read_images(paths, max_pixels=100_000)
    except ImageReadError as exc:  # the first unreadable file, by name
        assert res.skipped and exc.path == res.skipped[0][0]
        return
    assert not res.skipped and len(strict.images) == len(paths)
