import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from facefeat._steps import stateless_prefix
from facefeat.classifiers.fusion import BlockScaler, Vote, feature_blocks, mixture_weights
from facefeat.pipelines import make_pipeline


def test_blocks_get_equal_total_variance():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(np.column_stack([rng.normal(5, 3, (50, 40)), rng.normal(-1, 0.1, (50, 2))]),
                     columns=[f"wide__f{i}" for i in range(40)] + ["narrow__a", "narrow__b"])
    Z = BlockScaler().fit_transform(X)
    assert BlockScaler().fit(X).blocks_ == {"wide": 40, "narrow": 2}
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :40].var(axis=0).sum(), 1.0)
    np.testing.assert_allclose(Z[:, 40:].var(axis=0).sum(), 1.0)


def test_without_names_it_is_a_standard_scaler():
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(1).normal(size=(30, 4)) * [1, 10, 100, 0]
    np.testing.assert_allclose(BlockScaler().fit_transform(X), StandardScaler().fit_transform(X))
    np.testing.assert_allclose(BlockScaler(block_weight="none").fit_transform(X), StandardScaler().fit_transform(X))


def test_feature_blocks_of_unnamed_columns():
    assert feature_blocks(["x0", "a__b__c"]).tolist() == ["", "a"]


def test_feature_fusion_recipe(expressions):
    pipe = make_pipeline("fusion-lbp-geometry-linear")
    union = pipe.named_steps["features"]
    assert isinstance(union, FeatureUnion) and [n for n, _ in union.transformer_list] == ["lbp", "geometry"]
    faces = pipe[:1].fit_transform(expressions.images)
    feats = union.fit_transform(faces)
    n_lbp = len(union.transformer_list[0][1].get_feature_names_out())
    assert list(feats.columns[:2]) == ["lbp__lbp_r1.5_c0x0_b0", "lbp__lbp_r1.5_c0x0_b1"]
    assert pipe[2:].fit(feats, expressions.labels).named_steps["scale"].blocks_ == {
        "lbp": n_lbp, "geometry": feats.shape[1] - n_lbp}


def test_deep_fusion_is_stateless_so_the_benchmark_extracts_once():
    # align + (LBP, HOG, CNN) union: features computed once for all folds
    assert stateless_prefix(make_pipeline("fusion-handcrafted-deep-linear")) == 2
    # geometry learns a mean shape per fold
    assert stateless_prefix(make_pipeline("fusion-lbp-geometry-linear")) == 1


def test_score_fusion_averages_the_branch_probabilities(expressions):
    pipe = make_pipeline("fusion-lbp-hog-geometry-vote")
    vote = pipe.named_steps["clf"]
    assert isinstance(vote, Vote) and vote.voting == "soft"
    faces = pipe[:1].fit_transform(expressions.images)
    pipe[1:].fit(faces, expressions.labels)
    branches = [est.predict_proba(faces) for est in vote.estimators_]
    np.testing.assert_allclose(vote.predict_proba(faces), np.mean(branches, axis=0))


@pytest.mark.parametrize("step, match", [
    ('name = "f"\nunion = []', "non-empty list"),
    ('name = "f"\nunion = [{ name = "a", use = "lbp" }]\nparams = { a = 1 }', "only beside 'use'"),
    ('name = "f"\nuse = "lbp"\nvote = [{ name = "a", use = "lbp" }]', "one of"),
    ('name = "f"\nvote = [{ name = "a", union = [] }]', "one of"),
])
def test_bad_fusion_steps_are_refused(tmp_path, step, match):
    path = tmp_path / "bad.toml"
    path.write_text(f'description = "x"\n[[steps]]\n{step}\n')
    with pytest.raises(ValueError, match=match):
        make_pipeline(str(path))


@parametrize_with_checks([Vote([("lr", LogisticRegression()), ("nb", GaussianNB())])])
def test_vote_passes_sklearn_checks(estimator, check):
    check(estimator)


