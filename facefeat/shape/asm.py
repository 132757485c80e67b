"""Active Shape Models: the model, its fitter and the fitting result.

An :class:`ActiveShapeModel` holds a point distribution model (mean shape and
modes of variation, :mod:`facefeat.shape.pdm`), a grey-level profile model per
landmark and pyramid level (:mod:`facefeat.shape.profiles`), and how a face
detector's box relates to the face's landmarks. It is trained from images
with landmarks (:meth:`ActiveShapeModel.fit`, :func:`train_asm` for folders of
image + ``.pts`` pairs) and stored as a small ``.npz`` file.

An :class:`ASMFitter` searches an image with a model: from an initial shape
(placed from a face box), every landmark looks along its normal for the
position whose profile best matches the model, and the shape model then
pulls the suggested points back to a plausible face; repeated to
convergence, coarse to fine over an image pyramid (Cootes et al. [1]_, [2]_).
The answer is a :class:`FittingResult`.

Notes
-----
Departures from Cootes et al. (1995):

* Scale normalisation. Before searching at each pyramid level the image is
  resampled so that the current face estimate has a fixed size (the model's
  ``face_width``); the profile models are trained on images normalised in the
  same way from the true landmarks. This makes the profile statistics
  independent of the image resolution, in the manner of Milborrow & Nicolls
  (2008, doi:10.1007/978-3-540-88693-8_37).
* Initialisation. The initial shape is the mean shape placed by a similarity
  learned from training images as the median relation between dlib's HOG
  face box and the true landmarks.
* Shape fitting is warm-started from the previous iteration's parameters and
  runs a few alternations of pose and shape only.

References
----------
.. [1] T. F. Cootes, C. J. Taylor, D. H. Cooper and J. Graham, "Active shape
   models - their training and application", Computer Vision and Image
   Understanding 61(1):38-59, 1995. doi:10.1006/cviu.1995.1004
.. [2] T. F. Cootes, C. J. Taylor and A. Lanitis, "Active shape models:
   evaluation of a multi-resolution method for improving image search",
   BMVC 1994, pp. 327-336. doi:10.5244/C.8.32
"""

import functools
import json
import time
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import cv2
import numpy as np

from facefeat.shape.pdm import PointDistributionModel, Pose, align_similarity
from facefeat.shape.profiles import (
    PatchModel,
    ProfileModel,
    from_level,
    gradient_image,
    image_pyramid,
    shape_normals,
    to_level,
)

__all__ = [
    "ActiveShapeModel",
    "ASMFitter",
    "FittingResult",
    "train_asm",
    "load_landmarked_images",
    "detect_face_box",
    "DEFAULT_MODEL_PATH",
]

#: Where :meth:`ActiveShapeModel.default` finds the shipped model.
DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "data" / "asm_default.npz"

_FORMAT = "facefeat-asm"
_MODEL_PARAMS = ("n_components", "b_limit", "n_levels", "profile_kind", "profile_length", "n_parallel",
                 "patch_size", "patch_modes", "discriminative", "negative_range", "regularization", "face_width",
                 "mirror", "upsample", "random_state")
_FORMAT_VERSION = 1


# --------------------------------------------------------------------------- #
# face boxes
# --------------------------------------------------------------------------- #
def detect_face_box(image, *, upsample="auto"):
    """The largest face box dlib's HOG detector finds in a gray or RGB image, or None.

    :func:`facefeat.align.detect_face_box` on the image's gray levels: the
    same detector and size rules as :func:`facefeat.align.detect_landmarks`,
    so its boxes are the ones dlib's 68-point predictor starts from.

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, 3), uint8
    upsample : "auto" or int, default="auto"

    Returns
    -------
    box : ndarray of shape (4,) or None
        ``(x0, y0, x1, y1)``: dlib's rectangle (left, top, right, bottom) in
        the image's pixel frame.

    References
    ----------
    .. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
       detection", CVPR 2005. :DOI:`10.1109/CVPR.2005.177`

    Examples
    --------
    An RGB photograph; the box is around the astronaut's face:

    >>> from skimage import data
    >>> from facefeat.shape.asm import detect_face_box
    >>> x0, y0, x1, y1 = detect_face_box(data.astronaut())
    >>> bool(150 < x0 < x1 < 300 and 50 < y0 < y1 < 200)
    True

    No face, no box:

    >>> import numpy as np
    >>> print(detect_face_box(np.full((64, 64), 128, dtype=np.uint8)))
    None
    """
    from facefeat import align

    return align.detect_face_box(_to_gray_u8(image), upsample=upsample)


