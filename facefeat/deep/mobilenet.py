"""MobileNetV2 in plain torch, with torchvision's state-dict keys.

References
----------
.. [1] M. Sandler, A. Howard, M. Zhu, A. Zhmoginov and L.-C. Chen,
       "MobileNetV2: Inverted residuals and linear bottlenecks", CVPR 2018.
       :DOI:`10.1109/CVPR.2018.00474`
"""

from torch import nn

from facefeat.deep._layers import _conv_bn_act, _expand_depthwise, _FeaturesClassifier

__all__ = ["MobileNetV2"]


class _InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_res_connect = stride == 1 and cin == cout
        # the projection is two flat items (conv.N, conv.N+1) in torchvision's keys, not a nested unit
        layers = _expand_depthwise(cin, hidden, 3, stride, nn.ReLU6) + [
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(_FeaturesClassifier):
    """MobileNetV2 (width 1.0) with torchvision's module names [1]_.

    Parameters
    ----------
    num_classes : int, default=1000
        Outputs of the final linear layer (1000 ImageNet classes for the
        published weights).
    dropout : float, default=0.2
        Dropout probability before the final linear layer.

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
        self._assemble(layers, dropout, num_classes)
