"""The components that pipeline recipes may name.

An explicit mapping from recipe names to ``(module, class)``; a class is
imported only when a recipe uses it, so importing facefeat never imports
torch, and recipe files can never name arbitrary code.
"""

from importlib import import_module

COMPONENTS = {
    # face preparation
    "face_aligner": ("facefeat.faces.align", "FaceAligner"),
    # feature extractors
    "lbp": ("facefeat.features.lbp", "LBPHistogram"),
    "hog": ("facefeat.features.hog", "HOGFeatures"),
    "geometry": ("facefeat.features.geometry", "LandmarkGeometry"),
    "gabor": ("facefeat.features.gabor", "GaborFeatures"),
    "asm": ("facefeat.shape.features", "ASMShape"),
    "deep_embedding": ("facefeat.deep.embedding", "DeepEmbedding"),
    # generic scikit-learn steps (the scaler is scikit-learn's, fitted a block of columns at a time)
    "standard_scaler": ("facefeat.features.scaling", "LowMemoryStandardScaler"),
    "pca": ("sklearn.decomposition", "PCA"),
    "block_scaler": ("facefeat.classifiers.fusion", "BlockScaler"),
    # classification heads
    "logistic_regression": ("sklearn.linear_model", "LogisticRegression"),
    "linear_svm": ("sklearn.svm", "LinearSVC"),
    "random_forest": ("sklearn.ensemble", "RandomForestClassifier"),
    "hmm": ("facefeat.classifiers.hmm", "HMMClassifier"),
    "naive_hmm": ("facefeat.classifiers.hmm", "NaiveHMMClassifier"),
    "finetuned_cnn": ("facefeat.deep.finetune", "FineTunedCNN"),
    "cached_finetuned_cnn": ("facefeat.deep.cached_finetune", "CachedFineTunedCNN"),
    "compact_cnn": ("facefeat.deep.compact", "CompactCNN"),
}


def get_component(name):
    """The estimator class registered under ``name``.

    Examples
    --------
    >>> get_component("random_forest").__name__
    'RandomForestClassifier'
    """
    try:
        module, attr = COMPONENTS[name]
    except KeyError:
        raise ValueError(f"unknown component {name!r}; known: {', '.join(sorted(COMPONENTS))}") from None
    return getattr(import_module(module), attr)
