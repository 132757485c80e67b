"""Active Shape Models: the model, its fitter and the fitting result.

An :class:`ActiveShapeModel` holds a point distribution model (mean shape and
modes of variation, :mod:`facefeat.shape.pdm`), a grey-level profile model per
landmark and pyramid level (:mod:`facefeat.shape.profiles`), and how a face
detector's box relates to the face's landmarks. It is trained from images
with landmarks (:meth:`ActiveShapeModel.fit`, :func:`train_asm` for folders of
image + ``.pts`` pairs) and stored as a small ``.npz`` file.

An :class:`ASMFitter` searches an image with a model: from an initial shape
(placed from a face box), every landmark looks along its normal for the
position whose profile best matches the model, and the shape model then
pulls the suggested points back to a plausible face; repeated to
convergence, coarse to fine over an image pyramid (Cootes et al. [1]_, [2]_).
The answer is a :class:`FittingResult`.

This module gathers the names of the ASM; they are defined in

=========================================  =================================================
:mod:`facefeat.shape.model`                :class:`ActiveShapeModel`, :func:`train_asm`,
                                           ``DEFAULT_MODEL_PATH``
:mod:`facefeat.shape.fitter`               :class:`ASMFitter`
:mod:`facefeat.shape.result`               :class:`FittingResult`
:mod:`facefeat.shape.training_data`        :func:`load_landmarked_images`,
                                           :func:`detect_face_box`, mirroring
=========================================  =================================================

Notes
-----
Departures from Cootes et al. (1995):

* Scale normalisation. Before searching at each pyramid level the image is
  resampled so that the current face estimate has a fixed size (the model's
  ``face_width``); the profile models are trained on images normalised in the
  same way from the true landmarks. This makes the profile statistics
  independent of the image resolution, in the manner of Milborrow & Nicolls
  (2008, doi:10.1007/978-3-540-88693-8_37).
* Initialisation. The initial shape is the mean shape placed by a similarity
  learned from training images as the median relation between dlib's HOG
  face box and the true landmarks.
* Shape fitting is warm-started from the previous iteration's parameters and
  runs a few alternations of pose and shape only.

References
----------
.. [1] T. F. Cootes, C. J. Taylor, D. H. Cooper and J. Graham, "Active shape
   models - their training and application", Computer Vision and Image
   Understanding 61(1):38-59, 1995. doi:10.1006/cviu.1995.1004
.. [2] T. F. Cootes, C. J. Taylor and A. Lanitis, "Active shape models:
   evaluation of a multi-resolution method for improving image search",
   BMVC 1994, pp. 327-336. doi:10.5244/C.8.32
"""

from facefeat.shape.fitter import ASMFitter
from facefeat.shape.model import DEFAULT_MODEL_PATH, ActiveShapeModel, train_asm
from facefeat.shape.result import FittingResult
from facefeat.shape.training_data import (
    detect_face_box,
    ibug68_mirror,
    load_landmarked_images,
)

__all__ = [
    "ActiveShapeModel",
    "ASMFitter",
    "FittingResult",
    "train_asm",
    "load_landmarked_images",
    "detect_face_box",
    "DEFAULT_MODEL_PATH",
    "ibug68_mirror",
]
