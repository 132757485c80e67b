"""Import paths of facefeat 0.1 that moved in the package layout of 0.2.

``import facefeat.align`` (and unpickling a model file that names
``facefeat.align.FaceAligner``) still works for one release: the old name is
an alias of the module's new home, which is the same module object, so
patches and ``isinstance`` checks made through either name agree. Importing
through an old name warns once with a :class:`FutureWarning` naming the new
path; model files need no change, the classes they name are the same.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: old module path -> new module path
MOVED = {
    "facefeat.io": "facefeat.images.io",
    "facefeat.datasets": "facefeat.images.datasets",
    "facefeat.synthetic": "facefeat.images.synthetic",
    "facefeat.align": "facefeat.faces.align",
    "facefeat.batch": "facefeat.faces.batch",
    "facefeat.landmarks": "facefeat.faces.landmarks",
    "facefeat.models": "facefeat.faces.models",
    "facefeat.fusion": "facefeat.classifiers.fusion",
    "facefeat.uncertainty": "facefeat.evaluation.uncertainty",
    "facefeat.audit": "facefeat.evaluation.audit",
    "facefeat.benchmark": "facefeat.evaluation.benchmark",
    "facefeat.affect": "facefeat.evaluation.affect",
    "facefeat.extract": "facefeat.features.extract",
    "facefeat.viz": "facefeat.plots",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target
        self.target_spec = None

    def create_module(self, spec):
        warnings.warn(f"{spec.name} has moved to {self.target}; the old name will be removed in facefeat 0.3",
                      FutureWarning, stacklevel=2)
        module = importlib.import_module(self.target)
        self.target_spec = module.__spec__
        return module

    def exec_module(self, module):
        # the import system has just stamped the alias's spec on the shared module; give it back its own
        module.__spec__ = self.target_spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(MOVED[fullname]))


def install():
    """Make the old module paths of :data:`MOVED` importable (idempotent).

    Examples
    --------
    >>> import warnings
    >>> install()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     import facefeat.align
    >>> import facefeat.faces.align
    >>> facefeat.align is facefeat.faces.align, facefeat.faces.align.__spec__.name
    (True, 'facefeat.faces.align')
    """
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(_AliasFinder())
