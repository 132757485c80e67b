"""The ``facefeat visualize`` command: pictures of features, for one face or a data set.

``facefeat visualize IMAGE --features lbp,hog,gabor,landmarks,asm --out DIR``
aligns the face of one image with :class:`~facefeat.faces.align.FaceAligner` and
writes one PNG per feature (:func:`facefeat.plots.features.plot_lbp` and friends).
``facefeat visualize DATA_DIR --embedding lbp|hog|mobilenet_v2 --out DIR``
reads a data set with :func:`~facefeat.images.datasets.load_folder`, aligns every
face, extracts the features and writes ``embedding.png``
(:func:`facefeat.plots.results.plot_embedding`).

The parser of :mod:`facefeat.cli.main` adds it with :func:`add_visualize_parser`.
"""

import warnings
from pathlib import Path

import numpy as np

from facefeat.cli.console import default_cache_dir, error, note, subject_rule

__all__ = ["FEATURES", "EMBEDDINGS", "add_visualize_parser", "visualize_command", "parse_features", "embedding_features"]

#: Feature pictures of one image, in drawing order.
FEATURES = ("lbp", "hog", "gabor", "landmarks", "asm")
#: Features of a data-set embedding.
EMBEDDINGS = ("lbp", "hog", "mobilenet_v2")

# Images per feature-extraction step of a data set: bounds memory and gives
# the progress bar something to count.
_CHUNK = 256


