"""Landmark geometry: distances and angles between facial landmarks."""

from itertools import combinations
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from facefeat.faces.batch import FaceBatch
from facefeat.faces.landmarks import LEFT_EYE, N_LANDMARKS, RIGHT_EYE

# Curated measurements on the iBUG-68 scheme, each tied to a facial action:
# distances (i, j) and angles (i, vertex, k) in degrees.
CURATED_DISTANCES = (
    (19, 37), (24, 44),            # brow raise: brow middle to upper eyelid
    (21, 39), (22, 42),            # inner brow to inner eye corner (AU1/AU4)
    (17, 36), (26, 45),            # outer brow to outer eye corner (AU2)
    (21, 22),                      # brows pulled together (AU4)
    (37, 41), (38, 40), (43, 47), (44, 46),  # eye opening (AU5/AU7)
    (48, 54),                      # mouth width (AU12/AU20)
    (51, 57), (62, 66), (61, 67), (63, 65),  # mouth opening (AU25/AU26/AU27)
    (33, 51),                      # nose to upper lip (AU10)
    (33, 48), (33, 54),            # nose to lip corners (AU12/AU15)
    (36, 48), (45, 54),            # eye corner to lip corner (smile raises corners)
    (27, 33),                      # nose length (AU9 wrinkles shorten it)
    (31, 35),                      # nostril width
    (8, 57), (8, 33),              # chin to lower lip, chin to nose (jaw drop)
)
CURATED_ANGLES = (
    (48, 51, 54),                  # upper-lip angle: lip corners up or down
    (48, 57, 54),                  # lower-lip angle
    (51, 48, 57), (51, 54, 57),    # lip-corner opening angles
    (17, 19, 21), (22, 24, 26),    # brow arch
    (36, 37, 39), (42, 44, 45),    # upper-eyelid arch
    (21, 27, 22),                  # brow gap seen from the nose bridge
    (31, 33, 35),                  # nostril flare seen from the nose tip
)


def procrustes_align(shapes, reference):
    """Similarity-align each shape onto a reference by least squares.

    Parameters
    ----------
    shapes : ndarray of shape (n, n_points, n_dims)
    reference : ndarray of shape (n_points, n_dims)

    Returns
    -------
    ndarray of shape (n, n_points, n_dims)
        Scale, rotation and translation removed; rotations are proper
        (Umeyama's sign correction), so mirror images are not folded together.

    References
    ----------
    .. [1] J. C. Gower, "Generalized Procrustes analysis", Psychometrika,
           40(1), pp. 33-51, 1975. :DOI:`10.1007/BF02291478`
    .. [2] S. Umeyama, "Least-squares estimation of transformation parameters
           between two point patterns", IEEE Transactions on Pattern Analysis
           and Machine Intelligence, 13(4), pp. 376-380, 1991.
           :DOI:`10.1109/34.88573`

    Examples
    --------
    >>> ref = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> moved = 3 * ref @ np.array([[0.0, 1.0], [-1.0, 0.0]]) + 5
    >>> np.allclose(procrustes_align(moved[None], ref)[0], ref)
    True
    """
    shapes = np.asarray(shapes, dtype=float)
    ref = np.asarray(reference, dtype=float)
    ref_c = ref - ref.mean(axis=0)
    centred = shapes - shapes.mean(axis=1, keepdims=True)
    H = np.einsum("nki,kj->nij", centred, ref_c)
    U, S, Vt = np.linalg.svd(H)
    signs = np.ones(S.shape)
    signs[:, -1] = np.sign(np.linalg.det(U @ Vt))
    R = U @ (signs[:, :, None] * Vt)
    norm = (centred**2).sum(axis=(1, 2))
    scale = np.divide((S * signs).sum(axis=1), norm, out=np.zeros(len(norm)), where=norm > 0)
    return scale[:, None, None] * centred @ R + ref.mean(axis=0)


def _as_landmark_array(X, d):
    """An array from a list of landmark sets, or an error that says what was expected."""
    if isinstance(X, (str, bytes)):
        raise TypeError(f"expected a FaceBatch or landmarks of shape (n, n_points, {d}), got {type(X).__name__}")
    try:
        X = np.asarray(X)
    except ValueError as exc:  # ragged: "setting an array element with a sequence" alone says little
        raise ValueError(f"expected a FaceBatch or landmarks of shape (n, n_points, {d}), got faces with "
                         f"different numbers of points ({exc})") from None
    if X.size == 0:
        raise ValueError("empty batch: at least one face is needed")
    return X


