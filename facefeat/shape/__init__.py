"""Facial shape: Procrustes analysis, point distribution models and Active Shape Models.

Shapes are ``(n_points, 2)`` float arrays of ``(x, y)`` pixel coordinates,
0-based; 68-point shapes follow the iBUG scheme of :mod:`facefeat.landmarks`.

=====================================  =====================================================
:mod:`facefeat.shape.pdm`              :class:`PointDistributionModel`, :class:`Pose`,
                                       :func:`generalized_procrustes`, :func:`align_similarity`
:mod:`facefeat.shape.profiles`         grey-level profile models (1-D and 2-D)
:mod:`facefeat.shape.asm`              :class:`ActiveShapeModel`, :class:`ASMFitter`,
                                       :class:`FittingResult`, :func:`train_asm`
:mod:`facefeat.shape.features`         :class:`ASMShape`, shape parameters as features
:mod:`facefeat.shape.pts`              300-W ``.pts`` files (1-based on disk)
:mod:`facefeat.shape.metrics`          normalised mean error (300-W convention)
:mod:`facefeat.shape.plots`            fitting sequences, modes of variation, error curves
:mod:`facefeat.shape.cli`              ``facefeat asm train``, ``landmarks``, ``landmarks-eval``
=====================================  =====================================================

Names are imported lazily, so ``import facefeat.shape`` does not load dlib,
OpenCV or matplotlib.

Examples
--------
>>> from facefeat.shape import ActiveShapeModel, ASMFitter
>>> from skimage.data import astronaut
>>> result = ASMFitter(ActiveShapeModel.default()).fit_image(astronaut())
>>> result.shape.shape, result.face_found
((68, 2), True)
"""

from importlib import import_module

_LAZY = {
    "Pose": "facefeat.shape.pdm",
    "align_similarity": "facefeat.shape.pdm",
    "generalized_procrustes": "facefeat.shape.pdm",
    "PointDistributionModel": "facefeat.shape.pdm",
    "ProfileModel": "facefeat.shape.profiles",
    "PatchModel": "facefeat.shape.profiles",
    "ActiveShapeModel": "facefeat.shape.asm",
    "ASMFitter": "facefeat.shape.asm",
    "FittingResult": "facefeat.shape.asm",
    "train_asm": "facefeat.shape.asm",
    "load_landmarked_images": "facefeat.shape.asm",
    "detect_face_box": "facefeat.shape.asm",
    "ASMShape": "facefeat.shape.features",
    "read_pts": "facefeat.shape.pts",
    "write_pts": "facefeat.shape.pts",
    "normalized_mean_error": "facefeat.shape.metrics",
    "plot_fitting_sequence": "facefeat.shape.plots",
    "plot_modes": "facefeat.shape.plots",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'facefeat.shape' has no attribute {name!r}")


def __dir__():
    return __all__
