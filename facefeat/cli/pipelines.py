"""``facefeat pipelines``: the named pipelines."""

__all__ = ["cmd_pipelines"]


def add_pipelines_parser(subparsers):
    """Register ``facefeat pipelines`` on an argparse sub-parser set."""
    p = subparsers.add_parser("pipelines", help="list the named pipelines")
    p.set_defaults(func=cmd_pipelines)
    return p


def cmd_pipelines(args):
    """``facefeat pipelines``: print every named pipeline with its description.

    ``args`` is unused (the command has no options); the exit status is 0.

    Examples
    --------
    >>> import contextlib, io
    >>> from facefeat.cli import build_parser
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
