"""Fusion: feature blocks standardised so each weighs the same, and a vote whose members see subject ids."""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.ensemble import VotingClassifier
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from facefeat._steps import groups_fit_params

__all__ = ["BlockScaler", "Vote", "feature_blocks"]


def feature_blocks(names):
    """Block label of each feature: the part of its name before ``"__"``.

    :class:`sklearn.pipeline.FeatureUnion` names its output features
    ``<branch>__<feature>``; names without ``"__"`` form one block.

    Parameters
    ----------
    names : sequence of str of length n_features

    Returns
    -------
    ndarray of str of shape (n_features,)

    Examples
    --------
    >>> feature_blocks(["lbp__lbp_r1_c0x0_b0", "lbp__lbp_r1_c0x0_b1", "geometry__geom_d36_45"]).tolist()
    ['lbp', 'lbp', 'geometry']
    """
    return np.asarray([str(n).split("__", 1)[0] if "__" in str(n) else "" for n in names], dtype=object)


class BlockScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise every feature, then give every feature block the same total variance.

    Concatenating a 2,891-d LBP histogram with a 136-d landmark block and
    standardising the columns lets the wider block dominate any linear or
    distance-based model ~20:1. After standardising, each column of block
    ``k`` is divided by ``sqrt(width_k)``, so every block contributes unit
    total variance, whatever its width (block-weighted standardisation, as
    in multiple factor analysis).

    Blocks are read from the feature names seen in :meth:`fit` (a
    DataFrame's columns, e.g. the output of a ``FeatureUnion`` with
    ``set_output(transform="pandas")``): the part before ``"__"``. Without
    names, or with a single block, this is a plain
    :class:`~sklearn.preprocessing.StandardScaler`.

    Parameters
    ----------
    block_weight : {"equal", "none"}, default="equal"
        ``"equal"``: divide by ``sqrt(width)`` per block; ``"none"``: only
        standardise.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features_in_,)
    scale_ : ndarray of shape (n_features_in_,)
        Standard deviation (1 for constant features) times ``sqrt(width)``
        of the feature's block.
    blocks_ : dict of str to int
        Width of each block, in input order.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Present when fitted on named features.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a__x": [0.0, 2.0], "b__y": [1.0, 3.0], "b__z": [0.0, 4.0]})
    >>> s = BlockScaler().fit(X)
    >>> s.blocks_
    {'a': 1, 'b': 2}
    >>> s.transform(X).var(axis=0).round(3).tolist()
    [1.0, 0.5, 0.5]

    References
    ----------
    .. [1] J. Pagès, "Multiple factor analysis: main features and application
       to sensory data", Revista Colombiana de Estadística 27(1):1-26, 2004.
    """

    _parameter_constraints = {"block_weight": [StrOptions({"equal", "none"})]}

    def __init__(self, block_weight="equal"):
        self.block_weight = block_weight

    def fit(self, X, y=None):
        """Learn the means, deviations and blocks.

        Parameters
        ----------
        X : array_like or DataFrame of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        names = getattr(self, "feature_names_in_", None)
        labels = feature_blocks(names) if names is not None else np.full(X.shape[1], "", dtype=object)
        self.blocks_ = {}
        for lab in labels:
            self.blocks_[lab] = self.blocks_.get(lab, 0) + 1
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        std[std < 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(self.mean_))] = 1.0
        if self.block_weight == "equal" and len(self.blocks_) > 1:
            std = std * np.sqrt([self.blocks_[lab] for lab in labels])
        self.scale_ = std
        return self

    def transform(self, X):
        """Standardised, block-weighted features.

        Parameters
        ----------
        X : array_like or DataFrame of shape (n_samples, n_features_in_)

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self, "scale_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return (X - self.mean_) / self.scale_


class Vote(VotingClassifier):
    """Average the class probabilities of several classifiers; subject ids reach the members that use them.

    A :class:`~sklearn.ensemble.VotingClassifier` (soft by default) whose
    :meth:`fit` also takes ``groups`` and passes them to every member whose
    fit takes them (see :func:`facefeat._steps.groups_fit_params`).
    scikit-learn's vote passes only ``sample_weight`` unless metadata routing
    is switched on for the whole process, so a fine-tuned CNN inside it would
    hold out a validation split with faces of its training subjects (on CK+,
    frames of the same sequence) and stop on a flattering score.

    Parameters
    ----------
    estimators : list of (str, estimator)
    voting : {"soft", "hard"}, default="soft"
    weights, n_jobs, flatten_transform, verbose
        As in :class:`~sklearn.ensemble.VotingClassifier`.

    Attributes
    ----------
    estimators_ : list of fitted estimators
    named_estimators_ : Bunch
    le_ : LabelEncoder
    classes_ : ndarray of shape (n_classes,)

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> vote = Vote([("lr", LogisticRegression()), ("nb", GaussianNB())]).fit(X, y, groups=[0, 1, 2, 3])
    >>> vote.predict([[0.2], [2.9]]).tolist()
    [0, 1]
    """

    def __init__(self, estimators, *, voting="soft", weights=None, n_jobs=None, flatten_transform=True,
                 verbose=False):
        super().__init__(estimators, voting=voting, weights=weights, n_jobs=n_jobs,
                         flatten_transform=flatten_transform, verbose=verbose)

    def fit(self, X, y, groups=None, **fit_params):
        """Fit every member, each with ``groups`` when its fit takes them.

        Parameters
        ----------
        X : array_like of shape (n_samples, ...)
            Whatever the members take (images for members that are pipelines).
        y : array_like of shape (n_samples,)
        groups : array_like of shape (n_samples,), optional
            Subject ids.
        **fit_params
            ``sample_weight``, as in :class:`~sklearn.ensemble.VotingClassifier`
            (then without ``groups``).

        Returns
        -------
        self
        """
        if groups is None:
            return super().fit(X, y, **fit_params)
        if fit_params:
            raise ValueError(f"Vote.fit takes groups or {', '.join(fit_params)}, not both")
        from joblib import Parallel, delayed

        self._validate_params()
        names, members = self._validate_estimators()
        if self.weights is not None and len(self.weights) != len(self.estimators):
            raise ValueError(f"Number of `estimators` and weights must be equal; got {len(self.weights)} weights, "
                             f"{len(self.estimators)} estimators")
        check_classification_targets(y)
        self.le_ = LabelEncoder().fit(y)
        self.classes_ = self.le_.classes_
        y_enc = self.le_.transform(y)
        groups = np.asarray(groups)
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(clone(est), X, y_enc, groups) for est in members if est != "drop")
        fitted = iter(self.estimators_)
        self.named_estimators_ = Bunch(**{name: est if est == "drop" else next(fitted)
                                          for name, est in self.estimators})
        return self


def _fit_member(est, X, y, groups):
    return est.fit(X, y, **groups_fit_params(est, groups))
