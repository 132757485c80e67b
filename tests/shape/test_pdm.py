"""Procrustes alignment and the point distribution model, on shapes with known answers."""

import numpy as np
import pytest

from facefeat.shape.pdm import PointDistributionModel, Pose, align_similarity, generalized_procrustes


@pytest.fixture(scope="module")
def face_shapes():
    """Synthetic 68-point shapes: exact ground truth of make_expressions, with varied poses."""
    from facefeat.images.synthetic import make_expressions

    return make_expressions(n_subjects=3, n_per_class=2).landmarks


def _random_pose(rng):
    return Pose(rng.uniform(0.5, 3), rng.uniform(-np.pi, np.pi), *rng.uniform(-50, 50, 2))


def test_pose_inverse_and_compose():
    p, q = Pose(2.0, 0.3, 5.0, -1.0), Pose(0.5, -1.1, 3.0, 2.0)
    pts = np.array([[1.0, 2.0], [-3.0, 0.5]])
    np.testing.assert_allclose(p.inverse().apply(p.apply(pts)), pts, atol=1e-12)
    np.testing.assert_allclose(p.compose(q).apply(pts), p.apply(q.apply(pts)), atol=1e-12)


def test_align_similarity_recovers_a_known_pose(face_shapes):
    rng = np.random.default_rng(1)
    src = face_shapes[0]
    true = _random_pose(rng)
    est = align_similarity(src, true.apply(src))
    np.testing.assert_allclose(est.as_array(), true.as_array(), atol=1e-9)


def test_gpa_of_similar_copies_recovers_the_shape_and_leaves_input_alone(face_shapes):
    rng = np.random.default_rng(0)
    base = face_shapes[0]
    copies = np.stack([_random_pose(rng).apply(base) for _ in range(8)])
    before = copies.copy()
    aligned, mean = generalized_procrustes(copies)
    np.testing.assert_array_equal(copies, before)  # input not mutated
    # every copy lands on the same shape, which is the base shape up to a similarity
    np.testing.assert_allclose(aligned, np.broadcast_to(aligned[0], aligned.shape), atol=1e-10)
    np.testing.assert_allclose(aligned[0], mean, atol=1e-10)
    fit = align_similarity(base, mean)
    np.testing.assert_allclose(fit.apply(base), mean, atol=1e-10)
    assert np.linalg.norm(mean) == pytest.approx(1.0)
    np.testing.assert_allclose(mean.mean(axis=0), 0, atol=1e-12)


def test_gpa_mean_keeps_the_average_orientation(face_shapes):
    # upright faces in, upright mean out: eye line nearly horizontal
    _, mean = generalized_procrustes(face_shapes)
    d = mean[45] - mean[36]
    assert abs(np.degrees(np.arctan2(d[1], d[0]))) < 5


def test_pdm_reconstructs_training_shapes_at_full_variance(face_shapes):
    pdm = PointDistributionModel(n_components=1.0, b_limit=None).fit(face_shapes)
    for shape in face_shapes[:10]:
        pose, b = pdm.project(shape)
        np.testing.assert_allclose(pdm.reconstruct(b, pose), shape, atol=1e-3)  # pixels
        assert pdm.residual(shape, pose, b) < 1e-6


def test_pdm_is_pose_invariant(face_shapes):
    pdm = PointDistributionModel(n_components=5).fit(face_shapes)
    rng = np.random.default_rng(2)
    shape = face_shapes[3]
    pose, b = pdm.project(shape)
    moved = _random_pose(rng).apply(shape)
    _, b2 = pdm.project(moved)
    np.testing.assert_allclose(b2, b, atol=1e-8)


def test_n_components_as_count_and_variance_fraction(face_shapes):
    assert PointDistributionModel(n_components=4).fit(face_shapes).n_components_ == 4
    pdm = PointDistributionModel(n_components=0.9).fit(face_shapes)
    cum = np.cumsum(pdm.explained_variance_ratio_)
    assert cum[-1] >= 0.9 and (pdm.n_components_ == 1 or cum[-2] < 0.9)
    assert np.all(np.diff(pdm.eigenvalues_) <= 0)
    np.testing.assert_allclose(pdm.components_ @ pdm.components_.T, np.eye(pdm.n_components_), atol=1e-10)


def test_b_is_clamped_to_three_sd_and_configurable(face_shapes):
    pdm = PointDistributionModel(n_components=3).fit(face_shapes)
    limit = 3 * np.sqrt(pdm.eigenvalues_)
    np.testing.assert_allclose(pdm.clamp(10 * limit), limit)
    np.testing.assert_allclose(pdm.clamp(-10 * limit), -limit)
    # an exaggerated shape projects to b on the limit
    wild = pdm.reconstruct(np.r_[8 * np.sqrt(pdm.eigenvalues_[0]), 0, 0], Pose(100, 0.2, 50, 60))
    _, b = pdm.project(wild)
    assert b[0] == pytest.approx(limit[0])
    _, b_free = pdm.project(wild, clamp=False)
    assert b_free[0] == pytest.approx(8 * np.sqrt(pdm.eigenvalues_[0]), rel=1e-6)
    loose = PointDistributionModel(n_components=3, b_limit=2.0).fit(face_shapes)
    np.testing.assert_allclose(loose.clamp([1e9, 0, 0])[0], 2 * np.sqrt(loose.eigenvalues_[0]))
    unbounded = PointDistributionModel(n_components=3, b_limit=None).fit(face_shapes)
    assert unbounded.clamp([1e9, 0, 0])[0] == 1e9


def test_project_many_matches_project(face_shapes):
    pdm = PointDistributionModel(n_components=6).fit(face_shapes)
    poses, B, res = pdm.project_many(face_shapes[:5])
    for i in range(5):
        pose, b = pdm.project(face_shapes[i])
        np.testing.assert_allclose(poses[i], pose.as_array(), atol=1e-9)
        np.testing.assert_allclose(B[i], b, atol=1e-9)
        assert res[i] == pytest.approx(pdm.residual(face_shapes[i], pose, b), abs=1e-9)


def test_arrays_round_trip(face_shapes):
    pdm = PointDistributionModel(n_components=0.95, b_limit=2.5).fit(face_shapes)
    twin = PointDistributionModel.from_arrays(pdm.to_arrays())
    assert (twin.n_components, twin.b_limit, twin.n_components_) == (0.95, 2.5, pdm.n_components_)
    np.testing.assert_array_equal(twin.components_, pdm.components_)


@pytest.mark.parametrize("bad", [0, -1, 1.5, 0.0, "all"])
def test_invalid_n_components(face_shapes, bad):
    with pytest.raises(ValueError, match="n_components"):
        PointDistributionModel(n_components=bad).fit(face_shapes)


def test_bad_input_shapes():
    with pytest.raises(ValueError, match="n_shapes"):
        generalized_procrustes(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="one place"):
        generalized_procrustes(np.zeros((2, 5, 2)))
    with pytest.raises(AttributeError, match="not fitted"):
        PointDistributionModel().project(np.zeros((5, 2)))
