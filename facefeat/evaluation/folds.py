"""Subject-independent evaluation protocols: which images train and which test, fold by fold."""

import warnings

import numpy as np
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

CV_CHOICES = ("auto", "kfold", "loso", "split")
# Leave-one-subject-out is used below this many subjects (JAFFE has 10).
LOSO_MAX_SUBJECTS = 15


class IdentityLeakWarning(UserWarning):
    """Folds were made without subject ids, so one person may be in train and test.

    Issued by :func:`make_folds` for a data set without ``groups``: scores
    may then be optimistic, since a classifier can recognise the person
    rather than the expression.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from facefeat.images.datasets import FaceDataset
    >>> from facefeat.evaluation import IdentityLeakWarning, make_folds
    >>> ds = FaceDataset(labels=["anger", "anger", "fear", "fear"],
    ...                  images=[np.zeros((8, 8), dtype=np.uint8)] * 4, name="nosubj")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     protocol, folds = make_folds(ds)
    >>> caught[0].category is IdentityLeakWarning
    True
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    nosubj has no subject ids: stratified 2-fold over images, so the same person may be in training
    and test folds and scores may be optimistic (give subject ids with --subjects)
    """


def make_folds(dataset, cv="auto", n_folds=10, random_state=0, groups=None):
    """Train/test index pairs for a data set, never sharing a subject.

    Parameters
    ----------
    dataset : FaceDataset
    cv : {"auto", "kfold", "loso", "split"}
        ``"auto"``: the data set's own split when it has one (FER2013:
        Training -> PublicTest), leave-one-subject-out with at most 15
        subjects, subject-grouped stratified k-fold with more, and plain
        stratified k-fold (with an :class:`IdentityLeakWarning`) without
        subject ids. ``"kfold"`` groups by subject whenever subject ids exist.
    n_folds : int
    random_state : int
    groups : array-like of str of shape (n_images,), optional
        Fold groups used instead of ``dataset.groups``: subject ids merged
        with duplicate groups (:func:`facefeat.evaluation.audit.dedupe_plan`), so that
        copies of an image never sit on both sides of a split. The choice
        of protocol still depends on the subject ids alone.

    Returns
    -------
    protocol : dict
        ``name`` (``"split"``, ``"loso"`` or ``"kfold"``), a human-readable
        ``description`` and ``n_folds``.
    folds : list of (ndarray of shape (n_train,), ndarray of shape (n_test,))
        Train and test indices into the data set.

    Raises
    ------
    ValueError
        An unknown ``cv``, a protocol the data set cannot support (``"split"``
        without a split, ``"loso"`` without subject ids), or a class with
        fewer than 2 images when folding over images.

    Warns
    -----
    IdentityLeakWarning
        The data set has no subject ids.

    Examples
    --------
    Three subjects with two images each: leave-one-subject-out.

    >>> import numpy as np
    >>> from facefeat.images.datasets import FaceDataset
    >>> from facefeat.evaluation import make_folds
    >>> ds = FaceDataset(labels=["happiness", "surprise"] * 3, images=[np.zeros((8, 8), np.uint8)] * 6,
    ...                  groups=["S1", "S1", "S2", "S2", "S3", "S3"])
    >>> protocol, folds = make_folds(ds)
    >>> protocol
    {'name': 'loso', 'description': 'leave-one-subject-out over 3 subjects', 'n_folds': 3}
    >>> [(train.tolist(), test.tolist()) for train, test in folds]
    [([2, 3, 4, 5], [0, 1]), ([0, 1, 4, 5], [2, 3]), ([0, 1, 2, 3], [4, 5])]
    >>> make_folds(ds, cv="kfold", n_folds=2)[0]["description"]
    'stratified 2-fold cross-validation grouped by subject (3 subjects)'
    """
    if cv not in CV_CHOICES:
        raise ValueError(f"cv must be one of {', '.join(CV_CHOICES)}, got {cv!r}")
    y, subjects, split = dataset.labels, dataset.groups, dataset.split
    n_subjects = None if subjects is None else len(np.unique(subjects))
    if groups is None:
        groups = subjects
    else:
        groups = np.asarray(groups, dtype=str)
        if groups.shape != y.shape:
            raise ValueError(f"groups must have shape {y.shape}, got {groups.shape}")
    n_groups = None if groups is None else len(np.unique(groups))
    merged = groups is not None and (subjects is None or not np.array_equal(groups, subjects))
    unit = "subject" if not merged else ("subject and duplicate group" if subjects is not None else "duplicate group")
    if cv == "auto":
        if split is not None and {"train", "test"} <= set(split.tolist()):
            cv = "split"
        elif subjects is not None:
            cv = "loso" if n_subjects <= LOSO_MAX_SUBJECTS else "kfold"
        else:
            cv = "kfold"
    X = np.zeros((len(y), 1))
    if cv == "split":
        if split is None:
            raise ValueError(f"--cv split needs a data set with a train/test split; {dataset.name} has none")
        train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
        if len(train) == 0 or len(test) == 0:
            raise ValueError(f"split needs 'train' and 'test' items, got {sorted(set(split.tolist()))}")
        ignored = len(y) - len(train) - len(test)
        desc = f"fixed split: train on {len(train)} 'train' images, test on {len(test)} 'test' images"
        if ignored:
            desc += f" ({ignored} images of other splits not used)"
        return {"name": "split", "description": desc, "n_folds": 1}, [(train, test)]
    if cv == "loso":
        if subjects is None:
            raise ValueError(f"--cv loso needs subject ids; {dataset.name} has none")
        folds = list(LeaveOneGroupOut().split(X, y, groups))
        desc = f"leave-one-subject-out over {n_subjects} subjects"
        if n_groups != n_subjects:
            desc += f" ({n_groups} folds: subjects sharing duplicate images are left out together)"
    elif groups is not None:
        k = min(n_folds, n_groups)
        if subjects is None:
            warnings.warn(
                f"{dataset.name} has no subject ids: folds keep duplicate images together but the same person "
                "may still be in training and test folds (give subject ids with --subjects)",
                IdentityLeakWarning, stacklevel=2,
            )
        folds = list(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=random_state).split(X, y, groups))
        desc = f"stratified {k}-fold cross-validation grouped by {unit} ("
        desc += f"{n_subjects} subjects" if subjects is not None else "no subject ids: identities may leak"
        desc += f", {n_groups} groups)" if merged else ")"
    else:
        k = min(n_folds, int(np.unique(y, return_counts=True)[1].min()))
        if k < 2:
            raise ValueError("a class has fewer than 2 images: cannot cross-validate")
        warnings.warn(
            f"{dataset.name} has no subject ids: stratified {k}-fold over images, so the same person may be "
            "in training and test folds and scores may be optimistic (give subject ids with --subjects)",
            IdentityLeakWarning, stacklevel=2,
        )
        folds = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state).split(X, y))
        desc = f"stratified {k}-fold cross-validation over images (no subject ids: identities may leak)"
    if groups is not None:
        for train, test in folds:
            shared = set(groups[train]) & set(groups[test])
            if shared:  # the splitters above cannot do this; fail loudly if one ever does
                raise AssertionError(f"{unit}s in both train and test: {sorted(shared)[:5]}")
    return {"name": cv, "description": desc, "n_folds": len(folds)}, folds
