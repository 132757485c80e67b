"""``facefeat extract``: features of a pipeline's stateless steps for every image of a folder, in chunks.

The work is done by :func:`facefeat.features.extract.extract_features`; this
command writes its result as a ``.npy`` file with a JSON sidecar.
"""

import json
import os
import warnings
from pathlib import Path

from facefeat._steps import set_everywhere, stateless_prefix
from facefeat.cli.console import default_cache_dir, load_dataset, no_cache_option, note, plural, subjects_option
from facefeat.features.extract import extract_features


__all__ = ["cmd_extract", "sidecar_path"]


def add_extract_parser(subparsers):
    """Add ``facefeat extract`` to the ``facefeat`` command's sub-parsers.

    Examples
    --------
    >>> import argparse
        >>> parser = argparse.ArgumentParser(prog="facefeat")
    >>> _ = add_extract_parser(parser.add_subparsers())
    >>> args = parser.parse_args(["extract", "faces/", "--pipeline", "lbp-linear", "--out", "lbp.npy",
    ...                           "--dtype", "float32"])
    >>> args.data_dir, args.pipeline, args.out, args.dtype, args.chunk_size
    ('faces/', 'lbp-linear', 'lbp.npy', 'float32', 256)
    >>> args.func is cmd_extract
    True
    """
    p = subparsers.add_parser(
        "extract", help="features of a pipeline's stateless steps for every image of a folder, in chunks",
        description="Compute the features of the steps of a pipeline that learn nothing (everything before the "
                    "first step that needs fitting: alignment + LBP for lbp-linear, alignment + CNN embedding for "
                    "mobilenetv2-linear) for every image of DATA_DIR, a chunk of images at a time, and write them "
                    "to a .npy file (row i = image i) with a JSON sidecar listing the paths, labels, face_found "
                    "flags and the files that could not be read (their rows are NaN).")
    p.add_argument("data_dir", help="<dir>/<class>/<image>")
    p.add_argument("--pipeline", required=True, help="a pipeline name (facefeat pipelines) or a recipe file")
    p.add_argument("--out", required=True, help="features file to write (.npy); the sidecar is the same name "
                   "with .json")
    p.add_argument("--chunk-size", type=int, default=256, help="images per chunk (default 256); memory grows "
                   "with chunk size x jobs")
    p.add_argument("--n-jobs", type=int, default=1, help="chunks processed at once (default 1; -1: one per CPU); "
                   "ignored with --dask-scheduler")
    p.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="run the chunks on a Dask cluster, e.g. tcp://scheduler:8786 (needs "
                        "pip install 'facefeat[dask]'; the image paths must be readable on every worker)")
    p.add_argument("--dtype", choices=("float32", "float64"), help="type of the saved features (default: the "
                   "extractor's own, float64 for handcrafted features, float32 for CNN embeddings)")
    subjects_option(p, "subject ids for the sidecar")
    no_cache_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_extract)
    return p


def sidecar_path(out):
    """The JSON sidecar written beside a features file.

    Examples
    --------
    >>> sidecar_path("run/features.npy").as_posix()
    'run/features.json'
    """
    return Path(out).with_suffix(".json")


