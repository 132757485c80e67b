"""Plots of data sets and results: class counts, confusion matrices, per-class F1, embeddings, circumplex."""

import numpy as np

from facefeat.plots._figure import new_axes


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
    ax = new_axes(ax, (max(4.0, 0.8 * len(counts)), 3.2))
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
    ax = new_axes(ax, (1.0 + 0.75 * n, 0.8 + 0.7 * n))
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
    title, ax
        As for :func:`plot_confusion_matrix`; the axes are returned.

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
    # bars get thinner rather than the figure wider: a suite of ~20 pipelines stays readable at 16 in
    ax = new_axes(ax, (min(16.0, max(6.0, 0.12 * n_pipes * len(classes) + 3.0)), 4.2))
    from matplotlib import colormaps

    # tab20 keeps up to 20 pipelines apart (the default cycle repeats after 10)
    colors = colormaps["tab10" if n_pipes <= 10 else "tab20"].colors
    width = 0.8 / n_pipes
    x = np.arange(len(classes))
    for k, (name, vals) in enumerate(scores.items()):
        heights = [0.0 if v is None or np.isnan(v) else float(v) for v in vals]
        ax.bar(x - 0.4 + (k + 0.5) * width, heights, width, label=name, color=colors[k % len(colors)])
    ax.set_xticks(x, classes, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(title or "per-class F1")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncols=max(1, min(4, (n_pipes + 9) // 10)), loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax




# --------------------------------------------------------------------------
# feature spaces and predictions


def _embed(X, method, random_state):
    """2-D coordinates of standardised features and the axis labels."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    Z = StandardScaler().fit_transform(X)
    if method == "pca":
        pca = PCA(n_components=2, random_state=random_state).fit(Z)
        share = 100 * pca.explained_variance_ratio_
        return pca.transform(Z), [f"PC {i + 1} ({share[i]:.0f}% of variance)" for i in range(2)]
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    # t-SNE on at most 50 principal components, the usual denoising step;
    # perplexity must stay below the number of samples
    if Z.shape[1] > 50:
        Z = PCA(n_components=min(50, len(Z)), random_state=random_state).fit_transform(Z)
    perplexity = min(30.0, (len(Z) - 1) / 3)
    # One thread: on a busy machine the OpenMP/BLAS threads of t-SNE spin-wait
    # for each other (a 12-point embedding took 43 s instead of 0.3 s with 2
    # threads on 2 loaded cores); a plot's few thousand points are fast on one.
    with threadpool_limits(limits=1):
        Y = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state).fit_transform(Z)
    return Y, ["t-SNE 1", "t-SNE 2"]


def plot_embedding(X, labels, *, method="pca", random_state=0, ax=None):
    """Features of a data set in two dimensions, coloured by class.

    The features are standardised, then projected on their first two
    principal components (``"pca"``) or embedded by t-SNE [1]_ (``"tsne"``,
    after reduction to at most 50 principal components, on one thread).

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        Feature vectors, e.g. the output of
        :class:`~facefeat.features.lbp.LBPHistogram` or
        :class:`~facefeat.deep.embedding.DeepEmbedding`; at least 3 samples.
    labels : array_like of shape (n_samples,)
        Class of every sample.
    method : {'pca', 'tsne'}, default='pca'
    random_state : int, default=0
        Seed of the PCA solver and of t-SNE.
    ax : matplotlib.axes.Axes, optional
        Drawn into a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One scatter (``PathCollection``) per class, in sorted class order,
        labelled ``"<class> (<count>)"`` in the legend.

    References
    ----------
    .. [1] L. van der Maaten and G. Hinton, "Visualizing data using t-SNE",
           Journal of Machine Learning Research, 9(86), pp. 2579-2605, 2008.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(12, 5))
    >>> ax = plot_embedding(X, ["a"] * 8 + ["b"] * 4)
    >>> [c.get_offsets().shape[0] for c in ax.collections]
    [8, 4]
    >>> [t.get_text() for t in ax.get_legend().get_texts()], ax.get_xlabel()[:4]
    (['a (8)', 'b (4)'], 'PC 1')
    """
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels).astype(str)
    if X.ndim != 2 or len(X) != len(labels):
        raise ValueError(f"X must have shape (n_samples, n_features) with one label per sample; "
                         f"got X {X.shape} and {len(labels)} labels")
    if len(X) < 3:
        raise ValueError(f"an embedding needs at least 3 samples, got {len(X)}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values")
    Y, axis_labels = _embed(X, method, random_state)
    ax = new_axes(ax, (6.4, 4.6))
    for k, name in enumerate(sorted(set(labels.tolist()))):
        m = labels == name
        ax.scatter(Y[m, 0], Y[m, 1], s=14, alpha=0.8, color=f"C{k % 10}", label=f"{name} ({int(m.sum())})")
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(f"{'PCA' if method == 'pca' else 't-SNE'} of {X.shape[1]} features, {len(X)} faces")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_circumplex(proba, classes, *, labels=None, ax=None):
    """Predictions in Russell's valence-arousal circumplex.

    Each face's class probabilities become a point by
    :func:`facefeat.evaluation.affect.valence_arousal` (the probability-weighted mean
    of the class coordinates of :data:`facefeat.evaluation.affect.CIRCUMPLEX`); the
    faces are grouped by predicted class (or by ``labels``) and each group's
    mean position is drawn, next to the class coordinates themselves.

    Parameters
    ----------
    proba : array_like of shape (n_samples, n_classes)
        Class probabilities, columns in the order of ``classes``.
    classes : sequence of str of length n_classes
        Class names (aliases such as ``happy`` are accepted).
    labels : array_like of shape (n_samples,), optional
        Group the faces by these (e.g. the true classes) instead of by the
        most probable class.
    ax : matplotlib.axes.Axes, optional
        Drawn into a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections``: all faces, the class coordinates, then one mean
        marker per group (legend ``"<group> (<count>)"``); the unit circle is
        a patch, the two axes are lines.

    References
    ----------
    .. [1] J. A. Russell, "A circumplex model of affect", Journal of Personality
           and Social Psychology, 39(6), pp. 1161-1178, 1980.
           :DOI:`10.1037/h0077714`

    Examples
    --------
    >>> proba = np.array([[0.9, 0.1, 0.0], [0.7, 0.2, 0.1], [0.0, 0.2, 0.8]])
    >>> ax = plot_circumplex(proba, ["happiness", "neutral", "sadness"])
    >>> [c.get_offsets().shape[0] for c in ax.collections]
    [3, 3, 1, 1]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['faces (3)', 'class coordinates', 'happiness (2)', 'sadness (1)']
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('valence', 'arousal')
    """
    from matplotlib.patches import Circle

    from facefeat.evaluation.affect import circumplex_coordinates, valence_arousal

    va = valence_arousal(proba, classes)
    anchors = circumplex_coordinates(classes)
    classes = [str(c) for c in classes]
    if labels is None:
        groups, how = np.asarray(classes)[np.asarray(proba).argmax(axis=1)], "predicted class"
    else:
        groups, how = np.asarray(labels).astype(str), "label"
        if groups.shape != (len(va),):
            raise ValueError(f"labels must have shape ({len(va)},), got {groups.shape}")
    ax = new_axes(ax, (6.6, 4.8))
    ax.add_patch(Circle((0, 0), 1.0, fill=False, color="0.75", lw=0.8))
    ax.axhline(0, color="0.75", lw=0.8)
    ax.axvline(0, color="0.75", lw=0.8)
    ax.scatter(va[:, 0], va[:, 1], s=8, color="0.55", alpha=0.4, label=f"faces ({len(va)})")
    ax.scatter(anchors[:, 0], anchors[:, 1], marker="x", s=30, color="black", label="class coordinates")
    for name, (x, y) in zip(classes, anchors):
        ax.annotate(name, (x, y), xytext=(5, -9), textcoords="offset points", fontsize=7, zorder=4)
    order = [c for c in classes if c in set(groups)] + sorted(set(groups) - set(classes))
    for name in order:
        m = groups == name
        colour = f"C{classes.index(name) % 10}" if name in classes else "0.3"
        ax.scatter(*va[m].mean(axis=0), s=70, color=colour, edgecolor="black", zorder=3,
                   label=f"{name} ({int(m.sum())})")
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-1.1, 1.1)
    # a square box with equal limits keeps the circle round and lets the layout place the legend
    ax.set_box_aspect(1)
    ax.set_xlabel("valence")
    ax.set_ylabel("arousal")
    ax.set_title(f"valence-arousal: mean position per {how}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return ax
