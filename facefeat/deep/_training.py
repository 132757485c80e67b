"""A supervised training loop for torch image classifiers, independent of the network.

Faces are kept as a uint8 tensor at the network's input size; every batch
is augmented afresh (random resized crop and shift, rotation, mirror,
brightness / contrast / gamma, random erasing) and turned into floats only
then. The loop trains with AdamW under a warm-up then cosine learning-rate
schedule, label smoothing and class weights, stops early on a validation
split drawn from the training data (whole subjects when groups are given),
restores the best epoch, and with a checkpoint file resumes a killed fit from
its last finished epoch, ending with the weights an uninterrupted fit gives.

References
----------
.. [1] I. Loshchilov and F. Hutter, "Decoupled weight decay regularization",
       ICLR 2019. arXiv:1711.05101
.. [2] I. Loshchilov and F. Hutter, "SGDR: Stochastic gradient descent with
       warm restarts", ICLR 2017. arXiv:1608.03983
.. [3] P. Goyal et al., "Accurate, large minibatch SGD: Training ImageNet in
       1 hour", 2017. arXiv:1706.02677 (linear warm-up)
.. [4] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna,
       "Rethinking the Inception architecture for computer vision", CVPR 2016.
       :DOI:`10.1109/CVPR.2016.308` (label smoothing)
.. [5] Z. Zhong, L. Zheng, G. Kang, S. Li and Y. Yang, "Random erasing data
       augmentation", AAAI 2020. arXiv:1708.04896
.. [6] H. Zhang, M. Cisse, Y. N. Dauphin and D. Lopez-Paz, "mixup: Beyond
       empirical risk minimization", ICLR 2018. arXiv:1710.09412
.. [7] S. Yun, D. Han, S. J. Oh, S. Chun, J. Choe and Y. Yoo, "CutMix:
       Regularization strategy to train strong classifiers with localizable
       features", ICCV 2019. :DOI:`10.1109/ICCV.2019.00612`
"""

import hashlib
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["Augmentation", "TrainingSettings", "TrainingResult", "augment_batch", "face_tensor", "mix_batch",
           "train_classifier", "validation_split"]

_MAX_SEED = np.iinfo(np.int32).max
_CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class Augmentation:
    """How far each random change of a training image may go.

    Parameters
    ----------
    scale : (float, float), default=(0.8, 1.0)
        Side of the random crop as a fraction of the image's (zoom in by up
        to 1 / scale[0]); the crop is resized back to the full side.
    max_shift : float, default=0.08
        Largest extra shift of the crop, as a fraction of the side.
    max_rotation : float, default=10.0
        Largest rotation, in degrees.
    flip : bool, default=True
        Mirror half of the images left-right.
    brightness : float, default=0.2
        Largest added brightness, as a fraction of the 0..1 range.
    contrast : float, default=0.2
        Contrast is multiplied by a factor in ``[1 - contrast, 1 + contrast]``
        around the image's mean.
    gamma : float, default=0.2
        Values are raised to ``exp(u)``, u uniform in ``[-gamma, gamma]``.
    erase : float, default=0.25
        Probability of random erasing: a rectangle of 2-20 % of the image,
        aspect ratio 0.3-3.3, filled with one random gray level [5]_.

    Examples
    --------
    >>> Augmentation(max_rotation=0, erase=0).flip
    True
    """

    scale: tuple = (0.8, 1.0)
    max_shift: float = 0.08
    max_rotation: float = 10.0
    flip: bool = True
    brightness: float = 0.2
    contrast: float = 0.2
    gamma: float = 0.2
    erase: float = 0.25


