"""CompactCNN: a small CNN trained from scratch on small gray faces, as a scikit-learn classifier."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from facefeat.deep._classifier import TRAINING_CONSTRAINTS, FaceCNNClassifier

__all__ = ["compact_net", "CompactCNN"]

def _conv_bn_relu(cin, cout):
    from torch import nn

    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def compact_net(n_classes, width=32, hidden_units=256, dropout=0.3, in_channels=1, grid=3):
    """A VGG-style network of four stages for 48-64 px faces (1.75M parameters at the defaults).

    Stage ``i`` has ``width * 2**i`` channels: one 3 x 3 convolution in the
    first stage, two in the others, each followed by BatchNorm and ReLU, and
    a 2 x 2 max-pooling. The last feature map is average-pooled to a
    ``grid`` x ``grid`` grid (3 x 3 from a 48 px input, so the head still
    knows where a feature is: brows, eyes, mouth), then dropout, a
    ``hidden_units`` linear layer with ReLU, dropout and the output layer.

    Parameters
    ----------
    n_classes : int
    width : int, default=32
        Channels of the first stage.
    hidden_units : int, default=256
    dropout : float, default=0.3
    in_channels : int, default=1
    grid : int, default=3

    Returns
    -------
    torch.nn.Sequential
        Maps (n, in_channels, h, w) floats to (n, n_classes) logits, for
        any h, w of 16 or more.

    Examples
    --------
    >>> import torch
    >>> net = compact_net(7)
    >>> sum(p.numel() for p in net.parameters())
    1755239
    >>> net.eval()(torch.zeros(2, 1, 48, 48)).shape
    torch.Size([2, 7])
    """
    from torch import nn

    layers, c = [], in_channels
    for stage in range(4):
        out = width * 2 ** stage
        for _ in range(1 if stage == 0 else 2):
            layers += _conv_bn_relu(c, out)
            c = out
        layers.append(nn.MaxPool2d(2))
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(grid), nn.Flatten(), nn.Dropout(dropout),
                        nn.Linear(c * grid * grid, hidden_units), nn.ReLU(inplace=True), nn.Dropout(dropout),
                        nn.Linear(hidden_units, n_classes))
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return net


class CompactCNN(FaceCNNClassifier):
    """A compact CNN trained from scratch on small gray faces.

    The network is :func:`compact_net`, a VGG-style stack of four
    convolution stages (32-256 channels, 1.75M parameters) after the small
    VGG networks of the FER2013 literature [2]_, sized like mini-Xception
    [1]_ for CPU training. It is trained by
    :func:`facefeat.deep._training.train_classifier`: fresh random
    augmentation of every face in every epoch (crop, shift, rotation,
    mirror, brightness, contrast, gamma, random erasing), AdamW with a
    warm-up then a cosine learning-rate schedule, label smoothing, class
    weights, and early stopping on a validation split of the training faces
    (whole subjects when ``groups`` are given), keeping the best epoch.

    Parameters
    ----------
    size : int, default=48
        Side of the network's input; faces are resized to it. 48 is FER2013's
        own size and trains 1.6x faster than 64 (442 against 283 images/s
        on one thread of a 2-core Xeon with AMX, bf16).
    width : int, default=32
        Channels of the first stage (doubled in each of the next three).
    hidden_units : int, default=256
    dropout : float, default=0.3
    max_epochs : int, default=60
    patience : int, default=10
        Epochs without a better validation score before training stops.
    start_from_epoch : int, default=0
        Epochs that do not count towards ``patience``, so that a long cosine
        schedule reaches its low learning rates (see
        :class:`~facefeat.deep._training.TrainingSettings`).
    batch_size : int, default=64
    lr : float, default=2e-3
        Peak AdamW learning rate.
    weight_decay : float, default=1e-2
    warmup_epochs : float, default=2.0
    label_smoothing : float, default=0.1
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the loss; a dict maps labels to weights.
        ``"balanced"`` favours macro-F1 on imbalanced data but slows the
        start: on 6,000 FER2013 faces, 4 epochs left the test accuracy at
        0.11 with it and 0.33 without.
    validation_fraction : float, default=0.1
        Share of the training faces held out for early stopping (0: none).
    monitor : {"f1_macro", "accuracy", "loss"}, default="f1_macro"
        The validation score that picks the best epoch.
    augment : bool, default=True
    mixup_alpha, cutmix_alpha : float, default=0.0
        Mix each training batch by mixup or CutMix, as
        :class:`~facefeat.deep._training.TrainingSettings` takes them (0: off).
    flip_tta : bool, default=True
        In prediction, average the probabilities of each face and its mirror image.
    crop_tta : float, default=0.0
        In prediction, also average over five crops of each face (the centre
        and the four corners, each resized back to the input), whose side is
        this fraction of the face's; 0 turns them off. Six times the
        forward passes. On FER2013 PublicTest, 0.9 raised the fine-tuned
        MobileNetV2's accuracy from 0.654 to 0.667 and left this network's
        at 0.663-0.665.
    bf16 : "auto" or bool, default="auto"
        Train under bfloat16 autocast (weights stay float32); ``"auto"``: on
        CPUs with AMX, where it is about 2.2x faster (442 against 203
        images/s at 48 px on one thread). Prediction runs in float32.
    checkpoint : str or path, optional
        File saved after every epoch; a killed ``fit`` run again with the
        same data, parameters and checkpoint resumes after the last
        finished epoch and ends with the same weights.
    random_state : int, RandomState or None, default=None
        With an int, ``fit`` gives identical weights on the same data,
        machine and thread count.
    device : str, default="cpu"
        Torch device or ``"auto"``.
    n_threads : int, optional
        Torch intra-op threads during fit and predict (restored afterwards).
    progress : bool, default=False
        A progress bar per epoch (loss) and a line per epoch with the
        validation score.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    model_ : torch.nn.Module
        The trained network (eval mode, on the CPU after unpickling).
    history_ : dict of str to list of float
        Per epoch ``train_loss``, ``val_loss``, ``val_score``, ``lr``, ``seconds``.
    best_epoch_ : int
        The epoch whose weights were kept.
    n_validation_ : int
        Faces held out for early stopping.
    images_per_second_ : float
        Training throughput of the last ``fit`` (nan when it only restored
        a finished checkpoint).

    Notes
    -----
    ``fit`` and ``predict`` take a :class:`~facefeat.faces.batch.FaceBatch`,
    an array of shape (n, h, w) or (n, h, w, 3), or a list of such images,
    on the 0..255 scale; RGB faces are turned gray.

    Where this departs from the papers. Mini-Xception [1]_ is built from
    depthwise-separable convolutions; their backward pass is slow on a CPU
    in torch (widened to 0.73M parameters, such a network trained at 49
    images/s on one thread here, against 170 for 1.2M parameters of plain
    3 x 3 convolutions, float32), so the stages are
    plain convolutions as in the VGG variants of [2]_, at a quarter of
    their widths and with a one-convolution first stage, and the head reads
    a 3 x 3 average-pooled grid through a 256-unit layer instead of two
    4096-unit layers of the flattened map. [2]_ trains with SGD, Nesterov
    momentum and a plateau schedule for 300 epochs; here AdamW [3]_ with a
    warm-up and cosine schedule reaches its plateau in tens of epochs.

    References
    ----------
    .. [1] O. Arriaga, M. Valdenegro-Toro and P. Plöger, "Real-time
           convolutional neural networks for emotion and gender
           classification", 2017. arXiv:1710.07557
    .. [2] Y. Khaireddin and Z. Chen, "Facial emotion recognition: State of
           the art performance on FER2013", 2021. arXiv:2105.03588
    .. [3] I. Loshchilov and F. Hutter, "Decoupled weight decay
           regularization", ICLR 2019. arXiv:1711.05101

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, (16, 48, 48), dtype=np.uint8)
    >>> y = np.array(["happy", "sad"] * 8)
    >>> clf = CompactCNN(width=8, max_epochs=2, validation_fraction=0, random_state=0, n_threads=1).fit(X, y)
    >>> clf.predict_proba(X).shape, clf.predict(X[:2]).shape, len(clf.history_["train_loss"])
    ((16, 2), (2,), 2)
    """

    _parameter_constraints = {
        "size": [Interval(Integral, 16, None, closed="left")],
        "width": [Interval(Integral, 1, None, closed="left")],
        "hidden_units": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(self, size=48, width=32, hidden_units=256, dropout=0.3, max_epochs=60, patience=10,
                 start_from_epoch=0, batch_size=64, lr=2e-3, weight_decay=1e-2, warmup_epochs=2.0,
                 label_smoothing=0.1, class_weight=None, validation_fraction=0.1, monitor="f1_macro", augment=True,
                 mixup_alpha=0.0, cutmix_alpha=0.0, flip_tta=True, crop_tta=0.0, bf16="auto", checkpoint=None,
                 random_state=None, device="cpu", n_threads=None, progress=False):
        self.size = size
        self.width = width
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.patience = patience
        self.start_from_epoch = start_from_epoch
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_epochs = warmup_epochs
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.monitor = monitor
        self.augment = augment
        self.mixup_alpha = mixup_alpha
        self.cutmix_alpha = cutmix_alpha
        self.flip_tta = flip_tta
        self.crop_tta = crop_tta
        self.bf16 = bf16
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.progress = progress

    def _input_size(self):
        return self.size

    def _network(self, n_classes, pretrained):
        return compact_net(n_classes, self.width, self.hidden_units, self.dropout)
