"""The ``facefeat`` command line."""

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np


def default_cache_dir():
    """``$FACEFEAT_CACHE``, else ``~/.cache/facefeat``.

    The folder of the on-disk face-detection cache used by the commands
    unless ``--no-cache`` (downloaded CNN weights go to its ``weights``
    sub-folder, see :func:`facefeat.deep.weights.cache_dir`).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import os
    >>> from pathlib import Path
    >>> from unittest import mock
    >>> from facefeat.cli import default_cache_dir
    >>> with mock.patch.dict(os.environ, {"FACEFEAT_CACHE": "/data/cache"}):
    ...     default_cache_dir().as_posix()
    '/data/cache'
    >>> with mock.patch.dict(os.environ, {"FACEFEAT_CACHE": ""}):
    ...     default_cache_dir() == Path.home() / ".cache" / "facefeat"
    True
    """
    return Path(os.environ.get("FACEFEAT_CACHE") or Path.home() / ".cache" / "facefeat")


def _load_dataset(data_dir, args):
    from facefeat.datasets import load_folder

    return load_folder(data_dir, subjects=_subject_rule(args.subjects))


def _subject_rule(value):
    return {"auto": "auto", "none": None}.get(value, value)


def cmd_pipelines(args):
    """``facefeat pipelines``: print every named pipeline with its description.

    Parameters
    ----------
    args : argparse.Namespace
        Unused (the command has no options).

    Returns
    -------
    int
        0.

    Examples
    --------
    >>> import contextlib, io
    >>> from facefeat.cli import build_parser, cmd_pipelines
    >>> args = build_parser().parse_args(["pipelines"])
    >>> args.func is cmd_pipelines
    True
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     code = args.func(args)
    >>> code, any(line.startswith("lbp-linear ") for line in out.getvalue().splitlines())
    (0, True)
    """
    from facefeat.pipelines import list_pipelines

    pipes = list_pipelines()
    width = max(map(len, pipes))
    for name, desc in pipes.items():
        print(f"{name:<{width}}  {desc}")
    return 0


def cmd_benchmark(args):
    """``facefeat benchmark [DATA_DIR]``: compare pipelines and write the results.

    Runs :func:`facefeat.benchmark.run_benchmark` on the folder
    ``args.data_dir`` (or, without one, on
    :func:`facefeat.synthetic.make_expressions`) with the pipelines of
    ``args.pipelines`` or ``args.suite``, prints a summary and writes the
    reports to ``args.out``.

    Parameters
    ----------
    args : argparse.Namespace
        The options of ``facefeat benchmark`` (see :func:`build_parser`).

    Returns
    -------
    int
        0.

    Examples
    --------
    The arguments it reads (a benchmark takes minutes, so it is not run here):

    >>> from facefeat.cli import build_parser, cmd_benchmark
    >>> args = build_parser().parse_args(["benchmark", "faces/", "--pipelines", "lbp-linear,hog-linear",
    ...                                   "--cv", "loso"])
    >>> args.func is cmd_benchmark, args.data_dir, args.pipelines, args.cv, args.out
    (True, 'faces/', 'lbp-linear,hog-linear', 'loso', 'facefeat-results')
    >>> args = build_parser().parse_args(["benchmark", "--suite", "seed"])
    >>> args.data_dir, args.suite, args.dedupe, args.seed
    (None, 'seed', 'group', 0)
    """
    from facefeat.benchmark import run_benchmark

    if args.data_dir is None:
        from facefeat.synthetic import make_expressions

        dataset = make_expressions(random_state=args.seed)
        print("No DATA_DIR given: running on make_expressions(), a small synthetic set made by warping one\n"
              "public-domain face. To compare pipelines on your data, run\n"
              "  facefeat benchmark path/to/faces   (one sub-folder per emotion: anger/, happiness/, ...)\n")
    else:
        dataset = _load_dataset(args.data_dir, args)
    print(dataset.describe())
    from facefeat.benchmark import suite_pipelines
    from facefeat.io import display_path

    if args.suite:
        pipelines = suite_pipelines(args.suite)
    else:
        pipelines = [p.strip() for p in args.pipelines.split(",") if p.strip()]
    out = Path(args.out)
    results = run_benchmark(dataset, pipelines, cv=args.cv, n_folds=args.folds, n_jobs=args.n_jobs,
                            seed=args.seed, cache_dir=None if args.no_cache else default_cache_dir(),
                            out_dir=out, progress=not args.quiet, dedupe=args.dedupe,
                            skip_uncached=bool(args.suite) or args.skip_uncached)
    print()
    print(f"protocol: {results['protocol']['description']}")
    print(f"duplicates: {results['protocol']['dedupe']['description']}")
    width = max(map(len, results["pipelines"]))
    for name, e in results["pipelines"].items():
        f, ci = e["folds"], e["pooled_ci"]["macro_f1"]
        print(f"  {name:<{width}} macro-F1 {f['macro_f1']['mean']:.3f} ± {f['macro_f1']['std']:.3f} "
              f"(pooled {ci['estimate']:.3f}, 95% CI {ci['low']:.3f}-{ci['high']:.3f})   "
              f"accuracy {f['accuracy']['mean']:.3f} ± {f['accuracy']['std']:.3f}")
    for sp in results["skipped_pipelines"]:
        print(f"  {sp['name']:<{width}} skipped: {sp['reason']}")
    # nothing silently dropped: unreadable files and faces aligned by the fallback are named in results.json
    skipped_files = results["dataset"]["skipped"]
    if skipped_files:
        print(f"{len(skipped_files)} files skipped while reading, e.g. {display_path(skipped_files[0]['path'])} "
              f"({skipped_files[0]['reason']}); all in results.json")
    not_found = {e["faces_not_found"]["count"]: e["faces_not_found"]["files"]
                 for e in results["pipelines"].values() if e.get("faces_not_found", {}).get("count")}
    for count, files in sorted(not_found.items()):
        print(f"no face detected in {count} of {results['protocol']['n_images_used']} images (aligned by the "
              f"fallback crop), e.g. {display_path(files[0])}; all in results.json")
    print(f"wall time {results['wall_seconds']:.1f} s; results in {out}/ (results.md, results.json, *.png)")
    return 0


