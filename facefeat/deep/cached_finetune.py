"""CachedFineTunedCNN: a pretrained CNN fine-tuned on faces, as a scikit-learn classifier."""

import copy
import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError

from facefeat._steps import image_tags
from facefeat.deep._classifier import (
    NETWORK_CONSTRAINTS,
    TRAINING_CONSTRAINTS,
    PredictMixin,
)
from facefeat.deep._training import (
    by_class_index,
    class_weight_vector,
    validation_split,
)
from facefeat.deep.embedding import (
    as_image_list,
    input_size_for,
    prepare_batch,
    resolve_device,
    torch_threads,
)

__all__ = ["CachedFineTunedCNN"]


class CachedFineTunedCNN(PredictMixin, ClassifierMixin, BaseEstimator):
    """A pretrained CNN with a new classification head, trained in two phases.

    1. **Head.** The backbone is frozen; the globally average-pooled features
       of every training face (and of ``n_views`` augmented views of it) are
       computed once and cached, and the head is trained on the cache, which
       is fast on a CPU.
    2. **Fine-tuning.** The last ``unfreeze`` stages of the backbone are
       unfrozen and trained with the head at the lower ``finetune_lr``. The
       output of the still-frozen stages is cached as well (while it fits in
       ``max_cache_mb``), so only the unfrozen stages run in each epoch.

    Each phase stops early when the loss on an internal validation split
    stops improving, and keeps the weights of its best epoch. BatchNorm
    layers keep their ImageNet statistics throughout (they are not
    re-estimated from small face batches); only their scale and shift are
    trained in the unfrozen stages.

    Parameters
    ----------
    backbone : str, default="mobilenet_v2"
        A backbone of :mod:`facefeat.deep.backbones`: ``mobilenet_v2``,
        ``efficientnet_lite0``, ``resnet18``, ``resnet50``, ``efficientnet_b0``,
        ``inception_v3``.
    weights : "imagenet", None, or path, default="imagenet"
        Initial backbone weights, as in :class:`~facefeat.deep.embedding.DeepEmbedding`.
    layer : str, default="penultimate"
        Where the head reads the network: ``"penultimate"``, the last stage,
        or the name of an earlier stage (see
        :func:`facefeat.deep.backbones.stage_names`); the stages after it
        are not used at all.
    pool_grid : int, default=1
        Average that stage's output over a ``pool_grid`` x ``pool_grid`` grid
        (1: global average pooling), as in
        :class:`~facefeat.deep.embedding.DeepEmbedding`.
    head : {"linear", "mlp"}, default="linear"
        ``linear``: dropout + linear layer; ``mlp``: linear layer to
        ``hidden_units``, ReLU, dropout, linear layer (e.g. 1280 -> 256 -> n_classes).
    hidden_units : int, default=256
        Width of the ``mlp`` head's hidden layer.
    dropout : float, default=0.2
        Dropout rate in the head.
    input_size : int, optional
        Side of the network's input; default the backbone's (224, or 299 for
        ``inception_v3``). 112 trains about 4x faster.
    unfreeze : int, default=2
        Number of stages up to ``layer`` trained in phase 2 (counted
        backwards from it); 0 trains the head only.
    epochs : int, default=30
        Maximum epochs of phase 1 (head only).
    finetune_epochs : int, default=10
        Maximum epochs of phase 2 (ignored when ``unfreeze=0``).
    batch_size : int, default=32
    lr : float, default=1e-3
        AdamW learning rate of phase 1.
    finetune_lr : float, default=1e-4
        AdamW learning rate of phase 2 (stages and head).
    weight_decay : float, default=1e-4
    augment : bool, default=True
        Train on ``n_views`` views of each face: the face itself, its mirror
        image, and random mirror / shift / rotation of it.
    n_views : int, default=4
        Views per face when ``augment`` (each epoch draws one per face).
    max_shift : float, default=0.05
        Largest shift of a random view, as a fraction of the face's side.
    max_rotation : float, default=10.0
        Largest rotation of a random view, in degrees.
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the cross-entropy loss; ``"balanced"`` uses
        ``n_samples / (n_classes * count)``.
    validation_fraction : float, default=0.15
        Share of the training faces held out for early stopping (stratified
        by class, or by the ``groups`` passed to ``fit``). When a class is
        too small to spare a face, no faces are held out and every epoch runs.
    early_stopping : bool, default=True
    patience : int, default=5
        Epochs without a lower validation loss before a phase stops.
    max_cache_mb : float, default=1024
        Largest cache of frozen-stage outputs for phase 2; above it they are
        recomputed in every epoch (same result, slower).
    flip_tta : bool, default=False
        In prediction, average the probabilities of each face and its mirror image.
    crop_tta : float, default=0.0
        As in :class:`~facefeat.deep.compact.CompactCNN`.
    random_state : int, RandomState or None, default=None
        Seeds the split, the views, the head's initialisation, dropout and
        the batch order. With an int, ``fit`` is reproducible on the same
        machine and thread count.
    device, n_threads
        As in :class:`~facefeat.deep.compact.CompactCNN`.
    progress : bool, default=False
        Show progress bars: the frozen stages over every view, then one bar
        per phase that advances per epoch and shows its losses.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    model_ : torch.nn.Module
        The fine-tuned backbone (eval mode).
    head_ : torch.nn.Module
        The trained head.
    history_ : dict of str to list of float
        Per-epoch ``head_train_loss``, ``head_val_loss``,
        ``finetune_train_loss`` and ``finetune_val_loss`` (validation lists
        are empty without a validation split).
    best_epochs_ : tuple of (int, int)
        Epochs (1-based) whose weights were kept in phases 1 and 2. 0 for
        phase 2 means it was skipped, or that no epoch of it beat the
        validation loss of phase 1, whose weights were then kept.
    n_validation_ : int
        Faces held out for early stopping.
    stage_cache_ : bool
        Whether phase 2 ran on cached frozen-stage outputs (False when they
        exceeded ``max_cache_mb`` or there was no phase 2).

    Notes
    -----
    ``fit`` and ``predict`` take what :class:`~facefeat.deep.embedding.DeepEmbedding`
    takes: a FaceBatch, an array (n, h, w[, 3]) or a list of images, 0..255.

    The random split for early stopping may put images of one person on
    both sides; pass ``groups`` (subject ids) to ``fit`` to keep subjects
    apart (in a Pipeline: ``pipe.fit(X, y, clf__groups=subjects)``).

    References
    ----------
    .. [1] J. Yosinski, J. Clune, Y. Bengio and H. Lipson, "How transferable
           are features in deep neural networks?", NeurIPS 2014. arXiv:1411.1792
    .. [2] M. Sandler, A. Howard, M. Zhu, A. Zhmoginov and L.-C. Chen,
           "MobileNetV2: Inverted residuals and linear bottlenecks", CVPR 2018.
           :DOI:`10.1109/CVPR.2018.00474`

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, (8, 48, 48), dtype=np.uint8)
    >>> y = np.array([0, 1] * 4)
    >>> clf = CachedFineTunedCNN("resnet18", weights=None, input_size=48, unfreeze=1, epochs=1,
    ...                    finetune_epochs=1, early_stopping=False, random_state=0, n_threads=1).fit(X, y)
    >>> clf.predict_proba(X).shape, clf.predict(X[:2]).shape
    ((8, 2), (2,))
    """

    _parameter_constraints = {
        **NETWORK_CONSTRAINTS,
        "input_size": [None, Interval(Integral, 32, None, closed="left")],
        "unfreeze": [Interval(Integral, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "finetune_epochs": [Interval(Integral, 0, None, closed="left")],
        "finetune_lr": [Interval(Real, 0, None, closed="neither")],
        "n_views": [Interval(Integral, 1, None, closed="left")],
        "max_shift": [Interval(Real, 0, 0.5, closed="both")],
        "max_rotation": [Interval(Real, 0, 180, closed="both")],
        "early_stopping": ["boolean"],
        "max_cache_mb": [Interval(Real, 0, None, closed="left")],
        **{name: TRAINING_CONSTRAINTS[name] for name in (
            "batch_size", "lr", "weight_decay", "augment", "class_weight", "validation_fraction", "patience",
            "flip_tta", "crop_tta", "random_state", "device", "n_threads", "progress")},
    }

    def __init__(self, backbone="mobilenet_v2", weights="imagenet", layer="penultimate", pool_grid=1, head="linear",
                 hidden_units=256, dropout=0.2, input_size=None, unfreeze=2, epochs=30, finetune_epochs=10,
                 batch_size=32, lr=1e-3, finetune_lr=1e-4, weight_decay=1e-4, augment=True, n_views=4,
                 max_shift=0.05, max_rotation=10.0, class_weight=None, validation_fraction=0.15, early_stopping=True,
                 patience=5, max_cache_mb=1024, flip_tta=False, crop_tta=0.0, random_state=None, device="cpu",
                 n_threads=None, progress=False):
        self.backbone = backbone
        self.weights = weights
        self.layer = layer
        self.pool_grid = pool_grid
        self.head = head
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.input_size = input_size
        self.unfreeze = unfreeze
        self.epochs = epochs
        self.finetune_epochs = finetune_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.finetune_lr = finetune_lr
        self.weight_decay = weight_decay
        self.augment = augment
        self.n_views = n_views
        self.max_shift = max_shift
        self.max_rotation = max_rotation
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.patience = patience
        self.max_cache_mb = max_cache_mb
        self.flip_tta = flip_tta
        self.crop_tta = crop_tta
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.progress = progress

    # ------------------------------------------------------------------ #

    def fit(self, X, y, groups=None):
        """Train the head, then fine-tune the last stages.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays
            Aligned faces, values on the 0..255 scale.
        y : array-like of shape (n,)
            Class labels.
        groups : array-like of shape (n,), optional
            Subject ids: the validation split then holds out whole subjects.

        Returns
        -------
        self
        """
        import torch

        self._validate_params()
        from facefeat.deep.backbones import stage_names

        names = stage_names(self.backbone)
        if self.layer != "penultimate" and self.layer not in names:
            raise InvalidParameterError(f"The 'layer' parameter of CachedFineTunedCNN must be 'penultimate' or a stage of "
                                        f"{self.backbone} ({', '.join(names)}); got {self.layer!r}.")
        n_stages = len(self._used_stages(names))
        if self.unfreeze > n_stages:
            raise InvalidParameterError(
                f"The 'unfreeze' parameter must be at most the {n_stages} stages of {self.backbone} up to "
                f"{self.layer}; got {self.unfreeze}.")
        device = resolve_device(self.device)
        images, _ = as_image_list(X)
        y = np.asarray(y)
        if len(y) != len(images):
            raise ValueError(f"X has {len(images)} faces but y has {len(y)} labels")
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least 2 classes to train a classifier, got {len(self.classes_)}")
        rng = check_random_state(self.random_state)
        fraction = self.validation_fraction if self.early_stopping else 0
        train, val = validation_split(y_enc, groups, fraction, rng)
        self.n_validation_ = len(val)
        n_views = self.n_views if self.augment else 1
        view_params = self._view_params(len(images), n_views, rng)
        seed = int(rng.randint(np.iinfo(np.int32).max))

        with torch_threads(self.n_threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._fit(images, y_enc, train, val, view_params, device)
        return self

    def _fit(self, images, y_enc, train, val, view_params, device):
        import torch
        from tqdm.auto import tqdm

        from facefeat.deep.backbones import BACKBONES, build_backbone, fuse_batchnorm

        spec = BACKBONES[self.backbone]
        size = input_size_for(self.backbone, self.input_size)
        weights = self.weights if self.weights is None or self.weights == "imagenet" else str(self.weights)
        model = build_backbone(self.backbone, weights).to(device=device, memory_format=torch.channels_last)
        for p in model.parameters():
            p.requires_grad_(False)
        stages = self._used_stages(model.stages())
        k = self.unfreeze if self.finetune_epochs > 0 else 0
        trainable = stages[len(stages) - k:]
        n_views = view_params.shape[1]
        gen = torch.Generator().manual_seed(int(torch.randint(np.iinfo(np.int32).max, ())))
        weight = class_weight_vector(by_class_index(self.class_weight, self.classes_), y_enc[train],
                                     len(self.classes_))
        loss_fn = torch.nn.CrossEntropyLoss(weight=None if weight is None else weight.to(device))
        y_t = torch.as_tensor(y_enc, dtype=torch.long, device=device)
        self.history_ = {"head_train_loss": [], "head_val_loss": [], "finetune_train_loss": [],
                         "finetune_val_loss": []}

        def prepared(idx, views):
            chunk = [self._view(images[i], view_params[i, v]) for i, v in zip(idx, views)]
            x = torch.from_numpy(prepare_batch(chunk, size, spec.mean, spec.std))
            return x.to(device).contiguous(memory_format=torch.channels_last)

        def run(stage_list, x):
            for s in stage_list:
                x = s(x)
            return x

        def pool(x):
            return torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, self.pool_grid), 1)

        # Frozen computations run on a copy with BatchNorm folded into the
        # convolutions (same outputs to float rounding, 1.5-2x faster on a CPU).
        fast = fuse_batchnorm(copy.deepcopy(model), torch.zeros(1, 3, size, size, device=device))
        fast_stages = self._used_stages(fast.stages())
        fast_frozen, fast_rest = fast_stages[:len(stages) - k], fast_stages[len(stages) - k:]

        # -- cache: pooled features of every (face, view), frozen-part maps when they fit.
        # One preallocated tensor per store: a small clone per view fragments the
        # heap between the batches' large temporaries (fer2013's 100k views
        # reached 23 GB of RSS for 1.8 GB of maps).
        keep_maps = k > 0
        items = [(i, v) for v in range(n_views) for i in train] + [(i, 0) for i in val]
        rows = torch.full((len(images), n_views), -1, dtype=torch.long)
        for r, (i, v) in enumerate(items):
            rows[i, v] = r
        # not inference_mode: the cached tensors are inputs to training
        with torch.no_grad(), tqdm(total=len(items), desc="frozen stages", unit="view", leave=False,
                                   disable=not self.progress) as bar:
            probe = run(fast_frozen, prepared([0], [0]))
            map_mb = probe.numel() * 4 * len(items) / 2**20
            if keep_maps and map_mb > self.max_cache_mb:
                keep_maps = False
            pooled = torch.empty((len(items), pool(run(fast_rest, probe)).shape[1]), device=device)
            maps = torch.empty((len(items), *probe.shape[1:]), device=device,
                               memory_format=torch.channels_last) if keep_maps else None
            for start in range(0, len(items), self.batch_size):
                idx, views = zip(*items[start:start + self.batch_size])
                mid = run(fast_frozen, prepared(idx, views))
                pooled[start:start + len(idx)] = pool(run(fast_rest, mid))
                if keep_maps:
                    maps[start:start + len(idx)] = mid
                bar.update(len(idx))
        del probe
        self.stage_cache_ = keep_maps
        head = self._make_head(int(pooled.shape[1]), len(self.classes_)).to(device)

        def stack(store, idx, views):
            return store[rows[torch.as_tensor(idx, dtype=torch.long), torch.as_tensor(views, dtype=torch.long)]]

        # -- phase 1: head on cached pooled features
        opt = torch.optim.AdamW(head.parameters(), lr=self.lr, weight_decay=self.weight_decay)

        def head_batch(idx, views):
            return head(stack(pooled, idx, views))

        best1, best_loss = self._train_phase("head", [head], opt, head_batch, train, val, y_t, n_views, gen,
                                             self.epochs, loss_fn, modules_to_train=[head])

        # -- phase 2: unfrozen stages + head
        best2 = 0
        if k > 0:
            params = [p for s in trainable for p in s.parameters()]
            for p in params:
                p.requires_grad_(True)
            opt = torch.optim.AdamW(params + list(head.parameters()), lr=self.finetune_lr,
                                    weight_decay=self.weight_decay)
            stage_modules = [m for s in trainable for m in s.modules if isinstance(m, torch.nn.Module)]

            def ft_batch(idx, views):
                if keep_maps:
                    mid = stack(maps, idx, views)
                else:
                    with torch.no_grad():
                        mid = run(fast_frozen, prepared([int(i) for i in idx], [int(v) for v in views]))
                return head(pool(run(trainable, mid)))

            # phase 2 must beat phase 1's best validation loss, else its weights are dropped (best epoch 0)
            best2, _ = self._train_phase("finetune", stage_modules + [head], opt, ft_batch, train, val, y_t,
                                         n_views, gen, self.finetune_epochs, loss_fn, modules_to_train=[head],
                                         initial_loss=best_loss)
            for p in params:
                p.requires_grad_(False)
        for p in head.parameters():
            p.requires_grad_(False)
        self.model_ = model.eval()
        self.head_ = head.eval()
        self.best_epochs_ = (best1, best2)

    def _train_phase(self, name, state_modules, opt, forward, train, val, y_t, n_views, gen, epochs, loss_fn,
                     modules_to_train, initial_loss=math.inf):
        """Mini-batch training with early stopping.

        Returns the best epoch (0: none beat ``initial_loss``, the weights are
        those before the phase) and its validation loss; without validation,
        the last epoch and inf.
        """
        import torch
        from tqdm.auto import tqdm

        train_t = torch.as_tensor(train, dtype=torch.long)
        val_t = torch.as_tensor(val, dtype=torch.long)
        use_val = self.early_stopping and len(val) > 0
        best_loss, best_epoch, stale = initial_loss, 0, 0
        best_state = [copy.deepcopy(m.state_dict()) for m in state_modules] if use_val else None
        bar = tqdm(total=epochs, desc=f"{name} epochs", unit="epoch", leave=False, disable=not self.progress)
        for epoch in range(1, epochs + 1):
            for m in modules_to_train:
                m.train()
            order = train_t[torch.randperm(len(train_t), generator=gen)]
            views = torch.randint(n_views, (len(order),), generator=gen)
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                idx, v = order[start:start + self.batch_size], views[start:start + self.batch_size]
                loss = loss_fn(forward(idx, v), y_t[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            for m in modules_to_train:
                m.eval()
            self.history_[f"{name}_train_loss"].append(total / len(order))
            if use_val:
                with torch.no_grad():
                    logits = torch.cat([forward(val_t[s:s + self.batch_size],
                                                torch.zeros(len(val_t[s:s + self.batch_size]), dtype=torch.long))
                                        for s in range(0, len(val_t), self.batch_size)])
                    val_loss = float(loss_fn(logits, y_t[val_t]))
                self.history_[f"{name}_val_loss"].append(val_loss)
                if val_loss < best_loss - 1e-6:
                    best_loss, best_epoch, stale = val_loss, epoch, 0
                    best_state = [copy.deepcopy(m.state_dict()) for m in state_modules]
                else:
                    stale += 1
            bar.set_postfix(train_loss=f"{total / len(order):.4f}",
                            **({"val_loss": f"{val_loss:.4f}"} if use_val else {}), refresh=False)
            bar.update()
            if use_val and stale >= self.patience:
                break
        bar.close()
        if use_val:
            for m, state in zip(state_modules, best_state):
                m.load_state_dict(state)
            return best_epoch, best_loss
        return epoch, math.inf

    def _used_stages(self, stages):
        """The stages up to ``layer`` (names or Stage objects)."""
        names = [getattr(st, "name", st) for st in stages]
        end = len(names) if self.layer == "penultimate" else names.index(self.layer) + 1
        return list(stages[:end])

    def _make_head(self, dim, n_classes):
        from torch import nn

        if self.head == "linear":
            return nn.Sequential(nn.Dropout(self.dropout), nn.Linear(dim, n_classes))
        return nn.Sequential(nn.Linear(dim, self.hidden_units), nn.ReLU(inplace=True), nn.Dropout(self.dropout),
                             nn.Linear(self.hidden_units, n_classes))

    def _view_params(self, n, n_views, rng):
        """(n, n_views, 4): flip, shift x, shift y (fractions of the side), rotation (degrees) of each view."""
        params = np.zeros((n, n_views, 4))
        if n_views > 1:
            params[:, 1, 0] = 1
        if n_views > 2:
            shape = (n, n_views - 2)
            params[:, 2:, 0] = rng.random_sample(shape) < 0.5
            params[:, 2:, 1:3] = rng.uniform(-self.max_shift, self.max_shift, shape + (2,))
            params[:, 2:, 3] = rng.uniform(-self.max_rotation, self.max_rotation, shape)
        return params

    @staticmethod
    def _view(image, params):
        flip, dx, dy, angle = params
        image = np.asarray(image)
        if flip:
            image = image[:, ::-1]
        if dx or dy or angle:
            import cv2

            h, w = image.shape[:2]
            M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            M[:, 2] += (dx * w, dy * h)
            image = cv2.warpAffine(np.ascontiguousarray(image), M, (w, h), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
        return np.ascontiguousarray(image)

    # ------------------------------------------------------------------ #

    def _batches(self, X):
        import torch

        from facefeat.deep.backbones import BACKBONES

        spec = BACKBONES[self.backbone]
        size = input_size_for(self.backbone, self.input_size)
        images, _ = as_image_list(X)
        device = next(self.model_.parameters()).device
        for start in range(0, len(images), self.batch_size):
            x = torch.from_numpy(prepare_batch(images[start:start + self.batch_size], size, spec.mean, spec.std))
            yield x.to(device).contiguous(memory_format=torch.channels_last)

    def _proba(self, x):
        import torch
        import torch.nn.functional as F

        upto = None if self.layer == "penultimate" else self.layer
        feats = torch.flatten(F.adaptive_avg_pool2d(self.model_.forward_features(x, upto), self.pool_grid), 1)
        return torch.softmax(self.head_(feats), dim=1)

    def __sklearn_tags__(self):
        return image_tags(super().__sklearn_tags__(), non_deterministic=self.random_state is None)
