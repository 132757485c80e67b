"""``facefeat fit``: the memory it needs, and the same model as a plain ``Pipeline.fit``."""

import numpy as np
import pytest
from conftest import (
    epochs_counted,
    killed_after_first_epoch,
    tiny_cnn_recipe,
    write_face_folder,
)
from facefeat.pipelines import make_pipeline

from facefeat.cli import main
from facefeat.features.scaling import LowMemoryStandardScaler
from facefeat.images.datasets import load_folder
from facefeat.modelfile import load_model

SUBJECTS = r"^(synth\d+)_"


def test_fit_scales_in_place_and_saves_the_same_model(tmp_path, monkeypatch):
    # Issue 15: the scaler's output was a copy of the features made next to
    # them (633 MiB more for FER2013's LBP). The command's features are used
    # once, so they are standardised in place; the saved scaler copies again.
    folder = write_face_folder(tmp_path / "faces")
    in_place = []
    transform = LowMemoryStandardScaler.transform

    def spy(self, X, copy=None):
        out = transform(self, X, copy)
        in_place.append(out is X)
        return out

    monkeypatch.setattr(LowMemoryStandardScaler, "transform", spy)
    out = tmp_path / "lbp.model"
    assert main(["fit", str(folder), "--pipeline", "lbp-linear", "--out", str(out), "--subjects", SUBJECTS,
                 "--quiet", "--no-cache"]) == 0
    assert in_place == [True]
    saved = load_model(out).pipeline
    assert saved.named_steps["scale"].copy is True

    images, ds = load_folder(folder, subjects=SUBJECTS).read_images()
    expected = make_pipeline("lbp-linear").set_params(clf__random_state=0).fit(images, ds.labels)
    for step, names in [("scale", ["mean_", "var_", "scale_"]), ("clf", ["coef_", "intercept_"])]:
        for name in names:
            a, b = getattr(saved.named_steps[step], name), getattr(expected.named_steps[step], name)
            assert a.tobytes() == b.tobytes(), (step, name)
    features = np.asarray(saved[:2].transform(images))
    before = features.copy()
    saved[2:].predict(features)  # a user's own matrix is left as it was
    np.testing.assert_array_equal(features, before)


def test_a_killed_cnn_fit_resumes_from_its_last_epoch(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    folder = write_face_folder(tmp_path / "faces")
    cache = tmp_path / "cache"
    monkeypatch.setenv("FACEFEAT_CACHE", str(cache))
    args = ["fit", str(folder), "--pipeline", str(tiny_cnn_recipe(tmp_path)), "--out", str(tmp_path / "cnn.model"),
            "--quiet"]
    with killed_after_first_epoch():
        assert main(args) == 130
    [checkpoint] = (cache / "fit").glob("*-clf__checkpoint.ckpt")
    with epochs_counted() as epochs_run:
        assert main(args) == 0
    assert epochs_run == [1, 2] and not checkpoint.exists()
    clf = load_model(tmp_path / "cnn.model").pipeline.named_steps["clf"]
    assert len(clf.history_["train_loss"]) == 3 and clf.checkpoint is None


def test_fit_holds_out_whole_subjects_for_early_stopping(tmp_path, monkeypatch):
    # as in the benchmark: the CNN's validation faces come from subjects it does not train on
    pytest.importorskip("torch")
    from facefeat.deep import _training

    folder = write_face_folder(tmp_path / "faces", n_subjects=3)
    recipe = tiny_cnn_recipe(tmp_path)
    recipe.write_text(recipe.read_text().replace("validation_fraction = 0,", "validation_fraction = 0.25,"))
    seen = []
    split = _training.validation_split

    def spy(y, groups=None, fraction=0.1, random_state=None):
        seen.append(groups)
        return split(y, groups, fraction, random_state)

    monkeypatch.setattr(_training, "validation_split", spy)
    assert main(["fit", str(folder), "--pipeline", str(recipe), "--out", str(tmp_path / "cnn.model"),
                 "--subjects", SUBJECTS, "--quiet", "--no-cache"]) == 0
    [groups] = seen
    assert sorted(set(groups)) == ["synth01", "synth02", "synth03"] and len(groups) == 21
    clf = load_model(tmp_path / "cnn.model").pipeline.named_steps["clf"]
    assert clf.n_validation_ == 7  # one whole subject, where an ungrouped split would take ceil(0.25 * 21) = 6
