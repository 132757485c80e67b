"""Fusion: feature blocks standardised so each weighs the same, and a vote whose members see subject ids."""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from facefeat._steps import checkpoint_params, groups_fit_params, stateless_prefix, take

__all__ = ["BlockScaler", "Vote", "feature_blocks", "mixture_weights"]


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


def mixture_weights(probas, y, sample_weight=None, max_iter=1000, tol=1e-9):
    """Weights of a soft vote that maximise the likelihood of the true classes.

    The vote's probability of class ``c`` is ``sum_m w[m] * probas[m, :, c]``
    with ``w`` on the simplex. The negative log-likelihood of ``y`` is convex
    in ``w``, and the EM update for the proportions of a mixture with fixed
    components [1]_ ``w[m] <- sum_i s_i w[m] p[m, i] / sum_k w[k] p[k, i]``
    (``p[m, i]``: member ``m``'s probability of face ``i``'s class, ``s``:
    normalised sample weights) increases it at every step and stays on the
    simplex.

    Parameters
    ----------
    probas : ndarray of shape (n_members, n_samples, n_classes)
        Each member's class probabilities on held-out faces.
    y : ndarray of int of shape (n_samples,)
        Class indices into the last axis of ``probas``.
    sample_weight : ndarray of shape (n_samples,), optional
        Default: every class weighs the same in total (``"balanced"``), as
        macro-averaged scores count them.
    max_iter : int, default=1000
    tol : float, default=1e-9
        Stop when no weight moves by more than this.

    Returns
    -------
    ndarray of shape (n_members,)
        Non-negative, summing to 1.

    References
    ----------
    .. [1] A. P. Dempster, N. M. Laird and D. B. Rubin, "Maximum likelihood from
       incomplete data via the EM algorithm", Journal of the Royal Statistical
       Society B 39(1):1-38, 1977. :DOI:`10.1111/j.2517-6161.1977.tb01600.x`

    Examples
    --------
    A member that is always right against one that guesses:

    >>> right = np.array([[0.9, 0.1], [0.1, 0.9]])
    >>> guess = np.full((2, 2), 0.5)
    >>> mixture_weights(np.stack([right, guess]), np.array([0, 1])).round(3).tolist()
    [1.0, 0.0]
    """
    probas = np.asarray(probas, dtype=float)
    y = np.asarray(y)
    if probas.ndim != 3 or probas.shape[1] != len(y):
        raise ValueError(f"probas must have shape (n_members, {len(y)}, n_classes), got {probas.shape}")
    if sample_weight is None:
        sample_weight = compute_sample_weight("balanced", y)
    s = np.asarray(sample_weight, dtype=float) / np.sum(sample_weight)
    # a member sure of a wrong class must not make the vote's likelihood 0 whatever its weight
    p = np.maximum(probas[:, np.arange(len(y)), y], 1e-12)
    w = np.full(len(p), 1.0 / len(p))
    for _ in range(max_iter):
        new = w * ((p / (w @ p)) @ s)
        done = np.abs(new - w).max() <= tol
        w = new
        if done:
            break
    return w / w.sum()


