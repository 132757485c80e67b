"""``facefeat predict``: every face of images and videos, its expression, valence and arousal, one record each."""

import zipfile
from pathlib import Path

from facefeat.cli.console import (
    error,
    exit_status,
    expand_paths,
    note,
    report_unreadable,
    write_output,
    write_records,
)

__all__ = ["cmd_predict"]

# file endings of models written by facefeat fit (and of plain pickles of older versions)
_MODEL_SUFFIXES = {".model", ".joblib", ".pkl", ".pickle"}


def add_predict_parser(subparsers):
    """Register ``facefeat predict PATH... [--model MODEL]`` on an argparse sub-parser set."""
    p = subparsers.add_parser(
        "predict", help="the expression of every face in images and videos",
        description="One record per face (largest first) and, for a video, per sampled frame. The old form "
                    "'facefeat predict MODEL PATH...' still works.")
    p.add_argument("paths", nargs="+", help="image or video files, or folders of them")
    p.add_argument("--model", help="a model file written by 'facefeat fit' (default: the model shipped with "
                                   "facefeat)")
    p.add_argument("--largest-only", action="store_true", help="only the largest face of each image or frame")
    p.add_argument("--fps", type=float, default=2.0, help="video frames sampled per second (default 2)")
    p.add_argument("--annotate", metavar="DIR", help="write each image with boxes, labels and scores drawn "
                                                     "(and, for a video, an annotated video of its sampled frames)")
    p.add_argument("--plot", metavar="DIR", help="for each video, a picture of its main face track's class "
                                                 "probabilities, valence and arousal over time")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                   help="one JSON object per line (default), or CSV with a proba_<class> column per class")
    p.add_argument("--output", help="write here instead of standard output")
    p.add_argument("--on-error", choices=("record", "raise"), default="record",
                   help="an unreadable file gets a record with an 'error' key (default) or stops the run")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--trust", action="store_true",
                   help="also load a file that is not a facefeat model archive (a plain pickle/joblib file, e.g. "
                        "from an older facefeat). Unpickling runs code chosen by the file's author: only for files "
                        "from people you trust. Archives are always checked against their SHA-256, but that only "
                        "detects corruption or accidental edits, not a malicious author")
    p.set_defaults(func=cmd_predict)
    return p


def _looks_like_model(path):
    """Whether the first of several paths is a model (the old form), not an image, video or folder."""
    from facefeat.analysis.video import is_video_file
    from facefeat.images.io import is_image_file

    path = Path(path)
    if path.suffix.lower() in _MODEL_SUFFIXES or (path.is_file() and zipfile.is_zipfile(path)):
        return True
    return not (path.is_dir() or is_image_file(path) or is_video_file(path))


def cmd_predict(args):
    """``facefeat predict PATH...``: the expression of every face, one record each.

    Each record has ``path``, then for a video ``frame``, ``time_s`` and
    ``track``, then ``face`` (0 for the largest), ``box`` ``[x, y, width,
    height]``, ``face_found``, ``label``, ``proba`` (class -> probability),
    ``valence`` and ``arousal``; or ``error`` for a file that cannot be read.
    Written as JSON lines or CSV to ``args.output`` or standard output.

    Exit status: 0 when every file was read; 1 when some could not be (their
    records carry an ``error``); 2 after printing ``error: ...`` when the model cannot
    be loaded, no file was found, or a file is unreadable with ``--on-error raise``.

    Examples
    --------
    >>> import contextlib, io, os, tempfile
    >>> from facefeat.cli import build_parser
    >>> from facefeat.cli.predict import cmd_predict
    >>> missing = os.path.join(tempfile.mkdtemp(), "lbp.model")
    >>> args = build_parser().parse_args(["predict", "a.png", "faces/", "--model", missing, "--format", "csv"])
    >>> args.func is cmd_predict, args.paths, args.format, args.on_error, args.largest_only, args.fps
    (True, ['a.png', 'faces/'], 'csv', 'record', False, 2.0)
    >>> stderr = io.StringIO()
    >>> with contextlib.redirect_stderr(stderr):
    ...     code = cmd_predict(args)
    >>> code, stderr.getvalue().startswith("error: model file not found")
    (2, True)
    """
    from facefeat.analysis.analyze import load_pipeline
    from facefeat.modelfile import ModelFileError

    if not args.fps > 0:
        return error(f"--fps must be positive, got {args.fps:g}")
    paths, model_path = list(args.paths), args.model
    if model_path is None and len(paths) > 1 and _looks_like_model(paths[0]):
        model_path = paths.pop(0)  # the old form: facefeat predict MODEL PATH...
    try:
        pipeline = load_pipeline(model_path, trust=args.trust)  # None: the shipped model
    except (ModelFileError, FileNotFoundError) as exc:
        return error(exc)
    files = expand_paths(paths, videos=True)
    if not files:
        return error("no image or video files found in " + ", ".join(paths))
    from facefeat.analysis.video import VideoReadError
    from facefeat.images.io import ImageReadError

    records = []
    for path in files:
        try:
            records.extend(_records(path, pipeline, args))
        except (ImageReadError, VideoReadError) as exc:  # both name the file
            if args.on_error == "raise":
                return error(exc)
            records.append({"path": _shown(path), "error": str(exc)})
    write_output(args, lambda out: write_records(records, args.format, out, _csv_columns))
    report_unreadable(records)
    return exit_status(records)


