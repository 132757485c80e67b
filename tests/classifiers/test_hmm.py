"""HMM classifiers: known answers on sequences drawn from known HMMs, and the estimator contract."""

import pickle
import warnings

import numpy as np
import pytest
from hmmlearn.hmm import GaussianHMM
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from facefeat.classifiers import HMMClassifier, HMMFitWarning, NaiveHMMClassifier
from facefeat.classifiers._hmm import _emission_covariances, _FlooredGaussianHMM

T, K = 6, 4  # steps per sequence, features per step


def _true_models():
    """Three left-right 3-state HMMs over the same state means, visited in different orders."""
    means = np.array([[0.0, 0, 0, 0], [2.0, 0, 2, 0], [0.0, 2, 0, 2]])
    models = []
    for order in ([0, 1, 2], [1, 2, 0], [2, 0, 1]):
        m = GaussianHMM(3, covariance_type="diag", init_params="", params="")
        m.startprob_ = np.array([1.0, 0, 0])
        m.transmat_ = np.array([[0.6, 0.4, 0], [0, 0.6, 0.4], [0, 0, 1.0]])
        m.means_ = means[order]
        m.covars_ = np.full((3, K), 0.5)
        models.append(m)
    return models


def _sample(n_per_class, seed):
    rng = np.random.RandomState(seed)
    X, y = [], []
    for label, m in zip(["a", "b", "c"], _true_models()):
        for _ in range(n_per_class):
            seq, _ = m.sample(T, random_state=rng)
            X.append(seq.ravel())
            y.append(label)
    return np.array(X), np.array(y)


@pytest.fixture(scope="module")
def data():
    return _sample(40, 0), _sample(30, 1)


@pytest.mark.parametrize("topology", ["left-right", "ergodic"])
def test_recovers_classes_of_known_hmms(data, topology):
    (X, y), (Xt, yt) = data
    clf = HMMClassifier(sequence_length=T, n_components=None, n_states=3, topology=topology, random_state=0)
    # chance is 1/3; the classes share every state and differ only in their order
    assert clf.fit(X, y).score(Xt, yt) > 0.9


def test_bayes_rule_agrees_with_true_models(data):
    (X, y), (Xt, yt) = data
    clf = HMMClassifier(sequence_length=T, n_components=None, n_states=3, random_state=0).fit(X, y)
    truth = np.column_stack([[m.score(x.reshape(T, K)) for x in Xt] for m in _true_models()])
    bayes = np.array(["a", "b", "c"])[truth.argmax(axis=1)]
    assert np.mean(clf.predict(Xt) == bayes) > 0.9


def test_log_likelihood_equals_hmmlearn_score(data):
    (X, y), (Xt, _) = data
    for cov in ("diag", "full", "tied", "spherical"):
        clf = HMMClassifier(sequence_length=T, n_components=None, n_states=3, covariance_type=cov,
                            topology="ergodic", random_state=0).fit(X, y)
        Z = clf.scaler_.transform(Xt[:5].reshape(-1, K)).reshape(5, T, K)
        ours = clf.log_likelihood(Xt[:5])
        for c, m in enumerate(clf.models_):
            ref = GaussianHMM(m.n_components, covariance_type=cov)
            ref.startprob_, ref.transmat_, ref.means_ = m.startprob_, m.transmat_, m.means_
            ref.covars_ = m._covars_ if cov != "spherical" else _emission_covariances(m)[:, 0]
            expected = [ref.score(z) for z in Z]
            np.testing.assert_allclose(ours[:, c], expected, rtol=1e-10)


@pytest.mark.parametrize("cov", ["diag", "full", "tied", "spherical"])
def test_batched_e_step_equals_hmmlearn(cov):
    rng = np.random.default_rng(0)
    X, lengths = rng.normal(size=(30 * 5, 3)), np.full(30, 5)
    init = GaussianHMM(3, covariance_type=cov, random_state=0, n_iter=0).fit(X, lengths)
    ours, ref = _FlooredGaussianHMM(3, covariance_type=cov), GaussianHMM(3, covariance_type=cov)
    for m in (ours, ref):
        m.n_features = 3
        m.startprob_, m.transmat_, m.means_ = init.startprob_, init.transmat_, init.means_
        m._covars_ = init._covars_.copy()
    (s1, lp1), (s2, lp2) = ours._do_estep(X, lengths), ref._do_estep(X, lengths)
    assert lp1 == pytest.approx(lp2, rel=1e-12)
    assert set(s1) == set(s2)
    for key in s2:
        np.testing.assert_allclose(s1[key], s2[key], rtol=1e-9, atol=1e-12)


