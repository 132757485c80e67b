"""ResNet-18 and ResNet-50 in plain torch, with torchvision's state-dict keys.

References
----------
.. [1] K. He, X. Zhang, S. Ren and J. Sun, "Deep residual learning for image
       recognition", CVPR 2016. :DOI:`10.1109/CVPR.2016.90`
"""

from torch import nn

from facefeat.deep._layers import Stage, _Backbone, _init_weights

__all__ = ["ResNet"]


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
