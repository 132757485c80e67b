"""What can go wrong when reading images: one error type that names the file, and the warning for skipped files.

:class:`ImageReadError` (an :class:`OSError`) covers every problem about a
file; :func:`display_path` makes any file name printable in its message.
"""

from __future__ import annotations

import os

__all__ = ["DecompressionBombError", "ImageReadError", "SkippedImagesWarning", "display_path"]


def display_path(path):
    """Printable form of a file path, for messages, logs and JSON records.

    File names are bytes on Linux and need not be valid UTF-8; such a name
    makes ``print`` or a JSON writer fail on a UTF-8 console. Undecodable
    bytes are shown as ``\\xNN`` and control characters escaped, so the text
    is always printable and still identifies the file.

    Parameters
    ----------
    path : str, bytes or os.PathLike

    Returns
    -------
    str

    Examples
    --------
    >>> display_path(b"faces/caf\\xe9.png")
    'faces/caf\\\\xe9.png'
    >>> display_path("faces/line\\nbreak.png")
    'faces/line\\\\nbreak.png'
    """
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _name_files(items, limit=10):
    """The first ``limit`` files for a message, then how many more.

    ``items`` are paths (shown as ``'a.png'``) or ``(path, reason)`` pairs
    (shown as ``'a.png' (reason)``), e.g. ``'a.png' (no such file) and 3 more``.
    """
    def one(item):
        if isinstance(item, tuple):
            return f"'{display_path(item[0])}' ({item[1]})"
        return f"'{display_path(item)}'"

    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(one(item) for item in items[:limit]) + more


class ImageReadError(OSError):
    """An image file could not be read.

    Raised for every problem that is about the file: missing, a directory,
    empty, not an image, an unsupported format, truncated or corrupt data, or
    too many pixels (:class:`DecompressionBombError`). Being an
    :class:`OSError`, it is also caught by ``except OSError``.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file.
    reason : str
        What is wrong with it, e.g. ``"truncated JPEG data"``.

    Attributes
    ----------
    path : str
        The file, as ``os.fsdecode`` gives it (undecodable bytes are kept as
        surrogate escapes, so ``os.fsencode(err.path)`` gives back the name).
        Also available as ``filename``, like every :class:`OSError`.
    reason : str
        What is wrong with the file.
    errno : int or None
        The operating-system error number when the cause was one
        (``errno.ENOENT`` for a missing file, ...), else None.

    Examples
    --------
    A text file saved under an image name is refused with a reason:

    >>> import os, tempfile
    >>> from facefeat.images.io import ImageReadError, read_image
    >>> path = os.path.join(tempfile.mkdtemp(), "face.png")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("not pixels")
    >>> try:
    ...     read_image(path)
    ... except ImageReadError as err:
    ...     print(err.reason, "|", os.path.basename(err.path), isinstance(err, OSError))
    not an image: the file contains text | face.png True

    A missing file carries its operating-system error number:

    >>> import errno
    >>> try:
    ...     read_image(os.path.join(tempfile.mkdtemp(), "missing.png"))
    ... except ImageReadError as err:
    ...     print(err.reason, err.errno == errno.ENOENT)
    no such file True
    """

    def __init__(self, path, reason):
        self.path = os.fsdecode(os.fspath(path))
        self.reason = str(reason)
        self._message = f"cannot read image '{display_path(self.path)}': {self.reason}"
        super().__init__(self._message)
        self.filename = self.path

    def __str__(self):
        return self._message

    def _init_args(self):
        return (self.path, self.reason)

    def __reduce__(self):
        # OSError would rebuild from args=(message,); keep path/reason/errno.
        return (type(self), self._init_args(), {"errno": self.errno, **self.__dict__})


class DecompressionBombError(ImageReadError):
    """An image has more pixels than allowed (a possible decompression bomb).

    Raised before the pixel data is decoded.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file.
    reason : str
        The message detail; names the size and the limit.
    size : tuple of (int, int) or None
        ``(width, height)`` claimed by the file header, when known.
    max_pixels : int or float or None
        The limit that was exceeded.

    Examples
    --------
    A 5 x 4 image read with a limit of 10 pixels is refused before decoding:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from facefeat.images.io import DecompressionBombError, read_image
    >>> path = os.path.join(tempfile.mkdtemp(), "small.png")
    >>> Image.fromarray(np.zeros((4, 5), dtype=np.uint8)).save(path)
    >>> try:
    ...     read_image(path, max_pixels=10)
    ... except DecompressionBombError as err:
    ...     print(err.size, err.max_pixels)
    ...     print(err.reason)
    (5, 4) 10
    image is 5x4 = 20 pixels, over the limit of 10 (possible decompression bomb; allow more with max_pixels= or FACEFEAT_MAX_PIXELS)
    >>> read_image(path).shape  # the default limit is 50 million pixels
    (4, 5)
    """

    def __init__(self, path, reason, size=None, max_pixels=None):
        super().__init__(path, reason)
        self.size = None if size is None else tuple(size)
        self.max_pixels = max_pixels

    def _init_args(self):
        return (self.path, self.reason, self.size, self.max_pixels)


class SkippedImagesWarning(UserWarning):
    """Files were left out: unreadable, too small, or named off their folder's layout.

    :func:`read_images` (``on_error="skip"``) and
    :meth:`~facefeat.images.datasets.FaceDataset.read_images` warn once per
    call for the files they could not read, giving how many and naming them
    (the reasons are in :attr:`ReadResult.skipped` / ``FaceDataset.skipped``);
    :func:`~facefeat.images.datasets.load_folder` for files whose names do
    not follow the layout all the others follow.

    Examples
    --------
    >>> import os, tempfile, warnings
    >>> from facefeat.images.io import SkippedImagesWarning, read_images
    >>> missing = os.path.join(tempfile.mkdtemp(), "missing.png")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = read_images([missing], on_error="skip")
    >>> caught[0].category is SkippedImagesWarning
    True
    >>> str(caught[0].message).startswith("skipped 1 of 1 images that could not be read")
    True
    >>> result.images, result.skipped[0][1]
    ([], 'no such file')
    """
