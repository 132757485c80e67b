"""Grey-level profile models of an Active Shape Model.

At every landmark a *profile* of grey levels is sampled along the normal to
the shape's boundary. Following Cootes et al. [1]_ (section 5), the model uses
the derivative of the profile (differences of neighbouring samples),
normalised by the sum of its absolute values so that it does not depend on
the image's contrast, and describes the profiles of each landmark over the
training set by their mean and covariance. During search, candidate
positions along the normal are scored by the Mahalanobis distance of their
profile to the model, and the point moves to the best one.

:class:`ProfileModel` is that classic 1-D model. :class:`PatchModel` is a
2-D variant (image gradients in a small square patch, a low-rank Gaussian,
candidates on a square grid), used by facefeat's default ASM. Both can also
model the profiles found *beside* the true points and score candidates by the
log-likelihood ratio of the two Gaussians (a discriminative extension).

All sampling is vectorised: the profiles of every landmark at every
candidate offset are read by one :func:`cv2.remap` call.

References
----------
.. [1] T. F. Cootes, C. J. Taylor, D. H. Cooper and J. Graham, "Active shape
   models - their training and application", Computer Vision and Image
   Understanding 61(1):38-59, 1995. :DOI:`10.1006/cviu.1995.1004`
"""

from numbers import Integral, Real

import cv2
import numpy as np

from facefeat.faces.landmarks import (
    INNER_LIPS,
    JAW,
    LEFT_BROW,
    LEFT_EYE,
    N_LANDMARKS,
    NOSE_BASE,
    NOSE_BRIDGE,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE,
)

__all__ = [
    "IBUG68_CONTOURS",
    "contour_neighbours",
    "shape_normals",
    "image_pyramid",
    "to_level",
    "from_level",
    "sample_profiles",
    "ProfileModel",
    "PatchModel",
    "gradient_image",
]

#: The boundaries of the iBUG-68 markup as ``(indices, closed)``: the normal at
#: each landmark is perpendicular to the line joining its two neighbours on
#: its boundary.
IBUG68_CONTOURS = (
    (JAW, False),
    (RIGHT_BROW, False),
    (LEFT_BROW, False),
    (NOSE_BRIDGE, False),
    (NOSE_BASE, False),
    (RIGHT_EYE, True),
    (LEFT_EYE, True),
    (OUTER_LIPS, True),
    (INNER_LIPS, True),
)

_EPS = 1e-12


def contour_neighbours(n_points, contours=None):
    """Index of the previous and next point of every landmark on its boundary.

    Parameters
    ----------
    n_points : int
    contours : sequence of (sequence of int, bool), optional
        Boundaries as ``(indices, closed)``. Default: :data:`IBUG68_CONTOURS`
        for 68 points, else one open boundary through all points in order.

    Returns
    -------
    prev, next : ndarray of int of shape (n_points,)
        The end points of an open boundary are their own previous / next point.

    Examples
    --------
    >>> prev, nxt = contour_neighbours(68)
    >>> int(prev[0]), int(nxt[0]), int(prev[36]), int(nxt[41])
    (0, 1, 41, 36)
    """
    if contours is None:
        contours = IBUG68_CONTOURS if n_points == N_LANDMARKS else ((tuple(range(n_points)), False),)
    prev = np.arange(n_points)
    nxt = np.arange(n_points)
    for idx, closed in contours:
        idx = list(idx)
        m = len(idx)
        for j, i in enumerate(idx):
            if m == 1:
                continue
            if closed:
                prev[i], nxt[i] = idx[j - 1], idx[(j + 1) % m]
            else:
                prev[i] = idx[max(j - 1, 0)]
                nxt[i] = idx[min(j + 1, m - 1)]
    return prev, nxt


