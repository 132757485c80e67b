"""Shape features: the non-rigid parameters of a point distribution model."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from facefeat._steps import image_tags
from facefeat.faces.batch import FaceBatch
from facefeat.shape.pdm import PointDistributionModel

__all__ = ["ASMShape"]


def _landmarks(X):
    """(n, n_points, 2) float landmarks from a FaceBatch or an array."""
    if isinstance(X, FaceBatch):
        L = X.landmarks
    else:
        if isinstance(X, (str, bytes)):
            raise TypeError("ASMShape takes a FaceBatch or an array of landmarks of shape (n, n_points, 2)")
        try:
            L = np.asarray(X)
        except ValueError as exc:  # ragged input; numpy's message alone does not say what was expected
            raise ValueError(f"expected a FaceBatch or landmarks of shape (n, n_points, 2), got faces with "
                             f"different numbers of points ({exc})") from None
        if L.dtype == object or not (np.issubdtype(L.dtype, np.floating) or np.issubdtype(L.dtype, np.integer)):
            raise TypeError(f"landmarks must be numbers, got dtype {L.dtype}")
        L = L.astype(float)
    if L.size == 0:
        raise ValueError("empty batch: at least one face is needed")
    if L.ndim != 3 or L.shape[2] != 2:
        raise ValueError(f"expected a FaceBatch or landmarks of shape (n, n_points, 2), "
                         f"got an array of shape {L.shape}")
    if not np.isfinite(L).all():
        raise ValueError("landmarks contain NaN or infinite values")
    return L


class ASMShape(TransformerMixin, BaseEstimator):
    """Shape parameters ``b`` of a point distribution model, pose removed.

    Each face's landmarks are aligned to the model's mean shape by a
    similarity (scale, rotation, translation) and described by the
    coordinates ``b`` along the main modes of shape variation (Cootes et al.
    1995): the expression and identity part of the shape, free of where the
    face is, how large and how tilted.

    Parameters
    ----------
    model : {"fit", "default"} or PointDistributionModel, default="fit"
        ``"fit"`` learns the modes from the landmarks given to :meth:`fit`;
        ``"default"`` uses the shape model of
        :meth:`facefeat.shape.asm.ActiveShapeModel.default` (trained on the
        300-W training faces, 68 points); a fitted
        :class:`~facefeat.shape.pdm.PointDistributionModel` is used as it is.
    n_components : int or float, default=0.98
        Modes to keep: an int, or a float in (0, 1] for the fraction of the
        shape variance to explain. With a given model (``"default"`` or an
        instance) at most its own modes are kept.
    b_limit : float or None, default=None
        Clamp ``b_i`` to ``+-b_limit * sqrt(lambda_i)``. None (the default)
        keeps extreme expressions as they are.
    whiten : bool, default=False
        Divide each ``b_i`` by ``sqrt(lambda_i)`` (unit variance on the
        model's training shapes).
    residual : bool, default=False
        Append the projection residual (``asm_residual``): how much of the
        shape the kept modes do not explain, relative to the mean shape's size.

    Attributes
    ----------
    pdm_ : PointDistributionModel
        The shape model used.
    n_components_ : int
        Modes output.
    n_features_out_ : int
        ``n_components_`` (+ 1 with ``residual=True``).
    n_points_ : int
        Landmarks per face.

    Examples
    --------
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=2, n_per_class=1)
    >>> est = ASMShape(n_components=4, residual=True).fit(ds.landmarks)
    >>> est.transform(ds.landmarks).shape
    (14, 5)
    >>> est.get_feature_names_out().tolist()
    ['asm_b0', 'asm_b1', 'asm_b2', 'asm_b3', 'asm_residual']

    References
    ----------
    .. [1] T. F. Cootes, C. J. Taylor, D. H. Cooper and J. Graham, "Active shape
       models - their training and application", CVIU 61(1):38-59, 1995.
       doi:10.1006/cviu.1995.1004
    """

    _parameter_constraints = {
        "model": [StrOptions({"fit", "default"}), PointDistributionModel],
        "n_components": [Interval(Integral, 1, None, closed="left"), Interval(Real, 0, 1, closed="right")],
        "b_limit": [None, Interval(Real, 0, None, closed="neither")],
        "whiten": ["boolean"],
        "residual": ["boolean"],
    }

    def __init__(self, model="fit", n_components=0.98, b_limit=None, whiten=False, residual=False):
        self.model = model
        self.n_components = n_components
        self.b_limit = b_limit
        self.whiten = whiten
        self.residual = residual

    def fit(self, X, y=None):
        """Learn (or load) the shape model.

        Parameters
        ----------
        X : FaceBatch or array_like of shape (n_faces, n_points, 2)
            Landmarks in (x, y) order; a FaceBatch's ``landmarks`` are used.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        L = _landmarks(X)
        if isinstance(self.model, str) and self.model == "fit":
            if len(L) < 2:
                raise ValueError("ASMShape(model='fit') needs at least 2 faces to learn the modes")
            base = PointDistributionModel(n_components=self.n_components).fit(L)
        else:
            if isinstance(self.model, PointDistributionModel):
                base = self.model
                if not hasattr(base, "mean_"):
                    raise ValueError("the PointDistributionModel given as model is not fitted")
            else:
                from facefeat.shape.asm import ActiveShapeModel

                base = ActiveShapeModel.default().pdm_
            base = _truncate(base, self.n_components)
        if base.n_points_ != L.shape[1]:
            raise ValueError(f"the shape model has {base.n_points_} points but the faces have {L.shape[1]}")
        pdm = PointDistributionModel(n_components=base.n_components_, b_limit=self.b_limit, tangent=base.tangent)
        for attr in ("mean_", "components_", "eigenvalues_", "explained_variance_ratio_", "n_components_",
                     "n_points_"):
            setattr(pdm, attr, getattr(base, attr))
        self.pdm_ = pdm
        self.n_components_ = pdm.n_components_
        self.n_points_ = pdm.n_points_
        self.n_features_out_ = self.n_components_ + int(self.residual)
        return self

    def transform(self, X):
        """Shape parameters of every face.

        Parameters
        ----------
        X : FaceBatch or array_like of shape (n_faces, n_points, 2)

        Returns
        -------
        ndarray of shape (n_faces, n_features_out_)
            ``b`` (whitened with ``whiten=True``), then the residual with
            ``residual=True``.
        """
        check_is_fitted(self, "pdm_")
        L = _landmarks(X)
        if L.shape[1] != self.n_points_:
            raise ValueError(f"expected faces with {self.n_points_} landmarks, got {L.shape[1]}")
        _, b, res = self.pdm_.project_many(L, clamp=self.b_limit is not None)
        if self.whiten:
            b = b / np.sqrt(self.pdm_.eigenvalues_)
        return np.column_stack([b, res]) if self.residual else b

    def get_feature_names_out(self, input_features=None):
        """``asm_b0``, ``asm_b1``, ... (and ``asm_residual``).

        Returns
        -------
        ndarray of str of shape (n_features_out_,)
        """
        check_is_fitted(self, "pdm_")
        names = [f"asm_b{i}" for i in range(self.n_components_)]
        if self.residual:
            names.append("asm_residual")
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        return image_tags(super().__sklearn_tags__())


def _truncate(pdm, n_components):
    """A copy of a fitted PDM keeping the first modes (count or variance fraction)."""
    if isinstance(n_components, Integral):
        k = min(int(n_components), pdm.n_components_)
    else:
        cum = np.cumsum(pdm.explained_variance_ratio_)
        k = int(min(np.searchsorted(cum, n_components - 1e-12) + 1, pdm.n_components_))
    out = PointDistributionModel(n_components=k, b_limit=pdm.b_limit, tangent=pdm.tangent)
    out.mean_ = pdm.mean_
    out.components_ = pdm.components_[:k]
    out.eigenvalues_ = pdm.eigenvalues_[:k]
    out.explained_variance_ratio_ = pdm.explained_variance_ratio_[:k]
    out.n_components_ = k
    out.n_points_ = pdm.n_points_
    return out
