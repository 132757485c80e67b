import pickle

import numpy as np
import pytest

from facefeat.faces.batch import FaceBatch
from facefeat.features.geometry import CURATED_ANGLES, CURATED_DISTANCES, LandmarkGeometry, procrustes_align
from facefeat.faces.landmarks import eye_centres


@pytest.fixture(scope="module")
def face(expressions):
    """One real-looking 68-point face, with a right angle drawn at the upper lip."""
    shape = expressions.landmarks[0].copy()
    left, right = shape[48], shape[54]
    mid, half = (left + right) / 2, (right - left) / 2
    shape[51] = mid + np.array([half[1], -half[0]])  # 51 sits above the mouth: angle 48-51-54 is 90 degrees
    return shape


def _similar(shape, angle, scale, shift):
    c, s = np.cos(angle), np.sin(angle)
    return scale * shape @ np.array([[c, s], [-s, c]]) + shift


def test_known_distances_and_angles(face):
    geom = LandmarkGeometry().fit(face[None])
    X = geom.transform(face[None])[0]
    names = list(geom.get_feature_names_out())
    right, left = eye_centres(face)
    iod = np.linalg.norm(left - right)
    for i, j in CURATED_DISTANCES:
        assert X[names.index(f"geom_d{i}_{j}")] == pytest.approx(np.linalg.norm(face[i] - face[j]) / iod)
    assert X[names.index("geom_a48_51_54")] == pytest.approx(90.0)
    assert len(names) == len(CURATED_DISTANCES) + len(CURATED_ANGLES) == X.shape[0]


def test_pose_and_size_do_not_change_the_features(face, expressions):
    geom = LandmarkGeometry().fit(expressions.landmarks)
    moved = np.stack([_similar(face, a, s, t) for a, s, t in [(0.3, 2.0, (5, -7)), (-1.0, 0.25, (100, 3))]])
    X = geom.transform(np.concatenate([face[None], moved]))
    np.testing.assert_allclose(X[1:], np.broadcast_to(X[0], X[1:].shape), rtol=1e-9, atol=1e-9)


def test_expressions_move_the_right_measurements(expressions):
    geom = LandmarkGeometry().fit(expressions.landmarks)
    X = geom.transform(expressions.landmarks)
    names = list(geom.get_feature_names_out())
    by = {c: X[expressions.labels == c].mean(axis=0) for c in expressions.classes}
    mouth_open = names.index("geom_d62_66")
    assert by["surprise"][mouth_open] > 2 * by["neutral"][mouth_open]
    brow = names.index("geom_d19_37")
    assert by["surprise"][brow] > by["neutral"][brow] > by["anger"][brow]


def test_full_mode_any_points_and_names():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(5, 4, 2))
    geom = LandmarkGeometry(features="full").fit(pts)
    X = geom.transform(pts.reshape(5, 8))  # flat input, x0, y0, x1, y1, ...
    assert X.shape == (5, 12)
    assert list(geom.get_feature_names_out()[[0, 5, 6, 11]]) == ["geom_d0_1", "geom_d2_3", "geom_o0_1", "geom_o2_3"]
    np.testing.assert_allclose(X, geom.transform(pts))


def test_facebatch_input_and_pickling(expressions):
    batch = FaceBatch(np.zeros((len(expressions), 4, 4), np.uint8), expressions.landmarks,
                      np.ones(len(expressions), bool))
    geom = LandmarkGeometry().fit(batch)
    again = pickle.loads(pickle.dumps(geom))
    np.testing.assert_array_equal(geom.transform(batch), again.transform(expressions.landmarks))


def test_bad_input():
    with pytest.raises(ValueError, match="needs the 68 iBUG landmarks"):
        LandmarkGeometry().fit(np.zeros((3, 5, 2)))
    with pytest.raises(ValueError, match=r"shape \(n, n_points, 2\)"):
        LandmarkGeometry().fit(np.zeros((3, 68, 3)))
    with pytest.raises(ValueError, match="at least 2 points"):
        LandmarkGeometry(features="full").fit(np.zeros((3, 3)))


def test_procrustes_removes_similarity_without_reflection(face):
    moved = _similar(face, 2.0, 3.0, (10, 20))
    np.testing.assert_allclose(procrustes_align(moved[None], face)[0], face, atol=1e-9)
    mirrored = face * [-1, 1]
    assert not np.allclose(procrustes_align(mirrored[None], face)[0], face, atol=1e-3)
