"""Bootstrap confidence intervals for scores, and paired comparisons of two pipelines.

A table of mean scores does not say whether 0.71 beats 0.69. This module puts
95% confidence intervals on accuracy, balanced accuracy and macro-F1 from the
pooled test predictions of a benchmark, and compares two pipelines on the
same test items.

* **Cluster bootstrap.** With subject ids, whole subjects are resampled (their
  images are correlated: a person who is hard to read is hard in every frame),
  else single images.
* **Paired.** Both pipelines are scored on the same resamples, so the CI of
  the *difference* is much narrower than two overlapping CIs suggest; an
  exact McNemar test on the items only one pipeline gets right is added.
* **Vectorised.** A resample is summarised by its confusion matrix. Drawing
  ``n`` images with replacement is drawing a multinomial over the confusion
  cells (over the joint cells of both pipelines when paired), and drawing
  ``G`` subjects is a multinomial count per subject times the subjects'
  confusion matrices: no Python loop over resamples and no sklearn calls.

Metrics follow :func:`facefeat.evaluation.metrics.classification_metrics`: macro-F1
and balanced accuracy average over the classes present in the (resampled)
``y_true``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["METRICS", "bootstrap_ci", "paired_comparison"]

#: Metrics given a confidence interval.
METRICS = ("accuracy", "balanced_accuracy", "macro_f1")

# largest (resamples x units) count matrix drawn at once
_MAX_CELLS = 1 << 22


def _codes(y, classes, what):
    """Index of each label in ``classes``."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {y.shape}")
    lookup = {c: k for k, c in enumerate(classes)}
    uniq, inv = np.unique(y.astype(str), return_inverse=True)
    missing = [u for u in uniq.tolist() if u not in lookup]
    if missing:
        raise ValueError(f"{what} has labels not in classes: {missing[:5]}")
    return np.array([lookup[u] for u in uniq.tolist()], dtype=np.int64)[inv.ravel()]


def _metrics(cms):
    """Scores of confusion matrices of shape (..., K, K) (rows: truth)."""
    cms = np.asarray(cms, dtype=float)
    tp = np.diagonal(cms, axis1=-2, axis2=-1)
    support = cms.sum(axis=-1)
    predicted = cms.sum(axis=-2)
    total = support.sum(axis=-1)
    present = support > 0
    n_present = np.maximum(present.sum(axis=-1), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(present, tp / np.where(present, support, 1), 0.0)
        denom = support + predicted
        f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)
        accuracy = np.where(total > 0, tp.sum(axis=-1) / np.where(total > 0, total, 1), np.nan)
    return {
        "accuracy": accuracy,
        "balanced_accuracy": (recall * present).sum(axis=-1) / n_present,
        "macro_f1": (f1 * present).sum(axis=-1) / n_present,
    }


def _units(cell_codes, n_cells, groups):
    """Resampling units: per-unit confusion counts, draw probabilities and draws.

    Parameters
    ----------
    cell_codes : list of ndarray of int of shape (n,)
        ``true * K + pred`` of each item, one array per predictor.
    n_cells : int
        ``K * K``.
    groups : ndarray of shape (n,) or None

    Returns
    -------
    tables : list of ndarray of shape (n_units, n_cells)
    probs : ndarray of shape (n_units,)
    n_draws : int
    kind : str
    """
    n = len(cell_codes[0])
    if groups is None:
        # images drawn with replacement = multinomial over the (joint) confusion cells
        joint = np.zeros(n, dtype=np.int64)
        for c in cell_codes:
            joint = joint * n_cells + c
        uniq, first, counts = np.unique(joint, return_index=True, return_counts=True)
        tables = []
        for c in cell_codes:
            t = np.zeros((len(uniq), n_cells))
            t[np.arange(len(uniq)), c[first]] = 1.0
            tables.append(t)
        return tables, counts / n, n, "images"
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must have shape ({n},), got {groups.shape}")
    _, inv = np.unique(groups.astype(str), return_inverse=True)
    inv = inv.ravel()
    n_groups = int(inv.max()) + 1
    tables = [np.bincount(inv * n_cells + c, minlength=n_groups * n_cells).reshape(n_groups, n_cells)
              .astype(float) for c in cell_codes]
    return tables, np.full(n_groups, 1.0 / n_groups), n_groups, "subjects"