@dataclass(frozen=True)
class TrainingSettings:
    """The settings of :func:`train_classifier` that shape the trained weights.

    Parameters
    ----------
    max_epochs : int, default=60
        Passes over the training faces at most; the cosine schedule spans them.
    batch_size : int, default=64
    lr : float, default=2e-3
        Peak AdamW learning rate [1]_ (scaled per parameter group by its ``lr_scale``).
    weight_decay : float, default=1e-2
        Decoupled weight decay of AdamW.
    warmup_epochs : float, default=2.0
        The learning rate rises linearly from 0 over these epochs, then falls
        to ``min_lr_ratio * lr`` along a half cosine [2]_ [3]_.
    min_lr_ratio : float, default=0.01
    label_smoothing : float, default=0.1
        Cross-entropy against targets smoothed by this much [4]_.
    class_weight : "balanced", None or dict, default="balanced"
        Class weights in the loss; ``"balanced"``: ``n / (n_classes * count)``
        on the training part; a dict maps class indices to weights.
    validation_fraction : float, default=0.1
        Share of the faces held out for early stopping (0: none, every epoch
        runs and the last one is kept).
    patience : int, default=10
        Epochs without a better validation score before training stops.
    start_from_epoch : int, default=0
        Epochs that do not count towards ``patience`` (the best epoch is
        still kept among them): under a cosine schedule the validation score
        can stall while the learning rate is high and rise as it falls, so a
        long schedule stopped early never reaches its low rates (as Keras'
        ``EarlyStopping(start_from_epoch=...)``).
    monitor : {"f1_macro", "accuracy", "loss"}, default="f1_macro"
        The validation score that picks the best epoch (ties: lower loss).
    augment : Augmentation or None, default=Augmentation()
        Fresh random changes of every training image in every epoch; None
        trains on the images as they are.
    channels_last : bool, default=True
        Run the network in channels-last memory layout (faster convolutions
        on CPUs with oneDNN).
    bf16 : bool, default=False
        Compute under bfloat16 autocast (weights stay float32): several times
        faster on CPUs with AMX, slower on most others.
    mixup_alpha, cutmix_alpha : float, default=0.0
        Mix every training batch with a shuffled copy of itself, by mixup
        [6]_ or CutMix [7]_ with ``Beta(alpha, alpha)`` mixing weights (see
        :func:`mix_batch`); 0 turns one off, and with both on each batch
        takes one of them at random.

    Examples
    --------
    >>> TrainingSettings(max_epochs=5).patience
    10
    """

    max_epochs: int = 60
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-2
    warmup_epochs: float = 2.0
    min_lr_ratio: float = 0.01
    label_smoothing: float = 0.1
    class_weight: object = "balanced"
    validation_fraction: float = 0.1
    patience: int = 10
    start_from_epoch: int = 0
    monitor: str = "f1_macro"
    augment: Augmentation = field(default_factory=Augmentation)
    channels_last: bool = True
    bf16: bool = False
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0


@dataclass
class TrainingResult:
    """What :func:`train_classifier` reports.

    Attributes
    ----------
    history : dict of str to list of float
        Per epoch: ``train_loss``, ``val_loss``, ``val_score`` (empty without a
        validation split), ``lr`` (at the epoch's end), ``seconds``.
    best_epoch : int
        Epoch (1-based) whose weights the model holds.
    best_score : float
        Its validation score (nan without a validation split).
    n_validation : int
        Faces held out for early stopping.
    resumed_from : int
        Finished epochs read from the checkpoint (0: a fresh start).
    images_per_second : float
        Training throughput of the epochs run in this call (forward,
        backward, augmentation), nan when none ran.

    Examples
    --------
    >>> TrainingResult(history={"train_loss": [1.9, 1.2]}, best_epoch=2, best_score=0.5, n_validation=10).resumed_from
    0
    """

    history: dict
    best_epoch: int
    best_score: float
    n_validation: int
    resumed_from: int = 0
    images_per_second: float = math.nan


