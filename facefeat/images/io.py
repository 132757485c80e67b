"""Robust image reading: one error type, a pixel cap, and predictable pixels.

Pillow is the decoder. Every problem that is about a file -- it does not
exist, is a directory, is empty, is not an image, is truncated or corrupt, or
is too large -- is raised as :class:`ImageReadError` (a subclass of
:class:`OSError`) whose message names the file, so callers catch one type.
Invalid *arguments* (an unknown ``mode``, a non-positive ``max_pixels``, a path
that is not str/bytes/os.PathLike) raise ``ValueError``/``TypeError`` as usual.

Pixel policy
------------
The result is always ``uint8``: ``(h, w)`` for ``mode="gray"`` and
``(h, w, 3)`` for ``mode="rgb"``.

* **Formats.** PNG, JPEG (including CMYK and camera MPO files), TIFF
  (including palette mode ``'P'`` as used by JAFFE), GIF and WebP (first
  frame), BMP, and PGM/PPM/PBM/PNM. Only these Pillow plugins are tried;
  other formats (EPS, which would run Ghostscript, ICO, ...) are refused as
  unsupported.
* **Orientation.** The EXIF orientation tag is applied
  (:func:`PIL.ImageOps.exif_transpose`), so the array is the image as a
  viewer shows it. If the EXIF block is too corrupt to apply, the stored
  orientation is kept and a ``UserWarning`` names the file.
* **Gray.** Colour is converted to gray with Pillow's ``"L"`` conversion,
  ITU-R 601-2 luma: ``L = R * 299/1000 + G * 587/1000 + B * 114/1000``.
* **Transparency.** Images with an alpha channel (RGBA, LA, PA, premultiplied
  RGBa/La) or a transparency key (palette, gray or RGB images with a ``tRNS``
  chunk, transparent GIFs) are alpha-composited onto **white** before any
  other conversion, so transparent background becomes 255.
* **Bit depth.** 16-bit images (modes ``I;16``, ``I;16B``, ...) are mapped to
  8 bit by ``round(v / 257)``, which sends 0 -> 0 and 65535 -> 255 exactly
  (never clipped). 32-bit integer images (mode ``I``, e.g. 16-bit PNG/PGM in
  some Pillow versions) whose values all lie in ``[0, 65535]`` are treated as
  16 bit the same way; otherwise, and for 32-bit float images (mode ``F``),
  the actual finite range ``[min, max]`` of the image is stretched linearly to
  ``[0, 255]`` (a constant image becomes 0; NaN becomes 0, +inf 255, -inf 0).
  16-bit RGB(A) files are reduced to 8 bit by Pillow itself when decoding.
* **1-bit** images become 0/255.

Size limit
----------
A file whose header claims more than ``max_pixels`` pixels (width * height)
is refused with :class:`DecompressionBombError` *before* any pixel data is
decoded -- :func:`PIL.Image.open` only reads the header. The limit is, in
order of precedence, the ``max_pixels=`` argument, the environment variable
``FACEFEAT_MAX_PIXELS`` (read at every call), or :data:`DEFAULT_MAX_PIXELS`.
``math.inf`` switches this check off. Pillow's own global guard
(:data:`PIL.Image.MAX_IMAGE_PIXELS`) still applies on top: its
``DecompressionBombWarning`` is silenced (our check replaces it) and its
``DecompressionBombError`` is re-raised as our :class:`DecompressionBombError`.

Truncated files are errors: this module never sets
``PIL.ImageFile.LOAD_TRUNCATED_IMAGES``; if *you* set it globally, Pillow
pads truncated images and they are read without error.

Thread safety: reading is safe from several threads, except that silencing
Pillow's bomb warning uses :class:`warnings.catch_warnings`, which on Python
< 3.14 swaps the process-wide warning filters.
"""

from __future__ import annotations

import errno as _errno
import math
import numbers
import os
import stat
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facefeat.images.errors import (
    DecompressionBombError,
    ImageReadError,
    SkippedImagesWarning,
    _name_files,
    display_path,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "DecompressionBombError",
    "ImageReadError",
    "ReadResult",
    "SkippedImagesWarning",
    "display_path",
    "is_image_file",
    "read_image",
    "read_images",
]

#: Default pixel cap (width * height) for one image: 50 megapixels, about
#: 7071 x 7071, 150 MB as RGB. Far above any face data set and far below what
#: a decompression bomb asks for. Override per call with ``max_pixels=`` or
#: for the process with the environment variable ``FACEFEAT_MAX_PIXELS``.
DEFAULT_MAX_PIXELS = 50_000_000

