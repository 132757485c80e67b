"""Deep features: CNN backbones in plain torch, embeddings and fine-tuning.

Nothing here imports torch until it is used: the names below are resolved
lazily, like those of :mod:`facefeat` itself.

* :class:`~facefeat.deep.embedding.DeepEmbedding`: aligned faces to vectors
  with an ImageNet CNN (or dlib's face-recognition ResNet);
* :class:`~facefeat.deep.finetune.FineTunedCNN`: a scikit-learn classifier
  that trains a head on a frozen CNN, then fine-tunes its last blocks;
* :mod:`facefeat.deep.backbones`: the networks;
* :mod:`facefeat.deep.weights`: where their weights come from.
"""

from importlib import import_module

_LAZY = {
    "DeepEmbedding": "facefeat.deep.embedding",
    "FineTunedCNN": "facefeat.deep.finetune",
    "BACKBONES": "facefeat.deep.backbones",
    "build_backbone": "facefeat.deep.backbones",
    "weights_path": "facefeat.deep.weights",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'facefeat.deep' has no attribute {name!r}")


def __dir__():
    return __all__