def cmd_fit(args):
    """``facefeat fit DATA_DIR --pipeline NAME --out MODEL``: fit a pipeline and save it.

    Trains on the data set's ``train`` split when it has one (every image
    with ``--all``) and writes the model with
    :func:`facefeat.modelfile.save_model`. Images that cannot be read are
    left out and named on stderr.

    Parameters
    ----------
    args : argparse.Namespace
        The options of ``facefeat fit`` (see :func:`build_parser`).

    Returns
    -------
    int
        0.

    Examples
    --------
    >>> from facefeat.cli import build_parser, cmd_fit
    >>> args = build_parser().parse_args(["fit", "faces/", "--pipeline", "lbp-linear", "--out", "lbp.model"])
    >>> args.func is cmd_fit, args.data_dir, args.pipeline, args.out, args.all
    (True, 'faces/', 'lbp-linear', 'lbp.model', False)
    """
    from facefeat.io import display_path
    from facefeat.modelfile import save_model
    from facefeat.pipelines import make_pipeline

    dataset = _load_dataset(args.data_dir, args)
    if dataset.split is not None and not args.all:
        dataset = dataset.subset(np.flatnonzero(dataset.split == "train"))
        print(f"training on the 'train' split ({len(dataset)} images); --all uses every image")
    n_listed = len(dataset.skipped)
    images, dataset = dataset.read_images(on_error="skip", progress=not args.quiet)
    pipe = make_pipeline(args.pipeline)
    for step, est in pipe.steps:
        params = est.get_params(deep=False)
        if "random_state" in params:
            est.set_params(random_state=args.seed)
        if "memory" in params and not args.no_cache:
            est.set_params(memory=str(default_cache_dir()))
    pipe.fit(images, dataset.labels)
    save_model(args.out, pipe, pipeline_name=args.pipeline, classes=[str(c) for c in pipe.classes_],
               n_train=len(dataset))
    print(f"fitted {args.pipeline} on {len(dataset)} images of {dataset.name}; model written to {args.out}")
    unused = dataset.skipped[n_listed:]  # files that could not be read or were too small
    if unused:
        shown = "; ".join(f"{display_path(p)}: {why}" for p, why in unused[:10])
        more = f"; and {len(unused) - 10} more" if len(unused) > 10 else ""
        print(f"left out {len(unused)} images: {shown}{more}", file=sys.stderr)
    return 0


