"""Valence-arousal coordinates of the expression classes (facefeat.evaluation.affect)."""

import numpy as np
import pytest

from facefeat.evaluation.affect import CIRCUMPLEX, WARRINER_2013, circumplex_coordinates, valence_arousal
from facefeat.images.datasets import CLASSES


def test_every_canonical_class_has_coordinates_in_the_unit_square():
    assert sorted(CIRCUMPLEX) == sorted(CLASSES)
    coords = circumplex_coordinates(CLASSES)
    assert coords.shape == (8, 2)
    assert np.all(np.abs(coords) <= 1)


def test_neutral_is_the_origin_and_the_others_are_the_rescaled_ratings():
    assert CIRCUMPLEX["neutral"] == (0.0, 0.0)
    for name, (v, a) in WARRINER_2013.items():
        assert CIRCUMPLEX[name] == pytest.approx(((v - 5) / 4, (a - 5) / 4))


def test_the_circumplex_layout_of_russell():
    """Quadrants: happiness and surprise pleasant and aroused, anger and fear unpleasant and
    aroused, sadness unpleasant and calm."""
    c = CIRCUMPLEX
    assert c["happiness"][0] > 0 and c["happiness"][1] > 0
    assert c["surprise"][0] > 0 and c["surprise"][1] > 0
    for name in ("anger", "fear"):
        assert c[name][0] < 0 and c[name][1] > 0
    assert c["sadness"][0] < 0 and c["sadness"][1] < 0
    assert c["happiness"][0] == max(v for v, _ in c.values())
    assert c["sadness"][1] == min(a for _, a in c.values())


def test_aliases_and_case_map_to_the_canonical_classes():
    np.testing.assert_array_equal(circumplex_coordinates(["Happy", "angry", " sad ", "surprised"]),
                                  circumplex_coordinates(["happiness", "anger", "sadness", "surprise"]))


def test_unknown_classes_are_named_in_the_error():
    with pytest.raises(ValueError, match=r"\['boredom', 'pride'\]"):
        circumplex_coordinates(["happiness", "boredom", "pride"])
    with pytest.raises(ValueError, match="boredom"):
        valence_arousal([[1.0, 0.0]], ["happiness", "boredom"])


def test_one_hot_probabilities_give_the_class_points():
    classes = ["anger", "happiness", "neutral", "sadness"]
    np.testing.assert_allclose(valence_arousal(np.eye(4), classes), circumplex_coordinates(classes))


def test_weighted_mean_and_row_normalisation():
    classes = ["happiness", "sadness"]
    h, s = np.array(CIRCUMPLEX["happiness"]), np.array(CIRCUMPLEX["sadness"])
    va = valence_arousal([[0.25, 0.75], [2.0, 2.0]], classes)
    assert va.shape == (2, 2)
    np.testing.assert_allclose(va[0], 0.25 * h + 0.75 * s)
    np.testing.assert_allclose(va[1], (h + s) / 2)  # unnormalised scores are normalised


def test_random_probabilities_stay_inside_the_hull_of_the_class_points():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(8), size=200)
    va = valence_arousal(proba, CLASSES)
    coords = circumplex_coordinates(CLASSES)
    assert np.all(va.min(axis=0) >= coords.min(axis=0) - 1e-12)
    assert np.all(va.max(axis=0) <= coords.max(axis=0) + 1e-12)


@pytest.mark.parametrize("proba, message", [
    ([0.5, 0.5], "shape"),
    ([[0.5, 0.3, 0.2]], "shape"),
    ([[-0.1, 1.1]], "non-negative"),
    ([[np.nan, 1.0]], "finite"),
    ([[0.0, 0.0], [1.0, 0.0]], r"rows \[0\]"),
])
def test_bad_probabilities_are_rejected(proba, message):
    with pytest.raises(ValueError, match=message):
        valence_arousal(proba, ["happiness", "sadness"])