def _shown(path):
    from facefeat.images.io import display_path

    # a non-UTF-8 name must not break the CSV/JSON writers; the error texts already use it
    return display_path(path)


def _records(path, pipeline, args):
    """The records of one image or video file, with its annotated picture and timeline written as asked."""
    from facefeat.analysis.analyze import analyze_video
    from facefeat.analysis.records import face_records
    from facefeat.analysis.video import is_video_file
    from facefeat.faces.align import face_size_problem
    from facefeat.images.io import ImageReadError, read_image

    shown = _shown(path)
    if is_video_file(path):
        records = analyze_video(path, pipeline, fps=args.fps, largest_only=args.largest_only,
                                progress=not args.quiet)
        records = [{"path": shown, **{k: v for k, v in r.items() if k != "source"}} for r in records]
        if args.annotate:
            _annotate_video(path, records, args)
        if args.plot:
            _plot_timeline(path, records, args.plot)
        return records
    # in colour: the face detector finds more faces in it (the aligner turns the faces gray itself)
    image = read_image(path, mode="rgb")
    problem = face_size_problem(image.shape)
    if problem:  # one thumbnail must not stop the whole run in the aligner
        raise ImageReadError(path, problem)
    records = [{"path": shown, **r} for r in face_records(image, pipeline, largest_only=args.largest_only)]
    if args.annotate:
        from facefeat.analysis.annotate import annotate_image

        _save_image(annotate_image(image, records), _out_path(args.annotate, path, "-annotated.png"))
    return records


def _out_path(folder, source, ending):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / (Path(source).stem + ending)
    n = 1
    while out.exists():  # two inputs of the same name in different folders
        n += 1
        out = folder / f"{Path(source).stem}-{n}{ending}"
    return out


def _save_image(rgb, path):
    from PIL import Image

    Image.fromarray(rgb).save(path)


def _annotate_video(path, records, args):
    from facefeat.analysis.annotate import annotate_image
    from facefeat.analysis.video import sample_frames, write_video

    by_frame = {}
    for r in records:
        by_frame.setdefault(r["frame"], []).append(r)
    frames = (annotate_image(image, by_frame.get(frame, [])) for frame, _, image in sample_frames(path, args.fps))
    out = write_video(_out_path(args.annotate, path, "-annotated.avi"), frames, args.fps)
    note(f"annotated video written to {out}")


def _plot_timeline(path, records, folder):
    from facefeat.plots import plot_timeline, save

    try:
        fig = plot_timeline(records)
    except ValueError as exc:  # a video without any face: nothing to draw, and the records say so
        note(f"no timeline for {_shown(path)}: {exc}")
        return
    save(fig, _out_path(folder, path, "-timeline.png"))


def _csv_columns(records):
    classes = sorted({c for r in records for c in (r.get("proba") or {})})
    video = any("frame" in r for r in records)
    header = (["path"] + (["frame", "time_s", "track"] if video else []) + ["face", "box_x", "box_y", "box_width",
              "box_height", "face_found", "label", "valence", "arousal", "error"] + [f"proba_{c}" for c in classes])

    def row(r):
        box = r.get("box") or [""] * 4
        proba = r.get("proba") or {}
        cells = [r["path"]] + ([_cell(r.get(k)) for k in ("frame", "time_s", "track")] if video else [])
        cells += [_cell(r.get("face")), *box] + [_cell(r.get(k)) for k in ("face_found", "label", "valence",
                                                                           "arousal", "error")]
        return cells + [proba.get(c, "") for c in classes]

    return header, row


def _cell(value):
    return "" if value is None else value
