"""Read and write landmark files in the 300-W ``.pts`` format.

The format (used by iBUG for 300-W, LFPW, HELEN, AFW, iBUG and by the IMM
and XM2VTS markups) is a small text file::

    version: 1
    n_points:  68
    {
    43.667 73.961
    ...
    }

Coordinates on disk are **1-based** (the centre of the top-left pixel is
``(1, 1)``, the Matlab convention of the annotation tools). In memory
facefeat uses 0-based ``(x, y)`` pixel coordinates, so :func:`read_pts`
subtracts 1 and :func:`write_pts` adds 1.
"""

import os
from pathlib import Path

import numpy as np

__all__ = ["read_pts", "write_pts", "find_pts_pairs", "PtsFormatError"]


class PtsFormatError(ValueError):
    """A ``.pts`` file is not in the expected format; the message names the file.

    Raised by :func:`read_pts`. A ``ValueError``, so ``except ValueError``
    catches it too.

    Examples
    --------
    A header that promises two points where only one follows:

    >>> import os, tempfile
    >>> from facefeat.shape.pts import PtsFormatError, read_pts
    >>> path = os.path.join(tempfile.mkdtemp(), "face.pts")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("version: 1\\nn_points: 2\\n{\\n1 1\\n}\\n")
    >>> try:
    ...     read_pts(path)
    ... except PtsFormatError as err:
    ...     print(str(err).replace(path, "face.pts"))
    face.pts: header says n_points 2 but 1 points follow
    """


def read_pts(path, *, one_based=True):
    """Read a ``.pts`` landmark file.

    Parameters
    ----------
    path : str or path-like
        The file.
    one_based : bool, default=True
        The file uses the 300-W convention (1-based); 1 is subtracted so that the
        result is 0-based. ``False`` reads the numbers as they are.

    Returns
    -------
    shape : ndarray of shape (n_points, 2), float64
        ``(x, y)`` per landmark, 0-based pixel coordinates.

    Raises
    ------
    PtsFormatError
        Missing braces, a line that is not two numbers, non-finite values, or a
        point count that differs from the ``n_points`` header.
    FileNotFoundError
        The file does not exist.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "a.pts")
    ...     _ = open(p, "w").write("version: 1\\nn_points: 2\\n{\\n1 1\\n10.5 20\\n}\\n")
    ...     read_pts(p).tolist()
    [[0.0, 0.0], [9.5, 19.0]]
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    header, points, state = {}, [], "header"
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if state == "header":
            if line == "{":
                state = "points"
            elif ":" in line:
                key, value = line.split(":", 1)
                header[key.strip().lower()] = value.strip()
            else:
                raise PtsFormatError(f"{path}: line {lineno}: expected 'key: value' or '{{', got {raw!r}")
        elif state == "points":
            if line == "}":
                state = "done"
                continue
            parts = line.split()
            try:
                xy = [float(v) for v in parts]
            except ValueError:
                xy = []
            if len(xy) != 2:
                raise PtsFormatError(f"{path}: line {lineno}: expected two numbers 'x y', got {raw!r}")
            points.append(xy)
        else:
            raise PtsFormatError(f"{path}: line {lineno}: text after the closing brace: {raw!r}")
    if state != "done":
        raise PtsFormatError(f"{path}: no point block in braces {{ ... }}")
    shape = np.asarray(points, dtype=float).reshape(-1, 2)
    if not np.isfinite(shape).all():
        raise PtsFormatError(f"{path}: non-finite coordinates")
    if "n_points" in header:
        try:
            n = int(header["n_points"])
        except ValueError:
            raise PtsFormatError(f"{path}: n_points is not an integer: {header['n_points']!r}") from None
        if n != len(shape):
            raise PtsFormatError(f"{path}: header says n_points {n} but {len(shape)} points follow")
    return shape - 1.0 if one_based else shape


def write_pts(path, shape, *, one_based=True, decimals=3):
    """Write landmarks as a 300-W ``.pts`` file.

    Parameters
    ----------
    path : str or path-like
        Where to write (overwritten).
    shape : array_like of shape (n_points, 2)
        0-based ``(x, y)`` landmarks.
    one_based : bool, default=True
        Add 1 to every coordinate (the 300-W convention on disk).
    decimals : int, default=3
        Digits after the decimal point.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> s = np.array([[0.0, 0.0], [9.5, 19.0]])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "a.pts")
    ...     write_pts(p, s)
    ...     print(open(p).read().splitlines()[3])
    ...     bool(np.allclose(read_pts(p), s))
    1.000 1.000
    True
    """
    shape = np.asarray(shape, dtype=float)
    if shape.ndim != 2 or shape.shape[1] != 2:
        raise ValueError(f"expected landmarks of shape (n_points, 2), got {shape.shape}")
    if not np.isfinite(shape).all():
        raise ValueError("landmarks contain NaN or infinite values")
    out = shape + 1.0 if one_based else shape
    lines = ["version: 1", f"n_points:  {len(out)}", "{"]
    lines += [f"{x:.{decimals}f} {y:.{decimals}f}" for x, y in out]
    lines.append("}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def find_pts_pairs(paths):
    """Image files that have a ``.pts`` file of the same stem beside them.

    Parameters
    ----------
    paths : str, path-like, or sequence of them
        Folders (searched recursively) and/or image files.

    Returns
    -------
    pairs : list of (str, str)
        ``(image_path, pts_path)``, sorted by image path within each folder,
        in the order the arguments were given. Images without a ``.pts`` are
        left out.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("a.jpg", "a.pts", "b.png"):
    ...         _ = open(os.path.join(tmp, name), "w").write("x")
    ...     [os.path.basename(i) for i, _ in find_pts_pairs(tmp)]
    ['a.jpg']
    """
    from facefeat.images.io import is_image_file

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    pairs = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and is_image_file(f))
        elif p.exists():
            files = [p]
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")
        for f in files:
            pts = f.with_suffix(".pts")
            if pts.is_file():
                pairs.append((str(f), str(pts)))
    return pairs