def add_visualize_parser(subparsers):
    """Register ``facefeat visualize`` on an argparse sub-parser set.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="facefeat")
    >>> p = add_visualize_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["visualize", "face.png", "--features", "lbp,hog", "--out", "pics"])
    >>> args.features, args.out, args.func is visualize_command
    ('lbp,hog', 'pics', True)
    """
    p = subparsers.add_parser(
        "visualize", help="draw the features of one face image, or a 2-D embedding of a data set",
        description="With an image file: align its face and write one picture per feature (LBP codes and "
                    "histograms, HOG glyphs, Gabor magnitudes, landmarks with the curated geometry, the "
                    "Active Shape Model search). With a data folder <dir>/<class>/<image>: extract features "
                    "of every face and write embedding.png, the faces in 2-D coloured by class.")
    p.add_argument("path", metavar="PATH", help="an image file, or a data folder <dir>/<class>/<image>")
    p.add_argument("--features", metavar="LIST", default=None,
                   help=f"image only: comma-separated pictures to draw (default {','.join(FEATURES)})")
    p.add_argument("--embedding", choices=EMBEDDINGS, default=None,
                   help="data folder only: features of the embedding (default lbp; mobilenet_v2 is the "
                        "ImageNet MobileNetV2 of facefeat.deep)")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca",
                   help="data folder only: 2-D projection, PCA (default) or t-SNE")
    p.add_argument("--out", default="facefeat-visualize", metavar="DIR",
                   help="output folder (default ./facefeat-visualize)")
    p.add_argument("--size", type=int, default=96, help="side of the aligned face crop in pixels (default 96)")
    p.add_argument("--dpi", type=int, default=120, help="resolution of the PNGs (default 120)")
    p.add_argument("--subjects", default="none", metavar="RULE",
                   help="data folder only: subject-id rule of load_folder ('auto', 'none' (default), or a "
                        "regex); subjects are not used by the picture")
    p.add_argument("--no-cache", action="store_true", help="do not cache face detections "
                   "(default cache: $FACEFEAT_CACHE or ~/.cache/facefeat)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=visualize_command)
    return p


def visualize_command(args):
    """Run ``facefeat visualize`` with parsed arguments.

    Reads ``args.path``, ``args.features``, ``args.embedding``,
    ``args.method``, ``args.out``, ``args.size``, ``args.dpi``,
    ``args.subjects``, ``args.no_cache`` and ``args.quiet`` (the options of
    :func:`add_visualize_parser`). Prints the files written.

    Exit status: 0 on success; 2 after printing ``error: ...`` for a missing path, an
    unknown feature name, an option that does not fit the path, or an unreadable image or
    data folder.

    Examples
    --------
    Arguments as the command line parses them; a path that does not exist
    gives exit code 2 and a message on stderr:

    >>> import argparse, contextlib, io, os, tempfile
    >>> from facefeat.cli.visualize import add_visualize_parser, visualize_command
    >>> parser = argparse.ArgumentParser(prog="facefeat")
    >>> _ = add_visualize_parser(parser.add_subparsers(dest="command"))
    >>> missing = os.path.join(tempfile.mkdtemp(), "missing.png")
    >>> args = parser.parse_args(["visualize", missing, "--features", "landmarks", "--size", "64"])
    >>> args.func is visualize_command, args.features, args.size, args.method
    (True, 'landmarks', 64, 'pca')
    >>> stderr = io.StringIO()
    >>> with contextlib.redirect_stderr(stderr):
    ...     code = visualize_command(args)
    >>> code, stderr.getvalue().replace(missing, "missing.png")
    (2, 'error: missing.png does not exist (give an image file or a data folder)\\n')
    """
    path = Path(args.path)
    try:
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist (give an image file or a data folder)")
        if path.is_dir():
            written = _dataset_embedding(path, args)
        else:
            written = _image_features(path, args)
    except (FileNotFoundError, ValueError, OSError) as exc:
        return error(exc)
    for file in written:
        print(file)
    return 0


# ------------------------------------------------------------------ helpers
def parse_features(text):
    """Feature names from a comma-separated list, checked against :data:`FEATURES`.

    Parameters
    ----------
    text : str or None
        e.g. ``"lbp,hog"``; None or empty for all of :data:`FEATURES`.

    Returns
    -------
    list of str
        In the order given, duplicates removed.

    Raises
    ------
    ValueError
        Unknown names (they are listed with the valid ones).

    Examples
    --------
    >>> parse_features("hog, lbp,hog")
    ['hog', 'lbp']
    >>> parse_features("lbp,sift")
    Traceback (most recent call last):
    ...
    ValueError: unknown feature 'sift' for --features; choose from lbp, hog, gabor, landmarks, asm
    """
    if not text or not text.strip():
        return list(FEATURES)
    names = list(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(f"unknown feature{plural} {', '.join(map(repr, unknown))} for --features; "
                         f"choose from {', '.join(FEATURES)}")
    return names


def _cache(args):
    if getattr(args, "no_cache", False):
        return None
    return str(default_cache_dir())


def _aligner(args, **params):
    from facefeat.faces.align import FaceAligner

    return FaceAligner(size=args.size, memory=_cache(args), **params)


def _image_features(path, args):
    from facefeat import plots
    from facefeat.faces.align import NoFaceWarning
    from facefeat.images.io import read_image

    if args.embedding is not None:
        raise ValueError("--embedding needs a data folder; for one image use --features")
    names = parse_features(args.features)
    image = read_image(path, mode="gray")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoFaceWarning)
        batch = _aligner(args).fit_transform([image])
    if not batch.face_found[0] or any(issubclass(w.category, NoFaceWarning) for w in caught):
        note(f"note: no face detected in {path}; the pictures show a fallback crop")
    face, points = batch.images[0], batch.landmarks[0]
    drawers = {
        "lbp": lambda: plots.plot_lbp(face),
        "hog": lambda: plots.plot_hog(face),
        "gabor": lambda: plots.plot_gabor(face),
        "landmarks": lambda: plots.plot_landmarks(face, points),
        # the search starts from dlib's box in the photograph, not in the crop
        "asm": lambda: plots.plot_asm_fitting(image),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        file = out / f"{name}.png"
        plots.save(drawers[name](), file, dpi=args.dpi)
        written.append(file)
    return written


def _dataset_embedding(path, args):
    from facefeat import plots
    from facefeat.images.datasets import load_folder

    if args.features is not None:
        raise ValueError("--features draws one image; for a data folder use --embedding")
    embedding = args.embedding or "lbp"
    progress = not args.quiet
    dataset = load_folder(path, subjects=subject_rule(args.subjects))
    note(dataset.describe())
    color = embedding == "mobilenet_v2"
    images, dataset = dataset.read_images(mode="rgb" if color else "gray", on_error="skip", progress=progress)
    if len(images) < 3:
        raise ValueError(f"an embedding needs at least 3 readable images, {path} has {len(images)}")
    batch = _aligner(args, color=color, progress=progress).fit_transform(images)
    X = embedding_features(embedding, batch, progress=progress)
    ax = plots.plot_embedding(X, dataset.labels, method=args.method)
    ax.set_title(f"{ax.get_title()} ({embedding})")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    file = out / "embedding.png"
    plots.save(ax, file, dpi=args.dpi)
    return [file]


def embedding_features(name, batch, *, progress=False):
    """Feature vectors of aligned faces for a data-set embedding.

    Parameters
    ----------
    name : {'lbp', 'hog', 'mobilenet_v2'}
        :class:`~facefeat.features.lbp.LBPHistogram`,
        :class:`~facefeat.features.hog.HOGFeatures` (default parameters) or
        ``DeepEmbedding(backbone="mobilenet_v2")`` of
        :mod:`facefeat.deep.embedding`.
    batch : FaceBatch
        Aligned faces (RGB for ``mobilenet_v2``, gray or RGB otherwise).
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    ndarray of shape (n_faces, n_features)

    Examples
    --------
    >>> from facefeat.faces.batch import FaceBatch
    >>> faces = np.zeros((3, 48, 48), np.uint8)
    >>> embedding_features("lbp", FaceBatch(faces, np.zeros((3, 68, 2)), np.ones(3, bool))).shape
    (3, 2891)
    """
    if name not in EMBEDDINGS:
        raise ValueError(f"unknown embedding {name!r}; choose from {', '.join(EMBEDDINGS)}")
    if name == "mobilenet_v2":
        from facefeat.deep.embedding import DeepEmbedding

        return np.asarray(DeepEmbedding(backbone="mobilenet_v2", progress=progress).fit_transform(batch))
    from tqdm.auto import tqdm

    from facefeat.features.hog import HOGFeatures
    from facefeat.features.lbp import LBPHistogram

    est = (LBPHistogram() if name == "lbp" else HOGFeatures()).fit(batch.images[:1])
    parts = []
    with tqdm(total=len(batch.images), desc=f"{name} features", unit="img", disable=not progress,
              leave=False) as bar:
        for start in range(0, len(batch.images), _CHUNK):
            part = batch.images[start : start + _CHUNK]
            parts.append(est.transform(part))
            bar.update(len(part))
    return np.concatenate(parts)
