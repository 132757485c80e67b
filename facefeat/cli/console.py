"""What every ``facefeat`` command shares: options, the cache folder, input files, record writers, exit codes.

Library modules never import this package; the commands import what they
need from the library and from here.
"""

import csv
import json
import os
import sys
from pathlib import Path

#: Exit status of a command that did what it was asked.
EXIT_OK = 0
#: Exit status after ``error: ...``: bad arguments, missing files, nothing to work on.
EXIT_USAGE = 2


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


def expand_paths(paths):
    """Image files named on the command line, folders searched recursively in sorted order.

    A named file is kept even when it is missing or not an image, so that it
    gets a record with its error.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("b.png", "a.jpg", "notes.txt"):
    ...     open(os.path.join(folder, name), "w").close()
    >>> [os.path.basename(p) for p in expand_paths([folder, "missing.png"])]
    ['a.jpg', 'b.png', 'missing.png']
    """
    from facefeat.images.io import is_image_file

    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(str(f) for f in sorted(p.rglob("*")) if f.is_file() and is_image_file(f))
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
    """Say on stderr how many records carry an ``error`` (files that could not be read).

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     report_unreadable([{"path": "a.png"}, {"path": "b.png", "error": "not an image"}])
    >>> err.getvalue().strip()
    "1 of 2 files could not be read (records with an 'error' key)"
    """
    n_err = sum("error" in r for r in records)
    if n_err:
        print(f"{n_err} of {len(records)} files could not be read (records with an 'error' key)", file=sys.stderr)


def error(message):
    """Print ``error: message`` on stderr and return :data:`EXIT_USAGE`.

    Examples
    --------
    >>> error("no image files found in faces/")  # prints the message on stderr
    2
    """
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE

