"""ImageNet CNN backbones written in plain torch, with the published state-dict keys.

Every network here is defined without torchvision or timm, with module names
chosen so that the published ImageNet checkpoints load with ``strict=True``:

==================== ============ ================== ========== ================================
name                 input (px)   pooled feature dim stages     checkpoint format
==================== ============ ================== ========== ================================
``mobilenet_v2``     224          1280               19         torchvision
``efficientnet_lite0`` 224        1280               18         EfficientNet-PyTorch (TF port)
``resnet18``         224          512                5          torchvision
``resnet50``         224          2048               5          torchvision
``efficientnet_b0``  224          1280               9          torchvision
``inception_v3``     299          2048               12         torchvision
==================== ============ ================== ========== ================================

Each model exposes the same small interface, used by
:class:`~facefeat.deep.embedding.DeepEmbedding` and
:class:`~facefeat.deep.finetune.FineTunedCNN`:

* ``stages()``: the network up to its last feature map as an ordered list of
  :class:`Stage` (name + modules), so that features can be taken after any
  stage and the last ``k`` stages can be unfrozen for fine-tuning;
* ``head(pooled)``: the ImageNet classifier on globally average-pooled features;
* ``forward(x)``: ImageNet logits of a normalised batch ``(n, 3, h, w)``.

:func:`build_backbone` makes one by name with its weights (see
:mod:`facefeat.deep.weights`); :data:`BACKBONES` says how each expects its
input (size, normalisation). The networks are defined one family a module
(:mod:`~facefeat.deep.mobilenet`, :mod:`~facefeat.deep.efficientnet`,
:mod:`~facefeat.deep.resnet`, :mod:`~facefeat.deep.inception`) and can all be
imported from here.

References
----------
.. [1] M. Sandler, A. Howard, M. Zhu, A. Zhmoginov and L.-C. Chen,
       "MobileNetV2: Inverted residuals and linear bottlenecks", CVPR 2018.
       :DOI:`10.1109/CVPR.2018.00474`
.. [2] K. He, X. Zhang, S. Ren and J. Sun, "Deep residual learning for image
       recognition", CVPR 2016. :DOI:`10.1109/CVPR.2016.90`
.. [3] M. Tan and Q. V. Le, "EfficientNet: Rethinking model scaling for
       convolutional neural networks", ICML 2019. arXiv:1905.11946
.. [4] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna,
       "Rethinking the Inception architecture for computer vision", CVPR 2016.
       :DOI:`10.1109/CVPR.2016.308`
"""

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from facefeat.deep._layers import IMAGENET_MEAN, IMAGENET_STD, Stage
from facefeat.deep.efficientnet import EfficientNetB0, EfficientNetLite0
from facefeat.deep.inception import InceptionV3
from facefeat.deep.mobilenet import MobileNetV2
from facefeat.deep.resnet import ResNet

__all__ = [
    "BACKBONES",
    "BackboneSpec",
    "Stage",
    "MobileNetV2",
    "EfficientNetLite0",
    "ResNet",
    "EfficientNetB0",
    "InceptionV3",
    "FaceNetwork",
    "build_backbone",
    "fuse_batchnorm",
    "stage_names",
]


@dataclass(frozen=True)
class BackboneSpec:
    """How a backbone is built and what input it expects.

    Attributes
    ----------
    builder : callable
        ``builder()`` returns the untrained module (1000 ImageNet classes).
    input_size : int
        Side of the square input the weights were trained at.
    mean, std : tuple of 3 floats
        Per-channel normalisation of RGB values in [0, 1].
    feature_dim : int
        Width of the pooled output of the last stage.
    weights : str
        Name of the ImageNet weights in :data:`facefeat.deep.weights.WEIGHTS`.

    See Also
    --------
    build_backbone : a backbone by name, with its weights.

    Examples
    --------
    The entries of :data:`BACKBONES` are specs; ``builder()`` gives an
    untrained network (no weights are read):

    >>> import torch
    >>> from facefeat.deep.backbones import BACKBONES
    >>> spec = BACKBONES["resnet18"]
    >>> spec.input_size, spec.feature_dim, spec.weights, spec.mean
    (224, 512, 'resnet18', (0.485, 0.456, 0.406))
    >>> model = spec.builder().eval()
    >>> model.forward_features(torch.zeros(1, 3, 64, 64)).shape  # (n, feature_dim, h / 32, w / 32)
    torch.Size([1, 512, 2, 2])
    >>> BACKBONES["inception_v3"].input_size
    299
    """

    builder: object
    input_size: int
    mean: tuple
    std: tuple
    feature_dim: int
    weights: str


