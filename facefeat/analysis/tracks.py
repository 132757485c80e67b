"""Face tracks across the sampled frames of a video, by box overlap."""

import numpy as np

__all__ = ["box_iou", "FaceTracker"]


def box_iou(a, b):
    """Intersection over union of every box of ``a`` with every box of ``b``.

    Parameters
    ----------
    a : array_like of shape (n, 4)
    b : array_like of shape (m, 4)
        Boxes ``[x, y, width, height]``.

    Returns
    -------
    ndarray of shape (n, m)

    Examples
    --------
    >>> box_iou([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]]).round(3).tolist()
    [[1.0, 0.333, 0.0]]
    """
    a = np.asarray(a, dtype=float).reshape(-1, 4)
    b = np.asarray(b, dtype=float).reshape(-1, 4)
    ax0, ay0, ax1, ay1 = a[:, 0, None], a[:, 1, None], (a[:, 0] + a[:, 2])[:, None], (a[:, 1] + a[:, 3])[:, None]
    bx0, by0, bx1, by1 = b[None, :, 0], b[None, :, 1], b[None, :, 0] + b[None, :, 2], b[None, :, 1] + b[None, :, 3]
    inter = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None) * \
        np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


class FaceTracker:
    """Give each face of a frame the id of the track it continues.

    A face continues the track whose last box overlaps it most (intersection
    over union at least ``min_iou``), pairs taken greedily from the largest
    overlap down; a face that continues none starts a new track. A track
    whose face was not seen for more than ``max_missed`` sampled frames ends.

    Parameters
    ----------
    min_iou : float, default=0.3
    max_missed : int, default=2

    Examples
    --------
    A face moving right, joined by a second one:

    >>> tracker = FaceTracker()
    >>> tracker.update([[0, 0, 10, 10]])
    [0]
    >>> tracker.update([[40, 40, 10, 10], [2, 0, 10, 10]])
    [1, 0]
    """

    def __init__(self, min_iou=0.3, max_missed=2):
        self.min_iou = min_iou
        self.max_missed = max_missed
        self._boxes, self._ids, self._missed = np.zeros((0, 4)), [], []
        self._next = 0

    def update(self, boxes):
        """Track ids of the faces of the next sampled frame.

        Parameters
        ----------
        boxes : array_like of shape (n_faces, 4)
            ``[x, y, width, height]`` of each face of the frame.

        Returns
        -------
        list of int
            One id per box, in the order given.
        """
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        ids = [None] * len(boxes)
        iou = box_iou(self._boxes, boxes)
        taken = set()
        for flat in np.argsort(-iou, axis=None):
            t, f = np.unravel_index(flat, iou.shape)
            if iou[t, f] < self.min_iou:
                break
            if t in taken or ids[f] is not None:
                continue
            ids[f] = self._ids[t]
            taken.add(t)
        kept = [t for t in range(len(self._ids)) if t not in taken and self._missed[t] < self.max_missed]
        new_boxes, new_ids, new_missed = [self._boxes[t] for t in kept], [self._ids[t] for t in kept], \
            [self._missed[t] + 1 for t in kept]
        for f, box in enumerate(boxes):
            if ids[f] is None:
                ids[f] = self._next
                self._next += 1
            new_boxes.append(box)
            new_ids.append(ids[f])
            new_missed.append(0)
        self._boxes = np.asarray(new_boxes, dtype=float).reshape(-1, 4)
        self._ids, self._missed = new_ids, new_missed
        return [int(i) for i in ids]
