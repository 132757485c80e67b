"""Classification heads for face feature vectors, and the fusion of feature blocks.

=====================================  ==================================================
:mod:`facefeat.classifiers.hmm`        :class:`HMMClassifier`, :class:`NaiveHMMClassifier`
:mod:`facefeat.classifiers.fusion`     :class:`BlockScaler`: feature blocks weighed alike;
                                       :class:`Vote`: averaged probabilities, weighed alike
                                       or by :func:`mixture_weights`
=====================================  ==================================================
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "hmm": ["HMMClassifier", "NaiveHMMClassifier", "HMMFitWarning"],
    "fusion": ["BlockScaler", "Vote", "mixture_weights"],
})
