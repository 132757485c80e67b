"""Landmark error measures of the 300-W benchmark."""

import numpy as np

from facefeat.faces.landmarks import LEFT_EYE_OUTER, N_LANDMARKS, RIGHT_EYE_OUTER

__all__ = ["normalized_mean_error", "error_summary", "cumulative_error_distribution"]

_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2.0 has only trapz


def normalized_mean_error(predicted, truth):
    """Mean point-to-point error divided by the outer-eye-corner distance.

    The 300-W convention (Sagonas et al. 2016, doi:10.1016/j.imavis.2016.01.002):
    the mean Euclidean distance over the 68 landmarks, normalised by the
    distance between the outer eye corners (points 36 and 45) of the truth.

    Parameters
    ----------
    predicted, truth : array_like of shape (68, 2) or (n, 68, 2)

    Returns
    -------
    float or ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((68, 2)); gt[45] = [100, 0]
    >>> float(normalized_mean_error(gt + [3, 4], gt))
    0.05
    """
    p = np.asarray(predicted, dtype=float)
    t = np.asarray(truth, dtype=float)
    if p.shape != t.shape or p.shape[-2:] != (N_LANDMARKS, 2):
        raise ValueError(f"expected two arrays of shape (..., 68, 2), got {p.shape} and {t.shape}")
    err = np.linalg.norm(p - t, axis=-1).mean(axis=-1)
    iod = np.linalg.norm(t[..., LEFT_EYE_OUTER, :] - t[..., RIGHT_EYE_OUTER, :], axis=-1)
    out = err / iod
    return float(out) if out.ndim == 0 else out


def error_summary(errors, threshold=0.10):
    """Mean, median, failure rate and AUC of normalised errors.

    Parameters
    ----------
    errors : array_like of shape (n,)
    threshold : float, default=0.10
        Errors above it count as failures; also the upper limit of the AUC.

    Returns
    -------
    dict
        ``n``, ``mean``, ``median``, ``failure_rate`` and ``auc`` (area under
        the cumulative error distribution up to ``threshold``, divided by
        ``threshold``, so 1 is perfect).

    Examples
    --------
    >>> s = error_summary([0.02, 0.04, 0.2])
    >>> s["n"], round(s["median"], 3), round(s["failure_rate"], 3)
    (3, 0.04, 0.333)
    """
    e = np.asarray(errors, dtype=float)
    if e.size == 0:
        return {"n": 0, "mean": None, "median": None, "failure_rate": None, "auc": None}
    x, y = cumulative_error_distribution(e, threshold)
    return {
        "n": int(e.size),
        "mean": float(e.mean()),
        "median": float(np.median(e)),
        "failure_rate": float(np.mean(e > threshold)),
        "auc": float(_trapezoid(y, x) / threshold),
    }


def cumulative_error_distribution(errors, max_error=0.10, n_steps=1001):
    """Fraction of images with error at most ``x``, for ``x`` in ``[0, max_error]``.

    The cumulative error distribution (CED) curve of the 300-W benchmark
    (Sagonas et al. 2016); its area up to ``max_error`` is the AUC of
    :func:`error_summary`.

    Parameters
    ----------
    errors : array_like of shape (n,)
        Per-image normalised errors (e.g. :func:`normalized_mean_error`).
    max_error : float, default=0.10
        Right end of the curve.
    n_steps : int, default=1001
        Number of evenly spaced ``x`` values.

    Returns
    -------
    x, fraction : ndarray of shape (n_steps,)
        ``fraction[i]`` is the share of ``errors`` that are ``<= x[i]``
        (0 everywhere for an empty ``errors``).

    References
    ----------
    .. [1] C. Sagonas, E. Antonakos, G. Tzimiropoulos, S. Zafeiriou and
       M. Pantic, "300 Faces In-The-Wild Challenge: database and results",
       Image and Vision Computing 47:3-18, 2016.
       :DOI:`10.1016/j.imavis.2016.01.002`

    Examples
    --------
    >>> import numpy as np
    >>> from facefeat.shape.metrics import cumulative_error_distribution
    >>> x, fraction = cumulative_error_distribution([0.02, 0.04, 0.2], max_error=0.1, n_steps=6)
    >>> x.round(2).tolist()
    [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]
    >>> fraction.round(3).tolist()  # 0.2 is a failure: never reached
    [0.0, 0.333, 0.667, 0.667, 0.667, 0.667]
    """
    e = np.sort(np.asarray(errors, dtype=float))
    x = np.linspace(0, max_error, n_steps)
    return x, np.searchsorted(e, x, side="right") / max(len(e), 1)