#: Lower-case file name extensions (with the dot) that :func:`is_image_file`
#: recognises as images.
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp", ".webp", ".pgm", ".ppm"}
)

_ENV_MAX_PIXELS = "FACEFEAT_MAX_PIXELS"
_MODES = ("gray", "rgb")
_ON_ERROR = ("raise", "skip")
# Pillow plugins we let identify a file (Pillow's JPEG plugin also opens camera
# MPO files). Others (EPS runs Ghostscript on load) are refused as unsupported.
_PIL_FORMATS = ("PNG", "JPEG", "TIFF", "GIF", "BMP", "DIB", "WEBP", "PPM")
_FORMAT_NAMES = "PNG, JPEG, TIFF, GIF, BMP, WebP, PGM/PPM"
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_HIGH_DEPTH_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I;16S", "I", "F"})
# (magic prefix, format name) used only to word the reason for unidentified files
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)


def _os_reason(exc):
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, NotADirectoryError):
        return "no such file (a parent is not a directory)"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc) or type(exc).__name__


def _file_error(path, reason, errno=None):
    err = ImageReadError(path, reason)
    err.errno = errno
    return err


# --------------------------------------------------------------- size limits
def _resolve_max_pixels(max_pixels):
    """Validate ``max_pixels`` or fall back to the env var / default."""
    source = "max_pixels"
    if max_pixels is None:
        raw = os.environ.get(_ENV_MAX_PIXELS, "").strip()
        if not raw:
            return DEFAULT_MAX_PIXELS
        source = f"environment variable {_ENV_MAX_PIXELS}"
        try:
            max_pixels = int(raw)
        except ValueError:
            try:
                max_pixels = float(raw)
            except ValueError:
                msg = f"{source} must be a positive number of pixels, got {raw!r}"
                raise ValueError(msg) from None
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, numbers.Real):
        raise TypeError(f"{source} must be a positive number of pixels, got {max_pixels!r}")
    if not max_pixels > 0:  # also rejects NaN
        raise ValueError(f"{source} must be a positive number of pixels, got {max_pixels!r}")
    return max_pixels


def _fmt_limit(limit):
    return "no limit" if math.isinf(limit) else f"{int(limit):,}"


def _bomb(path, size, pixels, limit, pillow_limit=None):
    where = f"{size[0]}x{size[1]} = " if size else ""
    if pillow_limit is None:
        reason = (
            f"image is {where}{pixels:,} pixels, over the limit of {_fmt_limit(limit)} "
            f"(possible decompression bomb; allow more with max_pixels= or {_ENV_MAX_PIXELS})"
        )
    else:
        reason = (
            f"image is {where}{pixels:,} pixels, over Pillow's own limit of "
            f"{pillow_limit:,} (2 * PIL.Image.MAX_IMAGE_PIXELS; possible decompression "
            "bomb; raise PIL.Image.MAX_IMAGE_PIXELS to allow it)"
        )
        limit = pillow_limit
    return DecompressionBombError(path, reason, size=size, max_pixels=limit)


def _pil_formats():
    """The plugins of :data:`_PIL_FORMATS` this Pillow build has registered."""
    if not all(f in Image.OPEN for f in _PIL_FORMATS):
        Image.init()
    return tuple(f for f in _PIL_FORMATS if f in Image.OPEN)


def _probe_size(fh):
    """Best-effort (width, height) from the header, without Pillow's bomb check.

    Only used to word the error when Pillow itself refused the file at open.
    """
    try:
        fh.seek(0)
        prefix = fh.read(16)
        for fmt in _pil_formats():
            factory, accept = Image.OPEN[fmt]
            ok = True if accept is None else accept(prefix)
            if not ok or isinstance(ok, str):
                continue
            try:
                fh.seek(0)
                return tuple(factory(fh, "").size)
            except Exception:
                continue
    except Exception:
        pass
    return None


def _pillow_bomb(path, exc, fh, limit):
    size = _probe_size(fh)
    if size is None:
        # Pillow's message: "Image size (N pixels) exceeds limit of M pixels, ..."
        return DecompressionBombError(path, f"possible decompression bomb: {exc}", max_pixels=limit)
    pixels = max(1, size[0]) * max(1, size[1])
    if pixels > limit:
        return _bomb(path, size, pixels, limit)
    pillow_limit = 2 * Image.MAX_IMAGE_PIXELS if Image.MAX_IMAGE_PIXELS else None
    return _bomb(path, size, pixels, limit, pillow_limit=pillow_limit)


