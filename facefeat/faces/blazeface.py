"""Every face of a photo with MediaPipe's BlazeFace (short range), run by OpenCV, over tiles.

The short-range model sees a 128 px square and finds faces that fill roughly
15-80 % of it; alone it misses the small faces of a group photo. So the
photo is searched whole (letterboxed to a square) and in overlapping square
tiles of its shorter side and of half of it, and the detections of all
windows are merged by weighted non-maximum suppression. On drawn group
photos with 96 faces of 60-388 px this found 95 (dlib's HOG detector,
shrinking photos to 640 px as facefeat's aligner does: 50), with no false
alarm on 16 faceless images, in 37 ms per 1000 px wide photo on 2 threads,
1.7 times the HOG detector's time (``benchmarks/face_detectors.py``).

The model file (0.22 MB) ships in ``facefeat/data`` under the Apache
License 2.0 (``facefeat/data/LICENSE-blazeface.txt``).

References
----------
.. [1] V. Bazarevsky, Y. Kartynnik, A. Vakunov, K. Raveendran and M.
       Grundmann, "BlazeFace: Sub-millisecond neural face detection on
       mobile GPUs", 2019. arXiv:1907.05047
"""

from pathlib import Path

import numpy as np

from facefeat.faces.models import per_thread

__all__ = ["MODEL_PATH", "detect_faces_blazeface", "weighted_nms"]

#: The BlazeFace short-range model shipped with facefeat.
MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "face_detection_short_range.tflite"

# the short-range model: 128 px input, 896 anchors on a 16 x 16 grid (stride 8, 2 per cell)
# and an 8 x 8 grid (stride 16, 6 per cell), unit anchor size (MediaPipe's SsdAnchorsCalculator)
_SIDE, _STRIDES, _PER_CELL = 128, (8, 16, 16, 16), 2


def _anchors(side=_SIDE, strides=_STRIDES, per_cell=_PER_CELL):
    """(n, 2) anchor centres (x, y) in [0, 1], in the order of the model's outputs.

    Consecutive layers of one stride share a grid, each adding ``per_cell``
    anchors per cell (MediaPipe's SsdAnchorsCalculator); the full-range
    model's are ``_anchors(192, (4,), 1)``.
    """
    anchors, i = [], 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        n = side // strides[i]
        centres = (np.arange(n) + 0.5) / n
        yy, xx = np.meshgrid(centres, centres, indexing="ij")
        anchors.append(np.repeat(np.stack([xx.ravel(), yy.ravel()], axis=1), per_cell * (j - i), axis=0))
        i = j
    return np.concatenate(anchors).astype(np.float32)


@per_thread
def _network():
    import cv2

    if not MODEL_PATH.is_file():
        raise FileNotFoundError(f"the BlazeFace model is missing from this installation ({MODEL_PATH})")
    net = cv2.dnn.readNetFromTFLite(np.fromfile(MODEL_PATH, np.uint8))
    return net, net.getUnconnectedOutLayersNames(), _anchors()  # outputs: box regressors, then scores


def _box_iou(box, boxes):
    lt = np.maximum(box[:2], boxes[:, :2])
    rb = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / np.maximum(np.prod(box[2:] - box[:2]) + areas - inter, 1e-12)


def weighted_nms(boxes, scores, iou_threshold=0.3):
    """Merge overlapping detections, best score first, averaging each group's boxes by score.

    MediaPipe's "weighted" non-maximum suppression: the boxes that overlap
    the best remaining one by more than ``iou_threshold`` are averaged with
    it (weights: their scores) into one detection with the best score.

    Parameters
    ----------
    boxes : ndarray of shape (n, 4)
        ``(left, top, right, bottom)``.
    scores : ndarray of shape (n,)
    iou_threshold : float, default=0.3

    Returns
    -------
    boxes : ndarray of shape (k, 4)
    scores : ndarray of shape (k,)

    Examples
    --------
    >>> boxes, scores = weighted_nms(np.array([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]]),
    ...                              np.array([0.9, 0.1, 0.8]))
    >>> boxes.tolist(), scores.tolist()
    ([[0.2, 0.0, 10.2, 10.0], [50.0, 50.0, 60.0, 60.0]], [0.9, 0.8])
    """
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores, kind="stable")
    kept_boxes, kept_scores = [], []
    while order.size:
        overlap = _box_iou(boxes[order[0]], boxes[order]) > iou_threshold
        overlap[0] = True
        group = order[overlap]
        w = scores[group]
        kept_boxes.append((boxes[group] * w[:, None]).sum(axis=0) / w.sum())
        kept_scores.append(scores[order[0]])
        order = order[~overlap]
    return np.array(kept_boxes).reshape(-1, 4), np.array(kept_scores)


