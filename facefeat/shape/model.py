"""The Active Shape Model (:class:`ActiveShapeModel`): training, storage and the shipped model.

A model is trained from arrays (:meth:`ActiveShapeModel.fit`) or from folders
of image + ``.pts`` pairs (:func:`train_asm`), stored as a small ``.npz`` file
and used by :class:`~facefeat.shape.fitter.ASMFitter`. See
:mod:`facefeat.shape.asm` for an overview and the references.
"""

import json
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from facefeat.shape._frames import (
    apply_affine,
    box_matches,
    normalise_frame,
    relative_pose,
    to_gray_f32,
)
from facefeat.shape.fitter import ASMFitter
from facefeat.shape.pdm import PointDistributionModel, Pose, align_similarity
from facefeat.shape.profiles import (
    PatchModel,
    ProfileModel,
    gradient_image,
    image_pyramid,
    shape_normals,
    to_level,
)
from facefeat.shape.training_data import (
    detect_face_box,
    load_landmarked_images,
    mirror_faces,
)

__all__ = ["ActiveShapeModel", "train_asm", "DEFAULT_MODEL_PATH"]

#: Where :meth:`ActiveShapeModel.default` finds the shipped model.
DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "data" / "asm_default.npz"

_FORMAT = "facefeat-asm"
_MODEL_PARAMS = ("n_components", "b_limit", "n_levels", "profile_kind", "profile_length", "n_parallel",
                 "patch_size", "patch_modes", "discriminative", "negative_range", "regularization", "face_width",
                 "mirror", "upsample", "random_state")
_FORMAT_VERSION = 1


