"""What every ``facefeat`` command shares: options, the cache folder, input files, record writers, exit codes.

Messages for the user (notes, warnings, errors) go to stderr through
:func:`note`, on lines of their own even while a progress bar is drawn;
results (records, tables) go to stdout. Library modules never import this
package; the commands import what they need from the library and from here.
"""

import csv
import json
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

from facefeat._text import plural  # noqa: F401 (the commands import it from here)

#: Exit status of a command that did what it was asked.
EXIT_OK = 0
#: Exit status when some inputs could not be used (their records carry an ``error``).
EXIT_SOME_FAILED = 1
#: Exit status after ``error: ...``: bad arguments, missing files, nothing to work on.
EXIT_USAGE = 2
#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: Exit status when the reader of the output went away, e.g. ``| head`` (128 + SIGPIPE).
EXIT_OUTPUT_CLOSED = 141

#: What the exit statuses mean, for ``facefeat --help``.
EXIT_STATUS_HELP = (f"exit status: {EXIT_OK} all inputs used; {EXIT_SOME_FAILED} some inputs could not be used "
                    f"(named on stderr and in records with an 'error' key); {EXIT_USAGE} usage error or nothing "
                    f"to work on; {EXIT_INTERRUPTED} interrupted (Ctrl-C); {EXIT_OUTPUT_CLOSED} output closed "
                    "early (e.g. | head)")


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
    >>> with mock.patch.dict(os.environ, {"FACEFEAT_CACHE": "/data/cache"}):
    ...     default_cache_dir().as_posix()
    '/data/cache'
    >>> with mock.patch.dict(os.environ, {"FACEFEAT_CACHE": ""}):
    ...     default_cache_dir() == Path.home() / ".cache" / "facefeat"
    True
    """
    return Path(os.environ.get("FACEFEAT_CACHE") or Path.home() / ".cache" / "facefeat")


def subjects_option(parser, what="subject ids"):
    """Add ``--subjects RULE`` (read by :func:`subject_rule`) to an argparse parser.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> subjects_option(parser)
    >>> parser.parse_args([]).subjects, parser.parse_args(["--subjects", "none"]).subjects
    ('auto', 'none')
    """
    parser.add_argument("--subjects", default="auto", metavar="RULE",
                        help=f"{what}: 'auto' (known layouts), 'none', or a regex on the file name "
                             "whose first group is the id")


def no_cache_option(parser):
    """Add ``--no-cache`` (face detections are cached in :func:`default_cache_dir` otherwise).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> no_cache_option(parser)
    >>> parser.parse_args([]).no_cache, parser.parse_args(["--no-cache"]).no_cache
    (False, True)
    """
    parser.add_argument("--no-cache", action="store_true", help="do not cache face detections "
                        "(default cache: $FACEFEAT_CACHE or ~/.cache/facefeat)")


def subject_rule(value):
    """The ``subjects`` argument of :func:`~facefeat.images.datasets.load_folder` for ``--subjects``.

    Examples
    --------
    >>> subject_rule("auto"), subject_rule("none"), subject_rule("^(S[0-9]+)_")
    ('auto', None, '^(S[0-9]+)_')
    """
    return {"auto": "auto", "none": None}.get(value, value)


def load_dataset(data_dir, args):
    """The data set of a command's ``DATA_DIR`` with its ``--subjects`` rule.

    Examples
    --------
    >>> import argparse, os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(root, "fear"))
    >>> open(os.path.join(root, "fear", "S010_1.png"), "w").close()
    >>> ds = load_dataset(root, argparse.Namespace(subjects="^(S[0-9]+)_"))
    >>> len(ds), ds.groups.tolist()
    (1, ['S010'])
    """
    from facefeat.images.datasets import load_folder

    return load_folder(data_dir, subjects=subject_rule(args.subjects))


def expand_paths(paths, videos=False):
    """Image files named on the command line, folders searched recursively in sorted order.

    A named file is kept even when it is missing or not an image, so that it
    gets a record with its error. With ``videos``, folders give their video
    files too (:data:`facefeat.analysis.video.VIDEO_SUFFIXES`).

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("b.png", "a.jpg", "notes.txt"):
    ...     open(os.path.join(folder, name), "w").close()
    >>> [os.path.basename(p) for p in expand_paths([folder, "missing.png"])]
    ['a.jpg', 'b.png', 'missing.png']
    """
    from facefeat.analysis.video import is_video_file
    from facefeat.images.io import is_image_file

    def wanted(f):
        return f.is_file() and (is_image_file(f) or (videos and is_video_file(f) and not f.name.startswith(".")))

    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(str(f) for f in sorted(p.rglob("*")) if wanted(f))
        else:
            out.append(str(p))
    return out


def write_records(records, fmt, out, columns):
    """Write one record per input as JSON lines or CSV.

    Parameters
    ----------
    records : list of dict
    fmt : {'jsonl', 'csv'}
    out : text file
    columns : callable
        ``columns(records) -> (header, row)``, where ``row(record)`` gives
        the CSV cells of one record (JSON lines write the records as they are).

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> write_records([{"path": "a.png", "n": 3}], "csv", buf, lambda rs: (["path", "n"], lambda r: [r["path"], r["n"]]))
    >>> buf.getvalue().splitlines()
    ['path,n', 'a.png,3']
    """
    if fmt == "jsonl":
        for r in records:
            out.write(json.dumps(r) + "\n")
        return
    header, row = columns(records)
    writer = csv.writer(out)
    writer.writerow(header)
    for r in records:
        writer.writerow(row(r))


def write_output(args, write):
    """Call ``write(file)`` with ``args.output`` opened for writing, or standard output without it.

    Examples
    --------
    >>> import argparse, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> write_output(argparse.Namespace(output=path), lambda out: out.write("done"))
    >>> open(path).read()
    'done'
    """
    out = open(args.output, "w") if getattr(args, "output", None) else sys.stdout
    try:
        write(out)
    finally:
        if out is not sys.stdout:
            out.close()


def report_unreadable(records):
    """Say on stderr how many records carry an ``error`` (files that could not be read); return that count.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     n = report_unreadable([{"path": "a.png"}, {"path": "b.png", "error": "not an image"}])
    >>> n, err.getvalue().strip()
    (1, "1 of 2 files could not be read (records with an 'error' key)")
    """
    n_err = sum("error" in r for r in records)
    if n_err:
        note(f"{n_err} of {len(records)} files could not be read (records with an 'error' key)")
    return n_err


def exit_status(records):
    """:data:`EXIT_SOME_FAILED` when a record carries an ``error``, else :data:`EXIT_OK`.

    Examples
    --------
    >>> exit_status([{"path": "a.png"}]), exit_status([{"path": "a.png"}, {"path": "b.png", "error": "empty"}])
    (0, 1)
    """
    return EXIT_SOME_FAILED if any("error" in r for r in records) else EXIT_OK


def note(message):
    """Write a message for the user to stderr, on its own line even while a progress bar is drawn.

    Examples
    --------
    >>> note("left out 2 images")  # on stderr, which doctest does not compare
    """
    from tqdm.auto import tqdm

    tqdm.write(str(message), file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    note(f"warning: {message}")


@contextmanager
def user_messages():
    """Show warnings as ``warning: <message>`` lines, without Python's file, line and source, while active.

    Examples
    --------
    >>> import contextlib, io, warnings
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err), user_messages():
    ...     warnings.warn("skipped 1 file too small to hold a face: a.png", UserWarning)
    >>> err.getvalue()
    'warning: skipped 1 file too small to hold a face: a.png\\n'
    """
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


def error(message):
    """Print ``error: message`` on stderr and return :data:`EXIT_USAGE`.

    Examples
    --------
    >>> error("no image files found in faces/")  # prints the message on stderr
    2
    """
    note(f"error: {message}")
    return EXIT_USAGE

