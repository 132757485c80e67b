"""Every facefeat estimator in the registry through the shared checks.

Estimators on 2-D feature matrices go through scikit-learn's
``parametrize_with_checks``; image transformers, which it skips, through the
checks below: clone, parameter round-trip, pickling, output width equal to the
number of feature names, and invalid parameters refused clearly.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from facefeat.registry import COMPONENTS, get_component

FACEFEAT = {name: get_component(name) for name, (module, _) in COMPONENTS.items() if module.startswith("facefeat")}


def _is_image_estimator(cls):
    return not cls().__sklearn_tags__().input_tags.two_d_array


# Parameters under which an array estimator accepts any number of features,
# as scikit-learn's checks require (they feed matrices of 1 to 10 columns)
CHECK_PARAMS = {"geometry": {"features": "full", "n_dims": 1}}

IMAGE_ESTIMATORS = {n: c for n, c in FACEFEAT.items() if _is_image_estimator(c)}
ARRAY_ESTIMATORS = [c(**CHECK_PARAMS.get(n, {})) for n, c in FACEFEAT.items() if not _is_image_estimator(c)]

# Small settings so that the shared checks train a CNN in seconds; random CNN
# weights, since the ImageNet ones come from a package `.[test]` does not
# install (tests/deep checks the real weights when it is there)
IMAGE_PARAMS = {"cached_finetuned_cnn": {"weights": None, "epochs": 1, "finetune_epochs": 1, "unfreeze": 1,
                                         "input_size": 64, "n_views": 1, "early_stopping": False, "random_state": 0},
                "finetuned_cnn": {"backbone": "resnet18", "weights": None, "input_size": 32, "max_epochs": 1,
                                  "validation_fraction": 0, "random_state": 0},
                "deep_embedding": {"weights": None},
                "compact_cnn": {"size": 32, "width": 8, "hidden_units": 32, "max_epochs": 1, "validation_fraction": 0,
                                "random_state": 0}}

# A value per parameter that the estimator must refuse at fit
INVALID = {
    "face_aligner": {"size": 0, "detector": "viola-jones", "on_no_face": "ignore"},
    "lbp": {"P": 0, "R": -1.0, "method": "foo", "grid": (0, 3)},
    "hog": {"orientations": 0, "pixels_per_cell": (0, 8)},
    "gabor": {"n_scales": 0, "n_orientations": 0, "f": 1.0, "grid": (0, 3), "pool": "max", "sample": "points",
              "landmarks": (70,)},
    "asm": {"model": "nope", "n_components": 0, "b_limit": -1.0},
    "deep_embedding": {"backbone": "vgg16", "layer": "layer9", "batch_size": 0, "pool_grid": 0},
    "cached_finetuned_cnn": {"backbone": "vgg16", "head": "svm", "unfreeze": -1, "epochs": 0},
    "finetuned_cnn": {"backbone": "vgg16", "head": "svm", "layer": "layer9", "lr_decay": 0, "input_size": 16,
                      "max_epochs": 0, "bf16": "yes"},
    "compact_cnn": {"size": 8, "monitor": "auc", "max_epochs": 0, "class_weight": "even", "bf16": "yes"},
}


@pytest.fixture(scope="module")
def synthetic():
    from facefeat.images.synthetic import make_expressions

    return make_expressions(n_subjects=1, n_per_class=1)


@pytest.fixture(scope="module")
def raw_images(synthetic):
    return synthetic.images


@pytest.fixture(scope="module")
def labels(synthetic):
    return synthetic.labels


@pytest.fixture(scope="module")
def faces(raw_images):
    from facefeat.faces.align import FaceAligner

    return FaceAligner(size=64).fit_transform(raw_images)


def _input(name, faces, raw_images):
    # the aligner takes original images; every other image estimator aligned faces
    return raw_images if name == "face_aligner" else faces


def _fit(est, X, y):
    return est.fit(X, y) if is_classifier(est) else est.fit(X)


def _output(est, X):
    if is_classifier(est):
        return est.predict_proba(X)
    out = est.transform(X)
    return out.images if hasattr(out, "images") else out


@pytest.mark.parametrize("name", sorted(IMAGE_ESTIMATORS))
def test_clone_and_params_round_trip(name):
    est = IMAGE_ESTIMATORS[name]()
    params = est.get_params()
    twin = clone(est).set_params(**params)
    assert twin.get_params() == params
    assert type(twin)(**params).get_params() == params


@pytest.mark.parametrize("name", sorted(IMAGE_ESTIMATORS))
def test_pickle_gives_identical_output(name, faces, raw_images, labels):
    X = _input(name, faces, raw_images)
    est = _fit(IMAGE_ESTIMATORS[name](**IMAGE_PARAMS.get(name, {})), X, labels)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_output(est, X), _output(restored, X))


@pytest.mark.parametrize("name", sorted(n for n in IMAGE_ESTIMATORS if hasattr(IMAGE_ESTIMATORS[n], "get_feature_names_out")))
def test_width_equals_feature_names(name, faces):
    est = IMAGE_ESTIMATORS[name](**IMAGE_PARAMS.get(name, {}))
    out = est.fit_transform(faces)
    names = est.get_feature_names_out()
    assert out.shape == (len(faces), len(names))
    assert len(set(names)) == len(names)
    assert all(n.startswith(name + "_") for n in names)


@pytest.mark.parametrize("name, param, value", [(n, p, v) for n, bad in INVALID.items() for p, v in bad.items()])
def test_invalid_parameters_are_refused(name, param, value, faces, raw_images, labels):
    est = FACEFEAT[name](**{param: value})
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        _fit(est, _input(name, faces, raw_images), labels)


def test_every_image_estimator_has_invalid_cases():
    assert set(IMAGE_ESTIMATORS) <= set(INVALID)


@parametrize_with_checks(ARRAY_ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
