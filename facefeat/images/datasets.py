"""Face datasets: images with emotion labels, subject ids and splits."""

import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from facefeat._text import plural

CLASSES = ("anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")


@dataclass(eq=False)
class FaceDataset:
    """Labelled face images, on disk or in memory, with subject ids.

    Parameters
    ----------
    labels : ndarray of str of shape (n_images,)
        Class name of every image.
    paths : list of str of length n_images, optional
        Image files; None for an in-memory dataset.
    images : list of ndarray, optional
        In-memory images (uint8, (h, w) or (h, w, 3)); None for files.
    groups : ndarray of str of shape (n_images,), optional
        Subject id of every image; None when the data set has none.
    split : ndarray of str of shape (n_images,), optional
        ``"train"`` or ``"test"`` per image when the data set defines a split.
    landmarks : ndarray of shape (n_images, 68, 2), optional
        Ground-truth landmarks in each image's pixel frame, (x, y).
    name : str
        Short name for reports.
    root : str, optional
        Folder the data set was read from.
    layout : str
        Which subject/split rule applied (``ck_plus``, ``jaffe``, ``fer2013``,
        ``custom``, ``none``, ``synthetic``).
    skipped : list of (str, str)
        Files left out while reading, with the reason.
    hidden : list of (str, str)
        Hidden files and folders (name starting with ``'.'``) that
        :func:`load_folder` passed over, with ``"hidden file"`` or
        ``"hidden folder"``; counted by :meth:`describe`.

    See Also
    --------
    load_folder : a data set from a folder of class sub-folders.
    facefeat.images.synthetic.make_expressions : a small in-memory data set.

    Examples
    --------
    An in-memory data set of three tiny images from two subjects:

    >>> import numpy as np
    >>> from facefeat.images.datasets import FaceDataset
    >>> images = [np.zeros((8, 8), dtype=np.uint8) for _ in range(3)]
    >>> ds = FaceDataset(labels=["happiness", "anger", "happiness"], images=images,
    ...                  groups=["S1", "S1", "S2"], name="tiny")
    >>> len(ds), ds.classes, ds.counts()
    (3, ['anger', 'happiness'], {'anger': 1, 'happiness': 2})
    >>> ds.summary()["n_subjects"], ds.summary()["imbalance_ratio"]
    (2, 2.0)
    >>> ds.subset([0, 2]).groups.tolist()
    ['S1', 'S2']
    >>> images, same = ds.read_images(mode="rgb")
    >>> images[0].shape, same is ds
    ((8, 8, 3), True)

    Labels and per-image arrays must agree in length:

    >>> FaceDataset(labels=["anger"], images=images)
    Traceback (most recent call last):
    ...
    ValueError: 3 images for 1 labels
    """

    labels: np.ndarray
    paths: list = None
    images: list = None
    groups: np.ndarray = None
    split: np.ndarray = None
    landmarks: np.ndarray = None
    name: str = "dataset"
    root: str = None
    layout: str = "none"
    skipped: list = field(default_factory=list)
    hidden: list = field(default_factory=list)

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=str)
        n = len(self.labels)
        if (self.paths is None) == (self.images is None):
            raise ValueError("give exactly one of paths or images")
        items = self.paths if self.paths is not None else self.images
        if len(items) != n:
            raise ValueError(f"{len(items)} images for {n} labels")
        for name in ("groups", "split"):
            value = getattr(self, name)
            if value is not None:
                value = np.asarray(value, dtype=str)
                if value.shape != (n,):
                    raise ValueError(f"{name} must have shape ({n},), got {value.shape}")
                setattr(self, name, value)
        if self.landmarks is not None:
            self.landmarks = np.asarray(self.landmarks, dtype=float)
            if self.landmarks.shape != (n, 68, 2):
                raise ValueError(f"landmarks must have shape ({n}, 68, 2), got {self.landmarks.shape}")

    def __len__(self):
        return len(self.labels)

    @property
    def classes(self):
        """Sorted class names present in the data set."""
        return sorted(set(self.labels.tolist()))

    def counts(self):
        """Images per class, in class order.

        Returns
        -------
        dict of str to int
        """
        names, n = np.unique(self.labels, return_counts=True)
        return dict(zip(names.tolist(), n.tolist()))

    def summary(self):
        """Counts that decide how to evaluate on this data set.

        Returns
        -------
        dict
            ``n_images``, ``n_classes``, ``counts`` (per class),
            ``imbalance_ratio`` (largest over smallest class), ``n_subjects``
            (None without subject ids), ``split_counts`` (None without a split),
            ``layout``, ``n_skipped`` and ``n_hidden``.
        """
        counts = self.counts()
        split_counts = None
        if self.split is not None:
            names, n = np.unique(self.split, return_counts=True)
            split_counts = dict(zip(names.tolist(), n.tolist()))
        return {
            "name": self.name,
            "n_images": len(self),
            "n_classes": len(counts),
            "counts": counts,
            "imbalance_ratio": round(max(counts.values()) / min(counts.values()), 3) if counts else None,
            "n_subjects": None if self.groups is None else int(len(np.unique(self.groups))),
            "split_counts": split_counts,
            "layout": self.layout,
            "n_skipped": len(self.skipped),
            "n_hidden": len(self.hidden),
        }

    def describe(self):
        """The summary as a few lines of text for the console."""
        s = self.summary()
        # "none layout" read as jargon: say what the layout means for the evaluation
        how = {"none": "no subject ids in the file names", "custom": "subject ids from your rule"}.get(
            s["layout"], f"{s['layout']} layout")
        lines = [f"{s['name']}: {s['n_images']} images, {s['n_classes']} classes ({how})"]
        lines.append("  " + ", ".join(f"{c} {n}" for c, n in s["counts"].items()))
        lines.append(f"  imbalance ratio {s['imbalance_ratio']}")
        if s["n_subjects"] is not None:
            lines.append(f"  {s['n_subjects']} subjects")
        if s["split_counts"]:
            lines.append("  split: " + ", ".join(f"{k} {v}" for k, v in s["split_counts"].items()))
        if self.skipped:
            from facefeat.images.io import display_path

            # display_path: a non-UTF-8 file name must not make print() fail on a UTF-8 console
            shown = ", ".join(display_path(p) for p, _ in self.skipped[:5])
            more = f" and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
            lines.append(f"  skipped {plural(len(self.skipped), 'file')}: {shown}{more}")
        if self.hidden:
            kinds = [plural(n, kind) for kind in ("hidden file", "hidden folder")
                     if (n := sum(why == kind for _, why in self.hidden))]
            lines.append(f"  skipped {' and '.join(kinds)} (names starting with '.')")
        return "\n".join(lines)

    def subset(self, indices):
        """A new data set with the items at ``indices`` (skipped files are kept)."""
        idx = np.asarray(indices, dtype=int)

        def pick(seq):
            return None if seq is None else [seq[i] for i in idx]

        def take(arr):
            return None if arr is None else arr[idx]

        return FaceDataset(
            labels=self.labels[idx], paths=pick(self.paths), images=pick(self.images),
            groups=take(self.groups), split=take(self.split), landmarks=take(self.landmarks),
            name=self.name, root=self.root, layout=self.layout, skipped=list(self.skipped),
            hidden=list(self.hidden),
        )

    def read_images(self, *, mode="gray", on_error="raise", progress=False, min_side=None):
        """The images as arrays, reading files when needed.

        Parameters
        ----------
        mode : {"gray", "rgb"}
        on_error : {"raise", "skip"}
            What to do with a file that cannot be read
            (:class:`~facefeat.images.io.ImageReadError`) or whose image is smaller
            than ``min_side``: ``"raise"`` raises (``ImageReadError``, or
            ``ValueError`` for a too-small image, naming the file);
            ``"skip"`` leaves it out, records it in ``skipped`` with the
            reason and announces it in a
            :class:`~facefeat.images.io.SkippedImagesWarning` naming the files (one
            for unreadable files, one for too-small images).
        progress : bool
            Show a progress bar while reading.
        min_side : int, optional
            Smallest acceptable shorter side in pixels; default
            :data:`facefeat.faces.align.MIN_FACE_SIDE` (8), below which no face fits
            and :class:`~facefeat.faces.align.FaceAligner` would refuse the image
            (one thumbnail would then stop a whole benchmark without saying
            which file it was). ``0`` keeps every image. Only applies to
            files; in-memory images are returned as they are.

        Returns
        -------
        images : list of ndarray of uint8 of shape (h, w) or (h, w, 3)
            ``(h, w)`` for ``mode="gray"``, ``(h, w, 3)`` for ``"rgb"``.
        dataset : FaceDataset
            The data set restricted to the images that were read (itself when
            nothing was left out).
        """
        from facefeat.images.errors import SkippedImagesWarning, _name_files, display_path
        from facefeat.images.io import _read_all, _unreadable_message

        if self.images is not None:
            images = [_convert_mode(im, mode) for im in self.images]
            return images, self
        from facefeat.faces.align import face_size_problem

        result = _read_all(self.paths, mode=mode, on_error=on_error, progress=progress)
        keep, small = [], []
        for k, image in enumerate(result.images):
            reason = face_size_problem(image.shape, min_side)
            if reason is None:
                keep.append(k)
                continue
            if on_error == "raise":
                raise ValueError(f"image '{display_path(result.paths[k])}': {reason}")
            small.append((result.paths[k], reason))
        if self.paths and not keep:
            # An empty data set would only fail later, far from the cause, with a numpy message.
            failed = list(result.skipped) + small
            raise ValueError(f"no image could be read: all {plural(len(failed), 'file')} failed, e.g. "
                             f"{_name_files(failed, limit=5)}; check that "
                             f"{repr(display_path(self.root)) if self.root else 'the folder'} holds the images themselves")
        if result.skipped:
            warnings.warn(_unreadable_message(result, "FaceDataset.skipped"), SkippedImagesWarning, stacklevel=2)
        if small:
            warnings.warn(f"skipped {len(small)} of {len(self)} images too small to hold a face: "
                          f"{_name_files(small)}; see FaceDataset.skipped", SkippedImagesWarning, stacklevel=2)
        if len(keep) == len(self):
            return result.images, self
        kept = self.subset([result.indices[k] for k in keep])
        kept.skipped = list(self.skipped) + list(result.skipped) + small
        return [result.images[k] for k in keep], kept


