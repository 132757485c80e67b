import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facefeat.evaluation import classification_metrics
from facefeat.evaluation.uncertainty import METRICS, _metrics, bootstrap_ci, paired_comparison

CLASSES = ["anger", "fear", "happiness", "neutral"]


def _predictions(n, accuracy, rng, classes=CLASSES):
    y = rng.choice(classes, n)
    wrong = rng.choice(classes, n)
    return y, np.where(rng.random(n) < accuracy, y, wrong)


def _width(ci, metric="accuracy"):
    return ci[metric]["high"] - ci[metric]["low"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CLASSES), st.sampled_from(CLASSES)), min_size=1, max_size=40))
def test_confusion_matrix_metrics_match_classification_metrics(pairs):
    y, p = map(list, zip(*pairs))
    m = classification_metrics(y, p, CLASSES)
    got = _metrics(np.array(m["confusion_matrix"]))
    for key in METRICS:
        assert got[key] == pytest.approx(m[key], abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_ci_contains_the_point_estimate(seed):
    rng = np.random.default_rng(seed)
    y, p = _predictions(400, 0.3 + 0.12 * seed, rng)
    ci = bootstrap_ci(y, p, CLASSES, random_state=seed)
    m = classification_metrics(y, p, CLASSES)
    for key in METRICS:
        assert ci[key]["estimate"] == pytest.approx(m[key])
        assert ci[key]["low"] <= ci[key]["estimate"] <= ci[key]["high"]
        assert 0 < ci[key]["std"] < 0.1
    assert ci["resampling"] == "images" and ci["n_units"] == ci["n_samples"] == 400
    assert ci["n_boot"] == 1000 and ci["confidence"] == pytest.approx(0.95)


def test_ci_shrinks_with_more_data():
    rng = np.random.default_rng(0)
    small = bootstrap_ci(*_predictions(100, 0.7, rng), CLASSES)
    large = bootstrap_ci(*_predictions(2500, 0.7, rng), CLASSES)
    for key in METRICS:
        # the width scales like 1 / sqrt(n): 5 times narrower for 25 times the data
        assert 3 < _width(small, key) / _width(large, key) < 8
    # and a lower confidence level gives a narrower interval
    y, p = _predictions(500, 0.7, rng)
    assert _width(bootstrap_ci(y, p, CLASSES, alpha=0.5)) < _width(bootstrap_ci(y, p, CLASSES))


def test_ci_matches_the_binomial_standard_error():
    rng = np.random.default_rng(1)
    y, p = _predictions(1000, 0.6, rng)
    ci = bootstrap_ci(y, p, CLASSES, n_boot=4000)
    acc = ci["accuracy"]["estimate"]
    assert ci["accuracy"]["std"] == pytest.approx(np.sqrt(acc * (1 - acc) / 1000), rel=0.1)


def _correlated_subjects(n_subjects=40, per_subject=20, seed=0):
    """Subjects whose images are all easy or all hard: strongly correlated errors."""
    rng = np.random.default_rng(seed)
    subject_acc = rng.choice([0.2, 0.95], n_subjects)
    groups = np.repeat([f"S{k:03d}" for k in range(n_subjects)], per_subject)
    y = rng.choice(CLASSES, len(groups))
    correct = rng.random(len(groups)) < np.repeat(subject_acc, per_subject)
    wrong = np.array([CLASSES[(CLASSES.index(c) + 1) % 4] for c in y])
    return y, np.where(correct, y, wrong), groups


def test_cluster_bootstrap_is_wider_for_correlated_subjects():
    y, p, groups = _correlated_subjects()
    images = bootstrap_ci(y, p, CLASSES)
    subjects = bootstrap_ci(y, p, CLASSES, groups=groups)
    assert subjects["resampling"] == "subjects" and subjects["n_units"] == 40
    assert "cluster bootstrap" in subjects["method"]
    for key in METRICS:
        assert subjects[key]["estimate"] == images[key]["estimate"]
        assert _width(subjects, key) > 2 * _width(images, key)


def test_cluster_bootstrap_of_singletons_is_the_image_bootstrap():
    rng = np.random.default_rng(2)
    y, p = _predictions(600, 0.65, rng)
    images = bootstrap_ci(y, p, CLASSES)
    singletons = bootstrap_ci(y, p, CLASSES, groups=np.arange(600))
    assert singletons["n_units"] == 600
    for key in METRICS:
        assert _width(singletons, key) == pytest.approx(_width(images, key), rel=0.15)


def test_bootstrap_is_reproducible_and_validates():
    rng = np.random.default_rng(3)
    y, p = _predictions(200, 0.5, rng)
    assert bootstrap_ci(y, p, CLASSES, random_state=7) == bootstrap_ci(y, p, CLASSES, random_state=7)
    assert bootstrap_ci(y, p, CLASSES, random_state=7) != bootstrap_ci(y, p, CLASSES, random_state=8)
    with pytest.raises(ValueError, match="not in classes"):
        bootstrap_ci(y, p, CLASSES[:2])
    with pytest.raises(ValueError, match="items"):
        bootstrap_ci(y, p[:-1], CLASSES)
    with pytest.raises(ValueError, match="groups must have shape"):
        bootstrap_ci(y, p, CLASSES, groups=np.arange(3))
    with pytest.raises(ValueError, match="alpha"):
        bootstrap_ci(y, p, CLASSES, alpha=1.5)
    with pytest.raises(ValueError, match="no predictions"):
        bootstrap_ci([], [], CLASSES)


def test_absent_classes_follow_the_benchmark_macro_f1():
    # "neutral" never occurs in y_true: macro-F1 averages over the 3 present classes
    y = np.array(["anger", "fear", "happiness"] * 50)
    p = y.copy()
    p[:10] = "neutral"
    ci = bootstrap_ci(y, p, CLASSES)
    assert ci["macro_f1"]["estimate"] == pytest.approx(classification_metrics(y, p, CLASSES)["macro_f1"])
    assert ci["macro_f1"]["high"] <= 1.0


def test_bootstrap_is_vectorised_and_fast():
    rng = np.random.default_rng(4)
    y, p = _predictions(30000, 0.6, rng, classes=CLASSES * 2)
    groups = rng.integers(0, 3000, len(y))
    t0 = time.perf_counter()
    bootstrap_ci(y, p, CLASSES, n_boot=1000)
    paired_comparison(y, p, y, CLASSES, groups=groups, n_boot=1000)
    assert time.perf_counter() - t0 < 10  # well under a second each on an idle core


def test_paired_comparison_detects_a_clearly_better_classifier():
    rng = np.random.default_rng(5)
    y = rng.choice(CLASSES, 600)
    good = np.where(rng.random(600) < 0.8, y, rng.choice(CLASSES, 600))
    poor = np.where(rng.random(600) < 0.55, y, rng.choice(CLASSES, 600))
    r = paired_comparison(y, good, poor, CLASSES)
    for key in METRICS:
        assert r[key]["a"] == pytest.approx(classification_metrics(y, good, CLASSES)[key])
        assert r[key]["difference"] == pytest.approx(r[key]["a"] - r[key]["b"])
        assert 0 < r[key]["low"] <= r[key]["difference"] <= r[key]["high"]
        assert r[key]["fraction_a_better"] == 1.0 and r[key]["fraction_b_better"] == 0.0
    assert r["mcnemar"]["a_only"] > r["mcnemar"]["b_only"] and r["mcnemar"]["p_value"] < 1e-6
    swapped = paired_comparison(y, poor, good, CLASSES)
    assert swapped["accuracy"]["high"] < 0 and swapped["accuracy"]["fraction_b_better"] == 1.0
    assert swapped["mcnemar"]["p_value"] == pytest.approx(r["mcnemar"]["p_value"])


def test_paired_comparison_of_identical_or_equivalent_classifiers():
    rng = np.random.default_rng(6)
    y, p = _predictions(500, 0.7, rng)
    same = paired_comparison(y, p, p, CLASSES)
    for key in METRICS:
        assert same[key]["difference"] == 0 and same[key]["low"] == same[key]["high"] == 0
        assert same[key]["fraction_a_better"] == same[key]["fraction_b_better"] == 0
    assert same["mcnemar"] == {**same["mcnemar"], "a_only": 0, "b_only": 0, "p_value": 1.0}
    # two different classifiers of the same quality: the CI of the difference contains 0
    y, a = _predictions(500, 0.7, np.random.default_rng(7))
    b = np.where(np.random.default_rng(8).random(500) < 0.7, y, np.random.default_rng(9).choice(CLASSES, 500))
    r = paired_comparison(y, a, b, CLASSES)
    assert r["macro_f1"]["low"] < 0 < r["macro_f1"]["high"]
    assert r["mcnemar"]["p_value"] > 0.01


def test_pairing_narrows_the_interval_of_the_difference():
    rng = np.random.default_rng(10)
    y, a = _predictions(800, 0.7, rng)
    b = a.copy()
    flip = rng.random(800) < 0.05          # B differs from A on 5% of the items
    b[flip] = rng.choice(CLASSES, flip.sum())
    r = paired_comparison(y, a, b, CLASSES)
    ci_a, ci_b = bootstrap_ci(y, a, CLASSES), bootstrap_ci(y, b, CLASSES)
    assert r["accuracy"]["high"] - r["accuracy"]["low"] < 0.5 * min(_width(ci_a), _width(ci_b))


def test_paired_cluster_comparison():
    y, a, groups = _correlated_subjects(seed=1)
    b = np.where(np.random.default_rng(11).random(len(y)) < 0.1, y, a)  # B fixes 10% of A's items
    images = paired_comparison(y, b, a, CLASSES)
    subjects = paired_comparison(y, b, a, CLASSES, groups=groups)
    assert subjects["resampling"] == "subjects" and subjects["n_units"] == 40
    assert "optimistic" in subjects["mcnemar"]["note"]
    assert subjects["accuracy"]["low"] > 0 and images["accuracy"]["low"] > 0
    assert subjects["accuracy"]["difference"] == images["accuracy"]["difference"]
