"""EfficientNet-Lite0 and EfficientNet-B0 in plain torch, with their published state-dict keys.

Both are built from the same seven stages of MBConv blocks [1]_:
EfficientNet-Lite0 with EfficientNet-PyTorch's keys (its weights are the
TensorFlow release, converted), EfficientNet-B0 with torchvision's.

References
----------
.. [1] M. Tan and Q. V. Le, "EfficientNet: Rethinking model scaling for
       convolutional neural networks", ICML 2019. arXiv:1905.11946
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from facefeat.deep._layers import (
    Stage,
    _Backbone,
    _conv_bn_act,
    _expand_depthwise,
    _FeaturesClassifier,
    _init_weights,
)

__all__ = ["EfficientNetLite0", "EfficientNetB0"]

# EfficientNet-B0's stages of MBConv blocks: expand, kernel, stride, in, out, repeats
_STAGES = ((1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
           (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1))


def _mbconv_stages(block, **kwargs):
    """The blocks of each stage of :data:`_STAGES`, as lists; the first block of a stage changes width and stride."""
    return [[block(cin if i == 0 else cout, cout, k, s if i == 0 else 1, e, **kwargs) for i in range(n)]
            for e, k, s, cin, cout, n in _STAGES]


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
    num_classes, dropout : as in :class:`~facefeat.deep.mobilenet.MobileNetV2`

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

    def __init__(self, num_classes=1000, dropout=0.2):
        super().__init__()
        eps = 1e-3
        self._conv_stem = _tf_conv(3, 32, 3, 2)
        self._bn0 = nn.BatchNorm2d(32, eps=eps)
        self._blocks = nn.ModuleList([b for stage in _mbconv_stages(_LiteMBConv, eps=eps) for b in stage])
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
        layers = _expand_depthwise(cin, hidden, k, stride, nn.SiLU) + [
            _SqueezeExcitation(hidden, max(1, cin // 4)),
            _conv_bn_act(hidden, cout, 1, act=None),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


class EfficientNetB0(_FeaturesClassifier):
    """EfficientNet-B0 with torchvision's module names.

    The seven stages of MBConv blocks of :class:`EfficientNetLite0` (same
    reference), with squeeze-and-excitation, SiLU activations and PyTorch's
    symmetric padding.

    Parameters
    ----------
    num_classes, dropout : as in :class:`~facefeat.deep.mobilenet.MobileNetV2`

    Notes
    -----
    Stages: ``features.0`` (stem) to ``features.8`` (1 x 1 conv to 1280
    channels); ``features.1`` ... ``features.7`` are the seven MBConv stages.
    Stochastic depth (a training-time regulariser) is not implemented.

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
        layers += [nn.Sequential(*stage) for stage in _mbconv_stages(_MBConv)]
        layers.append(_conv_bn_act(320, self.feature_dim, 1, act=nn.SiLU))
        self._assemble(layers, dropout, num_classes)
