"""Feature extractors: scikit-learn transformers from face images to vectors."""
