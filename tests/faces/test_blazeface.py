"""BlazeFace over tiles: the small faces of group photos, no faces where there are none (issue 17)."""

import cv2
import numpy as np
import pytest
from skimage import data

from facefeat.faces.align import FaceAligner, detect_face_boxes
from facefeat.faces.blazeface import detect_faces_blazeface, weighted_nms

FACE = data.astronaut()[:300, 100:400]


def _photo(sides, width=1000, height=400):
    """Astronauts of the given crop sides (their faces about a third of it) in a row on a gray wall."""
    photo = np.full((height, width, 3), 110, np.uint8)
    x, where = 10, []
    for side in sides:
        photo[20:20 + side, x:x + side] = cv2.resize(FACE, (side, side), interpolation=cv2.INTER_AREA)
        where.append((x, x + side))
        x += side + 20
    return photo, where


def test_small_faces_that_the_hog_detector_misses_are_found():
    photo, where = _photo([300, 200, 160])
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    assert len(detect_face_boxes(gray)) < 3  # shrunk to 640 px, the small faces fall under HOG's 80 px
    boxes, scores = detect_faces_blazeface(photo)
    assert len(boxes) == 3 and (scores > 0.75).all()
    # largest first, each box inside its astronaut
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    assert (np.diff(areas) < 0).all()
    for (x0, x1), box in zip(where, boxes):
        assert x0 <= box[0] < box[2] <= x1


@pytest.mark.parametrize("name", ["flat", "noise", "coffee", "chelsea"])
def test_no_face_where_there_is_none(name):
    rng = np.random.default_rng(0)
    image = {"flat": np.full((480, 640), 128, np.uint8), "noise": rng.integers(0, 256, (480, 640, 3), np.uint8),
             "coffee": data.coffee(), "chelsea": data.chelsea()}[name]
    assert len(detect_faces_blazeface(image)[0]) == 0


def test_weighted_nms_averages_by_score():
    boxes, scores = weighted_nms(np.array([[0, 0, 10, 10], [1, 0, 11, 10], [0, 20, 10, 30]]),
                                 np.array([0.6, 0.2, 0.9]))
    np.testing.assert_allclose(boxes, [[0, 20, 10, 30], [0.25, 0, 10.25, 10]])
    np.testing.assert_allclose(scores, [0.9, 0.6])


def test_the_aligner_can_detect_with_it():
    photo, _ = _photo([300, 200, 160])
    faces, boxes = FaceAligner(size=48, detector="blazeface").align_every_face(photo)
    assert faces.images.shape == (3, 48, 48) and faces.face_found.all()
    with pytest.raises(ValueError, match="uint8 image"):
        detect_faces_blazeface(np.zeros((64, 64), np.float32))


def test_a_face_filling_most_of_a_wide_photos_height_is_found():
    from facefeat.images.synthetic import make_expressions

    ds = make_expressions(classes=["surprise"], n_per_class=1)
    face = cv2.resize(ds.images[1], (220, 220))
    photo = np.full((300, 760, 3), (196, 186, 170), np.uint8)
    photo[40:260, 320:540] = cv2.cvtColor(face, cv2.COLOR_GRAY2RGB)
    # the whole view, letterboxed to 760 px, and the half-height tiles (which cut the face) miss it
    assert len(detect_faces_blazeface(photo, tile=0.5)[0]) == 0
    [box] = detect_faces_blazeface(photo)[0]  # tiles of the whole height find it
    assert 300 < box[0] < box[2] < 560 and 20 < box[1] < box[3] < 280


def test_tiles_are_fractions_of_the_shorter_side():
    with pytest.raises(ValueError, match=r"tile must be fractions in \(0, 1\]"):
        detect_faces_blazeface(FACE, tile=(1.0, 1.5))


def test_windows_run_as_one_batch_find_what_they_find_one_by_one():
    from facefeat.faces.blazeface import _detect_windows

    photo, _ = _photo([300, 200], width=560, height=340)
    windows = [photo[:300, :300], photo[20:220, 320:520], np.full((128, 128, 3), 90, np.uint8)]
    batched = _detect_windows(windows, 0.75)
    assert [len(b) > 0 for b, _ in batched] == [True, True, False]  # anchors on each face, before merging
    for (boxes, scores), window in zip(batched, windows):
        [(alone_boxes, alone_scores)] = _detect_windows([window], 0.75)
        np.testing.assert_allclose(boxes, alone_boxes, atol=1e-5)
        np.testing.assert_allclose(scores, alone_scores, atol=1e-5)
