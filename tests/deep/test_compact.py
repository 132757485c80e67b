"""CompactCNN and the shared training loop: learning, augmentation, reproducibility, resuming."""

import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

from facefeat.deep._training import (  # noqa: E402
    Augmentation,
    TrainingSettings,
    augment_batch,
    face_tensor,
    mix_batch,
    train_classifier,
    validation_split,
)
from facefeat.deep._classifier import five_crops  # noqa: E402
from facefeat.deep.compact import CompactCNN, compact_net  # noqa: E402

# A narrow network at 32 px on one thread: an epoch over 126 faces takes well under a second
TINY = dict(size=32, width=8, hidden_units=64, dropout=0.1, batch_size=16, n_threads=1, bf16=False)


@pytest.fixture(scope="module")
def data():
    """The synthetic set of the issue (6 subjects x 7 classes x 3 faces = 126), aligned to 64 px."""
    from facefeat.faces.align import FaceAligner
    from facefeat.images.synthetic import make_expressions

    ds = make_expressions()
    return FaceAligner(size=64).fit_transform(ds.images).images, np.asarray(ds.labels), np.asarray(ds.groups)


@pytest.fixture(scope="module")
def faces(data):
    return face_tensor(data[0], 32)


def _weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def _settings(**kw):
    return TrainingSettings(**{"batch_size": 16, "lr": 3e-3, "warmup_epochs": 1, **kw})


def _net(n_classes=7):
    return lambda: compact_net(n_classes, width=8, hidden_units=64, dropout=0.1)


# -- the training loop ----------------------------------------------------- #

def test_loss_falls_on_synthetic_faces(data, faces, one_thread):
    _, labels, groups = data
    y = np.unique(labels, return_inverse=True)[1]
    _, result = train_classifier(_net(), faces, y, 7, groups=groups, random_state=0,
                                 settings=_settings(max_epochs=12, patience=12))
    loss = result.history["train_loss"]
    assert len(loss) == 12 and result.n_validation == 21  # one subject of six held out
    assert np.mean(loss[-3:]) < 0.85 * np.mean(loss[:3]), loss  # 2.04 -> 1.69 on this machine
    scores = result.history["val_score"]
    assert scores[result.best_epoch - 1] == max(scores) > 2 / 7  # macro-F1 of the held-out subject, chance ~1/7
    assert result.images_per_second > 0


def test_augmentation_keeps_shapes_dtypes_and_order(faces):
    gen = torch.Generator().manual_seed(0)
    x = faces[:20]
    out = augment_batch(x, gen)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert 0 <= float(out.min()) and float(out.max()) <= 1
    assert not torch.equal(out, x.float() / 255)
    # each output depends on the input at its own index only, so the labels stay aligned: change one
    # face and only its output changes
    other = x.clone()
    other[5] = 255 - other[5]
    a = augment_batch(x, torch.Generator().manual_seed(3))
    b = augment_batch(other, torch.Generator().manual_seed(3))
    changed = (a != b).flatten(1).any(1)
    assert changed.nonzero().flatten().tolist() == [5]
    # a fresh draw per call, the same one from the same generator state
    a = augment_batch(x, torch.Generator().manual_seed(1))
    assert torch.equal(a, augment_batch(x, torch.Generator().manual_seed(1)))
    assert not torch.equal(a, augment_batch(x, gen))


def test_augmentation_off_is_identity_and_mirror_flips(faces):
    x = faces[:4]
    none = Augmentation(scale=(1, 1), max_shift=0, max_rotation=0, flip=False, brightness=0, contrast=0, gamma=0,
                        erase=0)
    out = augment_batch(x, torch.Generator().manual_seed(0), none)
    torch.testing.assert_close(out, x.float() / 255, atol=2e-5, rtol=0)
    # flip on, nothing else: every image comes back either as it was or mirrored
    only_flip = Augmentation(**{**none.__dict__, "flip": True})
    out = augment_batch(faces[:40], torch.Generator().manual_seed(0), only_flip)
    ref = faces[:40].float() / 255
    same = (out - ref).abs().flatten(1).amax(1) < 2e-5
    mirrored = (out - ref.flip(3)).abs().flatten(1).amax(1) < 2e-5
    assert bool((same | mirrored).all()) and 5 < int(mirrored.sum()) < 35


