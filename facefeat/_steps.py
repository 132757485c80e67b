"""What the steps of a pipeline learn: the stateless prefix shared by every fold, and nested parameters.

Used by the benchmark (features of the stateless steps are computed once for
all folds) and by chunked extraction (only stateless steps can run chunk by
chunk).
"""


def requires_fit(est):
    """Whether an estimator learns from the data (a union learns if any of its parts does).

    Examples
    --------
    >>> from sklearn.preprocessing import FunctionTransformer, StandardScaler
    >>> requires_fit(StandardScaler()), requires_fit(FunctionTransformer())
    (True, False)
    """
    from sklearn.pipeline import FeatureUnion

    if isinstance(est, FeatureUnion):  # a union of stateless extractors is stateless
        return any(requires_fit(t) for _, t in est.transformer_list if t not in ("drop", "passthrough"))
    return est.__sklearn_tags__().requires_fit


def stateless_prefix(pipe):
    """Number of leading steps that learn nothing from the data.

    Those steps (face alignment, texture extractors) give the same output for
    an image whatever the training fold, so the benchmark applies them to the
    whole data set once instead of once per fold.

    Examples
    --------
    >>> from facefeat.pipelines import make_pipeline
    >>> pipe = make_pipeline("lbp-linear")
    >>> [name for name, _ in pipe.steps[:stateless_prefix(pipe)]]
    ['align', 'lbp']
    """
    k = 0
    for _, est in pipe.steps[:-1]:
        if requires_fit(est):
            break
        k += 1
    return k


def take(X, idx):
    """Rows ``idx`` of whatever a pipeline step passes on: an array, a sparse matrix, a DataFrame, a list or a FaceBatch.

    Examples
    --------
    >>> import numpy as np
    >>> take([10, 11, 12], np.array([2, 0])), take(np.arange(3) * 2, [1]).tolist()
    ([12, 10], [2])
    """
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, list):
        return [X[i] for i in idx]
    if hasattr(X, "tocsr"):  # not every sparse format takes row indices
        return X.tocsr()[idx]
    if not hasattr(X, "__getitem__"):  # an array-like known only by __array__
        import numpy as np

        X = np.asarray(X)
    return X[idx]


def set_everywhere(pipe, name, value):
    """Set parameter ``name`` of every step, nested ones (unions, votes) included.

    Examples
    --------
    >>> from facefeat.pipelines import make_pipeline
    >>> pipe = make_pipeline("fusion-lbp-geometry-linear")
    >>> set_everywhere(pipe, "progress", False)
    >>> sorted(k for k, v in pipe.get_params().items() if k.endswith("__progress") and v is False)[:1]
    ['align__progress']
    """
    params = pipe.get_params(deep=True)
    pipe.set_params(**{
        key: value
        for key in params
        if key.endswith("__" + name)
        # LogisticRegression's n_jobs does nothing since scikit-learn 1.8 and warns when set
        and not (name == "n_jobs" and type(params[key.rsplit("__", 1)[0]]).__name__ == "LogisticRegression")
    })


def groups_fit_params(est, groups):
    """Keyword arguments of ``est.fit`` that hand it subject ids, if it takes them.

    A step that holds out validation data (a CNN's early stopping) takes
    ``groups`` so that no subject is on both sides. In a Pipeline the ids go
    to the last step; a step that does not take them gets nothing.

    Parameters
    ----------
    est : estimator or sklearn.pipeline.Pipeline
    groups : array-like of shape (n_samples,) or None

    Returns
    -------
    dict

    Examples
    --------
    >>> from facefeat.pipelines import make_pipeline
    >>> list(groups_fit_params(make_pipeline("compact-cnn"), [0, 0, 1]))
    ['clf__groups']
    >>> groups_fit_params(make_pipeline("lbp-linear"), [0, 0, 1])
    {}
    """
    import inspect

    from sklearn.pipeline import Pipeline

    name, last = est.steps[-1] if isinstance(est, Pipeline) else (None, est)
    if groups is None or "groups" not in inspect.signature(last.fit).parameters:
        return {}
    return {"groups" if name is None else f"{name}__groups": groups}


