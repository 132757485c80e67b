"""Training data of an Active Shape Model: landmarked image folders, face boxes, mirroring.

Landmarked images are image files with a 300-W ``.pts`` file of the same stem
beside them (:mod:`facefeat.shape.pts`); :func:`load_landmarked_images` reads
them and :func:`save_landmarked_images` writes them.
:func:`detect_face_box` gives the dlib HOG boxes from which the model learns
to place its initial shape and the fitter starts, and :func:`mirror_faces`
doubles a 68-point training set with its left-right mirror image.
"""

from pathlib import Path

import numpy as np

from facefeat.shape._frames import to_gray_u8

__all__ = [
    "load_landmarked_images",
    "save_landmarked_images",
    "detect_face_box",
    "ibug68_mirror",
    "mirror_faces",
]


def load_landmarked_images(paths, *, progress=False):
    """Read image + ``.pts`` pairs from folders or image paths.

    Parameters
    ----------
    paths : str, path-like or sequence of them
        Folders (searched recursively for images with a ``.pts`` of the same
        stem beside them) or image files.
    progress : bool, default=False

    Returns
    -------
    images : list of ndarray of shape (h, w), uint8
        Gray images.
    shapes : ndarray of shape (n, n_points, 2)
        Landmarks, 0-based (the files' 1-based coordinates minus 1).
    image_paths : list of str
        The image file of each pair, ``image_paths[i]`` giving ``images[i]``.

    Raises
    ------
    ValueError
        No image with a ``.pts`` file was found, or the ``.pts`` files have
        different numbers of points.

    See Also
    --------
    save_landmarked_images : the inverse.
    facefeat.shape.pts.find_pts_pairs : how the pairs are found.
    facefeat.shape.pts.read_pts : the ``.pts`` format.

    Examples
    --------
    Two synthetic faces written as PNG + ``.pts`` pairs:

    >>> import os, tempfile
    >>> from facefeat.shape.training_data import load_landmarked_images, save_landmarked_images
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=1, n_per_class=1, classes=["happiness", "surprise"])
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_landmarked_images(folder, ds.images, ds.landmarks)
    >>> images, shapes, image_paths = load_landmarked_images(folder)
    >>> len(images), images[0].shape, shapes.shape
    (2, (128, 128), (2, 68, 2))
    >>> [os.path.basename(path) for path in image_paths]
    ['face0.png', 'face1.png']
    >>> bool(abs(shapes - ds.landmarks).max() < 1e-3)  # written with 3 decimals
    True
    """
    from tqdm.auto import tqdm

    from facefeat.images.io import read_image
    from facefeat.shape.pts import find_pts_pairs, read_pts

    pairs = find_pts_pairs(paths)
    if not pairs:
        raise ValueError(f"no image with a .pts file of the same name found in {paths}")
    images, shapes, kept = [], [], []
    for img_path, pts_path in tqdm(pairs, desc="reading", disable=not progress, leave=False):
        images.append(read_image(img_path, mode="gray"))
        shapes.append(read_pts(pts_path))
        kept.append(img_path)
    n = {len(s) for s in shapes}
    if len(n) != 1:
        raise ValueError(f"the .pts files have different numbers of points: {sorted(n)}")
    return images, np.stack(shapes), kept


def save_landmarked_images(folder, images, shapes):
    """Write images and their landmarks as ``face<i>.png`` + ``face<i>.pts`` pairs.

    The inverse of :func:`load_landmarked_images`: a folder that
    :func:`~facefeat.shape.model.train_asm` and ``facefeat asm train`` read.

    Parameters
    ----------
    folder : str or path-like
        Created if missing; files of the same names are overwritten.
    images : sequence of ndarray of shape (h, w) or (h, w, 3), uint8
    shapes : sequence of array_like of shape (n_points, 2)
        0-based landmarks, written 1-based with 3 decimals
        (:func:`~facefeat.shape.pts.write_pts`).

    Returns
    -------
    image_paths : list of str
        The PNG file of each image.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> paths = save_landmarked_images(folder, [np.zeros((8, 8), np.uint8)], [[[1.0, 2.0], [3.0, 4.0]]])
    >>> [os.path.basename(path) for path in paths], sorted(os.listdir(folder))
    (['face0.png'], ['face0.png', 'face0.pts'])
    """
    from PIL import Image

    from facefeat.shape.pts import write_pts

    if len(images) != len(shapes):
        raise ValueError(f"got {len(shapes)} shapes for {len(images)} images")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (image, shape) in enumerate(zip(images, shapes)):
        Image.fromarray(image).save(folder / f"face{i}.png")
        write_pts(folder / f"face{i}.pts", shape)
        paths.append(str(folder / f"face{i}.png"))
    return paths


