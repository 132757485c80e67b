"""Model files: manifest, checksum, trust gate and version warnings (facefeat.modelfile, fit/predict)."""

import hashlib
import json
import zipfile
from datetime import datetime

import joblib
import pytest

from facefeat.cli import main
from facefeat.modelfile import (
    FORMAT,
    ModelFileError,
    ModelVersionWarning,
    UntrustedModelError,
    environment,
    load_model,
    read_manifest,
    save_model,
)
from conftest import write_face_folder

SUBJECTS = ["--subjects", r"^(synth\d+)_"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_face_folder(tmp_path_factory.mktemp("faces"))


@pytest.fixture(scope="module")
def model(folder, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.facefeat"
    assert main(["fit", str(folder), "--pipeline", "lbp-linear", "--out", str(path), *SUBJECTS,
                 "--quiet", "--no-cache"]) == 0
    return path


@pytest.fixture(scope="module")
def face(folder):
    return str(sorted((folder / "happiness").iterdir())[0])


def _predict(capsys, *argv):
    code = main(["predict", *map(str, argv)])
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def _rewrite(src, dst, manifest=None, payload=None):
    """Copy a model archive, replacing its manifest and/or payload."""
    with zipfile.ZipFile(src) as zf:
        old_manifest = json.loads(zf.read("manifest.json"))
        old_payload = zf.read("pipeline.joblib")
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest or old_manifest))
        zf.writestr("pipeline.joblib", old_payload if payload is None else payload)
    return dst


def test_fit_writes_an_archive_with_a_manifest(model):
    with zipfile.ZipFile(model) as zf:
        assert sorted(zf.namelist()) == ["manifest.json", "pipeline.joblib"]
        payload = zf.read("pipeline.joblib")
    m = read_manifest(model)
    assert m["format"] == FORMAT and m["format_version"] == 1
    assert {k: m[k] for k in ("facefeat", "scikit-learn", "numpy", "python")} == environment()
    assert m["pipeline_name"] == "lbp-linear" and m["n_train"] == 14
    assert m["classes"] == ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
    assert m["payload_bytes"] == len(payload)
    assert m["payload_sha256"] == hashlib.sha256(payload).hexdigest()
    assert datetime.fromisoformat(m["created"]).utcoffset().total_seconds() == 0
    loaded = load_model(model)
    assert loaded.verified and loaded.pipeline.classes_.tolist() == m["classes"]


def test_predict_with_a_fitted_model(model, face, capsys):
    code, records, err = _predict(capsys, model, face)
    assert code == 0 and err == ""
    assert records[0]["path"] == face and records[0]["label"] in read_manifest(model)["classes"]


def test_a_flipped_byte_is_refused(model, face, tmp_path, capsys):
    data = bytearray(model.read_bytes())
    with zipfile.ZipFile(model) as zf:
        info = zf.getinfo("pipeline.joblib")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)  # local header is 30 bytes + name
    data[start + info.compress_size // 2] ^= 0x01
    bad = tmp_path / "flipped.facefeat"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"flipped\.facefeat is damaged or was modified: cannot read "
                                             r"pipeline\.joblib"):
        load_model(bad, trust=True)  # trust never skips the checks of an archive
    code, records, err = _predict(capsys, bad, face)
    assert (code, records) == (2, []) and "damaged or was modified" in err


def test_a_replaced_payload_fails_the_checksum(model, face, tmp_path, capsys):
    other = joblib.dump({"not": "the fitted pipeline"}, tmp_path / "x.joblib")[0]
    bad = _rewrite(model, tmp_path / "swapped.facefeat", payload=open(other, "rb").read())
    code, records, err = _predict(capsys, bad, face)
    assert code == 2 and records == []
    assert "swapped.facefeat was modified or corrupted: its pipeline does not match the checksum" in err


