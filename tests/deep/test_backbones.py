"""The torch backbones: published architectures, loadable weights, real ImageNet predictions."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facefeat.deep import weights as W  # noqa: E402
from facefeat.deep.backbones import BACKBONES, build_backbone, stage_names  # noqa: E402
from facefeat.deep.efficientnet import _SameConv2d  # noqa: E402
from facefeat.deep.embedding import prepare_batch  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

# Parameter counts published with torchvision's weights ("num_params") and,
# for EfficientNet-Lite0, by the TensorFlow release (4.65 M).
PARAMS = {
    "mobilenet_v2": 3_504_872,
    "efficientnet_lite0": 4_652_008,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "efficientnet_b0": 5_288_548,
    "inception_v3": 27_161_264,
}

# ImageNet class indices
CUP = {504, 967, 968}  # coffee mug, espresso, cup
CAT = {281, 282, 285}  # tabby, tiger cat, Egyptian cat


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_architecture_matches_published_size(name):
    model = BACKBONES[name].builder()
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name]
    assert model.feature_dim == BACKBONES[name].feature_dim


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_stages_compose_the_network(name):
    torch.manual_seed(0)
    model = build_backbone(name, weights=None)
    size = 80 if name == "inception_v3" else 64
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        logits = model(x)
        feats = model.forward_features(x)
        by_hand = x
        for stage in model.stages():
            by_hand = stage(by_hand)
    assert logits.shape == (2, 1000)
    assert feats.shape[:2] == (2, model.feature_dim)
    assert torch.equal(feats, by_hand)
    assert tuple(s.name for s in model.stages()) == stage_names(name)
    first = stage_names(name)[1]
    with torch.no_grad():
        assert model.forward_features(x, upto=first).shape[0] == 2
    with pytest.raises(ValueError, match="unknown stage"):
        model.forward_features(x, upto="nope")


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_state_dict_round_trip_is_strict(name, tmp_path):
    torch.manual_seed(1)
    a = build_backbone(name, weights=None)
    path = tmp_path / "w.pth"
    torch.save(a.state_dict(), path)
    b = build_backbone(name, weights=path)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    state = a.state_dict()
    state.pop(next(iter(state)))
    torch.save(state, path)
    with pytest.raises(RuntimeError, match="Missing key"):
        build_backbone(name, weights=path)


def test_tensorflow_same_padding():
    conv = _SameConv2d(1, 1, 3, 2, bias=False)
    for size in (7, 8, 224, 225):
        assert conv(torch.zeros(1, 1, size, size)).shape[-1] == -(-size // 2)


def test_unknown_backbone():
    with pytest.raises(ValueError, match="unknown backbone"):
        build_backbone("vgg16", weights=None)


def _photo(name):
    from skimage import data

    img = getattr(data, name)()
    h, w = img.shape[:2]
    s = min(h, w)
    return img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_imagenet_weights_are_real(name):
    """The ImageNet head, loaded strictly, recognises a cup and a cat.

    Runs for packaged weights and for downloaded ones already in the cache;
    it never downloads (skipped otherwise).
    """
    try:
        W.weights_path(name, download=False)
    except W.WeightsNotFoundError:
        pytest.skip(f"{name} weights are neither packaged nor cached")
    spec = BACKBONES[name]
    model = build_backbone(name, download=False)
    x = torch.from_numpy(prepare_batch([_photo("coffee"), _photo("chelsea")], spec.input_size, spec.mean, spec.std))
    with torch.inference_mode():
        probs = model(x).softmax(1)
    top = probs.argmax(1).tolist()
    assert top[0] in CUP and top[1] in CAT, top
    assert float(probs[0, list(CUP)].sum()) > 0.8
    assert float(probs[1, list(CAT)].sum()) > 0.8
    # random weights do not: the test would catch weights that load but are wrong
    random = build_backbone(name, weights=None)
    with torch.inference_mode():
        assert float(random(x).softmax(1)[0, list(CUP)].sum()) < 0.1
    assert np.isfinite(probs.numpy()).all()
