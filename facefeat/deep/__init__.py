"""Deep features: CNN backbones in plain torch, embeddings and fine-tuning.

Nothing here imports torch until it is used: the names below are resolved
lazily, like those of :mod:`facefeat` itself.

* :class:`~facefeat.deep.embedding.DeepEmbedding`: aligned faces to vectors
  with an ImageNet CNN (or dlib's face-recognition ResNet);
* :class:`~facefeat.deep.finetune.FineTunedCNN`: a scikit-learn classifier
  that fine-tunes a pretrained CNN end to end;
  :class:`~facefeat.deep.cached_finetune.CachedFineTunedCNN` its cheap mode
  (a head on cached features, then the last stages);
* :class:`~facefeat.deep.compact.CompactCNN`: a small CNN trained from
  scratch on small gray faces;
* :mod:`facefeat.deep.backbones`: the networks by name, built from one
  module per family (:mod:`~facefeat.deep.mobilenet`,
  :mod:`~facefeat.deep.efficientnet`, :mod:`~facefeat.deep.resnet`,
  :mod:`~facefeat.deep.inception`);
* :mod:`facefeat.deep.weights`: where their weights come from.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "embedding": ["DeepEmbedding"],
    "finetune": ["FineTunedCNN", "face_network"],
    "cached_finetune": ["CachedFineTunedCNN"],
    "compact": ["CompactCNN"],
    "backbones": ["BACKBONES", "build_backbone"],
    "weights": ["weights_path"],
})
