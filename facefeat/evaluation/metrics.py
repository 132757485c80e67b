"""The metrics a paper reports: per fold, and summarised over folds."""

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def classification_metrics(y_true, y_pred, classes):
    """Accuracy, balanced accuracy, macro/micro F1, per-class P/R/F1 and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : array-like of str of shape (n_samples,)
    classes : list of str
        Row/column order of the confusion matrix and per-class lists.

    Returns
    -------
    dict

    Examples
    --------
    >>> m = classification_metrics(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    >>> m["accuracy"], m["confusion_matrix"]
    (0.6666666666666666, [[1, 1], [0, 1]])
    """
    classes = list(classes)
    present = [c for c in classes if c in set(np.asarray(y_true).tolist())]
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        # balanced accuracy is the mean recall over the classes present in y_true
        "balanced_accuracy": float(np.mean([r[classes.index(c)] for c in present])),
        # macro over the classes present in this test set, so a fold without a class is not penalised
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(y_true, y_pred, labels=classes, average="micro", zero_division=0)),
        "per_class": {
            c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, c in enumerate(classes)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
    }


SCALAR_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "micro_f1")


def summarise_folds(fold_metrics):
    """Mean and standard deviation over folds of each scalar and per-class metric.

    Parameters
    ----------
    fold_metrics : list of dict
        One :func:`classification_metrics` result per fold, all with the
        same classes.

    Returns
    -------
    dict
        ``{"mean": float, "std": float}`` for each of ``accuracy``,
        ``balanced_accuracy``, ``macro_f1`` and ``micro_f1``; ``per_class``:
        the same for the ``precision``, ``recall`` and ``f1`` of each class,
        over the folds where the class was present (None when it never was);
        ``confusion_matrix``: ``mean`` and ``std`` as nested lists of shape
        (n_classes, n_classes). Standard deviations are population ones
        (``ddof=0``).

    Examples
    --------
    >>> from facefeat.evaluation import classification_metrics, summarise_folds
    >>> folds = [classification_metrics(["a", "a", "b"], ["a", "b", "b"], ["a", "b"]),
    ...          classification_metrics(["a", "b", "b"], ["a", "b", "b"], ["a", "b"])]
    >>> summary = summarise_folds(folds)
    >>> round(summary["accuracy"]["mean"], 3), round(summary["accuracy"]["std"], 3)
    (0.833, 0.167)
    >>> summary["per_class"]["a"]["recall"]
    {'mean': 0.75, 'std': 0.25}
    >>> summary["confusion_matrix"]["mean"]
    [[1.0, 0.5], [0.0, 1.5]]
    """
    out = {}
    for key in SCALAR_METRICS:
        values = np.array([m[key] for m in fold_metrics])
        out[key] = {"mean": float(values.mean()), "std": float(values.std())}
    classes = list(fold_metrics[0]["per_class"])
    out["per_class"] = {}
    for c in classes:
        # a class absent from a test fold has no recall or F1 there
        rows = [m["per_class"][c] for m in fold_metrics if m["per_class"][c]["support"] > 0]
        out["per_class"][c] = {
            k: {"mean": float(np.mean([r[k] for r in rows])) if rows else None,
                "std": float(np.std([r[k] for r in rows])) if rows else None}
            for k in ("precision", "recall", "f1")
        }
    cms = np.array([m["confusion_matrix"] for m in fold_metrics], dtype=float)
    out["confusion_matrix"] = {"mean": cms.mean(axis=0).tolist(), "std": cms.std(axis=0).tolist()}
    return out
