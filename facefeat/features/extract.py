"""Feature extraction in chunks: bounded memory, several processes, or a Dask cluster.

:func:`extract_features` runs the stateless steps of a pipeline (face
alignment, texture or CNN features) over image files a chunk at a time. Each
chunk is read from disk, transformed and written into a preallocated output
(in memory, or a ``.npy`` file on disk) before the next ones are started, so
memory use depends on ``chunk_size`` and the number of workers, not on the
number of images. A file that cannot be read keeps its row (filled with NaN)
and is reported with the reason; nothing is dropped silently.

Parallel and distributed runs
-----------------------------
Chunks are handed to :class:`joblib.Parallel`, so any joblib backend works:
``n_jobs=2`` uses two local processes (joblib's default ``loky`` backend).
With the optional extra ``pip install "facefeat[dask]"``, ``backend="dask"``
sends the chunks to a `Dask <https://distributed.dask.org>`_ cluster through
the ``dask.distributed`` client that the caller created::

    from dask.distributed import Client
    from facefeat.features.extract import extract_features
    from facefeat.pipelines import make_pipeline

    client = Client("tcp://scheduler:8786")   # the scheduler of a running cluster
    result = extract_features(make_pipeline("lbp-linear")[:2], paths, backend="dask")

A cluster is started with ``dask scheduler`` on one machine (it listens on
port 8786) and ``dask worker tcp://scheduler:8786 --nworkers N``
on each worker machine; ``Client(LocalCluster())`` runs one on this machine.
The workers read the image files themselves, so the paths must be valid on
every worker (a shared file system), and every worker needs the same
facefeat, dlib and torch versions installed. Workers may run several
threads: dlib's models are loaded once per thread. With Dask, ``n_jobs`` is
ignored: every worker thread of the cluster takes chunks. Results come back to the
calling process, which writes the output file. From the command line::

    facefeat extract DATA_DIR --pipeline lbp-linear --out features.npy --dask-scheduler tcp://scheduler:8786
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["ExtractResult", "extract_features"]


@dataclass(eq=False)
class ExtractResult:
    """Features of many images, row ``i`` for ``paths[i]``, and what could not be read.

    Attributes
    ----------
    features : ndarray or numpy.memmap of shape (n_images, n_features)
        One row per input file, in input order. Rows of files that could not
        be read are NaN (0 for an integer ``dtype``). A read-only memmap of
        the ``.npy`` file when ``out`` was given.
    face_found : ndarray of shape (n_images,), bool
        True where the face detector found the face; False for a fallback
        crop and for unread files. Without a face-detecting step (no
        :class:`~facefeat.faces.batch.FaceBatch` between the steps) it equals ``valid``.
    valid : ndarray of shape (n_images,), bool
        False for the rows of files that could not be read.
    paths : list of str, length n_images
        The input files.
    skipped : list of (str, str)
        ``(path, reason)`` of every file that could not be read or is too
        small to hold a face, in input order (the rows ``np.flatnonzero(~valid)``).
    labels : ndarray of str of shape (n_images,) or None
        The class labels when the input was a :class:`~facefeat.images.datasets.FaceDataset`.
    feature_names : ndarray of str of shape (n_features,) or None
        The last step's ``get_feature_names_out()``, when it has one.
    seconds : float
        Wall time of the extraction.

    Examples
    --------
    HOG features (no face detection) of two blank 32 x 32 images and a
    missing file:

    >>> import os, tempfile, warnings
    >>> import numpy as np
    >>> from PIL import Image
    >>> from facefeat.features.extract import ExtractResult, extract_features
    >>> from facefeat.features.hog import HOGFeatures
    >>> tmp = tempfile.mkdtemp()
    >>> paths = [os.path.join(tmp, f"face{i}.png") for i in range(2)]
    >>> for path in paths:
    ...     Image.fromarray(np.zeros((32, 32), dtype=np.uint8)).save(path)
    >>> paths.append(os.path.join(tmp, "missing.png"))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # the SkippedImagesWarning naming missing.png
    ...     result = extract_features(HOGFeatures(), paths, progress=False)
    >>> isinstance(result, ExtractResult), result.features.shape
    (True, (3, 36))
    >>> result.valid.tolist(), result.face_found.tolist()  # no face detector: face_found equals valid
    ([True, True, False], [True, True, False])
    >>> bool(np.isnan(result.features[2]).all()), [why for _, why in result.skipped]
    (True, ['no such file'])
    >>> str(result.feature_names[0]), result.labels is None
    ('hog_b0x0_c0x0_o0', True)
    """

    features: np.ndarray
    face_found: np.ndarray
    valid: np.ndarray
    paths: list
    skipped: list = field(default_factory=list)
    labels: np.ndarray = None
    feature_names: np.ndarray = None
    seconds: float = 0.0

    @property
    def failed_rows(self):
        """Row indices of the files that could not be read, ndarray of int of shape (n_skipped,)."""
        return np.flatnonzero(~self.valid)


def _as_steps(steps):
    """``steps`` as a Pipeline whose every step learns nothing, or a ValueError naming the one that does."""
    from sklearn.pipeline import Pipeline

    from facefeat._steps import requires_fit

    if isinstance(steps, Pipeline):
        pipe = steps
    elif isinstance(steps, (list, tuple)):
        if not steps:
            raise ValueError("steps is empty: give at least one transformer")
        named = all(isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], str) for s in steps)
        pipe = Pipeline(list(steps) if named else [(f"step{i}", s) for i, s in enumerate(steps)])
    elif hasattr(steps, "transform"):
        pipe = Pipeline([(type(steps).__name__.lower(), steps)])
    else:
        raise TypeError(f"steps must be a Pipeline, a list of transformers or a transformer, "
                        f"got {type(steps).__name__}")
    for name, est in pipe.steps:
        if est is None or isinstance(est, str):  # "passthrough"
            continue
        if requires_fit(est):
            raise ValueError(
                f"step {name!r} ({type(est).__name__}) learns from the data, so applying it chunk by chunk "
                "would fit it on each chunk: give only the stateless steps before it (for a named pipeline, "
                "pipe[:k] with k = facefeat._steps.stateless_prefix(pipe)) and fit the rest on the features")
    return pipe


def _read_mode(pipe):
    """The pixel mode the first step expects: RGB for a colour FaceAligner, else gray."""
    first = pipe.steps[0][1]
    return "rgb" if getattr(first, "color", False) is True else "gray"


def _transform_chunk(pipe, paths, mode):
    """Read ``paths`` and run every step on the images that could be read.

    Runs in a worker. Returns ``(kept, features, face_found, skipped, names)``:
    positions in ``paths`` of the images read, their features
    (n_kept, n_features) as an array, face flags (n_kept,) or None when no
    step gave a FaceBatch, ``(position, path, reason)`` of the others, and
    the last step's feature names (None when it has none).
    """
    from sklearn.base import clone

    from facefeat.faces.align import NoFaceWarning, face_size_problem
    from facefeat.images.io import SkippedImagesWarning, read_images

    with warnings.catch_warnings():
        # per-chunk warnings would repeat once per chunk (and from every worker):
        # the caller reports the totals once
        warnings.simplefilter("ignore", SkippedImagesWarning)
        warnings.simplefilter("ignore", NoFaceWarning)
        result = read_images(paths, mode=mode, on_error="skip")
        skipped = []
        bad = iter(result.skipped)
        read_at = set(result.indices)
        for i in range(len(paths)):
            if i not in read_at:
                skipped.append((i, *next(bad)))
        images, kept = [], []
        for image, path, i in zip(result.images, result.paths, result.indices):
            # FaceAligner would refuse a thumbnail and stop the whole chunk
            problem = face_size_problem(image.shape)
            if problem is None:
                images.append(image)
                kept.append(i)
            else:
                skipped.append((i, path, problem))
        skipped.sort()
        if not images:
            return kept, None, None, skipped, None
        X, found = images, None
        for _, est in pipe.steps:
            if est is None or isinstance(est, str):  # "passthrough"
                continue
            est = clone(est)
            X = est.fit_transform(X)
            if hasattr(X, "face_found"):
                found = X.face_found
            if len(X) != len(kept):
                raise ValueError(f"step {type(est).__name__} returned {len(X)} rows for {len(kept)} images; "
                                 "row-dropping options (FaceAligner(on_no_face='skip')) cannot be used here, "
                                 "use on_no_face='fallback' and the face_found flags")
        names = None
        if hasattr(est, "get_feature_names_out"):
            try:
                names = np.asarray(est.get_feature_names_out(), dtype=str)
            except (AttributeError, TypeError, ValueError):  # no names (or input names needed): fine
                names = None
        features = np.asarray(X)
        if features.ndim != 2:
            raise ValueError(f"the last step must return a 2-D feature matrix, got shape {features.shape}")
    return kept, features, None if found is None else np.asarray(found, bool), skipped, names


def _source_paths(sources):
    """``(paths, labels)`` of a FaceDataset or a list of image files."""
    from facefeat.images.datasets import FaceDataset

    if isinstance(sources, FaceDataset):
        if sources.paths is None:
            raise TypeError("this FaceDataset holds images in memory, not files: transform sources.images directly")
        return list(sources.paths), sources.labels
    if isinstance(sources, (str, bytes, os.PathLike)):
        raise TypeError("sources must be a list of image files or a FaceDataset, not a single path")
    paths = list(sources)
    for i, p in enumerate(paths):
        if not isinstance(p, (str, bytes, os.PathLike)):
            raise TypeError(f"sources[{i}] is a {type(p).__name__}, not a file path")
    if not paths:
        raise ValueError("no images: sources is empty")
    return paths, None


class _Rows:
    """The preallocated output: a ``.npy`` file written block by block, or an array.

    The file is written with ordinary writes at computed offsets rather than
    through a writable memmap: dirty pages of a memmap count in the resident
    set until the kernel writes them back, so a large output would grow RSS
    like an in-memory array.
    """

    def __init__(self, n, out):
        self.n, self.out = n, out
        self.array = self.fh = None

    @property
    def ready(self):
        """Whether the output exists (the width is known)."""
        return self.array is not None or self.fh is not None

    def allocate(self, width, dtype):
        self.width, self.dtype = width, np.dtype(dtype)
        self.fill = np.nan if self.dtype.kind in "fc" else 0
        if self.out is None:
            self.array = np.empty((self.n, width), self.dtype)
            return
        self.tmp = Path(f"{self.out}.part{os.getpid()}")
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        # open_memmap writes the .npy header and sizes the (sparse) file; only its offset is kept
        header = np.lib.format.open_memmap(self.tmp, mode="w+", dtype=self.dtype, shape=(self.n, width))
        self.offset = header.offset
        del header
        self.fh = open(self.tmp, "r+b")  # noqa: SIM115 - closed in finish() / abort()

    def write(self, start, m, kept, features):
        """Rows ``start .. start+m``: ``features`` at the chunk positions ``kept``, fill elsewhere."""
        if features is not None and features.shape[1] != self.width:
            raise ValueError(f"a chunk gave {features.shape[1]} features per image, an earlier one {self.width}: "
                             "the steps must give a fixed width (align the faces to one size first)")
        block = np.full((m, self.width), self.fill, self.dtype)
        if features is not None:
            block[kept] = features
        if self.array is not None:
            self.array[start:start + m] = block
        else:
            self.fh.seek(self.offset + start * self.width * self.dtype.itemsize)
            self.fh.write(block.tobytes())

    def finish(self):
        if self.fh is None:
            return self.array
        self.fh.close()
        os.replace(self.tmp, self.out)
        return np.load(self.out, mmap_mode="r")

    def abort(self):
        if self.fh is not None:
            self.fh.close()
            self.tmp.unlink(missing_ok=True)


def _run_chunk(pipe, start, paths, mode):
    return (start, len(paths), *_transform_chunk(pipe, paths, mode))


def extract_features(steps, sources, *, chunk_size=256, n_jobs=1, backend=None, out=None, dtype=None,
                     progress=True):
    """Features of many image files, computed chunk by chunk in bounded memory.

    Each chunk of ``chunk_size`` files is read (:func:`facefeat.images.io.read_images`),
    passed through ``steps`` and written into the output; at most about
    ``2 * n_jobs`` chunks are in flight at once (joblib's ``pre_dispatch``).
    Since every step is stateless, the rows equal those of
    ``steps.fit_transform(all images)``.

    Parameters
    ----------
    steps : sklearn.pipeline.Pipeline, list of transformers, or a transformer
        Steps that learn nothing from the data (``__sklearn_tags__().requires_fit``
        is False; a FeatureUnion of such steps counts), e.g. the first two steps
        of a named pipeline: ``make_pipeline("lbp-linear")[:2]`` (FaceAligner +
        LBPHistogram). The last step must return a 2-D feature matrix (an
        array or a DataFrame). Per-step progress bars (``progress=True`` of a
        step) would show once per chunk; leave them off.
    sources : list of str or path-like of length n_images, or FaceDataset
        The image files (a FaceDataset's ``paths``; its ``labels`` are passed
        through to the result).
    chunk_size : int, default=256
        Images per chunk. Memory grows with ``chunk_size * n_jobs``.
    n_jobs : int, default=1
        Chunks transformed at once (joblib; ``-1``: one per CPU). Ignored with
        ``backend="dask"``, which uses every worker thread of the cluster.
    backend : str, optional
        A joblib backend name for :func:`joblib.parallel_config`: ``"loky"``
        (processes, joblib's default), ``"threading"``, or ``"dask"``, which
        needs ``pip install "facefeat[dask]"`` and a ``dask.distributed.Client``
        created beforehand, e.g. ``Client("tcp://scheduler:8786")`` (see the
        module documentation). None keeps joblib's active configuration.
    out : str or path-like, optional
        Write the features to this ``.npy`` file (created or replaced once the
        run succeeded) and return a read-only memmap of it; the matrix is then
        never held in memory. None: an in-memory array, allocated once when the
        first chunk gives the number of features.
    dtype : str or numpy dtype, optional
        Type of the output; None keeps the steps' type (float64 for the
        handcrafted extractors, float32 for DeepEmbedding). ``"float32"``
        halves the output of the handcrafted extractors.
    progress : bool, default=True
        Show a progress bar over the images.

    Returns
    -------
    ExtractResult
        ``features`` of shape (n_images, n_features), ``face_found`` and
        ``valid`` of shape (n_images,), ``skipped`` ``(path, reason)`` pairs of
        the unreadable or too small files, whose rows are NaN. Those files are
        also announced in one :class:`~facefeat.images.io.SkippedImagesWarning`, and
        faces aligned by a fallback in one :class:`~facefeat.faces.align.NoFaceWarning`.

    Raises
    ------
    ValueError
        A step learns from the data (fit the steps after it on the returned
        features instead), ``sources`` is empty, or no file could be read.
    TypeError
        ``sources`` is not a list of paths or a FaceDataset of files.

    Examples
    --------
    >>> import os, tempfile, warnings
    >>> from PIL import Image
    >>> from facefeat.pipelines import make_pipeline
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=1, n_per_class=1, classes=["happiness", "surprise", "anger"])
    >>> tmp = tempfile.mkdtemp()
    >>> paths = [os.path.join(tmp, f"face{i}.png") for i in range(3)]
    >>> for image, path in zip(ds.images, paths):
    ...     Image.fromarray(image).save(path)
    >>> paths.insert(1, os.path.join(tmp, "missing.png"))
    >>> steps = make_pipeline("lbp-linear")[:2]   # FaceAligner + LBPHistogram
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     res = extract_features(steps, paths, chunk_size=2, progress=False)
    >>> [w.category.__name__ for w in caught]
    ['SkippedImagesWarning']
    >>> res.features.shape, res.valid.tolist(), [reason for _, reason in res.skipped]
    ((4, 2891), [True, False, True, True], ['no such file'])
    >>> bool(np.isnan(res.features[1]).all())
    True
    >>> good = [p for p in paths if os.path.exists(p)]
    >>> bool(np.array_equal(res.features[res.valid], steps.fit_transform(good)))
    True
    """
    from contextlib import nullcontext

    from joblib import Parallel, delayed, parallel_config
    from tqdm.auto import tqdm

    from facefeat.faces.align import NoFaceWarning
    from facefeat.images.io import SkippedImagesWarning, display_path

    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    pipe = _as_steps(steps)
    paths, labels = _source_paths(sources)
    if backend == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ImportError('backend="dask" needs dask.distributed: pip install "facefeat[dask]"') from None
    n, mode = len(paths), _read_mode(pipe)
    valid, found = np.zeros(n, bool), np.zeros(n, bool)
    skipped, waiting, names, detects = [], [], None, False
    rows = _Rows(n, out)
    t0 = time.perf_counter()
    tasks = (delayed(_run_chunk)(pipe, s, paths[s:s + chunk_size], mode) for s in range(0, n, chunk_size))
    try:
        with parallel_config(backend=backend) if backend else nullcontext(), \
                tqdm(total=n, desc="extracting", unit="img", disable=not progress) as bar:
            # unordered: a slow chunk does not hold finished ones in memory; rows are written by position.
            # batch_size=1: a chunk is already a batch, and auto-batching would put more chunks in flight.
            par = Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1, pre_dispatch="2*n_jobs")
            for start, m, kept, feats, flags, bad, chunk_names in par(tasks):
                kept = np.asarray(kept, int)
                skipped.extend((start + i, path, reason) for i, path, reason in bad)
                valid[start + kept] = True
                if flags is not None:
                    detects = True
                    found[start + kept] = flags
                if feats is not None and not rows.ready:
                    rows.allocate(feats.shape[1], dtype or feats.dtype)
                    names = chunk_names
                # chunks of unreadable files only wait (tiny) until a good chunk gives the width
                waiting.append((start, m, kept, feats))
                if rows.ready:
                    for block in waiting:
                        rows.write(*block)
                    waiting.clear()
                bar.update(m)
                bar.set_postfix(skipped=len(skipped), refresh=False)
        if not rows.ready:
            shown = "; ".join(f"{display_path(p)}: {r}" for _, p, r in skipped[:5])
            raise ValueError(f"none of the {n} images could be read ({shown}{' ...' if len(skipped) > 5 else ''})")
        features = rows.finish()
    except BaseException:
        rows.abort()
        raise
    seconds = time.perf_counter() - t0
    skipped.sort()
    if skipped:
        shown = ", ".join(f"'{display_path(p)}' ({r})" for _, p, r in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        warnings.warn(f"skipped {len(skipped)} of {n} images that could not be read or are too small: {shown}{more}"
                      "; their rows are NaN, see ExtractResult.skipped", SkippedImagesWarning, stacklevel=2)
    if not detects:
        found = valid.copy()
    missed = np.flatnonzero(valid & ~found)
    if len(missed):
        shown = ", ".join(display_path(paths[i]) for i in missed[:5]) + (
            f" and {len(missed) - 5} more" if len(missed) > 5 else "")
        warnings.warn(f"no face detected in {len(missed)} of {int(valid.sum())} images, aligned by a fallback "
                      f"(face_found=False): {shown}", NoFaceWarning, stacklevel=2)
    return ExtractResult(
        features=features, face_found=found, valid=valid, paths=[os.fsdecode(os.fspath(p)) for p in paths],
        skipped=[(p, r) for _, p, r in skipped], labels=labels, feature_names=names, seconds=seconds,
    )
