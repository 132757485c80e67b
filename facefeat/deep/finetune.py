"""FineTunedCNN: a pretrained CNN fine-tuned end to end on faces, as a scikit-learn classifier."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, InvalidParameterError

from facefeat.deep._classifier import (
    NETWORK_CONSTRAINTS,
    TRAINING_CONSTRAINTS,
    FaceCNNClassifier,
    amx,
)
from facefeat.deep.embedding import input_size_for

__all__ = ["face_network", "FineTunedCNN"]

# backbones built from depthwise convolutions, whose training bf16 autocast does not speed up on a CPU
_DEPTHWISE = {"mobilenet_v2", "efficientnet_lite0", "efficientnet_b0"}


def face_network(backbone, n_classes, *, weights="imagenet", layer="penultimate", pool_grid=1, head="linear",
                 hidden_units=256, dropout=0.2, input_size=None):
    """A pretrained backbone cut at a stage, with a new classification head, for gray faces.

    Parameters
    ----------
    backbone : str
        A key of :data:`facefeat.deep.backbones.BACKBONES`.
    n_classes : int
    weights : "imagenet", None, or path, default="imagenet"
        Initial backbone weights, as in :func:`facefeat.deep.backbones.build_backbone`.
    layer : str, default="penultimate"
        The stage whose output the head reads (the last one for
        ``"penultimate"``); later stages are never run.
    pool_grid : int, default=1
        That output is average-pooled to a ``pool_grid`` x ``pool_grid`` grid.
    head : {"linear", "mlp"}, default="linear"
        ``linear``: dropout and a linear layer; ``mlp``: a linear layer to
        ``hidden_units``, ReLU, dropout, linear layer.
    hidden_units : int, default=256
    dropout : float, default=0.2
    input_size : int, optional
        Side of the faces it will take (default: the backbone's own, 224 or
        299); checked here, so that an input too small for the stages up to
        ``layer`` is a clear error.

    Returns
    -------
    torch.nn.Module
        Maps gray faces (n, 1, h, w) or RGB faces (n, 3, h, w), values in
        [0, 1], to logits (n, n_classes). It repeats gray faces over three
        channels and applies the backbone's ImageNet normalisation itself.
        ``model.stages()`` lists the stages it runs, input to output.

    Examples
    --------
    >>> import torch
    >>> net = face_network("resnet18", 7, weights=None, layer="layer3", pool_grid=2)
    >>> [s.name for s in net.stages()]
    ['stem', 'layer1', 'layer2', 'layer3']
    >>> net.eval()(torch.rand(2, 1, 64, 64)).shape
    torch.Size([2, 7])
    """
    import torch
    from torch import nn

    from facefeat.deep.backbones import FaceNetwork, build_backbone, get_spec

    spec = get_spec(backbone)
    net = build_backbone(backbone, weights)
    names = [s.name for s in net.stages()]
    if layer != "penultimate" and layer not in names:
        raise ValueError(f"unknown stage {layer!r} of {backbone}; stages are {', '.join(names)}")
    upto = names[-1] if layer == "penultimate" else layer
    input_size = input_size or spec.input_size
    try:
        with torch.no_grad():
            dim = net.forward_features(torch.zeros(1, 3, input_size, input_size), upto).shape[1] * pool_grid ** 2
    except RuntimeError as exc:  # a kernel larger than what is left of the input
        raise ValueError(f"a {input_size} px input is too small for {backbone} up to {upto} ({exc}); use a larger "
                         "input_size or an earlier layer") from None
    if head == "linear":
        classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, n_classes))
    else:
        classifier = nn.Sequential(nn.Linear(dim, hidden_units), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                   nn.Linear(hidden_units, n_classes))
    return FaceNetwork(net, upto, pool_grid, classifier, spec.mean, spec.std).train()


class FineTunedCNN(FaceCNNClassifier):
    """A pretrained CNN fine-tuned end to end on faces.

    Every layer of the backbone up to ``layer`` is trained, together with a
    new head, by :func:`facefeat.deep._training.train_classifier`: fresh
    random augmentation of every face in every epoch (crop, shift, rotation,
    mirror, brightness, contrast, gamma, random erasing), AdamW with a
    warm-up then a cosine learning-rate schedule, label smoothing, class
    weights, BatchNorm statistics re-estimated on the faces, and early
    stopping on a validation split of the training faces (whole subjects
    when ``groups`` are given), keeping the best epoch. Earlier stages learn
    more slowly (discriminative fine-tuning [2]_): each stage's learning rate
    is ``lr_decay`` times that of the stage after it, the head's is ``lr``.

    Parameters
    ----------
    backbone, weights, layer, pool_grid, head, hidden_units, dropout
        The network, as :func:`face_network` takes them (by default
        MobileNetV2 with ImageNet weights, up to its last stage).
    input_size : int, default=96
        Side of the network's input; faces are resized to it. At 64 px
        MobileNetV2 trains at 270 images/s on this project's 2-core CPU, at
        96 px at 120 (``benchmarks/train_speed.py``).
    lr_decay : float, default=0.8
        Learning-rate factor from one stage to the one before it; the head
        learns at ``lr``.
    max_epochs, patience, start_from_epoch, batch_size, lr, weight_decay, warmup_epochs, label_smoothing
        The schedule and loss, as :class:`~facefeat.deep._training.TrainingSettings`
        takes them.
    class_weight, validation_fraction, monitor, augment, mixup_alpha, cutmix_alpha, flip_tta, crop_tta, checkpoint
        As in :class:`~facefeat.deep.compact.CompactCNN`.
    random_state, device, n_threads, progress
        As in :class:`~facefeat.deep.compact.CompactCNN`.
    bf16 : "auto" or bool, default="auto"
        Train under bfloat16 autocast (weights stay float32); ``"auto"``: on
        CPUs with AMX, for the backbones without depthwise convolutions
        (ResNet, Inception), which it trains 1.6-1.8x faster; MobileNetV2
        and the EfficientNets train no faster under it. Prediction runs in
        float32.

    Attributes
    ----------
    model_ : torch.nn.Module
        The fine-tuned network, from :func:`face_network` (eval mode).
    classes_, history_, best_epoch_, n_validation_, images_per_second_
        As in :class:`~facefeat.deep.compact.CompactCNN`.

    See Also
    --------
    facefeat.deep.cached_finetune.CachedFineTunedCNN : the cheap mode, a head
        on cached features then the last stages, for large sweeps.
    facefeat.deep.compact.CompactCNN : a small network trained from scratch.

    Notes
    -----
    Faces are turned gray and repeated over the three input channels: the
    data sets facefeat targets are gray, and the uint8 training set then
    takes a third of the memory (FER2013's 28k faces at 96 px: 260 MB).

    Where this departs from the seed study (MobileNetV2 with unfrozen
    layers, 224 px): inputs are 96 px by default, from measured training
    speed on a 2-core CPU, and the learning rate decays per stage instead of
    freezing the early ones.

    References
    ----------
    .. [1] J. Yosinski, J. Clune, Y. Bengio and H. Lipson, "How transferable
           are features in deep neural networks?", NeurIPS 2014. arXiv:1411.1792
    .. [2] J. Howard and S. Ruder, "Universal language model fine-tuning for
           text classification", ACL 2018. :DOI:`10.18653/v1/P18-1031`

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, (12, 48, 48), dtype=np.uint8)
    >>> y = np.array(["happy", "sad"] * 6)
    >>> clf = FineTunedCNN("resnet18", weights=None, input_size=48, max_epochs=2, validation_fraction=0,
    ...                    random_state=0, n_threads=1).fit(X, y)
    >>> clf.predict_proba(X).shape, clf.predict(X[:2]).shape, len(clf.history_["train_loss"])
    ((12, 2), (2,), 2)
    """

    # the network normalises its input itself (ImageNet statistics, per channel)
    _MEAN, _STD = 0.0, 1.0

    _parameter_constraints = {
        **NETWORK_CONSTRAINTS,
        "input_size": [Interval(Integral, 32, None, closed="left")],
        "lr_decay": [Interval(Real, 0, 1, closed="right")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(self, backbone="mobilenet_v2", weights="imagenet", layer="penultimate", pool_grid=1, head="linear",
                 hidden_units=256, dropout=0.2, input_size=96, lr_decay=0.8, max_epochs=30, patience=8,
                 start_from_epoch=0, batch_size=64, lr=1e-3, weight_decay=1e-4, warmup_epochs=1.0, label_smoothing=0.1,
                 class_weight=None, validation_fraction=0.1, monitor="f1_macro", augment=True,
                 mixup_alpha=0.0, cutmix_alpha=0.0, flip_tta=True, crop_tta=0.0, bf16="auto", checkpoint=None,
                 random_state=None, device="cpu", n_threads=None, progress=False):
        self.backbone = backbone
        self.weights = weights
        self.layer = layer
        self.pool_grid = pool_grid
        self.head = head
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.input_size = input_size
        self.lr_decay = lr_decay
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

    def _check_params(self):
        from facefeat.deep.backbones import stage_names

        names = stage_names(self.backbone)
        if self.layer != "penultimate" and self.layer not in names:
            raise InvalidParameterError(f"The 'layer' parameter of FineTunedCNN must be 'penultimate' or a stage of "
                                        f"{self.backbone} ({', '.join(names)}); got {self.layer!r}.")
        input_size_for(self.backbone, self.input_size)

    def _input_size(self):
        return self.input_size

    def _auto_bf16(self):
        return amx() and self.backbone not in _DEPTHWISE

    def _network(self, n_classes, pretrained):
        weights = self.weights if pretrained else None
        if weights is not None and weights != "imagenet":
            weights = str(weights)
        return face_network(self.backbone, n_classes, weights=weights, layer=self.layer, pool_grid=self.pool_grid,
                            head=self.head, hidden_units=self.hidden_units, dropout=self.dropout,
                            input_size=self.input_size)

    def _param_groups(self, model):
        groups = [{"params": list(model.classifier.parameters()), "lr_scale": 1.0}]
        for depth, stage in enumerate(reversed(model.stages()), start=1):
            groups.append({"params": list(stage.parameters()), "lr_scale": self.lr_decay ** depth})
        return groups

    def __setstate__(self, state):
        if "head_" in state:
            # a model file from before full fine-tuning: the two-phase classifier, now CachedFineTunedCNN
            from facefeat.deep.cached_finetune import CachedFineTunedCNN

            self.__class__ = CachedFineTunedCNN
            self.__dict__.update(state)
            return
        super().__setstate__(state)
