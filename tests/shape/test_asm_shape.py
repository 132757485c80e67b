"""ASMShape: shape parameters as scikit-learn features."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from facefeat.faces.batch import FaceBatch
from facefeat.shape.features import ASMShape
from facefeat.shape.pdm import PointDistributionModel, Pose


@pytest.fixture(scope="module")
def synth():
    from facefeat.images.synthetic import make_expressions

    return make_expressions(n_subjects=3, n_per_class=2)


def test_width_equals_feature_names(synth):
    for params in ({}, {"residual": True}, {"n_components": 3, "residual": True}, {"model": "default"}):
        est = ASMShape(**params)
        out = est.fit_transform(synth.landmarks)
        names = est.get_feature_names_out()
        assert out.shape == (len(synth.landmarks), len(names)) == (len(synth.landmarks), est.n_features_out_)
        assert list(names[:2]) == ["asm_b0", "asm_b1"]
        assert (names[-1] == "asm_residual") == bool(params.get("residual"))


def test_facebatch_input_uses_its_landmarks(synth):
    L = synth.landmarks
    batch = FaceBatch(np.zeros((len(L), 8, 8), np.uint8), L, np.ones(len(L), bool))
    est = ASMShape(n_components=4).fit(batch)
    np.testing.assert_array_equal(est.transform(batch), est.transform(L))


def test_pose_is_removed(synth):
    L = synth.landmarks
    est = ASMShape(n_components=5, residual=True).fit(L)
    rng = np.random.default_rng(0)
    moved = np.stack([Pose(rng.uniform(0.5, 2), rng.uniform(-1, 1), *rng.uniform(-30, 30, 2)).apply(s) for s in L])
    np.testing.assert_allclose(est.transform(moved), est.transform(L), atol=1e-8)


def test_whiten_and_clamp(synth):
    L = synth.landmarks
    raw = ASMShape(n_components=4).fit(L)
    white = ASMShape(n_components=4, whiten=True).fit(L)
    np.testing.assert_allclose(white.transform(L), raw.transform(L) / np.sqrt(raw.pdm_.eigenvalues_))
    np.testing.assert_allclose(white.transform(L).var(axis=0), 1.0, rtol=0.05)
    clamped = ASMShape(n_components=4, whiten=True, b_limit=0.5).fit(L)
    assert np.abs(clamped.transform(L)).max() <= 0.5 + 1e-9


def test_given_and_default_models(synth):
    pdm = PointDistributionModel(n_components=6).fit(synth.landmarks)
    est = ASMShape(model=pdm, n_components=3).fit(synth.landmarks)
    assert est.n_components_ == 3
    np.testing.assert_array_equal(est.pdm_.components_, pdm.components_[:3])
    default = ASMShape(model="default", n_components=5).fit(synth.landmarks[:1])  # one face suffices
    assert default.transform(synth.landmarks).shape == (len(synth.landmarks), 5)


def test_pickle_clone_and_params(synth):
    est = ASMShape(n_components=4, residual=True).fit(synth.landmarks)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(synth.landmarks), est.transform(synth.landmarks))
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "pdm_")
    assert type(est)(**est.get_params()).get_params() == est.get_params()


@pytest.mark.parametrize("param, value", [("model", "nope"), ("n_components", 0), ("n_components", 1.5),
                                          ("b_limit", -1.0), ("whiten", "yes"), ("residual", 2)])
def test_invalid_parameters_are_refused(synth, param, value):
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        ASMShape(**{param: value}).fit(synth.landmarks)


def test_bad_inputs(synth):
    est = ASMShape().fit(synth.landmarks)
    with pytest.raises(ValueError, match="n_points, 2"):
        est.transform(synth.landmarks.reshape(len(synth.landmarks), -1))
    with pytest.raises(ValueError, match="68 landmarks"):
        est.transform(synth.landmarks[:, :10])
    with pytest.raises(ValueError, match="NaN"):
        est.transform(np.full((1, 68, 2), np.nan))
    with pytest.raises(ValueError, match="at least 2"):
        ASMShape().fit(synth.landmarks[:1])


def test_in_a_classifier_pipeline(synth):
    pipe = make_pipeline(ASMShape(whiten=True), LogisticRegression(max_iter=1000))
    pipe.fit(synth.landmarks, synth.labels)
    assert pipe.score(synth.landmarks, synth.labels) > 0.8  # expressions are shapes