def shape_normals(shape, neighbours):
    """Unit normals to the boundary at every landmark.

    Parameters
    ----------
    shape : ndarray of shape (n_points, 2)
    neighbours : (ndarray, ndarray)
        ``(prev, next)`` from :func:`contour_neighbours`.

    Returns
    -------
    normals : ndarray of shape (n_points, 2)
        The tangent ``next - prev`` turned by +90 degrees (towards +y for a
        tangent along +x), unit length; ``(0, 1)`` where the tangent vanishes.

    Examples
    --------
    >>> import numpy as np
    >>> line = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> shape_normals(line, contour_neighbours(3)).tolist()
    [[-0.0, 1.0], [-0.0, 1.0], [-0.0, 1.0]]
    """
    prev, nxt = neighbours
    t = shape[nxt] - shape[prev]
    norm = np.hypot(t[:, 0], t[:, 1])
    bad = norm < _EPS
    t = t / np.where(bad, 1.0, norm)[:, None]
    n = np.column_stack([-t[:, 1], t[:, 0]])
    n[bad] = (0.0, 1.0)
    return n


def image_pyramid(image, n_levels):
    """Gaussian pyramid: level ``l`` has ``1 / 2**l`` of the resolution.

    Parameters
    ----------
    image : ndarray of shape (h, w)
        Gray image, any real dtype.
    n_levels : int

    Returns
    -------
    list of ndarray of float32
        ``n_levels`` images, finest first (:func:`cv2.pyrDown`: 5x5 Gaussian,
        then every other pixel); level ``l`` has shape about
        ``(h / 2**l, w / 2**l)`` (rounded up).

    See Also
    --------
    to_level, from_level : map coordinates between levels.

    References
    ----------
    .. [1] T. F. Cootes, C. J. Taylor and A. Lanitis, "Active shape models:
       evaluation of a multi-resolution method for improving image search",
       BMVC 1994, pp. 327-336. :DOI:`10.5244/C.8.32`

    Examples
    --------
    >>> from skimage import data
    >>> from facefeat.shape.profiles import image_pyramid
    >>> levels = image_pyramid(data.camera(), 3)
    >>> [level.shape for level in levels], levels[0].dtype
    ([(512, 512), (256, 256), (128, 128)], dtype('float32'))
    """
    levels = [np.ascontiguousarray(image, dtype=np.float32)]
    for _ in range(1, n_levels):
        levels.append(cv2.pyrDown(levels[-1]))
    return levels


def to_level(points, level):
    """Map level-0 pixel coordinates to pyramid level ``level`` (pixel centres kept).

    Examples
    --------
    >>> to_level([[1.5, 3.5]], 1).tolist()
    [[0.5, 1.5]]
    """
    return (np.asarray(points, dtype=float) + 0.5) / 2**level - 0.5


def from_level(points, level):
    """Inverse of :func:`to_level`: pyramid-level coordinates back to level 0.

    Parameters
    ----------
    points : array-like of shape (..., 2)
        (x, y) pixel coordinates at pyramid level ``level``.
    level : int
        Level of :func:`image_pyramid` (0 is the full resolution).

    Returns
    -------
    ndarray of shape (..., 2)
        ``(points + 0.5) * 2**level - 0.5``, so that pixel centres map onto
        pixel centres.

    Examples
    --------
    >>> from facefeat.shape.profiles import from_level, to_level
    >>> from_level([[0.5, 1.5]], 1).tolist()
    [[1.5, 3.5]]
    >>> from_level(to_level([[10.0, 20.0]], 2), 2).tolist()
    [[10.0, 20.0]]
    """
    return (np.asarray(points, dtype=float) + 0.5) * 2**level - 0.5


def sample_profiles(image, shape, normals, half_length, *, n_parallel=1, spacing=1.0):
    """Normalised derivative profiles along the normals, all landmarks at once.

    Parameters
    ----------
    image : ndarray of shape (h, w), float32
    shape : ndarray of shape (n_points, 2)
        Where the profiles are centred, in the image's pixel frame.
    normals : ndarray of shape (n_points, 2)
        Unit normals.
    half_length : int
        ``2 * half_length + 1`` grey levels are sampled one pixel apart,
        giving ``2 * half_length`` differences.
    n_parallel : int, default=1
        Number of parallel profiles (odd): 1 is Cootes' classic profile; 3
        also samples the lines ``spacing`` pixels to either side along the
        tangent and concatenates them.
    spacing : float, default=1.0

    Returns
    -------
    profiles : ndarray of shape (n_points, n_parallel * 2 * half_length), float64
        Each divided by the sum of its absolute values (Cootes et al. 1995,
        eq. 18).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.tile(np.arange(20, dtype=np.float32), (20, 1))   # ramp along x
    >>> p = sample_profiles(img, np.array([[10.0, 10.0]]), np.array([[1.0, 0.0]]), 2)
    >>> p.round(3).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """
    g = _sample_derivatives(image, shape, normals, half_length, n_parallel, spacing)
    g = g.reshape(len(shape), -1)
    return g / (np.abs(g).sum(axis=1, keepdims=True) + _EPS)