def test_left_right_structure_after_fit(data):
    (X, y), _ = data
    clf = HMMClassifier(sequence_length=T, n_components=None, n_states=4, random_state=0).fit(X, y)
    for m in clf.models_:
        np.testing.assert_array_equal(m.startprob_, np.eye(4)[0])
        assert np.all(np.tril(m.transmat_, -1) == 0)  # never moves back up
        assert np.all(np.triu(m.transmat_, 2) == 0)  # never skips a state
        np.testing.assert_allclose(m.transmat_.sum(axis=1), 1)
    # a left-right model cannot use more states than steps
    few = HMMClassifier(sequence_length=2, n_components=None, n_states=4).fit(X, y)
    assert few.n_states_.tolist() == [2, 2, 2]


def test_each_image_is_its_own_sequence():
    # ergodic states of two regions; every sequence starts in either with equal odds. One long
    # concatenated sequence would learn a one-hot start distribution from its first image.
    rng = np.random.default_rng(0)
    starts = rng.integers(0, 2, 200)
    X = np.where(np.arange(T)[None, :] % 2 == starts[:, None], 5.0, -5.0) + rng.normal(0, 0.3, (200, T))
    clf = HMMClassifier(sequence_length=T, n_components=None, n_states=2, topology="ergodic",
                        random_state=0).fit(X, np.zeros(200))
    start = np.sort(clf.models_[0].startprob_)
    np.testing.assert_allclose(start, np.sort([np.mean(starts == 0), np.mean(starts == 1)]), atol=0.02)


def test_probabilities(data):
    (X, y), (Xt, _) = data
    clf = HMMClassifier(sequence_length=T, n_components=3, n_states=3, random_state=0).fit(X, y)
    proba = clf.predict_proba(Xt)
    assert proba.shape == (len(Xt), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(Xt))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(Xt)), proba)
    joint = clf.predict_joint_log_proba(Xt)
    np.testing.assert_allclose(joint - clf.class_log_prior_, clf.log_likelihood(Xt))


def test_priors(data):
    (X, y), (Xt, _) = data
    base = dict(sequence_length=T, n_components=None, n_states=3, random_state=0)
    clf = HMMClassifier(**base, priors="uniform").fit(X[:100], y[:100])  # 40 a, 40 b, 20 c
    np.testing.assert_allclose(clf.class_log_prior_, np.log([1 / 3] * 3))
    emp = HMMClassifier(**base).fit(X[:100], y[:100])
    np.testing.assert_allclose(np.exp(emp.class_log_prior_), [0.4, 0.4, 0.2])
    sure = HMMClassifier(**base, priors=[0, 0, 1]).fit(X, y)
    assert set(sure.predict(Xt)) == {"c"}
    with pytest.raises(ValueError, match="priors"):
        HMMClassifier(**base, priors=[0.5, 0.5]).fit(X, y)


def test_length_one_sequences_give_finite_models():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (30, 5)), rng.normal(3, 1, (30, 5))])
    y = np.repeat([0, 1], 30)
    for topology in ("left-right", "ergodic"):
        clf = HMMClassifier(n_states=4, topology=topology, random_state=0).fit(X, y)
        for m in clf.models_:
            assert np.all(np.isfinite(m.means_)) and np.all(np.isfinite(m._covars_))
            np.testing.assert_allclose(m.transmat_.sum(axis=1), 1)
        assert clf.score(X, y) > 0.95


