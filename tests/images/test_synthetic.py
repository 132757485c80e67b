"""Tests of the synthetic expression data set (facefeat.images.synthetic)."""


import cv2
import numpy as np
import pytest

from facefeat.images.datasets import FaceDataset
from facefeat.faces.landmarks import (
    INNER_LIPS,
    LEFT_BROW,
    LEFT_EYE,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE,
    eye_centres,
)
from facefeat.images.synthetic import DEFAULT_CLASSES, make_expressions


@pytest.fixture(scope="module")
def default_set(expressions):
    return expressions


def _canonical(shapes):
    """Landmarks in an eye frame: eye centres at (-0.5, 0) and (0.5, 0)."""
    right, left = eye_centres(shapes)
    v = left - right
    d = np.linalg.norm(v, axis=-1)
    a = -np.arctan2(v[..., 1], v[..., 0])
    p = shapes - ((right + left) / 2)[..., None, :]
    cos, sin = np.cos(a)[..., None], np.sin(a)[..., None]
    x = p[..., 0] * cos - p[..., 1] * sin
    y = p[..., 0] * sin + p[..., 1] * cos
    return np.stack([x, y], axis=-1) / d[..., None, None]


def _pairs(ds, cls):
    """Canonical landmarks of ``cls`` and of neutral, matched by subject and repetition."""
    c = _canonical(ds.landmarks)
    a = c[ds.labels == cls]
    b = c[ds.labels == "neutral"]
    assert len(a) == len(b) > 0
    assert (ds.groups[ds.labels == cls] == ds.groups[ds.labels == "neutral"]).all()
    return a, b


def test_default_set_layout(default_set):
    ds = default_set
    assert isinstance(ds, FaceDataset)
    assert len(ds) == 6 * 7 * 3
    assert ds.name == "synthetic" and ds.layout == "synthetic"
    assert ds.paths is None
    assert ds.classes == sorted(DEFAULT_CLASSES)
    for img in ds.images:
        assert img.dtype == np.uint8 and img.shape == (128, 128)
    assert ds.landmarks.shape == (len(ds), 68, 2)
    # by subject, then class, then repetition
    expected_groups = np.repeat([f"synth{s:02d}" for s in range(1, 7)], 21)
    assert (ds.groups == expected_groups).all()
    expected_labels = np.tile(np.repeat(DEFAULT_CLASSES, 3), 6)
    assert (ds.labels == expected_labels).all()
    # images are not flat or saturated
    stds = [img.std() for img in ds.images]
    assert min(stds) > 20


def test_landmarks_inside_images(default_set):
    ds = default_set
    assert np.isfinite(ds.landmarks).all()
    assert ds.landmarks.min() >= 0
    assert ds.landmarks.max() <= 127
    big = make_expressions(n_subjects=2, n_per_class=2, size=200, random_state=5)
    assert big.landmarks.min() >= 0 and big.landmarks.max() <= 199


def test_deterministic_and_seed_dependent():
    a = make_expressions(n_subjects=2, n_per_class=1, random_state=3)
    b = make_expressions(n_subjects=2, n_per_class=1, random_state=3)
    c = make_expressions(n_subjects=2, n_per_class=1, random_state=4)
    assert all(np.array_equal(x, y) for x, y in zip(a.images, b.images))
    assert np.array_equal(a.landmarks, b.landmarks)
    assert not any(np.array_equal(x, y) for x, y in zip(a.images, c.images))
    assert not np.allclose(a.landmarks, c.landmarks)
    # a Generator works too and is reproducible
    g1 = make_expressions(n_subjects=1, n_per_class=1, random_state=np.random.default_rng(7))
    g2 = make_expressions(n_subjects=1, n_per_class=1, random_state=np.random.default_rng(7))
    assert all(np.array_equal(x, y) for x, y in zip(g1.images, g2.images))


def test_images_do_not_depend_on_other_classes(default_set):
    ds = default_set
    sub = make_expressions(classes=["surprise", "anger"], n_subjects=2)
    assert list(sub.labels[:6]) == ["surprise"] * 3 + ["anger"] * 3
    for grp in ("synth01", "synth02"):
        for lab in ("surprise", "anger"):
            mine = np.flatnonzero((sub.labels == lab) & (sub.groups == grp))
            ref = np.flatnonzero((ds.labels == lab) & (ds.groups == grp))
            assert len(mine) == len(ref) == 3
            for m, r in zip(mine, ref):
                assert np.array_equal(sub.images[m], ds.images[r])
                assert np.array_equal(sub.landmarks[m], ds.landmarks[r])


