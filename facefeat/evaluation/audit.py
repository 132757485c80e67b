"""Evaluation-integrity audit of a face data set: duplicates, leaks, thin classes.

A benchmark score means little when the same picture sits in the training and
the test set, or twice in the test set with two different labels. This module
finds such problems before any model is trained:

* **exact duplicates** -- files whose *decoded* gray pixels (what every
  facefeat pipeline sees, :func:`facefeat.images.io.read_image` with ``mode="gray"``)
  and shape are identical, whatever the file format: a PNG and its lossless
  BMP re-save match, a JPEG re-encoding (which changes pixels) does not;
* **near duplicates** (``near=True``) -- images whose perceptual hash (a DCT
  pHash of 255 bits, see :func:`perceptual_hash`) differs in at most
  ``near_threshold`` bits: re-encoded, slightly brightened, noisy or
  re-cropped copies of one photograph;
* duplicate groups with **conflicting labels** and groups that **span the
  data set's splits** (FER2013's ``Training_`` / ``PublicTest_`` file names)
  or several subjects;
* **classes** with fewer than ``min_class_count`` images and **subjects** with
  fewer than ``min_subject_images`` images;
* **unreadable** files (the reading errors of :mod:`facefeat.images.io`) and blank
  (constant) images.

Duplicates are grouped into connected components (union-find over "identical
pixels" and "pHash distance <= threshold" relations). :func:`dedupe_plan`
turns a report into what a benchmark should do about them (keep groups in one
fold, drop copies, remove training copies of test images), and
:func:`duplicate_group_ids` gives leak-proof fold groups.

Examples
--------
>>> import numpy as np
>>> from facefeat.images.datasets import FaceDataset
>>> from facefeat.evaluation.audit import audit_dataset, duplicate_group_ids
>>> rng = np.random.default_rng(0)
>>> faces = [rng.integers(0, 256, (16, 16), dtype=np.uint8) for _ in range(4)]
>>> ds = FaceDataset(labels=["anger", "fear", "fear", "anger", "fear"],
...                  images=faces + [faces[0].copy()])
>>> report = audit_dataset(ds, min_class_count=1)
>>> [(g["indices"], g["labels"], g["label_conflict"]) for g in report.groups]
[([0, 4], ['anger', 'fear'], True)]
>>> duplicate_group_ids(report, len(ds)).tolist()
[0, 1, 2, 3, 0]
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from facefeat.evaluation._groups import chain_edges, connected_components

__all__ = [
    "AuditReport",
    "MIN_CLASS_COUNT",
    "MIN_SUBJECT_IMAGES",
    "NEAR_THRESHOLD",
    "PHASH_BITS",
    "audit_dataset",
    "perceptual_hash",
]

#: Side of the low-frequency DCT block used by the perceptual hash; the hash
#: has ``PHASH_SIZE ** 2 - 1`` bits (the DC term is left out). 16 rather than
#: the classic 8: with 63 bits, different (aligned, frontal) faces of FER2013
#: are often within 4-6 bits of each other.
PHASH_SIZE = 16
#: Number of bits of :func:`perceptual_hash`.
PHASH_BITS = PHASH_SIZE * PHASH_SIZE - 1
#: Default Hamming threshold (bits out of :data:`PHASH_BITS`) for near
#: duplicates. On FER2013, sampled pairs up to ~56 bits apart were the same
#: photograph (re-crops, watermarks, re-encodes) and unrelated faces appear
#: from ~66 bits; but in lab data sets of aligned faces on one background the
#: closest images of *different* subjects are 44 bits apart (CK+) and 54
#: (JAFFE). 40 links no two subjects there (see ``audit_dataset``).
NEAR_THRESHOLD = 40
#: Default minimum images per class: a class with fewer than the default 10
#: folds cannot appear in every test fold.
MIN_CLASS_COUNT = 10
#: Default minimum images per subject (subjects with fewer are listed).
MIN_SUBJECT_IMAGES = 3
#: What :func:`dedupe_plan` can do with duplicates.

_RESIZE = 32  # images are shrunk to 32x32 before the DCT


# --------------------------------------------------------------------------- #
# Hashing
# --------------------------------------------------------------------------- #

def _pixel_digest(gray):
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{gray.shape[0]}x{gray.shape[1]}:".encode())
    h.update(np.ascontiguousarray(gray).tobytes())
    return h.hexdigest()


def _small(gray):
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(gray))
    return np.asarray(im.resize((_RESIZE, _RESIZE), Image.Resampling.BILINEAR), dtype=np.float32)


def _phash_bits(smalls):
    """(n, PHASH_BITS) bool from a stack of (n, 32, 32) float images."""
    from scipy.fft import dctn

    coef = dctn(np.asarray(smalls, dtype=np.float32), axes=(1, 2), norm="ortho")
    low = coef[:, :PHASH_SIZE, :PHASH_SIZE].reshape(len(coef), -1)[:, 1:]  # drop the DC term
    return low > np.median(low, axis=1, keepdims=True)


def perceptual_hash(images):
    """DCT perceptual hash (pHash) of gray images.

    Each image is resized to 32x32 (bilinear, antialiased), transformed with a
    2-D DCT-II, and the 255 lowest-frequency coefficients of the top-left
    16x16 block (the DC term excluded) are compared with their median. A uniform
    brightness change (before clipping) only moves the DC term and a contrast
    change scales all coefficients, so neither changes the hash; small noise
    and JPEG re-encoding flip few bits.

    Parameters
    ----------
    images : sequence of ndarray of uint8 of shape (h, w) or (h, w, 3)
        Colour images are converted to gray first.

    Returns
    -------
    bits : ndarray of bool of shape (n_images, 255)
        Compare two hashes by their Hamming distance, ``(a != b).sum()``.
        Every hash has 127 bits set, so distances are even.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> face = rng.integers(0, 200, (48, 48), dtype=np.uint8)
    >>> brighter = face + np.uint8(40)          # no clipping: same hash
    >>> other = rng.integers(0, 200, (48, 48), dtype=np.uint8)
    >>> h = perceptual_hash([face, brighter, other])
    >>> h.shape, int((h[0] != h[1]).sum()), int((h[0] != h[2]).sum()) > 56
    ((3, 255), 0, True)
    """
    from facefeat.images.datasets import _convert_mode

    smalls = [_small(_convert_mode(im, "gray")) for im in images]
    if not smalls:
        return np.zeros((0, PHASH_BITS), dtype=bool)
    return _phash_bits(np.stack(smalls))


def _hash_chunk(items, from_files, near):
    """Digests, pHash bits, shapes, blank flags and read errors of some images."""
    from facefeat.images.datasets import _convert_mode
    from facefeat.images.io import ImageReadError, read_image

    digests, shapes, blank, smalls, errors = [], [], [], [], []
    for k, item in enumerate(items):
        if from_files:
            try:
                gray = read_image(item, mode="gray")
            except ImageReadError as exc:
                errors.append((k, exc.path, exc.reason))
                digests.append(None)
                shapes.append(None)
                blank.append(False)
                continue
        else:
            gray = _convert_mode(np.asarray(item), "gray")
        digests.append(_pixel_digest(gray))
        shapes.append(tuple(int(s) for s in gray.shape))
        blank.append(bool(gray.size == 0 or gray.min() == gray.max()))
        if near:
            smalls.append(_small(gray))
    bits = _phash_bits(np.stack(smalls)) if near and smalls else None
    return digests, shapes, blank, bits, errors


def _near_pairs(bits, threshold, block=512):
    """Pairs (i, j), i < j, of hashes at Hamming distance <= threshold.

    Distances come from one matrix product of the hashes as +-1 vectors
    (``d = (n_bits - a.b) / 2``), a block of rows at a time.
    """
    n, n_bits = bits.shape
    signs = np.where(bits, np.float32(1), np.float32(-1))
    min_dot = n_bits - 2 * threshold
    pairs_i, pairs_j, dists = [], [], []
    for s in range(0, n, block):
        e = min(n, s + block)
        dots = signs[s:e] @ signs[s:].T  # (e - s, n - s), exact integers in float32
        ii, jj = np.nonzero(dots >= min_dot - 0.5)
        jj = jj + s
        ii = ii + s
        keep = jj > ii
        pairs_i.append(ii[keep])
        pairs_j.append(jj[keep])
        dists.append(((n_bits - dots[ii[keep] - s, jj[keep] - s]) / 2).round().astype(int))
    if not pairs_i:
        empty = np.zeros(0, dtype=int)
        return empty, empty, empty
    return np.concatenate(pairs_i), np.concatenate(pairs_j), np.concatenate(dists)


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #

@dataclass
class AuditReport:
    """What :func:`audit_dataset` found.

    Attributes
    ----------
    name : str
        Name of the data set.
    root : str or None
        Folder it was read from.
    n_images : int
        Number of items of the audited data set (indices below refer to it).
    groups : list of dict
        One dict per duplicate group (2 or more items), ordered by first
        index, with keys ``id``, ``kind`` (``"exact"``: all pixel-identical;
        ``"near"``: linked by the perceptual hash), ``size``, ``indices``,
        ``files`` (None for in-memory data), ``labels``, ``splits`` and
        ``subjects`` (None when the data set has none), ``label_conflict``,
        ``cross_split``, ``cross_subject`` (bools) and, for near groups,
        ``pixel_ids`` (members with the same id are pixel-identical) and
        ``max_hamming`` (largest pHash distance of the links used).
    summary : dict
        Counts: ``exact`` (pixel-identical sets, whatever ``near``) and
        ``duplicates`` (the groups above) each give ``groups``,
        ``files_in_groups``, ``extra_files`` (files beyond one per group),
        ``cross_split_groups``, ``label_conflict_groups``,
        ``cross_subject_groups``; plus ``n_images``, ``n_readable``,
        ``n_unreadable``, ``n_skipped_by_loader``, ``n_near_groups``,
        ``n_small_classes``, ``n_small_subjects``, ``n_blank``, ``shapes``,
        ``class_counts``, ``split_counts``, ``n_subjects``.
    unreadable : list of (str, str)
        Files that could not be decoded, with the reason.
    skipped : list of (str, str)
        Files the loader left out (``FaceDataset.skipped``).
    small_classes : dict of str to int
        Classes with fewer than ``min_class_count`` images.
    small_subjects : dict of str to int
        Subjects with fewer than ``min_subject_images`` images.
    blank : list of int
        Indices of constant images (a single gray level).
    params : dict
        The settings used (``near``, ``near_threshold``, ``hash``, ...).
    seconds : float
        Wall time of the audit.

    See Also
    --------
    dedupe_plan : what to do with the duplicate groups before evaluation.

    Examples
    --------
    The first and the third image are the same pixels, one in each split:

    >>> import json
    >>> import numpy as np
    >>> from facefeat.evaluation.audit import AuditReport, audit_dataset
    >>> from facefeat.images.datasets import FaceDataset
    >>> rng = np.random.default_rng(1)
    >>> a, b = (rng.integers(0, 200, (32, 32), dtype=np.uint8) for _ in range(2))
    >>> ds = FaceDataset(labels=["fear", "anger", "fear"], images=[a, b, a.copy()],
    ...                  split=["train", "test", "test"])
    >>> report = audit_dataset(ds, min_class_count=1)
    >>> isinstance(report, AuditReport), report.n_images
    (True, 3)
    >>> group = report.groups[0]
    >>> group["kind"], group["indices"], group["splits"], group["cross_split"]
    ('exact', [0, 2], ['train', 'test'], True)
    >>> report.summary["exact"]["extra_files"], report.summary["exact"]["cross_split_groups"]
    (1, 1)
    >>> json.loads(report.to_json())["n_images"]
    3
    >>> md = report.to_markdown().splitlines()
    >>> print(md[0])
    # Data audit: dataset
    >>> print(md[2])
    3 images, 2 classes, no subject ids; splits: test 2, train 1.
    """

    name: str
    root: str | None
    n_images: int
    groups: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    unreadable: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    small_classes: dict = field(default_factory=dict)
    small_subjects: dict = field(default_factory=dict)
    blank: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self):
        """Everything as plain JSON-serialisable Python objects."""
        return {
            "name": self.name, "root": self.root, "n_images": self.n_images, "params": self.params,
            "summary": self.summary, "seconds": round(self.seconds, 3),
            "unreadable": [{"path": p, "reason": r} for p, r in self.unreadable],
            "skipped_by_loader": [{"path": p, "reason": r} for p, r in self.skipped],
            "small_classes": self.small_classes, "small_subjects": self.small_subjects,
            "blank": self.blank, "groups": self.groups,
        }

    def to_json(self, indent=1):
        """The report as JSON text (every group with its files).

        Returns
        -------
        str
        """
        return json.dumps(self.to_dict(), indent=indent)

    def _rel(self, path):
        if path is None:
            return None
        if self.root:
            try:
                return os.path.relpath(path, self.root)
            except ValueError:
                pass
        return path

    def _member(self, g, k):
        f = g["files"][k] if g["files"] is not None else f"image[{g['indices'][k]}]"
        parts = [g["labels"][k]]
        if g["splits"] is not None:
            parts.append(g["splits"][k])
        if g["subjects"] is not None:
            parts.append(g["subjects"][k])
        return f"`{self._rel(f)}` ({', '.join(parts)})"

    def describe(self):
        """A few lines of text for the console.

        Returns
        -------
        str
        """
        s, p = self.summary, self.params
        lines = [f"Audit of {self.name}: {s['n_images']} images ({s['n_readable']} read, "
                 f"{s['n_unreadable']} unreadable), {len(s['class_counts'])} classes"
                 + (f", {s['n_subjects']} subjects" if s["n_subjects"] is not None else "")
                 + f" [{self.seconds:.1f} s]"]
        lines.append("  exact duplicates (identical decoded pixels): " + _stats_text(s["exact"]))
        if p["near"]:
            lines.append(f"  with near duplicates (pHash, Hamming <= {p['near_threshold']} of {PHASH_BITS} bits): "
                         + _stats_text(s["duplicates"]) + f"; {s['n_near_groups']} groups not pixel-identical")
        lines.append(f"  classes with fewer than {p['min_class_count']} images: "
                     + (", ".join(f"{c} ({n})" for c, n in self.small_classes.items()) or "none"))
        if s["n_subjects"] is None:
            lines.append("  subjects: none (no subject ids; folds cannot be subject-independent)")
        else:
            lines.append(f"  subjects with fewer than {p['min_subject_images']} images: "
                         + (_shorten([f"{k} ({n})" for k, n in self.small_subjects.items()]) or "none"))
        lines.append("  blank (constant) images: " + (str(len(self.blank)) if self.blank else "none"))
        lines.append("  unreadable files: " + (_shorten([f"{self._rel(f)} ({r})" for f, r in self.unreadable])
                                               or "none"))
        if self.skipped:
            lines.append("  left out by the loader: " + _shorten([self._rel(f) for f, _ in self.skipped]))
        return "\n".join(lines)

    def to_markdown(self, max_groups=100):
        """The report as Markdown (``audit.md``).

        Parameters
        ----------
        max_groups : int, default=100
            Groups listed per section; the rest are only in the JSON.

        Returns
        -------
        str
        """
        s, p = self.summary, self.params
        lines = [f"# Data audit: {self.name}", ""]
        lines.append(f"{s['n_images']} images, {len(s['class_counts'])} classes"
                     + (f", {s['n_subjects']} subjects" if s["n_subjects"] is not None else ", no subject ids")
                     + ("; splits: " + ", ".join(f"{k} {n}" for k, n in s["split_counts"].items())
                        if s["split_counts"] else "")
                     + (f" (root `{self.root}`)" if self.root else "") + ".")
        lines.append("")
        lines.append("Exact duplicates have identical decoded gray pixels (any file format). "
                     + (f"Near duplicates: perceptual hash (DCT pHash, {PHASH_BITS} bits) within "
                        f"Hamming distance {p['near_threshold']}, grouped transitively."
                        if p["near"] else "Near duplicates were not searched (`--near`)."))
        lines += ["", "| check | count |", "|---|---:|"]
        rows = [("images read", s["n_readable"]), ("unreadable files", s["n_unreadable"]),
                ("files left out by the loader", s["n_skipped_by_loader"]),
                ("exact duplicate groups", s["exact"]["groups"]),
                ("extra files in exact groups", s["exact"]["extra_files"]),
                ("exact groups spanning splits", s["exact"]["cross_split_groups"]),
                ("exact groups with conflicting labels", s["exact"]["label_conflict_groups"]),
                ("exact groups spanning subjects", s["exact"]["cross_subject_groups"])]
        if p["near"]:
            rows += [("duplicate groups incl. near", s["duplicates"]["groups"]),
                     ("extra files incl. near", s["duplicates"]["extra_files"]),
                     ("groups incl. near spanning splits", s["duplicates"]["cross_split_groups"]),
                     ("groups incl. near with conflicting labels", s["duplicates"]["label_conflict_groups"])]
        rows += [(f"classes with < {p['min_class_count']} images", s["n_small_classes"]),
                 (f"subjects with < {p['min_subject_images']} images",
                  "n/a" if s["n_subjects"] is None else s["n_small_subjects"]),
                 ("blank images", s["n_blank"])]
        lines += [f"| {k} | {'n/a' if v is None else v} |" for k, v in rows]
        lines += ["", "Class counts: " + ", ".join(f"{c} {n}" for c, n in s["class_counts"].items()) + "."]

        def section(title, groups):
            nonlocal lines
            lines += ["", f"## {title} ({len(groups)})", ""]
            if not groups:
                lines.append("None.")
                return
            for g in groups[:max_groups]:
                extra = f", Hamming <= {g['max_hamming']}" if g["kind"] == "near" else ""
                lines.append(f"- group {g['id']} ({g['kind']}{extra}): "
                             + "; ".join(self._member(g, k) for k in range(g["size"])))
            if len(groups) > max_groups:
                lines.append(f"- ... and {len(groups) - max_groups} more (audit.json lists every group)")

        section("Duplicate groups with conflicting labels", [g for g in self.groups if g["label_conflict"]])
        if s["split_counts"]:
            section("Duplicate groups spanning splits", [g for g in self.groups if g["cross_split"]])
        if s["n_subjects"] is not None:
            section("Duplicate groups spanning subjects", [g for g in self.groups if g["cross_subject"]])
        if p["near"]:
            section("Near-duplicate groups", [g for g in self.groups if g["kind"] == "near"])
        if self.small_classes:
            lines += ["", "## Small classes", ""] + [f"- {c}: {n}" for c, n in self.small_classes.items()]
        if self.small_subjects:
            lines += ["", f"## Subjects with fewer than {p['min_subject_images']} images", "",
                      ", ".join(f"{k} ({n})" for k, n in self.small_subjects.items())]
        if self.unreadable:
            lines += ["", "## Unreadable files", ""] + [f"- `{self._rel(f)}`: {r}" for f, r in self.unreadable]
        if self.skipped:
            lines += ["", "## Left out by the loader", ""] + [f"- `{self._rel(f)}`: {r}" for f, r in self.skipped]
        lines += ["", f"Audit took {self.seconds:.1f} s.", ""]
        return "\n".join(lines)


def _shorten(items, n=5):
    if not items:
        return ""
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _stats_text(st):
    if not st["groups"]:
        return "none"
    text = f"{st['groups']} groups, {st['extra_files']} extra files"
    if st["cross_split_groups"] is not None:
        text += f"; {st['cross_split_groups']} span splits"
    text += f"; {st['label_conflict_groups']} with conflicting labels"
    if st["cross_subject_groups"] is not None:
        text += f"; {st['cross_subject_groups']} span subjects"
    return text


def _group_stats(groups, has_split, has_subjects):
    return {
        "groups": len(groups),
        "files_in_groups": int(sum(g["size"] for g in groups)),
        "extra_files": int(sum(g["size"] - 1 for g in groups)),
        "cross_split_groups": sum(g["cross_split"] for g in groups) if has_split else None,
        "label_conflict_groups": sum(g["label_conflict"] for g in groups),
        "cross_subject_groups": sum(g["cross_subject"] for g in groups) if has_subjects else None,
    }


# --------------------------------------------------------------------------- #
# The audit
# --------------------------------------------------------------------------- #

def audit_dataset(dataset, *, images=None, near=False, near_threshold=NEAR_THRESHOLD,
                  min_class_count=MIN_CLASS_COUNT, min_subject_images=MIN_SUBJECT_IMAGES,
                  n_jobs=1, progress=False):
    """Check a data set for duplicates, split leaks, label conflicts and thin classes.

    Parameters
    ----------
    dataset : FaceDataset
        From :func:`facefeat.images.datasets.load_folder` (files) or in memory.
    images : list of ndarray, optional
        The data set's images already decoded (e.g. by
        ``dataset.read_images()``), one per item, so nothing is read twice.
        Colour images are converted to gray.
    near : bool, default=False
        Also link images whose perceptual hash (:func:`perceptual_hash`)
        differs in at most ``near_threshold`` bits.
    near_threshold : int, default=40
        Hamming threshold in bits out of 255 (:data:`NEAR_THRESHOLD`).
        Uniform brightness/contrast changes keep the hash; JPEG re-encodes
        and mild noise flip up to ~30 bits of smooth 48x48 faces. On FER2013
        (web faces) pairs up to ~56 bits were still the same photograph
        (re-crops, watermarks), so 56 finds more there; in lab sets of
        aligned faces (CK+, JAFFE) different people come as close as 44
        bits, which 40 stays below. Within one subject, frames of a sequence
        are near duplicates by design; subject-grouped folds already keep
        them together.
    min_class_count : int, default=10
        Classes with fewer images are reported.
    min_subject_images : int, default=3
        Subjects with fewer images are reported.
    n_jobs : int, default=1
        Processes decoding files (joblib).
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    AuditReport

    Notes
    -----
    Exact duplicates are files with identical decoded gray pixels and shape
    (a 128-bit BLAKE2b digest of them), so format changes that keep pixels
    (PNG -> BMP) are caught and JPEG re-encodes are not (use ``near``).
    Groups are connected components: with ``near=True`` a chain of close
    images forms one group even when its ends are further apart than the
    threshold (``max_hamming`` is the largest link). Decoding FER2013's
    32,298 48x48 JPEGs takes about 13 s on one core; ``near`` adds about
    15 s (all pairs of distinct images compared by one matrix product of
    the +-1 hashes per block of 512 images).

    Examples
    --------
    >>> import numpy as np
    >>> from facefeat.images.datasets import FaceDataset
    >>> rng = np.random.default_rng(1)
    >>> a, b = (rng.integers(0, 200, (32, 32), dtype=np.uint8) for _ in range(2))
    >>> ds = FaceDataset(labels=["fear"] * 3, images=[a, b, a + np.uint8(30)],
    ...                  split=["train", "test", "test"])
    >>> audit_dataset(ds, min_class_count=1).summary["exact"]["groups"]
    0
    >>> report = audit_dataset(ds, near=True, min_class_count=1)
    >>> g = report.groups[0]
    >>> g["kind"], g["indices"], g["splits"], g["cross_split"]
    ('near', [0, 2], ['train', 'test'], True)
    """
    t0 = time.perf_counter()
    n = len(dataset)
    if images is not None and len(images) != n:
        raise ValueError(f"{len(images)} images for a data set of {n} items")
    near_threshold = int(near_threshold)
    if near and not 0 <= near_threshold < PHASH_BITS:
        raise ValueError(f"near_threshold must be in [0, {PHASH_BITS}), got {near_threshold}")
    from_files = images is None and dataset.images is None
    items = list(dataset.paths) if from_files else list(images if images is not None else dataset.images)

    digests, shapes, blank, errors = [], [], [], []
    bit_rows = []
    chunk = max(64, min(2000, n // max(1, 4 * n_jobs) + 1))
    chunks = [items[s:s + chunk] for s in range(0, n, chunk)]
    if n_jobs != 1 and from_files and len(chunks) > 1:
        from joblib import Parallel, delayed

        outputs = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_hash_chunk)(c, from_files, near) for c in chunks)
    else:
        outputs = (_hash_chunk(c, from_files, near) for c in chunks)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc="auditing", unit="img")
    offset = 0
    for (d, sh, bl, bits, err), c in zip(outputs, chunks):
        digests += d
        shapes += sh
        blank += bl
        errors += [(offset + k, path, reason) for k, path, reason in err]
        if bits is not None:
            bit_rows.append(bits)
        offset += len(c)
        if bar is not None:
            bar.update(len(c))
    if bar is not None:
        bar.close()

    readable = np.array([d is not None for d in digests], dtype=bool)
    by_digest = {}
    for i, d in enumerate(digests):
        if d is not None:
            by_digest.setdefault(d, []).append(i)
    exact_sets = [m for m in by_digest.values() if len(m) > 1]

    # one representative per distinct pixel content; near links between representatives
    ii, jj = chain_edges(exact_sets)
    link_dist = {}
    if near:
        readable_idx = np.flatnonzero(readable)
        bits = np.concatenate(bit_rows) if bit_rows else np.zeros((0, PHASH_BITS), bool)
        rep_pos = {}  # representative dataset index -> row in bits
        reps = []
        for row, i in enumerate(readable_idx):
            if by_digest[digests[i]][0] == i:
                rep_pos[i] = row
                reps.append(i)
        reps = np.array(reps, dtype=int)
        pi, pj, pd = _near_pairs(bits[[rep_pos[i] for i in reps]], near_threshold)
        for a, b, dist in zip(reps[pi].tolist(), reps[pj].tolist(), pd.tolist()):
            ii.append(a)
            jj.append(b)
            link_dist[(a, b)] = dist
    comp = connected_components(n, ii, jj)
    max_link = {}  # component -> largest pHash distance among its near links
    for (a, _), dist in link_dist.items():
        c = int(comp[a])
        max_link[c] = max(max_link.get(c, 0), dist)

    labels = dataset.labels
    split = dataset.split
    subjects = dataset.groups
    paths = dataset.paths

    def make_group(members):
        members = sorted(members)
        labs = labels[members].tolist()
        splits = None if split is None else split[members].tolist()
        subs = None if subjects is None else subjects[members].tolist()
        pix = {}
        pixel_ids = [pix.setdefault(digests[i], len(pix)) for i in members]
        g = {
            "id": None, "kind": "exact" if len(pix) == 1 else "near", "size": len(members),
            "indices": members, "files": None if paths is None else [str(paths[i]) for i in members],
            "labels": labs, "splits": splits, "subjects": subs,
            "label_conflict": len(set(labs)) > 1,
            "cross_split": splits is not None and len(set(splits)) > 1,
            "cross_subject": subs is not None and len(set(subs)) > 1,
        }
        if g["kind"] == "near":
            g["pixel_ids"] = pixel_ids
            g["max_hamming"] = int(max_link.get(int(comp[members[0]]), 0))
        return g

    members_of = {}
    for i in np.flatnonzero(readable):
        members_of.setdefault(int(comp[i]), []).append(int(i))
    groups = sorted((make_group(m) for m in members_of.values() if len(m) > 1), key=lambda g: g["indices"][0])
    for k, g in enumerate(groups):
        g["id"] = k
    exact_groups = [make_group(m) for m in exact_sets]

    counts = dataset.counts()
    small_classes = {c: k for c, k in counts.items() if k < min_class_count}
    small_subjects = {}
    if subjects is not None:
        names, k = np.unique(subjects, return_counts=True)
        small_subjects = {s: int(c) for s, c in zip(names.tolist(), k.tolist()) if c < min_subject_images}
    shape_counts = {}
    for sh in shapes:
        if sh is not None:
            key = "x".join(map(str, sh))
            shape_counts[key] = shape_counts.get(key, 0) + 1
    has_split, has_subjects = split is not None, subjects is not None
    summary = {
        "n_images": n,
        "n_readable": int(readable.sum()),
        "n_unreadable": len(errors),
        "n_skipped_by_loader": len(dataset.skipped),
        "class_counts": counts,
        "split_counts": dataset.summary()["split_counts"],
        "n_subjects": None if subjects is None else int(len(np.unique(subjects))),
        "exact": _group_stats(exact_groups, has_split, has_subjects),
        "duplicates": _group_stats(groups, has_split, has_subjects),
        "n_near_groups": sum(g["kind"] == "near" for g in groups),
        "n_small_classes": len(small_classes),
        "n_small_subjects": len(small_subjects),
        "n_blank": int(sum(blank)),
        "shapes": dict(sorted(shape_counts.items(), key=lambda kv: -kv[1])),
    }
    params = {
        "near": bool(near), "near_threshold": near_threshold if near else None,
        "exact_hash": "blake2b-128 of decoded gray pixels and shape",
        "near_hash": f"DCT pHash, {PHASH_BITS} bits (32x32 bilinear, 16x16 low frequencies without DC, "
                     "> median)" if near else None,
        "min_class_count": int(min_class_count), "min_subject_images": int(min_subject_images),
    }
    return AuditReport(
        name=dataset.name, root=dataset.root, n_images=n, groups=groups, summary=summary,
        unreadable=[(p, r) for _, p, r in errors], skipped=[(str(p), str(r)) for p, r in dataset.skipped],
        small_classes=small_classes, small_subjects=small_subjects,
        blank=[int(i) for i in np.flatnonzero(blank)], params=params, seconds=time.perf_counter() - t0,
    )


# public here before 0.2; they live in facefeat.evaluation.dedupe
from facefeat.evaluation.dedupe import DEDUPE_MODES, dedupe_plan, duplicate_group_ids  # noqa: E402,F401
