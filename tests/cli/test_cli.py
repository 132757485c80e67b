import csv
import json

import numpy as np
import pytest

from conftest import write_face_folder

from facefeat.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The synthetic set written as <class>/<subject>_<n>.png files."""
    return write_face_folder(tmp_path_factory.mktemp("faces"), n_subjects=3, n_per_class=2)


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
    import facefeat.images.synthetic

    real = facefeat.images.synthetic.make_expressions
    monkeypatch.setattr(facefeat.images.synthetic, "make_expressions",
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
    assert main(["predict", str(model), str(good), str(bad)]) == 1  # some inputs failed
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert records[0]["path"] == str(good) and records[0]["face_found"] is True
    assert set(records[0]) == {"path", "face", "box", "face_found", "label", "proba", "valence", "arousal"}
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


def test_interrupted_benchmark_resumes_from_its_cache(folder, tmp_path, monkeypatch, capsys):
    from unittest import mock

    from facefeat.evaluation import benchmark

    cache, out = tmp_path / "cache", tmp_path / "out"
    args = ["benchmark", str(folder), "--pipelines", "lbp-linear,hog-rf,gabor-rf", "--subjects", r"^(synth\d+)_",
            "--out", str(out), "--quiet"]
    monkeypatch.setenv("FACEFEAT_CACHE", str(cache))
    dump = benchmark._atomic_dump

    def ctrl_c_after_the_first_fold(obj, path):
        dump(obj, path)
        if path.name.startswith("fold"):
            raise KeyboardInterrupt  # what Python makes of Ctrl-C (a subprocess and a real signal raced the run)

    with mock.patch.object(benchmark, "_atomic_dump", ctrl_c_after_the_first_fold):
        code = main(args)
    # Ctrl-C ends quietly, with the status shells use and a line saying how to resume
    err = capsys.readouterr().err
    assert code == 130 and "Traceback" not in err
    assert "interrupted; finished folds are kept in" in err and "run the same command again" in err
    assert not (out / "results.json").exists()  # nothing half-written
    finished = len(list(cache.glob("benchmark/*/fold*.joblib")))
    assert finished == 1

    monkeypatch.setenv("FACEFEAT_CACHE", str(cache))
    assert main(args) == 0
    resumed = json.loads((out / "results.json").read_text())
    reused = sum(e["timing"]["folds_from_cache"] for e in resumed["pipelines"].values())
    assert reused == finished
    assert "folds read from the cache" in capsys.readouterr().err  # the console says so too
    assert main(args[:-3] + ["--out", str(tmp_path / "fresh"), "--no-cache", "--quiet"]) == 0
    fresh = json.loads((tmp_path / "fresh" / "results.json").read_text())
    for name, e in fresh["pipelines"].items():
        assert resumed["pipelines"][name]["pooled"] == e["pooled"]


def test_same_seed_gives_identical_results_json(folder, tmp_path):
    def metrics(out):
        res = json.loads((out / "results.json").read_text())
        for e in res["pipelines"].values():
            del e["timing"]  # wall-clock figures are the only thing allowed to change
        del res["wall_seconds"]
        return res

    args = ["benchmark", str(folder), "--pipelines", "lbp-rf", "--subjects", r"^(synth\d+)_", "--seed", "7",
            "--no-cache", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    assert metrics(tmp_path / "a") == metrics(tmp_path / "b")


def test_exit_status_when_every_input_failed(model, tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("not pixels")
    assert main(["predict", str(model), str(bad)]) == 1
    assert main(["landmarks", str(bad)]) == 1
    assert capsys.readouterr().err.count("1 of 1 files could not be read") == 2


def test_closed_output_pipe_ends_quietly():
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone, as after `| head -3`
    try:
        proc = subprocess.run([sys.executable, "-m", "facefeat.cli", "pipelines"], stdout=write_end,
                              stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 141
    assert proc.stderr.decode() == ""


def test_warnings_are_shown_in_user_words(tmp_path, capsys):
    from PIL import Image

    folder = write_face_folder(tmp_path / "faces", n_subjects=2, n_per_class=1)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / "happiness" / "synth00_tiny.png")
    assert main(["fit", str(folder), "--pipeline", "hog-linear", "--out", str(tmp_path / "m.model"),
                 "--subjects", r"^(synth\d+)_", "--quiet", "--no-cache"]) == 1  # one image left out
    err = capsys.readouterr().err
    assert "warning: skipped 1 of" in err and "synth00_tiny.png" in err
    # no Python warning format: no file:line, no category name, no source line
    assert "Warning:" not in err and ".py:" not in err and "warnings.warn" not in err


@pytest.mark.parametrize("argv", [
    ["benchmark", "{folder}", "--pipelines", "lbp-linear,no-such-pipeline"],
    ["fit", "{folder}", "--pipeline", "no-such-pipeline", "--out", "m.model"],
    ["extract", "{folder}", "--pipeline", "no-such-pipeline", "--out", "f.npy"],
])
def test_unknown_pipeline_is_refused_before_the_data_is_read(argv, tmp_path, monkeypatch, capsys):
    import facefeat.images.datasets as datasets

    def never(*args, **kwargs):
        raise AssertionError("the data set was read before the pipeline name was checked")

    monkeypatch.setattr(datasets, "load_folder", never)
    assert main([a.format(folder=tmp_path) for a in argv]) == 2
    assert "no-such-pipeline" in capsys.readouterr().err


def test_every_option_has_help():
    from facefeat.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    missing = [f"{name} {opt}" for name, sub in commands.items() for action in sub._actions
               for opt in action.option_strings[:1] if action.help is None]
    assert missing == []
