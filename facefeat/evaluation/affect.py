"""Expression classes as points of Russell's valence-arousal circumplex.

Russell's circumplex model [1]_ places every affective state in a plane of
two bipolar dimensions, pleasure-displeasure (valence, horizontal) and
arousal-sleepiness (arousal, vertical). This module gives each of the eight
expression classes of :data:`facefeat.images.datasets.CLASSES` a point in that
plane and maps class probabilities to a point by their weighted mean, so
that a classifier's output can be read as "how pleasant" and "how aroused"
a face looks.

Where the numbers come from
---------------------------
The coordinates are the published normative ratings of the class names as
English lemmas, from Warriner, Kuperman and Brysbaert (2013) [2]_: the
columns ``V.Mean.Sum`` (valence) and ``A.Mean.Sum`` (arousal) of their
supplementary file ``Ratings_Warriner_et_al.csv`` (13,915 lemmas rated on
9-point scales by US participants; valence 1 = unhappy .. 9 = happy,
arousal 1 = calm .. 9 = excited), for the rows ``anger``, ``contempt``,
``disgust``, ``fear``, ``happiness``, ``sadness`` and ``surprise``. They
are stored as printed in :data:`WARRINER_2013` and rescaled to [-1, 1] with
the scale midpoint at 0: ``v = (V - 5) / 4``, ``a = (A - 5) / 4``
(:data:`CIRCUMPLEX`).

``neutral`` is placed at the origin, ``(0, 0)``, by definition: a neutral
face is the absence of an expression, the centre of the circumplex. (The
*word* "neutral" was rated V = 5.50, A = 3.45; that rates the concept, not
a face, and is not used.)

These are ratings of emotion words, not of faces: they give the circumplex
its familiar layout (happiness and surprise pleasant and aroused, anger and
fear unpleasant and aroused, sadness unpleasant and calm) but are no
measurement of the faces of any data set.

References
----------
.. [1] J. A. Russell, "A circumplex model of affect", Journal of Personality
       and Social Psychology, 39(6), pp. 1161-1178, 1980.
       :DOI:`10.1037/h0077714`
.. [2] A. B. Warriner, V. Kuperman and M. Brysbaert, "Norms of valence,
       arousal, and dominance for 13,915 English lemmas", Behavior Research
       Methods, 45(4), pp. 1191-1207, 2013. :DOI:`10.3758/s13428-012-0314-x`
"""

import numpy as np

__all__ = ["WARRINER_2013", "CIRCUMPLEX", "circumplex_coordinates", "valence_arousal"]

#: Mean valence and arousal ratings (1-9 scales) of the class names, as
#: printed in the ``V.Mean.Sum`` and ``A.Mean.Sum`` columns of Warriner et
#: al. (2013). ``neutral`` is absent: it is the origin by definition.
WARRINER_2013 = {
    "anger": (2.50, 5.93),
    "contempt": (3.22, 4.61),
    "disgust": (3.32, 5.00),
    "fear": (2.93, 6.14),
    "happiness": (8.48, 6.50),
    "sadness": (2.40, 2.81),
    "surprise": (7.44, 6.57),
}


def _rescale(rating):
    # 1..9 ratings to -1..1 with the scale midpoint (5) at 0
    return tuple(round((r - 5.0) / 4.0, 4) for r in rating)


#: (valence, arousal) of each class in [-1, 1]: the ratings of
#: :data:`WARRINER_2013` rescaled by ``(r - 5) / 4``; ``neutral`` at (0, 0).
CIRCUMPLEX = {"neutral": (0.0, 0.0), **{name: _rescale(r) for name, r in WARRINER_2013.items()}}
CIRCUMPLEX = dict(sorted(CIRCUMPLEX.items()))


def _canonical(name):
    from facefeat.images.datasets import CLASS_ALIASES

    key = str(name).strip().lower()
    return CLASS_ALIASES.get(key, key)


def circumplex_coordinates(classes):
    """The (valence, arousal) point of each class name.

    Parameters
    ----------
    classes : sequence of str of length n_classes
        Class names; common aliases (``happy``, ``angry``, ``sad``,
        ``surprised``...) are mapped through
        :data:`facefeat.images.datasets.CLASS_ALIASES`, case is ignored.

    Returns
    -------
    ndarray of shape (n_classes, 2)
        Valence in column 0, arousal in column 1, both in [-1, 1].

    Raises
    ------
    ValueError
        Class names without coordinates (they are listed).

    Examples
    --------
    >>> circumplex_coordinates(["happy", "neutral", "sadness"]).tolist()
    [[0.87, 0.375], [0.0, 0.0], [-0.65, -0.5475]]
    """
    names = [_canonical(c) for c in classes]
    unknown = [c for c, n in zip(classes, names) if n not in CIRCUMPLEX]
    if unknown:
        raise ValueError(f"no valence/arousal coordinates for classes {unknown}; "
                         f"known: {sorted(CIRCUMPLEX)} (and the aliases of facefeat.images.datasets.CLASS_ALIASES)")
    return np.array([CIRCUMPLEX[n] for n in names], dtype=float).reshape(len(names), 2)


def valence_arousal(proba, classes):
    """Probability-weighted mean (valence, arousal) of each sample.

    Parameters
    ----------
    proba : array_like of shape (n_samples, n_classes)
        Non-negative class probabilities (e.g. ``predict_proba``), columns
        in the order of ``classes``. Rows are normalised to sum to 1, so
        unnormalised scores are accepted too.
    classes : sequence of str of length n_classes
        Class names (see :func:`circumplex_coordinates`).

    Returns
    -------
    ndarray of shape (n_samples, 2)
        ``proba @ coordinates / proba.sum(axis=1)``: valence in column 0,
        arousal in column 1, inside the convex hull of the class points.

    Raises
    ------
    ValueError
        ``proba`` not 2-D, of the wrong width, negative, non-finite or with a
        row summing to 0; unknown class names.

    See Also
    --------
    facefeat.plots.results.plot_circumplex : the points drawn on the circumplex.

    Examples
    --------
    >>> valence_arousal([[1.0, 0.0], [0.5, 0.5]], ["happiness", "neutral"]).tolist()
    [[0.87, 0.375], [0.435, 0.1875]]
    """
    coords = circumplex_coordinates(classes)
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or p.shape[1] != len(coords):
        raise ValueError(f"proba must have shape (n_samples, {len(coords)}) for {len(coords)} classes, got {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("proba must be finite and non-negative")
    total = p.sum(axis=1, keepdims=True)
    if (total <= 0).any():
        raise ValueError(f"rows {np.flatnonzero(total[:, 0] <= 0).tolist()} of proba sum to 0")
    return p @ coords / total
