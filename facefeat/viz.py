"""Plots of data sets, results and features; none calls ``plt.show()``.

Each function takes data and returns either a :class:`matplotlib.axes.Axes`
(one panel; pass ``ax`` to draw into your own figure) or a
:class:`matplotlib.figure.Figure` (several panels), as its docstring says.
Figures are made with :class:`matplotlib.figure.Figure` directly, so they
work without a display and leave pyplot's global state alone; write them
with :func:`save` or ``fig.savefig(path)``.

=====================================  ==========  =========================================
function                               returns     shows
=====================================  ==========  =========================================
:func:`plot_class_distribution`        Axes        images per class
:func:`plot_confusion_matrix`          Axes        a confusion matrix
:func:`plot_per_class_f1`              Axes        per-class F1 of several pipelines
:func:`plot_landmarks`                 Axes        68 landmarks and the curated geometry
:func:`plot_lbp`                       Figure      LBP code map and per-cell histograms
:func:`plot_hog`                       Figure      HOG cell grid and orientation glyphs
:func:`plot_gabor`                     Figure      Gabor magnitudes per scale/orientation
:func:`plot_asm_fitting`               Figure      an Active Shape Model search
:func:`plot_asm_modes`                 Figure      modes of variation of a shape model
:func:`plot_embedding`                 Axes        features in 2-D (PCA or t-SNE)
:func:`plot_circumplex`                Axes        predictions in valence-arousal space
=====================================  ==========  =========================================
"""

import numpy as np

__all__ = [
    "plot_class_distribution", "plot_confusion_matrix", "plot_per_class_f1", "plot_landmarks", "plot_lbp",
    "plot_hog", "plot_gabor", "plot_asm_fitting", "plot_asm_modes", "plot_embedding", "plot_circumplex", "save",
]


def _new_figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    return _new_figure(figsize).add_subplot()


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
    # bars get thinner rather than the figure wider: a suite of ~20 pipelines stays readable at 16 in
    ax = _new_axes(ax, (min(16.0, max(6.0, 0.12 * n_pipes * len(classes) + 3.0)), 4.2))
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
# faces and features


def _face(face):
    """The image as given (for display) and as a float64 gray image (for features)."""
    from facefeat.features._base import check_images

    img = np.asarray(face)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    return img, check_images([img])[0]


def _show_face(ax, img, title=None):
    """Draw a face on the 0..255 scale (uint8) or 0..1 (floats up to 1)."""
    top = 255.0 if img.dtype == np.uint8 or img.max() > 1 else 1.0
    if img.ndim == 2:
        ax.imshow(img, cmap="gray", vmin=0, vmax=top)
    else:
        ax.imshow(np.clip(img / top, 0, 1))
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)


def plot_landmarks(face, landmarks, *, geometry=True, ax=None):
    """A face with its 68 landmarks and the curated geometry measurements.

    The measurements are those of
    :class:`~facefeat.features.geometry.LandmarkGeometry` with
    ``features="curated"``: each distance of
    :data:`~facefeat.features.geometry.CURATED_DISTANCES` is a line between
    its two landmarks, each angle of
    :data:`~facefeat.features.geometry.CURATED_ANGLES` a dashed line through
    its vertex.

    Parameters
    ----------
    face : ndarray of shape (h, w) or (h, w, 3)
        The (aligned) face, uint8 or float.
    landmarks : array_like of shape (68, 2)
        iBUG-68 landmarks in the face's pixel frame, (x, y) order.
    geometry : bool, default=True
        Also draw the curated distances and angles.
    ax : matplotlib.axes.Axes, optional
        Drawn into a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections``: the distance lines and angle lines (when
        ``geometry``), then the landmark points.

    Examples
    --------
    >>> from facefeat.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=1, n_per_class=1, classes=["surprise"])
    >>> ax = plot_landmarks(ds.images[0], ds.landmarks[0])
    >>> [len(c.get_segments()) for c in ax.collections[:2]], ax.collections[2].get_offsets().shape
    ([25, 10], (68, 2))
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['curated distances (25)', 'curated angles (10)', '68 landmarks']
    """
    from facefeat.landmarks import N_LANDMARKS

    img, _ = _face(face)
    pts = np.asarray(landmarks, dtype=float)
    if pts.shape != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks must have shape ({N_LANDMARKS}, 2) in (x, y) order, got {pts.shape}")
    ax = _new_axes(ax, (4.2, 4.6))
    _show_face(ax, img, "landmarks and curated geometry" if geometry else "landmarks")
    if geometry:
        from matplotlib.collections import LineCollection

        from facefeat.features.geometry import CURATED_ANGLES, CURATED_DISTANCES

        ax.add_collection(LineCollection(pts[np.array(CURATED_DISTANCES)], colors="tab:cyan", linewidths=1.0,
                                         label=f"curated distances ({len(CURATED_DISTANCES)})"))
        ax.add_collection(LineCollection(pts[np.array(CURATED_ANGLES)], colors="tab:orange", linewidths=1.0,
                                         linestyles="--", label=f"curated angles ({len(CURATED_ANGLES)})"))
    ax.scatter(pts[:, 0], pts[:, 1], s=7, color="tab:red", zorder=3, label=f"{N_LANDMARKS} landmarks")
    # keep the image's extent: points outside a tight crop (the chin) are clipped, not shown in a void
    h, w = img.shape[:2]
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=3 if geometry else 1, fontsize=7,
              frameon=False)
    return ax