class _RecordsGroups(ClassifierMixin, BaseEstimator):
    """Predicts the training class frequencies and remembers the groups its fit saw."""

    def fit(self, X, y, groups=None):
        self.groups_ = None if groups is None else np.asarray(groups)
        self.classes_ = np.unique(y)
        self.prior_ = np.bincount(y, minlength=len(self.classes_)) / len(y)
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def test_vote_hands_groups_to_the_members_that_take_them():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 3)), np.repeat(["a", "b", "c"], 4)
    X[:, 0] += np.repeat([0.0, 3.0, 6.0], 4)
    subjects = np.arange(12) // 2
    members = [("plain", _RecordsGroups()), ("piped", Pipeline([("s", StandardScaler()), ("r", _RecordsGroups())])),
               ("lr", LogisticRegression())]
    vote = Vote(members).fit(X, y, groups=subjects)
    np.testing.assert_array_equal(vote.named_estimators_["plain"].groups_, subjects)
    np.testing.assert_array_equal(vote.named_estimators_["piped"][-1].groups_, subjects)
    # the same probabilities as scikit-learn's vote, which cannot pass the groups on
    reference = VotingClassifier(members, voting="soft").fit(X, y)
    assert reference.named_estimators_["plain"].groups_ is None
    np.testing.assert_allclose(vote.predict_proba(X), reference.predict_proba(X))
    # two members predict the class frequencies (1/3 each), the third is a plain logistic regression
    lr = LogisticRegression().fit(X, y).predict_proba(X)
    np.testing.assert_allclose(vote.predict_proba(X), (2 / 3 + lr) / 3)
    assert vote.classes_.tolist() == ["a", "b", "c"]


def test_vote_refuses_groups_with_sample_weight():
    X, y = np.arange(8.0).reshape(-1, 1), np.repeat([0, 1], 4)
    with pytest.raises(ValueError, match="neither groups nor fitted weights"):
        Vote([("lr", LogisticRegression())]).fit(X, y, groups=np.arange(8), sample_weight=np.ones(8))


def test_a_cnn_inside_a_vote_holds_out_whole_subjects():
    from facefeat.deep.compact import CompactCNN

    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (40, 32, 32), dtype=np.uint8)
    y, subjects = np.tile([0, 1], 20), np.repeat(np.arange(10), 4)
    cnn = CompactCNN(size=32, width=8, hidden_units=16, max_epochs=1, validation_fraction=0.2, random_state=0,
                     progress=False)
    alone = cnn.fit(faces, y, groups=subjects)
    voted = Vote([("cnn", cnn)]).fit(faces, y, groups=subjects).named_estimators_["cnn"]
    assert voted.n_validation_ == alone.n_validation_ == 8  # two whole subjects of four faces
    np.testing.assert_allclose(voted.predict_proba(faces), alone.predict_proba(faces), atol=1e-6)


def test_mixture_weights_find_the_most_likely_point_of_the_simplex():
    rng = np.random.default_rng(0)
    probas = rng.dirichlet(np.ones(3), size=(3, 60))  # three members, 60 faces, three classes
    probas[0, np.arange(60), np.arange(60) % 3] += 1.0  # member 0 leans to the truth
    probas /= probas.sum(axis=2, keepdims=True)
    y = np.arange(60) % 3

    def nll(w):
        return -np.log(np.einsum("m,mi->i", w, probas[:, np.arange(60), y])).mean()  # balanced classes: plain mean

    grid = [np.array([a, b, 1 - a - b]) for a in np.linspace(0, 1, 201) for b in np.linspace(0, 1, 201) if a + b <= 1]
    best = min(grid, key=nll)
    w = mixture_weights(probas, y)
    assert w.sum() == pytest.approx(1) and (w >= 0).all()
    assert nll(w) <= nll(best) + 1e-9
    np.testing.assert_allclose(w, best, atol=0.01)