def test_color_and_size():
    ds = make_expressions(n_subjects=1, n_per_class=1, size=96, color=True, classes=["neutral", "contempt"])
    assert len(ds) == 2
    for img in ds.images:
        assert img.shape == (96, 96, 3) and img.dtype == np.uint8
    # not a grey image copied into three channels
    assert np.abs(ds.images[0][..., 0].astype(int) - ds.images[0][..., 2]).mean() > 3
    small = make_expressions(n_subjects=1, n_per_class=1, size=64)
    assert small.images[0].shape == (64, 64)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(classes=["happiness", "joy"]), "known: anger, contempt, disgust"),
        (dict(classes="happiness"), "sequence"),
        (dict(classes=["anger", "anger"]), "repeats"),
        (dict(classes=[]), "non-empty"),
        (dict(n_subjects=0), "n_subjects"),
        (dict(n_per_class=0), "n_per_class"),
        (dict(size=63), "size"),
        (dict(size=100.0), "size"),
        (dict(random_state="seed"), "random_state"),
        (dict(random_state=-1), "non-negative"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_expressions(**kwargs)


def test_happiness_raises_mouth_corners(default_set):
    ds = default_set
    happy, neutral = _pairs(ds, "happiness")

    def corner_height(c):  # > 0 when the corners are above the mouth centre
        centre = c[:, list(OUTER_LIPS), 1].mean(axis=1)
        return centre - c[:, [MOUTH_RIGHT, MOUTH_LEFT], 1].mean(axis=1)

    assert (corner_height(happy) > corner_height(neutral) + 0.05).all()
    sad, neutral = _pairs(ds, "sadness")
    assert (corner_height(sad) < corner_height(neutral) - 0.02).all()


def _brow_eye_gap(c):
    brows = c[:, list(RIGHT_BROW + LEFT_BROW), 1].mean(axis=1)
    eyes = c[:, list(RIGHT_EYE + LEFT_EYE), 1].mean(axis=1)
    return eyes - brows


def _inner_lip_gap(c):
    return c[:, INNER_LIPS[6], 1] - c[:, INNER_LIPS[2], 1]


def test_surprise_raises_brows_and_opens_mouth(default_set):
    ds = default_set
    surprise, neutral = _pairs(ds, "surprise")
    assert (_brow_eye_gap(surprise) > _brow_eye_gap(neutral) + 0.08).all()
    assert (_inner_lip_gap(surprise) > _inner_lip_gap(neutral) + 0.15).all()
    fear, neutral = _pairs(ds, "fear")
    assert (_brow_eye_gap(fear) > _brow_eye_gap(neutral) + 0.04).all()
    happy, neutral = _pairs(ds, "happiness")
    assert (_inner_lip_gap(happy) > _inner_lip_gap(neutral) + 0.04).all()


def test_anger_lowers_and_gathers_brows(default_set):
    ds = default_set
    anger, neutral = _pairs(ds, "anger")
    assert (_brow_eye_gap(anger) < _brow_eye_gap(neutral) - 0.03).all()

    def inner_brow_distance(c):
        return c[:, LEFT_BROW[0], 0] - c[:, RIGHT_BROW[-1], 0]

    assert (inner_brow_distance(anger) < inner_brow_distance(neutral) - 0.05).all()


def _dark_mouth_area(img, shape):
    """Area of the inner-lip polygon darker than 0.45 x the face's median grey, in D**2."""
    mask = np.zeros(img.shape, np.uint8)
    cv2.fillPoly(mask, [np.rint(shape[list(INNER_LIPS)]).astype(np.int32)], 1)
    (x0, y0), (x1, y1) = shape.min(axis=0).astype(int), shape.max(axis=0).astype(int)
    face = np.median(img[y0:y1, x0:x1])
    right, left = eye_centres(shape)
    return ((img < 0.45 * face) & (mask > 0)).sum() / np.sum((left - right) ** 2)


def test_open_mouth_is_dark(default_set):
    ds = default_set
    area = np.array([_dark_mouth_area(img, lm) for img, lm in zip(ds.images, ds.landmarks)])
    # measured: surprise 0.067 - 0.16, every other class <= 0.023
    assert area[ds.labels == "surprise"].min() > 0.04
    assert area[ds.labels != "surprise"].max() < 0.04


def test_dlib_finds_the_faces_and_their_landmarks(default_set):
    dlib = pytest.importorskip("dlib")
    from facefeat.faces.models import packaged_model_path

    try:
        predictor = dlib.shape_predictor(str(packaged_model_path("shape_predictor_68")))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    detector = dlib.get_frontal_face_detector()
    ds = default_set
    errors = []
    for img, truth in zip(ds.images, ds.landmarks):
        faces = detector(img, 1)
        assert len(faces) == 1
        shape = predictor(img, faces[0])
        found = np.array([[p.x, p.y] for p in shape.parts()], dtype=float)
        errors.append(np.linalg.norm(found - truth, axis=1))
    errors = np.array(errors)
    # measured with dlib 20.0.1: mean 0.99 px, worst image mean 2.0 px
    assert errors.mean() < 2.0
    assert errors.mean(axis=1).max() < 3.5


def _align(img, shape, out=96):
    right, left = eye_centres(shape)
    v = left - right
    src = np.float32([right, left, (right + left) / 2 + [-v[1], v[0]]])
    dst = np.float32([[30, 36], [66, 36], [48, 72]])
    return cv2.warpAffine(img, cv2.getAffineTransform(src, dst), (out, out))


def test_classes_are_learnable_across_subjects(default_set):
    pytest.importorskip("sklearn")
    from skimage.feature import hog
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    ds = default_set
    chance = 1 / len(ds.classes)

    def score(X, C):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000))
        # one BLAS thread: small problems, and many threads crawl on a busy machine
        with threadpool_limits(1):
            return cross_val_score(clf, X, ds.labels, groups=ds.groups, cv=LeaveOneGroupOut()).mean()

    geometry = _canonical(ds.landmarks).reshape(len(ds), -1)
    assert score(geometry, 1.0) > 0.8  # measured 1.0

    def hogs(images):
        return np.array([hog(im, orientations=9, pixels_per_cell=(16, 16), cells_per_block=(2, 2)) for im in images])

    aligned = [_align(im, lm) for im, lm in zip(ds.images, ds.landmarks)]
    assert score(hogs(aligned), 0.1) > 0.7  # aligned on the true eyes; measured 0.98
    assert score(hogs(ds.images), 0.1) > 3 * chance  # unaligned; measured 0.73
