"""Every public function and class has a numpydoc docstring with an example.

Issue 6: each public name of the modules below -- those in the module's
``__all__``, or else those defined in it whose name does not start with an
underscore -- carries a docstring with an ``Examples`` section. The examples
themselves run as doctests (``pytest --doctest-modules``); this test keeps the
sections from going missing when a name is added.
"""

import importlib
import inspect
import re

import pytest

MODULES = [
    # reading and data sets
    "facefeat.images.io",
    "facefeat.images.errors",
    "facefeat.images.datasets",
    "facefeat.images.synthetic",
    # face preparation
    "facefeat.faces.align",
    "facefeat.faces.blazeface",
    "facefeat.faces.batch",
    "facefeat.faces.landmarks",
    "facefeat.faces.models",
    # features, shape, deep
    "facefeat.features._base",
    "facefeat.features.extract",
    "facefeat.features.gabor",
    "facefeat.features.geometry",
    "facefeat.features.hog",
    "facefeat.features.lbp",
    "facefeat.features.scaling",
    "facefeat.shape.asm",
    "facefeat.shape.model",
    "facefeat.shape.fitter",
    "facefeat.shape.result",
    "facefeat.shape.training_data",
    "facefeat.shape.features",
    "facefeat.shape.metrics",
    "facefeat.shape.pdm",
    "facefeat.shape.plots",
    "facefeat.shape.profiles",
    "facefeat.shape.pts",
    "facefeat.deep.backbones",
    "facefeat.deep.mobilenet",
    "facefeat.deep.efficientnet",
    "facefeat.deep.resnet",
    "facefeat.deep.inception",
    "facefeat.deep.embedding",
    "facefeat.deep.finetune",
    "facefeat.deep.compact",
    "facefeat.deep.cached_finetune",
    "facefeat.deep._training",
    "facefeat.deep.weights",
    # classifiers, fusion and recipes
    "facefeat.classifiers.hmm",
    "facefeat.classifiers.fusion",
    "facefeat._steps",
    "facefeat.pipelines",
    "facefeat.registry",
    "facefeat.modelfile",
    "facefeat.portable",
    # evaluation
    "facefeat.evaluation",
    "facefeat.evaluation.folds",
    "facefeat.evaluation.metrics",
    "facefeat.evaluation.uncertainty",
    "facefeat.evaluation.audit",
    "facefeat.evaluation.dedupe",
    "facefeat.evaluation.benchmark",
    "facefeat.evaluation.report",
    "facefeat.evaluation.affect",
    # ready-to-use analysis
    "facefeat.analysis.analyze",
    "facefeat.analysis.records",
    "facefeat.analysis.tracks",
    "facefeat.analysis.video",
    "facefeat.analysis.annotate",
    # plots
    "facefeat.plots",
    "facefeat.plots.results",
    "facefeat.plots.features",
    "facefeat.plots.timeline",
    # the command line
    "facefeat.cli",
    "facefeat.cli.main",
    "facefeat.cli.console",
    "facefeat.cli.benchmark",
    "facefeat.cli.fit",
    "facefeat.cli.predict",
    "facefeat.cli.pipelines",
    "facefeat.cli.audit",
    "facefeat.cli.asm",
    "facefeat.cli.landmarks",
    "facefeat.cli.visualize",
    "facefeat.cli.extract",
]

_EXAMPLES = re.compile(r"^\s*Examples\n\s*-{8,}\s*$", re.MULTILINE)


def _public_objects(module):
    """(name, object) of the functions and classes the module makes public."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        # only what the module defines, not what it imports (unless listed in __all__)
        if not hasattr(module, "__all__") and getattr(obj, "__module__", None) != module.__name__:
            continue
        yield name, obj


def _cases():
    for modname in MODULES:
        module = importlib.import_module(modname)
        for name, obj in _public_objects(module):
            yield pytest.param(obj, id=f"{modname}.{name}")


@pytest.mark.parametrize("modname", MODULES)
def test_module_has_public_names(modname):
    module = importlib.import_module(modname)
    assert list(_public_objects(module)), f"{modname} has no public function or class"


@pytest.mark.parametrize("obj", list(_cases()))
def test_public_name_has_examples(obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{obj.__qualname__} has no docstring"
    assert _EXAMPLES.search(doc), f"{obj.__qualname__}'s docstring has no 'Examples' section"
    assert ">>>" in doc.split("Examples", 1)[1], f"{obj.__qualname__}'s 'Examples' section has no doctest"