# ------------------------------------------------------------------- reasons
def _head(fh, n=512):
    try:
        fh.seek(0)
        return fh.read(n)
    except (OSError, ValueError):
        return b""


def _magic_format(head):
    """Format name suggested by the first bytes, or None."""
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    return None


def _unidentified_reason(fh):
    head = _head(fh)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer file, not the image itself (run 'git lfs pull')"
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "not an image: the file contains HTML (a web page saved under an image name?)"
    if start.startswith((b"<?xml", b"<svg")):
        return "not a raster image: the file contains XML/SVG"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "HEIC/HEIF images are not supported (convert to PNG or JPEG)"
    fmt = _magic_format(head)
    if fmt is not None:
        return f"corrupt or truncated {fmt} header"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the 512-byte window is still text
        text = head[: exc.start].decode("utf-8") if exc.start >= len(head) - 3 else None
    if text is not None and all(c.isprintable() or c in "\t\r\n" for c in text):
        return "not an image: the file contains text"
    return f"not an image in a supported format ({_FORMAT_NAMES})"


def _decode_reason(exc, fmt):
    fmt = fmt or "image"
    if isinstance(exc, MemoryError):
        return f"out of memory while decoding {fmt} data"
    msg = str(exc)
    if isinstance(exc, EOFError) or "truncated" in msg.lower():
        return f"truncated {fmt} data"
    detail = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return f"corrupt {fmt} data ({detail})"


# ---------------------------------------------------------------- conversion
def _high_depth_to_uint8(im):
    """(h, w) uint8 from a 16-bit, 32-bit int or float single-channel image."""
    a = np.asarray(im)
    if im.mode != "F":
        a = a.astype(np.int64)
        if a.size == 0 or (a.min() >= 0 and a.max() <= 65535):
            # round(v / 257) in integer arithmetic: 0 -> 0, 257k -> k, 65535 -> 255
            return ((a + 128) // 257).astype(np.uint8)
    a = a.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.any():
        lo = hi = 0.0
    else:
        lo, hi = float(a[finite].min()), float(a[finite].max())
    if hi > lo:
        out = (a - lo) * (255.0 / (hi - lo))
    else:
        out = np.zeros_like(a)
        out[a > hi] = 255.0  # +inf in an otherwise constant image
    out = np.nan_to_num(out, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _to_array(im, mode):
    if im.mode in _HIGH_DEPTH_MODES:
        a = _high_depth_to_uint8(im)
        return a if mode == "gray" else np.repeat(a[:, :, None], 3, axis=2)
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba).convert("RGB")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode not in ("L", "RGB"):
        im = im.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV, RGBX, ...
    target = "L" if mode == "gray" else "RGB"
    if im.mode != target:
        im = im.convert(target)
    a = np.asarray(im, dtype=np.uint8)
    return np.array(a, copy=True, order="C")  # writable, owns its data


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, _MODES))}; got {mode!r}")


def _fspath(path):
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(
            f"path must be str, bytes or os.PathLike, not {type(path).__name__}"
        ) from None