def test_mixture_weights_count_every_class_alike():
    # member 0 is right on the 9 faces of class 0, member 1 on the single face of class 1
    y = np.array([0] * 9 + [1])
    first = np.tile([0.9, 0.1], (10, 1))
    second = np.tile([0.1, 0.9], (10, 1))
    balanced = mixture_weights(np.stack([first, second]), y)
    np.testing.assert_allclose(balanced, [0.5, 0.5], atol=1e-6)  # both classes weigh the same: a tie
    plain = mixture_weights(np.stack([first, second]), y, sample_weight=np.ones(10))
    assert plain[0] > 0.95


class _Guess(ClassifierMixin, BaseEstimator):
    """Predicts the training class frequencies, whatever the face."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.prior_ = np.bincount(y, minlength=len(self.classes_)) / len(y)
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))


def _two_blobs(n=80, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 2)) + 3.0 * y[:, None]
    return X, y, np.arange(n) // 4  # 20 subjects of four faces


def test_fitted_weights_trust_the_member_that_predicts_held_out_faces():
    X, y, subjects = _two_blobs()
    vote = Vote([("lr", LogisticRegression()), ("guess", _Guess())], weights="fitted", random_state=0)
    vote.fit(X, y, groups=subjects)
    assert vote.weights_[0] > 0.95 and vote.weights_.sum() == pytest.approx(1)
    assert vote.n_validation_ == 8  # two whole subjects: 10 % of 20
    # the members used for prediction are refitted on every face
    np.testing.assert_allclose(vote.named_estimators_["lr"].coef_, LogisticRegression().fit(X, y).coef_)
    members = [est.predict_proba(X) for est in vote.estimators_]
    np.testing.assert_allclose(vote.predict_proba(X), np.average(members, axis=0, weights=vote.weights_))
    # the same split, hence the same weights, without groups too
    again = Vote([("lr", LogisticRegression()), ("guess", _Guess())], weights="fitted", random_state=0).fit(X, y)
    assert again.n_validation_ == 8
    np.testing.assert_array_equal(again.weights_, clone(again).fit(X, y).weights_)


def test_fitted_weights_need_a_split_with_every_class():
    X, y = np.arange(4.0).reshape(-1, 1), np.array([0, 0, 1, 1])
    with pytest.warns(UserWarning, match="weights are equal"):
        vote = Vote([("lr", LogisticRegression()), ("guess", _Guess())], weights="fitted").fit(X, y, groups=[0, 0, 1, 1])
    np.testing.assert_array_equal(vote.weights_, [0.5, 0.5])


def test_cross_fitted_weights_distrust_a_member_that_memorises_its_faces():
    # noisy labels: 1-NN is perfect on the faces it was fitted on, poor on others
    X, y, subjects = _two_blobs(seed=1)
    y = np.where(np.random.default_rng(1).random(len(y)) < 0.2, 1 - y, y)
    vote = Vote([("lr", LogisticRegression()), ("1nn", KNeighborsClassifier(1))], weights="fitted", cv=4,
                random_state=0).fit(X, y, groups=subjects)
    assert vote.n_validation_ == len(y)  # every face held out once
    assert vote.weights_[0] > 0.8
    # weights fitted on the faces the members were fitted on would trust 1-NN instead
    seen = np.stack([est.fit(X, y).predict_proba(X) for est in [LogisticRegression(), KNeighborsClassifier(1)]])
    assert mixture_weights(seen, y)[0] < 0.1
    # the same weights from held-out probabilities gathered by hand with the vote's parts
    parts = vote._weight_splits(y, subjects)
    assert sorted(np.concatenate([val for _, val in parts]).tolist()) == list(range(len(y)))
    assert all(not set(subjects[train]) & set(subjects[val]) for train, val in parts)
    probas = np.zeros((2, len(y), 2))
    for train, val in parts:
        for m, est in enumerate([LogisticRegression(), KNeighborsClassifier(1)]):
            probas[m, val] = est.fit(X[train], y[train]).predict_proba(X[val])
    np.testing.assert_allclose(vote.weights_, mixture_weights(probas, y))
    np.testing.assert_array_equal(clone(vote).fit(X, y, groups=subjects).weights_, vote.weights_)


_TRANSFORMED = []


def _counted(X):
    _TRANSFORMED.append(len(X))
    return X


def test_fitted_weights_extract_each_members_features_once():
    from sklearn.preprocessing import FunctionTransformer

    X, y, subjects = _two_blobs()
    member = Pipeline([("features", FunctionTransformer(_counted)), ("scale", StandardScaler()),
                       ("lr", LogisticRegression())])
    _TRANSFORMED.clear()
    vote = Vote([("a", member), ("guess", _Guess())], weights="fitted", cv=4, random_state=0).fit(
        X, y, groups=subjects)
    assert _TRANSFORMED == [80]  # not once per part and again for the final fit
    fitted = vote.named_estimators_["a"]
    assert isinstance(fitted, Pipeline) and [name for name, _ in fitted.steps] == ["features", "scale", "lr"]
    np.testing.assert_allclose(fitted.predict_proba(X), clone(member).fit(X, y).predict_proba(X))


def test_cross_fitted_weights_need_as_many_subjects_as_parts():
    X, y, _ = _two_blobs(n=12)
    with pytest.warns(UserWarning, match="weights are equal"):
        vote = Vote([("lr", LogisticRegression()), ("guess", _Guess())], weights="fitted", cv=4).fit(
            X, y, groups=np.arange(12) // 4)
    np.testing.assert_array_equal(vote.weights_, [0.5, 0.5])
    assert vote.n_validation_ == 0


@pytest.mark.parametrize("params, match", [
    ({"weights": "fitted", "voting": "hard"}, "needs voting='soft'"),
    ({"weights": "fitted", "validation_fraction": 1.0}, "validation_fraction"),
    ({"weights": "fitted", "cv": 1}, "'cv'"),
    ({"weights": "best"}, "weights"),
])
def test_bad_vote_weights_are_refused(params, match):
    X, y, _ = _two_blobs()
    with pytest.raises(ValueError, match=match):
        Vote([("lr", LogisticRegression()), ("guess", _Guess())], **params).fit(X, y)


def test_a_recipe_vote_takes_params(tmp_path):
    path = tmp_path / "weighted.toml"
    path.write_text('description = "x"\n[[steps]]\nname = "clf"\nparams = { weights = "fitted" }\n'
                    'vote = [{ name = "lbp", steps = [{ name = "lbp", use = "lbp" }, '
                    '{ name = "clf", use = "logistic_regression" }] }]\n')
    vote = make_pipeline(str(path)).named_steps["clf"]
    assert isinstance(vote, Vote) and vote.weights == "fitted"


@parametrize_with_checks([Vote([("lr", LogisticRegression()), ("nb", GaussianNB())], weights="fitted",
                               random_state=0),
                          Vote([("lr", LogisticRegression()), ("nb", GaussianNB())], weights="fitted", cv=3,
                               random_state=0)])
def test_a_vote_with_fitted_weights_passes_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cv", [None, 2])
def test_a_cnn_in_a_vote_with_fitted_weights_keeps_its_fits_checkpoints_apart(tmp_path, cv):
    from facefeat.deep.compact import CompactCNN

    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (40, 32, 32), dtype=np.uint8)
    y, subjects = np.tile([0, 1], 20), np.repeat(np.arange(10), 4)
    checkpoint = tmp_path / "cnn.ckpt"
    cnn = CompactCNN(size=32, width=4, hidden_units=8, max_epochs=2, validation_fraction=0.2, random_state=0,
                     progress=False, checkpoint=str(checkpoint))
    vote = Vote([("cnn", cnn), ("guess", _Guess())], weights="fitted", cv=cv, random_state=0)
    first = vote.fit(faces, y, groups=subjects)
    # the last fit's file remains (a benchmark deletes it with its fold); the held-out fits' are gone
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.ckpt"]
    weights, proba = first.weights_.copy(), first.predict_proba(faces)
    again = clone(vote).fit(faces, y, groups=subjects)  # resumes the finished second fit from its file
    np.testing.assert_array_equal(again.weights_, weights)
    np.testing.assert_allclose(again.predict_proba(faces), proba, atol=1e-6)
