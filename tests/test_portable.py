"""CNN model files read without unpickling anything (issue 17: a shipped model needs no trust)."""

import json
import zipfile

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facefeat.images.synthetic import make_expressions  # noqa: E402
from facefeat.modelfile import ModelFileError, load_model, read_manifest, save_model  # noqa: E402
from facefeat.pipelines import make_pipeline  # noqa: E402
from facefeat.portable import is_portable, to_portable  # noqa: E402

TINY = {"compact-cnn": dict(clf__width=4, clf__hidden_units=8, clf__max_epochs=1, clf__validation_fraction=0,
                            clf__n_threads=1),
        "mobilenetv2-finetune": dict(clf__weights=None, clf__input_size=32, clf__max_epochs=1,
                                     clf__validation_fraction=0, clf__n_threads=1)}


@pytest.fixture(scope="module")
def faces():
    return make_expressions(n_subjects=2, n_per_class=1, classes=["happiness", "sadness", "surprise"])


@pytest.mark.parametrize("recipe", sorted(TINY))
def test_cnn_pipelines_are_written_as_arrays_and_read_back_the_same(recipe, faces, tmp_path, monkeypatch):
    pipe = make_pipeline(recipe).set_params(**TINY[recipe]).fit(faces.images, faces.labels)
    path = tmp_path / "cnn.model"
    manifest = save_model(path, pipe, pipeline_name=recipe, classes=pipe.classes_)
    assert manifest["format_version"] == 2 and manifest["payload"] == "weights.npz"
    assert zipfile.ZipFile(path).namelist() == ["manifest.json", "weights.npz"]
    assert [s["use"] for s in read_manifest(path)["steps"]] == [s["use"] for s in to_portable(pipe)[0]]

    def no_unpickling(*args, **kwargs):
        raise AssertionError("unpickled")

    monkeypatch.setattr("pickle.loads", no_unpickling)
    monkeypatch.setattr("joblib.load", no_unpickling)
    loaded = load_model(path)
    assert loaded.verified
    clf, twin = pipe.named_steps["clf"], loaded.pipeline.named_steps["clf"]
    assert twin.history_ == clf.history_ and twin.best_epoch_ == clf.best_epoch_
    np.testing.assert_array_equal(loaded.pipeline.predict_proba(faces.images), pipe.predict_proba(faces.images))


def test_a_pipeline_with_learned_features_is_pickled_as_before(faces, tmp_path):
    pipe = make_pipeline("lbp-linear").fit(faces.images, faces.labels)
    assert not is_portable(pipe)
    assert save_model(tmp_path / "lbp.model", pipe, pipeline_name="lbp-linear", classes=pipe.classes_)[
        "format_version"] == 1
    with pytest.raises(ValueError, match="step 'scale' .* learns more than network weights"):
        to_portable(pipe)


def test_weights_that_do_not_fit_the_steps_are_a_clear_error(faces, tmp_path):
    pipe = make_pipeline("compact-cnn").set_params(**TINY["compact-cnn"]).fit(faces.images, faces.labels)
    good = tmp_path / "good.model"
    save_model(good, pipe, pipeline_name="compact-cnn", classes=pipe.classes_)
    with zipfile.ZipFile(good) as zf:
        manifest, payload = json.loads(zf.read("manifest.json")), zf.read("weights.npz")
    for change, expect in [({"steps": [{"name": "clf", "use": "vgg16", "params": {}}]}, "unknown component"),
                           ({"classes": ["a", "b"]}, "do not make a pipeline")]:
        bad = tmp_path / "bad.model"
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("manifest.json", json.dumps({**manifest, **change}))
            zf.writestr("weights.npz", payload)
        with pytest.raises(ModelFileError, match=expect):
            load_model(bad)