def _detect_windows(windows, score_threshold):
    """Boxes (in [0, 1] of each square window) and scores of RGB uint8 windows, run as one batch.

    One forward pass of all the windows of a photo takes 20 ms where one
    per window took 26 (15 windows, 2 threads).
    """
    import cv2

    net, outputs, anchors = _network()
    x = np.stack([cv2.resize(w, (_SIDE, _SIDE), interpolation=cv2.INTER_AREA if max(w.shape[:2]) > _SIDE
                             else cv2.INTER_LINEAR) for w in windows]).astype(np.float32) * (2 / 255) - 1  # [-1, 1]
    net.setInput(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    raw_boxes, raw_scores = net.forward(outputs)
    found = []
    for boxes, scores in zip(_per_window(raw_boxes, len(windows)), _per_window(raw_scores, len(windows))[..., 0]):
        keep = scores > np.log(score_threshold / (1 - score_threshold))  # sigmoid(raw) > threshold
        raw, a = boxes[keep, :4] / _SIDE, anchors[keep]
        centre, size = raw[:, :2] + a, raw[:, 2:4]
        kept = 1 / (1 + np.exp(-np.clip(scores[keep], -80, 80)))  # +-80: exp stays finite in float32
        found.append((np.hstack([centre - size / 2, centre + size / 2]), kept))
    return found


def _per_window(raw, n):
    """(n, 896, k) from the network's (1, n * 896, k) output for a batch of ``n`` windows.

    The output holds the 16 x 16 grid's anchors (stride 8) of every window,
    then the 8 x 8 grid's (stride 16) of every window.
    """
    raw = raw.reshape(-1, raw.shape[-1])
    counts = [(_SIDE // s) ** 2 * _PER_CELL * _STRIDES.count(s) for s in sorted(set(_STRIDES))]
    blocks = np.split(raw, np.cumsum([c * n for c in counts])[:-1])
    return np.concatenate([b.reshape(n, c, -1) for b, c in zip(blocks, counts)], axis=1)


def _starts(n, side, overlap):
    if n <= side:
        return [0]
    k = int(np.ceil((n - side) / (side * (1 - overlap)))) + 1
    return np.round(np.linspace(0, n - side, k)).astype(int).tolist()


def detect_faces_blazeface(image, *, score_threshold=0.75, tile=(1.0, 0.5), overlap=0.25, iou_threshold=0.3):
    """Every face of an image: boxes and scores, the largest face first.

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, 3), uint8
        Gray or RGB.
    score_threshold : float, default=0.75
        Smallest detection score kept (MediaPipe's default is 0.5; 0.75 gave
        no false alarm on faceless images and lost no face in
        ``benchmarks/face_detectors.py``).
    tile : float, sequence of float or None, default=(1.0, 0.5)
        Sides of the square tiles searched besides the whole image, as
        fractions of its shorter side; None searches the whole image only.
        The tiles of the whole shorter side find the faces of a wide photo
        that fill most of its height (its letterboxed whole view shrinks them
        below the detector's confidence), those of half of it the small ones.
    overlap : float, default=0.25
        Overlap of neighbouring tiles, as a fraction of their side.
    iou_threshold : float, default=0.3
        Detections overlapping more than this are merged (:func:`weighted_nms`).

    Returns
    -------
    boxes : ndarray of shape (n_faces, 4)
        ``(left, top, right, bottom)`` in the image's pixels, by decreasing area.
    scores : ndarray of shape (n_faces,)

    Examples
    --------
    Two astronauts, one half the size of the other:

    >>> import cv2
    >>> from skimage import data
    >>> face = data.astronaut()[:300, 100:400]
    >>> photo = np.zeros((300, 500, 3), np.uint8)
    >>> photo[:, :300], photo[75:225, 325:475] = face, cv2.resize(face, (150, 150))
    >>> boxes, scores = detect_faces_blazeface(photo)
    >>> len(boxes), bool(boxes[0, 2] < 300 < boxes[1, 0]), bool(scores.min() > 0.75)
    (2, True, True)
    """
    import cv2

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"a uint8 image (h, w) or (h, w, 3) is needed, got {image.dtype} {image.shape}")
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image
    h, w = rgb.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side, 3), np.uint8)  # letterboxed: padded below and right
    square[:h, :w] = rgb
    windows = [(0, 0, side, square)]
    fractions = np.atleast_1d(np.asarray(tile if tile is not None else [], float))
    if np.any((fractions <= 0) | (fractions > 1)):
        raise ValueError(f"tile must be fractions in (0, 1] of the shorter side, got {tile!r}")
    for fraction in fractions:
        t = max(16, round(fraction * min(h, w)))
        if t >= side:  # a square photo's whole view already
            continue
        windows += [(y, x, t, rgb[y:y + t, x:x + t]) for y in _starts(h, t, overlap) for x in _starts(w, t, overlap)]
    found = _detect_windows([crop for _, _, _, crop in windows], score_threshold)
    boxes = np.concatenate([b * t + [x, y, x, y] for (y, x, t, _), (b, _) in zip(windows, found)])
    scores = np.concatenate([s for _, s in found])
    boxes, scores = weighted_nms(boxes, scores, iou_threshold)
    boxes = np.clip(boxes, 0, [w - 1, h - 1, w - 1, h - 1])
    order = np.argsort(-np.prod(boxes[:, 2:] - boxes[:, :2], axis=1), kind="stable")
    return boxes[order], scores[order]