def test_mixup_blends_each_face_with_its_partner_by_lam(faces):
    x = faces[:16]
    mixed, partner, lam = mix_batch(x, torch.Generator().manual_seed(0), mixup_alpha=0.4)
    assert sorted(partner.tolist()) == list(range(16)) and 0 < lam < 1
    ref = x.float() / 255
    torch.testing.assert_close(mixed, lam * ref + (1 - lam) * ref[partner], atol=1e-6, rtol=0)
    again = mix_batch(x, torch.Generator().manual_seed(0), mixup_alpha=0.4)
    assert torch.equal(again[0], mixed) and again[2] == lam


def test_cutmix_pastes_one_box_whose_area_is_the_partners_share():
    x = torch.rand(16, 1, 32, 32, generator=torch.Generator().manual_seed(0))  # no two pixels alike
    for seed in range(20):
        mixed, partner, lam = mix_batch(x, torch.Generator().manual_seed(seed), cutmix_alpha=1.0)
        from_partner = (mixed == x[partner]) & (mixed != x)  # pixels that changed, all to the partner's
        box = (mixed != x).any(0).any(0)  # (h, w): where any face changed
        rows, cols = box.any(1).nonzero().flatten(), box.any(0).nonzero().flatten()
        if len(rows):  # one rectangle, of area (1 - lam) of the face
            assert box[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()
            assert int(box.sum()) == round((1 - lam) * 32 * 32)
        assert torch.equal(from_partner, mixed != x)
    with pytest.raises(ValueError, match="mixup_alpha > 0 or cutmix_alpha > 0"):
        mix_batch(x, torch.Generator())


@pytest.mark.parametrize("start_from_epoch, epochs_run", [(0, 3), (5, 7)])
def test_early_stopping_counts_stale_epochs_only_after_start_from_epoch(data, faces, one_thread, monkeypatch,
                                                                       start_from_epoch, epochs_run):
    from facefeat.deep import _training

    # a validation score that never improves after the first epoch
    monkeypatch.setattr(_training._Loop, "_evaluate", lambda self: (1.0, 0.5))
    y = np.unique(data[1], return_inverse=True)[1]
    _, result = train_classifier(_net(), faces, y, 7, groups=data[2], random_state=0,
                                 settings=_settings(max_epochs=10, patience=2, start_from_epoch=start_from_epoch))
    assert len(result.history["train_loss"]) == epochs_run and result.best_epoch == 1


def test_same_random_state_same_weights(data, faces, one_thread):
    y = np.unique(data[1], return_inverse=True)[1]
    settings = _settings(max_epochs=3)
    a, ra = train_classifier(_net(), faces, y, 7, groups=data[2], random_state=5, settings=settings)
    b, rb = train_classifier(_net(), faces, y, 7, groups=data[2], random_state=5, settings=settings)
    _assert_same_weights(_weights(a), _weights(b))
    assert ra.history["train_loss"] == rb.history["train_loss"]
    c, _ = train_classifier(_net(), faces, y, 7, groups=data[2], random_state=6, settings=settings)
    assert not torch.equal(a.state_dict()["0.weight"], c.state_dict()["0.weight"])
    # with batches mixed too, and mixing changes what is learnt
    mixing = _settings(max_epochs=3, mixup_alpha=0.4, cutmix_alpha=1.0)
    d, rd = train_classifier(_net(), faces, y, 7, groups=data[2], random_state=5, settings=mixing)
    e, re_ = train_classifier(_net(), faces, y, 7, groups=data[2], random_state=5, settings=mixing)
    _assert_same_weights(_weights(d), _weights(e))
    assert rd.history["train_loss"] == re_.history["train_loss"] != ra.history["train_loss"]


class _Killed(KeyboardInterrupt):
    pass


def test_interrupted_fit_resumes_to_the_same_weights(data, faces, tmp_path, one_thread):
    y = np.unique(data[1], return_inverse=True)[1]
    settings = _settings(max_epochs=4, patience=4)
    whole, whole_result = train_classifier(_net(), faces, y, 7, groups=data[2], random_state=3, settings=settings)

    ckpt = tmp_path / "fit.ckpt"

    def kill_after_2(epoch, history):
        if epoch == 2:
            raise _Killed

    with pytest.raises(_Killed):
        train_classifier(_net(), faces, y, 7, groups=data[2], random_state=3, settings=settings, checkpoint=ckpt,
                         callback=kill_after_2)
    assert torch.load(ckpt, weights_only=True)["epoch"] == 2
    epochs_run = []
    resumed, result = train_classifier(_net(), faces, y, 7, groups=data[2], random_state=3, settings=settings,
                                       checkpoint=ckpt, callback=lambda e, h: epochs_run.append(e))
    assert result.resumed_from == 2 and epochs_run == [3, 4]
    _assert_same_weights(_weights(whole), _weights(resumed))
    assert result.history["train_loss"] == whole_result.history["train_loss"]
    assert result.best_epoch == whole_result.best_epoch
    # a finished checkpoint: nothing left to run, same weights again
    again, result = train_classifier(_net(), faces, y, 7, groups=data[2], random_state=3, settings=settings,
                                     checkpoint=ckpt)
    assert result.resumed_from == 4 and np.isnan(result.images_per_second)
    _assert_same_weights(_weights(whole), _weights(again))


def test_checkpoint_of_another_fit_is_refused(data, faces, tmp_path, one_thread):
    y = np.unique(data[1], return_inverse=True)[1]
    ckpt = tmp_path / "fit.ckpt"
    train_classifier(_net(), faces, y, 7, random_state=0, settings=_settings(max_epochs=1), checkpoint=ckpt)
    with pytest.raises(ValueError, match="other data or with other settings; delete it"):
        train_classifier(_net(), faces, y, 7, random_state=0, settings=_settings(max_epochs=1, lr=1e-2),
                         checkpoint=ckpt)
    ckpt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read the checkpoint"):
        train_classifier(_net(), faces, y, 7, random_state=0, settings=_settings(max_epochs=1), checkpoint=ckpt)


def test_validation_split_holds_out_whole_subjects(data):
    _, labels, groups = data
    train, val = validation_split(labels, groups, 0.15, random_state=0)
    assert len(train) + len(val) == len(labels) and not set(groups[train]) & set(groups[val])
    assert set(labels[train]) == set(labels)
    train, val = validation_split(labels, None, 0.1, random_state=0)
    assert len(val) == 13 and np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(labels)))
    with pytest.warns(UserWarning, match="too few faces per class"):
        train, val = validation_split(np.array([0, 1, 1]), None, 0.5, random_state=0)
    assert len(val) == 0