def _convert_mode(image, mode):
    image = np.asarray(image)
    if mode == "gray" and image.ndim == 3:
        return np.clip(image @ np.array([0.299, 0.587, 0.114]) + 0.5, 0, 255).astype(np.uint8)
    if mode == "rgb" and image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    return image


# --------------------------------------------------------------------------- #
# Reading a folder
# --------------------------------------------------------------------------- #

# Subject rules of the layouts facefeat knows, applied to the file name.
# Each: (regex that every file of the layout matches, group giving the subject id or None)
LAYOUTS = {
    "ck_plus": (r"^(S\d{3})_\d{3}_\d+\.\w+$", 1),
    "jaffe": (r"^([A-Z]{2})\.[A-Z]{2}\d\.\d+\.tiff?$", 1),
    "fer2013": (r"^(Training|PublicTest|PrivateTest)_\d+\.\w+$", None),
}

# FER2013's file-name prefix is its official split
FER2013_SPLITS = {"Training": "train", "PublicTest": "test", "PrivateTest": "private_test"}

# Common folder names for the canonical classes (Kaggle-style data sets use these)
CLASS_ALIASES = {
    "angry": "anger", "anger": "anger", "disgusted": "disgust", "disgust": "disgust",
    "fear": "fear", "fearful": "fear", "scared": "fear", "happy": "happiness",
    "happiness": "happiness", "joy": "happiness", "neutral": "neutral", "sad": "sadness",
    "sadness": "sadness", "surprise": "surprise", "surprised": "surprise",
    "contempt": "contempt",
}


