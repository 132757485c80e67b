"""Model files written by ``facefeat fit`` and read by ``facefeat predict``.

A model file is a ZIP archive with two members:

``manifest.json``
    Readable without unpickling anything (``python -m zipfile -l``, or
    :func:`read_manifest`): ``format`` (``"facefeat-model"``),
    ``format_version``, the ``facefeat``, ``scikit-learn``, ``numpy`` and
    ``python`` versions that wrote it, ``pipeline_name``, ``classes``,
    ``n_train``, ``created`` (UTC, ISO 8601), and ``payload_sha256`` /
    ``payload_bytes`` of the second member.
``pipeline.joblib``
    The fitted scikit-learn pipeline, pickled by :func:`joblib.dump`; or,
    for a pipeline of facefeat components whose only learned state is a
    network's weights (the CNN recipes), ``weights.npz``: the weights as
    plain arrays, with the steps and their parameters in the manifest
    (``format_version`` 2, see :mod:`facefeat.portable`). Such a file is
    read without unpickling anything, so it needs no trust.

:func:`load_model` checks, in this order and *before* unpickling: that the
file is such an archive with a facefeat manifest, that the payload has the
declared size and SHA-256, then warns (:class:`ModelVersionWarning`) when
the versions differ from the running ones, and only then unpickles.

Why a pickle in a container, not skops
--------------------------------------
``skops.io`` loads only types listed as trusted, which would stop a crafted
file from running code. It is not a dependency of facefeat, and our
pipelines are mostly custom classes (``FaceAligner``, ``LBPHistogram``,
``GaborFeatures``, ``DeepEmbedding``, ``HMMClassifier``, fusion blocks...),
each of which skops would have to be told to trust by name; trusting a class
name says nothing about the attribute values its ``__setstate__`` receives,
and any new component would break loading until added to the list. The
deep pipelines also hold torch modules, which skops does not serialise.
So facefeat keeps joblib (which every scikit-learn user already knows) and
wraps it with a manifest, a checksum and an explicit trust gate.

What the checksum does and does not protect
-------------------------------------------
The SHA-256 is stored *next to* the payload, unsigned. It detects a file
that was truncated, corrupted in transfer or storage, or edited by mistake
(and the ZIP's own CRC-32 catches most of that too). It does **not** protect
against a malicious author: whoever can write the payload can write a
matching checksum. Unpickling runs code chosen by the file's author, so
load model files only from people you trust, exactly as with any pickle.

A file that is not a facefeat model archive -- a plain pickle or joblib
file, including models saved by ``facefeat fit`` before this format --
is refused unless ``trust=True`` (``facefeat predict --trust``), which
states that you trust the file's author.
"""

import hashlib
import io
import json
import os
import platform
import warnings
import zipfile
from datetime import datetime, timezone

import numpy as np

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LoadedModel",
    "ModelFileError",
    "ModelVersionWarning",
    "UntrustedModelError",
    "environment",
    "load_model",
    "read_manifest",
    "save_model",
]

FORMAT = "facefeat-model"
FORMAT_VERSION = 2
_MANIFEST = "manifest.json"
_PAYLOAD = "pipeline.joblib"
_WEIGHTS = "weights.npz"
# The manifest is a few hundred bytes; refusing a huge one keeps a crafted
# archive from exhausting memory before anything is checked.
_MAX_MANIFEST_BYTES = 1 << 20
_TRUST_HINT = ("loading it would run whatever code its author put in it; if you trust its author, "
               "load it with trust=True (facefeat predict --trust)")


class ModelFileError(ValueError):
    """A file is not a usable facefeat model: not one, corrupt, or modified.

    A ``ValueError``, so the command line reports it as ``error: ...``.

    Examples
    --------
    A model file whose pipeline was changed after it was written no longer
    matches the checksum in its manifest:

    >>> import os, tempfile, zipfile
    >>> from sklearn.dummy import DummyClassifier
    >>> from facefeat.modelfile import ModelFileError, load_model, save_model
    >>> good = os.path.join(tempfile.mkdtemp(), "good.model")
    >>> _ = save_model(good, DummyClassifier().fit([[0], [1]], ["anger", "fear"]), pipeline_name="dummy",
    ...                classes=["anger", "fear"])
    >>> bad = good.replace("good.model", "bad.model")
    >>> with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
    ...     for name in src.namelist():  # the pipeline's last byte changed on the way
    ...         data = src.read(name)
    ...         dst.writestr(name, data[:-1] + b"!" if name == "pipeline.joblib" else data)
    >>> try:
    ...     load_model(bad)
    ... except ModelFileError as err:
    ...     print(str(err).replace(bad, "bad.model").split(":")[0])
    bad.model was modified or corrupted
    """


