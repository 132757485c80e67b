"""The test session itself: it must leave the user's files alone."""

import os
from pathlib import Path


def test_caches_go_to_a_temporary_folder(tmp_path_factory):
    # face detections (landmarks.sqlite), benchmark folds and downloaded weights would otherwise land in
    # ~/.cache/facefeat, and a later benchmark would report those folds as computed in 0 s
    from facefeat.cli.console import default_cache_dir
    from facefeat.deep.weights import cache_dir

    session_tmp = tmp_path_factory.getbasetemp()
    assert Path(os.environ["FACEFEAT_CACHE"]).is_relative_to(session_tmp)
    assert default_cache_dir().is_relative_to(session_tmp) and cache_dir().parent == default_cache_dir()
    assert default_cache_dir() != Path.home() / ".cache" / "facefeat"
