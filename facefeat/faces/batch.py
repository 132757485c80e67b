"""FaceBatch: aligned face crops travelling with their landmarks."""

from dataclasses import dataclass, field

import numpy as np

from facefeat.faces.landmarks import N_LANDMARKS


@dataclass(eq=False)
class FaceBatch:
    """Aligned faces, their landmarks in the aligned frame, and how each was found.

    :class:`~facefeat.faces.align.FaceAligner` returns one so that later steps of a
    pipeline (texture extractors, landmark geometry, ASM) all see the same faces.

    Parameters
    ----------
    images : ndarray of shape (n_faces, size, size) or (n_faces, size, size, 3), uint8
        Aligned crops, gray or RGB.
    landmarks : ndarray of shape (n_faces, 68, 2), float
        iBUG-68 landmarks in the crop's pixel frame, (x, y) order.
    face_found : ndarray of shape (n_faces,), bool
        True where the detector found the face; False for a fallback crop.
    sources : list of str or None, length n_faces, optional
        Where each face came from (file path, or ``image[i]`` for arrays), for reports.
    transforms : ndarray of shape (n_faces, 2, 3), optional
        Affine maps from each source image's pixel frame to its crop:
        ``crop_xy = xy @ T[:, :2].T + T[:, 2]``.

    Examples
    --------
    >>> import numpy as np
    >>> b = FaceBatch(np.zeros((3, 8, 8), np.uint8), np.zeros((3, 68, 2)),
    ...               np.array([True, False, True]))
    >>> len(b), len(b[[0, 2]]), int(b.face_found.sum())
    (3, 2, 2)
    """

    images: np.ndarray
    landmarks: np.ndarray
    face_found: np.ndarray
    sources: list = field(default=None)
    transforms: np.ndarray = field(default=None)

    def __post_init__(self):
        self.images = np.asarray(self.images)
        self.landmarks = np.asarray(self.landmarks, dtype=float)
        self.face_found = np.asarray(self.face_found, dtype=bool)
        n = len(self.images)
        if self.images.ndim not in (3, 4) or self.images.dtype != np.uint8:
            raise ValueError(
                f"images must be a uint8 array (n, h, w) or (n, h, w, 3), got {self.images.dtype} {self.images.shape}"
            )
        if self.landmarks.shape != (n, N_LANDMARKS, 2):
            raise ValueError(f"landmarks must have shape ({n}, 68, 2), got {self.landmarks.shape}")
        if self.face_found.shape != (n,):
            raise ValueError(f"face_found must have shape ({n},), got {self.face_found.shape}")
        if self.transforms is not None:
            self.transforms = np.asarray(self.transforms, dtype=float)
            if self.transforms.shape != (n, 2, 3):
                raise ValueError(f"transforms must have shape ({n}, 2, 3), got {self.transforms.shape}")
        if self.sources is not None:
            self.sources = [str(s) for s in self.sources]
            if len(self.sources) != n:
                raise ValueError(f"sources must have {n} entries, got {len(self.sources)}")

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        """Select faces; an int gives a batch of one, so the type never changes."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        idx = np.arange(len(self))[index]
        sources = None if self.sources is None else [self.sources[i] for i in idx]
        transforms = None if self.transforms is None else self.transforms[idx]
        return FaceBatch(self.images[idx], self.landmarks[idx], self.face_found[idx], sources, transforms)

    @classmethod
    def concatenate(cls, batches):
        """Join batches in order into one."""
        batches = list(batches)
        if not batches:
            raise ValueError("nothing to concatenate")
        sources = transforms = None
        if all(b.sources is not None for b in batches):
            sources = [s for b in batches for s in b.sources]
        if all(b.transforms is not None for b in batches):
            transforms = np.concatenate([b.transforms for b in batches])
        return cls(
            np.concatenate([b.images for b in batches]),
            np.concatenate([b.landmarks for b in batches]),
            np.concatenate([b.face_found for b in batches]),
            sources,
            transforms,
        )