def test_face_tensor_layouts():
    rgb = np.zeros((2, 40, 40, 3), np.uint8)
    rgb[..., 0] = 255
    gray = face_tensor(rgb, 32)
    assert gray.shape == (2, 1, 32, 32) and gray.dtype == torch.uint8 and int(gray[0, 0, 0, 0]) == 76  # 0.299 * 255
    assert face_tensor([np.full((20, 30), 7.4)], 16, channels=3).shape == (1, 3, 16, 16)
    assert int(face_tensor([np.full((20, 30), 7.6)], 16)[0].max()) == 8


# -- the estimator ----------------------------------------------------------- #

def test_compact_cnn_fits_predicts_and_pickles(data):
    images, labels, groups = data
    clf = CompactCNN(**TINY, max_epochs=2, random_state=0).fit(images, labels, groups=groups)
    proba = clf.predict_proba(images)
    assert proba.shape == (126, 7) and list(clf.classes_) == sorted(set(labels))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(images), clf.classes_[proba.argmax(1)])
    assert clf.n_validation_ == 21 and clf.best_epoch_ in (1, 2) and len(clf.history_["train_loss"]) == 2
    restored = pickle.loads(pickle.dumps(clf))
    assert all(t.device.type == "cpu" for t in restored.model_.state_dict().values())
    np.testing.assert_array_equal(restored.predict_proba(images), proba)
    # mirror TTA: the average of the face and its mirror image
    plain = clf.set_params(flip_tta=False).predict_proba(images[:3])
    mirrored = clf.predict_proba(images[:3, :, ::-1])
    np.testing.assert_allclose((plain + mirrored) / 2, proba[:3], atol=1e-6)
    # crop TTA at half the side: the mean over the whole 32 px face and its four 16 px quarters and centre,
    # each mirrored too
    x = next(clf.set_params(flip_tta=True)._batches(images[:3]))
    views = [x] + [torch.nn.functional.interpolate(x[:, :, r:r + 16, c:c + 16], size=32, mode="bilinear")
                   for r, c in [(8, 8), (0, 0), (0, 16), (16, 0), (16, 16)]]
    with torch.inference_mode():
        expected = sum(clf._mirrored_proba(v) for v in views).double().numpy() / 6
    np.testing.assert_allclose(clf.set_params(crop_tta=0.5).predict_proba(images[:3]), expected, atol=1e-6)
    assert np.abs(expected - proba[:3]).max() > 1e-3


