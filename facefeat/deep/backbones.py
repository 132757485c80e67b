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
input (size, normalisation).

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

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BACKBONES",
    "BackboneSpec",
    "Stage",
    "MobileNetV2",
    "EfficientNetLite0",
    "ResNet",
    "EfficientNetB0",
    "InceptionV3",
    "build_backbone",
    "fuse_batchnorm",
    "stage_names",
]

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


# --------------------------------------------------------------------------- #
# MobileNetV2 (torchvision keys)


def _conv_bn_act(cin, cout, k=3, stride=1, groups=1, act=nn.ReLU6, eps=1e-5):
    """torchvision's Conv2dNormActivation: keys ``0`` (conv) and ``1`` (bn)."""
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout, eps=eps)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class _InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_res_connect = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers.append(_conv_bn_act(cin, hidden, 1))
        layers += [
            _conv_bn_act(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(_Backbone):
    """MobileNetV2 (width 1.0) with torchvision's module names [1]_.

    Parameters
    ----------
    num_classes : int, default=1000
    dropout : float, default=0.2

    Notes
    -----
    Stages are ``features.0`` (stem) to ``features.18`` (the 1 x 1 conv to
    1280 channels); the pooled output of ``features.18`` has 1280 features.

    References
    ----------
    .. [1] M. Sandler et al., "MobileNetV2: Inverted residuals and linear
           bottlenecks", CVPR 2018. :DOI:`10.1109/CVPR.2018.00474`

    Examples
    --------
    >>> import torch
    >>> net = MobileNetV2().eval()
    >>> net(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 1000])
    >>> [s.name for s in net.stages()][-2:]
    ['features.17', 'features.18']
    """

    feature_dim = 1280
    # t (expansion), c (channels), n (repeats), s (stride of the first)
    _SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1))

    def __init__(self, num_classes=1000, dropout=0.2):
        super().__init__()
        layers = [_conv_bn_act(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in self._SETTING:
            for i in range(n):
                layers.append(_InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(_conv_bn_act(cin, self.feature_dim, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.feature_dim, num_classes))
        _init_weights(self)

    def stages(self):
        return [Stage(f"features.{i}", m) for i, m in enumerate(self.features)]

    def head(self, pooled):
        return self.classifier(pooled)


# --------------------------------------------------------------------------- #
# EfficientNet-Lite0 (EfficientNet-PyTorch keys, converted from TensorFlow)


class _SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's "SAME" padding (asymmetric for stride 2)."""

    def forward(self, x):
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        pad_h = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pad_w = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _tf_conv(cin, cout, k, stride=1, groups=1):
    if stride == 1:  # "SAME" is symmetric for stride 1 and odd kernels
        return nn.Conv2d(cin, cout, k, 1, (k - 1) // 2, groups=groups, bias=False)
    return _SameConv2d(cin, cout, k, stride, groups=groups, bias=False)


class _LiteMBConv(nn.Module):
    """MBConv without squeeze-excitation, ReLU6 activations (EfficientNet-Lite)."""

    def __init__(self, cin, cout, k, stride, expand, eps):
        super().__init__()
        hidden = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = _tf_conv(cin, hidden, 1)
            self._bn0 = nn.BatchNorm2d(hidden, eps=eps)
        self._depthwise_conv = _tf_conv(hidden, hidden, k, stride, groups=hidden)
        self._bn1 = nn.BatchNorm2d(hidden, eps=eps)
        self._project_conv = _tf_conv(hidden, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=eps)
        self.residual = stride == 1 and cin == cout

    def forward(self, inputs):
        x = inputs
        if self.expand:
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.residual else x


class EfficientNetLite0(_Backbone):
    """EfficientNet-Lite0 with EfficientNet-PyTorch's module names [1]_.

    The Lite variants drop squeeze-and-excitation, use ReLU6, and keep the
    stem and head fixed in size, so that they quantise well. The weights
    come from the TensorFlow release, hence TensorFlow's "SAME" padding for
    strided convolutions, BatchNorm epsilon 1e-3 and inputs scaled as
    ``(x - 127) / 128`` (x in 0..255).

    Parameters
    ----------
    num_classes : int, default=1000
    dropout : float, default=0.2

    Notes
    -----
    Stages: ``stem``, ``blocks.0`` ... ``blocks.15``, ``head`` (1 x 1 conv to
    1280 channels).

    References
    ----------
    .. [1] M. Tan and Q. V. Le, "EfficientNet: Rethinking model scaling for
           convolutional neural networks", ICML 2019. arXiv:1905.11946

    Examples
    --------
    >>> import torch
    >>> EfficientNetLite0().eval()(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 1000])
    """

    feature_dim = 1280
    # expand, kernel, stride, in, out, repeats (EfficientNet-B0 blocks)
    _SETTING = ((1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1))

    def __init__(self, num_classes=1000, dropout=0.2):
        super().__init__()
        eps = 1e-3
        self._conv_stem = _tf_conv(3, 32, 3, 2)
        self._bn0 = nn.BatchNorm2d(32, eps=eps)
        blocks = []
        for e, k, s, cin, cout, n in self._SETTING:
            for i in range(n):
                blocks.append(_LiteMBConv(cin if i == 0 else cout, cout, k, s if i == 0 else 1, e, eps))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _tf_conv(320, self.feature_dim, 1)
        self._bn1 = nn.BatchNorm2d(self.feature_dim, eps=eps)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(self.feature_dim, num_classes)
        _init_weights(self)

    def stages(self):
        return ([Stage("stem", self._conv_stem, self._bn0, F.relu6)]
                + [Stage(f"blocks.{i}", b) for i, b in enumerate(self._blocks)]
                + [Stage("head", self._conv_head, self._bn1, F.relu6)])

    def head(self, pooled):
        return self._fc(self._dropout(pooled))


# --------------------------------------------------------------------------- #
# ResNet-18 / ResNet-50 (torchvision keys)


class _BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # stride here: "ResNet v1.5"
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(_Backbone):
    """ResNet with torchvision's module names [1]_ (ResNet-18 and ResNet-50).

    Parameters
    ----------
    depth : {18, 50}, default=18
    num_classes : int, default=1000

    Notes
    -----
    Stages: ``stem`` (conv1, bn1, relu, maxpool), ``layer1`` ... ``layer4``.
    The pooled output of ``layer4`` has 512 (ResNet-18) or 2048 (ResNet-50)
    features. ResNet-50 puts the stride of a downsampling block on its 3 x 3
    convolution, as torchvision does.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Deep residual learning for
           image recognition", CVPR 2016. :DOI:`10.1109/CVPR.2016.90`

    Examples
    --------
    >>> import torch
    >>> ResNet(18).eval()(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 1000])
    """

    _LAYERS = {18: (_BasicBlock, (2, 2, 2, 2)), 50: (_Bottleneck, (3, 4, 6, 3))}

    def __init__(self, depth=18, num_classes=1000):
        super().__init__()
        if depth not in self._LAYERS:
            raise ValueError(f"depth must be one of {sorted(self._LAYERS)}, got {depth}")
        block, counts = self._LAYERS[depth]
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), counts)):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or cin != planes * block.expansion:
                down = nn.Sequential(nn.Conv2d(cin, planes * block.expansion, 1, stride, bias=False),
                                     nn.BatchNorm2d(planes * block.expansion))
            blocks = [block(cin, planes, stride, down)]
            cin = planes * block.expansion
            blocks += [block(cin, planes) for _ in range(n - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.feature_dim = cin
        self.fc = nn.Linear(cin, num_classes)
        _init_weights(self)

    def stages(self):
        return [Stage("stem", self.conv1, self.bn1, self.relu, self.maxpool)] + [
            Stage(f"layer{i}", getattr(self, f"layer{i}")) for i in range(1, 5)
        ]

    def head(self, pooled):
        return self.fc(pooled)


# --------------------------------------------------------------------------- #
# EfficientNet-B0 (torchvision keys)


class _SqueezeExcitation(nn.Module):
    def __init__(self, channels, squeeze):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x):
        s = F.silu(self.fc1(F.adaptive_avg_pool2d(x, 1)))
        return x * torch.sigmoid(self.fc2(s))


class _MBConv(nn.Module):
    def __init__(self, cin, cout, k, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = []
        if hidden != cin:
            layers.append(_conv_bn_act(cin, hidden, 1, act=nn.SiLU))
        layers += [
            _conv_bn_act(hidden, hidden, k, stride, groups=hidden, act=nn.SiLU),
            _SqueezeExcitation(hidden, max(1, cin // 4)),
            _conv_bn_act(hidden, cout, 1, act=None),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


class EfficientNetB0(_Backbone):
    """EfficientNet-B0 with torchvision's module names [1]_.

    Parameters
    ----------
    num_classes : int, default=1000
    dropout : float, default=0.2

    Notes
    -----
    Stages: ``features.0`` (stem) to ``features.8`` (1 x 1 conv to 1280
    channels); ``features.1`` ... ``features.7`` are the seven MBConv stages.
    Stochastic depth (a training-time regulariser) is not implemented.

    References
    ----------
    .. [1] M. Tan and Q. V. Le, "EfficientNet: Rethinking model scaling for
           convolutional neural networks", ICML 2019. arXiv:1905.11946

    Examples
    --------
    >>> import torch
    >>> EfficientNetB0().eval()(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 1000])
    """

    feature_dim = 1280

    def __init__(self, num_classes=1000, dropout=0.2):
        super().__init__()
        layers = [_conv_bn_act(3, 32, 3, 2, act=nn.SiLU)]
        for e, k, s, cin, cout, n in EfficientNetLite0._SETTING:
            layers.append(nn.Sequential(*[_MBConv(cin if i == 0 else cout, cout, k, s if i == 0 else 1, e)
                                          for i in range(n)]))
        layers.append(_conv_bn_act(320, self.feature_dim, 1, act=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.feature_dim, num_classes))
        _init_weights(self)

    def stages(self):
        return [Stage(f"features.{i}", m) for i, m in enumerate(self.features)]

    def head(self, pooled):
        return self.classifier(pooled)


# --------------------------------------------------------------------------- #
# Inception-v3 (torchvision keys)


class _BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class _InceptionA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = _BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = _BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = _BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = _BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = _BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = _BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = _BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([b1, b5, b3, bp], 1)


class _InceptionB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = _BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = _BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = _BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = _BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class _InceptionC(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = _BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = _BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = _BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = _BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = _BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = _BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for i in range(1, 6):
            bd = getattr(self, f"branch7x7dbl_{i}")(bd)
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([b1, b7, bd, bp], 1)


class _InceptionD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = _BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = _BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = _BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = _BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f"branch7x7x3_{i}")(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class _InceptionE(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch1x1 = _BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = _BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = _BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = _BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = _BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = _BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = _BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([b1, b3, bd, bp], 1)


class _InceptionAux(nn.Module):
    def __init__(self, cin, num_classes):
        super().__init__()
        self.conv0 = _BasicConv2d(cin, 128, kernel_size=1)
        self.conv1 = _BasicConv2d(128, 768, kernel_size=5)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x):
        x = self.conv1(self.conv0(F.avg_pool2d(x, kernel_size=5, stride=3)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InceptionV3(_Backbone):
    """Inception-v3 with torchvision's module names [1]_.

    The auxiliary classifier ``AuxLogits`` is kept (the published checkpoint
    has its weights, and ``strict=True`` loading needs them) but never run.

    Parameters
    ----------
    num_classes : int, default=1000
    dropout : float, default=0.5
    transform_input : bool, default=False
        torchvision's option: take ImageNet-normalised input and re-normalise
        it to the ``(x - 0.5) / 0.5`` that the ported TensorFlow weights
        expect. facefeat normalises to ``(x - 0.5) / 0.5`` directly instead
        (see :data:`BACKBONES`), so it stays off.

    Notes
    -----
    Stages: ``stem`` (``Conv2d_1a_3x3`` ... ``maxpool2``), ``Mixed_5b`` ...
    ``Mixed_7c``; the pooled output of ``Mixed_7c`` has 2048 features. Inputs
    must be at least 75 x 75.

    References
    ----------
    .. [1] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna,
           "Rethinking the Inception architecture for computer vision", CVPR
           2016. :DOI:`10.1109/CVPR.2016.308`

    Examples
    --------
    >>> import torch
    >>> InceptionV3().eval()(torch.zeros(1, 3, 75, 75)).shape
    torch.Size([1, 1000])
    """

    feature_dim = 2048

    def __init__(self, num_classes=1000, dropout=0.5, transform_input=False):
        super().__init__()
        self.transform_input = transform_input
        self.Conv2d_1a_3x3 = _BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = _BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = _BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = _BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = _BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = _InceptionA(192, pool_features=32)
        self.Mixed_5c = _InceptionA(256, pool_features=64)
        self.Mixed_5d = _InceptionA(288, pool_features=64)
        self.Mixed_6a = _InceptionB(288)
        self.Mixed_6b = _InceptionC(768, c7=128)
        self.Mixed_6c = _InceptionC(768, c7=160)
        self.Mixed_6d = _InceptionC(768, c7=160)
        self.Mixed_6e = _InceptionC(768, c7=192)
        self.AuxLogits = _InceptionAux(768, num_classes)
        self.Mixed_7a = _InceptionD(768)
        self.Mixed_7b = _InceptionE(1280)
        self.Mixed_7c = _InceptionE(2048)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2048, num_classes)
        _init_weights(self)

    def _transform(self, x):
        if not self.transform_input:
            return x
        mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
        return (x * std + mean - 0.5) / 0.5

    _MIXED = ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
              "Mixed_7a", "Mixed_7b", "Mixed_7c")

    def stages(self):
        stem = Stage("stem", self._transform, self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3,
                     self.maxpool1, self.Conv2d_3b_1x1, self.Conv2d_4a_3x3, self.maxpool2)
        return [stem] + [Stage(n, getattr(self, n)) for n in self._MIXED]

    def head(self, pooled):
        return self.fc(self.dropout(pooled))


# --------------------------------------------------------------------------- #


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