def face_tensor(X, size, channels=1, chunk=1024):
    """Faces to a uint8 tensor at the network's input size.

    Parameters
    ----------
    X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays
        Values on the 0..255 scale (float values are rounded).
    size : int
        Side of the output; images are resized to ``size`` x ``size`` (area
        interpolation when shrinking, bilinear when enlarging).
    channels : {1, 3}, default=1
        1: RGB images are turned to gray (ITU-R 601 luma); 3: gray images are
        repeated over three channels.
    chunk : int, default=1024
        Images converted at a time (bounds the float64 working memory).

    Returns
    -------
    Tensor of shape (n, channels, size, size), uint8

    Examples
    --------
    >>> import numpy as np
    >>> t = face_tensor(np.full((2, 64, 64, 3), 200, np.uint8), 48)
    >>> tuple(t.shape), t.dtype, int(t.max())
    ((2, 1, 48, 48), torch.uint8, 200)
    """
    import cv2
    import torch

    from facefeat.deep.embedding import as_image_list
    from facefeat.features._base import check_images

    images, _ = as_image_list(X)
    n = len(images)
    out = torch.empty((n, channels, size, size), dtype=torch.uint8)
    for start in range(0, n, chunk):
        for i, img in enumerate(check_images(images[start:start + chunk], gray=channels == 1, start=start)):
            if img.shape[:2] != (size, size):
                shrink = img.shape[0] > size or img.shape[1] > size
                img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
            img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
            if img.ndim == 2:
                img = np.repeat(img[None], channels, axis=0)
            else:
                img = img.transpose(2, 0, 1)
            out[start + i] = torch.from_numpy(np.ascontiguousarray(img))
    return out