class Vote(VotingClassifier):
    """Average the class probabilities of several classifiers; subject ids reach the members that use them.

    A :class:`~sklearn.ensemble.VotingClassifier` (soft by default) whose
    :meth:`fit` also takes ``groups`` and passes them to every member whose
    fit takes them (see :func:`facefeat._steps.groups_fit_params`).
    scikit-learn's vote passes only ``sample_weight`` unless metadata routing
    is switched on for the whole process, so a fine-tuned CNN inside it would
    hold out a validation split with faces of its training subjects (on CK+,
    frames of the same sequence) and stop on a flattering score.

    With ``weights="fitted"`` the vote learns how much to trust each member:
    an equal-weight average of a strong CNN and weak handcrafted classifiers
    can be worse than the CNN alone.

    Parameters
    ----------
    estimators : list of (str, estimator)
    voting : {"soft", "hard"}, default="soft"
    weights : array-like of shape (n_estimators,), "fitted" or None, default=None
        None: equal weights. ``"fitted"`` (soft voting only): :meth:`fit`
        holds out a validation split of the training faces (whole subjects
        when ``groups`` are given), fits every member on the rest, sets the
        weights that maximise the class-balanced likelihood of the split's
        labels (:func:`mixture_weights`), then fits every member again on all
        the faces. Each member is thus fitted twice (``cv + 1`` times with
        ``cv``).
    validation_fraction : float in (0, 1), default=0.1
        Share of the faces (or subjects) held out with ``weights="fitted"``
        and ``cv=None``.
    cv : int >= 2 or None, default=None
        With ``weights="fitted"``: None holds out one split
        (``validation_fraction``); an int ``k`` fits the weights on every
        training face instead, each face's member probabilities coming from
        members fitted on the other ``k - 1`` parts of a stratified
        ``k``-fold split (whole subjects per part when ``groups`` are given).
        Cross-fitting [1]_ gives the weights ``1 / validation_fraction``
        times as many faces, at the price of fitting every member ``k + 1``
        times: for small data sets and cheap members.
    random_state : int, RandomState or None, default=None
        Draws the held-out split, or the ``cv`` parts, with ``weights="fitted"``.
    n_jobs, flatten_transform, verbose
        As in :class:`~sklearn.ensemble.VotingClassifier`.

    Attributes
    ----------
    estimators_ : list of fitted estimators
    named_estimators_ : Bunch
    le_ : LabelEncoder
    classes_ : ndarray of shape (n_classes,)
    weights_ : ndarray of shape (n_members,)
        With ``weights="fitted"``: the members' weights (not dropped ones),
        summing to 1; equal, with a warning, when the faces cannot spare a
        split with every class (or have fewer subjects than ``cv``).
    n_validation_ : int
        With ``weights="fitted"``: faces whose held-out probabilities fitted
        the weights (every training face with ``cv``).

    References
    ----------
    .. [1] D. H. Wolpert, "Stacked generalization", Neural Networks 5(2):241-259,
       1992. :DOI:`10.1016/S0893-6080(05)80023-1`

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> vote = Vote([("lr", LogisticRegression()), ("nb", GaussianNB())]).fit(X, y, groups=[0, 1, 2, 3])
    >>> vote.predict([[0.2], [2.9]]).tolist()
    [0, 1]
    """

    _parameter_constraints = {
        **VotingClassifier._parameter_constraints,
        "weights": ["array-like", StrOptions({"fitted"}), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "cv": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimators, *, voting="soft", weights=None, validation_fraction=0.1, cv=None,
                 random_state=None, n_jobs=None, flatten_transform=True, verbose=False):
        super().__init__(estimators, voting=voting, weights=weights, n_jobs=n_jobs,
                         flatten_transform=flatten_transform, verbose=verbose)
        self.validation_fraction = validation_fraction
        self.cv = cv
        self.random_state = random_state

    @property
    def _weights_not_none(self):
        if isinstance(self.weights, str):
            return self.weights_
        return super()._weights_not_none

    def _unused_params(self):
        """Parameters that change nothing in this configuration (left out of the benchmark's cache keys)."""
        if not isinstance(self.weights, str):
            return ("validation_fraction", "cv", "random_state")
        return ("cv",) if self.cv is None else ("validation_fraction",)

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
            (then without ``groups`` and without fitted weights).

        Returns
        -------
        self
        """
        fitted_weights = isinstance(self.weights, str)
        if groups is None and not fitted_weights:
            return super().fit(X, y, **fit_params)
        if fit_params:
            raise ValueError(f"Vote.fit passes {', '.join(fit_params)} to its members only when it has neither "
                             "groups nor fitted weights")
        self._validate_params()
        if fitted_weights and self.voting != "soft":
            raise ValueError("weights='fitted' weighs probabilities: it needs voting='soft'")
        names, members = self._validate_estimators()
        members = [est for est in members if est != "drop"]
        if not fitted_weights and self.weights is not None and len(self.weights) != len(self.estimators):
            raise ValueError(f"Number of `estimators` and weights must be equal; got {len(self.weights)} weights, "
                             f"{len(self.estimators)} estimators")
        check_classification_targets(y)
        self.le_ = LabelEncoder().fit(y)
        self.classes_ = self.le_.classes_
        y_enc = self.le_.transform(y)
        groups = None if groups is None else np.asarray(groups)
        if not fitted_weights:
            self.estimators_ = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_member)(clone(est), X, y_enc, groups) for est in members)
            held_out_files = []
        else:
            # every fit of a member reuses the output of its leading steps that learn nothing (feature extraction)
            split = Parallel(n_jobs=self.n_jobs)(delayed(_split_stateless)(est, X) for est in members)
            self.weights_, self.n_validation_, held_out_files = self._fit_weights(
                [(rest, features) for _, features, rest in split], y_enc, groups)
            rests = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_member)(rest, features, y_enc, groups) for _, features, rest in split)
            self.estimators_ = [_joined(est, head, rest) for est, (head, _, _), rest in zip(members, split, rests)]
        # kept until now so that a fit killed in the second round skips the first
        for path in held_out_files:
            path.unlink(missing_ok=True)
        fitted = iter(self.estimators_)
        self.named_estimators_ = Bunch(**{name: est if est == "drop" else next(fitted)
                                          for name, est in self.estimators})
        return self

    def _fit_weights(self, members, y, groups):
        """(weights, faces that fitted them, checkpoint files to delete after the final fit).

        ``members`` holds (unfitted estimator, its input) pairs.
        """
        splits = self._weight_splits(y, groups)
        if not splits:
            warnings.warn("too few faces per class (or subjects) to hold out a split with every class, or fewer "
                          "subjects than cv parts: the vote's weights are equal", UserWarning, stacklevel=3)
            return np.full(len(members), 1.0 / len(members)), 0, []
        probas = np.zeros((len(members), len(y), len(self.classes_)))
        files = []
        for part, (train, val) in enumerate(splits):
            held_out = [clone(est) for est, _ in members]
            suffix = "-heldout" if self.cv is None else f"-heldout{part}"
            files += [path for est in held_out for path in _own_checkpoints(est, suffix)]
            held_out = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_member)(est, take(inputs, train), y[train], None if groups is None else groups[train])
                for est, (_, inputs) in zip(held_out, members))
            for m, (est, (_, inputs)) in enumerate(zip(held_out, members)):
                # a member that saw fewer classes gives them probability 0
                probas[m][np.ix_(val, np.asarray(est.classes_, dtype=int))] = est.predict_proba(take(inputs, val))
        val = np.concatenate([val for _, val in splits])
        return mixture_weights(probas[:, val], y[val]), len(val), files

    def _weight_splits(self, y, groups):
        """(train, held-out) index pairs whose held-out parts fit the weights; empty when the faces cannot spare one."""
        from facefeat.deep._training import validation_split

        if self.cv is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # its warning speaks of early stopping
                train, val = validation_split(y, groups, self.validation_fraction,
                                              check_random_state(self.random_state))
            return [(train, val)] if len(val) else []
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        units = len(y) if groups is None else len(np.unique(groups))
        if units < self.cv:
            return []
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        folds = (StratifiedKFold if groups is None else StratifiedGroupKFold)(self.cv, shuffle=True, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # fewer faces of a class than parts: some parts lack it
            return list(folds.split(np.zeros(len(y)), y, groups))


def _fit_member(est, X, y, groups):
    return est.fit(X, y, **groups_fit_params(est, groups))


def _split_stateless(est, X):
    """(``est``'s leading steps that learn nothing, fitted or None; their output on ``X``; the rest, unfitted)."""
    k = stateless_prefix(est) if isinstance(est, Pipeline) else 0
    if k == 0:
        return None, X, clone(est)
    head = clone(est[:k])
    return head, head.fit_transform(X), clone(est[k:])


def _joined(est, head, rest):
    """``est`` fitted: its fitted leading steps ``head`` (or None) followed by the fitted ``rest``."""
    if head is None:
        return rest
    joined = clone(est)
    joined.steps = [*head.steps, *rest.steps]
    return joined


def _own_checkpoints(est, suffix):
    """Rename ``est``'s checkpoint files (a CNN's resumable epochs) with ``suffix``; return the new paths.

    A member fitted on the held-out split's complement and again on every
    face must not resume one fit from the other's file (the CNN refuses it).
    """
    from pathlib import Path

    files = {key: Path(value) for key, value in checkpoint_params(est).items() if value is not None}
    files = {key: path.with_name(f"{path.stem}{suffix}{path.suffix}") for key, path in files.items()}
    est.set_params(**{key: str(path) for key, path in files.items()})
    return list(files.values())