class UntrustedModelError(ModelFileError):
    """A file is not a facefeat model archive, so it is only loaded with ``trust=True``.

    Examples
    --------
    A pipeline pickled with plain joblib has no manifest:

    >>> import os, tempfile
    >>> import joblib
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.pipeline import Pipeline
    >>> from facefeat.modelfile import UntrustedModelError, load_model
    >>> pipe = Pipeline([("clf", DummyClassifier())]).fit([[0], [1]], ["anger", "fear"])
    >>> path = os.path.join(tempfile.mkdtemp(), "plain.joblib")
    >>> _ = joblib.dump(pipe, path)
    >>> try:
    ...     load_model(path)
    ... except UntrustedModelError as err:
    ...     print(str(err).replace(path, "plain.joblib").split(":")[0])
    plain.joblib is not a facefeat model file (no manifest; a plain pickle or a model saved by an older facefeat?)

    Loading it anyway states that you trust its author:

    >>> model = load_model(path, trust=True)
    >>> model.verified, model.manifest["classes"]
    (False, ['anger', 'fear'])
    """


class ModelVersionWarning(UserWarning):
    """A model file was written by other versions of facefeat, scikit-learn, numpy or Python.

    Issued by :func:`load_model`, which still loads the file: predictions
    may differ, or unpickling may fail.

    Examples
    --------
    A model file whose manifest says it was written with numpy 1.0.0:

    >>> import json, os, tempfile, warnings, zipfile
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.pipeline import Pipeline
    >>> from facefeat.modelfile import ModelVersionWarning, load_model, save_model
    >>> pipe = Pipeline([("clf", DummyClassifier())]).fit([[0], [1]], ["anger", "fear"])
    >>> folder = tempfile.mkdtemp()
    >>> new, old = os.path.join(folder, "new.model"), os.path.join(folder, "old.model")
    >>> manifest = save_model(new, pipe, pipeline_name="dummy", classes=pipe.classes_)
    >>> with zipfile.ZipFile(new) as src, zipfile.ZipFile(old, "w") as dst:
    ...     dst.writestr("manifest.json", json.dumps({**manifest, "numpy": "1.0.0"}))
    ...     dst.writestr("pipeline.joblib", src.read("pipeline.joblib"))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = load_model(old)
    >>> caught[0].category is ModelVersionWarning
    True
    >>> print(str(caught[0].message).replace(old, "old.model").split(" (running")[0])
    old.model was written with other versions: numpy 1.0.0
    >>> model.pipeline.predict([[0]]).shape  # loaded all the same
    (1,)
    """


def environment():
    """Versions recorded in a manifest and compared when loading.

    Returns
    -------
    dict of str to str
        ``facefeat``, ``scikit-learn``, ``numpy`` and ``python``
        (``major.minor.micro``).

    Examples
    --------
    >>> import platform
    >>> import numpy as np
    >>> from facefeat.modelfile import environment
    >>> env = environment()
    >>> sorted(env)
    ['facefeat', 'numpy', 'python', 'scikit-learn']
    >>> env["numpy"] == np.__version__, env["python"] == platform.python_version()
    (True, True)
    """
    import numpy
    import sklearn

    from facefeat import __version__

    return {"facefeat": __version__, "scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
            "python": platform.python_version()}


def save_model(path, pipeline, *, pipeline_name, classes, n_train=None, portable="auto"):
    """Write a fitted pipeline and its manifest to a model file.

    Parameters
    ----------
    path : str or path-like
        File to write (replaced if it exists).
    pipeline : sklearn.pipeline.Pipeline
        The fitted pipeline.
    pipeline_name : str
        Name or recipe file it was built from.
    classes : list of str
        Class names, in the order of ``pipeline.classes_``.
    n_train : int, optional
        Number of training images.
    portable : "auto" or bool, default="auto"
        Write the weights as plain arrays instead of a pickle (see the
        module's docstring); ``"auto"``: whenever the pipeline allows it
        (:func:`facefeat.portable.is_portable`), True: or raise ``ValueError``.

    Returns
    -------
    dict
        The manifest written.

    See Also
    --------
    load_model : read the file back, checking it first.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import Pipeline
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array(["anger", "anger", "happiness", "happiness"])
    >>> pipe = Pipeline([("clf", LogisticRegression())]).fit(X, y)
    >>> from facefeat.modelfile import save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "emotions.model")
    >>> manifest = save_model(path, pipe, pipeline_name="my-pipeline", classes=pipe.classes_, n_train=len(y))
    >>> manifest["format"], manifest["pipeline_name"], manifest["classes"], manifest["n_train"]
    ('facefeat-model', 'my-pipeline', ['anger', 'happiness'], 4)
    >>> import zipfile
    >>> zipfile.ZipFile(path).namelist()
    ['manifest.json', 'pipeline.joblib']
    """
    import joblib

    from facefeat.portable import is_portable, to_portable

    buf, extra = io.BytesIO(), {}
    if portable is True or (portable == "auto" and is_portable(pipeline)):
        steps, arrays = to_portable(pipeline)
        np.savez(buf, **arrays)
        member, extra = _WEIGHTS, {"steps": steps}
    else:
        joblib.dump(pipeline, buf)
        member = _PAYLOAD
    payload = buf.getvalue()
    manifest = {
        "format": FORMAT,
        # a pickled pipeline stays readable by facefeat versions that know format 1 only
        "format_version": 2 if member == _WEIGHTS else 1,
        **environment(),
        "pipeline_name": str(pipeline_name),
        "classes": [str(c) for c in classes],
        "n_train": None if n_train is None else int(n_train),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "payload": member,
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        **extra,
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_MANIFEST, json.dumps(manifest, indent=2) + "\n")
        zf.writestr(member, payload)
    return manifest


