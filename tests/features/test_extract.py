"""Chunked feature extraction: same rows as one big fit_transform, nothing dropped silently."""

import json
import warnings

import numpy as np
import pytest
from conftest import write_face_folder
from facefeat.pipelines import make_pipeline

from facefeat.faces.align import FaceAligner
from facefeat.images.datasets import load_folder
from facefeat.features.extract import extract_features
from facefeat.features.lbp import LBPHistogram
from facefeat.images.io import SkippedImagesWarning


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    # 2 subjects x 7 classes = 14 images: chunks of 3 leave a short last chunk
    return write_face_folder(tmp_path_factory.mktemp("faces"), n_subjects=2, n_per_class=1)


@pytest.fixture(scope="module")
def paths(folder):
    return list(load_folder(folder).paths)


@pytest.fixture(scope="module")
def steps():
    return make_pipeline("lbp-linear")[:2]  # FaceAligner + LBPHistogram


@pytest.fixture(scope="module")
def expected(steps, paths):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no face detected")
        return steps.fit_transform(paths)


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no face detected")
        return extract_features(*args, progress=False, **kwargs)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_chunks_give_the_rows_of_one_big_transform(steps, paths, expected, n_jobs):
    res = _quiet(steps, paths, chunk_size=3, n_jobs=n_jobs)
    assert len(paths) % 3 != 0
    np.testing.assert_array_equal(res.features, expected)
    assert res.features.dtype == expected.dtype and res.valid.all() and res.skipped == []
    assert res.face_found.dtype == bool and res.face_found.shape == (len(paths),)
    assert res.paths == paths and res.feature_names.shape == (expected.shape[1],)


def test_dataset_labels_and_face_flags_come_along(folder, steps):
    ds = load_folder(folder)
    res = _quiet(steps, ds, chunk_size=5)
    np.testing.assert_array_equal(res.labels, ds.labels)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no face detected")
        np.testing.assert_array_equal(res.face_found, steps[0].fit_transform(ds.paths).face_found)


def test_unreadable_files_keep_their_row_and_say_why(tmp_path, steps, paths, expected):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all, just text")
    tiny = tmp_path / "tiny.png"
    from PIL import Image

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tiny)
    mixed = [paths[0], str(broken), paths[1], str(tmp_path / "missing.png"), str(tiny), paths[2]]
    with pytest.warns(SkippedImagesWarning, match="3 of 6"):
        res = extract_features(steps, mixed, chunk_size=2, progress=False)
    assert res.valid.tolist() == [True, False, True, False, False, True]
    assert res.failed_rows.tolist() == [1, 3, 4]
    assert [p for p, _ in res.skipped] == [str(broken), str(tmp_path / "missing.png"), str(tiny)]
    reasons = [r for _, r in res.skipped]
    assert "text" in reasons[0] and reasons[1] == "no such file" and "too small" in reasons[2]
    assert np.isnan(res.features[~res.valid]).all() and not res.face_found[~res.valid].any()
    np.testing.assert_array_equal(res.features[res.valid], expected[:3])


def test_a_chunk_of_only_bad_files_before_the_first_good_one(tmp_path, steps, paths, expected):
    bad = [str(tmp_path / f"missing{i}.png") for i in range(3)]
    with pytest.warns(SkippedImagesWarning):
        res = extract_features(steps, bad + paths[:2], chunk_size=3, progress=False)
    assert res.valid.tolist() == [False] * 3 + [True] * 2
    np.testing.assert_array_equal(res.features[3:], expected[:2])
    with pytest.raises(ValueError, match="none of the 3 images.*no such file"):
        extract_features(steps, bad, progress=False)


def test_a_step_that_learns_is_refused(paths):
    with pytest.raises(ValueError, match=r"'scale'.*StandardScaler.*learns"):
        extract_features(make_pipeline("lbp-linear")[:3], paths, progress=False)
    with pytest.raises(ValueError, match="learns"):
        extract_features(make_pipeline("lbp-linear"), paths, progress=False)


def test_lists_of_steps_and_bad_sources(paths, expected):
    res = _quiet([FaceAligner(), LBPHistogram(P=8, R=1.5, grid=(7, 7))], paths[:4], chunk_size=3)
    np.testing.assert_array_equal(res.features, expected[:4])
    with pytest.raises(TypeError, match="single path"):
        extract_features([FaceAligner()], paths[0])
    with pytest.raises(ValueError, match="empty"):
        extract_features([FaceAligner()], [])
    with pytest.raises(ValueError, match="chunk_size"):
        extract_features([FaceAligner()], paths, chunk_size=0)


def test_npy_output_is_a_memmap_of_the_right_shape(tmp_path, steps, paths, expected):
    out = tmp_path / "sub" / "features.npy"
    res = _quiet(steps, paths, chunk_size=4, n_jobs=2, out=out, dtype="float32")
    assert isinstance(res.features, np.memmap) and res.features.shape == (len(paths), expected.shape[1])
    assert res.features.dtype == np.float32 and not res.features.flags.writeable
    np.testing.assert_array_equal(np.load(out), expected.astype(np.float32))
    assert sorted(p.name for p in out.parent.iterdir()) == ["features.npy"]  # no temporary file left


def test_feature_union_output(paths):
    from sklearn.pipeline import FeatureUnion, Pipeline

    from facefeat.features.hog import HOGFeatures

    # as the fusion recipes build it: a union of stateless extractors giving a DataFrame
    union = FeatureUnion([("lbp", LBPHistogram()), ("hog", HOGFeatures())]).set_output(transform="pandas")
    prefix = Pipeline([("align", FaceAligner()), ("features", union)])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no face detected")
        full = np.asarray(prefix.fit_transform(paths[:5]))
    res = _quiet(prefix, paths[:5], chunk_size=2)
    np.testing.assert_array_equal(res.features, full)


def test_cli_writes_features_and_sidecar(folder, tmp_path, capsys, expected):
    import argparse

    from facefeat.cli.extract import add_extract_parser

    parser = argparse.ArgumentParser(prog="facefeat")
    add_extract_parser(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "features.npy"
    args = parser.parse_args(["extract", str(folder), "--pipeline", "lbp-linear", "--out", str(out),
                              "--chunk-size", "5", "--quiet", "--no-cache"])
    assert args.func(args) == 0
    np.testing.assert_array_equal(np.load(out), expected)
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["steps"] == ["align", "lbp"] and side["shape"] == list(expected.shape)
    assert len(side["paths"]) == len(side["labels"]) == len(side["face_found"]) == len(expected)
    assert side["skipped"] == [] and "images/s" in capsys.readouterr().out


def test_dask_cluster_gives_the_local_features(steps, paths, expected):
    distributed = pytest.importorskip("distributed")
    # two worker processes: with a single worker thread in all, joblib runs the chunks here instead of on
    # the cluster
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as tasks:
            res = _quiet(steps, paths, chunk_size=3, backend="dask")
        assert len(tasks.data) >= 1  # the chunks did run on the cluster
    np.testing.assert_array_equal(res.features, expected)
    assert res.valid.all()


def test_threads_give_the_same_features(steps, paths, expected):
    # dlib's detector and predictor are loaded once per thread (facefeat.faces.models.per_thread)
    for _ in range(2):
        res = _quiet(steps, paths, chunk_size=2, backend="threading", n_jobs=2)
        np.testing.assert_array_equal(res.features, expected)
