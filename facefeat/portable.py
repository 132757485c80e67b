"""Fitted pipelines as JSON and plain arrays, so that a model file can be read without unpickling.

A pipeline is portable when each of its steps is a component of
:mod:`facefeat.registry` that either learns nothing (the face aligner, the
feature extractors) or is a CNN classifier trained by facefeat
(:class:`~facefeat.deep.compact.CompactCNN`, :class:`~facefeat.deep.finetune.FineTunedCNN`),
whose learned state is its network's weights. The steps are then written as
their registry names and parameters (JSON), the weights as named arrays
(read back with ``numpy.load(..., allow_pickle=False)``), and the pipeline is
rebuilt from them: nothing in the file is executed.
"""

import numpy as np

__all__ = ["is_portable", "to_portable", "from_portable"]

# what a CNN classifier records of its training, kept in the manifest beside the weights
_TRAINING_RECORD = ("history_", "best_epoch_", "n_validation_", "images_per_second_")


def _registry_names():
    from facefeat.registry import COMPONENTS

    return {(module, attr): name for name, (module, attr) in COMPONENTS.items()}


def _learns_weights(est):
    from facefeat.deep._classifier import FaceCNNClassifier

    return isinstance(est, FaceCNNClassifier)


def _why_not(pipeline):
    from sklearn.pipeline import Pipeline

    from facefeat._steps import requires_fit

    if not isinstance(pipeline, Pipeline):
        return f"it is a {type(pipeline).__name__}, not a Pipeline"
    names = _registry_names()
    for step, est in pipeline.steps:
        key = (type(est).__module__, type(est).__name__)
        if key not in names:
            return f"step {step!r} ({type(est).__name__}) is not a facefeat component"
        if requires_fit(est) and not _learns_weights(est):
            return f"step {step!r} ({names[key]}) learns more than network weights"
    return None


def is_portable(pipeline):
    """Whether a fitted pipeline can be written without pickle (see the module's docstring).

    Examples
    --------
    >>> from facefeat.pipelines import make_pipeline
    >>> is_portable(make_pipeline("compact-cnn")), is_portable(make_pipeline("lbp-linear"))
    (True, False)
    """
    return _why_not(pipeline) is None


def to_portable(pipeline):
    """A fitted portable pipeline as JSON-ready steps and named arrays.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline

    Returns
    -------
    steps : list of dict
        ``name``, ``use`` (the registry name) and ``params`` of every step,
        and for a CNN ``fitted``: its training record (``history_``,
        ``best_epoch_``, ``n_validation_``, ``images_per_second_``).
    arrays : dict of str to ndarray
        ``"<step>/<weight name>"`` -> the network's weights and buffers.

    Raises
    ------
    ValueError
        The pipeline is not portable (the message says which step).

    Examples
    --------
    The face aligner alone learns nothing, so it is its parameters only
    (:func:`from_portable` shows a trained network):

    >>> from facefeat.pipelines import make_pipeline
    >>> steps, arrays = to_portable(make_pipeline("compact-cnn")[:1])
    >>> steps[0]["use"], steps[0]["params"]["size"], arrays
    ('face_aligner', 48, {})
    """
    why = _why_not(pipeline)
    if why:
        raise ValueError(f"this pipeline cannot be saved without pickle: {why}")
    names = _registry_names()
    steps, arrays = [], {}
    for step, est in pipeline.steps:
        params = {k: v for k, v in est.get_params(deep=False).items() if k not in ("checkpoint", "memory")}
        steps.append({"name": step, "use": names[(type(est).__module__, type(est).__name__)],
                      "params": _json_ready(params)})
        if _learns_weights(est):
            for key, value in est.model_.state_dict().items():
                arrays[f"{step}/{key}"] = value.detach().cpu().numpy()
            steps[-1]["fitted"] = _json_ready({k: getattr(est, k) for k in _TRAINING_RECORD if hasattr(est, k)})
    return steps, arrays


def from_portable(steps, arrays, classes):
    """Rebuild a fitted pipeline from :func:`to_portable`'s output.

    Parameters
    ----------
    steps : list of dict
    arrays : mapping of str to ndarray
    classes : sequence of str
        The classes, in the order of the classifier's outputs.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> import numpy as np
    >>> from facefeat.pipelines import make_pipeline
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=2, n_per_class=1, classes=["happiness", "sadness"])
    >>> pipe = make_pipeline("compact-cnn").set_params(clf__width=4, clf__hidden_units=8, clf__max_epochs=1,
    ...                                                clf__validation_fraction=0).fit(ds.images, ds.labels)
    >>> steps, arrays = to_portable(pipe)
    >>> [(s["name"], s["use"]) for s in steps]
    [('align', 'face_aligner'), ('clf', 'compact_cnn')]
    >>> twin = from_portable(steps, arrays, pipe.classes_)
    >>> bool(np.array_equal(twin.predict_proba(ds.images), pipe.predict_proba(ds.images)))
    True
    """
    import torch
    from sklearn.pipeline import Pipeline

    from facefeat.registry import get_component

    built = []
    for spec in steps:
        est = get_component(spec["use"])(**spec["params"])
        if _learns_weights(est):
            est.classes_ = np.asarray(list(classes))
            model = est._network(len(est.classes_), pretrained=False)
            prefix = spec["name"] + "/"
            state = {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith(prefix)}
            model.load_state_dict(state)
            est.model_ = model.to(memory_format=torch.channels_last).eval()
            for key, value in (spec.get("fitted") or {}).items():
                if key in _TRAINING_RECORD:
                    setattr(est, key, value)
        built.append((spec["name"], est))
    return Pipeline(built)


def _json_ready(value):
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # a path
