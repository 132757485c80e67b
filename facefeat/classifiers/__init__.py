"""Classification heads for face feature vectors (scikit-learn classifiers)."""

from facefeat.classifiers.hmm import HMMClassifier, HMMFitWarning, NaiveHMMClassifier

__all__ = ["HMMClassifier", "NaiveHMMClassifier", "HMMFitWarning"]
