"""``analyze``: every face of a photo or a video, with its expression, in one call."""

import os
from pathlib import Path

from facefeat.analysis.records import face_records
from facefeat.analysis.tracks import FaceTracker
from facefeat.analysis.video import is_video_file, sample_frames

__all__ = ["DEFAULT_MODEL_PATH", "load_pipeline", "analyze", "analyze_video"]

#: Where the expression model shipped with facefeat lives (see ``facefeat/data/README.md``).
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "expression.model"


def load_pipeline(model=None, *, trust=False):
    """The fitted pipeline a model argument stands for.

    Parameters
    ----------
    model : None, str, path-like or fitted Pipeline
        None: the model shipped with facefeat; a path: a model file written
        by ``facefeat fit``; a fitted pipeline: itself.
    trust : bool, default=False
        Also load a file that is not a model archive (see
        :func:`facefeat.modelfile.load_model`).

    Returns
    -------
    sklearn.pipeline.Pipeline

    Raises
    ------
    FileNotFoundError
        No model file at the path (or no shipped model in this installation).

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> pipe = Pipeline([("clf", None)])
    >>> load_pipeline(pipe) is pipe
    True
    """
    if model is None:
        if not DEFAULT_MODEL_PATH.is_file():
            raise FileNotFoundError(f"this installation has no shipped expression model ({DEFAULT_MODEL_PATH}); "
                                    "pass a model file written by 'facefeat fit' (--model FILE)")
        model = DEFAULT_MODEL_PATH
    if isinstance(model, (str, os.PathLike)):
        from facefeat.modelfile import load_model

        return load_model(model, trust=trust).pipeline
    return model


def analyze(source, model=None, *, fps=2.0, largest_only=False, as_frame=False, progress=False):
    """The expression of every face in a photo or a video, one record per face (and sampled frame).

    Parameters
    ----------
    source : str, path-like or ndarray of shape (h, w) or (h, w, 3), uint8
        An image or video file, or an image.
    model : None, str, path-like or fitted Pipeline, default=None
        See :func:`load_pipeline`.
    fps : float, default=2.0
        Frames sampled per second of a video.
    largest_only : bool, default=False
        Only the largest face of each image or frame.
    as_frame : bool, default=False
        Return a ``pandas.DataFrame`` (one row per record) instead of a list.
    progress : bool, default=False
        A progress bar over the frames of a video.

    Returns
    -------
    list of dict or pandas.DataFrame
        The records of :func:`facefeat.analysis.records.face_records`, each
        with ``source`` (the file, or ``"image"`` for an array) in front; for
        a video also ``frame``, ``time_s`` and ``track`` (see
        :func:`analyze_video`).

    Examples
    --------
    >>> import numpy as np
    >>> from facefeat.images.synthetic import make_expressions
    >>> from facefeat.pipelines import make_pipeline
    >>> ds = make_expressions(n_subjects=2, n_per_class=1, classes=["happiness", "sadness"])
    >>> pipe = make_pipeline("hog-linear").fit(ds.images, ds.labels)
    >>> frame = analyze(np.hstack([ds.images[0], ds.images[3]]), model=pipe, as_frame=True)
    >>> frame[["source", "face", "face_found"]].to_dict("records")
    [{'source': 'image', 'face': 0, 'face_found': True}, {'source': 'image', 'face': 1, 'face_found': True}]
    """
    pipeline = load_pipeline(model)
    if isinstance(source, (str, os.PathLike)) and is_video_file(source):
        records = analyze_video(source, pipeline, fps=fps, largest_only=largest_only, progress=progress)
    else:
        name = os.fsdecode(source) if isinstance(source, (str, os.PathLike)) else "image"
        records = [{"source": name, **r} for r in face_records(source, pipeline, largest_only=largest_only)]
    if as_frame:
        import pandas as pd

        return pd.DataFrame.from_records(records)
    return records


def analyze_video(path, pipeline, *, fps=2.0, largest_only=False, progress=False):
    """Records of every face in the sampled frames of a video, streamed.

    Parameters
    ----------
    path : str or path-like
    pipeline : fitted Pipeline
        As :func:`facefeat.analysis.records.face_records` takes it.
    fps : float, default=2.0
    largest_only : bool, default=False
    progress : bool, default=False

    Returns
    -------
    list of dict
        Per face and sampled frame: ``source``, ``frame``, ``time_s``,
        ``track`` (an id that follows a face from frame to frame by box
        overlap) and the fields of ``face_records``. A sampled frame without
        a face gets one record with ``face_found`` False and no ``face``,
        ``box``, ``track`` or expression (None), so a timeline has no
        unexplained holes.

    Raises
    ------
    facefeat.analysis.video.VideoReadError
        The file is not a readable video or holds no frame.

    Examples
    --------
    A generated clip of the astronaut; see :func:`analyze`.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from skimage import data
    >>> from facefeat.analysis.video import write_video
    >>> from facefeat.images.synthetic import make_expressions
    >>> from facefeat.pipelines import make_pipeline
    >>> ds = make_expressions(n_subjects=2, n_per_class=1, classes=["happiness", "sadness"])
    >>> pipe = make_pipeline("hog-linear").fit(ds.images, ds.labels)
    >>> face = data.astronaut()[:300, 100:400]
    >>> frames = [np.roll(face, 3 * shift, axis=1) for shift in range(8)]  # two seconds; the face moves right
    >>> path = write_video(os.path.join(tempfile.mkdtemp(), "clip.avi"), frames, fps=4)
    >>> records = analyze_video(path, pipe, fps=2)
    >>> [(r["frame"], r["time_s"], r["track"], r["face_found"]) for r in records]
    [(0, 0.0, 0, True), (2, 0.5, 0, True), (4, 1.0, 0, True), (6, 1.5, 0, True)]
    """
    from tqdm.auto import tqdm

    from facefeat.analysis.video import video_info

    info = video_info(path)
    total = None
    if info.n_frames and info.fps > 0:
        total = -(-info.n_frames // max(1, round(info.fps / fps)))
    tracker, records, name = FaceTracker(), [], os.fsdecode(path)
    with tqdm(total=total, desc="video frames", unit="frame", disable=not progress, leave=False) as bar:
        for frame, time_s, image in sample_frames(path, fps):
            faces = [r for r in face_records(image, pipeline, largest_only=largest_only) if r["face_found"]]
            tracks = tracker.update([r["box"] for r in faces])
            where = {"source": name, "frame": frame, "time_s": time_s}
            if not faces:
                records.append({**where, "track": None, "face": None, "box": None, "face_found": False,
                                "label": None, "proba": None, "valence": None, "arousal": None})
            records.extend({**where, "track": t, **r} for t, r in zip(tracks, faces))
            bar.update(1)
    return records