def _sample_derivatives(image, shape, normals, half_length, n_parallel, spacing):
    """Profile differences of shape (n_points, n_parallel, 2 * half_length)."""
    t = np.arange(-half_length, half_length + 1, dtype=float)
    u = (np.arange(n_parallel) - (n_parallel - 1) / 2) * spacing
    tang = np.column_stack([normals[:, 1], -normals[:, 0]])
    pos = (shape[:, None, None, :] + t[None, None, :, None] * normals[:, None, None, :]
           + u[None, :, None, None] * tang[:, None, None, :])
    n = len(shape)
    mx = pos[..., 0].reshape(n * n_parallel, -1).astype(np.float32)
    my = pos[..., 1].reshape(n * n_parallel, -1).astype(np.float32)
    vals = cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    vals = vals.reshape(n, n_parallel, -1).astype(np.float64)
    return np.diff(vals, axis=-1)


_POSITIVE_INT = (lambda v: isinstance(v, Integral) and v >= 1, "an int >= 1")
_ODD_POSITIVE_INT = (lambda v: isinstance(v, Integral) and v >= 1 and v % 2 == 1, "an odd int >= 1")
_FRACTION = (lambda v: isinstance(v, Real) and 0 <= v <= 1, "in [0, 1]")


class _LandmarkGaussians:
    """Per-landmark Gaussians of the profiles at, and in discriminative models beside, the true points.

    The Gaussian of the profiles beside the points has the ``neg_`` attributes.
    A subclass names the fitted arrays of its Gaussian in ``_GAUSSIAN``
    (``mean_`` first), computes them with ``_gaussian(G)`` and scores profiles
    with ``_distance(profiles, *arrays)``.
    """

    _GAUSSIAN = ("mean_",)

    # parameter name -> (test, what a valid value is)
    _CHECKS = {}

    def _check_params(self):
        for name, (valid, what) in self._CHECKS.items():
            value = getattr(self, name)
            if not valid(value):
                raise ValueError(f"{name} must be {what}, got {value!r}")

    def _fit_profiles(self, G, G_neg=None):
        """Statistics from profiles ``G`` of shape (n_samples, n_points, d) at the true points
        (and ``G_neg`` beside them, for a discriminative cost)."""
        self._check_params()
        if len(G) < 1:
            raise ValueError("no training profiles")
        self._set_gaussian("", self._gaussian(G))
        self.n_samples_ = len(G)
        if G_neg is not None:
            self._set_gaussian("neg_", self._gaussian(G_neg))
        return self

    def _set_gaussian(self, prefix, arrays):
        for name, value in zip(self._GAUSSIAN, arrays):
            setattr(self, prefix + name, value)

    def _get_gaussian(self, prefix):
        return tuple(getattr(self, prefix + name) for name in self._GAUSSIAN)

    def cost(self, profiles):
        """Mahalanobis distance of profiles to each landmark's model.

        With a model of the profiles beside the true points (``neg_mean_``,
        learned by ``ActiveShapeModel(discriminative=True)``), the distance to
        that model is subtracted: twice the log-likelihood ratio, up to a
        constant per landmark.

        Parameters
        ----------
        profiles : ndarray of shape (n_points, ..., d)
            Derivative profiles (:class:`ProfileModel`) or patch descriptors
            (:class:`PatchModel`, whose distance takes the PPCA form).

        Returns
        -------
        ndarray of shape (n_points, ...)
        """
        c = self._distance(profiles, *self._get_gaussian(""))
        if getattr(self, "neg_mean_", None) is not None:
            c = c - self._distance(profiles, *self._get_gaussian("neg_"))
        return c.reshape(profiles.shape[:-1])