def _read(path, mode, limit):
    fspath = _fspath(path)
    try:
        st = os.stat(fspath)
    except OSError as exc:
        raise _file_error(fspath, _os_reason(exc), exc.errno) from exc
    except ValueError as exc:  # embedded NUL byte
        raise _file_error(fspath, f"invalid file name ({exc})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise _file_error(fspath, "is a directory", _errno.EISDIR)
    if not stat.S_ISREG(st.st_mode):
        raise _file_error(fspath, "not a regular file")
    if st.st_size == 0:
        raise _file_error(fspath, "empty file (0 bytes)")
    try:
        fh = open(fspath, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise _file_error(fspath, _os_reason(exc), exc.errno) from exc
    with fh, warnings.catch_warnings():
        # Our own limit replaces Pillow's warning; its hard error is wrapped below.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return _decode(fh, fspath, mode, limit)


def _decode(fh, path, mode, limit):
    try:
        im = Image.open(fh, formats=_pil_formats())
    except Image.DecompressionBombError as exc:
        raise _pillow_bomb(path, exc, fh, limit) from exc
    except UnidentifiedImageError as exc:
        raise ImageReadError(path, _unidentified_reason(fh)) from exc
    except Exception as exc:
        raise ImageReadError(path, _decode_reason(exc, _magic_format(_head(fh, 16)))) from exc

    with im:
        fmt = im.format
        width, height = im.size
        pixels = width * height
        if pixels > limit:  # header only so far: nothing has been decoded
            raise _bomb(path, (width, height), pixels, limit)
        if pixels == 0:
            raise ImageReadError(path, f"{fmt} image has zero size ({width}x{height})")
        try:
            im.load()  # full decode now, so truncation is an error here
        except Image.DecompressionBombError as exc:
            raise _pillow_bomb(path, exc, fh, limit) from exc
        except Exception as exc:
            raise ImageReadError(path, _decode_reason(exc, fmt)) from exc

        try:
            oriented = ImageOps.exif_transpose(im)
        except Exception as exc:
            warnings.warn(
                f"ignoring unusable EXIF orientation of '{display_path(path)}': {exc}",
                UserWarning,
                stacklevel=4,
            )
            oriented = im
        try:
            return _to_array(oriented, mode)
        except Exception as exc:
            raise ImageReadError(
                path, f"cannot convert {fmt} image of mode {im.mode!r} to {mode} ({exc})"
            ) from exc


# ------------------------------------------------------------------ public
def read_image(path, *, mode="gray", max_pixels=None):
    """Read one image file into a ``uint8`` array.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The image file. Names that are not valid UTF-8 work as bytes or as
        surrogate-escaped str (what :func:`os.listdir` returns).
    mode : {"gray", "rgb"}, default="gray"
        ``"gray"`` gives shape ``(h, w)`` (ITU-R 601-2 luma, Pillow's ``"L"``),
        ``"rgb"`` gives shape ``(h, w, 3)``.
    max_pixels : int or float, optional
        Refuse images with more than this many pixels (width * height) before
        decoding them. Default: the environment variable
        ``FACEFEAT_MAX_PIXELS`` if set, else :data:`DEFAULT_MAX_PIXELS`
        (50 million). ``math.inf`` disables the check.

    Returns
    -------
    image : ndarray of uint8 of shape (h, w) or (h, w, 3)
        The pixels as a viewer shows them: EXIF orientation applied,
        transparency composited on white, 16-bit data scaled to 8 bit
        (see the module documentation for the exact rules).

    Raises
    ------
    ImageReadError
        The file is missing, a directory, empty, not an image in a supported
        format, truncated or corrupt. The message names the file.
    DecompressionBombError
        The image has more than ``max_pixels`` pixels (a subclass of
        ImageReadError).
    ValueError, TypeError
        Invalid ``mode``, ``max_pixels`` or ``FACEFEAT_MAX_PIXELS``, or a
        ``path`` of the wrong type.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from facefeat.images.io import read_image
    >>> red = np.zeros((2, 3, 3), dtype=np.uint8)
    >>> red[..., 0] = 255
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "face.png")
    ...     Image.fromarray(red).save(path)
    ...     gray = read_image(path)
    ...     rgb = read_image(path, mode="rgb")
    >>> gray.shape, gray.dtype
    ((2, 3), dtype('uint8'))
    >>> int(gray[0, 0])  # luma of pure red: 255 * 299 / 1000
    76
    >>> rgb.shape, rgb[0, 0].tolist()
    ((2, 3, 3), [255, 0, 0])
    """
    _check_mode(mode)
    return _read(path, mode, _resolve_max_pixels(max_pixels))


@dataclass
class ReadResult:
    """What :func:`read_images` read and what it left out.

    Attributes
    ----------
    images : list of ndarray
        ``uint8`` arrays of shape (h, w) or (h, w, 3), in input order.
    paths : list of str
        The files that were read, ``paths[i]`` giving ``images[i]``.
    indices : list of int
        Position in the input list of each file that was read, so
        ``labels[result.indices]`` lines labels up with ``images``.
    skipped : list of (str, str)
        ``(path, reason)`` of each file that could not be read
        (only with ``on_error="skip"``).

    Examples
    --------
    :func:`read_images` returns one; ``indices`` lines up what goes with
    the files, here labels, with the images that were read:

    >>> import numpy as np
    >>> from facefeat.images.io import ReadResult
    >>> result = ReadResult(images=[np.zeros((4, 5), np.uint8)], paths=["good.png"], indices=[1],
    ...                     skipped=[("missing.png", "no such file")])
    >>> labels = np.array(["anger", "fear"])
    >>> labels[result.indices].tolist(), result.skipped[0][1]
    (['fear'], 'no such file')
    """

    images: list = field(default_factory=list)
    paths: list = field(default_factory=list)
    indices: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


def read_images(paths, *, mode="gray", on_error="raise", max_pixels=None, progress=False):
    """Read many image files, either failing fast or skipping bad ones.

    Parameters
    ----------
    paths : iterable of (str, bytes or os.PathLike)
        The files, read in this order.
    mode : {"gray", "rgb"}, default="gray"
        As in :func:`read_image`.
    on_error : {"raise", "skip"}, default="raise"
        ``"raise"``: the first unreadable file raises its
        :class:`ImageReadError`. ``"skip"``: unreadable files are listed in
        ``ReadResult.skipped`` and, if there were any, one
        :class:`SkippedImagesWarning` says how many and names them (the
        first 10, then "and N more"). Only :class:`ImageReadError` is
        skipped; argument errors always raise.
    max_pixels : int or float, optional
        As in :func:`read_image`, for every file.
    progress : bool, default=False
        Show a tqdm progress bar.

    Returns
    -------
    result : ReadResult
        ``images`` (``uint8`` arrays of shape (h, w) or (h, w, 3)),
        ``paths`` and ``indices`` of the files read, in input order, and
        ``skipped`` ``(path, reason)`` pairs.

    Raises
    ------
    ImageReadError
        With ``on_error="raise"``, the first file that cannot be read.
    ValueError, TypeError
        Invalid ``mode``, ``on_error`` or ``max_pixels``, or a single path
        instead of a list.

    Warns
    -----
    SkippedImagesWarning
        With ``on_error="skip"``, when some files could not be read.

    Examples
    --------
    >>> import os, tempfile, warnings
    >>> import numpy as np
    >>> from PIL import Image
    >>> from facefeat.images.io import ImageReadError, read_images
    >>> tmp = tempfile.mkdtemp()
    >>> paths = [os.path.join(tmp, f"{i}.png") for i in range(2)]
    >>> for path in paths:
    ...     Image.fromarray(np.full((4, 5, 3), 200, dtype=np.uint8)).save(path)
    >>> result = read_images(paths, mode="rgb")
    >>> [image.shape for image in result.images], result.indices
    ([(4, 5, 3), (4, 5, 3)], [0, 1])

    By default an unreadable file stops the whole read; ``on_error="skip"``
    leaves it out with a :class:`SkippedImagesWarning`:

    >>> paths.insert(1, os.path.join(tmp, "missing.png"))
    >>> try:
    ...     read_images(paths)
    ... except ImageReadError as err:
    ...     print(err.reason)
    no such file
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     result = read_images(paths, on_error="skip")
    >>> result.indices, len(result.skipped)
    ([0, 2], 1)
    """
    result = _read_all(paths, mode=mode, on_error=on_error, max_pixels=max_pixels, progress=progress)
    if result.skipped:
        warnings.warn(_unreadable_message(result, "ReadResult.skipped"), SkippedImagesWarning, stacklevel=2)
    return result


def _read_all(paths, *, mode="gray", on_error="raise", max_pixels=None, progress=False):
    """:func:`read_images` without its warning, for callers that word their own."""
    if on_error not in _ON_ERROR:
        raise ValueError(
            f"on_error must be one of {', '.join(map(repr, _ON_ERROR))}; got {on_error!r}"
        )
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError("paths must be a list of paths, not a single path; use read_image")
    _check_mode(mode)
    limit = _resolve_max_pixels(max_pixels)
    paths = list(paths)

    items = enumerate(paths)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        items = bar = tqdm(items, total=len(paths), desc="reading images", unit="img")

    result = ReadResult()
    try:
        for i, path in items:
            try:
                image = _read(path, mode, limit)
            except ImageReadError as exc:
                if on_error == "raise":
                    raise
                result.skipped.append((exc.path, exc.reason))
                if bar is not None:
                    bar.set_postfix(skipped=len(result.skipped), refresh=False)
                continue
            result.images.append(image)
            result.paths.append(os.fsdecode(_fspath(path)))
            result.indices.append(i)
    finally:
        if bar is not None:
            bar.close()
    return result


def _unreadable_message(result, see):
    n = len(result.images) + len(result.skipped)
    return (f"skipped {len(result.skipped)} of {n} images that could not be read: "
            f"{_name_files(result.skipped)}; see {see}")


def is_image_file(path):
    """Whether a file name has an image extension (:data:`IMAGE_EXTENSIONS`).

    Judged by the name only, case-insensitively; the file is not opened.
    Hidden files (name starting with ``'.'``, e.g. macOS ``._face.jpg``
    resource forks) are never image files.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        File name or path.

    Returns
    -------
    bool

    Examples
    --------
    >>> from facefeat.images.io import is_image_file
    >>> is_image_file("S005/001/S005_001_00000011.PNG"), is_image_file("._a.jpg")
    (True, False)
    """
    name = os.path.basename(os.fsdecode(_fspath(path)))
    if not name or name.startswith("."):
        return False
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