def test_a_plain_pickle_needs_trust(model, face, tmp_path, capsys):
    # the layout `facefeat fit` wrote before model archives
    pipe = load_model(model).pipeline
    old = tmp_path / "old.joblib"
    joblib.dump({"format": FORMAT, "pipeline_name": "lbp-linear", "classes": pipe.classes_.tolist(),
                 "n_train": 14, "pipeline": pipe}, old)
    code, records, err = _predict(capsys, old, face)
    assert code == 2 and records == []
    assert "old.joblib is not a facefeat model file (no manifest" in err and "--trust" in err
    with pytest.raises(UntrustedModelError):
        load_model(old)
    code, trusted, err = _predict(capsys, old, face, "--trust")
    _, verified, _ = _predict(capsys, model, face)
    assert code == 0 and trusted == verified
    loaded = load_model(old, trust=True)
    assert not loaded.verified and loaded.manifest["format_version"] == 0
    assert loaded.manifest["pipeline_name"] == "lbp-linear"


def test_a_trusted_pickle_must_still_hold_a_pipeline(tmp_path, face, capsys):
    path = joblib.dump([1, 2, 3], tmp_path / "list.joblib")[0]
    code, _, err = _predict(capsys, path, face, "--trust")
    assert code == 2 and "list.joblib is not a facefeat model: it holds a list, not a pipeline" in err


def test_other_versions_warn_but_load(model, face, tmp_path, capsys):
    manifest = read_manifest(model) | {"scikit-learn": "0.24.2", "python": "2.7.18"}
    path = _rewrite(model, tmp_path / "old-sklearn.facefeat", manifest=manifest)
    code, records, err = _predict(capsys, path, face)
    assert code == 0 and "label" in records[0]
    here = environment()
    # the command shows the ModelVersionWarning in user words (issue 15): no file, line or category
    assert (
        f"warning: {path} was written with other versions: scikit-learn 0.24.2 (running {here['scikit-learn']}), "
        f"python 2.7.18 (running {here['python']}); predictions may differ or loading may fail (refit the model "
        "with the installed versions to be sure)\n") in err
    with pytest.warns(ModelVersionWarning):  # the library still warns as Python does
        load_model(path)


def test_same_python_minor_does_not_warn(model, tmp_path, recwarn):
    here = environment()["python"].rsplit(".", 1)[0]
    path = _rewrite(model, tmp_path / "patch.facefeat", manifest=read_manifest(model) | {"python": here + ".99"})
    load_model(path)
    assert not [w for w in recwarn if issubclass(w.category, ModelVersionWarning)]


@pytest.mark.parametrize("change, message", [
    ({"format": "something-else"}, "its manifest is not a facefeat-model manifest"),
    ({"format_version": 99}, "model format version 99; this facefeat reads up to 2"),
    ({"payload_sha256": None}, "manifest without a valid 'payload_sha256'"),
])
def test_bad_manifests_are_refused(model, tmp_path, change, message):
    path = _rewrite(model, tmp_path / "m.facefeat", manifest=read_manifest(model) | change)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_other_files_are_refused(tmp_path, capsys):
    other_zip = tmp_path / "photos.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("a.txt", "x")
    with pytest.raises(ModelFileError, match=r"photos\.zip is not a facefeat model file: it has no manifest\.json"):
        load_model(other_zip, trust=True)
    empty = tmp_path / "empty.facefeat"
    empty.write_bytes(b"")
    with pytest.raises(UntrustedModelError, match="not a facefeat model file"):
        load_model(empty)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load_model(tmp_path / "missing.facefeat")
    assert main(["predict", str(tmp_path / "missing.facefeat"), str(tmp_path)]) == 2
    assert "model file not found" in capsys.readouterr().err


def test_save_model_roundtrip_without_the_cli(tmp_path):
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(DummyClassifier()).fit([[0], [1]], ["a", "b"])
    manifest = save_model(tmp_path / "m.zip", pipe, pipeline_name="dummy", classes=["a", "b"])
    assert read_manifest(tmp_path / "m.zip") == manifest and manifest["n_train"] is None
    assert load_model(tmp_path / "m.zip").pipeline.predict([[5]]).tolist() == ["a"]