def load_folder(path, *, subjects="auto", split="auto", classes=None, canonical_names=True, name=None):
    """Index a folder of face images sorted into one sub-folder per class.

    Parameters
    ----------
    path : str or path-like
        ``<path>/<class>/<image>``; images in nested folders below a class
        folder count for that class.
    subjects : "auto", None, str or callable, default="auto"
        How to get each image's subject id: ``"auto"`` recognises the layouts
        in :data:`LAYOUTS` (CK+ ``S010_004_00000017.png`` -> ``S010``, JAFFE
        ``KA.AN1.39.tiff`` -> ``KA``); a regular expression whose first group
        (or whole match) is the id, searched in the file name; a callable
        ``f(path) -> str``; None for no subject ids.
    split : "auto", None or callable, default="auto"
        ``"auto"`` takes FER2013's ``Training_`` / ``PublicTest_`` /
        ``PrivateTest_`` prefixes as ``train`` / ``test`` / ``private_test``;
        a callable ``f(path) -> str`` gives any split; None for none.
    classes : list of str, optional
        Keep only these classes (after canonical renaming).
    canonical_names : bool, default=True
        Rename common class folder names (``happy``, ``angry``...) to the
        canonical ones (``happiness``, ``anger``...).
    name : str, optional
        Name for reports; the folder name by default.

    Returns
    -------
    FaceDataset
        Files that are not images or not inside a class folder, class folders
        without images, and symbolic links to a folder already indexed (a link
        loop) are listed in ``skipped`` with the reason, never dropped
        silently. When a few file names do not follow the known layout that
        all the others follow (a stray ``photo.jpg`` among JAFFE images), they
        are left out and listed too, with a
        :class:`~facefeat.images.io.SkippedImagesWarning` naming them, so that
        one file does not take the subject ids away; ``subjects=None`` or a
        rule of your own keeps them. Hidden files and folders (name starting
        with ``'.'``: ``.DS_Store``, macOS ``._face.jpg`` forks, ``.git``) are
        not indexed and are listed in ``hidden`` instead (a hidden folder is
        not entered). Symbolic links to folders are followed, each folder is
        indexed once. File names that are not valid UTF-8 are kept as
        surrogate-escaped str (as :func:`os.listdir` gives them).

    Raises
    ------
    FileNotFoundError
        ``path`` is not a folder.
    ValueError
        No class folder with images (the message says when images lie directly
        in ``path``), or a subject rule that does not match some files (they
        are named).

    Warns
    -----
    SkippedImagesWarning
        Files left out because their names do not follow the layout of the
        others (named, with the count).
    UserWarning
        Most file names follow a known layout but too many do not to leave
        them out: the data set gets no subject ids (the odd names are given).

    See Also
    --------
    FaceDataset.read_images : read the indexed files into arrays.

    Examples
    --------
    Three images in CK+-style file names, with a stray file at the top:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from facefeat.images.datasets import load_folder
    >>> root = tempfile.mkdtemp()
    >>> for folder, fname in [("happy", "S010_001_00000001.png"), ("happy", "S011_001_00000002.png"),
    ...                       ("sad", "S010_002_00000003.png")]:
    ...     os.makedirs(os.path.join(root, folder), exist_ok=True)
    ...     Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(os.path.join(root, folder, fname))
    >>> with open(os.path.join(root, "notes.txt"), "w") as fh:
    ...     _ = fh.write("not a face")
    >>> ds = load_folder(root, name="tiny")
    >>> ds.labels.tolist()  # folder names made canonical
    ['happiness', 'happiness', 'sadness']
    >>> ds.layout, ds.groups.tolist()  # CK+ subject ids from the file names
    ('ck_plus', ['S010', 'S011', 'S010'])
    >>> [(os.path.basename(path), why) for path, why in ds.skipped]
    [('notes.txt', 'not inside a class folder')]

    A stray file among them would take the subject ids away from all; it is
    left out instead, and named:

    >>> import warnings
    >>> Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(os.path.join(root, "sad", "photo.png"))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     ds = load_folder(root, name="tiny")
    >>> print(str(caught[0].message).split(":")[0])
    left out 1 file whose name does not follow the CK+ layout (like S010_004_00000017.png)
    >>> ds.layout, len(ds), os.path.basename(ds.skipped[-1][0])
    ('ck_plus', 3, 'photo.png')
    >>> len(load_folder(root, subjects=None))  # no subject ids, every image
    4
    >>> images, ds = ds.read_images()
    >>> [image.shape for image in images]
    [(8, 8), (8, 8), (8, 8)]
    """
    from pathlib import Path

    from facefeat.images.io import is_image_file

    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {str(root)!r}")
    paths, labels, skipped = [], [], []
    # Real paths of the folders indexed so far: symbolic links to folders are
    # followed (a linked class folder is common), but a folder is indexed
    # once, so a link loop or a second link to the same folder is skipped
    # with the reason instead of recursing forever or counting images twice.
    seen = {os.path.realpath(root): str(root)}
    hidden = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            hidden.append((str(entry), "hidden folder" if entry.is_dir() else "hidden file"))
            continue
        if not entry.is_dir():
            skipped.append((str(entry), "not inside a class folder"))
            continue
        if not _first_visit(entry, seen, skipped):
            continue
        label = entry.name.lower() if canonical_names else entry.name
        label = CLASS_ALIASES.get(label, label) if canonical_names else label
        n_before = len(paths)
        for dirpath, dirnames, filenames in os.walk(entry, followlinks=True):
            hidden += [(os.path.join(dirpath, d), "hidden folder") for d in sorted(dirnames) if d.startswith(".")]
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and _first_visit(Path(dirpath, d), seen, skipped))
            for fname in sorted(filenames):
                file = os.path.join(dirpath, fname)
                if fname.startswith("."):
                    hidden.append((file, "hidden file"))
                    continue
                if is_image_file(file):
                    paths.append(file)
                    labels.append(label)
                else:
                    skipped.append((file, "not an image file"))
        if len(paths) == n_before:
            skipped.append((str(entry), "class folder without images"))
    if classes is not None:
        unknown = set(classes) - set(labels)
        if unknown:
            raise ValueError(f"classes not found in {str(root)!r}: {sorted(unknown)}; found {sorted(set(labels))}")
        keep = [i for i, lab in enumerate(labels) if lab in set(classes)]
        paths, labels = [paths[i] for i in keep], [labels[i] for i in keep]
    if not paths:
        loose = [p for p, why in skipped if why == "not inside a class folder" and is_image_file(p)]
        hint = (f"; {len(loose)} image files lie directly in the folder, not in class sub-folders "
                f"(e.g. {os.path.basename(loose[0])!r})" if loose else "")
        raise ValueError(
            f"no images found in {str(root)!r}: expected <folder>/<class>/<image> "
            f"(extensions {', '.join(sorted(_image_extensions()))}){hint}"
        )
    layout, odd = _detect_layout([os.path.basename(p) for p in paths])
    needs = _layout_needed(layout, subjects, split)
    if odd and needs:
        paths, labels, odd = _leave_out_odd_names(paths, labels, odd, layout, needs, skipped)
    if odd:  # a layout applies only to files that all follow it
        layout = "none"
    fnames = [os.path.basename(p) for p in paths]
    groups = _subjects(paths, fnames, subjects, layout)
    split_ids = _split(paths, fnames, split, layout)
    used = layout if subjects == "auto" else ("none" if subjects is None else "custom")
    return FaceDataset(
        labels=np.array(labels), paths=paths, groups=groups, split=split_ids,
        name=name or root.resolve().name, root=str(root), layout=used, skipped=skipped, hidden=hidden,
    )