def cmd_extract(args):
    """Run ``facefeat extract`` (see :func:`add_extract_parser`): a ``.npy`` file and its JSON sidecar.

    Examples
    --------
    >>> import contextlib, io, json, os, tempfile
    >>> import numpy as np
    >>> from facefeat.cli import main
    >>> from facefeat.images.synthetic import make_expressions
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> ds = make_expressions(n_subjects=1, n_per_class=1, classes=["fear", "happiness"])
    >>> for k, (img, label) in enumerate(zip(ds.images, ds.labels)):
    ...     os.makedirs(os.path.join(root, label), exist_ok=True)
    ...     Image.fromarray(img).save(os.path.join(root, label, f"{k}.png"))
    >>> out = os.path.join(root, "hog.npy")
    >>> with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    ...     code = main(["extract", root, "--pipeline", "hog-linear", "--out", out, "--no-cache", "--quiet"])
    >>> code, np.load(out).shape[0], json.load(open(sidecar_path(out)))["labels"]
    (0, 2, ['fear', 'happiness'])
    """
    from facefeat.faces.align import NoFaceWarning
    from facefeat.images.io import SkippedImagesWarning, display_path
    from facefeat.pipelines import make_pipeline

    pipe = make_pipeline(args.pipeline)  # an unknown name is refused before a large data set is read
    dataset = load_dataset(args.data_dir, args)
    k = stateless_prefix(pipe)
    if k == 0:
        raise ValueError(f"pipeline {args.pipeline!r} has no stateless steps before "
                         f"{pipe.steps[0][0]!r}: there is nothing to extract")
    steps = pipe[:k]
    set_everywhere(steps, "progress", False)  # one bar for the whole run, not one per chunk
    if not args.no_cache:
        set_everywhere(steps, "memory", str(default_cache_dir()))
    client, backend, n_jobs = None, None, args.n_jobs
    if args.dask_scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise ValueError("--dask-scheduler needs dask.distributed: pip install 'facefeat[dask]'") from None
        client, backend = Client(args.dask_scheduler), "dask"
    try:
        note(f"{len(dataset)} images of {dataset.name}; features of {' + '.join(n for n, _ in steps.steps)} "
             f"({args.pipeline}), chunks of {args.chunk_size}"
             + (f" on the Dask cluster {args.dask_scheduler}" if client else f", {n_jobs} job(s)"))
        with warnings.catch_warnings():
            # both are counted in the summary printed below
            warnings.simplefilter("ignore", NoFaceWarning)
            warnings.simplefilter("ignore", SkippedImagesWarning)
            res = extract_features(steps, dataset, chunk_size=args.chunk_size, n_jobs=n_jobs, backend=backend,
                                   out=args.out, dtype=args.dtype, progress=not args.quiet)
    finally:
        if client is not None:
            client.close()
    sidecar = {
        "pipeline": args.pipeline,
        "steps": [n for n, _ in steps.steps],
        "data_dir": display_path(os.fspath(args.data_dir)),
        "shape": list(res.features.shape),
        "dtype": str(res.features.dtype),
        "seconds": round(res.seconds, 3),
        # display_path: a non-UTF-8 file name must not break the JSON writer
        "paths": [display_path(p) for p in res.paths],
        "labels": [str(v) for v in dataset.labels],
        "groups": None if dataset.groups is None else [str(v) for v in dataset.groups],
        "split": None if dataset.split is None else [str(v) for v in dataset.split],
        "face_found": res.face_found.tolist(),
        "valid": res.valid.tolist(),
        "skipped": [{"path": display_path(p), "reason": r, "row": int(i)}
                    for (p, r), i in zip(res.skipped, res.failed_rows)],
        "not_indexed": [{"path": display_path(p), "reason": r} for p, r in dataset.skipped],
        "feature_names": None if res.feature_names is None else res.feature_names.tolist(),
    }
    side = sidecar_path(args.out)
    tmp = side.with_name(side.name + ".part")
    tmp.write_text(json.dumps(sidecar, indent=1))
    os.replace(tmp, side)
    n_ok = int(res.valid.sum())
    print(f"wrote {args.out} ({res.features.shape[0]} x {res.features.shape[1]} {res.features.dtype}) and {side}; "
          f"{n_ok} images in {res.seconds:.1f} s ({n_ok / max(res.seconds, 1e-9):.1f} images/s), "
          f"face found in {int(res.face_found.sum())}")
    if res.skipped:
        shown = "; ".join(f"{display_path(p)}: {r}" for p, r in res.skipped[:10])
        more = f"; and {len(res.skipped) - 10} more" if len(res.skipped) > 10 else ""
        note(f"could not use {plural(len(res.skipped), 'image')} (rows of NaN, listed in {side}): {shown}{more}")
    return 0