BACKBONES = {
    "mobilenet_v2": BackboneSpec(MobileNetV2, 224, IMAGENET_MEAN, IMAGENET_STD, 1280, "mobilenet_v2"),
    "efficientnet_lite0": BackboneSpec(EfficientNetLite0, 224, (127 / 255,) * 3, (128 / 255,) * 3, 1280,
                                       "efficientnet_lite0"),
    "resnet18": BackboneSpec(lambda: ResNet(18), 224, IMAGENET_MEAN, IMAGENET_STD, 512, "resnet18"),
    "resnet50": BackboneSpec(lambda: ResNet(50), 224, IMAGENET_MEAN, IMAGENET_STD, 2048, "resnet50"),
    "efficientnet_b0": BackboneSpec(EfficientNetB0, 224, IMAGENET_MEAN, IMAGENET_STD, 1280, "efficientnet_b0"),
    "inception_v3": BackboneSpec(InceptionV3, 299, (0.5,) * 3, (0.5,) * 3, 2048, "inception_v3"),
}


class FaceNetwork(nn.Module):
    """A backbone cut after a stage, pooled to a grid, with a classification head, for faces.

    Made by :func:`facefeat.deep.finetune.face_network`, which also builds
    the head.

    Parameters
    ----------
    backbone : torch.nn.Module
        A network of this module.
    upto : str
        The last stage run.
    pool_grid : int
        Its output is average-pooled to ``pool_grid`` x ``pool_grid``.
    classifier : torch.nn.Module
        Maps the flattened pooled features to logits.
    mean, std : tuple of 3 floats
        The backbone's input normalisation of values in [0, 1].

    Examples
    --------
    >>> net = FaceNetwork(ResNet(18), "layer2", 1, nn.Linear(128, 3), IMAGENET_MEAN, IMAGENET_STD)
    >>> net.eval()(torch.rand(2, 1, 32, 32)).shape  # gray input is repeated over 3 channels
    torch.Size([2, 3])
    """

    def __init__(self, backbone, upto, pool_grid, classifier, mean, std):
        super().__init__()
        self.backbone, self.upto, self.pool_grid, self.classifier = backbone, upto, pool_grid, classifier
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    def stages(self):
        """The stages of the backbone that run, input to output."""
        stages = self.backbone.stages()
        return stages[:[s.name for s in stages].index(self.upto) + 1]

    def forward(self, x):
        """Logits of faces (n, 1 or 3, h, w) with values in [0, 1]."""
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = (x - self.mean) / self.std
        features = self.backbone.forward_features(x, self.upto)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(features, self.pool_grid), 1))


