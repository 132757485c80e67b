"""``facefeat benchmark``: compare pipelines on a data set, subject-independently, and write the results."""

from pathlib import Path

from facefeat.cli.console import default_cache_dir, load_dataset, no_cache_option, note, plural, subjects_option

__all__ = ["cmd_benchmark"]


def add_benchmark_parser(subparsers):
    """Register ``facefeat benchmark [DATA_DIR]`` on an argparse sub-parser set."""
    from facefeat.evaluation.benchmark import DEFAULT_PIPELINES, SUITES
    from facefeat.evaluation.folds import CV_CHOICES

    p = subparsers.add_parser("benchmark", help="compare pipelines on a data set, subject-independently")
    p.add_argument("data_dir", nargs="?", help="<dir>/<class>/<image>; omitted: the synthetic demo set")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--pipelines", default=",".join(DEFAULT_PIPELINES),
                       help=f"comma-separated names or recipe files (default {','.join(DEFAULT_PIPELINES)})")
    which.add_argument("--suite", choices=sorted(SUITES),
                       help="a named set of pipelines: 'seed' (the seed study's systems beside facefeat's), "
                            "'all' (every built-in pipeline); pipelines whose weights are not cached are skipped")
    p.add_argument("--skip-uncached", action="store_true",
                   help="skip pipelines whose pretrained weights would have to be downloaded (listed in results)")
    p.add_argument("--cv", choices=CV_CHOICES, default="auto",
                   help="evaluation protocol: 'auto' (the data set's own train/test split when it has one, "
                        "leave-one-subject-out up to 15 subjects, else k folds grouped by subject), 'kfold', 'loso' "
                        "or 'split' (default auto)")
    p.add_argument("--folds", type=int, default=10, help="number of folds for k-fold protocols (default 10)")
    p.add_argument("--out", default="facefeat-results", help="output folder (default ./facefeat-results)")
    p.add_argument("--n-jobs", type=int, default=1,
                   help="folds run in parallel processes (default 1; -1: one per CPU); with a single fold the "
                        "estimators use them instead")
    p.add_argument("--dedupe", choices=("group", "drop", "off"), default="group",
                   help="pixel-identical images: keep each group in one fold (default), keep one per group, or "
                        "leave them; conflicting-label groups and training copies of test images are removed "
                        "unless 'off'")
    p.add_argument("--save-models", metavar="DIR",
                   help="with one train/test split (e.g. FER2013's Training -> PublicTest), also write each "
                        "pipeline's fitted model, the one scored, to DIR/<name>.model")
    data_options(p)
    p.set_defaults(func=cmd_benchmark, on_interrupt=_resume_hint)
    return p


def _resume_hint(args):
    if args.no_cache:
        return "with --no-cache nothing was kept: the next run starts over"
    return (f"finished folds are kept in {default_cache_dir() / 'benchmark'}: run the same command again to "
            "resume from them")


def data_options(p):
    """The options of every command that reads a data set: ``--subjects``, ``--seed``, ``--no-cache``, ``--quiet``."""
    subjects_option(p)
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    no_cache_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def cmd_benchmark(args):
    """``facefeat benchmark [DATA_DIR]``: compare pipelines and write the results.

    Runs :func:`facefeat.evaluation.benchmark.run_benchmark` on the folder
    ``args.data_dir`` (or, without one, on
    :func:`facefeat.images.synthetic.make_expressions`) with the pipelines of
    ``args.pipelines`` or ``args.suite``, prints a summary and writes the
    reports to ``args.out``. ``args`` holds the options of
    :func:`add_benchmark_parser`; the exit status is 0.

    Examples
    --------
    The arguments it reads (a benchmark takes minutes, so it is not run here):

    >>> from facefeat.cli import build_parser
    >>> from facefeat.cli.benchmark import cmd_benchmark
    >>> args = build_parser().parse_args(["benchmark", "faces/", "--pipelines", "lbp-linear,hog-linear",
    ...                                   "--cv", "loso"])
    >>> args.func is cmd_benchmark, args.data_dir, args.pipelines, args.cv, args.out
    (True, 'faces/', 'lbp-linear,hog-linear', 'loso', 'facefeat-results')
    >>> args = build_parser().parse_args(["benchmark", "--suite", "seed"])
    >>> args.data_dir, args.suite, args.dedupe, args.seed
    (None, 'seed', 'group', 0)
    """
    from facefeat.evaluation.benchmark import run_benchmark

    from facefeat.evaluation.benchmark import suite_pipelines
    from facefeat.evaluation.report import cached_folds_note
    from facefeat.images.io import display_path
    from facefeat.pipelines import load_recipe

    if args.suite:
        pipelines = suite_pipelines(args.suite)
    else:
        pipelines = [p.strip() for p in args.pipelines.split(",") if p.strip()]
        for name in pipelines:  # an unknown name is refused before a large data set is read
            load_recipe(name)
    if args.data_dir is None:
        from facefeat.images.synthetic import make_expressions

        dataset = make_expressions(random_state=args.seed)
        print("No DATA_DIR given: running on make_expressions(), a small synthetic set made by warping one\n"
              "public-domain face. To compare pipelines on your data, run\n"
              "  facefeat benchmark path/to/faces   (one sub-folder per emotion: anger/, happiness/, ...)\n")
    else:
        dataset = load_dataset(args.data_dir, args)
    print(dataset.describe())
    out = Path(args.out)
    results = run_benchmark(dataset, pipelines, cv=args.cv, n_folds=args.folds, n_jobs=args.n_jobs,
                            seed=args.seed, cache_dir=None if args.no_cache else default_cache_dir(),
                            out_dir=out, progress=not args.quiet, dedupe=args.dedupe,
                            skip_uncached=bool(args.suite) or args.skip_uncached, save_models=args.save_models)
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
    for name, e in results["pipelines"].items():  # a wall time of 0 s must not pass for a measurement
        cached = cached_folds_note(name, e, results["protocol"]["n_folds"])
        if cached:
            note(cached)
    # nothing silently dropped: unreadable files and faces aligned by the fallback are named in results.json
    skipped_files = results["dataset"]["skipped"]
    if skipped_files:
        print(f"{plural(len(skipped_files), 'file')} skipped while reading, e.g. {display_path(skipped_files[0]['path'])} "
              f"({skipped_files[0]['reason']}); all in results.json")
    not_found = {e["faces_not_found"]["count"]: e["faces_not_found"]["files"]
                 for e in results["pipelines"].values() if e.get("faces_not_found", {}).get("count")}
    for count, files in sorted(not_found.items()):
        print(f"no face detected in {count} of {results['protocol']['n_images_used']} images (aligned by the "
              f"fallback crop), e.g. {display_path(files[0])}; all in results.json")
    for name, e in results["pipelines"].items():
        if "model_file" in e:
            print(f"{name}: fitted model written to {e['model_file']}")
    print(f"wall time {results['wall_seconds']:.1f} s; results in {out}/ (results.md, results.json, *.png)")
    return 0
