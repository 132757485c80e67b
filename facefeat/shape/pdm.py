"""Procrustes analysis and the point distribution model (PDM).

A shape is an ``(n_points, 2)`` float array of ``(x, y)`` points. The PDM of
Cootes et al. [1]_ describes a shape as a similarity *pose* (scale, rotation,
translation) applied to the mean shape plus a linear combination of the main
modes of variation::

    shape = pose(mean + sum_i b_i * mode_i)

The modes come from a principal component analysis of the training shapes
after generalised Procrustes alignment [2]_, so ``b`` holds only the non-rigid
(identity and expression) part of a shape, and ``pose`` only the rigid part.

References
----------
.. [1] T. F. Cootes, C. J. Taylor, D. H. Cooper and J. Graham, "Active shape
   models - their training and application", Computer Vision and Image
   Understanding 61(1):38-59, 1995. doi:10.1006/cviu.1995.1004
.. [2] J. C. Gower, "Generalized Procrustes analysis", Psychometrika
   40(1):33-51, 1975. doi:10.1007/BF02291478
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

__all__ = ["Pose", "align_similarity", "generalized_procrustes", "PointDistributionModel"]


@dataclass(frozen=True)
class Pose:
    """A 2-D similarity transform: ``p -> scale * R(angle) @ p + (tx, ty)``.

    Parameters
    ----------
    scale : float
        Isotropic scale, > 0.
    angle : float
        Rotation in radians, from the +x axis towards the +y axis (clockwise on
        screen, where y points down).
    tx, ty : float
        Translation, in the target frame.

    Examples
    --------
    >>> import numpy as np
    >>> p = Pose(2.0, np.pi / 2, 1.0, 0.0)
    >>> np.round(p.apply([[1.0, 0.0]]), 6).tolist()
    [[1.0, 2.0]]
    >>> np.round(p.inverse().apply(p.apply([[3.0, 4.0]])), 6).tolist()
    [[3.0, 4.0]]
    """

    scale: float = 1.0
    angle: float = 0.0
    tx: float = 0.0
    ty: float = 0.0

    @property
    def matrix(self):
        """ndarray of shape (2, 3): ``[A | t]`` with ``p' = A @ p + t``."""
        c, s = self.scale * np.cos(self.angle), self.scale * np.sin(self.angle)
        return np.array([[c, -s, self.tx], [s, c, self.ty]])

    def apply(self, points):
        """Transform points.

        Parameters
        ----------
        points : array_like of shape (..., 2)

        Returns
        -------
        ndarray of shape (..., 2)
        """
        M = self.matrix
        return np.asarray(points, dtype=float) @ M[:, :2].T + M[:, 2]

    def inverse(self):
        """The inverse similarity, as a :class:`Pose`."""
        inv_s, a = 1.0 / self.scale, -self.angle
        c, s = inv_s * np.cos(a), inv_s * np.sin(a)
        tx = -(c * self.tx - s * self.ty)
        ty = -(s * self.tx + c * self.ty)
        return Pose(inv_s, a, tx, ty)

    def compose(self, other):
        """``self`` after ``other``: ``(self.compose(other)).apply(p) == self.apply(other.apply(p))``."""
        t = self.apply(np.array([other.tx, other.ty]))
        return Pose(self.scale * other.scale, self.angle + other.angle, float(t[0]), float(t[1]))

    def as_array(self):
        """``[scale, angle, tx, ty]`` as a float array of shape (4,)."""
        return np.array([self.scale, self.angle, self.tx, self.ty], dtype=float)


def align_similarity(src, dst, weights=None):
    """Least-squares similarity that maps ``src`` onto ``dst``.

    Minimises ``sum_i w_i |s R src_i + t - dst_i|^2`` in closed form (the 2-D
    case of Umeyama's method, in complex-number form).

    Parameters
    ----------
    src, dst : array_like of shape (n_points, 2)
    weights : array_like of shape (n_points,), optional
        Non-negative point weights (all 1 by default).

    Returns
    -------
    Pose

    Examples
    --------
    >>> import numpy as np
    >>> src = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> pose = align_similarity(src, 3 * src[:, ::-1] * [-1, 1] + [5, 6])
    >>> np.round(pose.as_array(), 6).tolist()
    [3.0, 1.570796, 5.0, 6.0]
    """
    src = np.asarray(src, dtype=float)
    dst = np.asarray(dst, dtype=float)
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=float)
    wsum = w.sum()
    if wsum <= 0:
        raise ValueError("the point weights sum to zero")
    cs = (w @ src) / wsum
    cd = (w @ dst) / wsum
    zs = (src[:, 0] - cs[0]) + 1j * (src[:, 1] - cs[1])
    zd = (dst[:, 0] - cd[0]) + 1j * (dst[:, 1] - cd[1])
    denom = float(np.sum(w * np.abs(zs) ** 2))
    if denom <= 0:
        raise ValueError("cannot align a shape whose points all coincide")
    a = np.sum(w * np.conj(zs) * zd) / denom
    scale, angle = float(abs(a)), float(np.angle(a))
    if scale == 0:
        scale = np.finfo(float).tiny
    t = cd - Pose(scale, angle).apply(cs)
    return Pose(scale, angle, float(t[0]), float(t[1]))


