"""Hand-crafted features of aligned faces, as scikit-learn transformers, chunked extraction and scaling.

=====================================  ==================================================
:mod:`facefeat.features.lbp`           :class:`LBPHistogram`: local binary pattern histograms
:mod:`facefeat.features.hog`           :class:`HOGFeatures`: histograms of oriented gradients
:mod:`facefeat.features.gabor`         :class:`GaborFeatures`: Gabor magnitudes
:mod:`facefeat.features.geometry`      :class:`LandmarkGeometry`: distances and angles of landmarks
:mod:`facefeat.features.extract`       :func:`extract_features`: any pipeline's stateless steps in chunks
:mod:`facefeat.features.scaling`       :class:`LowMemoryStandardScaler`: the recipes' scaler
=====================================  ==================================================
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "lbp": ["LBPHistogram"],
    "hog": ["HOGFeatures"],
    "gabor": ["GaborFeatures"],
    "geometry": ["LandmarkGeometry"],
    "extract": ["extract_features"],
    "scaling": ["LowMemoryStandardScaler"],
})
