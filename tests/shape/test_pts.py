"""300-W .pts files: 1-based on disk, 0-based in memory."""

import numpy as np
import pytest

from facefeat.shape.pts import PtsFormatError, find_pts_pairs, read_pts, write_pts


def test_round_trip_and_one_based_convention(tmp_path):
    rng = np.random.default_rng(0)
    shape = rng.uniform(0, 255, (68, 2)).round(3)
    shape[0] = [0.0, 0.0]  # the centre of the top-left pixel
    path = tmp_path / "face.pts"
    write_pts(path, shape)
    lines = path.read_text().splitlines()
    assert lines[:3] == ["version: 1", "n_points:  68", "{"] and lines[-1] == "}"
    assert lines[3] == "1.000 1.000"  # 1-based on disk
    np.testing.assert_allclose(read_pts(path), shape, atol=1e-9)
    np.testing.assert_allclose(read_pts(path, one_based=False), shape + 1, atol=1e-9)


def test_reads_the_300w_layout(tmp_path):
    path = tmp_path / "a.pts"
    path.write_text("version: 1\nn_points:  3\n{\n1 1\n43.667 73.961\n256 256\n}\n")
    np.testing.assert_allclose(read_pts(path), [[0, 0], [42.667, 72.961], [255, 255]])


@pytest.mark.parametrize("text, match", [
    ("version: 1\nn_points: 2\n{\n1 2\n}\n", "n_points 2"),
    ("version: 1\nn_points: 1\n1 2\n", "key: value"),
    ("version: 1\n{\n1 two\n}\n", "two numbers"),
    ("version: 1\n{\n1 2\n", "braces"),
    ("version: 1\n{\nnan 2\n}\n", "non-finite"),
    ("{\n1 2\n}\nextra\n", "after the closing brace"),
])
def test_malformed_files_raise(tmp_path, text, match):
    path = tmp_path / "bad.pts"
    path.write_text(text)
    with pytest.raises(PtsFormatError, match=match):
        read_pts(path)


def test_write_refuses_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match="n_points, 2"):
        write_pts(tmp_path / "x.pts", np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        write_pts(tmp_path / "x.pts", np.full((3, 2), np.nan))


def test_find_pairs(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.jpg", "a.pts", "b.png", "sub/c.png", "sub/c.pts", "notes.txt"):
        (tmp_path / name).write_text("x")
    pairs = find_pts_pairs(tmp_path)
    assert [p[0][len(str(tmp_path)) + 1:] for p in pairs] == ["a.jpg", "sub/c.png"]
    assert all(p[1].endswith(".pts") for p in pairs)
    with pytest.raises(FileNotFoundError):
        find_pts_pairs(tmp_path / "missing")
