"""Where the pretrained model files that ship inside PyPI packages live, and how they are loaded."""

import functools
import importlib.util
import threading
from pathlib import Path

_THREAD_MODELS = threading.local()


def per_thread(factory):
    """Cache what ``factory()`` returns once per thread.

    dlib's detectors and shape predictor keep working buffers inside the
    object: two threads sharing one (joblib's threading backend, a Dask worker
    with several threads) get each other's intermediate results and wrong
    landmarks. Each thread therefore loads its own copy, once.

    Examples
    --------
    >>> calls = []
    >>> @per_thread
    ... def model():
    ...     calls.append(1)
    ...     return object()
    >>> model() is model(), len(calls)
    (True, 1)
    >>> import threading
    >>> t = threading.Thread(target=model); t.start(); t.join()
    >>> len(calls)
    2
    """
    key = f"{factory.__module__}.{factory.__qualname__}"

    @functools.wraps(factory)
    def get():
        cache = _THREAD_MODELS.__dict__.setdefault("models", {})
        if key not in cache:
            cache[key] = factory()
        return cache[key]

    return get

# name -> (package, file inside the package)
_PACKAGED = {
    "shape_predictor_68": ("face_recognition_models", "models/shape_predictor_68_face_landmarks.dat"),
    "shape_predictor_5": ("face_recognition_models", "models/shape_predictor_5_face_landmarks.dat"),
    "mmod_face_detector": ("face_recognition_models", "models/mmod_human_face_detector.dat"),
    "dlib_face_resnet": ("face_recognition_models", "models/dlib_face_recognition_resnet_model_v1.dat"),
}


def packaged_model_path(name):
    """Path of a model file shipped in a PyPI package, found without importing it.

    ``face_recognition_models`` imports ``pkg_resources`` at import time, which
    recent setuptools no longer provides, so the package is located with
    :func:`importlib.util.find_spec` instead of being imported.

    Parameters
    ----------
    name : str
        One of ``shape_predictor_68``, ``shape_predictor_5``,
        ``mmod_face_detector``, ``dlib_face_resnet``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> packaged_model_path("shape_predictor_68").name
    'shape_predictor_68_face_landmarks.dat'
    """
    try:
        package, relative = _PACKAGED[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(_PACKAGED))}") from None
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"model {name!r} needs the package {package!r}: pip install {package}"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise FileNotFoundError(f"model file missing from {package}: {path}")
    return path
