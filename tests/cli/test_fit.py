"""``facefeat fit``: the memory it needs, and the same model as a plain ``Pipeline.fit``."""

import numpy as np
from conftest import write_face_folder

from facefeat.cli import main
from facefeat.features.scaling import LowMemoryStandardScaler
from facefeat.images.datasets import load_folder
from facefeat.modelfile import load_model
from facefeat.pipelines import make_pipeline

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
    import pytest

    pytest.importorskip("torch")
    from unittest import mock

    from facefeat.deep import _training

    folder = write_face_folder(tmp_path / "faces")
    recipe = tmp_path / "tiny-cnn.toml"
    recipe.write_text('description = "a tiny compact CNN"\n[[steps]]\nname = "align"\nuse = "face_aligner"\n'
                      'params = { size = 32 }\n[[steps]]\nname = "clf"\nuse = "compact_cnn"\n'
                      'params = { size = 32, width = 4, hidden_units = 8, max_epochs = 3, '
                      'validation_fraction = 0, n_threads = 1 }\n')
    cache = tmp_path / "cache"
    monkeypatch.setenv("FACEFEAT_CACHE", str(cache))
    args = ["fit", str(folder), "--pipeline", str(recipe), "--out", str(tmp_path / "cnn.model"), "--quiet"]
    save = _training._save_atomic

    def killed_after_the_first_epoch(state, path):
        save(state, path)
        raise KeyboardInterrupt

    with mock.patch.object(_training, "_save_atomic", killed_after_the_first_epoch):
        assert main(args) == 130
    [checkpoint] = (cache / "fit").glob("*-clf__checkpoint.ckpt")
    epochs_run, train_epoch = [], _training._Loop._train_epoch

    def counted(loop):
        epochs_run.append(loop.epoch)
        return train_epoch(loop)

    with mock.patch.object(_training._Loop, "_train_epoch", counted):
        assert main(args) == 0
    assert epochs_run == [1, 2] and not checkpoint.exists()
    clf = load_model(tmp_path / "cnn.model").pipeline.named_steps["clf"]
    assert len(clf.history_["train_loss"]) == 3 and clf.checkpoint is None
