"""Facial shape: Procrustes analysis, point distribution models and Active Shape Models.

Shapes are ``(n_points, 2)`` float arrays of ``(x, y)`` pixel coordinates,
0-based; 68-point shapes follow the iBUG scheme of :mod:`facefeat.faces.landmarks`.

=====================================  =====================================================
:mod:`facefeat.shape.pdm`              :class:`PointDistributionModel`, :class:`Pose`,
                                       :func:`generalized_procrustes`, :func:`align_similarity`
:mod:`facefeat.shape.profiles`         grey-level profile models (1-D and 2-D)
:mod:`facefeat.shape.model`            :class:`ActiveShapeModel`, :func:`train_asm`
:mod:`facefeat.shape.fitter`           :class:`ASMFitter`
:mod:`facefeat.shape.result`           :class:`FittingResult`
:mod:`facefeat.shape.training_data`    :func:`load_landmarked_images`, :func:`detect_face_box`
:mod:`facefeat.shape.asm`              the ASM names above in one place (overview, references)
:mod:`facefeat.shape.features`         :class:`ASMShape`, shape parameters as features
:mod:`facefeat.shape.pts`              300-W ``.pts`` files (1-based on disk)
:mod:`facefeat.shape.metrics`          normalised mean error (300-W convention)
:mod:`facefeat.shape.plots`            fitting sequences, modes of variation, error curves
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

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "pdm": ["Pose", "align_similarity", "generalized_procrustes", "PointDistributionModel"],
    "profiles": ["ProfileModel", "PatchModel"],
    "model": ["ActiveShapeModel", "train_asm"],
    "fitter": ["ASMFitter"],
    "result": ["FittingResult"],
    "training_data": ["load_landmarked_images", "detect_face_box"],
    "features": ["ASMShape"],
    "pts": ["read_pts", "write_pts"],
    "metrics": ["normalized_mean_error"],
    "plots": ["plot_fitting_sequence", "plot_modes"],
})