def _normalise(shape):
    """Centre at the origin and scale to unit Frobenius norm."""
    c = shape - shape.mean(axis=0)
    return c / np.linalg.norm(c)


def generalized_procrustes(shapes, *, max_iter=100, tol=1e-7):
    """Generalised Procrustes alignment of a set of shapes.

    Every shape is centred, scaled to unit norm and rotated onto the current
    mean; the mean is recomputed and normalised, until it moves less than
    ``tol``. The rotation of the final frame is chosen so that the shapes are
    rotated by zero on average (the mean keeps the data's average orientation).

    Parameters
    ----------
    shapes : array_like of shape (n_shapes, n_points, 2)
    max_iter : int, default=100
    tol : float, default=1e-7
        Stop when the Frobenius norm of the change of the mean is below this.

    Returns
    -------
    aligned : ndarray of shape (n_shapes, n_points, 2)
        The shapes in the common frame (centred, rotated and scaled onto the
        mean). The input is not modified.
    mean : ndarray of shape (n_points, 2)
        Centred, unit Frobenius norm.

    Examples
    --------
    >>> import numpy as np
    >>> sq = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    >>> aligned, mean = generalized_procrustes([sq, 2 * sq + 5])
    >>> bool(np.allclose(aligned[0], aligned[1])), round(float(np.linalg.norm(mean)), 6)
    (True, 1.0)
    """
    X = np.array(shapes, dtype=float)  # a copy: the input is never touched
    if X.ndim != 3 or X.shape[2] != 2 or len(X) == 0:
        raise ValueError(f"expected shapes of shape (n_shapes, n_points, 2), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("shapes contain NaN or infinite values")
    X -= X.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(X, axis=(1, 2))
    if np.any(norms == 0):
        raise ValueError("a shape has all its points at one place")
    X /= norms[:, None, None]
    mean = X[0].copy()
    Z = X[..., 0] + 1j * X[..., 1]  # (n, p) centred, unit norm
    for _ in range(max_iter):
        zm = mean[:, 0] + 1j * mean[:, 1]
        # optimal rotation + scale of each shape onto the mean (|z| = 1)
        a = np.conj(Z) @ zm  # (n,)  sum conj(z) * m
        aligned = Z * a[:, None]
        new = aligned.mean(axis=0)
        new /= np.linalg.norm(new)
        # keep the reference orientation of the initial mean
        new *= np.exp(1j * np.angle(np.vdot(new, zm)))
        change = np.linalg.norm(new - zm)
        mean = np.column_stack([new.real, new.imag])
        if change < tol:
            break
    zm = mean[:, 0] + 1j * mean[:, 1]
    a = np.conj(Z) @ zm
    # rotate the whole frame so that the shapes turn by zero on average
    phi = np.angle(np.mean(np.exp(1j * np.angle(a))))
    rot = np.exp(-1j * phi)
    aligned = Z * a[:, None] * rot
    zm = zm * rot
    return np.stack([aligned.real, aligned.imag], axis=-1), np.column_stack([zm.real, zm.imag])


class PointDistributionModel:
    """Point distribution model: mean shape, modes of variation, pose.

    Parameters
    ----------
    n_components : int or float, default=0.98
        Modes to keep: an int, or a float in (0, 1] for the fraction of the
        shape variance (after alignment) the kept modes must explain.
    b_limit : float or None, default=3.0
        Clamp each parameter ``b_i`` to ``+-b_limit * sqrt(lambda_i)``; None
        leaves ``b`` unconstrained.
    max_iter : int, default=100
        Iterations of generalised Procrustes alignment.
    tol : float, default=1e-7
        Convergence tolerance of the alignment.
    tangent : bool, default=True
        Project the aligned shapes into the tangent space of the mean
        (``x / (x . mean)``) before the PCA, as recommended by Cootes et al.,
        so that the model stays linear.

    Attributes
    ----------
    mean_ : ndarray of shape (n_points, 2)
        Mean shape, centred, unit Frobenius norm.
    components_ : ndarray of shape (n_components_, 2 * n_points)
        Orthonormal modes, each flattened as ``[x0, y0, x1, y1, ...]``.
    eigenvalues_ : ndarray of shape (n_components_,)
        Variance of each ``b_i`` over the training shapes, decreasing.
    explained_variance_ratio_ : ndarray of shape (n_components_,)
    n_components_ : int
    n_points_ : int

    Notes
    -----
    Shapes are normalised to unit norm by the alignment, so ``b`` is measured
    in units of the mean shape's size; ``pose.scale`` is roughly the root sum
    of squared distances of the points from their centroid.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(size=(10, 2))
    >>> shapes = base + 0.05 * rng.normal(size=(30, 10, 2))
    >>> pdm = PointDistributionModel(n_components=1.0).fit(shapes)
    >>> pose, b = pdm.project(shapes[3])
    >>> bool(np.allclose(pdm.reconstruct(b, pose), shapes[3], atol=1e-6))
    True

    References
    ----------
    .. [1] T. F. Cootes, C. J. Taylor, D. H. Cooper and J. Graham, "Active shape
       models - their training and application", CVIU 61(1):38-59, 1995.
       doi:10.1006/cviu.1995.1004
    """

    def __init__(self, n_components=0.98, b_limit=3.0, max_iter=100, tol=1e-7, tangent=True):
        self.n_components = n_components
        self.b_limit = b_limit
        self.max_iter = max_iter
        self.tol = tol
        self.tangent = tangent

    def _check_params(self):
        n = self.n_components
        if isinstance(n, bool) or not isinstance(n, (Integral, Real)):
            raise ValueError(f"n_components must be an int >= 1 or a float in (0, 1], got {n!r}")
        if isinstance(n, Integral) and n < 1 or not isinstance(n, Integral) and not 0 < n <= 1:
            raise ValueError(f"n_components must be an int >= 1 or a float in (0, 1], got {n!r}")
        if self.b_limit is not None and not (isinstance(self.b_limit, Real) and self.b_limit > 0):
            raise ValueError(f"b_limit must be a positive number or None, got {self.b_limit!r}")

    def fit(self, shapes):
        """Align the shapes and find the modes of variation.

        Parameters
        ----------
        shapes : array_like of shape (n_shapes, n_points, 2)
            Training shapes in any pose. Not modified.

        Returns
        -------
        self
        """
        self._check_params()
        shapes = np.asarray(shapes, dtype=float)
        if shapes.ndim != 3 or shapes.shape[2] != 2 or len(shapes) < 2:
            raise ValueError(f"need at least 2 shapes of shape (n_points, 2), got an array of shape {shapes.shape}")
        aligned, mean = generalized_procrustes(shapes, max_iter=self.max_iter, tol=self.tol)
        X = aligned.reshape(len(aligned), -1)
        m = mean.ravel()
        if self.tangent:
            X = X / (X @ m)[:, None]
        D = X - m
        cov = D.T @ D / len(D)
        evals, evecs = np.linalg.eigh(cov)
        order = np.argsort(evals)[::-1]
        evals, evecs = evals[order], evecs[:, order]
        # drop directions with no variance: the 4 similarity dof removed by the
        # alignment, and everything beyond n_shapes - 1
        keep = evals > max(evals[0], np.finfo(float).tiny) * 1e-10
        evals, evecs = evals[keep], evecs[:, keep]
        total = evals.sum()
        if isinstance(self.n_components, Integral):
            k = min(int(self.n_components), len(evals))
        else:
            cum = np.cumsum(evals) / total
            k = int(np.searchsorted(cum, self.n_components - 1e-12) + 1)
            k = min(k, len(evals))
        # fix the sign of each mode for reproducibility: largest |entry| positive
        comps = evecs[:, :k].T
        signs = np.sign(comps[np.arange(k), np.argmax(np.abs(comps), axis=1)])
        comps *= signs[:, None]
        self.mean_ = mean
        self.components_ = comps
        self.eigenvalues_ = evals[:k]
        self.explained_variance_ratio_ = evals[:k] / total
        self.n_components_ = k
        self.n_points_ = mean.shape[0]
        return self

    # ------------------------------------------------------------------ use
    def _check_fitted(self):
        if not hasattr(self, "mean_"):
            raise AttributeError("this PointDistributionModel is not fitted yet; call fit(shapes) first")

    def clamp(self, b):
        """Clamp parameters to ``+-b_limit * sqrt(eigenvalues_)``.

        Parameters
        ----------
        b : array_like of shape (..., n_components_)

        Returns
        -------
        ndarray of shape (..., n_components_)
            A new array (``b`` unchanged when ``b_limit`` is None).
        """
        self._check_fitted()
        b = np.array(b, dtype=float)
        if self.b_limit is None:
            return b
        lim = self.b_limit * np.sqrt(self.eigenvalues_)
        return np.clip(b, -lim, lim)

    def instance(self, b):
        """Shape in the model frame (no pose): ``mean + sum_i b_i mode_i``.

        Parameters
        ----------
        b : array_like of shape (k,), k <= n_components_
            Missing trailing parameters are taken as 0.

        Returns
        -------
        ndarray of shape (n_points, 2)
        """
        self._check_fitted()
        b = np.asarray(b, dtype=float).ravel()
        return self.mean_ + (b @ self.components_[: len(b)]).reshape(-1, 2)

    def reconstruct(self, b, pose=None):
        """Shape from parameters.

        Parameters
        ----------
        b : array_like of shape (k,), k <= n_components_
        pose : Pose, optional
            Identity if omitted.

        Returns
        -------
        ndarray of shape (n_points, 2)
        """
        x = self.instance(b)
        return x if pose is None else pose.apply(x)

    def project(self, shape, *, weights=None, n_iter=20, tol=1e-9, clamp=True):
        """Pose and shape parameters of the model instance closest to a shape.

        The alternating algorithm of Cootes et al. (1995, section 4.8): align
        the current instance to the shape, map the shape into the model frame
        (and its tangent space), update ``b``, repeat.

        Parameters
        ----------
        shape : array_like of shape (n_points, 2)
        weights : array_like of shape (n_points,), optional
            Point weights for the pose (e.g. confidence of each point).
        n_iter : int, default=20
        tol : float, default=1e-9
            Stop when ``b`` changes by less than this (Euclidean norm).
        clamp : bool, default=True
            Apply :meth:`clamp` to ``b`` at every step.

        Returns
        -------
        pose : Pose
            Maps the model frame to the shape's frame.
        b : ndarray of shape (n_components_,)
        """
        self._check_fitted()
        Y = np.asarray(shape, dtype=float)
        if Y.shape != self.mean_.shape:
            raise ValueError(f"expected a shape of shape {self.mean_.shape}, got {Y.shape}")
        m = self.mean_.ravel()
        P = self.components_
        b = np.zeros(self.n_components_)
        pose = None
        for _ in range(n_iter):
            x = self.instance(b)
            pose = align_similarity(x, Y, weights)
            y = pose.inverse().apply(Y).ravel()
            if self.tangent:
                y = y / (y @ m)
            if weights is not None:
                # weighted least squares for b: (P W P^T) b = P W (y - m)
                w2 = np.repeat(np.asarray(weights, dtype=float), 2)
                A = (P * w2) @ P.T + 1e-9 * np.eye(len(P))
                new = np.linalg.solve(A, (P * w2) @ (y - m))
            else:
                new = P @ (y - m)
            if clamp:
                new = self.clamp(new)
            done = np.linalg.norm(new - b) < tol
            b = new
            if done:
                break
        pose = align_similarity(self.instance(b), Y, weights)
        return pose, b

    def project_many(self, shapes, *, n_iter=20, tol=1e-9, clamp=True):
        """:meth:`project` for many shapes at once (vectorised, unweighted).

        Parameters
        ----------
        shapes : array_like of shape (n_shapes, n_points, 2)
        n_iter : int, default=20
        tol : float, default=1e-9
        clamp : bool, default=True

        Returns
        -------
        poses : ndarray of shape (n_shapes, 4)
            ``[scale, angle, tx, ty]`` per shape (see :meth:`Pose.as_array`).
        b : ndarray of shape (n_shapes, n_components_)
        residuals : ndarray of shape (n_shapes,)
            Frobenius norm of the difference between each shape, mapped into
            the model frame, and its reconstruction, relative to the norm of
            the (unit) mean shape.
        """
        self._check_fitted()
        Y = np.asarray(shapes, dtype=float)
        if Y.ndim != 3 or Y.shape[1:] != self.mean_.shape:
            raise ValueError(f"expected shapes of shape (n, {self.mean_.shape[0]}, 2), got {Y.shape}")
        m = self.mean_.ravel()
        P = self.components_
        zy = Y[..., 0] + 1j * Y[..., 1]
        cy = zy.mean(axis=1, keepdims=True)
        zyc = zy - cy
        b = np.zeros((len(Y), self.n_components_))

        def align(b):
            x = (m + b @ P).reshape(len(Y), -1, 2)
            zx = x[..., 0] + 1j * x[..., 1]
            cx = zx.mean(axis=1, keepdims=True)
            zxc = zx - cx
            a = np.sum(np.conj(zxc) * zyc, axis=1) / np.sum(np.abs(zxc) ** 2, axis=1)
            return a, cx[:, 0], cy[:, 0]

        for _ in range(n_iter):
            a, cx, _ = align(b)
            # shape into the model frame: inverse similarity z -> (z - t) / a, t = cy - a cx
            zm = zyc / a[:, None] + cx[:, None]
            y = np.stack([zm.real, zm.imag], axis=-1).reshape(len(Y), -1)
            if self.tangent:
                y = y / (y @ m)[:, None]
            new = (y - m) @ P.T
            if clamp:
                new = self.clamp(new)
            done = np.max(np.linalg.norm(new - b, axis=1)) < tol
            b = new
            if done:
                break
        a, cx, cy0 = align(b)
        t = cy0 - a * cx
        poses = np.column_stack([np.abs(a), np.angle(a), t.real, t.imag])
        zm = zyc / a[:, None] + cx[:, None]
        y = np.stack([zm.real, zm.imag], axis=-1).reshape(len(Y), -1)
        residuals = np.linalg.norm(y - (m + b @ P), axis=1) / np.linalg.norm(m)
        return poses, b, residuals

    def residual(self, shape, pose=None, b=None):
        """How far a shape is from the model: the part of it that the modes do not explain.

        Parameters
        ----------
        shape : array_like of shape (n_points, 2)
        pose, b : optional
            A fit from :meth:`project`; computed when omitted.

        Returns
        -------
        float
            Frobenius norm of the difference between the shape mapped into the
            model frame and its reconstruction, relative to the norm of the
            mean shape (which is 1): 0 for a shape the model reproduces exactly.
        """
        if pose is None or b is None:
            pose, b = self.project(shape)
        y = pose.inverse().apply(np.asarray(shape, dtype=float))
        return float(np.linalg.norm(y - self.instance(b)) / np.linalg.norm(self.mean_))

    # ------------------------------------------------------------ storage
    def to_arrays(self, prefix="pdm_"):
        """The fitted model as a dict of numpy arrays (for ``np.savez``)."""
        self._check_fitted()
        return {
            prefix + "mean": self.mean_,
            prefix + "components": self.components_,
            prefix + "eigenvalues": self.eigenvalues_,
            prefix + "explained_variance_ratio": self.explained_variance_ratio_,
            prefix + "params": np.array([
                np.nan if self.b_limit is None else float(self.b_limit),
                float(self.n_components), float(self.max_iter), float(self.tol), float(self.tangent),
                float(isinstance(self.n_components, Integral)),
            ]),
        }

    @classmethod
    def from_arrays(cls, arrays, prefix="pdm_"):
        """Rebuild a fitted model from :meth:`to_arrays` output."""
        p = np.asarray(arrays[prefix + "params"], dtype=float)
        n_comp = int(p[1]) if p[5] else float(p[1])
        pdm = cls(n_components=n_comp, b_limit=None if np.isnan(p[0]) else float(p[0]),
                  max_iter=int(p[2]), tol=float(p[3]), tangent=bool(p[4]))
        pdm.mean_ = np.asarray(arrays[prefix + "mean"], dtype=float)
        pdm.components_ = np.asarray(arrays[prefix + "components"], dtype=float)
        pdm.eigenvalues_ = np.asarray(arrays[prefix + "eigenvalues"], dtype=float)
        pdm.explained_variance_ratio_ = np.asarray(arrays[prefix + "explained_variance_ratio"], dtype=float)
        pdm.n_components_ = len(pdm.eigenvalues_)
        pdm.n_points_ = pdm.mean_.shape[0]
        return pdm

    def __repr__(self):
        fitted = f", fitted: {self.n_components_} modes" if hasattr(self, "mean_") else ""
        return (f"PointDistributionModel(n_components={self.n_components!r}, b_limit={self.b_limit!r}, "
                f"tangent={self.tangent!r}{fitted})")
