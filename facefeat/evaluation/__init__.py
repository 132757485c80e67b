"""Evaluation: folds, metrics, uncertainty, the data-set audit and the benchmark runner.

=======================================  ==================================================
:mod:`facefeat.evaluation.folds`          subject-independent folds (:func:`make_folds`)
:mod:`facefeat.evaluation.metrics`        :func:`classification_metrics`, fold summaries
:mod:`facefeat.evaluation.uncertainty`    bootstrap confidence intervals, paired comparisons
:mod:`facefeat.evaluation.audit`          duplicates, leaks and thin classes in a data set
:mod:`facefeat.evaluation.dedupe`         what the benchmark does with the duplicates found
:mod:`facefeat.evaluation.benchmark`      :func:`run_benchmark`, its :func:`benchmark_folds`
:mod:`facefeat.evaluation.report`         ``results.md``, ``results.json`` and the pictures
:mod:`facefeat.evaluation.affect`         predictions read as valence and arousal
=======================================  ==================================================
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "folds": ["CV_CHOICES", "LOSO_MAX_SUBJECTS", "IdentityLeakWarning", "make_folds"],
    "metrics": ["SCALAR_METRICS", "classification_metrics", "summarise_folds"],
    "audit": ["audit_dataset"],
})
