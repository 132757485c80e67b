import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import FeatureUnion

from facefeat._steps import stateless_prefix
from facefeat.classifiers.fusion import BlockScaler, feature_blocks
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
    assert isinstance(vote, VotingClassifier) and vote.voting == "soft"
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