def _expand(paths):
    from facefeat.io import is_image_file

    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(str(f) for f in sorted(p.rglob("*")) if f.is_file() and is_image_file(f))
        else:
            out.append(str(p))  # unreadable or missing files get an error record
    return out


def cmd_predict(args):
    """``facefeat predict MODEL PATH...``: the expression of every image, one record each.

    Each record has ``path``, ``label``, ``proba`` (class -> probability)
    and ``face_found``, or ``error`` for a file that cannot be read; written
    as JSON lines or CSV to ``args.output`` or standard output.

    Parameters
    ----------
    args : argparse.Namespace
        The options of ``facefeat predict`` (see :func:`build_parser`).

    Returns
    -------
    int
        0; 2 after printing ``error: ...`` when the model cannot be loaded,
        no image file was found, or a file is unreadable with
        ``--on-error raise``.

    Examples
    --------
    >>> import contextlib, io, os, tempfile
    >>> from facefeat.cli import build_parser, cmd_predict
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
    from facefeat.align import face_size_problem
    from facefeat.io import ImageReadError, display_path, read_image
    from facefeat.modelfile import ModelFileError, load_model

    try:
        model = load_model(args.model, trust=args.trust)
    except (ModelFileError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pipe = model.pipeline
    files = _expand(args.paths)
    if not files:
        print("error: no image files found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    records, images, where = [], [], []
    for path in files:
        try:
            image = read_image(path)
            problem = face_size_problem(image.shape)
            if problem:  # one thumbnail must not stop the whole run in the aligner
                raise ImageReadError(path, problem)
        except ImageReadError as exc:
            if args.on_error == "raise":
                print(f"error: {exc}", file=sys.stderr)
                return 2
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
    out = open(args.output, "w") if args.output else sys.stdout
    try:
        _write_records(records, args.format, out)
    finally:
        if args.output:
            out.close()
    n_err = sum("error" in r for r in records)
    if n_err:
        print(f"{n_err} of {len(records)} files could not be read (records with an 'error' key)", file=sys.stderr)
    return 0


def _write_records(records, fmt, out):
    if fmt == "jsonl":
        for r in records:
            out.write(json.dumps(r) + "\n")
        return
    import csv

    classes = sorted({c for r in records for c in r.get("proba", {})})
    writer = csv.writer(out)
    writer.writerow(["path", "label", "face_found", "error"] + [f"proba_{c}" for c in classes])
    for r in records:
        writer.writerow([r["path"], r.get("label", ""), r.get("face_found", ""), r.get("error", "")]
                        + [r.get("proba", {}).get(c, "") for c in classes])


def build_parser():
    """The ``facefeat`` argument parser with all its sub-commands.

    ``benchmark``, ``fit``, ``predict`` and ``pipelines`` are defined here;
    ``audit``, ``asm``, ``landmarks``, ``landmarks-eval``, ``visualize`` and
    ``extract`` are added by their modules. Every sub-command sets ``func``,
    the function that runs it with the parsed arguments.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> from facefeat.cli import build_parser, cmd_fit
    >>> parser = build_parser()
    >>> parser.prog
    'facefeat'
    >>> args = parser.parse_args(["fit", "faces/", "--pipeline", "hog-linear", "--out", "hog.model",
    ...                           "--subjects", "none", "--seed", "3"])
    >>> args.command, args.func is cmd_fit, args.subjects, args.seed, args.no_cache
    ('fit', True, 'none', 3, False)
    >>> parser.parse_args(["extract", "faces/", "--pipeline", "lbp-linear", "--out", "f.npy"]).func.__name__
    'cmd_extract'
    """
    from facefeat.benchmark import DEFAULT_PIPELINES, SUITES
    from facefeat.evaluation import CV_CHOICES

    parser = argparse.ArgumentParser(prog="facefeat", description="Facial expression recognition: compare "
                                     "feature pipelines on your face images, then use the winner.")
    from facefeat import __version__

    parser.add_argument("--version", action="version", version=f"facefeat {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_options(p):
        p.add_argument("--subjects", default="auto", metavar="RULE",
                       help="subject ids: 'auto' (known layouts), 'none', or a regex on the file name "
                            "whose first group is the id")
        p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        p.add_argument("--no-cache", action="store_true", help="do not cache face detections "
                       "(default cache: $FACEFEAT_CACHE or ~/.cache/facefeat)")
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = sub.add_parser("benchmark", help="compare pipelines on a data set, subject-independently")
    p.add_argument("data_dir", nargs="?", help="<dir>/<class>/<image>; omitted: the synthetic demo set")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--pipelines", default=",".join(DEFAULT_PIPELINES),
                       help=f"comma-separated names or recipe files (default {','.join(DEFAULT_PIPELINES)})")
    which.add_argument("--suite", choices=sorted(SUITES),
                       help="a named set of pipelines: 'seed' (the seed study's systems beside facefeat's), "
                            "'all' (every built-in pipeline); pipelines whose weights are not cached are skipped")
    p.add_argument("--skip-uncached", action="store_true",
                   help="skip pipelines whose pretrained weights would have to be downloaded (listed in results)")
    p.add_argument("--cv", choices=CV_CHOICES, default="auto")
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--out", default="facefeat-results", help="output folder (default ./facefeat-results)")
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--dedupe", choices=("group", "drop", "off"), default="group",
                   help="pixel-identical images: keep each group in one fold (default), keep one per group, or "
                        "leave them; conflicting-label groups and training copies of test images are removed "
                        "unless 'off'")
    data_options(p)
    p.set_defaults(func=cmd_benchmark)

    p = sub.add_parser("fit", help="fit a pipeline on a data set and save the model")
    p.add_argument("data_dir")
    p.add_argument("--pipeline", required=True)
    p.add_argument("--out", required=True, help="model file to write: a ZIP with manifest.json (versions, classes, "
                   "SHA-256) and the joblib-pickled pipeline")
    p.add_argument("--all", action="store_true", help="use every image, not only the 'train' split")
    data_options(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("predict", help="predict the expression of images with a fitted model")
    p.add_argument("model")
    p.add_argument("paths", nargs="+", help="image files or folders")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p.add_argument("--output", help="write here instead of standard output")
    p.add_argument("--on-error", choices=("record", "raise"), default="record",
                   help="an unreadable file gets a record with an 'error' key (default) or stops the run")
    p.add_argument("--trust", action="store_true",
                   help="also load a file that is not a facefeat model archive (a plain pickle/joblib file, e.g. "
                        "from an older facefeat). Unpickling runs code chosen by the file's author: only for files "
                        "from people you trust. Archives are always checked against their SHA-256, but that only "
                        "detects corruption or accidental edits, not a malicious author")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("pipelines", help="list the named pipelines")
    p.set_defaults(func=cmd_pipelines)

    from facefeat.audit import add_audit_parser
    from facefeat.extract import add_extract_parser
    from facefeat.shape.cli import add_asm_parser, add_landmarks_parsers
    from facefeat.visualize import add_visualize_parser

    add_audit_parser(sub)
    add_asm_parser(sub)
    add_landmarks_parsers(sub)
    add_visualize_parser(sub)
    add_extract_parser(sub)
    return parser


def main(argv=None):
    """Run the ``facefeat`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code of the sub-command; 2 after printing ``error: ...``
        for a ``FileNotFoundError`` or ``ValueError`` (a missing folder, an
        unknown pipeline, ...).

    Examples
    --------
    >>> import contextlib, io, os, tempfile
    >>> from facefeat.cli import main
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     code = main(["pipelines"])
    >>> code, "hog-linear" in out.getvalue()
    (0, True)
    >>> missing = os.path.join(tempfile.mkdtemp(), "faces")
    >>> stderr = io.StringIO()
    >>> with contextlib.redirect_stderr(stderr):
    ...     code = main(["fit", missing, "--pipeline", "lbp-linear", "--out", "lbp.model"])
    >>> code, stderr.getvalue().startswith("error: dataset folder not found")
    (2, True)
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
