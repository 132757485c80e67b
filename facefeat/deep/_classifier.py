"""What the CNN classifiers trained end to end share: fit through the training loop, predict, pickling."""

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from facefeat._steps import image_tags
from facefeat.deep.embedding import BACKBONE_NAMES, resolve_device, torch_threads

# Batches of faces per forward pass in prediction
_PREDICT_BATCH = 256

# The parameters every subclass takes, as TrainingSettings and train_classifier name them
TRAINING_CONSTRAINTS = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "start_from_epoch": [Interval(Integral, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "warmup_epochs": [Interval(Real, 0, None, closed="left")],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "class_weight": [None, StrOptions({"balanced"}), dict],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "monitor": [StrOptions({"f1_macro", "accuracy", "loss"})],
    "augment": ["boolean"],
    "mixup_alpha": [Interval(Real, 0, None, closed="left")],
    "cutmix_alpha": [Interval(Real, 0, None, closed="left")],
    "flip_tta": ["boolean"],
    "crop_tta": [Interval(Real, 0, 1, closed="left")],
    "bf16": [StrOptions({"auto"}), "boolean"],
    "checkpoint": [None, str, os.PathLike],
    "random_state": ["random_state"],
    "device": [str],
    "n_threads": [None, Interval(Integral, 1, None, closed="left")],
    "progress": ["boolean"],
}

# The parameters of face_network, as the classifiers that build it take them
NETWORK_CONSTRAINTS = {
    "backbone": [StrOptions(set(BACKBONE_NAMES))],
    "weights": [None, str, os.PathLike],
    "layer": [str],
    "pool_grid": [Interval(Integral, 1, None, closed="left")],
    "head": [StrOptions({"linear", "mlp"})],
    "hidden_units": [Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}


def amx():
    """Whether this CPU multiplies bfloat16 in hardware (AMX), where bf16 autocast trains several times faster."""
    try:
        with open("/proc/cpuinfo") as f:
            return " amx_bf16" in f.read()
    except OSError:
        return False


def five_crops(x, side):
    """The centre and four corner crops of a batch of images, each resized back to the batch's size.

    Parameters
    ----------
    x : torch.Tensor of shape (n, c, h, w)
    side : float
        The crops' side as a fraction of the images' (0 < side <= 1).

    Returns
    -------
    list of 5 torch.Tensor of shape (n, c, h, w)
        Centre, top left, top right, bottom left, bottom right (bilinear).

    Examples
    --------
    >>> import torch
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> [tuple(c.shape) for c in five_crops(x, 0.5)][:2]
    [(1, 1, 4, 4), (1, 1, 4, 4)]
    >>> five_crops(x, 0.5)[1][0, 0, 0].tolist()  # the top-left 2 x 2 block, upsampled
    [0.0, 0.25, 0.75, 1.0]
    """
    import torch.nn.functional as F

    _, _, h, w = x.shape
    kh, kw = max(1, round(side * h)), max(1, round(side * w))
    corners = [((h - kh) // 2, (w - kw) // 2), (0, 0), (0, w - kw), (h - kh, 0), (h - kh, w - kw)]
    return [F.interpolate(x[:, :, r:r + kh, c:c + kw], size=(h, w), mode="bilinear", align_corners=False)
            for r, c in corners]


class PredictMixin:
    """``predict_proba`` (with mirror and crop test-time augmentation) and ``predict`` of the CNN classifiers.

    A subclass defines ``_batches(X)``, which yields the network's input
    tensors, and ``_proba(x)``, the class probabilities of one; and has
    ``classes_``, ``model_``, ``flip_tta``, ``crop_tta`` and ``n_threads``.
    """

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays

        Returns
        -------
        ndarray of shape (n, n_classes), float64
            Rows sum to 1; columns follow ``classes_``.
        """
        import torch

        check_is_fitted(self, "model_")
        out = []
        with torch.inference_mode(), torch_threads(self.n_threads):
            for x in self._batches(X):
                views = [x, *five_crops(x, self.crop_tta)] if self.crop_tta else [x]
                p = sum(self._mirrored_proba(v) for v in views) / len(views)
                out.append(p.double().cpu().numpy())
        return np.concatenate(out) if out else np.empty((0, len(self.classes_)))

    def _mirrored_proba(self, x):
        p = self._proba(x)
        return (p + self._proba(x.flip(3))) / 2 if self.flip_tta else p

    def predict(self, X):
        """The most probable class of each face of ``X``, which is what :meth:`predict_proba` takes.

        Returns
        -------
        ndarray of shape (n,)
            Labels from ``classes_``.
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class FaceCNNClassifier(PredictMixin, ClassifierMixin, BaseEstimator):
    """Base of :class:`~facefeat.deep.compact.CompactCNN` and :class:`~facefeat.deep.finetune.FineTunedCNN`.

    A subclass stores the training parameters of
    :class:`~facefeat.deep._training.TrainingSettings` under the same names
    and defines:

    * ``_input_size()``: side of the square uint8 faces the network takes;
    * ``_network(n_classes, pretrained)``: the torch module, mapping floats
      (n, 1, size, size) normalised by ``_MEAN`` and ``_STD`` to logits
      (``pretrained=False`` when rebuilding an unpickled model, whose weights
      are then loaded);
    * optionally ``_param_groups(model)`` (learning rate per part) and
      ``_check_params()`` (checks beyond ``_parameter_constraints``).

    Examples
    --------
    See :class:`~facefeat.deep.compact.CompactCNN`.
    """

    _MEAN, _STD = 0.5, 0.25
    _param_groups = None

    def _check_params(self):
        pass

    def _auto_bf16(self):
        return amx()

    def _settings(self):
        from facefeat.deep._training import (
            Augmentation,
            TrainingSettings,
            by_class_index,
        )

        class_weight = by_class_index(self.class_weight, self.classes_)
        return TrainingSettings(
            max_epochs=self.max_epochs, batch_size=self.batch_size, lr=self.lr, weight_decay=self.weight_decay,
            warmup_epochs=self.warmup_epochs, label_smoothing=self.label_smoothing, class_weight=class_weight,
            validation_fraction=self.validation_fraction, patience=self.patience,
            start_from_epoch=self.start_from_epoch, monitor=self.monitor,
            augment=Augmentation() if self.augment else None, channels_last=True,
            bf16=self._auto_bf16() if self.bf16 == "auto" else bool(self.bf16), mixup_alpha=self.mixup_alpha,
            cutmix_alpha=self.cutmix_alpha)

    def fit(self, X, y, groups=None):
        """Train the network on faces.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays
            Face crops on the 0..255 scale; RGB faces are turned gray.
        y : array-like of shape (n,)
            Class labels.
        groups : array-like of shape (n,), optional
            Subject ids: the validation split then holds out whole subjects
            (in a Pipeline: ``pipe.fit(X, y, clf__groups=subjects)``).

        Returns
        -------
        self
        """
        from facefeat.deep._training import face_tensor, train_classifier

        self._validate_params()
        self._check_params()
        device = resolve_device(self.device)
        y = np.asarray(y)
        with torch_threads(self.n_threads):
            images = face_tensor(X, self._input_size())
            if len(y) != len(images):
                raise ValueError(f"X has {len(images)} faces but y has {len(y)} labels")
            self.classes_, y_enc = np.unique(y, return_inverse=True)
            n_classes = len(self.classes_)
            if n_classes < 2:
                raise ValueError(f"need at least 2 classes to train a classifier, got {n_classes}")
            model, result = train_classifier(
                lambda: self._network(n_classes, pretrained=True), images, y_enc, n_classes, groups=groups,
                mean=self._MEAN, std=self._STD, settings=self._settings(), param_groups=self._param_groups,
                random_state=self.random_state, checkpoint=self.checkpoint, progress=self.progress, device=device)
        self.model_ = model
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.n_validation_ = result.n_validation
        self.images_per_second_ = result.images_per_second
        return self

    def _batches(self, X):
        import torch

        from facefeat.deep._training import face_tensor

        device = next(self.model_.parameters()).device
        images = face_tensor(X, self._input_size())
        for start in range(0, len(images), _PREDICT_BATCH):
            x = images[start:start + _PREDICT_BATCH].to(device).float().div_(255).sub_(self._MEAN)
            yield x.div_(self._STD).contiguous(memory_format=torch.channels_last)

    def _proba(self, x):
        import torch

        return torch.softmax(self.model_(x).float(), dim=1)

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ gives __dict__ itself
        if "model_" in state:
            # weights only, on the CPU: the pickle loads on machines without the training device
            state["model_"] = {k: v.detach().cpu() for k, v in self.model_.state_dict().items()}
        return state

    def __setstate__(self, state):
        weights = state.get("model_")
        super().__setstate__(state)
        if isinstance(weights, dict):
            import torch

            model = self._network(len(self.classes_), pretrained=False)
            model.load_state_dict(weights)
            self.model_ = model.to(memory_format=torch.channels_last).eval()

    def __sklearn_tags__(self):
        return image_tags(super().__sklearn_tags__(), non_deterministic=self.random_state is None)
