"""facefeat: facial expression recognition with classical and CNN features.

Public names are resolved lazily so that ``import facefeat`` stays cheap and
never imports dlib or torch until a component that needs them is used.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("facefeat")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

# public name -> module that defines it
_LAZY = {
    "FaceBatch": "facefeat.batch",
    "FaceAligner": "facefeat.align",
    "FaceDataset": "facefeat.datasets",
    "load_folder": "facefeat.datasets",
    "make_expressions": "facefeat.synthetic",
    "read_image": "facefeat.io",
    "read_images": "facefeat.io",
    "LBPHistogram": "facefeat.features.lbp",
    "HOGFeatures": "facefeat.features.hog",
    "GaborFeatures": "facefeat.features.gabor",
    "LandmarkGeometry": "facefeat.features.geometry",
    "HMMClassifier": "facefeat.classifiers.hmm",
    "NaiveHMMClassifier": "facefeat.classifiers.hmm",
    "ASMShape": "facefeat.shape.features",
    "ActiveShapeModel": "facefeat.shape.asm",
    "ASMFitter": "facefeat.shape.asm",
    "DeepEmbedding": "facefeat.deep.embedding",
    "FineTunedCNN": "facefeat.deep.finetune",
    "audit_dataset": "facefeat.audit",
    "make_pipeline": "facefeat.pipelines",
    "list_pipelines": "facefeat.pipelines",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'facefeat' has no attribute {name!r}")


def __dir__():
    return __all__