def test_degenerate_data_is_handled():
    # constant features, duplicated rows, a class of one face, more states than faces
    rng = np.random.default_rng(0)
    X = np.zeros((21, 12))
    X[:10, :6] = rng.normal(size=(10, 6))
    X[10:20] = X[0]
    y = np.array([0] * 10 + [1] * 10 + [2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = HMMClassifier(sequence_length=3, n_states=3, topology="ergodic", random_state=0).fit(X, y)
    for m in clf.models_:
        assert np.all(np.isfinite(m.means_)) and np.all(m._covars_ >= clf.min_covar)
    assert np.all(np.isfinite(clf.predict_log_proba(X)))


def test_failed_fit_falls_back_with_warning(data, monkeypatch):
    (X, y), (Xt, yt) = data

    def broken_fit(self, X, lengths=None):
        self.means_ = np.full_like(self.means_, np.nan)
        return self

    monkeypatch.setattr(_FlooredGaussianHMM, "fit", broken_fit)
    clf = HMMClassifier(sequence_length=T, n_components=None, n_states=3)
    with pytest.warns(HMMFitWarning, match="could not be fitted"):
        clf.fit(X, y)
    # the initial segmental models still classify
    assert clf.score(Xt, yt) > 0.6


def test_bad_input():
    X, y = np.ones((6, 10)), np.arange(6) % 2
    with pytest.raises(ValueError, match="not divisible by sequence_length=3"):
        HMMClassifier(sequence_length=3).fit(X, y)
    for param, value in [("sequence_length", 0), ("n_states", 0), ("topology", "circular"),
                         ("covariance_type", "banded"), ("min_covar", 0.0), ("n_components", 0)]:
        with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
            HMMClassifier(**{param: value}).fit(X, y)


def test_pickle_and_clone(data):
    (X, y), (Xt, _) = data
    clf = HMMClassifier(sequence_length=T, n_components=3, n_states=3, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(Xt), clf.predict_proba(Xt))
    np.testing.assert_array_equal(clone(clf).fit(X, y).predict_proba(Xt), clf.predict_proba(Xt))


def test_naive_baseline_stays_available(data):
    (X, y), (Xt, yt) = data
    naive = NaiveHMMClassifier(n_states=6, n_components=None, random_state=0).fit(X, y)
    assert naive.model_.n_components == 6
    assert naive.state_classes_.shape == (6,) and set(naive.state_classes_) <= {0, 1, 2}
    proba = naive.predict_proba(Xt)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(naive.classes_[proba.argmax(axis=1)], naive.predict(Xt))
    # clustering whole vectors ignores the order of the states: far below the per-class HMMs
    hmm = HMMClassifier(sequence_length=T, n_components=None, n_states=3, random_state=0).fit(X, y)
    assert naive.score(Xt, yt) < hmm.score(Xt, yt) - 0.2


@parametrize_with_checks([
    HMMClassifier(),
    HMMClassifier(topology="ergodic", n_states=2, covariance_type="full"),
    NaiveHMMClassifier(),
])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.shared_data
def test_lbp_hmm_recipe_on_ck_plus():
    # the lbp-hmm recipe's parameters, subject-independent, on 2 of the 10 grouped folds
    # (over all 10 folds: macro-F1 0.835 against 0.19 for the naive baseline)
    from conftest import shared_dataset
    from sklearn.metrics import f1_score

    from facefeat.faces.align import FaceAligner
    from facefeat.images.datasets import load_folder
    from facefeat.evaluation import make_folds
    from facefeat.features.lbp import LBPHistogram
    from facefeat.pipelines import load_recipe

    ds = load_folder(shared_dataset("ck_plus_48"))
    params = {step["name"]: step.get("params", {}) for step in load_recipe("lbp-hmm")["steps"]}
    lbp = {k: tuple(v) if isinstance(v, list) else v for k, v in params["lbp"].items()}
    images, ds = ds.read_images(on_error="skip")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = LBPHistogram(**lbp).fit_transform(FaceAligner().fit_transform(images))
    y = np.asarray(ds.labels)
    _, folds = make_folds(ds, cv="kfold", n_folds=10, random_state=0)
    scores = []
    for train, test in folds[:2]:
        clf = HMMClassifier(**params["clf"], random_state=0).fit(X[train], y[train])
        scores.append(f1_score(y[test], clf.predict(X[test]), average="macro"))
    assert np.mean(scores) >= 0.75
    naive = NaiveHMMClassifier(random_state=0).fit(X[train], y[train])
    assert f1_score(y[test], naive.predict(X[test]), average="macro") < 0.4