def _first_visit(folder, seen, skipped):
    """Whether ``folder`` (maybe a symbolic link) leads somewhere not indexed yet; else record why not."""
    real = os.path.realpath(folder)
    if real in seen:
        skipped.append((str(folder), f"symbolic link to a folder already indexed ({seen[real]}), not followed"))
        return False
    seen[real] = str(folder)
    return True


def _image_extensions():
    from facefeat.images.io import IMAGE_EXTENSIONS

    return IMAGE_EXTENSIONS


def _detect_layout(fnames):
    """The known layout closest to the file names, and the positions of those that do not follow it.

    >>> _detect_layout(["KA.AN1.39.tiff", "KL.HA1.158.tiff"])
    ('jaffe', [])
    >>> _detect_layout(["S010_004_00000017.png"] * 9 + ["photo.png"])
    ('ck_plus', [9])
    >>> _detect_layout(["a.png", "b.png"])
    ('none', [0, 1])
    """
    import re

    closest, odd = "none", list(range(len(fnames)))
    for layout, (pattern, _) in LAYOUTS.items():
        rx = re.compile(pattern)
        misses = [i for i, f in enumerate(fnames) if not rx.match(f)]
        if len(misses) < len(odd):
            closest, odd = layout, misses
    return closest, odd


def _few(n_odd, n):
    """Whether ``n_odd`` of ``n`` names are few enough to leave out: at most 10%, or 3 if at most a quarter."""
    return n_odd <= 0.1 * n or (n_odd <= 3 and 4 * n_odd <= n)