def plot_lbp(face, *, P=8, R=1.0, method="nri_uniform", grid=(7, 7)):
    """Local binary patterns of a face: the code map and the per-cell histograms.

    The codes come from :func:`facefeat.features.lbp.local_binary_pattern`
    and the histograms from :class:`~facefeat.features.lbp.LBPHistogram`
    with the same parameters (``normalize="l1"``), i.e. exactly the
    features that the ``lbp`` pipelines see.

    Parameters
    ----------
    face : ndarray of shape (h, w) or (h, w, 3)
        The (aligned) face; RGB is converted to gray.
    P : int, default=8
        Number of neighbour points.
    R : float, default=1.0
        Radius of the neighbour circle in pixels.
    method : {'nri_uniform', 'uniform', 'ror'}, default='nri_uniform'
        Code type, as in :class:`~facefeat.features.lbp.LBPHistogram`.
    grid : tuple of (int, int), default=(7, 7)
        Cell rows and columns of the histograms.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: the face, the code map with the cell grid, and the
        histograms as an image of shape (grid[0] * grid[1], n_bins), one
        row per cell in row-major order.

    References
    ----------
    .. [1] T. Ahonen, A. Hadid and M. Pietikainen, "Face description with local
           binary patterns: application to face recognition", IEEE Transactions
           on Pattern Analysis and Machine Intelligence, 28(12), pp. 2037-2041,
           2006. :DOI:`10.1109/TPAMI.2006.244`

    Examples
    --------
    >>> face = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    >>> fig = plot_lbp(face, grid=(4, 4))
    >>> len(fig.axes), fig.axes[2].images[0].get_array().shape
    (3, (16, 59))
    >>> codes = fig.axes[1].images[0].get_array()
    >>> int(codes.min()) >= 0, int(codes.max()) <= 58
    (True, True)
    """
    from facefeat.features.lbp import LBPHistogram, _grid_edges, _max_code, local_binary_pattern, n_lbp_bins

    if isinstance(P, (tuple, list)) or isinstance(R, (tuple, list)):
        raise ValueError("plot_lbp draws one scale: give P as an int and R as a float")
    img, gray = _face(face)
    est = LBPHistogram(P=P, R=R, method=method, grid=grid)
    hist = est.fit_transform(gray[None])  # validates the parameters
    rows, cols = (int(g) for g in grid)
    hist = hist.reshape(rows * cols, n_lbp_bins(P, method))
    codes = local_binary_pattern(gray, P, R, method)

    fig = _new_figure((11.0, 3.8))
    ax_face, ax_codes, ax_hist = fig.subplots(1, 3, width_ratios=[1, 1, 1.5])
    _show_face(ax_face, img, "face")
    ax_codes.imshow(codes, cmap="viridis", vmin=0, vmax=_max_code(int(P), method), interpolation="nearest")
    h, w = codes.shape
    for y in _grid_edges(h, rows)[1:-1]:
        ax_codes.axhline(y - 0.5, color="white", lw=0.6)
    for x in _grid_edges(w, cols)[1:-1]:
        ax_codes.axvline(x - 0.5, color="white", lw=0.6)
    ax_codes.set_axis_off()
    r = f"{float(R):g}"
    ax_codes.set_title(f"LBP codes ({method}, P={P}, R={r}), {rows}x{cols} cells", fontsize=9)
    ax_hist.imshow(hist, cmap="magma", aspect="auto", interpolation="nearest")
    ax_hist.set_xlabel("LBP code (histogram bin)")
    ax_hist.set_ylabel("cell (row-major)")
    ax_hist.set_title(f"per-cell histograms ({hist.shape[1]} bins, l1-normalised)", fontsize=9)
    return fig


