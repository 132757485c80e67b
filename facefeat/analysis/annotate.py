"""Pictures of what the analysis found: boxes, labels and scores drawn on the image."""

import numpy as np

__all__ = ["annotate_image"]

# Box colours (RGB) of found faces and of a whole-image fallback
_FOUND, _FALLBACK = (40, 200, 60), (230, 160, 0)


def annotate_image(image, records):
    """An RGB copy of the image with each record's face box, label and probability drawn.

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, 3), uint8
    records : list of dict
        Records of :func:`facefeat.analysis.records.face_records` (or of a
        video frame); records without a box are left out.

    Returns
    -------
    ndarray of shape (h, w, 3), uint8
        Boxes in green (orange for a whole-image fallback, where no face was
        found), with ``"<face>: <label> <probability>"`` above each, the
        text scaled to the image.

    Examples
    --------
    >>> import numpy as np
    >>> record = {"face": 0, "box": [10, 10, 30, 30], "face_found": True, "label": "happiness",
    ...           "proba": {"happiness": 0.9, "sadness": 0.1}}
    >>> out = annotate_image(np.zeros((64, 64), np.uint8), [record])
    >>> out.shape, out[10, 20].tolist()  # the box's top edge
    ((64, 64, 3), [40, 200, 60])
    """
    import cv2

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"a uint8 image (h, w) or (h, w, 3) is needed, got {image.dtype} {image.shape}")
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()
    h, w = out.shape[:2]
    scale = max(0.35, min(h, w) / 600)
    thickness = max(1, round(2 * scale))
    for r in records:
        if r.get("box") is None:
            continue
        x, y, bw, bh = (int(round(v)) for v in r["box"])
        colour = _FOUND if r.get("face_found") else _FALLBACK
        cv2.rectangle(out, (x, y), (x + bw, y + bh), colour, thickness)
        if r.get("label") is None:
            continue
        text = f"{r['face']}: {r['label']} {r['proba'][r['label']]:.2f}" if r.get("face") is not None \
            else f"{r['label']} {r['proba'][r['label']]:.2f}"
        if not r.get("face_found"):
            text += " (no face found)"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = y - th - base - 2 if y - th - base - 2 >= 0 else min(y + bh + 2, h - th - base)
        cv2.rectangle(out, (x, top), (x + tw + 2, top + th + base + 2), colour, -1)
        cv2.putText(out, text, (x + 1, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness,
                    cv2.LINE_AA)
    return out