# Display name and an example file name of each layout, for messages
_LAYOUT_NAMES = {"ck_plus": ("CK+", "S010_004_00000017.png"), "jaffe": ("JAFFE", "KA.AN1.39.tiff"),
                 "fer2013": ("FER2013", "Training_123.jpg")}


def _layout_needed(layout, subjects, split):
    """What the detected layout gives that the caller asked for: ``"subjects"``, ``"split"`` or None."""
    if layout == "none":
        return None
    if subjects == "auto" and LAYOUTS[layout][1] is not None:
        return "subjects"
    if split == "auto" and layout == "fer2013":
        return "split"
    return None


def _leave_out_odd_names(paths, labels, odd, layout, needs, skipped):
    """Paths and labels without the files at ``odd``, recorded in ``skipped`` and named in a warning.

    Returns ``paths, labels, odd``, with ``odd`` empty when they were left
    out. When they are too many to leave out (:func:`_few`), nothing is left
    out; if at least half the names follow ``layout``, a warning names the odd
    ones and says that the data set gets no subject ids (or split).
    """
    from facefeat.images.errors import SkippedImagesWarning, _name_files

    title, example = _LAYOUT_NAMES[layout]
    odd_paths = [paths[i] for i in odd]
    if needs == "subjects":
        lost, why, keep_all = "subject ids", "subjects stay known", "use --subjects none (subjects=None) to keep"
        way_out = "give a subject rule (--subjects REGEX), or --subjects none to silence this"
    else:
        lost, why, keep_all = "the train/test split", "the train/test split stays known", "load with split=None to keep"
        way_out = "or load with split=None to silence this"
    n = len(paths)
    if not _few(len(odd), n):
        if 2 * len(odd) <= n:
            warnings.warn(
                f"{n - len(odd)} of {n} file names follow the {title} layout but {len(odd)} do not "
                f"({_name_files([os.path.basename(p) for p in odd_paths], limit=5)}): no {lost}, so images of "
                f"one person may fall on both sides of a split; rename or remove those files, {way_out}",
                UserWarning, stacklevel=3)
        return paths, labels, odd
    reason = f"name does not follow the {title} layout (like {example}); left out so that {why}; {keep_all} it"
    skipped += [(p, reason) for p in odd_paths]
    one = len(odd) == 1
    warnings.warn(
        f"left out {plural(len(odd), 'file')} whose {'name does' if one else 'names do'} not follow "
        f"the {title} layout (like {example}): {_name_files(odd_paths)}; {keep_all} "
        f"{'it' if one else 'them'} without {lost}; see FaceDataset.skipped",
        SkippedImagesWarning, stacklevel=3)
    odd = set(odd)
    return [p for i, p in enumerate(paths) if i not in odd], [lab for i, lab in enumerate(labels) if i not in odd], []


