"""facefeat: facial expression recognition with classical and CNN features.

The package follows the path a face travels:

=============================  ==========================================================
:mod:`facefeat.images`         reading image files, face data sets, the synthetic demo set
:mod:`facefeat.faces`          detection, 68 landmarks, alignment, :class:`FaceBatch`
:mod:`facefeat.features`       LBP, HOG, Gabor, landmark geometry; chunked extraction
:mod:`facefeat.shape`          point distribution and Active Shape Models
:mod:`facefeat.deep`           CNN backbones, embeddings, fine-tuning
:mod:`facefeat.classifiers`    HMM classifiers, feature-block fusion
:mod:`facefeat.evaluation`     folds, metrics, uncertainty, audit, the benchmark runner
:mod:`facefeat.plots`          pictures of data, features and results
:mod:`facefeat.cli`            the ``facefeat`` command line (nothing else imports it)
=============================  ==========================================================

plus :mod:`facefeat.registry` (the components recipes may name),
:mod:`facefeat.pipelines` (the named recipes) and :mod:`facefeat.modelfile`
(model files written by ``facefeat fit``).

Public names are resolved lazily so that ``import facefeat`` stays cheap and
never imports dlib or torch until a component that needs them is used.
"""

from importlib.metadata import PackageNotFoundError, version

import lazy_loader as _lazy

from facefeat import _compat

try:
    __version__ = version("facefeat")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

_compat.install()

# each public name comes from the subpackage that holds it (which resolves it lazily in turn)
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "images": ["FaceDataset", "load_folder", "make_expressions", "read_image", "read_images"],
    "faces": ["FaceAligner", "FaceBatch"],
    "features": ["LBPHistogram", "HOGFeatures", "GaborFeatures", "LandmarkGeometry"],
    "shape": ["ASMShape", "ActiveShapeModel", "ASMFitter"],
    "deep": ["DeepEmbedding", "FineTunedCNN", "CompactCNN"],
    "classifiers": ["HMMClassifier", "NaiveHMMClassifier"],
    "evaluation": ["audit_dataset"],
    "analysis": ["analyze"],
    "pipelines": ["make_pipeline", "list_pipelines"],
})
__all__ = [*__all__, "__version__"]
