import numpy as np
import pytest
from PIL import Image

from conftest import shared_dataset
from facefeat.images.datasets import FaceDataset, load_folder


def _touch_png(path, value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, np.uint8)).save(path)


def test_generic_folder_with_aliases_and_strays(tmp_path):
    _touch_png(tmp_path / "happy" / "a.png")
    _touch_png(tmp_path / "happy" / "nested" / "b.png")
    _touch_png(tmp_path / "Angry" / "c.png")
    (tmp_path / "angry_notes.txt").write_text("x")
    (tmp_path / "Angry" / "readme.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "happy" / ".hidden.png").write_bytes(b"")
    ds = load_folder(tmp_path)
    assert ds.classes == ["anger", "happiness"]
    assert ds.counts() == {"anger": 1, "happiness": 2}
    assert ds.layout == "none" and ds.groups is None and ds.split is None
    reasons = {p.split("/")[-1]: r for p, r in ds.skipped}
    assert reasons == {"angry_notes.txt": "not inside a class folder", "readme.txt": "not an image file",
                       "empty": "class folder without images"}
    assert ds.summary()["imbalance_ratio"] == 2.0


def test_user_regex_and_callable_subjects(tmp_path):
    for subj in ("p01", "p02"):
        _touch_png(tmp_path / "sadness" / f"{subj}_take1.png")
    ds = load_folder(tmp_path, subjects=r"^(p\d+)_")
    assert ds.groups.tolist() == ["p01", "p02"] and ds.layout == "custom"
    ds = load_folder(tmp_path, subjects=lambda p: p.rsplit("/", 1)[1][:3].upper())
    assert ds.groups.tolist() == ["P01", "P02"]
    with pytest.raises(ValueError, match="matches no subject id in 2 files"):
        load_folder(tmp_path, subjects=r"^subject(\d+)")


def test_known_layouts_detected(tmp_path):
    _touch_png(tmp_path / "anger" / "S010_004_00000017.png")
    _touch_png(tmp_path / "fear" / "S011_001_00000009.png")
    ds = load_folder(tmp_path)
    assert ds.layout == "ck_plus" and ds.groups.tolist() == ["S010", "S011"]


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        load_folder(tmp_path / "missing")
    (tmp_path / "anger").mkdir()
    with pytest.raises(ValueError, match="no images found"):
        load_folder(tmp_path)
    with pytest.raises(ValueError, match="exactly one of paths or images"):
        FaceDataset(labels=["a"])


def test_read_images_skips_and_reports_bad_files(tmp_path):
    _touch_png(tmp_path / "anger" / "good.png")
    (tmp_path / "anger" / "bad.png").write_bytes(b"not a png")
    ds = load_folder(tmp_path)
    with pytest.warns(UserWarning, match="bad.png"):
        images, kept = ds.read_images(on_error="skip")
    assert len(images) == 1 and len(kept) == 1
    assert [p.split("/")[-1] for p, _ in kept.skipped] == ["bad.png"]


@pytest.mark.shared_data
@pytest.mark.parametrize("name, layout, n_images, n_subjects, first", [
    ("ck_plus_48", "ck_plus", 981, 118, "S010"),
    ("ck_plus_128", "ck_plus", 920, 123, "S010"),
    ("jaffe", "jaffe", 213, 10, "KA"),
])
def test_subject_rules_on_shared_data(name, layout, n_images, n_subjects, first):
    ds = load_folder(shared_dataset(name))
    assert (ds.layout, len(ds), ds.summary()["n_subjects"]) == (layout, n_images, n_subjects)
    assert first in set(ds.groups.tolist())
    assert [p for p, _ in ds.skipped] == [str(shared_dataset(name) / "MANIFEST.json")]


@pytest.mark.shared_data
def test_fer2013_split_from_file_names():
    ds = load_folder(shared_dataset("fer2013"))
    assert ds.layout == "fer2013" and ds.groups is None
    assert ds.summary()["split_counts"] == {"test": 3589, "train": 28709}
