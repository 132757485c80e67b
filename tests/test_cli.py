import csv
import json

import numpy as np
import pytest
from PIL import Image

from facefeat.cli import main
from facefeat.synthetic import make_expressions


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The synthetic set written as <class>/<subject>_<n>.png files."""
    root = tmp_path_factory.mktemp("faces")
    ds = make_expressions(n_subjects=3, n_per_class=2, random_state=2)
    for i, (img, label, subject) in enumerate(zip(ds.images, ds.labels, ds.groups)):
        (root / label).mkdir(exist_ok=True)
        Image.fromarray(img).save(root / label / f"{subject}_{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def model(folder, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    assert main(["fit", str(folder), "--pipeline", "lbp-linear", "--out", str(path),
                 "--subjects", r"^(synth\d+)_", "--quiet", "--no-cache"]) == 0
    return path


def test_pipelines_command(capsys):
    assert main(["pipelines"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines == sorted(lines)
    assert any(line.startswith("hog-linear ") and "HOG" in line for line in lines) and "lbp-rf" in out


def test_benchmark_on_a_folder(folder, tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["benchmark", str(folder), "--pipelines", "lbp-linear", "--subjects", r"^(synth\d+)_",
                 "--out", str(out), "--quiet", "--no-cache"])
    assert code == 0
    res = json.loads((out / "results.json").read_text())
    assert res["protocol"]["name"] == "loso" and res["dataset"]["n_subjects"] == 3
    assert "lbp-linear" in capsys.readouterr().out


def test_benchmark_without_data_explains_itself(tmp_path, capsys, monkeypatch):
    import facefeat.synthetic

    real = facefeat.synthetic.make_expressions
    monkeypatch.setattr(facefeat.synthetic, "make_expressions",
                        lambda random_state: real(n_subjects=2, n_per_class=1, random_state=random_state))
    assert main(["benchmark", "--pipelines", "hog-linear", "--out", str(tmp_path), "--quiet", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "No DATA_DIR given" in out and "facefeat benchmark path/to/faces" in out
    assert (tmp_path / "results.md").exists()


def test_benchmark_bad_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["benchmark", str(tmp_path / "nope"), "--quiet"]) == 2
    assert "dataset folder not found" in capsys.readouterr().err


def test_predict_jsonl_with_an_unreadable_file(folder, model, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    good = sorted((folder / "happiness").iterdir())[0]
    assert main(["predict", str(model), str(good), str(bad)]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert records[0]["path"] == str(good) and records[0]["face_found"] is True
    assert set(records[0]) == {"path", "label", "proba", "face_found"}
    assert sum(records[0]["proba"].values()) == pytest.approx(1, abs=1e-4)
    assert records[0]["label"] == max(records[0]["proba"], key=records[0]["proba"].get)
    assert records[1]["path"] == str(bad) and "broken.png" in records[1]["error"]
    assert "1 of 2 files could not be read" in captured.err
    assert main(["predict", str(model), str(bad), "--on-error", "raise"]) == 2
    assert "broken.png" in capsys.readouterr().err


def test_predict_folder_as_csv(folder, model, tmp_path):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(folder), "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 3 * 7 * 2
    truth = [r["path"].split("/")[-2] for r in rows]
    # the model saw these very images: it should get nearly all right
    assert np.mean([r["label"] == t for r, t in zip(rows, truth)]) > 0.9


def test_predict_refuses_a_foreign_file(tmp_path, capsys):
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"weights": [1, 2]}, path)
    assert main(["predict", str(path), str(tmp_path)]) == 2
    assert "not a facefeat model" in capsys.readouterr().err
