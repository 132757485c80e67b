"""Pictures of faces and their features: landmarks, LBP, HOG, Gabor, Active Shape Model search and modes."""

import numpy as np

from facefeat.plots._figure import new_axes, new_figure


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
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=1, n_per_class=1, classes=["surprise"])
    >>> ax = plot_landmarks(ds.images[0], ds.landmarks[0])
    >>> [len(c.get_segments()) for c in ax.collections[:2]], ax.collections[2].get_offsets().shape
    ([25, 10], (68, 2))
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['curated distances (25)', 'curated angles (10)', '68 landmarks']
    """
    from facefeat.faces.landmarks import N_LANDMARKS

    img, _ = _face(face)
    pts = np.asarray(landmarks, dtype=float)
    if pts.shape != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks must have shape ({N_LANDMARKS}, 2) in (x, y) order, got {pts.shape}")
    ax = new_axes(ax, (4.2, 4.6))
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

    Notes
    -----
    The method and its references: :class:`~facefeat.features.lbp.LBPHistogram`.

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

    fig = new_figure((11.0, 3.8))
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

    Notes
    -----
    The method and its references: :class:`~facefeat.features.hog.HOGFeatures`.

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
    fig = new_figure((7.6, 4.0))
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

    Notes
    -----
    The method and its references: :class:`~facefeat.features.gabor.GaborFeatures`.

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
    fig = new_figure((1.25 * n_orientations + 0.6, 1.3 * n_scales + 0.5))
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

    A wrapper of :func:`facefeat.shape.plots.plot_modes` (same ``n_modes``,
    ``n_sd`` and returned figure) whose ``model`` defaults to the Active Shape
    Model shipped with facefeat.

    Parameters
    ----------
    model : ActiveShapeModel or PointDistributionModel, optional
        Fitted; default the shipped model.
    n_modes : int, default=3
    n_sd : float, default=3.0

    Returns
    -------
    matplotlib.figure.Figure

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
