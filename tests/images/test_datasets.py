import warnings

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


# --------------------------------------------------------------------------- #
# Layout rules: a stray file must not silently change the evaluation protocol
# --------------------------------------------------------------------------- #

JAFFE_NAMES = [("anger", "KA.AN1.39.tiff"), ("anger", "KL.AN1.167.tiff"), ("anger", "KM.AN1.17.tiff"),
               ("happiness", "KA.HA1.29.tiff"), ("happiness", "KL.HA1.158.tiff"), ("happiness", "KM.HA1.4.tiff"),
               ("sadness", "KA.SA1.33.tiff"), ("sadness", "KL.SA1.161.tiff"), ("sadness", "KM.SA1.9.tiff")]


def _jaffe_folder(root, names=JAFFE_NAMES):
    for k, (label, fname) in enumerate(names):
        path = root / label / fname
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((16, 16), 10 * k, np.uint8)).save(path, format="TIFF")
    return root


def test_a_stray_file_is_left_out_and_named_not_a_silent_protocol_change(tmp_path):
    from facefeat.evaluation.folds import make_folds
    from facefeat.images.io import SkippedImagesWarning

    root = _jaffe_folder(tmp_path)
    _touch_png(root / "anger" / "extra_photo.tiff")
    with pytest.warns(SkippedImagesWarning, match=r"left out 1 file whose name does not follow the JAFFE layout"
                                                  r".*extra_photo\.tiff.*--subjects none") as rec:
        ds = load_folder(root)
    assert len(rec) == 1
    assert (ds.layout, len(ds), ds.groups.tolist()[:3]) == ("jaffe", 9, ["KA", "KL", "KM"])
    [(path, reason)] = ds.skipped
    assert path == str(root / "anger" / "extra_photo.tiff")
    assert reason.startswith("name does not follow the JAFFE layout (like KA.AN1.39.tiff); left out so that "
                             "subjects stay known; use --subjects none (subjects=None) to keep it")
    assert make_folds(ds)[0]["name"] == "loso"
    # the explicit way out keeps every file and says there are no subjects
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_folder(root, subjects=None)
    assert (ds.layout, len(ds), ds.groups, ds.skipped) == ("none", 10, None, [])


def test_a_text_file_named_like_a_jaffe_image_is_skipped_at_reading_time(tmp_path):
    from facefeat.evaluation.folds import make_folds
    from facefeat.images.io import SkippedImagesWarning

    root = _jaffe_folder(tmp_path)
    (root / "anger" / "KA.AN2.40.tiff").write_text("not a face")
    ds = load_folder(root)
    assert (ds.layout, len(ds), ds.skipped) == ("jaffe", 10, [])
    with pytest.warns(SkippedImagesWarning, match=r"KA\.AN2\.40\.tiff' \(not an image: the file contains text\)"):
        images, kept = ds.read_images(on_error="skip")
    assert (len(images), kept.layout, kept.summary()["n_subjects"]) == (9, "jaffe", 3)
    assert kept.skipped == [(str(root / "anger" / "KA.AN2.40.tiff"), "not an image: the file contains text")]
    assert make_folds(kept)[0]["name"] == "loso"


def test_too_many_odd_names_fall_back_loudly(tmp_path):
    root = _jaffe_folder(tmp_path, JAFFE_NAMES[:4])
    for name in ("a.png", "b.png", "c.png"):
        _touch_png(root / "anger" / name)
    with pytest.warns(UserWarning, match=r"4 of 7 file names follow the JAFFE layout but 3 do not "
                                         r"\('a\.png', 'b\.png', 'c\.png'\): no subject ids"):
        ds = load_folder(root)
    assert (ds.layout, len(ds), ds.groups, ds.skipped) == ("none", 7, None, [])


def test_odd_names_of_a_known_layout_are_kept_with_an_explicit_rule(tmp_path):
    root = _jaffe_folder(tmp_path)
    _touch_png(root / "anger" / "KZ_extra.tiff")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_folder(root, subjects=r"^([A-Z]{2})[._]")
    assert (ds.layout, len(ds), ds.skipped) == ("custom", 10, [])
    assert ds.groups.tolist()[:4] == ["KA", "KL", "KM", "KZ"]


@pytest.mark.shared_data
def test_jaffe_copy_with_a_stray_file(tmp_path):
    import shutil

    from facefeat.images.io import SkippedImagesWarning

    source = shared_dataset("jaffe")
    for label in ("anger", "happiness"):
        (tmp_path / label).mkdir()
        for path in sorted((source / label).iterdir())[:6]:
            shutil.copy(path, tmp_path / label / path.name)
    _touch_png(tmp_path / "happiness" / "extra_photo.tiff")
    with pytest.warns(SkippedImagesWarning, match="extra_photo.tiff"):
        ds = load_folder(tmp_path)
    assert (ds.layout, len(ds), [p.rsplit("/", 1)[1] for p, _ in ds.skipped]) == ("jaffe", 12, ["extra_photo.tiff"])


# --------------------------------------------------------------------------- #
# Nothing read, hidden files, counts in words
# --------------------------------------------------------------------------- #

def test_no_readable_image_is_an_error_that_names_the_files(tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        (tmp_path / "anger" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "anger" / name).write_text("not a face")
    ds = load_folder(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error says it all: no warning before it
        with pytest.raises(ValueError, match=r"no image could be read: all 3 files failed, e\.g\. "
                                             r"'.*anger/a\.png' \(not an image: the file contains text\)"):
            ds.read_images(on_error="skip")


def test_cli_benchmark_on_unreadable_files_says_so(tmp_path, capsys):
    from facefeat.cli.main import main

    folder = tmp_path / "faces"
    for label in ("anger", "happy"):
        (folder / label).mkdir(parents=True)
        for k in range(3):
            (folder / label / f"{label}{k}.png").write_text("not a face")
    assert main(["benchmark", str(folder), "--no-cache", "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "error: no image could be read: all 6 files failed" in err
    assert f"'{folder / 'anger' / 'anger0.png'}' (not an image: the file contains text)" in err
    assert "zero-size array" not in err


def test_hidden_files_are_counted_and_skips_are_counted_in_words(tmp_path):
    _touch_png(tmp_path / "happy" / "a.png")
    (tmp_path / "happy" / "notes.txt").write_text("x")
    (tmp_path / "happy" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "happy" / "._a.png").write_bytes(b"\0")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.png").write_bytes(b"")
    ds = load_folder(tmp_path)
    assert ds.hidden == [(str(tmp_path / ".git"), "hidden folder"),
                         (str(tmp_path / "happy" / ".DS_Store"), "hidden file"),
                         (str(tmp_path / "happy" / "._a.png"), "hidden file")]
    assert ds.summary()["n_hidden"] == 3 and ds.subset([0]).hidden == ds.hidden
    lines = ds.describe().splitlines()
    assert lines[-2:] == [f"  skipped 1 file: {tmp_path / 'happy' / 'notes.txt'}",
                          "  skipped 2 hidden files and 1 hidden folder (names starting with '.')"]
    (tmp_path / "happy" / "more.txt").write_text("x")
    assert f"  skipped 2 files: {tmp_path / 'happy' / 'more.txt'}, " in load_folder(tmp_path).describe()


def test_describe_says_what_the_layout_means(tmp_path):
    from conftest import write_face_folder

    root = write_face_folder(tmp_path / "faces")
    text = load_folder(root).describe()
    assert "(no subject ids in the file names)" in text.splitlines()[0] and "none layout" not in text
    assert "(subject ids from your rule)" in load_folder(root, subjects=r"^(synth\d+)_").describe()
