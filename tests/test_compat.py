"""Module paths of facefeat 0.1 keep working for one release (issue 14)."""

import importlib
import pickle
import pickletools
import sys

import pytest

from facefeat._compat import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_is_the_new_module_with_a_warning(old):
    new = importlib.import_module(MOVED[old])
    sys.modules.pop(old, None)  # an earlier test may have imported it already
    with pytest.warns(FutureWarning, match=f"{old} has moved to {MOVED[old]}"):
        with_old = importlib.import_module(old)
    assert with_old is new
    assert new.__spec__.name == MOVED[old]  # the alias did not take over the module's identity


def test_a_pickle_naming_an_old_path_loads():
    from facefeat.faces.align import FaceAligner

    data = pickle.dumps(FaceAligner(size=64), protocol=2)
    old = data.replace(b"facefeat.faces.align", b"facefeat.align")
    assert b"facefeat.align" in old and any(op.name == "GLOBAL" for op, _, _ in pickletools.genops(old))
    with pytest.warns(FutureWarning):
        sys.modules.pop("facefeat.align", None)
        loaded = pickle.loads(old)
    assert type(loaded) is FaceAligner and loaded.size == 64


def test_public_names_resolve_lazily():
    import facefeat

    assert facefeat.FaceAligner.__module__ == "facefeat.faces.align"
    assert facefeat.make_pipeline.__module__ == "facefeat.pipelines"
    assert "LBPHistogram" in dir(facefeat)
    with pytest.raises(AttributeError):
        facefeat.no_such_name
