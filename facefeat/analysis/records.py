"""One record per face: where it is, its expression, and its place on the valence-arousal circumplex."""

import numpy as np

__all__ = ["face_records"]


def _aligner(pipeline):
    from facefeat.faces.align import FaceAligner

    first = pipeline.steps[0][1] if hasattr(pipeline, "steps") else None
    if not isinstance(first, FaceAligner):
        raise ValueError("analysing whole photos needs a model whose first step is the face aligner "
                         "(use: face_aligner in its recipe); this one starts with "
                         f"{type(first).__name__ if first is not None else type(pipeline).__name__}")
    return first


def face_records(image, pipeline, *, largest_only=False, detector="blazeface"):
    """The expression of every face in an image, the largest face first.

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, 3), uint8, or str / path
        A photo, or its file.
    pipeline : sklearn.pipeline.Pipeline
        A fitted facefeat pipeline whose first step is a
        :class:`~facefeat.faces.align.FaceAligner` (every named recipe).
    largest_only : bool, default=False
        Only the largest face (one record per image, as ``facefeat predict``
        gave before it read every face).
    detector : {"blazeface", "hog", "mmod"}, default="blazeface"
        The face detector (see :func:`facefeat.faces.align.detect_face_boxes`);
        BlazeFace finds the small faces of group photos. The faces are
        aligned by dlib's landmarks as the model's training faces were.

    Returns
    -------
    list of dict
        One record per face with ``face`` (0 for the largest), ``box``
        ``[x, y, width, height]`` in the image's pixels, ``face_found``,
        ``label``, ``proba`` (class -> probability), ``valence`` and
        ``arousal`` (see :func:`facefeat.evaluation.affect.valence_arousal`;
        None when the class names are not expressions it knows). An image in
        which no face is found gets one record for the whole image, with
        ``face_found`` False.

    Examples
    --------
    A pipeline fitted on synthetic faces, asked about two of them side by side:

    >>> import numpy as np
    >>> from facefeat.images.synthetic import make_expressions
    >>> from facefeat.pipelines import make_pipeline
    >>> ds = make_expressions(n_subjects=2, n_per_class=1, classes=["happiness", "sadness"])
    >>> pipe = make_pipeline("hog-linear").fit(ds.images, ds.labels)
    >>> photo = np.hstack([ds.images[0], ds.images[1]])
    >>> records = face_records(photo, pipe)
    >>> [(r["face"], r["face_found"], len(r["box"])) for r in records]
    [(0, True, 4), (1, True, 4)]
    >>> sorted(records[0]["proba"]), -1 <= records[0]["valence"] <= 1
    (['happiness', 'sadness'], True)
    """
    aligner = _aligner(pipeline)
    faces, boxes = aligner.align_every_face(image, detector=detector)
    if largest_only:
        faces, boxes = faces[[0]], boxes[:1]
    if not len(boxes):  # on_no_face="skip"
        return []
    proba = pipeline[1:].predict_proba(faces)
    classes = [str(c) for c in pipeline.classes_]
    affect = _valence_arousal(proba, classes)
    records = []
    for k, (box, p) in enumerate(zip(boxes, proba)):
        x0, y0, x1, y1 = (float(v) for v in box)
        records.append({
            "face": k,
            "box": [round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1)],
            "face_found": bool(faces.face_found[k]),
            "label": classes[int(np.argmax(p))],
            "proba": {c: round(float(v), 6) for c, v in zip(classes, p)},
            "valence": None if affect is None else round(float(affect[k, 0]), 4),
            "arousal": None if affect is None else round(float(affect[k, 1]), 4),
        })
    return records


def _valence_arousal(proba, classes):
    from facefeat.evaluation.affect import valence_arousal

    try:
        return valence_arousal(proba, classes)
    except ValueError:  # class names that are not expressions (a user's own labels)
        return None
