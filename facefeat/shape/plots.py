"""Pictures of shape models and ASM searches.

Every function takes data and returns a :class:`matplotlib.figure.Figure`
made without pyplot (no global state, nothing shown); save it with
``fig.savefig(path)``.
"""

import numpy as np
from matplotlib.figure import Figure

from facefeat.faces.landmarks import N_LANDMARKS
from facefeat.shape.profiles import IBUG68_CONTOURS

__all__ = ["draw_shape", "plot_fitting_sequence", "plot_modes", "plot_cumulative_error"]


def draw_shape(ax, shape, *, color="tab:red", markersize=2.5, linewidth=0.8, lines=True, label=None):
    """Draw landmarks on an Axes: points, joined along the iBUG-68 boundaries.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    shape : array_like of shape (n_points, 2)
    color : str
    markersize, linewidth : float
    lines : bool, default=True
        Join the points of each boundary (68-point shapes only).
    label : str, optional
        Legend label.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes, with one line per boundary (9 for a 68-point shape
        with ``lines=True``) and one line of markers for the points.

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> from facefeat.shape.plots import draw_shape
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=1, n_per_class=1, classes=["happiness"])
    >>> ax = Figure().subplots()
    >>> _ = ax.imshow(ds.images[0], cmap="gray")
    >>> ax = draw_shape(ax, ds.landmarks[0], label="truth")
    >>> len(ax.lines), ax.lines[-1].get_label(), len(ax.lines[-1].get_xdata())
    (10, 'truth', 68)
    >>> len(draw_shape(Figure().subplots(), np.zeros((5, 2))).lines)  # other shapes: points only
    1
    """
    shape = np.asarray(shape, dtype=float)
    if lines and len(shape) == N_LANDMARKS:
        for idx, closed in IBUG68_CONTOURS:
            idx = list(idx) + ([idx[0]] if closed else [])
            ax.plot(shape[idx, 0], shape[idx, 1], "-", color=color, lw=linewidth)
    ax.plot(shape[:, 0], shape[:, 1], "o", color=color, ms=markersize, label=label, ls="none")
    return ax


def plot_fitting_sequence(image, result, *, iterations=(0, 5, 10, None), truth=None, panel_size=3.0):
    """The shape at the start of an ASM search, after some iterations and at the end.

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, 3)
        The image that was searched.
    result : FittingResult or array_like of shape (n_steps, n_points, 2)
        A search result (its ``shapes`` history), or the history itself.
    iterations : sequence of int or None, default=(0, 5, 10, None)
        Which shapes to show: 0 is the initial shape, ``k`` the shape after
        ``k`` iterations (the last one if the search stopped earlier), None
        the final shape.
    truth : array_like of shape (n_points, 2), optional
        True landmarks, drawn in green on every panel.
    panel_size : float, default=3.0
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> history = np.cumsum(np.ones((4, 68, 2)), axis=0)
    >>> fig = plot_fitting_sequence(np.zeros((32, 32), np.uint8), history)
    >>> [ax.get_title() for ax in fig.axes]
    ['initial', 'after 5 iterations (3)', 'after 10 iterations (3)', 'final (3 iterations)']
    """
    shapes = np.asarray(getattr(result, "shapes", result), dtype=float)
    if shapes.ndim != 3 or shapes.shape[2] != 2:
        raise ValueError(f"expected a FittingResult or shapes of shape (n_steps, n_points, 2), got {shapes.shape}")
    last = len(shapes) - 1
    fig = Figure(figsize=(panel_size * len(iterations), panel_size + 0.4), layout="constrained")
    axes = fig.subplots(1, len(iterations), squeeze=False)[0]
    image = np.asarray(image)
    for ax, k in zip(axes, iterations):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0 if image.ndim == 2 else None,
                  vmax=255 if image.ndim == 2 and image.dtype == np.uint8 else None)
        if truth is not None:
            draw_shape(ax, truth, color="tab:green", markersize=1.5, linewidth=0.5)
        if k is None:
            step, title = last, f"final ({last} iterations)"
        elif k == 0:
            step, title = 0, "initial"
        else:
            step = min(int(k), last)
            title = f"after {k} iterations" + (f" ({step})" if step < k else "")
        draw_shape(ax, shapes[step])
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    return fig


def plot_modes(pdm, *, n_modes=3, n_sd=3.0, panel_size=2.2):
    """Modes of variation of a point distribution model: mean -+ ``n_sd`` standard deviations.

    Parameters
    ----------
    pdm : PointDistributionModel
        Fitted (or an :class:`~facefeat.shape.asm.ActiveShapeModel`, whose
        ``pdm_`` is used).
    n_modes : int, default=3
        First modes to show (one row each).
    n_sd : float, default=3.0
    panel_size : float, default=2.2
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
        ``n_modes`` rows of three panels: ``-n_sd``, mean, ``+n_sd``.

    Examples
    --------
    >>> import numpy as np
    >>> from facefeat.shape.pdm import PointDistributionModel
    >>> rng = np.random.default_rng(0)
    >>> pdm = PointDistributionModel(n_components=2).fit(rng.normal(size=(20, 68, 2)))
    >>> len(plot_modes(pdm, n_modes=2).axes)
    6
    """
    pdm = getattr(pdm, "pdm_", pdm)
    n_modes = min(int(n_modes), pdm.n_components_)
    fig = Figure(figsize=(3 * panel_size, n_modes * panel_size + 0.3), layout="constrained")
    axes = fig.subplots(n_modes, 3, squeeze=False)
    span = []
    for i in range(n_modes):
        sd = np.sqrt(pdm.eigenvalues_[i])
        for j, k in enumerate((-n_sd, 0.0, n_sd)):
            b = np.zeros(i + 1)
            b[i] = k * sd
            shape = pdm.instance(b)
            span.append(shape)
            ax = axes[i, j]
            draw_shape(ax, shape, color="tab:blue" if k == 0 else "tab:red", markersize=1.5)
            ax.set_aspect("equal")
            ax.invert_yaxis()
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title("mean" if k == 0 else f"{k:+g} sd", fontsize=9)
            if j == 0:
                share = 100 * pdm.explained_variance_ratio_[i]
                ax.set_ylabel(f"mode {i + 1} ({share:.0f}%)", fontsize=9)
    lo = np.min([s.min(axis=0) for s in span], axis=0)
    hi = np.max([s.max(axis=0) for s in span], axis=0)
    pad = 0.05 * (hi - lo).max()
    for ax in axes.ravel():
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(hi[1] + pad, lo[1] - pad)
    return fig


def plot_cumulative_error(errors, *, max_error=0.10, title=None):
    """Cumulative error distribution (fraction of images with error <= x).

    Parameters
    ----------
    errors : dict of str to array_like
        Per-image normalised errors of each method.
    max_error : float, default=0.10
        Right end of the x axis.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_cumulative_error({"a": [0.01, 0.05], "b": [0.03, 0.2]})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['a (mean 0.030)', 'b (mean 0.115)']
    """
    from facefeat.shape.metrics import cumulative_error_distribution

    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.subplots()
    for name, e in errors.items():
        e = np.asarray(e, dtype=float)
        x, y = cumulative_error_distribution(e, max_error)
        ax.plot(x, y, label=f"{name} (mean {e.mean():.3f})")
    ax.set_xlim(0, max_error)
    ax.set_ylim(0, 1)
    ax.set_xlabel("NME (mean point error / outer-eye-corner distance)")
    ax.set_ylabel("fraction of images")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title, fontsize=9)
    return fig
