"""``facefeat predict``: every face of images and videos, annotated pictures, timelines (issue 17)."""

import csv
import json

import numpy as np
import pytest
from conftest import write_face_folder
from PIL import Image
from skimage import data

from facefeat.analysis.video import write_video
from facefeat.cli import main


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = write_face_folder(tmp_path_factory.mktemp("faces"), n_subjects=2, n_per_class=1)
    path = tmp_path_factory.mktemp("model") / "hog.model"
    assert main(["fit", str(folder), "--pipeline", "hog-linear", "--out", str(path), "--quiet", "--no-cache"]) == 0
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """A group photo of two astronauts, a photo without a face, and a clip with and without the face."""
    folder = tmp_path_factory.mktemp("media")
    face = data.astronaut()[:300, 100:400]
    group = np.full((300, 700, 3), 90, np.uint8)
    group[:, :300] = face
    group[50:250, 400:600] = np.asarray(Image.fromarray(face).resize((200, 200)))
    Image.fromarray(group).save(folder / "group.png")
    Image.fromarray(np.full((120, 160, 3), 200, np.uint8)).save(folder / "wall.png")
    write_video(folder / "clip.avi", [face] * 4 + [np.full_like(face, 60)] * 4, fps=4)
    return folder


def _jsonl(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_every_face_of_a_photo_and_the_old_form(model, media, capsys):
    assert main(["predict", str(media / "group.png"), "--model", str(model)]) == 0
    records = _jsonl(capsys)
    assert [(r["face"], r["face_found"]) for r in records] == [(0, True), (1, True)]
    assert records[0]["box"][2] > records[1]["box"][2]  # largest first
    assert main(["predict", str(model), str(media / "group.png"), "--largest-only"]) == 0  # MODEL PATH... still works
    assert _jsonl(capsys) == records[:1]


def test_a_folder_of_photos_and_videos(model, media, capsys):
    assert main(["predict", str(media), "--model", str(model), "--fps", "2", "--quiet"]) == 0
    records = _jsonl(capsys)
    by_file = {}
    for r in records:
        by_file.setdefault(r["path"].rsplit("/", 1)[1], []).append(r)
    assert sorted(by_file) == ["clip.avi", "group.png", "wall.png"]
    [wall] = by_file["wall.png"]
    assert wall["face_found"] is False and wall["box"] == [0.0, 0.0, 159.0, 119.0]  # a whole-image record says so
    clip = by_file["clip.avi"]
    assert [(r["frame"], r["time_s"], r["track"], r["face_found"]) for r in clip] == [
        (0, 0.0, 0, True), (2, 0.5, 0, True), (4, 1.0, None, False), (6, 1.5, None, False)]


def test_annotated_pictures_videos_and_timelines(model, media, tmp_path, capsys):
    out = tmp_path / "csv"
    assert main(["predict", str(media / "group.png"), str(media / "clip.avi"), "--model", str(model), "--quiet",
                 "--annotate", str(tmp_path / "ann"), "--plot", str(tmp_path / "plots"),
                 "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["face"] for r in rows] == ["0", "1", "0", "0", "", ""]
    assert rows[0]["frame"] == "" and rows[2]["frame"] == "0" and rows[4]["face_found"] == "False"
    drawn = np.asarray(Image.open(tmp_path / "ann" / "group-annotated.png"))
    x, y, w, h = (round(float(rows[0][k])) for k in ("box_x", "box_y", "box_width", "box_height"))
    assert drawn.shape == (300, 700, 3) and drawn[y, x + w // 2].tolist() == [40, 200, 60]  # the box's top edge
    from facefeat.analysis.video import video_info

    assert video_info(tmp_path / "ann" / "clip-annotated.avi").n_frames == 4
    assert (tmp_path / "plots" / "clip-timeline.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_inputs_are_records_or_clear_errors(model, media, tmp_path, capsys):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 50)
    assert main(["predict", str(junk), str(media / "wall.png"), "--model", str(model)]) == 1
    records = _jsonl(capsys)
    assert "junk.mp4" in records[0]["error"] and records[1]["face_found"] is False
    assert main(["predict", str(junk), "--model", str(model), "--on-error", "raise"]) == 2
    assert "junk.mp4" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "empty")]) == 1  # the shipped model; a missing file is a record
    assert "no such file" in _jsonl(capsys)[0]["error"]
    assert main(["predict", str(media / "clip.avi"), "--model", str(model), "--fps", "0"]) == 2
    assert "--fps must be positive" in capsys.readouterr().err


def test_an_installation_without_the_shipped_model_asks_for_one(media, monkeypatch, capsys):
    import importlib

    # the module, not the function facefeat.analysis exports under the same name
    monkeypatch.setattr(importlib.import_module("facefeat.analysis.analyze"), "DEFAULT_MODEL_PATH", media / "no.model")
    assert main(["predict", str(media / "wall.png")]) == 2
    assert "no shipped expression model" in capsys.readouterr().err
