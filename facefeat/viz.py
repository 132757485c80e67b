"""Plots. Each function takes data and returns matplotlib Axes; none calls ``plt.show()``.

Figures are made with :class:`matplotlib.figure.Figure` directly, so they
work without a display and leave pyplot's global state alone.
"""

import numpy as np


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_class_distribution(counts, *, title=None, ax=None):
    """Bar chart of images per class.

    Parameters
    ----------
    counts : dict of str to int
        Images per class (e.g. ``FaceDataset.counts()``).
    title : str, optional
    ax : matplotlib Axes, optional
        Drawn into a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_class_distribution({"anger": 3, "happiness": 5})
    >>> [round(p.get_height()) for p in ax.patches]
    [3, 5]
    """
    ax = _new_axes(ax, (max(4.0, 0.8 * len(counts)), 3.2))
    names, values = list(counts), [counts[k] for k in counts]
    bars = ax.bar(names, values, color="#4c72b0")
    ax.bar_label(bars, fontsize=8)
    ax.set_ylabel("images")
    ax.set_title(title or "class distribution")
    ax.tick_params(axis="x", labelrotation=30)
    return ax


def plot_confusion_matrix(cm, classes, *, normalize=True, title=None, ax=None):
    """Confusion matrix with true classes in rows.

    Parameters
    ----------
    cm : ndarray of shape (n_classes, n_classes)
        Counts, rows = true class, columns = predicted class.
    classes : list of str of length n_classes
    normalize : bool, default=True
        Colour and print each row as fractions of the true class (the counts
        stay in brackets).
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["a", "b"])
    >>> [t.get_text() for t in ax.texts]
    ['0.75\\n(3)', '0.25\\n(1)', '0.00\\n(0)', '1.00\\n(4)']
    """
    cm = np.asarray(cm)
    n = len(classes)
    if cm.shape != (n, n):
        raise ValueError(f"cm must have shape ({n}, {n}), got {cm.shape}")
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros(cm.shape, float), where=rows > 0)
    ax = _new_axes(ax, (1.0 + 0.75 * n, 0.8 + 0.7 * n))
    shown = frac if normalize else cm
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(1, cm.max()))
    for i in range(n):
        for j in range(n):
            text = f"{frac[i, j]:.2f}\n({cm[i, j]})" if normalize else str(cm[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if frac[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), classes, rotation=45, ha="right")
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "confusion matrix")
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax


def plot_per_class_f1(scores, classes, *, title=None, ax=None):
    """Grouped bars: the F1 score of every class for each pipeline.

    Parameters
    ----------
    scores : dict of str to sequence of float
        Per pipeline, the F1 of each class in the order of ``classes``
        (None or NaN for a class without test images: no bar).
    classes : list of str
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_per_class_f1({"lbp": [0.9, 0.5], "hog": [0.8, None]}, ["anger", "fear"])
    >>> [float(p.get_height()) for p in ax.patches]
    [0.9, 0.5, 0.8, 0.0]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['lbp', 'hog']
    """
    n_pipes = len(scores)
    if n_pipes == 0:
        raise ValueError("scores is empty: no pipeline to plot")
    for name, vals in scores.items():
        if len(vals) != len(classes):
            raise ValueError(f"{name}: {len(vals)} scores for {len(classes)} classes")
    ax = _new_axes(ax, (max(6.0, 0.35 * n_pipes * len(classes) + 2.5), 3.8))
    width = 0.8 / n_pipes
    x = np.arange(len(classes))
    for k, (name, vals) in enumerate(scores.items()):
        heights = [0.0 if v is None or np.isnan(v) else float(v) for v in vals]
        ax.bar(x - 0.4 + (k + 0.5) * width, heights, width, label=name)
    ax.set_xticks(x, classes, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(title or "per-class F1")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncols=max(1, min(4, n_pipes // 6 + 1)), loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def save(ax, path, dpi=120):
    """Write the figure of ``ax`` to ``path`` (PNG by extension)."""
    ax.figure.savefig(path, dpi=dpi)
