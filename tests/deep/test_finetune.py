"""FineTunedCNN: every stage trained, slower towards the input, reproducible, resumable, old files still load."""

import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facefeat.deep.backbones import build_backbone  # noqa: E402
from facefeat.deep.cached_finetune import CachedFineTunedCNN  # noqa: E402
from facefeat.deep.finetune import FineTunedCNN, face_network  # noqa: E402

# ResNet18 at 32 px on one thread: a fraction of a second per epoch
TINY = dict(backbone="resnet18", input_size=32, batch_size=8, n_threads=1, validation_fraction=0, bf16=False)


@pytest.fixture(scope="module")
def data():
    from facefeat.faces.align import FaceAligner
    from facefeat.images.synthetic import make_expressions

    ds = make_expressions(n_subjects=3, n_per_class=1, classes=["happiness", "sadness", "surprise"])
    faces = FaceAligner(size=48).fit_transform(ds.images)
    return faces, np.asarray(ds.labels), np.asarray(ds.groups)


@pytest.fixture(scope="module")
def init_weights(random_weights):
    return random_weights("resnet18", 7)


def _weights(clf):
    return {k: v.detach().clone() for k, v in clf.model_.state_dict().items()}


def test_every_stage_is_trained(data, init_weights):
    faces, labels, _ = data
    start = build_backbone("resnet18", weights=init_weights).state_dict()
    clf = FineTunedCNN(**TINY, weights=init_weights, max_epochs=2, random_state=0).fit(faces, labels)
    after = clf.model_.backbone.state_dict()
    for name in ("conv1.weight", "layer1.0.conv1.weight", "layer4.1.conv2.weight"):
        assert not torch.equal(start[name], after[name]), f"{name} was not trained"
    # BatchNorm statistics are re-estimated on the faces, not kept from the start
    assert not torch.equal(start["bn1.running_mean"], after["bn1.running_mean"])
    # the ImageNet classifier after the cut is never used, so never changed
    assert torch.equal(start["fc.weight"], after["fc.weight"])


def test_learning_rate_decays_towards_the_input(init_weights):
    clf = FineTunedCNN(backbone="resnet18", layer="layer3", lr_decay=0.5)
    net = face_network("resnet18", 3, weights=init_weights, layer="layer3")
    groups = clf._param_groups(net)
    assert [g["lr_scale"] for g in groups] == [1.0, 0.5, 0.25, 0.125, 0.0625]  # head, layer3 ... stem
    trained = {id(p) for g in groups for p in g["params"]}
    used = {id(p) for s in net.stages() for p in s.parameters()} | {id(p) for p in net.classifier.parameters()}
    assert trained == used
    assert not {id(p) for p in net.backbone.layer4.parameters()} & trained


def test_face_network_repeats_gray_and_cuts_at_the_layer(init_weights):
    net = face_network("resnet18", 4, weights=init_weights, layer="layer2", pool_grid=2).eval()
    gray = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        np.testing.assert_allclose(net(gray), net(gray.expand(-1, 3, -1, -1)), atol=1e-6)
        # layer2 of ResNet18 has 128 channels: a 2 x 2 grid gives 512 inputs to the linear head
        assert net.classifier[1].in_features == 128 * 4
    with pytest.raises(ValueError, match="unknown stage 'layer9'"):
        face_network("resnet18", 4, weights=None, layer="layer9")
    with pytest.raises(ValueError, match="a 64 px input is too small for inception_v3 up to Mixed_7c"):
        face_network("inception_v3", 4, weights=None, input_size=64)


def test_loss_falls_and_predictions_follow(data, one_thread):
    faces, labels, _ = data
    clf = FineTunedCNN(**TINY, weights=None, max_epochs=8, augment=False, lr=3e-3, random_state=0)
    clf.fit(faces, labels)
    losses = clf.history_["train_loss"]
    assert losses[-1] < 0.7 * losses[0]
    proba = clf.predict_proba(faces)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(faces), clf.classes_[proba.argmax(axis=1)])


def test_same_random_state_same_weights_and_pickle(data):
    faces, labels, _ = data
    a = FineTunedCNN(**TINY, weights=None, max_epochs=2, random_state=3).fit(faces, labels)
    b = FineTunedCNN(**TINY, weights=None, max_epochs=2, random_state=3).fit(faces, labels)
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    twin = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(twin.predict_proba(faces), a.predict_proba(faces))


def test_killed_fit_resumes_to_the_same_weights(data, tmp_path):
    faces, labels, _ = data
    straight = FineTunedCNN(**TINY, weights=None, max_epochs=3, random_state=1).fit(faces, labels)
    checkpoint = tmp_path / "fit.ckpt"
    from unittest import mock

    from facefeat.deep import _training

    save = _training._save_atomic

    def killed_after_saving(state, path):  # as if the process were killed once epoch 1 is on disk
        save(state, path)
        raise KeyboardInterrupt

    first = FineTunedCNN(**TINY, weights=None, max_epochs=3, random_state=1, checkpoint=checkpoint)
    with mock.patch.object(_training, "_save_atomic", killed_after_saving), pytest.raises(KeyboardInterrupt):
        first.fit(faces, labels)
    resumed = FineTunedCNN(**TINY, weights=None, max_epochs=3, random_state=1, checkpoint=checkpoint)
    resumed.fit(faces, labels)
    assert resumed.history_["train_loss"] == straight.history_["train_loss"]
    ws, wr = _weights(straight), _weights(resumed)
    assert all(torch.equal(ws[k], wr[k]) for k in ws)


def test_bf16_auto_only_where_it_is_faster(monkeypatch):
    import facefeat.deep.finetune as ft

    monkeypatch.setattr(ft, "amx", lambda: True)
    assert FineTunedCNN(backbone="resnet18")._auto_bf16()
    assert not FineTunedCNN(backbone="mobilenet_v2")._auto_bf16()


def test_model_file_of_the_two_phase_classifier_still_loads(data):
    faces, labels, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # too few faces for a validation split
        old = CachedFineTunedCNN("resnet18", weights=None, input_size=32, epochs=1, finetune_epochs=1,
                                 unfreeze=1, n_views=1, random_state=0, n_threads=1).fit(faces, labels)
    # before the rename, model files named this state's class facefeat.deep.finetune.FineTunedCNN
    state = pickle.loads(pickle.dumps(old.__getstate__()))
    loaded = FineTunedCNN.__new__(FineTunedCNN)
    loaded.__setstate__(state)
    assert type(loaded) is CachedFineTunedCNN
    np.testing.assert_array_equal(loaded.predict_proba(faces), old.predict_proba(faces))
