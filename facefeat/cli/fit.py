"""``facefeat fit``: fit a named pipeline on a data set and save the model."""

import numpy as np

from facefeat.cli.benchmark import data_options
from facefeat.cli.console import EXIT_OK, EXIT_SOME_FAILED, default_cache_dir, load_dataset, note, plural

__all__ = ["cmd_fit"]


def add_fit_parser(subparsers):
    """Register ``facefeat fit DATA_DIR --pipeline NAME --out MODEL`` on an argparse sub-parser set."""
    p = subparsers.add_parser("fit", help="fit a pipeline on a data set and save the model")
    p.add_argument("data_dir")
    p.add_argument("--pipeline", required=True, metavar="NAME",
                   help="a named pipeline (see facefeat pipelines) or a recipe file (.toml)")
    p.add_argument("--out", required=True, help="model file to write: a ZIP with manifest.json (versions, classes, "
                   "SHA-256) and the joblib-pickled pipeline")
    p.add_argument("--all", action="store_true", help="use every image, not only the 'train' split")
    data_options(p)
    p.set_defaults(func=cmd_fit)
    return p


def cmd_fit(args):
    """``facefeat fit DATA_DIR --pipeline NAME --out MODEL``: fit a pipeline and save it.

    Trains on the data set's ``train`` split when it has one (every image
    with ``--all``) and writes the model with
    :func:`facefeat.modelfile.save_model`. Images that cannot be read are
    left out and named on stderr. ``args`` holds the options of
    :func:`add_fit_parser`; the exit status is 0, or 1 when images were left out.

    Examples
    --------
    >>> from facefeat.cli import build_parser
    >>> from facefeat.cli.fit import cmd_fit
    >>> args = build_parser().parse_args(["fit", "faces/", "--pipeline", "lbp-linear", "--out", "lbp.model"])
    >>> args.func is cmd_fit, args.data_dir, args.pipeline, args.out, args.all
    (True, 'faces/', 'lbp-linear', 'lbp.model', False)
    """
    import joblib
    from sklearn.preprocessing import StandardScaler

    from facefeat._steps import detach_from_machine, groups_fit_params, set_checkpoints

    from facefeat.images.io import display_path
    from facefeat.modelfile import save_model
    from facefeat.pipelines import make_pipeline

    pipe = make_pipeline(args.pipeline)  # an unknown name is refused before a large data set is read
    dataset = load_dataset(args.data_dir, args)
    if dataset.split is not None and not args.all:
        dataset = dataset.subset(np.flatnonzero(dataset.split == "train"))
        print(f"training on the 'train' split ({len(dataset)} images); --all uses every image")
    n_listed = len(dataset.skipped)
    images, dataset = dataset.read_images(on_error="skip", progress=not args.quiet)
    in_place = []
    for step, est in pipe.steps:
        params = est.get_params(deep=False)
        if "random_state" in params:
            est.set_params(random_state=args.seed)
        if "memory" in params and not args.no_cache:
            est.set_params(memory=str(default_cache_dir()))
        if isinstance(est, StandardScaler) and est.copy:
            in_place.append(est)
    # The features made here are used once, so the scalers may standardise them in
    # place rather than next to a copy (633 MiB for FER2013's LBP). Same figures;
    # the saved model copies again, as a user fitting it on their own matrix expects.
    for est in in_place:
        est.set_params(copy=False)
    checkpoints = []
    if not args.no_cache:
        # a killed fit of a CNN, run again on the same data, resumes from its last finished epoch
        run = joblib.hash((pipe, [str(p) for p in dataset.paths or []], np.asarray(dataset.labels).tolist()))
        checkpoints = set_checkpoints(pipe, default_cache_dir() / "fit" / run)
    # subject ids keep a CNN's validation faces apart from its training subjects, as in the benchmark
    pipe.fit(images, dataset.labels, **groups_fit_params(pipe, dataset.groups))
    for path in checkpoints:
        path.unlink(missing_ok=True)
    detach_from_machine(pipe)  # the saved model names no file of this machine's cache
    for est in in_place:
        est.set_params(copy=True)
    save_model(args.out, pipe, pipeline_name=args.pipeline, classes=[str(c) for c in pipe.classes_],
               n_train=len(dataset))
    print(f"fitted {args.pipeline} on {len(dataset)} images of {dataset.name}; model written to {args.out}")
    unused = dataset.skipped[n_listed:]  # files that could not be read or were too small
    if unused:
        shown = "; ".join(f"{display_path(p)}: {why}" for p, why in unused[:10])
        more = f"; and {len(unused) - 10} more" if len(unused) > 10 else ""
        note(f"left out {plural(len(unused), 'image')}: {shown}{more}")
        return EXIT_SOME_FAILED
    return EXIT_OK