def read_manifest(path):
    """The manifest of a model file, without unpickling anything.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    UntrustedModelError
        ``path`` is not a facefeat model archive (e.g. a plain pickle).
    ModelFileError
        The archive is damaged or its manifest unreadable.

    Examples
    --------
    The manifest of a model that always answers its training set's most
    frequent class:

    >>> import os, tempfile
    >>> from sklearn.dummy import DummyClassifier
    >>> from facefeat.modelfile import FORMAT_VERSION, read_manifest, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "emotions.model")
    >>> clf = DummyClassifier().fit([[0.0], [1.0]], ["anger", "happiness"])
    >>> _ = save_model(path, clf, pipeline_name="my-pipeline", classes=clf.classes_)
    >>> manifest = read_manifest(path)
    >>> manifest["pipeline_name"], manifest["classes"], manifest["format_version"] <= FORMAT_VERSION
    ('my-pipeline', ['anger', 'happiness'], True)
    >>> len(manifest["payload_sha256"])
    64
    """
    with _open(path) as zf:
        return _manifest(zf, path)


def _check_exists(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {os.fspath(path)!r}")


def _open(path):
    _check_exists(path)
    try:
        if not zipfile.is_zipfile(path):
            raise UntrustedModelError(f"{path} is not a facefeat model file (no manifest; a plain pickle or a "
                                      f"model saved by an older facefeat?): {_TRUST_HINT}")
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ModelFileError(f"{path} is a damaged model file ({exc})") from exc


def _read_member(zf, name, limit, path):
    """Bytes of one archive member, refusing more than ``limit`` bytes."""
    try:
        with zf.open(name) as fh:
            data = fh.read(limit + 1)
    except KeyError:
        raise ModelFileError(f"{path} is not a facefeat model file: it has no {name}") from None
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:  # bad CRC, truncated, encrypted...
        raise ModelFileError(f"{path} is damaged or was modified: cannot read {name} ({exc})") from exc
    if len(data) > limit:
        raise ModelFileError(f"{path}: {name} is larger than its manifest says (was the file modified?)")
    return data


def _manifest(zf, path):
    raw = _read_member(zf, _MANIFEST, _MAX_MANIFEST_BYTES, path)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} has an unreadable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a facefeat model file (its manifest is not a {FORMAT} manifest)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{path} has model format version {version!r}; this facefeat reads up to "
                             f"{FORMAT_VERSION} (upgrade facefeat)")
    for key, kind in (("payload_sha256", str), ("payload_bytes", int)):
        if not isinstance(manifest.get(key), kind):
            raise ModelFileError(f"{path} has a manifest without a valid {key!r}")
    return manifest


class LoadedModel:
    """A pipeline read from a model file, with what is known about it.

    Attributes
    ----------
    pipeline : sklearn.pipeline.Pipeline
    manifest : dict
        The file's manifest; for a plain pickle loaded with ``trust=True``,
        what could be recovered (``format_version`` 0).
    verified : bool
        True when the file was a model archive whose payload matched its
        checksum; False for a plain pickle loaded with ``trust=True``.

    Examples
    --------
    :func:`load_model` makes these; what one holds for a plain pickle it was
    trusted with:

    >>> from sklearn.dummy import DummyClassifier
    >>> from facefeat.modelfile import LoadedModel
    >>> model = LoadedModel(DummyClassifier(), {"format_version": 0, "classes": ["anger"]}, verified=False)
    >>> model.verified, model.manifest["format_version"]
    (False, 0)
    """

    def __init__(self, pipeline, manifest, verified):
        self.pipeline = pipeline
        self.manifest = manifest
        self.verified = verified


