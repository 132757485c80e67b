"""Every face of a photo or a video: boxes, order, fallbacks, frames, tracks (issue 17)."""

import cv2
import numpy as np
import pytest
from facefeat.pipelines import make_pipeline
from skimage import data

from facefeat.analysis import (
    FaceTracker,
    VideoReadError,
    analyze,
    face_records,
    sample_frames,
    video_info,
)
from facefeat.analysis.tracks import box_iou
from facefeat.analysis.video import write_video
from facefeat.images.synthetic import make_expressions

CLASSES = ["happiness", "sadness", "surprise"]


@pytest.fixture(scope="module")
def pipe():
    ds = make_expressions(n_subjects=2, n_per_class=2, classes=CLASSES)
    return make_pipeline("hog-linear").fit(ds.images, ds.labels)


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()[:300, 100:400]


def _group(face, small_at=(50, 400)):
    """A 300 x 700 photo: the face at full size on the left, at 2/3 size at ``small_at`` (row, col).

    (Both faces are large enough for dlib's HOG detector after the photo is
    shrunk to 640 px for detection; which detector finds smaller faces is
    measured in benchmarks/face_detectors.py.)
    """
    photo = np.full((300, 700, 3), 90, np.uint8)
    photo[:, :300] = face
    small = cv2.resize(face, (200, 200), interpolation=cv2.INTER_AREA)
    r, c = small_at
    photo[r:r + 200, c:c + 200] = small
    return photo


def test_every_face_largest_first_with_boxes_in_image_pixels(pipe, astronaut):
    records = face_records(_group(astronaut), pipe)
    assert [r["face"] for r in records] == [0, 1]
    (x0, y0, w0, h0), (x1, y1, w1, h1) = records[0]["box"], records[1]["box"]
    assert w0 * h0 > w1 * h1
    assert x0 + w0 <= 300 and 400 <= x1 and x1 + w1 <= 600 and 50 <= y1  # each box on its own face
    # each box is centred on its face: the small face's centre, mapped back to the big face, is the big one's
    centre0, centre1 = np.array([x0 + w0 / 2, y0 + h0 / 2]), np.array([x1 + w1 / 2, y1 + h1 / 2])
    np.testing.assert_allclose((centre1 - [400, 50]) * 1.5, centre0, atol=10)
    for r in records:
        assert r["face_found"] and sum(r["proba"].values()) == pytest.approx(1, abs=1e-5)
        assert r["label"] == max(r["proba"], key=r["proba"].get) and set(r["proba"]) == set(CLASSES)
        assert -1 <= r["valence"] <= 1 and -1 <= r["arousal"] <= 1


def test_largest_only_and_the_same_face_gets_the_same_expression(pipe, astronaut):
    both = face_records(_group(astronaut), pipe)
    [largest] = face_records(_group(astronaut), pipe, largest_only=True)
    assert largest == both[0]
    [alone] = face_records(astronaut, pipe)
    assert alone["label"] == both[0]["label"]
    assert alone["proba"] == pytest.approx(both[0]["proba"], abs=0.05)  # the box, so the landmarks, move a little


def test_no_face_gives_one_whole_image_record_that_says_so(pipe):
    [record] = face_records(np.full((120, 160), 128, np.uint8), pipe)
    assert record["face_found"] is False and record["box"] == [0.0, 0.0, 159.0, 119.0] and record["label"] in CLASSES


def test_a_model_without_the_aligner_is_refused(pipe):
    with pytest.raises(ValueError, match="first step is the face aligner"):
        face_records(np.zeros((64, 64), np.uint8), pipe[1:])


def test_analyze_a_photo_as_records_or_a_table(pipe, astronaut, tmp_path):
    path = tmp_path / "group.png"
    cv2.imwrite(str(path), cv2.cvtColor(_group(astronaut), cv2.COLOR_RGB2BGR))
    records = analyze(path, model=pipe)
    assert [r["source"] for r in records] == [str(path)] * 2
    frame = analyze(path, model=pipe, as_frame=True)
    assert list(frame.columns[:3]) == ["source", "face", "box"] and len(frame) == 2
    with pytest.raises(FileNotFoundError, match="model file not found"):
        analyze(path, model=tmp_path / "missing.model")


def test_video_frames_sampled_tracked_and_holes_explained(pipe, astronaut, tmp_path):
    blank = np.full_like(astronaut, 60)
    # 4 fps: one second of a face moving right, one second without a face, one second of it again
    frames = [np.roll(astronaut, 4 * i, axis=1) for i in range(4)] + [blank] * 4 + [astronaut] * 4
    path = write_video(tmp_path / "clip.avi", frames, fps=4)
    assert video_info(path).n_frames == 12 and video_info(path).fps == 4
    assert [(f, t) for f, t, _ in sample_frames(path, fps=2)] == [(0, 0.0), (2, 0.5), (4, 1.0), (6, 1.5),
                                                                   (8, 2.0), (10, 2.5)]
    records = analyze(path, model=pipe, fps=2)
    found = [(r["frame"], r["track"]) for r in records if r["face_found"]]
    assert found == [(0, 0), (2, 0), (8, 0), (10, 0)]  # a gap of two samples keeps the track
    holes = [r for r in records if not r["face_found"]]
    assert [r["frame"] for r in holes] == [4, 6] and all(r["label"] is None and r["box"] is None for r in holes)


def test_bad_videos_raise_clear_errors(tmp_path):
    with pytest.raises(VideoReadError, match="no such file"):
        list(sample_frames(tmp_path / "missing.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(VideoReadError, match="junk.mp4"):
        list(sample_frames(junk))
    empty = tmp_path / "empty.avi"
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 4, (32, 32)).release()
    with pytest.raises(VideoReadError):
        list(sample_frames(empty))
    with pytest.raises(ValueError, match="fps must be positive"):
        list(sample_frames(junk, fps=0))
    with pytest.raises(ValueError, match="frame 1 is 16x16, the first was 32x32"):
        write_video(tmp_path / "mixed.avi", [np.zeros((32, 32), np.uint8), np.zeros((16, 16), np.uint8)], 4)
    with pytest.raises(ValueError, match="no frames"):
        write_video(tmp_path / "none.avi", [], 4)


def test_tracker_pairs_by_overlap_and_ends_lost_tracks():
    tracker = FaceTracker(min_iou=0.3, max_missed=1)
    assert tracker.update([[0, 0, 10, 10], [50, 0, 10, 10]]) == [0, 1]
    assert tracker.update([[52, 0, 10, 10]]) == [1]  # track 0 missed once
    assert tracker.update([[51, 0, 10, 10]]) == [1]  # track 0 missed twice: ended
    assert tracker.update([[0, 0, 10, 10], [51, 0, 10, 10]]) == [2, 1]
    np.testing.assert_allclose(box_iou([[0, 0, 2, 2]], [[1, 1, 2, 2]]), [[1 / 7]])