def detect_face_box(image, *, upsample="auto"):
    """The largest face box dlib's HOG detector finds in a gray or RGB image, or None.

    :func:`facefeat.faces.align.detect_face_box` on the image's gray levels: the
    same detector and size rules as :func:`facefeat.faces.align.detect_landmarks`,
    so its boxes are the ones dlib's 68-point predictor starts from.

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, 3), uint8
    upsample : "auto" or int, default="auto"

    Returns
    -------
    box : ndarray of shape (4,) or None
        ``(x0, y0, x1, y1)``: dlib's rectangle (left, top, right, bottom) in
        the image's pixel frame.

    References
    ----------
    .. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
       detection", CVPR 2005. :DOI:`10.1109/CVPR.2005.177`

    Examples
    --------
    An RGB photograph; the box is around the astronaut's face:

    >>> from skimage import data
    >>> from facefeat.shape.training_data import detect_face_box
    >>> x0, y0, x1, y1 = detect_face_box(data.astronaut())
    >>> bool(150 < x0 < x1 < 300 and 50 < y0 < y1 < 200)
    True

    No face, no box:

    >>> import numpy as np
    >>> print(detect_face_box(np.full((64, 64), 128, dtype=np.uint8)))
    None
    """
    from facefeat.faces import align

    return align.detect_face_box(to_gray_u8(image), upsample=upsample)


def ibug68_mirror():
    """Index map of the iBUG-68 landmarks under a left-right flip of the image.

    Built from the regions of :mod:`facefeat.faces.landmarks`: after flipping an
    image, point ``i`` of the flipped face is point ``mirror[i]`` of the
    original, moved to ``x' = width - 1 - x``.

    Returns
    -------
    ndarray of int of shape (68,)

    Examples
    --------
    >>> m = ibug68_mirror()
    >>> int(m[0]), int(m[36]), int(m[48]), int(m[30]), bool((m[m] == np.arange(68)).all())
    (16, 45, 54, 30, True)
    """
    from facefeat.faces import landmarks as L

    m = np.arange(L.N_LANDMARKS)

    def pair(a, b):
        m[list(a)] = list(b)
        m[list(b)] = list(a)

    pair(L.JAW, L.JAW[::-1])
    pair(L.RIGHT_BROW, L.LEFT_BROW[::-1])
    pair(L.NOSE_BASE, L.NOSE_BASE[::-1])
    pair(L.RIGHT_EYE, [L.LEFT_EYE[(3 - k) % 6] for k in range(6)])
    pair(L.OUTER_LIPS, [L.OUTER_LIPS[(6 - k) % 12] for k in range(12)])
    pair(L.INNER_LIPS, [L.INNER_LIPS[(4 - k) % 8] for k in range(8)])
    return m


def mirror_faces(images, shapes, boxes):
    """A 68-point training set followed by its left-right mirror image.

    Parameters
    ----------
    images : sequence of ndarray of shape (h, w) or (h, w, 3)
    shapes : ndarray of shape (n_images, 68, 2)
        iBUG-68 landmarks, 0-based, in each image's pixel frame.
    boxes : sequence of (array_like of shape (4,) or None)
        A face box ``(x0, y0, x1, y1)`` per image, or None.

    Returns
    -------
    images : list of ndarray
        The ``n_images`` images, then their mirror images.
    shapes : ndarray of shape (2 * n_images, 68, 2)
        The mirrored landmarks renumbered by :func:`ibug68_mirror`, so that
        point 36 is still the right eye's outer corner.
    boxes : list of (ndarray of shape (4,) or None)

    Examples
    --------
    >>> import numpy as np
    >>> shape = np.zeros((68, 2)); shape[:, 0] = np.arange(68)
    >>> images, shapes, boxes = mirror_faces([np.zeros((10, 100), np.uint8)], shape[None],
    ...                                      [np.array([0.0, 0.0, 9.0, 9.0])])
    >>> len(images), shapes.shape, boxes[1].tolist()
    (2, (2, 68, 2), [90.0, 0.0, 99.0, 9.0])
    >>> shapes[1, 0].tolist()  # the mirror's jaw starts where the original's ends (x = 16)
    [83.0, 0.0]
    """
    perm = ibug68_mirror()
    out_i, out_s, out_b = list(images), list(shapes), list(boxes)
    for img, shape, box in zip(images, shapes, boxes):
        img = np.asarray(img)
        w = img.shape[1]
        out_i.append(np.ascontiguousarray(img[:, ::-1]))
        flipped = shape[perm].copy()
        flipped[:, 0] = w - 1 - flipped[:, 0]
        out_s.append(flipped)
        out_b.append(None if box is None else np.array([w - 1 - box[2], box[1], w - 1 - box[0], box[3]], float))
    return out_i, np.stack(out_s), out_b
