"""What the backbones share: the stage interface, conv-BN-activation units, weight initialisation.

Module names here are part of the published state-dict keys of the networks
that use them (``0`` / ``1`` inside a conv-BN-activation unit, ``features``
and ``classifier`` of torchvision's layout), so they must not change.
"""

import torch
import torch.nn.functional as F
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Stage:
    """A named run of modules of a backbone, applied in order.

    Stages do not own their modules (the model does, under its published
    state-dict keys); they only group them.

    Parameters
    ----------
    name : str
        The stage's name, e.g. ``"features.17"`` or ``"layer4"``.
    *modules : callable
        Modules (or functions) applied one after the other; a stage maps a
        Tensor of shape (n, c, h, w) to one of shape (n, c', h', w').

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from facefeat.deep.backbones import ResNet, Stage
    >>> stage = Stage("block", nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
    >>> stage
    Stage('block')
    >>> stage(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 8, 16, 16])
    >>> sum(p.numel() for p in stage.parameters())  # 8 * 3 * 3 * 3 weights + 8 biases
    224

    Every backbone lists its network as stages:

    >>> [s.name for s in ResNet(18).stages()]
    ['stem', 'layer1', 'layer2', 'layer3', 'layer4']
    """

    def __init__(self, name, *modules):
        self.name = name
        self.modules = modules

    def __call__(self, x):
        for m in self.modules:
            x = m(x)
        return x

    def parameters(self):
        """All parameters of the stage's modules."""
        for m in self.modules:
            if isinstance(m, nn.Module):
                yield from m.parameters()

    def __repr__(self):
        return f"Stage({self.name!r})"


class _Backbone(nn.Module):
    """Shared forward logic; subclasses define ``stages``, ``head`` and ``feature_dim``."""

    feature_dim = None

    def stages(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def head(self, pooled):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_features(self, x, upto=None):
        """Feature map after stage ``upto`` (the last stage when None).

        Parameters
        ----------
        x : Tensor of shape (n, 3, h, w)
            Normalised images.
        upto : str, optional
            Name of a stage from :meth:`stages`.

        Returns
        -------
        Tensor of shape (n, c, h', w')
        """
        stages = self.stages()
        names = [s.name for s in stages]
        if upto is not None and upto not in names:
            raise ValueError(f"unknown stage {upto!r}; stages are {', '.join(names)}")
        for stage in stages:
            x = stage(x)
            if stage.name == upto:
                break
        return x

    def forward(self, x):
        """ImageNet logits of shape (n, n_classes)."""
        return self.head(torch.flatten(F.adaptive_avg_pool2d(self.forward_features(x), 1), 1))


class _FeaturesClassifier(_Backbone):
    """torchvision's layout: ``features``, whose items are the stages, then ``classifier`` (dropout, linear)."""

    def _assemble(self, layers, dropout, num_classes):
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.feature_dim, num_classes))
        _init_weights(self)

    def stages(self):
        return [Stage(f"features.{i}", m) for i, m in enumerate(self.features)]

    def head(self, pooled):
        return self.classifier(pooled)


def _conv_bn_act(cin, cout, k=3, stride=1, groups=1, act=nn.ReLU6, eps=1e-5):
    """torchvision's Conv2dNormActivation: keys ``0`` (conv) and ``1`` (bn)."""
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout, eps=eps)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


def _expand_depthwise(cin, hidden, k, stride, act):
    """The start of an inverted residual: 1 x 1 expansion to ``hidden`` (none at ratio 1), k x k depthwise."""
    layers = [] if hidden == cin else [_conv_bn_act(cin, hidden, 1, act=act)]
    return layers + [_conv_bn_act(hidden, hidden, k, stride, groups=hidden, act=act)]


def _init_weights(model):
    """He-normal convolutions, unit BatchNorm, small linear layers (for untrained use)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
