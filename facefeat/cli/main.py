"""The ``facefeat`` command: the parser assembled from one module per command, and :func:`main`."""

import argparse
import os
import sys

from facefeat.cli import asm, audit, benchmark, extract, fit, landmarks, pipelines, predict, visualize
from facefeat.cli.console import (
    EXIT_INTERRUPTED,
    EXIT_OUTPUT_CLOSED,
    EXIT_STATUS_HELP,
    error,
    note,
    user_messages,
)

# (module, the function that adds its sub-parser(s)), in the order ``facefeat --help`` lists them
_COMMANDS = (
    (benchmark, "add_benchmark_parser"),
    (fit, "add_fit_parser"),
    (predict, "add_predict_parser"),
    (pipelines, "add_pipelines_parser"),
    (audit, "add_audit_parser"),
    (asm, "add_asm_parser"),
    (landmarks, "add_landmarks_parsers"),
    (visualize, "add_visualize_parser"),
    (extract, "add_extract_parser"),
)


def build_parser():
    """The ``facefeat`` argument parser with all its sub-commands.

    Each command lives in its own module of :mod:`facefeat.cli`, which adds
    its sub-parser; every sub-command sets ``func``, the function that runs
    it with the parsed arguments and returns the exit status.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> from facefeat.cli.fit import cmd_fit
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
    from facefeat import __version__

    parser = argparse.ArgumentParser(prog="facefeat", description="Facial expression recognition: compare "
                                     "feature pipelines on your face images, then use the winner.",
                                     epilog=EXIT_STATUS_HELP)
    parser.add_argument("--version", action="version", version=f"facefeat {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module, adder in _COMMANDS:
        getattr(module, adder)(sub)
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
        The exit status of the sub-command (see
        :data:`~facefeat.cli.console.EXIT_STATUS_HELP`): 2 after printing
        ``error: ...`` for a ``FileNotFoundError`` or ``ValueError`` (a
        missing folder, an unknown pipeline, ...), 130 after Ctrl-C (with a
        line saying how to resume, where the command can), 141 when the
        reader of the output went away (``| head``), without a traceback.

    Notes
    -----
    Warnings raised while a command runs are shown as ``warning: ...``
    lines (see :func:`~facefeat.cli.console.user_messages`).

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
    with user_messages():
        try:
            status = args.func(args)
            sys.stdout.flush()  # a closed pipe shows here, not in Python's own flush at exit
            return status
        except (FileNotFoundError, ValueError) as exc:
            return error(exc)
        except KeyboardInterrupt:
            hint = getattr(args, "on_interrupt", None)
            note("interrupted" + (f"; {hint(args)}" if hint else ""))
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            _silence_stdout()
            return EXIT_OUTPUT_CLOSED


def _silence_stdout():
    # Python flushes stdout again at exit: point it at the null device, or the closed pipe raises there
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # stdout replaced by an object without a descriptor
        pass