def _resampled_cms(tables, probs, n_draws, n_boot, rng):
    """Confusion matrices of n_boot resamples, one (n_boot, n_cells) array per table."""
    n_units = len(probs)
    step = max(1, min(n_boot, _MAX_CELLS // max(1, n_units)))
    out = [np.empty((n_boot, t.shape[1])) for t in tables]
    for s in range(0, n_boot, step):
        e = min(n_boot, s + step)
        counts = rng.multinomial(n_draws, probs, size=e - s).astype(float)  # (e - s, n_units)
        for o, t in zip(out, tables):
            o[s:e] = counts @ t
    return out


def _check(y_true, preds, classes, n_boot, alpha):
    classes = [str(c) for c in classes]
    if len(set(classes)) != len(classes):
        raise ValueError("classes has repeated names")
    y = _codes(y_true, classes, "y_true")
    if len(y) == 0:
        raise ValueError("no predictions to bootstrap")
    out = []
    for name, p in preds:
        c = _codes(p, classes, name)
        if len(c) != len(y):
            raise ValueError(f"{name} has {len(c)} items, y_true {len(y)}")
        out.append(c)
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be positive, got {n_boot}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return classes, y, out


def bootstrap_ci(y_true, y_pred, classes, groups=None, n_boot=1000, alpha=0.05, random_state=0):
    """Percentile bootstrap confidence intervals of accuracy, balanced accuracy and macro-F1.

    Parameters
    ----------
    y_true, y_pred : array-like of str of shape (n_samples,)
        Pooled test labels and predictions (every item tested once, e.g.
        concatenated over cross-validation folds).
    classes : list of str
        All class names (labels outside it are an error).
    groups : array-like of shape (n_samples,), optional
        Subject id (or any cluster id) of each item: whole clusters are
        resampled (cluster bootstrap). None resamples images.
    n_boot : int, default=1000
        Number of resamples.
    alpha : float, default=0.05
        ``1 - alpha`` is the confidence level.
    random_state : int or numpy.random.Generator, default=0

    Returns
    -------
    dict
        For each of ``accuracy``, ``balanced_accuracy``, ``macro_f1``: a dict
        with ``estimate`` (on all items), ``low``, ``high`` (the ``alpha/2``
        and ``1 - alpha/2`` quantiles of the resampled scores) and ``std``
        (bootstrap standard error). Also ``confidence``, ``n_boot``,
        ``resampling`` (``"subjects"`` or ``"images"``), ``n_units`` (subjects
        or images), ``n_samples``, ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice(["anger", "happiness", "neutral"], 300)
    >>> pred = np.where(rng.random(300) < 0.8, y, "neutral")
    >>> ci = bootstrap_ci(y, pred, ["anger", "happiness", "neutral"])
    >>> acc = ci["accuracy"]
    >>> acc["low"] < acc["estimate"] < acc["high"], round(acc["high"] - acc["low"], 2)
    (True, 0.08)
    >>> subjects = np.repeat(np.arange(30), 10)          # 30 people, 10 images each
    >>> bootstrap_ci(y, pred, ["anger", "happiness", "neutral"], groups=subjects)["n_units"]
    30
    """
    classes, y, (p,) = _check(y_true, [("y_pred", y_pred)], classes, n_boot, alpha)
    k = len(classes)
    n_cells = k * k
    cell = y * k + p
    point = _metrics(np.bincount(cell, minlength=n_cells).reshape(k, k))
    tables, probs, n_draws, kind = _units([cell], n_cells, groups)
    rng = np.random.default_rng(random_state)
    (cms,) = _resampled_cms(tables, probs, n_draws, int(n_boot), rng)
    boot = _metrics(cms.reshape(-1, k, k))
    out = {}
    for m in METRICS:
        b = boot[m]
        lo, hi = np.quantile(b, [alpha / 2, 1 - alpha / 2])
        out[m] = {"estimate": float(point[m]), "low": float(lo), "high": float(hi), "std": float(b.std(ddof=1))
                  if len(b) > 1 else 0.0}
    out.update({
        "confidence": 1 - alpha, "n_boot": int(n_boot), "resampling": kind, "n_units": int(len(probs))
        if kind == "subjects" else int(len(y)), "n_samples": int(len(y)),
        "method": ("cluster bootstrap over subjects" if kind == "subjects" else "bootstrap over images")
        + ", percentile interval",
    })
    return out


def paired_comparison(y_true, pred_a, pred_b, classes, groups=None, n_boot=1000, alpha=0.05, random_state=0):
    """Compare two pipelines' predictions on the same test items.

    Parameters
    ----------
    y_true : array-like of str of shape (n_samples,)
    pred_a, pred_b : array-like of str of shape (n_samples,)
        Predictions of pipelines A and B for the same items, in the same order.
    classes : list of str
    groups : array-like of shape (n_samples,), optional
        Subject (cluster) ids: resample subjects instead of images.
    n_boot : int, default=1000
    alpha : float, default=0.05
    random_state : int or numpy.random.Generator, default=0

    Returns
    -------
    dict
        For each of ``accuracy``, ``balanced_accuracy``, ``macro_f1``:
        ``a``, ``b`` (scores on all items), ``difference`` (A - B), ``low``,
        ``high`` (percentile CI of the difference over paired resamples),
        ``fraction_a_better`` and ``fraction_b_better`` (share of resamples
        where A scores strictly higher / lower). ``mcnemar``: exact McNemar
        test of accuracy -- ``a_only`` (items only A gets right), ``b_only``,
        ``p_value`` (two-sided binomial test of ``a_only`` out of
        ``a_only + b_only`` at 1/2; 1.0 when there are none) and a ``note``.
        Also ``confidence``, ``n_boot``, ``resampling``, ``n_units``,
        ``n_samples``.

    Notes
    -----
    McNemar's test treats items as independent; with several images per
    subject it is optimistic, and the cluster bootstrap (``groups``) is the
    one to trust.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice(["anger", "fear"], 400)
    >>> good = np.where(rng.random(400) < 0.9, y, "anger")
    >>> poor = np.where(rng.random(400) < 0.6, y, "anger")
    >>> r = paired_comparison(y, good, poor, ["anger", "fear"])
    >>> r["macro_f1"]["low"] > 0, r["macro_f1"]["fraction_a_better"], r["mcnemar"]["p_value"] < 1e-6
    (True, 1.0, True)
    >>> same = paired_comparison(y, good, good, ["anger", "fear"])
    >>> same["accuracy"]["difference"], same["accuracy"]["fraction_a_better"], same["mcnemar"]["p_value"]
    (0.0, 0.0, 1.0)
    """
    from scipy.stats import binomtest

    classes, y, (a, b) = _check(y_true, [("pred_a", pred_a), ("pred_b", pred_b)], classes, n_boot, alpha)
    k = len(classes)
    n_cells = k * k
    cell_a, cell_b = y * k + a, y * k + b
    point_a = _metrics(np.bincount(cell_a, minlength=n_cells).reshape(k, k))
    point_b = _metrics(np.bincount(cell_b, minlength=n_cells).reshape(k, k))
    tables, probs, n_draws, kind = _units([cell_a, cell_b], n_cells, groups)
    rng = np.random.default_rng(random_state)
    cms_a, cms_b = _resampled_cms(tables, probs, n_draws, int(n_boot), rng)
    boot_a, boot_b = _metrics(cms_a.reshape(-1, k, k)), _metrics(cms_b.reshape(-1, k, k))
    out = {}
    for m in METRICS:
        diff = boot_a[m] - boot_b[m]
        lo, hi = np.quantile(diff, [alpha / 2, 1 - alpha / 2])
        out[m] = {
            "a": float(point_a[m]), "b": float(point_b[m]), "difference": float(point_a[m] - point_b[m]),
            "low": float(lo), "high": float(hi),
            # exact ties (e.g. identical predictions) count for neither; tolerate float noise
            "fraction_a_better": float(np.mean(diff > 1e-12)),
            "fraction_b_better": float(np.mean(diff < -1e-12)),
        }
    right_a, right_b = a == y, b == y
    a_only, b_only = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    p = 1.0 if a_only + b_only == 0 else float(binomtest(a_only, a_only + b_only, 0.5).pvalue)
    out["mcnemar"] = {
        "a_only": a_only, "b_only": b_only, "p_value": p,
        "note": "exact McNemar test (binomial on discordant items); assumes independent items"
                + ("; optimistic with several images per subject" if kind == "subjects" else ""),
    }
    out.update({
        "confidence": 1 - alpha, "n_boot": int(n_boot), "resampling": kind,
        "n_units": int(len(probs)) if kind == "subjects" else int(len(y)), "n_samples": int(len(y)),
        "method": ("paired cluster bootstrap over subjects" if kind == "subjects" else "paired bootstrap over images")
        + ", percentile interval of A - B",
    })
    return out
