"""Plots of data sets, results and features; none calls ``plt.show()``.

Each function takes data and returns either a :class:`matplotlib.axes.Axes`
(one panel; pass ``ax`` to draw into your own figure) or a
:class:`matplotlib.figure.Figure` (several panels), as its docstring says.
Figures are made with :class:`matplotlib.figure.Figure` directly, so they
work without a display and leave pyplot's global state alone; write them
with :func:`save` or ``fig.savefig(path)``.

The plots of results live in :mod:`facefeat.plots.results`, those of faces
and features in :mod:`facefeat.plots.features`, that of a video's analysis in
:mod:`facefeat.plots.timeline`; all are importable from here.

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
:func:`plot_timeline`                  Figure      a video's face track over time
=====================================  ==========  =========================================
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "results": ["plot_class_distribution", "plot_confusion_matrix", "plot_per_class_f1", "plot_embedding",
                "plot_circumplex"],
    "features": ["plot_landmarks", "plot_lbp", "plot_hog", "plot_gabor", "plot_asm_fitting", "plot_asm_modes"],
    "timeline": ["plot_timeline"],
    "_figure": ["save"],
})