class ProfileModel(_LandmarkGaussians):
    """Mean and covariance of the derivative profiles of every landmark (one pyramid level).

    Parameters
    ----------
    half_length : int, default=4
        Profile half-length ``k``: ``2k + 1`` samples, ``2k`` differences.
    n_parallel : int, default=1
        Parallel profiles per landmark (1: Cootes' classic 1-D profile).
    spacing : float, default=1.0
        Distance between parallel profiles, in pixels of the level.
    regularization : float, default=0.1
        Shrinkage of each covariance towards its mean variance:
        ``(1 - r) S + r (tr(S) / d) I`` (keeps it invertible with few samples).
    contours : sequence of (sequence of int, bool), optional
        Boundaries that define the normals (see :func:`contour_neighbours`);
        :data:`IBUG68_CONTOURS` for 68 points by default.

    Attributes
    ----------
    mean_ : ndarray of shape (n_points, d)
        ``d = n_parallel * 2 * half_length``.
    precision_ : ndarray of shape (n_points, d, d)
        Inverse of the regularised covariance of each landmark's profiles.
    neg_mean_, neg_precision_ : ndarray, optional
        The same for profiles sampled beside the true points; present only in
        discriminative models (``ActiveShapeModel(discriminative=True)``),
        which then score candidates by :meth:`cost` minus the distance to this
        second Gaussian.
    n_samples_ : int

    Notes
    -----
    ``n_parallel > 1`` and the discriminative cost depart from Cootes et al.
    (1995), who use one profile per landmark and the Mahalanobis distance to
    its mean; the search still moves each point along its normal only.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((40, 40), np.float32); img[:, 20:] = 100   # a vertical edge
    >>> shape = np.array([[20.0, 10.0], [20.0, 30.0]])
    >>> pm = ProfileModel(half_length=3).fit([img], [shape])
    >>> offsets, _ = pm.search(img, shape - [2, 0], search_range=3)
    >>> offsets.tolist()   # both points step 2 px back onto the edge
    [-2, -2]
    """

    _GAUSSIAN = ("mean_", "precision_")
    _CHECKS = {"half_length": _POSITIVE_INT, "n_parallel": _ODD_POSITIVE_INT, "regularization": _FRACTION}

    def __init__(self, half_length=4, n_parallel=1, spacing=1.0, regularization=0.1, contours=None):
        self.half_length = half_length
        self.n_parallel = n_parallel
        self.spacing = spacing
        self.regularization = regularization
        self.contours = contours

    def neighbours(self, n_points):
        """``(prev, next)`` boundary neighbours used for the normals."""
        return contour_neighbours(n_points, self.contours)

    def profiles(self, image, shape, normals=None):
        """Model-ready profiles at ``shape``, of shape (n_points, d) (normals from ``shape`` by default)."""
        shape = np.asarray(shape, dtype=float)
        if normals is None:
            normals = shape_normals(shape, self.neighbours(len(shape)))
        return sample_profiles(image, shape, normals, self.half_length,
                               n_parallel=self.n_parallel, spacing=self.spacing)

    def fit(self, images, shapes):
        """Learn the profile statistics from images with known landmarks.

        Parameters
        ----------
        images : sequence of ndarray of shape (h, w)
            Gray images (float32 preferred) at this level's resolution.
        shapes : sequence of ndarray of shape (n_points, 2)
            Landmarks in each image's pixel frame.

        Returns
        -------
        self
        """
        self._check_params()
        G = np.stack([self.profiles(np.asarray(im, np.float32), s) for im, s in zip(images, shapes)])
        return self._fit_profiles(G)

    def _gaussian(self, G):
        """Mean and regularised precision of (n_samples, n_points, d) profiles."""
        n, p, d = G.shape
        mean = G.mean(axis=0)
        D = G - mean
        cov = np.einsum("spi,spj->pij", D, D) / max(n - 1, 1)
        r = self.regularization
        avg = np.maximum(np.trace(cov, axis1=1, axis2=2) / d, 1e-8)
        cov = (1 - r) * cov + r * avg[:, None, None] * np.eye(d)
        return mean, np.linalg.inv(cov)

    @staticmethod
    def _distance(profiles, mean, precision):
        D = profiles - mean.reshape((mean.shape[0],) + (1,) * (profiles.ndim - 2) + (-1,))
        flat = D.reshape(D.shape[0], -1, D.shape[-1])
        c = np.einsum("pci,pcj,pij->pc", flat, flat, precision, optimize=False)
        return c.reshape(D.shape[:-1])

    def search(self, image, shape, search_range=2, normals=None):
        """Best offset along the normal for every landmark.

        Parameters
        ----------
        image : ndarray of shape (h, w), float32
        shape : ndarray of shape (n_points, 2)
            Current landmarks in the image's pixel frame.
        search_range : int, default=2
            Candidate offsets ``-search_range .. search_range`` pixels.
        normals : ndarray of shape (n_points, 2), optional
            Computed from ``shape`` when omitted.

        Returns
        -------
        offsets : ndarray of int of shape (n_points,)
            The best offset of each landmark (move by ``offset * normal``).
        costs : ndarray of shape (n_points, 2 * search_range + 1)
            Mahalanobis distance at every candidate offset.
        """
        shape = np.asarray(shape, dtype=float)
        if normals is None:
            normals = shape_normals(shape, self.neighbours(len(shape)))
        k, m = self.half_length, int(search_range)
        g = _sample_derivatives(np.asarray(image, np.float32), shape, normals, k + m, self.n_parallel, self.spacing)
        # windows of 2k differences centred on each candidate: (n, P, C, 2k) -> (n, C, P * 2k)
        w = np.lib.stride_tricks.sliding_window_view(g, 2 * k, axis=-1)
        w = w.transpose(0, 2, 1, 3).reshape(len(shape), 2 * m + 1, -1)
        w = w / (np.abs(w).sum(axis=-1, keepdims=True) + _EPS)
        costs = self.cost(w)
        return np.argmin(costs, axis=1) - m, costs