def _subjects(paths, fnames, rule, layout):
    import re

    if rule is None:
        return None
    if callable(rule):
        return np.array([str(rule(p)) for p in paths])
    if rule == "auto":
        if layout == "none" or LAYOUTS[layout][1] is None:
            return None
        pattern, group = LAYOUTS[layout]
        rx = re.compile(pattern)
        return np.array([rx.match(f).group(group) for f in fnames])
    if not isinstance(rule, str):
        raise TypeError(f"subjects must be 'auto', None, a regex string or a callable, got {type(rule).__name__}")
    rx = re.compile(rule)
    ids, unmatched = [], []
    for p, f in zip(paths, fnames):
        m = rx.search(f)
        if m is None:
            unmatched.append(p)
            continue
        ids.append(m.group(1) if rx.groups else m.group(0))
    if unmatched:
        shown = ", ".join(unmatched[:5]) + (f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else "")
        raise ValueError(f"subject regex {rule!r} matches no subject id in {len(unmatched)} files: {shown}")
    return np.array(ids)


def _split(paths, fnames, rule, layout):
    if rule is None:
        return None
    if callable(rule):
        return np.array([str(rule(p)) for p in paths])
    if rule != "auto":
        raise ValueError(f"split must be 'auto', None or a callable, got {rule!r}")
    if layout != "fer2013":
        return None
    return np.array([FER2013_SPLITS[f.split("_", 1)[0]] for f in fnames])