def _angle(p, vertex, q):
    u, v = p - vertex, q - vertex
    cos = (u * v).sum(-1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


class LandmarkGeometry(TransformerMixin, BaseEstimator):
    """Distances and angles between facial landmarks, pose and face size removed.

    ``fit`` learns a mean shape by generalised Procrustes analysis; every shape
    is similarity-aligned onto it, then distances are divided by the mean
    shape's inter-ocular distance (between eye centres) so that they are in
    units of eye distance whatever the image size.

    Parameters
    ----------
    features : {"curated", "full"}, default="curated"
        ``"curated"``: 25 distances and 10 angles tied to facial actions (brow
        raise, eye opening, mouth width and opening, lip-corner angles, nose to
        mouth...), iBUG-68 landmarks only. ``"full"``: every pairwise distance
        and the orientation (degrees) of every pair's direction in the aligned
        frame, for any number of points.
    n_dims : int, default=2
        Dimension of the points: 2 for image landmarks, 3 for 3-D ones; flat
        input of width ``n_dims * n_points`` is read point by point.
        Orientations and curated angles need ``n_dims=2``.
    max_iter : int, default=20
        Iterations of the Procrustes mean-shape estimate.

    Attributes
    ----------
    mean_shape_ : ndarray of shape (n_points, n_dims)
    n_iter_ : int
        Procrustes iterations used.
    scale_ : float
        Inter-ocular distance of the mean shape (68 points) or its RMS radius.
    n_features_in_ : int
        ``2 * n_points`` (landmarks are also accepted flattened, x0, y0, x1, ...).

    Notes
    -----
    Input: a :class:`~facefeat.faces.batch.FaceBatch` (its ``landmarks``), an array
    of shape (n, n_points, 2), or its flat form (n, 2 * n_points).

    References
    ----------
    .. [1] P. Lucey, J. F. Cohn, T. Kanade, J. Saragih, Z. Ambadar and
           I. Matthews, "The Extended Cohn-Kanade Dataset (CK+)", CVPR
           Workshops, 2010. :DOI:`10.1109/CVPRW.2010.5543262`

    Examples
    --------
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=1, n_per_class=1)
    >>> geom = LandmarkGeometry().fit(ds.landmarks)
    >>> X = geom.transform(ds.landmarks)
    >>> X.shape, geom.get_feature_names_out()[[0, -1]].tolist()
    ((7, 35), ['geom_d19_37', 'geom_a31_33_35'])
    """

    _parameter_constraints = {
        "features": [StrOptions({"curated", "full"})],
        "n_dims": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, features="curated", n_dims=2, max_iter=20):
        self.features = features
        self.n_dims = n_dims
        self.max_iter = max_iter

    def _shapes(self, X, reset):
        if isinstance(X, FaceBatch):
            X = X.landmarks
        elif isinstance(X, (list, tuple, str, bytes)):  # arrays, DataFrames and sparse go to validate_data
            X = _as_landmark_array(X, self.n_dims)
        d = self.n_dims
        if isinstance(X, np.ndarray) and X.ndim == 3:
            if X.shape[2] != d:
                raise ValueError(f"landmarks must have shape (n, n_points, {d}), got {X.shape}")
            X = X.reshape(len(X), -1)
        flat = validate_data(self, X, reset=reset, dtype=np.float64)
        n_points, rest = divmod(flat.shape[1], d)
        if rest or n_points < 2:
            raise ValueError(
                f"flat landmarks need n_dims * n_points columns with at least 2 points of {d} dims, "
                f"got n_features = {flat.shape[1]}"
            )
        if self.features == "curated" and (n_points, d) != (N_LANDMARKS, 2):
            raise ValueError(f"features='curated' needs the 68 iBUG landmarks in 2-D, got {n_points} points of {d} dims")
        return flat.reshape(len(flat), n_points, d)

    def fit(self, X, y=None):
        """Learn the mean shape.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, n_points, 2) or (n, 2 * n_points)
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        shapes = self._shapes(X, reset=True)
        mean = shapes[0] - shapes[0].mean(axis=0)
        for self.n_iter_ in range(1, self.max_iter + 1):
            new = procrustes_align(shapes, mean).mean(axis=0)
            new -= new.mean(axis=0)
            size = np.sqrt((new**2).sum(axis=1).mean())
            new = new / size if size > 0 else new
            done = np.allclose(new, mean, atol=1e-10)
            mean = new
            if done:
                break
        self.mean_shape_ = mean
        if shapes.shape[1:] == (N_LANDMARKS, 2):
            self.scale_ = float(np.linalg.norm(mean[list(LEFT_EYE)].mean(0) - mean[list(RIGHT_EYE)].mean(0)))
        else:
            self.scale_ = 1.0  # the mean shape has unit RMS radius
        return self

    def _pairs(self, n_points):
        if self.features == "curated":
            return CURATED_DISTANCES, CURATED_ANGLES
        return tuple(combinations(range(n_points), 2)), ()

    def transform(self, X):
        """Measure each face.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, n_points, 2) or (n, 2 * n_points)

        Returns
        -------
        ndarray of shape (n, n_features_out)
            Distances in inter-ocular units, then angles in degrees.
        """
        check_is_fitted(self, "mean_shape_")
        shapes = procrustes_align(self._shapes(X, reset=False), self.mean_shape_)
        pairs, triples = self._pairs(shapes.shape[1])
        i, j = np.array(pairs, dtype=int).reshape(-1, 2).T
        d = shapes[:, j] - shapes[:, i]
        out = [np.linalg.norm(d, axis=-1) / self.scale_]
        if self.features == "full" and self.n_dims == 2:
            out.append(np.degrees(np.arctan2(d[..., 1], d[..., 0])))
        if triples:
            a, v, b = np.array(triples).T
            out.append(_angle(shapes[:, a], shapes[:, v], shapes[:, b]))
        return np.hstack(out)

    def get_feature_names_out(self, input_features=None):
        """``geom_d{i}_{j}`` distances, ``geom_o{i}_{j}`` orientations, ``geom_a{i}_{v}_{k}`` angles.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self, "mean_shape_")
        pairs, triples = self._pairs(len(self.mean_shape_))
        names = [f"geom_d{i}_{j}" for i, j in pairs]
        if self.features == "full" and self.n_dims == 2:
            names += [f"geom_o{i}_{j}" for i, j in pairs]
        names += [f"geom_a{a}_{v}_{b}" for a, v, b in triples]
        return np.asarray(names, dtype=object)