class ActiveShapeModel:
    """Active Shape Model: shape model, profile models and face-box placement.

    ``__init__`` only stores the parameters; :meth:`fit` (or :func:`train_asm`)
    trains, :meth:`load` / :meth:`default` read a trained model. Search
    images with an :class:`ASMFitter`.

    Parameters
    ----------
    n_components : int or float, default=0.98
        Shape modes to keep (int) or fraction of the shape variance (float).
    b_limit : float, default=3.0
        Shape parameters are clamped to ``+-b_limit * sqrt(eigenvalue)``.
    n_levels : int, default=3
        Pyramid levels; level ``l`` has ``1 / 2**l`` of the resolution.
    face_width : float, default=64
        Width of the mean shape, in pixels, in the normalised frame where
        profiles are learned and searched (level 0); the coarsest level sees
        faces ``face_width / 2**(n_levels - 1)`` pixels wide.
    profile_kind : {"2d", "1d"} or sequence of them (one per level), default="2d"
        ``"1d"``: Cootes' grey-level derivative profiles along the normal
        (:class:`~facefeat.shape.profiles.ProfileModel`); ``"2d"``: gradient
        patches searched on a square grid
        (:class:`~facefeat.shape.profiles.PatchModel`).
    profile_length : int, default=4
        1-D profiles: half-length ``k`` in pixels of the level (``2k + 1`` samples).
    n_parallel : int, default=1
        1-D profiles: parallel profiles per landmark (1 is Cootes' profile).
    patch_size : int, default=3
        2-D profiles: half-side of the patch (``2 * patch_size + 1`` pixels).
    patch_modes : int, default=24
        2-D profiles: principal directions of each patch covariance.
    discriminative : bool, default=True
        Also model the profiles found 1 to ``negative_range`` pixels away from
        the true points and score candidates by the log-likelihood ratio of
        the two Gaussians instead of the Mahalanobis distance alone.
    negative_range : float, default=5.0
        Largest distance (pixels of each level) of those profiles.
    regularization : float, default=0.3
        Shrinkage of every profile covariance towards its mean variance.
    mirror : bool, default=False
        Also train on the left-right mirror image of every training face
        (68-point shapes only).
    upsample : "auto" or int, default="auto"
        Upsampling of dlib's HOG detector on the training images.
    random_state : int, default=0
        Seed of the positions where the off-target profiles are sampled.

    Attributes
    ----------
    pdm_ : PointDistributionModel
    profiles_ : list of ProfileModel or PatchModel
        One per pyramid level, finest first.
    box_pose_ : ndarray of shape (4,)
        Median ``[scale / box_width, angle, (tx - box_cx) / box_width,
        (ty - box_cy) / box_width]`` of the similarity that places the mean
        shape on a training face, relative to its detector box.
    box_source_ : str
        ``"hog"`` (dlib HOG boxes) or ``"landmarks"`` (landmark bounding boxes,
        used when the detector found none of the training faces).
    n_train_ : int
        Training images.
    n_boxes_ : int
        Detector boxes (that overlap their face) used for ``box_pose_``,
        mirrored copies included.

    Notes
    -----
    ``profile_kind="1d", discriminative=False`` with
    ``ASMFitter(soft=0, converge_fraction=0.9)`` is the search of Cootes et
    al. (1995). The defaults depart from it where that measured better on the
    300-W training images (5-fold cross-validation, see
    ``benchmarks/asm_landmarks.py``): 2-D gradient-patch profiles in the
    manner of Milborrow & Nicolls (2008, doi:10.1007/978-3-540-88693-8_37),
    scored by the likelihood ratio against off-target profiles, a coarse
    pyramid (16 px faces at the top), and the soft candidate choice of
    :class:`ASMFitter`.

    Examples
    --------
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=2, n_per_class=1)
    >>> asm = ActiveShapeModel(n_levels=2, n_components=5).fit(ds.images, ds.landmarks)
    >>> asm.pdm_.n_components_, len(asm.profiles_)
    (5, 2)
    >>> result = ASMFitter(asm).fit_from_shape(ds.images[0], ds.landmarks[0] + 3)
    >>> bool(result.error(ds.landmarks[0]) < 0.1)
    True
    """

    def __init__(self, n_components=0.98, b_limit=3.0, n_levels=3, face_width=64, profile_kind="2d",
                 profile_length=4, n_parallel=1, patch_size=3, patch_modes=24, discriminative=True,
                 negative_range=5.0, regularization=0.3, mirror=False, upsample="auto", random_state=0):
        self.n_components = n_components
        self.b_limit = b_limit
        self.n_levels = n_levels
        self.face_width = face_width
        self.profile_kind = profile_kind
        self.profile_length = profile_length
        self.n_parallel = n_parallel
        self.patch_size = patch_size
        self.patch_modes = patch_modes
        self.discriminative = discriminative
        self.negative_range = negative_range
        self.regularization = regularization
        self.mirror = mirror
        self.upsample = upsample
        self.random_state = random_state

    # ---------------------------------------------------------------- train
    def _check_params(self):
        if not isinstance(self.n_levels, Integral) or not 1 <= self.n_levels <= 6:
            raise ValueError(f"n_levels must be an int in [1, 6], got {self.n_levels!r}")
        if not isinstance(self.face_width, Real) or not 16 <= self.face_width <= 1024:
            raise ValueError(f"face_width must be a number in [16, 1024], got {self.face_width!r}")
        if self.b_limit is None or not isinstance(self.b_limit, Real) or self.b_limit <= 0:
            raise ValueError(f"b_limit must be a positive number, got {self.b_limit!r}")
        if not isinstance(self.negative_range, Real) or self.negative_range <= 1:
            raise ValueError(f"negative_range must be a number > 1, got {self.negative_range!r}")
        if not isinstance(self.profile_kind, str) and len(self.profile_kind) != self.n_levels:
            raise ValueError(f"profile_kind needs one entry per level ({self.n_levels}), got {self.profile_kind!r}")
        for lev in range(self.n_levels):
            self._kind(lev)

    @property
    def canvas_size(self):
        """Side of the normalised square image in which the search runs (pixels at level 0)."""
        return int(2 ** self.n_levels * np.ceil(2.0 * self.face_width / 2 ** self.n_levels))

    def fit(self, images, shapes, boxes=None, *, progress=False):
        """Train the shape model, the profile models and the box placement.

        Parameters
        ----------
        images : sequence of ndarray of shape (h, w) or (h, w, 3)
            Training images (uint8 or float, gray or RGB).
        shapes : array_like of shape (n_images, n_points, 2)
            True landmarks, (x, y), 0-based, in each image's pixel frame.
        boxes : sequence of (array_like of shape (4,) or None), optional
            A face box ``(x0, y0, x1, y1)`` per image (None where no face was
            detected). Default: run dlib's HOG detector on every image. Boxes
            that do not overlap the landmarks (IoU < 0.5) are ignored.
        progress : bool, default=False
            Show progress bars.

        Returns
        -------
        self
        """
        self._check_params()
        from tqdm.auto import tqdm

        shapes = np.asarray(shapes, dtype=float)
        images = list(images)
        if shapes.ndim != 3 or shapes.shape[2] != 2 or len(shapes) != len(images):
            raise ValueError(f"need one (n_points, 2) shape per image; got {len(images)} images and "
                             f"shapes of shape {shapes.shape}")
        if len(images) < 2:
            raise ValueError("need at least 2 training images")
        if boxes is None:
            boxes = [detect_face_box(img, upsample=self.upsample)
                     for img in tqdm(images, desc="detecting faces", disable=not progress, leave=False)]
        if len(boxes) != len(images):
            raise ValueError(f"got {len(boxes)} boxes for {len(images)} images")
        n_original = len(images)
        if self.mirror:
            if shapes.shape[1] != 68:
                raise ValueError("mirror=True needs iBUG-68 shapes (68 points)")
            images, shapes, boxes = mirror_faces(images, shapes, boxes)
        pdm = PointDistributionModel(n_components=self.n_components, b_limit=self.b_limit).fit(shapes)
        self.pdm_ = pdm
        ref = self._reference_scale()
        size = self.canvas_size
        profiles = [self._new_profile_model(lev) for lev in range(self.n_levels)]
        for pm in profiles:
            pm._check_params()
        samples = [[] for _ in range(self.n_levels)]
        negatives = [[] for _ in range(self.n_levels)]
        rng = np.random.default_rng(self.random_state)
        for img, shape in tqdm(zip(images, shapes), total=len(images), desc="ASM profiles", disable=not progress,
                               leave=False):
            gray = to_gray_f32(img)
            pose = align_similarity(pdm.mean_, shape)
            centre = (shape.min(axis=0) + shape.max(axis=0)) / 2
            canvas, M = normalise_frame(gray, ref / pose.scale, centre, size, pose.angle)
            pyr = image_pyramid(canvas, self.n_levels)
            s0 = apply_affine(M, shape)
            for lev, (pm, im) in enumerate(zip(profiles, pyr)):
                sl = to_level(s0, lev)
                r = rng.uniform(1, self.negative_range, len(sl))  # negatives: 1..negative_range px away
                if isinstance(pm, PatchModel):
                    im = gradient_image(im)
                    samples[lev].append(pm.profiles(im, sl))
                    if self.discriminative:
                        ang = rng.uniform(0, 2 * np.pi, len(sl))
                        away = sl + r[:, None] * np.column_stack([np.cos(ang), np.sin(ang)])
                        negatives[lev].append(pm.profiles(im, away))
                else:
                    normals = shape_normals(sl, pm.neighbours(len(sl)))
                    samples[lev].append(pm.profiles(im, sl, normals))
                    if self.discriminative:
                        away = sl + (r * rng.choice([-1.0, 1.0], len(sl)))[:, None] * normals
                        negatives[lev].append(pm.profiles(im, away, normals))
        for lev, (pm, G) in enumerate(zip(profiles, samples)):
            pm._fit_profiles(np.stack(G), np.stack(negatives[lev]) if self.discriminative else None)
        self.profiles_ = profiles

        rel, source = [], "hog"
        for box, shape in zip(boxes, shapes):
            if box is not None and box_matches(np.asarray(box, float), shape):
                rel.append(relative_pose(pdm.mean_, shape, np.asarray(box, float)))
        if not rel:
            warnings.warn("the face detector found none of the training faces: the initial shape will be "
                          "placed relative to landmark bounding boxes", UserWarning, stacklevel=2)
            source = "landmarks"
            for shape in shapes:
                lo, hi = shape.min(axis=0), shape.max(axis=0)
                rel.append(relative_pose(pdm.mean_, shape, np.r_[lo, hi]))
        rel = np.array(rel)
        self.box_pose_ = np.median(rel, axis=0)
        self.box_source_ = source
        self.n_train_ = n_original
        self.n_boxes_ = len(rel) if source == "hog" else 0
        return self

    def _kind(self, level):
        kind = self.profile_kind
        kind = kind if isinstance(kind, str) else kind[level]
        if kind not in ("1d", "2d"):
            raise ValueError(f"profile_kind must be '1d', '2d' or a sequence of them per level, "
                             f"got {self.profile_kind!r}")
        return kind

    def _new_profile_model(self, level):
        if self._kind(level) == "1d":
            return ProfileModel(half_length=self.profile_length, n_parallel=self.n_parallel,
                                regularization=self.regularization)
        return PatchModel(half_size=self.patch_size, n_modes=self.patch_modes, regularization=self.regularization)

    def _reference_scale(self):
        m = self.pdm_.mean_
        return float(self.face_width / (m[:, 0].max() - m[:, 0].min()))

    def _check_fitted(self):
        if not hasattr(self, "pdm_"):
            raise AttributeError("this ActiveShapeModel is not trained yet; call fit(images, shapes) "
                                 "or use ActiveShapeModel.load / ActiveShapeModel.default()")

    # ------------------------------------------------------------------ use
    def initial_shape(self, box):
        """The mean shape placed in a face box by the learned relation.

        Parameters
        ----------
        box : array_like of shape (4,)
            ``(x0, y0, x1, y1)``.

        Returns
        -------
        ndarray of shape (n_points, 2)
        """
        self._check_fitted()
        return self.initial_pose(box).apply(self.pdm_.mean_)

    def initial_pose(self, box):
        """Similarity that places the mean shape in ``box`` (see :meth:`initial_shape`)."""
        self._check_fitted()
        x0, y0, x1, y1 = np.asarray(box, dtype=float)
        w = x1 - x0
        if not w > 0 or not y1 > y0:
            raise ValueError(f"a box needs x1 > x0 and y1 > y0, got {tuple(box)}")
        s, a, dx, dy = self.box_pose_
        return Pose(s * w, a, (x0 + x1) / 2 + dx * w, (y0 + y1) / 2 + dy * w)

    def fitter(self, **params):
        """An :class:`ASMFitter` for this model (``params`` go to its constructor)."""
        return ASMFitter(self, **params)

    # -------------------------------------------------------------- storage
    def save(self, path):
        """Write the trained model as an ``.npz`` file (arrays and a JSON header; no pickle).

        Parameters
        ----------
        path : str or path-like
        """
        self._check_fitted()
        meta = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "params": {k: getattr(self, k) for k in _MODEL_PARAMS},
            "box_source": self.box_source_,
            "n_train": int(self.n_train_),
            "n_boxes": int(self.n_boxes_),
            "profile_n_samples": [int(p.n_samples_) for p in self.profiles_],
        }
        arrays = dict(self.pdm_.to_arrays("pdm_"))
        arrays["box_pose"] = self.box_pose_
        for lev, pm in enumerate(self.profiles_):
            arrays[f"profile{lev}_mean"] = pm.mean_.astype(np.float32)
            if isinstance(pm, PatchModel):
                arrays.update(_quantise(f"profile{lev}_basis", pm.basis_))
                arrays[f"profile{lev}_rest"] = pm.rest_.astype(np.float32)
                if getattr(pm, "neg_mean_", None) is not None:
                    arrays[f"profile{lev}_neg_mean"] = pm.neg_mean_.astype(np.float32)
                    arrays.update(_quantise(f"profile{lev}_neg_basis", pm.neg_basis_))
                    arrays[f"profile{lev}_neg_rest"] = pm.neg_rest_.astype(np.float32)
            else:
                arrays[f"profile{lev}_precision"] = pm.precision_.astype(np.float32)
                if getattr(pm, "neg_mean_", None) is not None:
                    arrays[f"profile{lev}_neg_mean"] = pm.neg_mean_.astype(np.float32)
                    arrays[f"profile{lev}_neg_precision"] = pm.neg_precision_.astype(np.float32)
        arrays["meta"] = np.array(json.dumps(meta))
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        ActiveShapeModel
        """
        with np.load(path, allow_pickle=False) as z:
            if "meta" not in z.files:
                raise ValueError(f"{path} is not a facefeat ASM model file (no 'meta' entry)")
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != _FORMAT:
                raise ValueError(f"{path} is not a facefeat ASM model file")
            if meta.get("version", 0) > _FORMAT_VERSION:
                raise ValueError(f"{path} was written by a newer facefeat (format version {meta['version']})")
            params = meta["params"]
            if isinstance(params.get("profile_kind"), list):
                params["profile_kind"] = tuple(params["profile_kind"])
            model = cls(**params)
            model.pdm_ = PointDistributionModel.from_arrays(z, "pdm_")
            model.box_pose_ = np.asarray(z["box_pose"], dtype=float)
            model.profiles_ = []
            for lev in range(model.n_levels):
                pm = model._new_profile_model(lev)
                pm.mean_ = np.asarray(z[f"profile{lev}_mean"], dtype=float)
                if isinstance(pm, PatchModel):
                    pm.basis_ = _dequantise(z, f"profile{lev}_basis")
                    pm.rest_ = np.asarray(z[f"profile{lev}_rest"], dtype=float)
                    if f"profile{lev}_neg_mean" in z.files:
                        pm.neg_mean_ = np.asarray(z[f"profile{lev}_neg_mean"], dtype=float)
                        pm.neg_basis_ = _dequantise(z, f"profile{lev}_neg_basis")
                        pm.neg_rest_ = np.asarray(z[f"profile{lev}_neg_rest"], dtype=float)
                else:
                    pm.precision_ = np.asarray(z[f"profile{lev}_precision"], dtype=float)
                    if f"profile{lev}_neg_mean" in z.files:
                        pm.neg_mean_ = np.asarray(z[f"profile{lev}_neg_mean"], dtype=float)
                        pm.neg_precision_ = np.asarray(z[f"profile{lev}_neg_precision"], dtype=float)
                pm.n_samples_ = meta["profile_n_samples"][lev]
                model.profiles_.append(pm)
        model.box_source_ = meta["box_source"]
        model.n_train_ = meta["n_train"]
        model.n_boxes_ = meta["n_boxes"]
        return model

    @classmethod
    def default(cls):
        """The model shipped with facefeat (68 iBUG points), loaded offline.

        Trained on the 300-W training images; see ``facefeat/data/README.md``.

        Returns
        -------
        ActiveShapeModel

        Examples
        --------
        >>> asm = ActiveShapeModel.default()
        >>> asm.pdm_.n_points_, asm.n_levels
        (68, 3)
        """
        if not DEFAULT_MODEL_PATH.is_file():
            raise FileNotFoundError(f"the default ASM model is missing: {DEFAULT_MODEL_PATH}")
        return cls.load(DEFAULT_MODEL_PATH)

    def __repr__(self):
        trained = (f", trained on {self.n_train_} images, {self.pdm_.n_components_} modes"
                   if hasattr(self, "pdm_") else "")
        return (f"ActiveShapeModel(n_levels={self.n_levels}, profile_length={self.profile_length}, "
                f"n_parallel={self.n_parallel}, face_width={self.face_width}{trained})")


def _quantise(name, basis):
    """int8 storage of a (n_points, d, r) basis with one scale per (point, mode) column."""
    scale = np.abs(basis).max(axis=1) / 127.0  # (n_points, r)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(basis / scale[:, None, :]), -127, 127).astype(np.int8)
    return {name + "_q": q, name + "_scale": scale.astype(np.float32)}


def _dequantise(z, name):
    return z[name + "_q"].astype(float) * z[name + "_scale"].astype(float)[:, None, :]



def train_asm(paths, *, progress=False, **params):
    """Train an :class:`ActiveShapeModel` on folders of image + ``.pts`` pairs.

    Parameters
    ----------
    paths : str, path-like or sequence of them
        Folders (recursive) or image files with a ``.pts`` of the same stem.
    progress : bool, default=False
    **params
        Passed to :class:`ActiveShapeModel`.

    Returns
    -------
    ActiveShapeModel
        Trained; the box placement is learned from dlib's HOG detector boxes on
        the training images.

    See Also
    --------
    load_landmarked_images : the reading step.
    ActiveShapeModel.fit : training from arrays.

    References
    ----------
    .. [1] T. F. Cootes, C. J. Taylor, D. H. Cooper and J. Graham, "Active shape
       models - their training and application", Computer Vision and Image
       Understanding 61(1):38-59, 1995. :DOI:`10.1006/cviu.1995.1004`

    Examples
    --------
    A tiny model (classic 1-D profiles, one shape mode) from two synthetic
    faces written as PNG + ``.pts`` pairs:

    >>> import tempfile
    >>> from facefeat.shape.model import train_asm
    >>> from facefeat.shape.training_data import save_landmarked_images
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=1, n_per_class=1, classes=["happiness", "surprise"])
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_landmarked_images(folder, ds.images, ds.landmarks)
    >>> asm = train_asm(folder, n_levels=2, n_components=1, profile_kind="1d")
    >>> asm.n_train_, asm.pdm_.n_components_, len(asm.profiles_), asm.box_source_
    (2, 1, 2, 'hog')
    """
    images, shapes, _ = load_landmarked_images(paths, progress=progress)
    return ActiveShapeModel(**params).fit(images, shapes, progress=progress)