def test_five_crops_are_the_centre_and_corners_resized_back():
    import cv2

    img = np.random.default_rng(0).random((10, 10), dtype=np.float32)
    crops = five_crops(torch.from_numpy(img)[None, None], 0.6)
    for crop, (r, c) in zip(crops, [(2, 2), (0, 0), (0, 4), (4, 0), (4, 4)]):
        np.testing.assert_allclose(crop[0, 0].numpy(), cv2.resize(img[r:r + 6, c:c + 6], (10, 10)), atol=1e-5)


def test_compact_cnn_reproducible_and_resumable(data, tmp_path):
    images, labels, _ = data
    a = CompactCNN(**TINY, max_epochs=2, random_state=1).fit(images, labels)
    b = CompactCNN(**TINY, max_epochs=2, random_state=1).fit(images, labels)
    _assert_same_weights(_weights(a.model_), _weights(b.model_))
    ckpt = tmp_path / "compact.ckpt"
    CompactCNN(**TINY, max_epochs=2, random_state=1, checkpoint=ckpt).fit(images, labels)
    c = CompactCNN(**TINY, max_epochs=2, random_state=1, checkpoint=ckpt).fit(images, labels)
    _assert_same_weights(_weights(a.model_), _weights(c.model_))
    assert np.isnan(c.images_per_second_)


def test_compact_cnn_class_weight_dict_and_rgb(data):
    images, labels, _ = data
    rgb = np.repeat(images[:28, ..., None], 3, axis=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf = CompactCNN(**TINY, max_epochs=1, class_weight={"happiness": 2.0}, validation_fraction=0,
                         random_state=0).fit(rgb, labels[:28])
    assert clf.predict_proba(rgb).shape == (28, len(set(labels[:28])))


@pytest.mark.parametrize("param, value", [("size", 8), ("monitor", "auc"), ("bf16", "yes"), ("max_epochs", 0),
                                          ("mixup_alpha", -1.0), ("crop_tta", 1.0), ("start_from_epoch", -1)])
def test_compact_cnn_refuses_bad_parameters(data, param, value):
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        CompactCNN(**{**TINY, param: value}).fit(data[0][:14], data[1][:14])


def test_compact_net_size():
    net = compact_net(7)
    assert sum(p.numel() for p in net.parameters()) <= 2_000_000
    assert net.eval()(torch.zeros(1, 1, 64, 64)).shape == (1, 7)
