import argparse
import json
import os

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter
from sklearn.model_selection import GroupKFold

from facefeat.cli.audit import add_audit_parser
from facefeat.evaluation.audit import NEAR_THRESHOLD, PHASH_BITS, audit_dataset, perceptual_hash
from facefeat.evaluation.dedupe import dedupe_plan, duplicate_group_ids
from facefeat.images.datasets import FaceDataset, load_folder


def _smooth(rng, size=48):
    """A face-like smooth gray image in [30, 220] (room for brightness changes)."""
    x = gaussian_filter(rng.normal(size=(size, size)), 3)
    x = (x - x.min()) / (x.max() - x.min())
    return (30 + 190 * x).astype(np.uint8)


def _save(root, label, name, pixels, fmt=None, **kw):
    folder = root / label
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(folder / name, format=fmt, **kw)
    return str(folder / name)


# planted duplicate groups: name -> (file names, kind, cross_split, label_conflict)
EXACT = {
    "A": (["Training_1.png", "Training_2.png"], False, False),          # byte copy
    "B": (["Training_3.png", "PublicTest_4.bmp"], True, False),          # PNG -> BMP, same pixels
    "C": (["Training_5.png", "Training_6.png"], False, True),           # conflicting labels
    "G": (["Training_13.png", "Training_14.png", "PublicTest_15.png"], True, False),  # 3 copies
}
NEAR = {
    "D": (["Training_7.png", "PublicTest_8.png"], True, False),          # brightness + 15
    "E": (["Training_9.png", "Training_10.png"], False, False),         # gaussian noise sigma 2
    "F": (["Training_11.png", "Training_12.jpg"], False, True),         # JPEG re-encode, other label
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A FER2013-style folder with planted exact and near duplicates, and 30 unrelated images."""
    root = tmp_path_factory.mktemp("planted")
    rng = np.random.default_rng(0)
    img = {k: _smooth(rng) for k in "ABCDEFG"}
    _save(root, "anger", "Training_1.png", img["A"])
    (root / "anger" / "Training_2.png").write_bytes((root / "anger" / "Training_1.png").read_bytes())
    _save(root, "fear", "Training_3.png", img["B"])
    _save(root, "fear", "PublicTest_4.bmp", img["B"], fmt="BMP")
    _save(root, "happiness", "Training_5.png", img["C"])
    _save(root, "sadness", "Training_6.png", img["C"])
    _save(root, "neutral", "Training_7.png", img["D"])
    _save(root, "neutral", "PublicTest_8.png", img["D"] + np.uint8(15))
    _save(root, "surprise", "Training_9.png", img["E"])
    noisy = np.clip(img["E"] + rng.normal(0, 2, img["E"].shape), 0, 255).astype(np.uint8)
    _save(root, "surprise", "Training_10.png", noisy)
    _save(root, "anger", "Training_11.png", img["F"])
    _save(root, "fear", "Training_12.jpg", img["F"], quality=90)
    for k, name in enumerate(["Training_13.png", "Training_14.png", "PublicTest_15.png"]):
        _save(root, "happiness", name, img["G"])
    labels = ["anger", "fear", "happiness", "neutral", "sadness", "surprise"]
    for k in range(30):
        prefix = "PublicTest" if k % 3 == 0 else "Training"
        _save(root, labels[k % 6], f"{prefix}_{100 + k}.png", _smooth(rng))
    _save(root, "disgust", "Training_200.png", _smooth(rng))  # a class with 1 image
    (root / "sadness" / "Training_300.png").write_bytes(b"this is not a png")
    (root / "sadness" / "notes.txt").write_text("not an image")
    return root


def _names(group):
    return sorted(os.path.basename(f) for f in group["files"])


def test_perceptual_hash_shape_and_invariance():
    rng = np.random.default_rng(3)
    a = _smooth(rng)
    h = perceptual_hash([a, a + np.uint8(20), np.stack([a] * 3, axis=2), _smooth(rng)])
    assert h.shape == (4, PHASH_BITS) and h.dtype == bool
    assert (h.sum(axis=1) == PHASH_BITS // 2).all()  # median split: 127 ones
    assert (h[0] != h[1]).sum() == 0 and (h[0] != h[2]).sum() == 0
    assert (h[0] != h[3]).sum() > 3 * NEAR_THRESHOLD // 2


def test_exact_audit_finds_exactly_the_planted_groups(planted):
    ds = load_folder(planted)
    assert ds.layout == "fer2013"
    report = audit_dataset(ds, min_class_count=3)
    found = {tuple(_names(g)): g for g in report.groups}
    assert set(found) == {tuple(sorted(f)) for f, _, _ in EXACT.values()}
    for files, cross, conflict in EXACT.values():
        g = found[tuple(sorted(files))]
        assert g["kind"] == "exact"
        assert (g["cross_split"], g["label_conflict"]) == (cross, conflict)
        assert g["cross_subject"] is False and g["subjects"] is None
        assert g["size"] == len(files) == len(g["labels"]) == len(g["splits"]) == len(g["indices"])
        assert [ds.paths[i] for i in g["indices"]] == g["files"]
    s = report.summary
    assert s["exact"] == s["duplicates"]
    assert s["exact"]["groups"] == 4 and s["exact"]["extra_files"] == 5
    assert s["exact"]["cross_split_groups"] == 2 and s["exact"]["label_conflict_groups"] == 1
    assert s["n_near_groups"] == 0 and report.params["near"] is False
    # the broken file is reported, not grouped; the text file was left out by the loader
    assert [os.path.basename(p) for p, _ in report.unreadable] == ["Training_300.png"]
    assert s["n_unreadable"] == 1 and s["n_readable"] == len(ds) - 1
    assert any(p.endswith("notes.txt") for p, _ in report.skipped)
    assert report.small_classes == {"disgust": 1}
    assert s["shapes"] == {"48x48": len(ds) - 1}
    assert s["n_subjects"] is None and report.small_subjects == {}


def test_near_audit_adds_exactly_the_planted_near_groups(planted):
    ds = load_folder(planted)
    report = audit_dataset(ds, near=True, min_class_count=3)
    found = {tuple(_names(g)): g for g in report.groups}
    planted_all = {**EXACT, **NEAR}
    assert set(found) == {tuple(sorted(f)) for f, _, _ in planted_all.values()}
    for key, (files, cross, conflict) in planted_all.items():
        g = found[tuple(sorted(files))]
        assert g["kind"] == ("near" if key in NEAR else "exact")
        assert (g["cross_split"], g["label_conflict"]) == (cross, conflict)
        if key in NEAR:
            assert 0 <= g["max_hamming"] <= NEAR_THRESHOLD
            assert sorted(g["pixel_ids"]) == [0, 1]
    s = report.summary
    assert s["exact"]["groups"] == 4  # the pixel-identical count does not depend on near
    assert s["duplicates"]["groups"] == 7 and s["n_near_groups"] == 3
    assert s["duplicates"]["label_conflict_groups"] == 2 and s["duplicates"]["cross_split_groups"] == 3
    assert report.params["near_threshold"] == NEAR_THRESHOLD
    # threshold 0 keeps only hash-identical pairs: the brightened copy, not the noisy or JPEG ones
    strict = audit_dataset(ds, near=True, near_threshold=0, min_class_count=3)
    assert {tuple(_names(g)) for g in strict.groups if g["kind"] == "near"} == {("PublicTest_8.png", "Training_7.png")}


def test_near_groups_are_transitive_components():
    rng = np.random.default_rng(5)
    a = _smooth(rng)
    b = a + np.uint8(10)                                                          # hash-identical to a
    c = np.clip(b.astype(int) + rng.normal(0, 2, a.shape), 0, 255).astype(np.uint8)  # close to b
    ds = FaceDataset(labels=["fear"] * 4, images=[a, _smooth(rng), c, b])
    report = audit_dataset(ds, near=True, min_class_count=1)
    assert [g["indices"] for g in report.groups] == [[0, 2, 3]]
    assert report.groups[0]["kind"] == "near"


def test_in_memory_images_give_the_same_report(planted):
    ds = load_folder(planted)
    with pytest.warns(UserWarning, match="Training_300"):
        images, kept = ds.read_images(on_error="skip")
    from_files = audit_dataset(kept, near=True)
    from_memory = audit_dataset(kept, images=images, near=True)
    assert [g["files"] for g in from_files.groups] == [g["files"] for g in from_memory.groups]
    assert from_files.summary == from_memory.summary
    with pytest.raises(ValueError, match="images for a data set"):
        audit_dataset(kept, images=images[:-1])


def test_parallel_decoding_matches(tmp_path):
    rng = np.random.default_rng(1)
    base = _smooth(rng, 16)
    for k in range(140):
        _save(tmp_path, "fear" if k % 2 else "anger", f"img{k}.png", base if k % 15 == 0 else _smooth(rng, 16))
    ds = load_folder(tmp_path)
    one = audit_dataset(ds, near=True)
    two = audit_dataset(ds, near=True, n_jobs=2)
    assert [g["files"] for g in one.groups] == [g["files"] for g in two.groups]
    assert one.groups[0]["size"] == 10 and one.groups[0]["label_conflict"]


def test_report_outputs(planted):
    ds = load_folder(planted)
    report = audit_dataset(ds, near=True, min_class_count=3)
    data = json.loads(report.to_json())
    assert len(data["groups"]) == 7 and all(len(g["files"]) == g["size"] for g in data["groups"])
    assert data["summary"]["exact"]["groups"] == 4
    assert data["unreadable"][0]["path"].endswith("Training_300.png")
    md = report.to_markdown()
    assert md.startswith("# Data audit: ")
    assert "## Duplicate groups with conflicting labels (2)" in md
    assert "## Duplicate groups spanning splits (3)" in md
    assert "`fear/PublicTest_4.bmp` (fear, test)" in md
    counts = ds.summary()["split_counts"]
    assert set(counts) == {"test", "train"}
    assert f"; splits: test {counts['test']}, train {counts['train']} (root `{planted}`)." in md
    assert "{" not in md.splitlines()[2]
    text = report.describe()
    assert "exact duplicates (identical decoded pixels): 4 groups, 5 extra files; 2 span splits; " \
           "1 with conflicting labels" in text
    assert "disgust (1)" in text and "Training_300.png" in text


def test_subjects_checks_and_cross_subject_groups():
    rng = np.random.default_rng(2)
    x = [_smooth(rng, 24) for _ in range(9)]
    images = x[:8] + [x[0].copy()]
    subjects = ["S1", "S1", "S1", "S2", "S2", "S2", "S3", "S3", "S2"]
    labels = ["anger", "fear", "anger", "fear", "anger", "fear", "anger", "fear", "anger"]
    ds = FaceDataset(labels=labels, images=images, groups=subjects)
    report = audit_dataset(ds, min_class_count=1, min_subject_images=3)
    assert report.small_subjects == {"S3": 2}
    (g,) = report.groups
    assert g["indices"] == [0, 8] and g["subjects"] == ["S1", "S2"] and g["cross_subject"]
    assert report.summary["exact"]["cross_subject_groups"] == 1
    assert "S3 (2)" in report.describe()


def test_duplicate_group_ids(planted):
    ds = load_folder(planted)
    report = audit_dataset(ds)
    ids = duplicate_group_ids(report, len(ds))
    assert ids.shape == (len(ds),)
    assert len(np.unique(ids)) == len(ds) - report.summary["exact"]["extra_files"]
    for k, g in enumerate(report.groups):
        assert (ids[g["indices"]] == k).all()
    folds = GroupKFold(n_splits=5).split(np.zeros(len(ds)), groups=ids)
    for train, test in folds:
        for g in report.groups:
            assert set(g["indices"]) <= set(train) or set(g["indices"]) <= set(test)
    with pytest.raises(ValueError, match="report is about"):
        duplicate_group_ids(report, len(ds) + 1)


# ------------------------------------------------------------------ dedupe_plan
def _files(ds, idx):
    return {os.path.basename(ds.paths[i]) for i in idx}


def test_dedupe_off_changes_nothing(planted):
    ds = load_folder(planted)
    report = audit_dataset(ds)
    keep, groups, note = dedupe_plan(ds, report, mode="off", split_protocol=True)
    assert keep.tolist() == list(range(len(ds))) and groups is None
    assert note["n_removed"] == 0 and note["removed_files"] == []
    assert note["n_duplicate_groups"] == 4 and note["n_cross_split_groups"] == 2
    assert "left in place" in note["description"]


def test_dedupe_group_keeps_groups_in_one_fold(planted):
    ds = load_folder(planted)
    report = audit_dataset(ds, near=True)
    keep, groups, note = dedupe_plan(ds, report, mode="group")
    # both conflicting groups (C exact, F near) are removed entirely
    assert set(_files(ds, range(len(ds)))) - _files(ds, keep) == {
        "Training_5.png", "Training_6.png", "Training_11.png", "Training_12.jpg"}
    assert note["removed_by_reason"] == {"duplicate group with conflicting labels": 4}
    assert groups.shape == keep.shape and groups.dtype.kind == "U"
    sub = ds.subset(keep)
    folds = GroupKFold(n_splits=3).split(np.zeros(len(sub)), sub.labels, groups)
    dup_sets = [{f for f in g["files"]} for g in report.groups if not g["label_conflict"]]
    for train, test in folds:
        test_files = {sub.paths[i] for i in test}
        for s in dup_sets:
            assert s <= test_files or not (s & test_files), "a duplicate group was split across folds"
    assert note["n_files_grouped"] == 11  # A 2 + B 2 + G 3 + D 2 + E 2
    # without removing conflicting groups they stay, grouped
    keep2, groups2, note2 = dedupe_plan(ds, report, mode="group", drop_conflicting=False)
    assert len(keep2) == len(ds) and note2["n_removed"] == 0
    c = [ds.paths.index(str(planted / "happiness" / "Training_5.png")),
         ds.paths.index(str(planted / "sadness" / "Training_6.png"))]
    assert groups2[c[0]] == groups2[c[1]] and groups2[c[0]].startswith("dup")


def test_dedupe_drop_keeps_one_per_group(planted):
    ds = load_folder(planted)
    report = audit_dataset(ds)
    keep, groups, note = dedupe_plan(ds, report, mode="drop")
    assert groups is None  # no subject ids, and no duplicates left
    kept = _files(ds, keep)
    assert "Training_1.png" in kept and "Training_2.png" not in kept
    assert kept & {"Training_13.png", "Training_14.png", "PublicTest_15.png"} == {"PublicTest_15.png"}  # first
    assert not kept & {"Training_5.png", "Training_6.png"}
    assert note["removed_by_reason"] == {"duplicate group with conflicting labels": 2,
                                         "duplicate (one image kept per group)": 4}
    assert len(keep) == len(ds) - 6 == note["n_after"]
    again = audit_dataset(ds.subset(keep))
    assert again.summary["exact"]["groups"] == 0


def test_dedupe_split_protocol_removes_training_copies_of_test_images(planted):
    ds = load_folder(planted)
    report = audit_dataset(ds, near=True)
    keep, groups, note = dedupe_plan(ds, report, mode="group", split_protocol=True)
    removed = _files(ds, range(len(ds))) - _files(ds, keep)
    # training copies of B, G (exact) and D (near); conflicting C and F
    assert removed == {"Training_3.png", "Training_13.png", "Training_14.png", "Training_7.png",
                       "Training_5.png", "Training_6.png", "Training_11.png", "Training_12.jpg"}
    assert note["removed_by_reason"] == {"training copy of a test image": 4,
                                         "duplicate group with conflicting labels": 4}
    # the test set is untouched (no conflicting group had a test image)
    assert (ds.split[keep] == "test").sum() == (ds.split == "test").sum()
    sub = ds.subset(keep)
    for g in audit_dataset(sub, near=True).groups:
        assert not g["cross_split"]
    assert "training copies of test images" in note["description"]
    # drop mode also dedupes within each side
    keep_d, _, note_d = dedupe_plan(ds, report, mode="drop", split_protocol=True)
    assert note_d["removed_by_reason"]["duplicate (one image kept per group)"] == 2  # A and E
    with pytest.raises(ValueError, match="needs a data set with a split"):
        dedupe_plan(FaceDataset(labels=["a"], images=[np.zeros((2, 2), np.uint8)]), report, split_protocol=True)


def test_dedupe_plan_matches_a_subset_by_file(planted):
    ds = load_folder(planted)
    report = audit_dataset(ds)
    with pytest.warns(UserWarning):
        _, kept = ds.read_images(on_error="skip")
    assert len(kept) == len(ds) - 1
    keep, _, note = dedupe_plan(kept, report, mode="drop")
    assert note["n_duplicate_groups"] == 4 and len(keep) == len(kept) - 6


def test_dedupe_group_merges_subjects_joined_by_duplicates():
    rng = np.random.default_rng(4)
    x = [_smooth(rng, 16) for _ in range(12)]
    images = x + [x[0].copy(), x[5].copy()]   # x0 (S1) reappears under S2; x5 twice in S2
    subjects = ["S1"] * 3 + ["S2"] * 3 + ["S3"] * 3 + ["S4"] * 3 + ["S2", "S2"]
    labels = ["anger", "fear", "happiness"] * 4 + ["anger", "happiness"]
    ds = FaceDataset(labels=labels, images=images, groups=subjects)
    report = audit_dataset(ds, min_class_count=1)
    keep, groups, note = dedupe_plan(ds, report, mode="group")
    assert len(keep) == len(ds)
    assert sorted(set(groups.tolist())) == ["S1+S2", "S3", "S4"]
    assert note["n_merged_subject_groups"] == 1 and note["groups"] == "subject ids merged with duplicate groups"
    # drop mode keeps plain subject ids
    keep, groups, _ = dedupe_plan(ds, report, mode="drop")
    assert len(keep) == len(ds) - 2 and sorted(set(groups.tolist())) == ["S1", "S2", "S3", "S4"]
    with pytest.raises(ValueError, match="mode must be one of"):
        dedupe_plan(ds, report, mode="bogus")


def test_dedupe_without_duplicates_keeps_subject_ids():
    rng = np.random.default_rng(6)
    ds = FaceDataset(labels=["anger", "fear"] * 3, images=[_smooth(rng, 16) for _ in range(6)],
                     groups=["a", "a", "b", "b", "c", "c"])
    keep, groups, note = dedupe_plan(ds, audit_dataset(ds, min_class_count=1), mode="group")
    assert groups.tolist() == ["a", "a", "b", "b", "c", "c"]
    assert note["description"] == "no exact duplicates found"
    plain = FaceDataset(labels=["anger", "fear"], images=[_smooth(rng, 16) for _ in range(2)])
    assert dedupe_plan(plain, audit_dataset(plain, min_class_count=1))[1] is None


# ------------------------------------------------------------------ CLI
def test_cli_audit_writes_reports(planted, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="facefeat")
    add_audit_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["audit", str(planted), "--out", str(tmp_path / "out"), "--near", "--quiet",
                              "--min-class-count", "3"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "exact duplicates (identical decoded pixels): 4 groups" in out
    assert "near duplicates (pHash, Hamming <= 40 of 255 bits): 7 groups" in out
    data = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert data["summary"]["duplicates"]["groups"] == 7
    assert (tmp_path / "out" / "audit.md").read_text().startswith("# Data audit: ")


# ------------------------------------------------------------------ real data
@pytest.mark.shared_data
def test_fer2013_duplicate_figures():
    """Pixel-identical groups in FER2013 (measured independently by hashing decoded pixels)."""
    from conftest import shared_dataset

    ds = load_folder(shared_dataset("fer2013"))
    report = audit_dataset(ds, n_jobs=2)
    exact = report.summary["exact"]
    assert exact["groups"] == 1273
    assert exact["extra_files"] == 1532
    assert exact["cross_split_groups"] == 270
    assert exact["label_conflict_groups"] == 47
    assert report.summary["n_unreadable"] == 0
    keep, groups, note = dedupe_plan(ds, report, mode="group", split_protocol=True)
    kept = {ds.paths[i] for i in keep}
    for g in report.groups:
        splits = {s for f, s in zip(g["files"], g["splits"]) if f in kept}
        assert len(splits) <= 1, "a duplicate of a test image is still in training"
    removed = note["removed_by_reason"]
    assert removed["duplicate group with conflicting labels"] > 0 and removed["training copy of a test image"] > 0
    assert note["n_after"] == len(keep) == len(ds) - note["n_removed"]
