"""``facefeat predict``: the expression of every image with a fitted model, one record each."""

import warnings

import numpy as np

from facefeat.cli.console import error, exit_status, expand_paths, report_unreadable, write_output, write_records

__all__ = ["cmd_predict"]


def add_predict_parser(subparsers):
    """Register ``facefeat predict MODEL PATH...`` on an argparse sub-parser set."""
    p = subparsers.add_parser("predict", help="predict the expression of images with a fitted model")
    p.add_argument("model")
    p.add_argument("paths", nargs="+", help="image files or folders")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                   help="one JSON object per line (default), or CSV with a proba_<class> column per class")
    p.add_argument("--output", help="write here instead of standard output")
    p.add_argument("--on-error", choices=("record", "raise"), default="record",
                   help="an unreadable file gets a record with an 'error' key (default) or stops the run")
    p.add_argument("--trust", action="store_true",
                   help="also load a file that is not a facefeat model archive (a plain pickle/joblib file, e.g. "
                        "from an older facefeat). Unpickling runs code chosen by the file's author: only for files "
                        "from people you trust. Archives are always checked against their SHA-256, but that only "
                        "detects corruption or accidental edits, not a malicious author")
    p.set_defaults(func=cmd_predict)
    return p


def cmd_predict(args):
    """``facefeat predict MODEL PATH...``: the expression of every image, one record each.

    Each record has ``path``, ``label``, ``proba`` (class -> probability)
    and ``face_found``, or ``error`` for a file that cannot be read; written
    as JSON lines or CSV to ``args.output`` or standard output.

    Exit status: 0 when every file was read; 1 when some could not be (their
    records carry an ``error``); 2 after printing ``error: ...`` when the model cannot
    be loaded, no image file was found, or a file is unreadable with ``--on-error raise``.

    Examples
    --------
    >>> import contextlib, io, os, tempfile
    >>> from facefeat.cli import build_parser
    >>> from facefeat.cli.predict import cmd_predict
    >>> missing = os.path.join(tempfile.mkdtemp(), "lbp.model")
    >>> args = build_parser().parse_args(["predict", missing, "a.png", "faces/", "--format", "csv"])
    >>> args.func is cmd_predict, args.paths, args.format, args.on_error, args.trust
    (True, ['a.png', 'faces/'], 'csv', 'record', False)
    >>> stderr = io.StringIO()
    >>> with contextlib.redirect_stderr(stderr):
    ...     code = cmd_predict(args)
    >>> code, stderr.getvalue().startswith("error: model file not found")
    (2, True)
    """
    from facefeat.faces.align import face_size_problem
    from facefeat.images.io import ImageReadError, display_path, read_image
    from facefeat.modelfile import ModelFileError, load_model

    try:
        model = load_model(args.model, trust=args.trust)
    except (ModelFileError, FileNotFoundError) as exc:
        return error(exc)
    pipe = model.pipeline
    files = expand_paths(args.paths)
    if not files:
        return error("no image files found in " + ", ".join(args.paths))
    records, images, where = [], [], []
    for path in files:
        try:
            image = read_image(path)
            problem = face_size_problem(image.shape)
            if problem:  # one thumbnail must not stop the whole run in the aligner
                raise ImageReadError(path, problem)
        except ImageReadError as exc:
            if args.on_error == "raise":
                return error(exc)
            records.append({"path": display_path(path), "error": str(exc)})
            continue
        images.append(image)
        where.append(len(records))
        # display_path: a non-UTF-8 name must not break the CSV/JSON writers; the error text already uses it
        records.append({"path": display_path(path)})
    if images:
        first = pipe.steps[0][1]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="no face detected")
            X = first.transform(images)
        proba = pipe[1:].predict_proba(X)
        classes = [str(c) for c in pipe.classes_]
        found = getattr(X, "face_found", np.ones(len(images), bool))
        for i, k in enumerate(where):
            records[k].update({
                "label": classes[int(np.argmax(proba[i]))],
                "proba": {c: round(float(p), 6) for c, p in zip(classes, proba[i])},
                "face_found": bool(found[i]),
            })
    write_output(args, lambda out: write_records(records, args.format, out, _csv_columns))
    report_unreadable(records)
    return exit_status(records)


def _csv_columns(records):
    classes = sorted({c for r in records for c in r.get("proba", {})})
    header = ["path", "label", "face_found", "error"] + [f"proba_{c}" for c in classes]
    return header, lambda r: ([r["path"], r.get("label", ""), r.get("face_found", ""), r.get("error", "")]
                              + [r.get("proba", {}).get(c, "") for c in classes])