def plot_hog(face, *, orientations=9, pixels_per_cell=(12, 12), cells_per_block=(2, 2), block_norm="L2-Hys",
             transform_sqrt=False):
    """Histograms of oriented gradients of a face, drawn as glyphs.

    The parameters are those of :class:`~facefeat.features.hog.HOGFeatures`
    (same names, same defaults) and are validated by it; the glyphs come
    from :func:`skimage.feature.hog` with ``visualize=True``: in each cell, a
    line per orientation bin, as bright as the bin's (unnormalised) gradient
    energy.

    Parameters
    ----------
    face : ndarray of shape (h, w) or (h, w, 3)
        The (aligned) face; RGB is converted to gray. At least one block of
        cells must fit in it.
    orientations : int, default=9
        Number of unsigned orientation bins over [0, 180) degrees.
    pixels_per_cell : tuple of (int, int), default=(12, 12)
        Cell size in pixels (rows, cols).
    cells_per_block : tuple of (int, int), default=(2, 2)
        Block size in cells, for the normalisation of the features.
    block_norm : {'L2-Hys', 'L2', 'L1', 'L1-sqrt'}, default='L2-Hys'
    transform_sqrt : bool, default=False
        Power-law compression of the image first.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: the face with the cell grid, and the glyph image of
        shape (h, w), values >= 0.

    References
    ----------
    .. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
           detection", IEEE Conference on Computer Vision and Pattern
           Recognition (CVPR), vol. 1, pp. 886-893, 2005.
           :DOI:`10.1109/CVPR.2005.177`

    Examples
    --------
    >>> face = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    >>> fig = plot_hog(face, pixels_per_cell=(8, 8))
    >>> glyphs = fig.axes[1].images[0].get_array()
    >>> len(fig.axes), glyphs.shape, bool(glyphs.min() >= 0 and glyphs.max() > 0)
    (2, (48, 48), True)
    """
    from skimage.feature import hog

    from facefeat.features.hog import HOGFeatures

    img, gray = _face(face)
    est = HOGFeatures(orientations=orientations, pixels_per_cell=pixels_per_cell, cells_per_block=cells_per_block,
                      block_norm=block_norm, transform_sqrt=transform_sqrt).fit(gray[None])
    (cr, cc), block = est._pair("pixels_per_cell"), est._pair("cells_per_block")
    _, glyphs = hog(gray, orientations=est.orientations, pixels_per_cell=(cr, cc), cells_per_block=block,
                    block_norm=est.block_norm, transform_sqrt=est.transform_sqrt, visualize=True)
    fig = _new_figure((7.6, 4.0))
    ax_face, ax_hog = fig.subplots(1, 2)
    _show_face(ax_face, img, f"face, {cr}x{cc}-pixel cells")
    h, w = gray.shape
    # skimage ignores the partial cells at the right and bottom
    for y in range(cr, (h // cr) * cr + 1, cr):
        ax_face.axhline(y - 0.5, color="tab:cyan", lw=0.5)
    for x in range(cc, (w // cc) * cc + 1, cc):
        ax_face.axvline(x - 0.5, color="tab:cyan", lw=0.5)
    ax_hog.imshow(glyphs, cmap="gray", vmin=0, interpolation="nearest")
    ax_hog.set_axis_off()
    ax_hog.set_title(f"HOG glyphs, {est.orientations} orientations ({est.n_features_out_} features)", fontsize=9)
    return fig


def plot_gabor(face, *, n_scales=5, n_orientations=8, k_max=np.pi / 2, f=np.sqrt(2), sigma=2 * np.pi,
               truncate=3.0, boundary="symmetric"):
    """Magnitudes of a face's Gabor responses, one panel per scale and orientation.

    The responses are those of :func:`facefeat.features.gabor.gabor_responses`
    (the bank of :class:`~facefeat.features.gabor.GaborFeatures`, same
    parameters and defaults). Each row shares one colour scale, from 0 to
    the row's largest magnitude, so orientations can be compared.

    Parameters
    ----------
    face : ndarray of shape (h, w) or (h, w, 3)
        The (aligned) face; RGB is converted to gray.
    n_scales : int, default=5
        Wave numbers ``k_max / f**s``, finest first (rows).
    n_orientations : int, default=8
        Orientations ``pi * o / n_orientations`` (columns).
    k_max : float, default=pi/2
        Wave number of the finest scale, radians per pixel.
    f : float, default=sqrt(2)
        Ratio between consecutive wave numbers.
    sigma : float, default=2*pi
        Envelope width relative to the wavelength.
    truncate : float, default=3.0
        Kernel radius in envelope standard deviations.
    boundary : {'symmetric', 'zero'}, default='symmetric'
        Extension of the image beyond its border.

    Returns
    -------
    matplotlib.figure.Figure
        ``n_scales * n_orientations`` panels in row-major order, each an
        image of shape (h, w) of magnitudes >= 0.

    References
    ----------
    .. [1] M. Lyons, S. Akamatsu, M. Kamachi and J. Gyoba, "Coding facial
           expressions with Gabor wavelets", Proceedings of the Third IEEE
           International Conference on Automatic Face and Gesture Recognition,
           pp. 200-205, 1998. :DOI:`10.1109/AFGR.1998.670949`

    Examples
    --------
    >>> face = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
    >>> fig = plot_gabor(face, n_scales=2, n_orientations=3)
    >>> len(fig.axes), fig.axes[0].images[0].get_array().shape
    (6, (32, 32))
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['0°', '60°', '120°']
    """
    from facefeat.features.gabor import gabor_responses

    _, gray = _face(face)
    mags = gabor_responses(gray, n_scales=n_scales, n_orientations=n_orientations, k_max=k_max, f=f, sigma=sigma,
                           truncate=truncate, boundary=boundary)
    fig = _new_figure((1.25 * n_orientations + 0.6, 1.3 * n_scales + 0.5))
    axes = fig.subplots(n_scales, n_orientations, squeeze=False)
    for s in range(n_scales):
        top = float(mags[s].max()) or 1.0
        wavelength = 2 * np.pi * f**s / k_max
        for o in range(n_orientations):
            ax = axes[s, o]
            ax.imshow(mags[s, o], cmap="inferno", vmin=0, vmax=top, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if s == 0:
                ax.set_title(f"{180 * o / n_orientations:g}°", fontsize=8)
            if o == 0:
                ax.set_ylabel(f"λ = {wavelength:.1f} px", fontsize=8)
    fig.suptitle("Gabor magnitudes (rows: wavelength, columns: orientation)", fontsize=9)
    return fig


def plot_asm_fitting(image, result=None, *, model=None, iterations=(0, 5, 10, None), truth=None):
    """An Active Shape Model search: start, intermediate and final shapes.

    A wrapper of :func:`facefeat.shape.plots.plot_fitting_sequence` that
    also runs the search when no result is given.

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, 3)
        The image (a photograph, not an aligned crop: the search starts from
        dlib's face box).
    result : FittingResult, optional
        A finished search; by default ``ASMFitter(model).fit_image(image)``.
    model : ActiveShapeModel, optional
        Model of the search when ``result`` is None; default the model
        shipped with facefeat.
    iterations : sequence of int or None, default=(0, 5, 10, None)
        Shapes to show (0: initial, k: after k iterations, None: final).
    truth : array_like of shape (68, 2), optional
        True landmarks, drawn in green.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per entry of ``iterations``.

    References
    ----------
    .. [1] T. F. Cootes, C. J. Taylor, D. H. Cooper and J. Graham, "Active
           shape models - their training and application", Computer Vision
           and Image Understanding, 61(1), pp. 38-59, 1995.
           :DOI:`10.1006/cviu.1995.1004`

    Examples
    --------
    >>> history = np.cumsum(np.ones((4, 68, 2)), axis=0)
    >>> fig = plot_asm_fitting(np.zeros((32, 32), np.uint8), history, iterations=(0, None))
    >>> [ax.get_title() for ax in fig.axes]
    ['initial', 'final (3 iterations)']
    """
    from facefeat.shape.plots import plot_fitting_sequence

    if result is None:
        from facefeat.shape.asm import ActiveShapeModel, ASMFitter

        result = ASMFitter(model if model is not None else ActiveShapeModel.default()).fit_image(image)
    return plot_fitting_sequence(image, result, iterations=iterations, truth=truth)


def plot_asm_modes(model=None, *, n_modes=3, n_sd=3.0):
    """Modes of variation of a point distribution model (mean -+ ``n_sd`` sd).

    A wrapper of :func:`facefeat.shape.plots.plot_modes`.

    Parameters
    ----------
    model : ActiveShapeModel or PointDistributionModel, optional
        Fitted; default the Active Shape Model shipped with facefeat.
    n_modes : int, default=3
        First modes to show, one row each.
    n_sd : float, default=3.0
        Standard deviations either side of the mean.

    Returns
    -------
    matplotlib.figure.Figure
        ``n_modes`` rows of three panels: ``-n_sd``, mean, ``+n_sd``.

    Examples
    --------
    >>> fig = plot_asm_modes(n_modes=2)
    >>> len(fig.axes), fig.axes[1].get_title()
    (6, 'mean')
    """
    from facefeat.shape.plots import plot_modes

    if model is None:
        from facefeat.shape.asm import ActiveShapeModel

        model = ActiveShapeModel.default()
    return plot_modes(model, n_modes=n_modes, n_sd=n_sd)


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
    ax = _new_axes(ax, (6.4, 4.6))
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
    :func:`facefeat.affect.valence_arousal` (the probability-weighted mean
    of the class coordinates of :data:`facefeat.affect.CIRCUMPLEX`); the
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

    from facefeat.affect import circumplex_coordinates, valence_arousal

    va = valence_arousal(proba, classes)
    anchors = circumplex_coordinates(classes)
    classes = [str(c) for c in classes]
    if labels is None:
        groups, how = np.asarray(classes)[np.asarray(proba).argmax(axis=1)], "predicted class"
    else:
        groups, how = np.asarray(labels).astype(str), "label"
        if groups.shape != (len(va),):
            raise ValueError(f"labels must have shape ({len(va)},), got {groups.shape}")
    ax = _new_axes(ax, (6.6, 4.8))
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


def save(ax, path, dpi=120):
    """Write the figure of ``ax`` (an Axes or a Figure) to ``path`` (format by extension).

    Parameters
    ----------
    ax : matplotlib.axes.Axes or matplotlib.figure.Figure
        What the ``plot_*`` functions of this module return.
    path : str or path-like
        The file; its extension (``.png``, ``.pdf``, ``.svg``, ...) gives the
        format.
    dpi : int, default=120
        Resolution of raster formats.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from facefeat.viz import plot_confusion_matrix, save
    >>> ax = plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["anger", "fear"])
    >>> path = os.path.join(tempfile.mkdtemp(), "confusion.png")
    >>> save(ax, path, dpi=50)
    >>> with Image.open(path) as im:
    ...     im.format, im.size == tuple(round(v * 50) for v in ax.figure.get_size_inches())
    ('PNG', True)
    """
    from matplotlib.figure import FigureBase

    fig = ax if isinstance(ax, FigureBase) else ax.figure
    fig.savefig(path, dpi=dpi)