def load_model(path, *, trust=False):
    """Read a model file written by :func:`save_model` (``facefeat fit``).

    Parameters
    ----------
    path : str or path-like
    trust : bool, default=False
        Also load files that are not facefeat model archives: plain
        pickle/joblib files, such as models saved by ``facefeat fit`` before
        this format. Only for files whose author you trust: unpickling runs
        code the author chose. Archives are always checked against their
        checksum, trusted or not.

    Returns
    -------
    LoadedModel

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    UntrustedModelError
        Not a facefeat model archive, and ``trust`` is False.
    ModelFileError
        A damaged archive, a payload whose size or SHA-256 differs from the
        manifest (corrupted or modified), or (with ``trust``) a pickle that
        holds no facefeat pipeline.

    Warns
    -----
    ModelVersionWarning
        The file was written with other versions of facefeat, scikit-learn,
        numpy or Python (major.minor): predictions may differ or loading may
        fail.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from facefeat.modelfile import load_model, save_model
    >>> clf = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], ["anger", "anger", "happiness", "happiness"])
    >>> path = os.path.join(tempfile.mkdtemp(), "emotions.model")
    >>> _ = save_model(path, clf, pipeline_name="my-pipeline", classes=clf.classes_)
    >>> model = load_model(path)
    >>> model.verified, model.pipeline.predict([[0.2], [2.8]]).tolist()
    (True, ['anger', 'happiness'])
    >>> try:
    ...     load_model(os.path.join(tempfile.mkdtemp(), "missing.model"))
    ... except FileNotFoundError as err:
    ...     print(type(err).__name__, str(err).startswith("model file not found"))
    FileNotFoundError True
    """
    import joblib

    _check_exists(path)
    if trust and not zipfile.is_zipfile(path):
        return _load_plain(path)
    with _open(path) as zf:
        manifest = _manifest(zf, path)
        payload = _read_member(zf, manifest.get("payload", _PAYLOAD), manifest["payload_bytes"], path)
    if len(payload) != manifest["payload_bytes"] or hashlib.sha256(payload).hexdigest() != manifest["payload_sha256"]:
        raise ModelFileError(f"{path} was modified or corrupted: its pipeline does not match the checksum in its "
                             f"manifest ({len(payload)} bytes, expected {manifest['payload_bytes']}); refit the "
                             "model or copy the file again")
    _warn_versions(manifest, path)
    if manifest.get("payload") == _WEIGHTS:
        from facefeat.portable import from_portable

        with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
            try:
                pipeline = from_portable(manifest.get("steps") or [], dict(arrays), manifest["classes"])
            except (KeyError, TypeError, ValueError, RuntimeError) as exc:  # unknown step, wrong shapes...
                raise ModelFileError(f"{path}: its steps or weights do not make a pipeline ({exc})") from exc
        return LoadedModel(pipeline, manifest, verified=True)
    pipeline = joblib.load(io.BytesIO(payload))
    return LoadedModel(pipeline, manifest, verified=True)


def _load_plain(path):
    import joblib

    try:
        obj = joblib.load(path)
    except Exception as exc:  # anything may fail inside an arbitrary pickle
        raise ModelFileError(f"{path} is not a facefeat model file and cannot be unpickled "
                             f"({type(exc).__name__}: {exc})") from exc
    if isinstance(obj, dict) and obj.get("format") == FORMAT and "pipeline" in obj:
        # the layout `facefeat fit` wrote before model archives
        manifest = {"format": FORMAT, "format_version": 0, "pipeline_name": obj.get("pipeline_name"),
                    "classes": obj.get("classes"), "n_train": obj.get("n_train")}
        return LoadedModel(obj["pipeline"], manifest, verified=False)
    if hasattr(obj, "predict_proba") and hasattr(obj, "steps"):
        manifest = {"format": FORMAT, "format_version": 0, "pipeline_name": None,
                    "classes": [str(c) for c in getattr(obj, "classes_", [])], "n_train": None}
        return LoadedModel(obj, manifest, verified=False)
    raise ModelFileError(f"{path} is not a facefeat model: it holds a {type(obj).__name__}, not a pipeline "
                         "made by `facefeat fit`")


def _minor(version):
    return ".".join(str(version).split(".")[:2])


def _warn_versions(manifest, path):
    here = environment()
    # Python differs in patch releases harmlessly; the libraries' pickles may not.
    diffs = [f"{name} {manifest.get(name)} (running {here[name]})" for name in ("facefeat", "scikit-learn", "numpy")
             if manifest.get(name) != here[name]]
    if _minor(manifest.get("python")) != _minor(here["python"]):
        diffs.append(f"python {manifest.get('python')} (running {here['python']})")
    if diffs:
        warnings.warn(f"{path} was written with other versions: {', '.join(diffs)}; predictions may differ "
                      "or loading may fail (refit the model with the installed versions to be sure)",
                      ModelVersionWarning, stacklevel=3)