def gradient_image(image):
    """Horizontal and vertical derivatives (central differences) as a 2-channel image.

    Parameters
    ----------
    image : ndarray of shape (h, w)

    Returns
    -------
    ndarray of shape (h, w, 2), float32
        ``[..., 0]`` is d/dx, ``[..., 1]`` is d/dy; borders replicate the
        edge pixels, so the outermost differences are halved.

    Examples
    --------
    A horizontal ramp rising by 3 per pixel:

    >>> import numpy as np
    >>> from facefeat.shape.profiles import gradient_image
    >>> ramp = np.tile(np.arange(5.0) * 3, (4, 1))
    >>> grad = gradient_image(ramp)
    >>> grad.shape, grad.dtype
    ((4, 5, 2), dtype('float32'))
    >>> grad[1, :, 0].tolist(), float(abs(grad[..., 1]).max())
    ([1.5, 3.0, 3.0, 3.0, 1.5], 0.0)
    """
    im = np.asarray(image, dtype=np.float32)
    gx = cv2.Sobel(im, cv2.CV_32F, 1, 0, ksize=1, scale=0.5, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(im, cv2.CV_32F, 0, 1, ksize=1, scale=0.5, borderType=cv2.BORDER_REPLICATE)
    return np.dstack([gx, gy])


class PatchModel(_LandmarkGaussians):
    """Two-dimensional profiles: image gradients in a square patch around each landmark.

    The descriptor of a landmark is the gradient ``(d/dx, d/dy)`` on a
    ``(2 * half_size + 1)``-pixel square grid around it, divided by the mean
    gradient magnitude of the patch and compressed by ``v / (|v| + 1)``. Its
    distribution is modelled per landmark as a Gaussian whose covariance keeps
    ``n_modes`` principal directions and an isotropic rest (probabilistic PCA),
    so the Mahalanobis distance costs ``O(d * n_modes)``. The search scores
    every integer offset of a ``(2 * search_range + 1)``-square grid.

    Parameters
    ----------
    half_size : int, default=3
    n_modes : int, default=16
    regularization : float, default=0.1
        Shrinkage of each covariance towards its mean variance before the
        eigen-decomposition.

    Attributes
    ----------
    mean_ : ndarray of shape (n_points, d)
        ``d = 2 * (2 * half_size + 1) ** 2``.
    neg_mean_, neg_basis_, neg_rest_ : ndarray, optional
        The same Gaussian for descriptors sampled beside the true points
        (discriminative models only, see :meth:`cost`).
    basis_ : ndarray of shape (n_points, d, n_modes)
        Principal directions scaled by ``sqrt(1 / rho - 1 / lambda)``: the distance is
        ``|g - mean|^2 / rho - |(g - mean) @ basis|^2``.
    rest_ : ndarray of shape (n_points,)
        ``rho``, the mean variance outside the principal directions.

    Notes
    -----
    Not in Cootes et al. (1995), whose profiles are one-dimensional; this is
    the 2-D profile of Milborrow & Nicolls (2008,
    doi:10.1007/978-3-540-88693-8_37), with gradient vectors rather than
    gradient magnitudes, searched on the image axes of the (upright)
    normalised face. The patch axes are those of the image, so the image must
    be rotated to the face's orientation first (as :class:`ASMFitter` does).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((40, 40), np.float32); img[20:, 20:] = 100   # a corner at (20, 20)
    >>> shape = np.array([[19.5, 19.5], [10.0, 10.0]])
    >>> pm = PatchModel(half_size=2, n_modes=2).fit([img], [shape])
    >>> moves, _ = pm.search(img, shape + [[2, -1], [0, 0]], search_range=3)
    >>> moves[0].tolist()
    [-2.0, 1.0]
    """

    _GAUSSIAN = ("mean_", "basis_", "rest_")
    _CHECKS = {"half_size": _POSITIVE_INT, "n_modes": _POSITIVE_INT, "regularization": _FRACTION}

    def __init__(self, half_size=3, n_modes=16, regularization=0.1):
        self.half_size = half_size
        self.n_modes = n_modes
        self.regularization = regularization

    def _grid(self, grad, shape, radius):
        """Gradients on the (2r+1)^2 integer grid around each point: (n, L, L, 2)."""
        t = np.arange(-radius, radius + 1, dtype=np.float32)
        n, L = len(shape), len(t)
        mx = (shape[:, 0, None, None].astype(np.float32) + t[None, None, :]).repeat(L, axis=1)
        my = (shape[:, 1, None, None].astype(np.float32) + t[None, :, None]).repeat(L, axis=2)
        out = cv2.remap(grad, mx.reshape(n * L, L), my.reshape(n * L, L), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(n, L, L, 2)

    @staticmethod
    def _normalise(w):
        """(..., d) raw gradients -> descriptors."""
        mag = np.abs(w).mean(axis=-1, keepdims=True) * 2
        v = w / (mag + 1e-6)
        return v / (np.abs(v) + 1.0)

    def profiles(self, image, shape):
        """Descriptors at ``shape`` in ``image`` (gray, or a precomputed :func:`gradient_image`).

        Returns
        -------
        ndarray of shape (n_points, d)
        """
        grad = image if np.ndim(image) == 3 else gradient_image(image)
        g = self._grid(grad, np.asarray(shape, dtype=float), self.half_size)
        return self._normalise(g.reshape(len(shape), -1).astype(np.float64))

    def fit(self, images, shapes):
        """Learn the patch statistics from images (at this level) with known landmarks.

        Returns
        -------
        self
        """
        self._check_params()
        G = np.stack([self.profiles(im, s) for im, s in zip(images, shapes)])
        return self._fit_profiles(G)

    def _gaussian(self, G):
        """PPCA Gaussian of (n_samples, n_points, d) descriptors: mean, scaled basis, rest variance."""
        n, p, d = G.shape
        r = min(self.n_modes, d - 1)
        mean = G.mean(axis=0)
        D = G - mean
        cov = np.einsum("spi,spj->pij", D, D) / max(n - 1, 1)
        avg = np.maximum(np.trace(cov, axis1=1, axis2=2) / d, 1e-8)
        cov = (1 - self.regularization) * cov + self.regularization * avg[:, None, None] * np.eye(d)
        evals, evecs = np.linalg.eigh(cov)
        evals, evecs = evals[:, ::-1], evecs[:, :, ::-1]
        rest = evals[:, r:].mean(axis=1)
        lam = evals[:, :r]
        scale = np.sqrt(np.maximum(1.0 / rest[:, None] - 1.0 / lam, 0.0))
        return mean, evecs[:, :, :r] * scale[:, None, :], rest

    @staticmethod
    def _distance(profiles, mean, basis, rest):
        n, d = mean.shape
        D = profiles.reshape(n, -1, d) - mean[:, None, :]
        c = np.einsum("pcd,pcd->pc", D, D) / rest[:, None]
        y = np.matmul(D, basis)
        c -= np.einsum("pcr,pcr->pc", y, y)
        return c

    def _stacked(self):
        """Per-landmark matrix [B_pos | mean_pos | B_neg | mean_neg] (float32) for :meth:`_fast_cost`."""
        key = (id(self.mean_), id(getattr(self, "neg_mean_", None)))
        cache = getattr(self, "_stack_cache", None)
        if cache is not None and cache[0] == key:
            return cache[1]
        parts, terms = [], []
        models = [(*self._get_gaussian(""), 1.0)]
        if getattr(self, "neg_mean_", None) is not None:
            models.append((*self._get_gaussian("neg_"), -1.0))
        for mean, basis, rest, sign in models:
            parts += [basis, mean[:, :, None]]
            mb = np.einsum("pd,pdr->pr", mean, basis)
            terms.append((sign, basis.shape[2], rest.astype(np.float32), mb.astype(np.float32),
                          np.einsum("pd,pd->p", mean, mean).astype(np.float32)))
        stacked = np.concatenate(parts, axis=2).astype(np.float32)
        self._stack_cache = (key, (stacked, terms))
        return stacked, terms

    def _fast_cost(self, W):
        """:meth:`cost` of descriptors ``W`` of shape (n_points, n_candidates, d) with one matmul."""
        stacked, terms = self._stacked()
        Y = np.matmul(W, stacked)  # (n, K, sum(r + 1))
        sq = np.einsum("pkd,pkd->pk", W, W)
        c = np.zeros(W.shape[:2], np.float32)
        col = 0
        for sign, r, rest, mb, mm in terms:
            proj = Y[:, :, col:col + r]
            proj -= mb[:, None, :]
            proj *= proj
            maha = sq - 2 * Y[:, :, col + r] + mm[:, None]
            maha /= rest[:, None]
            maha -= proj.sum(axis=2)
            col += r + 1
            if sign > 0:
                c += maha
            else:
                c -= maha
        return c

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_stack_cache", None)
        return state

    def search(self, image, shape, search_range=2, normals=None, grad=None):
        """Best integer displacement of every landmark on a square grid.

        Parameters
        ----------
        image : ndarray of shape (h, w)
            Gray image (ignored when ``grad`` is given).
        shape : ndarray of shape (n_points, 2)
        search_range : int, default=2
        normals : ignored
            For interface compatibility with :class:`ProfileModel`.
        grad : ndarray of shape (h, w, 2), optional
            Precomputed :func:`gradient_image`.

        Returns
        -------
        moves : ndarray of shape (n_points, 2)
            Best ``(dx, dy)`` of each landmark.
        costs : ndarray of shape (n_points, 2 * search_range + 1, 2 * search_range + 1)
            Mahalanobis distance at every candidate, indexed ``[point, dy, dx]``.
        """
        if grad is None:
            grad = gradient_image(image)
        shape = np.asarray(shape, dtype=float)
        h, m = self.half_size, int(search_range)
        p, C = 2 * h + 1, 2 * m + 1
        n = len(shape)
        g = self._grid(grad, shape, h + m)  # (n, L, L, 2) float32
        w = np.lib.stride_tricks.sliding_window_view(g, (p, p), axis=(1, 2))  # (n, C, C, 2, p, p)
        w = w.transpose(0, 1, 2, 4, 5, 3).reshape(n, C * C, -1)  # a copy
        # descriptors v / (|v| + 1) with v = w / a, a = 2 * mean |w|: computed as w / (|w| + a)
        t = np.abs(w)
        a = t.sum(axis=2, keepdims=True)
        a *= np.float32(1.0 / p**2)
        a += np.float32(1e-6)
        t += a
        np.divide(w, t, out=w)
        costs = self._fast_cost(w).reshape(n, C, C)
        best = costs.reshape(n, -1).argmin(axis=1)
        moves = np.column_stack([best % C - m, best // C - m]).astype(float)
        return moves, costs