def get_spec(name):
    """The :class:`BackboneSpec` of a backbone name, with a clear error for unknown names."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(sorted(BACKBONES))}") from None


@lru_cache(maxsize=None)
def stage_names(name):
    """Names of the stages of a backbone, input to output.

    Examples
    --------
    >>> stage_names("resnet18")
    ('stem', 'layer1', 'layer2', 'layer3', 'layer4')
    """
    with torch.device("meta"):
        model = get_spec(name).builder()
    return tuple(s.name for s in model.stages())


def build_backbone(name, weights="imagenet", *, download=True):
    """Build a backbone by name, with its weights loaded strictly, in eval mode.

    Parameters
    ----------
    name : str
        A key of :data:`BACKBONES`.
    weights : "imagenet", None, or str / path-like
        ``"imagenet"``: the published ImageNet weights, found by
        :func:`facefeat.deep.weights.weights_path` (packaged, cached or
        downloaded); ``None``: random initialisation (for tests and training
        from scratch); a path: a state-dict or TorchScript file with the same
        keys (see :func:`facefeat.deep.weights.load_state_dict`).
    download : bool, default=True
        Allow downloading ImageNet weights that are neither packaged nor cached.

    Returns
    -------
    torch.nn.Module
        In eval mode, on the CPU, with ``requires_grad`` set on all parameters.

    Raises
    ------
    RuntimeError
        A state dict whose keys or shapes do not match (``strict=True``).

    Examples
    --------
    >>> net = build_backbone("resnet18", weights=None)
    >>> type(net).__name__, net.feature_dim, net.training
    ('ResNet', 512, False)
    """
    from facefeat.deep import weights as _weights

    spec = get_spec(name)
    model = spec.builder()
    if weights is not None:
        if isinstance(weights, str) and weights == "imagenet":
            path = _weights.weights_path(spec.weights, download=download)
        else:
            path = weights
        model.load_state_dict(_weights.load_state_dict(path), strict=True)
    return model.eval()


def fuse_batchnorm(model, example=None):
    """Fold every BatchNorm that directly follows a convolution into it, for inference.

    ``y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta`` is a convolution
    with scaled weights and a bias, so the BatchNorm (replaced by
    ``nn.Identity``) costs nothing. On a CPU this makes MobileNetV2 about
    1.5x faster. The pairs are found by running ``example`` through the model
    and matching each BatchNorm's input tensor to the convolution that made
    it. The result is checked against the original on ``example``; when they
    disagree the model is returned unchanged.

    Parameters
    ----------
    model : torch.nn.Module
        A backbone in eval mode; modified in place (copy it first to keep it).
    example : Tensor of shape (1, 3, h, w), optional
        Default: zeros of 1 x 3 x 80 x 80.

    Returns
    -------
    torch.nn.Module
        ``model``, for inference only (its state-dict keys have changed).

    Examples
    --------
    >>> net = build_backbone("mobilenet_v2", weights=None)
    >>> x = torch.randn(1, 3, 64, 64)
    >>> with torch.no_grad():
    ...     before = net(x)
    ...     after = fuse_batchnorm(net)(x)
    >>> sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()), bool(torch.allclose(before, after, atol=1e-4))
    (0, True)
    """
    import copy

    if example is None:
        example = torch.zeros(1, 3, 80, 80)
    made, pairs, hooks = {}, [], []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            # keep the output alive so that its id() cannot be reused during the pass
            hooks.append(m.register_forward_hook(lambda mod, inp, out: made.__setitem__(id(out), (mod, out))))
        elif isinstance(m, nn.BatchNorm2d):
            hooks.append(m.register_forward_pre_hook(lambda mod, inp: pairs.append((made.get(id(inp[0])), mod))))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        expected = model(example)
    for h in hooks:
        h.remove()
    made.clear()
    consumers = {}
    for conv_out, bn in pairs:
        if conv_out is not None:
            consumers.setdefault(id(conv_out[0]), []).append((conv_out[0], bn))
    backup = copy.deepcopy(model.state_dict())
    parents = {id(child): (parent, name) for parent in model.modules() for name, child in parent.named_children()}
    replaced = []
    with torch.no_grad():
        for items in consumers.values():
            if len(items) != 1:  # a conv feeding two BatchNorms: leave it
                continue
            conv, bn = items[0]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
            conv.weight.mul_(scale.view(-1, 1, 1, 1))
            conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias, requires_grad=False)
            parent, name = parents[id(bn)]
            setattr(parent, name, nn.Identity())
            replaced.append((parent, name, bn, conv))
        ok = torch.allclose(model(example), expected, rtol=1e-3, atol=1e-3)
    if not ok:  # pragma: no cover - a structure this function does not understand
        for parent, name, bn, conv in replaced:
            setattr(parent, name, bn)
            conv.bias = None
        model.load_state_dict(backup)
    model.train(was_training)
    return model
