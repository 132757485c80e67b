"""Figure helpers shared by the plots: new figures and axes without pyplot, and :func:`save`."""

def new_figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def new_axes(ax, figsize):
    if ax is not None:
        return ax
    return new_figure(figsize).add_subplot()


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
    >>> from facefeat.plots import plot_confusion_matrix, save
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