def checkpoint_params(est):
    """Every parameter of ``est`` (nested ones included) that names a checkpoint file, with its value.

    Examples
    --------
    >>> from facefeat.pipelines import make_pipeline
    >>> checkpoint_params(make_pipeline("compact-cnn").set_params(clf__checkpoint="f.ckpt"))
    {'clf__checkpoint': 'f.ckpt'}
    """
    return {key: value for key, value in est.get_params(deep=True).items()
            if key == "checkpoint" or key.endswith("__checkpoint")}


def set_checkpoints(pipe, prefix):
    """Give every step that takes a ``checkpoint`` file its own, named from ``prefix``.

    A command that fits a pipeline does this so that a killed fit of a CNN
    resumes from its last finished epoch when the command is run again.

    Parameters
    ----------
    pipe : sklearn.pipeline.Pipeline
    prefix : str or path-like
        Each file is ``<prefix>-<parameter>.ckpt``.

    Returns
    -------
    list of pathlib.Path
        The files set (none may exist yet), to delete once the fit is done.

    Examples
    --------
    >>> from facefeat.pipelines import make_pipeline
    >>> pipe = make_pipeline("fusion-handcrafted-finetuned-vote")
    >>> [p.name for p in set_checkpoints(pipe, "run/fold0")]
    ['fold0-clf__cnn__cnn__checkpoint.ckpt']
    >>> set_checkpoints(make_pipeline("lbp-linear"), "run/fold0")
    []
    """
    from pathlib import Path

    prefix = Path(prefix)
    files = {key: prefix.with_name(f"{prefix.name}-{key}.ckpt") for key in checkpoint_params(pipe)}
    pipe.set_params(**{key: str(path) for key, path in files.items()})
    return list(files.values())


def detach_from_machine(pipe):
    """Reset the settings of a fitted pipeline that name this machine's files or suit only its fit.

    A model saved to a file is used elsewhere: no cache folder
    (``memory``), no checkpoint file, no progress bars.

    Examples
    --------
    >>> from facefeat.pipelines import make_pipeline
    >>> pipe = make_pipeline("compact-cnn").set_params(align__memory="/home/me/.cache", clf__checkpoint="f.ckpt")
    >>> detach_from_machine(pipe)
    >>> pipe.get_params()["align__memory"], pipe.get_params()["clf__checkpoint"]
    (None, None)
    """
    for name, value in (("memory", None), ("checkpoint", None), ("progress", False)):
        set_everywhere(pipe, name, value)


def image_tags(tags, *, requires_fit=True, paths=False, **values):
    """Set the scikit-learn tags of a step that takes images, not a 2-D matrix.

    ``parametrize_with_checks`` skips such steps; facefeat's own check suite
    (``tests/test_common.py``) runs them instead.

    Parameters
    ----------
    tags : sklearn.utils.Tags
        What ``super().__sklearn_tags__()`` returned; changed in place.
    requires_fit : bool, default=True
        False for a step that learns nothing (an extractor).
    paths : bool, default=False
        The step also takes image file paths.
    **values
        Other top-level tags, e.g. ``non_deterministic``.

    Returns
    -------
    sklearn.utils.Tags
        ``tags``.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator, TransformerMixin
    >>> class Brightness(TransformerMixin, BaseEstimator):
    ...     def __sklearn_tags__(self):
    ...         return image_tags(super().__sklearn_tags__(), requires_fit=False)
    >>> tags = Brightness().__sklearn_tags__()
    >>> tags.input_tags.two_d_array, tags.input_tags.three_d_array, tags.requires_fit
    (False, True, False)
    """
    tags.requires_fit = requires_fit
    tags.input_tags.two_d_array = False
    tags.input_tags.three_d_array = True
    tags.input_tags.string = paths
    for name, value in values.items():
        setattr(tags, name, value)
    return tags
