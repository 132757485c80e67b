import os
from pathlib import Path

import pytest

# The real data sets sit beside the project (../shared/data); FACEFEAT_SHARED_DATA overrides.
SHARED_DATA = Path(os.environ.get("FACEFEAT_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def shared_dataset(name):
    """Path of a real data set, or skip the test when it is absent (a fresh machine)."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real data set {name!r} not found at {path}")
    return path


@pytest.fixture(scope="session")
def expressions():
    """The default synthetic expression set, made once per test session."""
    from facefeat.synthetic import make_expressions

    return make_expressions()