def augment_batch(x, generator, augmentation=Augmentation()):
    """Random changes of a batch of images, the same ones for every channel of an image.

    Parameters
    ----------
    x : Tensor of shape (n, c, h, w), uint8
    generator : torch.Generator
        The only source of randomness: the same generator state gives the
        same output.
    augmentation : Augmentation

    Returns
    -------
    Tensor of shape (n, c, h, w), float32
        Values in [0, 1], each image a changed version of the one at the same
        index (labels keep their order).

    Examples
    --------
    >>> import torch
    >>> x = torch.full((4, 1, 32, 32), 128, dtype=torch.uint8)
    >>> out = augment_batch(x, torch.Generator().manual_seed(0))
    >>> tuple(out.shape), out.dtype, 0 <= float(out.min()) <= float(out.max()) <= 1
    ((4, 1, 32, 32), torch.float32, True)
    """
    import torch
    import torch.nn.functional as F

    a = augmentation
    n, c, h, w = x.shape
    out = x.float().div_(255)

    def uniform(lo, hi, *shape):
        return torch.rand(n, *shape, generator=generator) * (hi - lo) + lo

    # one affine map per image, in grid_sample's [-1, 1] frame: zoom into a
    # crop of side s, move it within the image (and by a shift), rotate, mirror
    s = uniform(a.scale[0], a.scale[1])
    angle = uniform(-a.max_rotation, a.max_rotation) * (math.pi / 180)
    room = (1 - s).unsqueeze(1) + 2 * a.max_shift
    t = uniform(-1, 1, 2) * room
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0) if a.flip else torch.ones(n)
    cos, sin = torch.cos(angle) * s, torch.sin(angle) * s
    theta = torch.stack([torch.stack([cos * flip, -sin, t[:, 0]], 1),
                         torch.stack([sin * flip, cos, t[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, (n, c, h, w), align_corners=False)
    out = F.grid_sample(out, grid, mode="bilinear", padding_mode="border", align_corners=False)

    # photometric: gamma, then contrast around the image's mean, then brightness
    view = (n, 1, 1, 1)
    gamma = torch.exp(uniform(-a.gamma, a.gamma)).view(view)
    out = out.clamp_(1e-6, 1).pow_(gamma)
    contrast = uniform(1 - a.contrast, 1 + a.contrast).view(view)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean).mul_(contrast).add_(mean)
    out = out.add_(uniform(-a.brightness, a.brightness).view(view)).clamp_(0, 1)

    # random erasing: a rectangle of random area and aspect ratio, one gray level
    area = uniform(0.02, 0.2) * (h * w)
    ratio = torch.exp(uniform(math.log(0.3), math.log(1 / 0.3)))
    eh = torch.sqrt(area * ratio).round().clamp(1, h)
    ew = torch.sqrt(area / ratio).round().clamp(1, w)
    top = (torch.rand(n, generator=generator) * (h - eh + 1)).floor()
    left = (torch.rand(n, generator=generator) * (w - ew + 1)).floor()
    fill = torch.rand(n, generator=generator).view(view)
    on = (torch.rand(n, generator=generator) < a.erase).view(n, 1, 1)
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    box = ((rows >= top.view(n, 1, 1)) & (rows < (top + eh).view(n, 1, 1))
           & (cols >= left.view(n, 1, 1)) & (cols < (left + ew).view(n, 1, 1)) & on)
    return torch.where(box.unsqueeze(1), fill, out)


def mix_batch(x, generator, mixup_alpha=0.0, cutmix_alpha=0.0):
    """Mix a batch of images with a shuffled copy of itself (mixup or CutMix).

    Parameters
    ----------
    x : Tensor of shape (n, c, h, w), uint8 or float in [0, 1]
    generator : torch.Generator
        The only source of randomness.
    mixup_alpha, cutmix_alpha : float, default=0.0
        ``Beta(alpha, alpha)`` of the mixing weight of mixup [6]_ (the whole
        images blended) and CutMix [7]_ (a box pasted from the partner); 0
        turns one off. With both on, each call picks one, even odds.

    Returns
    -------
    mixed : Tensor of shape (n, c, h, w), float32
        Values in [0, 1].
    partner : Tensor of shape (n,), int64
        Index of the image mixed into each.
    lam : float
        Share of each image's own label in its target: the loss is
        ``lam * loss(y) + (1 - lam) * loss(y[partner])``. For CutMix, the
        share of the image not covered by the box.

    Examples
    --------
    >>> import torch
    >>> x = torch.stack([torch.zeros(1, 8, 8), torch.ones(1, 8, 8)])
    >>> mixed, partner, lam = mix_batch(x, torch.Generator().manual_seed(0), cutmix_alpha=1.0)
    >>> bool(torch.isclose(mixed[0].mean(), torch.tensor(1 - lam))), sorted(partner.tolist())
    (True, [0, 1])
    """
    import torch
    from scipy.special import betaincinv

    n, _, h, w = x.shape
    x = x.float().div_(255) if x.dtype == torch.uint8 else x.float()
    alphas = [("mixup", mixup_alpha)] * (mixup_alpha > 0) + [("cutmix", cutmix_alpha)] * (cutmix_alpha > 0)
    if not alphas:
        raise ValueError("mix_batch needs mixup_alpha > 0 or cutmix_alpha > 0")
    u = torch.rand(4, generator=generator).tolist()
    kind, alpha = alphas[int(u[0] * len(alphas))]
    lam = float(betaincinv(alpha, alpha, u[1]))  # Beta(alpha, alpha) by its inverse CDF, from the generator
    partner = torch.randperm(n, generator=generator)
    if kind == "mixup":
        return x.mul(lam).add_(x[partner], alpha=1 - lam), partner, lam
    # a box of area (1 - lam) at a random centre, clipped by the border; lam then counts what stayed
    ch, cw = round(h * math.sqrt(1 - lam)), round(w * math.sqrt(1 - lam))
    cy, cx = int(u[2] * h), int(u[3] * w)
    top, bottom = max(cy - ch // 2, 0), min(cy + ch - ch // 2, h)
    left, right = max(cx - cw // 2, 0), min(cx + cw - cw // 2, w)
    mixed = x.clone()
    mixed[:, :, top:bottom, left:right] = x[partner][:, :, top:bottom, left:right]
    return mixed, partner, 1 - (bottom - top) * (right - left) / (h * w)


def validation_split(y, groups=None, fraction=0.1, random_state=None):
    """Indices of a training part and a validation part drawn from the training data.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Class labels.
    groups : array-like of shape (n,), optional
        Subject ids: the validation part then holds whole subjects
        (``StratifiedGroupKFold``, else ``GroupShuffleSplit``), so that no one
        is on both sides.
    fraction : float, default=0.1
        Share of the faces (or subjects) held out.
    random_state : int, RandomState or None

    Returns
    -------
    train, val : ndarray of int
        Sorted indices; ``val`` is empty (with a warning) when ``fraction`` is
        0 or when the data cannot spare faces of every class.

    Examples
    --------
    >>> y = np.repeat([0, 1], 10)
    >>> train, val = validation_split(y, fraction=0.2, random_state=0)
    >>> len(train), len(val), np.bincount(y[val]).tolist()
    (16, 4, [2, 2])
    """
    y = np.asarray(y)
    n = len(y)
    everything = np.arange(n)
    if fraction == 0:
        return everything, np.array([], dtype=int)
    classes, y_enc = np.unique(y, return_inverse=True)
    n_classes = len(classes)
    seed = check_random_state(random_state).randint(_MAX_SEED)
    if groups is not None:
        from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

        groups = np.asarray(groups)
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries for {n} faces")
        n_groups = len(np.unique(groups))
        n_splits = min(max(2, round(1 / fraction)), n_groups)
        if n_groups >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "least populated class has fewer members than n_splits"
                train, val = next(StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
                                  .split(everything, y_enc, groups))
            if len(np.unique(y_enc[train])) < n_classes:
                train, val = next(GroupShuffleSplit(1, test_size=fraction, random_state=seed)
                                  .split(everything, y_enc, groups))
            if len(np.unique(y_enc[train])) == n_classes:
                return np.sort(train), np.sort(val)
    else:
        from sklearn.model_selection import train_test_split

        n_val = math.ceil(fraction * n)
        if np.bincount(y_enc).min() >= 2 and n_classes <= n_val <= n - n_classes:
            train, val = train_test_split(everything, test_size=n_val, stratify=y_enc, random_state=seed)
            return np.sort(train), np.sort(val)
    warnings.warn("too few faces per class (or subjects) for a validation split: early stopping is off and "
                  "every epoch runs", UserWarning, stacklevel=2)
    return everything, np.array([], dtype=int)


def _lr_factor(step, warmup_steps, total_steps, min_ratio):
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def by_class_index(class_weight, classes):
    """``class_weight`` with a dict's class labels turned into indices of ``classes`` (other values as they are)."""
    if not isinstance(class_weight, dict):
        return class_weight
    index = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
    return {index[c]: w for c, w in class_weight.items() if c in index}


def class_weight_vector(class_weight, y_train, n_classes):
    """Loss weights of the classes: None, or a float32 tensor of shape (n_classes,).

    ``class_weight`` is None, ``"balanced"`` (``n / (n_classes * count)`` over
    ``y_train``, 1 for a class absent from it) or a dict from class index to
    weight (1 for the others).
    """
    if class_weight is None:
        return None
    import torch

    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.bincount(y_train, minlength=n_classes).astype(float)
        w = np.where(counts > 0, len(y_train) / (n_classes * np.maximum(counts, 1)), 1.0)
    else:
        w = np.array([float(class_weight.get(c, 1.0)) for c in range(n_classes)])
    return torch.as_tensor(w, dtype=torch.float32)


def _fingerprint(images, y, groups, train, val, settings, model, seed):
    """What a checkpoint must match to be resumed: data, split, settings, network shape, seed."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(images.numpy()).tobytes())
    h.update(np.asarray(y, np.int64).tobytes())
    h.update(repr(None if groups is None else np.asarray(groups).tolist()).encode())
    h.update(train.astype(np.int64).tobytes() + b"|" + val.astype(np.int64).tobytes())
    # when to stop may change between runs (a fit continued for longer)
    h.update(repr({k: v for k, v in asdict(settings).items()
                   if k not in ("max_epochs", "patience", "start_from_epoch")}).encode())
    h.update(repr([(k, tuple(v.shape)) for k, v in model.state_dict().items()]).encode())
    h.update(str(seed).encode())
    return h.hexdigest()


def _save_atomic(obj, path):
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)  # a kill mid-write leaves the previous checkpoint whole
    finally:
        if tmp.exists():
            tmp.unlink()


def _load_checkpoint(path, fingerprint):
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
        raise ValueError(f"cannot read the checkpoint {path} ({exc}); delete it to start the fit afresh") from None
    if state.get("version") != _CHECKPOINT_VERSION or state.get("fingerprint") != fingerprint:
        raise ValueError(f"the checkpoint {path} was written by a fit on other data or with other settings; "
                         f"delete it, or pass another checkpoint path, to start afresh")
    return state


def _cpu_state(module):
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def train_classifier(model, images, y, n_classes, *, groups=None, mean=0.5, std=0.25,
                     settings=TrainingSettings(), param_groups=None, random_state=None, checkpoint=None,
                     callback=None, progress=False, device="cpu"):
    """Train a torch classifier on uint8 faces; the model ends with its best epoch's weights.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps a float batch (n, c, h, w) to logits (n, n_classes). A callable
        (not a Module) is called without arguments to build the model after
        seeding torch, so that its random initialisation follows
        ``random_state``.
    images : Tensor of shape (n, c, h, w), uint8
        The faces at the network's input size (see :func:`face_tensor`).
    y : array-like of int of shape (n,)
        Class indices in ``0 .. n_classes - 1``.
    n_classes : int
    groups : array-like of shape (n,), optional
        Subject ids for the validation split (see :func:`validation_split`).
    mean, std : float or sequence of float
        Input normalisation of values in [0, 1], per channel or for all.
    settings : TrainingSettings
    param_groups : callable, optional
        ``param_groups(model)`` -> list of dicts with ``params`` and an
        optional ``lr_scale`` (e.g. lower rates for the early stages of a
        pretrained network); default: one group of all trainable parameters.
    random_state : int, RandomState or None
        Seeds the split, the initialisation, the batch order, the
        augmentation and dropout. With an int, the same data, settings and
        thread count give identical weights.
    checkpoint : str or path, optional
        File written atomically after every epoch (model, optimiser,
        schedule, random-number states, best weights, history). If it exists
        when ``train_classifier`` starts, training resumes after its last
        finished epoch, and ends with the weights an uninterrupted run gives.
        ``max_epochs`` and ``patience`` may be raised between runs (the
        schedule then stretches from there on); other changes are refused.
    callback : callable, optional
        ``callback(epoch, history)`` after each epoch is saved; what it raises
        (e.g. KeyboardInterrupt) stops training.
    progress : bool, default=False
        A progress bar per epoch over the training faces with the loss, then
        the validation score and learning rate.
    device : str or torch.device, default="cpu"

    Returns
    -------
    model : torch.nn.Module
        In eval mode, on ``device``, holding the best epoch's weights.
    result : TrainingResult

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> x = torch.randint(0, 256, (20, 1, 16, 16), dtype=torch.uint8)
    >>> y = np.repeat([0, 1], 10)
    >>> def tiny():
    ...     return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    >>> model, result = train_classifier(tiny, x, y, 2, settings=TrainingSettings(max_epochs=3, batch_size=8),
    ...                                  random_state=0)
    >>> len(result.history["train_loss"]), result.n_validation, 1 <= result.best_epoch <= 3
    (3, 2, True)
    """
    import torch

    y = np.asarray(y, dtype=np.int64)
    if images.dtype != torch.uint8 or images.ndim != 4 or len(images) != len(y):
        raise ValueError(f"images must be a uint8 tensor (n, c, h, w) with one label each; got {images.dtype} "
                         f"{tuple(images.shape)} for {len(y)} labels")
    rng = check_random_state(random_state)
    train, val = validation_split(y, groups, settings.validation_fraction, rng)
    seed = int(rng.randint(_MAX_SEED))
    device = torch.device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if not isinstance(model, torch.nn.Module):
            model = model()
        model = model.to(device)
        if settings.channels_last:
            model = model.to(memory_format=torch.channels_last)
        loop = _Loop(model, images, y, n_classes, train, val, mean, std, settings, param_groups, seed, device,
                     progress)
        loop.run(checkpoint and Path(checkpoint), callback, groups)
    model.eval()
    return model, loop.result


class _Loop:
    """The state of one training run: what a checkpoint saves and restores."""

    def __init__(self, model, images, y, n_classes, train, val, mean, std, settings, param_groups, seed, device,
                 progress):
        import torch

        self.model, self.images, self.y, self.n_classes = model, images, y, n_classes
        self.train, self.val, self.settings, self.seed, self.device = train, val, settings, seed, device
        self.progress = progress
        c = images.shape[1]
        self.mean, self.std = (torch.tensor(np.broadcast_to(v, (c,)).tolist(), dtype=torch.float32, device=device)
                               .view(1, c, 1, 1) for v in (mean, std))
        groups = param_groups(model) if param_groups else [{"params": [p for p in model.parameters()
                                                                       if p.requires_grad]}]
        groups = [{**g, "lr": settings.lr * g.get("lr_scale", 1.0)} for g in groups]
        self.optimizer = torch.optim.AdamW(groups, lr=settings.lr, weight_decay=settings.weight_decay)
        self.steps_per_epoch = math.ceil(len(train) / settings.batch_size)
        warmup = max(1, round(settings.warmup_epochs * self.steps_per_epoch))
        total = settings.max_epochs * self.steps_per_epoch
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: _lr_factor(step, warmup, total, settings.min_lr_ratio))
        weight = class_weight_vector(settings.class_weight, y[train], n_classes)
        self.loss_fn = torch.nn.CrossEntropyLoss(weight=None if weight is None else weight.to(device),
                                                 label_smoothing=settings.label_smoothing)
        self.generator = torch.Generator().manual_seed(seed)
        self.history = {"train_loss": [], "val_loss": [], "val_score": [], "lr": [], "seconds": []}
        self.epoch = 0
        self.best = {"epoch": 0, "score": -math.inf, "loss": math.inf, "stale": 0, "state": None}
        self.result = None

    def _to_input(self, x):
        import torch

        x = x.to(self.device)
        if x.dtype == torch.uint8:
            x = x.float().div_(255)
        x = (x - self.mean) / self.std
        if self.settings.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _logits(self, x):
        import torch

        with torch.autocast("cpu" if self.device.type == "cpu" else self.device.type, dtype=torch.bfloat16,
                            enabled=self.settings.bf16):
            return self.model(x).float()

    def _state(self, fingerprint):
        import torch

        return {"version": _CHECKPOINT_VERSION, "fingerprint": fingerprint, "epoch": self.epoch,
                "model": _cpu_state(self.model), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "generator": self.generator.get_state(),
                "torch_rng": torch.get_rng_state(), "history": self.history,
                "best": dict(self.best)}

    def _restore(self, state):
        import torch

        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.history = state["history"]
        self.best = state["best"]
        self.epoch = state["epoch"]

    def run(self, checkpoint, callback, groups):
        settings = self.settings
        fingerprint = None
        if checkpoint is not None:
            fingerprint = _fingerprint(self.images, self.y, groups, self.train, self.val, settings, self.model,
                                       self.seed)
            if checkpoint.exists():
                self._restore(_load_checkpoint(checkpoint, fingerprint))
        resumed = self.epoch
        use_val = len(self.val) > 0
        seen, busy = 0, 0.0
        while self.epoch < settings.max_epochs and not (use_val and self.best["stale"] >= settings.patience):
            start = time.perf_counter()
            train_loss = self._train_epoch()
            busy += time.perf_counter() - start
            seen += len(self.train)
            self.epoch += 1
            self.history["train_loss"].append(train_loss)
            self.history["lr"].append(self.optimizer.param_groups[0]["lr"])
            if use_val:
                val_loss, score = self._evaluate()
                self.history["val_loss"].append(val_loss)
                self.history["val_score"].append(score)
                key = -val_loss if settings.monitor == "loss" else score
                if key > self.best["score"] or (key == self.best["score"] and val_loss < self.best["loss"]):
                    self.best.update(epoch=self.epoch, score=key, loss=val_loss, stale=0,
                                     state=_cpu_state(self.model))
                elif self.epoch > settings.start_from_epoch:
                    self.best["stale"] += 1
            else:
                self.best.update(epoch=self.epoch, score=math.nan)
            self.history["seconds"].append(time.perf_counter() - start)
            if self.progress:
                self._report()
            if checkpoint is not None:
                _save_atomic(self._state(fingerprint), checkpoint)
            if callback is not None:
                callback(self.epoch, self.history)
        if use_val and self.best["state"] is not None:
            self.model.load_state_dict(self.best["state"])
        best_score = self.best["score"]
        if settings.monitor == "loss" and use_val:
            best_score = -best_score
        self.result = TrainingResult(history=self.history, best_epoch=self.best["epoch"],
                                     best_score=best_score if use_val else math.nan, n_validation=len(self.val),
                                     resumed_from=resumed, images_per_second=seen / busy if busy else math.nan)

    def _train_epoch(self):
        import torch
        from tqdm.auto import tqdm

        settings = self.settings
        self.model.train()
        order = torch.as_tensor(self.train)[torch.randperm(len(self.train), generator=self.generator)]
        y = torch.as_tensor(self.y)
        total = 0.0
        bar = tqdm(total=len(order), desc=f"epoch {self.epoch + 1}/{settings.max_epochs}", unit="img",
                   leave=False, disable=not self.progress)
        with bar:
            bounds = list(range(0, len(order), settings.batch_size)) + [len(order)]
            if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
                del bounds[-2]  # a batch of one face has no BatchNorm statistics: it joins the batch before
            for first, end in zip(bounds[:-1], bounds[1:]):
                idx = order[first:end]
                x = self.images[idx]
                if settings.augment is not None:
                    x = augment_batch(x, self.generator, settings.augment)
                target = y[idx].to(self.device)
                mixing = settings.mixup_alpha or settings.cutmix_alpha
                if mixing:
                    x, partner, lam = mix_batch(x, self.generator, settings.mixup_alpha, settings.cutmix_alpha)
                logits = self._logits(self._to_input(x))
                loss = self.loss_fn(logits, target)
                if mixing:
                    loss = lam * loss + (1 - lam) * self.loss_fn(logits, target[partner])
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                self.scheduler.step()
                total += loss.item() * len(idx)
                bar.set_postfix(loss=f"{total / min(first + len(idx), len(order)):.4f}", refresh=False)
                bar.update(len(idx))
        return total / len(order)

    def _evaluate(self):
        import torch
        from sklearn.metrics import accuracy_score, f1_score

        self.model.eval()
        logits = []
        with torch.no_grad():
            step = self.settings.batch_size * 4
            for first in range(0, len(self.val), step):
                logits.append(self._logits(self._to_input(self.images[self.val[first:first + step]])))
        logits = torch.cat(logits)
        y_val = self.y[self.val]
        loss = float(self.loss_fn(logits, torch.as_tensor(y_val, device=logits.device)))
        pred = logits.argmax(1).cpu().numpy()
        if self.settings.monitor == "accuracy":
            return loss, float(accuracy_score(y_val, pred))
        return loss, float(f1_score(y_val, pred, average="macro", labels=np.arange(self.n_classes),
                                    zero_division=0))

    def _report(self):
        from tqdm.auto import tqdm

        h = self.history
        line = f"epoch {self.epoch}/{self.settings.max_epochs}: train loss {h['train_loss'][-1]:.4f}"
        if h["val_score"]:
            line += f", val loss {h['val_loss'][-1]:.4f}, val {self.settings.monitor} {h['val_score'][-1]:.4f}"
        line += f", lr {h['lr'][-1]:.2e}, {h['seconds'][-1]:.0f} s"
        if self.best["epoch"] == self.epoch and h["val_score"]:
            line += " (best)"
        tqdm.write(line)