def _box_matches(box, shape, min_overlap=0.5):
    """Whether a detector box covers the face of ``shape`` (IoU with its landmark box)."""
    lo, hi = shape.min(axis=0), shape.max(axis=0)
    ix = max(0.0, min(box[2], hi[0]) - max(box[0], lo[0]))
    iy = max(0.0, min(box[3], hi[1]) - max(box[1], lo[1]))
    inter = ix * iy
    union = (box[2] - box[0]) * (box[3] - box[1]) + (hi[0] - lo[0]) * (hi[1] - lo[1]) - inter
    return union > 0 and inter / union >= min_overlap


def _to_gray_u8(image):
    image = np.asarray(image)
    if image.ndim == 3:
        image = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    if image.dtype != np.uint8:
        image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def _to_gray_f32(image):
    image = np.asarray(image)
    if image.ndim == 3:
        if image.shape[2] != 3:
            raise ValueError(f"expected a gray (h, w) or RGB (h, w, 3) image, got shape {image.shape}")
        image = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    elif image.ndim != 2:
        raise ValueError(f"expected a gray (h, w) or RGB (h, w, 3) image, got shape {image.shape}")
    return np.ascontiguousarray(image, dtype=np.float32)


def _normalise_frame(image, scale, centre, size, angle=0.0):
    """Resample ``image`` into a square canvas around a face.

    ``centre`` lands mid-canvas, the image is scaled by ``scale`` canvas
    pixels per image pixel and turned by ``-angle`` (so that a face rotated
    by ``angle`` comes out upright); outside the image its border pixels are
    repeated. Shrinking uses area averaging (no aliasing); only the part of
    the image that the canvas covers is resampled.

    Returns the (size, size) float32 canvas and the 2x3 map image -> canvas.
    """
    h, w = image.shape
    half = (size - 1) / 2
    radius = (half * np.sqrt(2) + 3) / scale  # image region the (rotated) canvas covers
    side = int(np.ceil(2 * radius)) + 2
    x0 = int(np.floor(centre[0] - radius))
    y0 = int(np.floor(centre[1] - radius))
    # the covered region, clipped to the image (at least one pixel)
    cx0, cy0 = min(max(x0, 0), w - 1), min(max(y0, 0), h - 1)
    cx1, cy1 = max(min(x0 + side, w), cx0 + 1), max(min(y0 + side, h), cy0 + 1)
    roi = image[cy0:cy1, cx0:cx1]
    rh, rw = roi.shape
    # one factor for both axes (rounding the output size changes it by < 1 pixel's worth)
    sw, sh = max(1, round(rw * scale)), max(1, round(rh * scale))
    fx, fy = sw / rw, sh / rh
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(roi, (sw, sh), interpolation=interp)
    # image -> resized ROI (pixel-centre convention of cv2.resize)
    A = np.array([[fx, 0.0, (0.5 - cx0) * fx - 0.5], [0.0, fy, (0.5 - cy0) * fy - 0.5]])
    c = A[:, :2] @ np.asarray(centre, dtype=float) + A[:, 2]
    co, si = np.cos(-angle), np.sin(-angle)
    R = np.array([[co, -si], [si, co]])
    T = np.hstack([R, (half - R @ c)[:, None]])
    canvas = cv2.warpAffine(small, T, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    M = np.hstack([T[:, :2] @ A[:, :2], (T[:, :2] @ A[:, 2] + T[:, 2])[:, None]])
    return canvas, M


def _map_pose(M, pose):
    """The pose followed by the similarity ``M`` (2x3), as a :class:`Pose`."""
    P = pose.matrix
    A = M[:, :2] @ P[:, :2]
    t = M[:, :2] @ P[:, 2] + M[:, 2]
    return Pose(float(np.hypot(A[0, 0], A[1, 0])), float(np.arctan2(A[1, 0], A[0, 0])), float(t[0]), float(t[1]))


def _apply(M, pts):
    return np.asarray(pts, dtype=float) @ M[:, :2].T + M[:, 2]


def _invert(M):
    A = np.linalg.inv(M[:, :2])
    return np.hstack([A, -(A @ M[:, 2])[:, None]])


# --------------------------------------------------------------------------- #
# result
# --------------------------------------------------------------------------- #
@dataclass
class FittingResult:
    """What one ASM search found.

    Attributes
    ----------
    shape : ndarray of shape (n_points, 2)
        Final landmarks, (x, y), 0-based, in the image's pixel frame.
    initial_shape : ndarray of shape (n_points, 2)
        Where the search started.
    shapes : ndarray of shape (n_iterations + 1, n_points, 2)
        The initial shape, then the shape after every iteration.
    levels : ndarray of int of shape (n_iterations,)
        Pyramid level of every iteration (0 = full resolution).
    n_iterations : int
    converged : bool
        Every pyramid level stopped by the convergence test, not by ``max_iter``.
    pose : Pose
        Similarity from the model frame to the image of the final shape.
    b : ndarray of shape (n_components,)
        Shape parameters of the final shape.
    box : ndarray of shape (4,) or None
        The face box the search started from, ``(x0, y0, x1, y1)``.
    face_found : bool
        False when no face box was detected and the whole image was taken as
        the box (only with ``ASMFitter.fit_image``).
    seconds : float
        Wall time of the search (detection excluded).

    Examples
    --------
    >>> import numpy as np
    >>> s = np.zeros((3, 68, 2)); s[1] += 1; s[2] += 2
    >>> r = FittingResult(s[2], s[0], s, np.array([1, 0]), 2, True, Pose(), np.zeros(3))
    >>> r.shape_after(1)[0].tolist(), r.shape_after(99)[0].tolist()
    ([1.0, 1.0], [2.0, 2.0])
    """

    shape: np.ndarray
    initial_shape: np.ndarray
    shapes: np.ndarray
    levels: np.ndarray
    n_iterations: int
    converged: bool
    pose: Pose
    b: np.ndarray
    box: np.ndarray = None
    face_found: bool = True
    seconds: float = 0.0

    def shape_after(self, k):
        """The shape after ``k`` iterations (the final one if the search stopped earlier)."""
        return self.shapes[min(int(k), len(self.shapes) - 1)]

    def error(self, truth):
        """Normalised mean error against the true landmarks (68 points, 300-W convention).

        Parameters
        ----------
        truth : array_like of shape (68, 2)

        Returns
        -------
        float
            Mean point distance divided by the outer-eye-corner distance of ``truth``.
        """
        from facefeat.shape.metrics import normalized_mean_error

        return normalized_mean_error(self.shape, truth)

    def __repr__(self):
        return (f"FittingResult(n_points={len(self.shape)}, n_iterations={self.n_iterations}, "
                f"converged={self.converged}, face_found={self.face_found})")


# --------------------------------------------------------------------------- #
# model
# --------------------------------------------------------------------------- #
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
    >>> from facefeat.synthetic import make_expressions
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
            images, shapes, boxes = _mirrored(images, shapes, boxes)
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
            gray = _to_gray_f32(img)
            pose = align_similarity(pdm.mean_, shape)
            centre = (shape.min(axis=0) + shape.max(axis=0)) / 2
            canvas, M = _normalise_frame(gray, ref / pose.scale, centre, size, pose.angle)
            pyr = image_pyramid(canvas, self.n_levels)
            s0 = _apply(M, shape)
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
            if box is not None and _box_matches(np.asarray(box, float), shape):
                rel.append(_relative_pose(pdm.mean_, shape, np.asarray(box, float)))
        if not rel:
            warnings.warn("the face detector found none of the training faces: the initial shape will be "
                          "placed relative to landmark bounding boxes", UserWarning, stacklevel=2)
            source = "landmarks"
            for shape in shapes:
                lo, hi = shape.min(axis=0), shape.max(axis=0)
                rel.append(_relative_pose(pdm.mean_, shape, np.r_[lo, hi]))
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


def ibug68_mirror():
    """Index map of the iBUG-68 landmarks under a left-right flip of the image.

    Built from the regions of :mod:`facefeat.landmarks`: after flipping an
    image, point ``i`` of the flipped face is point ``mirror[i]`` of the
    original, moved to ``x' = width - 1 - x``.

    Returns
    -------
    ndarray of int of shape (68,)

    Examples
    --------
    >>> m = ibug68_mirror()
    >>> int(m[0]), int(m[36]), int(m[48]), int(m[30]), bool((m[m] == np.arange(68)).all())
    (16, 45, 54, 30, True)
    """
    from facefeat import landmarks as L

    m = np.arange(L.N_LANDMARKS)

    def pair(a, b):
        m[list(a)] = list(b)
        m[list(b)] = list(a)

    pair(L.JAW, L.JAW[::-1])
    pair(L.RIGHT_BROW, L.LEFT_BROW[::-1])
    pair(L.NOSE_BASE, L.NOSE_BASE[::-1])
    pair(L.RIGHT_EYE, [L.LEFT_EYE[(3 - k) % 6] for k in range(6)])
    pair(L.OUTER_LIPS, [L.OUTER_LIPS[(6 - k) % 12] for k in range(12)])
    pair(L.INNER_LIPS, [L.INNER_LIPS[(4 - k) % 8] for k in range(8)])
    return m


def _mirrored(images, shapes, boxes):
    """Training set plus its left-right mirror image (68-point shapes only)."""
    perm = ibug68_mirror()
    out_i, out_s, out_b = list(images), list(shapes), list(boxes)
    for img, shape, box in zip(images, shapes, boxes):
        img = np.asarray(img)
        w = img.shape[1]
        out_i.append(np.ascontiguousarray(img[:, ::-1]))
        flipped = shape[perm].copy()
        flipped[:, 0] = w - 1 - flipped[:, 0]
        out_s.append(flipped)
        out_b.append(None if box is None else np.array([w - 1 - box[2], box[1], w - 1 - box[0], box[3]], float))
    return out_i, np.stack(out_s), out_b


def _quantise(name, basis):
    """int8 storage of a (n_points, d, r) basis with one scale per (point, mode) column."""
    scale = np.abs(basis).max(axis=1) / 127.0  # (n_points, r)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(basis / scale[:, None, :]), -127, 127).astype(np.int8)
    return {name + "_q": q, name + "_scale": scale.astype(np.float32)}


def _dequantise(z, name):
    return z[name + "_q"].astype(float) * z[name + "_scale"].astype(float)[:, None, :]


def _relative_pose(mean, shape, box):
    """Similarity mean -> shape expressed relative to ``box``: [s/w, angle, dx/w, dy/w]."""
    pose = align_similarity(mean, shape)
    w = box[2] - box[0]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return [pose.scale / w, pose.angle, (pose.tx - cx) / w, (pose.ty - cy) / w]


# --------------------------------------------------------------------------- #
# fitter
# --------------------------------------------------------------------------- #
class ASMFitter:
    """Multi-resolution ASM search with a trained :class:`ActiveShapeModel`.

    At each pyramid level, coarse to fine, the image is resampled so that the
    current face estimate has the model's size and orientation; then, up to
    ``max_iter`` times, every landmark scores the candidate positions around
    it with its profile model, moves to the best one, and the shape model
    (pose + clamped ``b``) is fitted to the suggested points.

    Parameters
    ----------
    model : ActiveShapeModel
        A trained model.
    max_iter : int, default=4
        Iterations per pyramid level at most.
    tol : float, default=0.2
        A level has converged when the landmarks move less than this on
        average in an iteration (pixels of that level).
    search_range : int, default=2
        Candidates ``-search_range .. search_range`` pixels of the level along
        each normal (1-D profiles) or on a square grid (2-D profiles).
    soft : float, default=1.0
        Temperature of the choice among candidates: each is weighted by
        ``exp(-cost / (2 * soft))`` and the point moves to the weighted mean
        (a mean-shift step on the profile likelihood). 0 takes the best
        candidate, as Cootes et al. do.
    converge_fraction : float or None, default=None
        Also stop a level when this fraction of the points' best candidates
        lies in the central half of the search range (the criterion of
        Cootes et al. 1995, section 6; e.g. 0.9). None: ``tol`` only.
    n_levels : int, optional
        Search only the finest ``n_levels`` levels (all by default).
    upsample : "auto" or int, default="auto"
        Upsampling of dlib's HOG detector in :meth:`fit_image`.

    Notes
    -----
    The soft choice of candidates departs from Cootes et al. (1995); it is
    the mean-shift update of constrained local models (Saragih, Lucey and
    Cohn 2011, doi:10.1007/s11263-010-0380-4), here without their Gaussian
    shape prior (``b`` is clamped instead). On the 300-W training images it
    gave slightly lower errors than the best candidate (``soft=0``).

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.data import astronaut
    >>> fitter = ASMFitter(ActiveShapeModel.default())
    >>> result = fitter.fit_from_bb(astronaut(), (175, 76, 265, 166))
    >>> result.shape.shape, result.n_iterations > 0
    ((68, 2), True)
    """

    def __init__(self, model, max_iter=4, tol=0.2, search_range=2, soft=1.0, converge_fraction=None,
                 n_levels=None, upsample="auto"):
        self.model = model
        self.max_iter = max_iter
        self.tol = tol
        self.search_range = search_range
        self.soft = soft
        self.converge_fraction = converge_fraction
        self.n_levels = n_levels
        self.upsample = upsample

    def _check(self):
        self.model._check_fitted()
        if not isinstance(self.max_iter, Integral) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an int >= 1, got {self.max_iter!r}")
        if not isinstance(self.search_range, Integral) or self.search_range < 1:
            raise ValueError(f"search_range must be an int >= 1, got {self.search_range!r}")
        if not isinstance(self.tol, Real) or self.tol < 0:
            raise ValueError(f"tol must be a number >= 0, got {self.tol!r}")
        if not isinstance(self.soft, Real) or self.soft < 0:
            raise ValueError(f"soft must be a number >= 0, got {self.soft!r}")
        if self.converge_fraction is not None and not (isinstance(self.converge_fraction, Real)
                                                       and 0 < self.converge_fraction <= 1):
            raise ValueError(f"converge_fraction must be None or in (0, 1], got {self.converge_fraction!r}")
        if self.n_levels is not None and not (isinstance(self.n_levels, Integral)
                                              and 1 <= self.n_levels <= self.model.n_levels):
            raise ValueError(f"n_levels must be None or an int in [1, {self.model.n_levels}], got {self.n_levels!r}")

    def fit_image(self, image, box=None, initial_shape=None):
        """Fit from a given box or shape, else from dlib's HOG face box.

        Parameters
        ----------
        image : ndarray of shape (h, w) or (h, w, 3)
        box : array_like of shape (4,), optional
            ``(x0, y0, x1, y1)``.
        initial_shape : array_like of shape (n_points, 2), optional
            Takes precedence over ``box``.

        Returns
        -------
        FittingResult
            ``face_found`` is False when no box was given or detected and the
            whole image was taken as the face box.
        """
        if initial_shape is not None:
            return self.fit_from_shape(image, initial_shape)
        found = True
        if box is None:
            box = detect_face_box(image, upsample=self.upsample)
            if box is None:
                h, w = np.asarray(image).shape[:2]
                box, found = np.array([0.0, 0.0, w - 1.0, h - 1.0]), False
        result = self.fit_from_bb(image, box)
        result.face_found = found
        return result

    def fit_from_bb(self, image, box):
        """Fit from the mean shape placed in a face box.

        Parameters
        ----------
        image : ndarray of shape (h, w) or (h, w, 3)
        box : array_like of shape (4,)
            ``(x0, y0, x1, y1)``, e.g. from :func:`detect_face_box`.

        Returns
        -------
        FittingResult
        """
        self._check()
        box = np.asarray(box, dtype=float)
        if box.shape != (4,):
            raise ValueError(f"a box is (x0, y0, x1, y1), got an array of shape {box.shape}")
        pose = self.model.initial_pose(box)
        result = self._search(image, pose, np.zeros(self.model.pdm_.n_components_))
        result.box = box
        return result

    def fit_from_shape(self, image, initial_shape):
        """Fit from an initial shape (projected onto the shape model first).

        Parameters
        ----------
        image : ndarray of shape (h, w) or (h, w, 3)
        initial_shape : array_like of shape (n_points, 2)

        Returns
        -------
        FittingResult
        """
        self._check()
        initial_shape = np.asarray(initial_shape, dtype=float)
        pdm = self.model.pdm_
        if initial_shape.shape != pdm.mean_.shape:
            raise ValueError(f"initial_shape must have shape {pdm.mean_.shape}, got {initial_shape.shape}")
        pose, b = pdm.project(initial_shape)
        return self._search(image, pose, b, initial_shape=initial_shape)

    def _search(self, image, pose, b, initial_shape=None):
        # The profile costs are many small matrix products, which multi-threaded
        # BLAS only slows down (measured 0.48 vs 0.30 ms per call on 2 cores).
        with _blas_controller().limit(limits=1, user_api="blas"):
            return self._search_levels(image, pose, b, initial_shape)

    def _search_levels(self, image, pose, b, initial_shape=None):
        t0 = time.perf_counter()
        model, pdm = self.model, self.model.pdm_
        gray = _to_gray_f32(image)
        ref = model._reference_scale()
        size = model.canvas_size
        m = int(self.search_range)
        grid = np.arange(-m, m + 1)
        n_levels = model.n_levels if self.n_levels is None else int(self.n_levels)
        shape = pdm.reconstruct(b, pose)  # image frame: the model instance closest to the start
        history = [shape if initial_shape is None else initial_shape.copy()]
        levels = []
        all_converged = True
        for lev in reversed(range(n_levels)):
            centre = (shape.min(axis=0) + shape.max(axis=0)) / 2
            canvas, M = _normalise_frame(gray, ref / pose.scale, centre, size, pose.angle)
            img = image_pyramid(canvas, lev + 1)[lev]
            Minv = _invert(M)
            pm = model.profiles_[lev]
            is_patch = isinstance(pm, PatchModel)
            if is_patch:
                grad = gradient_image(img)
            else:
                neighbours = pm.neighbours(len(shape))
            cpose = _map_pose(M, pose)
            x = _apply(M, shape)
            converged = False
            for _ in range(self.max_iter):
                xl = to_level(x, lev)
                if is_patch:
                    moves, costs = pm.search(None, xl, m, grad=grad)
                    if self.soft:
                        pr = _softmin(costs.reshape(len(xl), -1), self.soft).reshape(costs.shape)
                        moves = np.column_stack([pr.sum(axis=1) @ grid, pr.sum(axis=2) @ grid])
                    near = np.max(np.abs(moves), axis=1) <= m / 2
                else:
                    normals = shape_normals(xl, neighbours)
                    offsets, costs = pm.search(img, xl, m, normals=normals)
                    if self.soft:
                        offsets = _softmin(costs, self.soft) @ grid
                    moves = offsets[:, None] * normals
                    near = np.abs(offsets) <= m / 2
                target = from_level(xl + moves, lev)
                cpose, b = _fit_shape(pdm, target, b)
                new = pdm.reconstruct(b, cpose)
                move = np.mean(np.hypot(*(new - x).T)) / 2**lev
                x = new
                history.append(_apply(Minv, x))
                levels.append(lev)
                if move < self.tol or (self.converge_fraction is not None
                                       and np.mean(near) >= self.converge_fraction):
                    converged = True
                    break
            all_converged &= converged
            shape = _apply(Minv, x)
            pose = _map_pose(Minv, cpose)
        shapes = np.stack(history)
        return FittingResult(
            shape=shapes[-1], initial_shape=shapes[0], shapes=shapes, levels=np.asarray(levels, dtype=int),
            n_iterations=len(levels), converged=bool(all_converged), pose=pose, b=b,
            seconds=time.perf_counter() - t0,
        )


@functools.lru_cache(maxsize=None)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _softmin(costs, temperature):
    """Row-wise weights exp(-cost / (2 T)), normalised to sum 1."""
    c = np.asarray(costs, dtype=np.float64)
    w = np.exp(-(c - c.min(axis=1, keepdims=True)) / (2 * temperature))
    return w / w.sum(axis=1, keepdims=True)


def _fit_shape(pdm, target, b, n_iter=3):
    """A few alternations of pose and shape (Cootes et al. 1995, section 4.8), warm-started from ``b``."""
    m = pdm.mean_.ravel()
    P = pdm.components_
    for _ in range(n_iter):
        pose = align_similarity(pdm.instance(b), target)
        y = pose.inverse().apply(target).ravel()
        if pdm.tangent:
            y = y / (y @ m)
        b = pdm.clamp(P @ (y - m))
    return align_similarity(pdm.instance(b), target), b


# --------------------------------------------------------------------------- #
# training from folders
# --------------------------------------------------------------------------- #
def load_landmarked_images(paths, *, progress=False):
    """Read image + ``.pts`` pairs from folders or image paths.

    Parameters
    ----------
    paths : str, path-like or sequence of them
        Folders (searched recursively for images with a ``.pts`` of the same
        stem beside them) or image files.
    progress : bool, default=False

    Returns
    -------
    images : list of ndarray of shape (h, w), uint8
        Gray images.
    shapes : ndarray of shape (n, n_points, 2)
        Landmarks, 0-based (the files' 1-based coordinates minus 1).
    image_paths : list of str
        The image file of each pair, ``image_paths[i]`` giving ``images[i]``.

    Raises
    ------
    ValueError
        No image with a ``.pts`` file was found, or the ``.pts`` files have
        different numbers of points.

    See Also
    --------
    facefeat.shape.pts.find_pts_pairs : how the pairs are found.
    facefeat.shape.pts.read_pts : the ``.pts`` format.

    Examples
    --------
    Two synthetic faces written as PNG + ``.pts`` pairs:

    >>> import os, tempfile
    >>> from PIL import Image
    >>> from facefeat.shape.asm import load_landmarked_images
    >>> from facefeat.shape.pts import write_pts
    >>> from facefeat.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=1, n_per_class=1, classes=["happiness", "surprise"])
    >>> folder = tempfile.mkdtemp()
    >>> for i, (image, shape) in enumerate(zip(ds.images, ds.landmarks)):
    ...     Image.fromarray(image).save(os.path.join(folder, f"face{i}.png"))
    ...     write_pts(os.path.join(folder, f"face{i}.pts"), shape)
    >>> images, shapes, image_paths = load_landmarked_images(folder)
    >>> len(images), images[0].shape, shapes.shape
    (2, (128, 128), (2, 68, 2))
    >>> [os.path.basename(path) for path in image_paths]
    ['face0.png', 'face1.png']
    >>> bool(abs(shapes - ds.landmarks).max() < 1e-3)  # written with 3 decimals
    True
    """
    from tqdm.auto import tqdm

    from facefeat.io import read_image
    from facefeat.shape.pts import find_pts_pairs, read_pts

    pairs = find_pts_pairs(paths)
    if not pairs:
        raise ValueError(f"no image with a .pts file of the same name found in {paths}")
    images, shapes, kept = [], [], []
    for img_path, pts_path in tqdm(pairs, desc="reading", disable=not progress, leave=False):
        images.append(read_image(img_path, mode="gray"))
        shapes.append(read_pts(pts_path))
        kept.append(img_path)
    n = {len(s) for s in shapes}
    if len(n) != 1:
        raise ValueError(f"the .pts files have different numbers of points: {sorted(n)}")
    return images, np.stack(shapes), kept


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

    >>> import os, tempfile
    >>> from PIL import Image
    >>> from facefeat.shape.asm import train_asm
    >>> from facefeat.shape.pts import write_pts
    >>> from facefeat.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=1, n_per_class=1, classes=["happiness", "surprise"])
    >>> folder = tempfile.mkdtemp()
    >>> for i, (image, shape) in enumerate(zip(ds.images, ds.landmarks)):
    ...     Image.fromarray(image).save(os.path.join(folder, f"face{i}.png"))
    ...     write_pts(os.path.join(folder, f"face{i}.pts"), shape)
    >>> asm = train_asm(folder, n_levels=2, n_components=1, profile_kind="1d")
    >>> asm.n_train_, asm.pdm_.n_components_, len(asm.profiles_), asm.box_source_
    (2, 1, 2, 'hog')
    """
    images, shapes, _ = load_landmarked_images(paths, progress=progress)
    return ActiveShapeModel(**params).fit(images, shapes, progress=progress)
