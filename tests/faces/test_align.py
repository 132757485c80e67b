import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from facefeat.faces.align import FaceAligner, NoFaceWarning, auto_upsample, canonical_eyes, similarity_from_eyes
from facefeat.faces.batch import FaceBatch
from facefeat.faces.landmarks import eye_centres


@pytest.fixture(scope="module")
def aligned(expressions):
    return FaceAligner(size=96).fit_transform(expressions.images)


def test_eyes_land_on_canonical_positions(expressions, aligned):
    assert aligned.face_found.all()
    target = canonical_eyes(96, 0.48, 0.32)
    T = aligned.transforms
    truth = np.einsum("nij,nkj->nki", T[:, :, :2], expressions.landmarks) + T[:, None, :, 2]
    right, left = eye_centres(truth)
    err = np.hypot(*(np.stack([right, left], 1) - target).transpose(2, 0, 1))
    assert err.max() < 2.0, f"worst eye {err.max():.2f} px from its canonical position"


def test_landmarks_are_in_the_crop_frame(aligned):
    right, left = eye_centres(aligned.landmarks)
    np.testing.assert_allclose(np.stack([right, left], 1), np.broadcast_to(canonical_eyes(96, 0.48, 0.32),
                                                                           (len(aligned), 2, 2)), atol=1e-6)
    assert aligned.images.shape == (len(aligned), 96, 96) and aligned.images.dtype == np.uint8


def test_similarity_from_eyes_is_exact():
    pts = np.zeros((68, 2))
    pts[36:42], pts[42:48] = [10.0, 50.0], [30.0, 30.0]
    M = similarity_from_eyes(pts, 100, 0.4, 0.35)
    mapped = np.stack(eye_centres(pts)) @ M[:, :2].T + M[:, 2]
    np.testing.assert_allclose(mapped, [[30, 35], [70, 35]], atol=1e-9)
    assert np.isclose(np.linalg.det(M[:, :2]), (40 / np.hypot(20, 20)) ** 2)


def test_small_crops_are_upsampled(expressions):
    assert auto_upsample((48, 48)) == 2
    small = [np.asarray(im[::2, ::2]) for im in expressions.images[:6]]  # 64 px
    batch = FaceAligner(size=48).fit_transform(small)
    assert batch.face_found.all()


def test_no_face_policies():
    flat = [np.full((64, 64), 128, np.uint8), np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))]
    with pytest.warns(NoFaceWarning, match="no face detected in 2 of 2 images"):
        batch = FaceAligner(size=32).fit_transform(flat)
    assert not batch.face_found.any() and batch.images.shape == (2, 32, 32)
    # a featureless image gives implausible landmarks: the fallback is a plain centre crop
    np.testing.assert_array_equal(batch.images[0], 128)
    with pytest.warns(NoFaceWarning, match="skipped"):
        skipped = FaceAligner(on_no_face="skip").fit_transform(flat)
    assert len(skipped) == 0
    with pytest.raises(ValueError, match=r"no face found in image\[0\]"):
        FaceAligner(on_no_face="raise").fit_transform(flat)


def test_cache_gives_identical_batches(tmp_path, expressions):
    images = expressions.images[:4]
    first = FaceAligner(memory=tmp_path).fit_transform(images)
    assert (tmp_path / "landmarks.sqlite").stat().st_size > 0
    second = FaceAligner(memory=tmp_path).fit_transform(images)
    np.testing.assert_array_equal(first.landmarks, second.landmarks)
    np.testing.assert_array_equal(first.images, second.images)


def test_color_paths_and_pickling(tmp_path, expressions):
    from PIL import Image

    path = tmp_path / "face.png"
    Image.fromarray(expressions.images[0]).save(path)
    rgb = np.repeat(expressions.images[0][..., None], 3, axis=2)
    aligner = FaceAligner(size=64, color=True)
    batch = aligner.fit_transform([rgb, str(path)])
    assert batch.images.shape == (2, 64, 64, 3)
    assert batch.sources == ["image[0]", str(path)]
    np.testing.assert_allclose(batch.landmarks[0], batch.landmarks[1])
    restored = pickle.loads(pickle.dumps(clone(aligner)))
    np.testing.assert_array_equal(restored.fit_transform([rgb]).images, batch.images[:1])


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="takes a batch"):
        FaceAligner().fit_transform("face.png")
    with pytest.raises(ValueError, match="empty batch"):
        FaceAligner().fit_transform([])
    with pytest.raises(TypeError, match="uint8"):
        FaceAligner().fit_transform([np.zeros((64, 64))])
    with pytest.raises(ValueError, match="too small"):
        FaceAligner().fit_transform([np.zeros((4, 4), np.uint8)])
    with pytest.raises(ValueError, match="on_no_face"):
        FaceAligner(on_no_face="ignore").fit([])


def test_facebatch_indexing_keeps_type(aligned):
    sub = aligned[3]
    assert isinstance(sub, FaceBatch) and len(sub) == 1
    both = FaceBatch.concatenate([aligned[:2], aligned[2:4]])
    np.testing.assert_array_equal(both.images, aligned.images[:4])
    np.testing.assert_array_equal(both.transforms, aligned.transforms[:4])


def test_crops_are_written_into_the_output_not_kept_twice(monkeypatch):
    # Issue 15: the crops of a data set were collected in a list and then
    # stacked, two copies of the aligned faces at once; and the list's 28,709
    # small arrays stayed in the process's heap after it was freed. The
    # working memory beyond the output is now independent of its size.
    import tracemalloc

    from facefeat.faces import align

    pts = np.zeros((68, 2))
    pts[36:42], pts[42:48] = [16.0, 20.0], [32.0, 20.0]
    monkeypatch.setattr(align.FaceAligner, "_detect_all", lambda self, grays: [(pts, align.FOUND)] * len(grays))
    images = np.random.default_rng(0).integers(0, 256, (500, 48, 48), dtype=np.uint8)
    tracemalloc.start()
    try:
        batch = FaceAligner(size=96).fit_transform(images)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    out = batch.images.nbytes + batch.landmarks.nbytes + batch.transforms.nbytes
    assert batch.images.shape == (500, 96, 96) and batch.face_found.all()
    assert peak - out < 0.1 * out, f"{(peak - out) / 1e6:.1f} MB beyond the {out / 1e6:.1f} MB output"


def test_skip_and_raise_with_faces_among_blanks(expressions):
    blank = np.full((64, 64), 128, np.uint8)
    images = [blank, expressions.images[0], blank]
    with pytest.warns(NoFaceWarning, match="no face detected in 2 of 3 images, skipped: image\\[0\\], image\\[2\\]"):
        kept = FaceAligner(size=32, on_no_face="skip").fit_transform(images)
    assert kept.images.shape == (1, 32, 32) and kept.sources == ["image[1]"] and kept.face_found.tolist() == [True]
    np.testing.assert_array_equal(kept.images, FaceAligner(size=32).fit_transform(images[1:2]).images)
    with pytest.raises(ValueError, match=r"no face found in image\[0\]"):
        FaceAligner(size=32, on_no_face="raise").fit_transform(images)


def test_mmod_detector_agrees_with_hog(expressions):
    images = expressions.images[:2]
    hog = FaceAligner(size=64).fit_transform(images)
    mmod = FaceAligner(size=64, detector="mmod").fit_transform(images)
    assert mmod.face_found.all()
    # both boxes lead the same landmark model to nearly the same points
    diff = np.hypot(*(mmod.landmarks - hog.landmarks).transpose(2, 0, 1))
    assert diff.mean() < 1.0 and diff.max() < 3.0


@pytest.mark.shared_data
@pytest.mark.parametrize("name, min_found", [("ck_plus_48", 1.0), ("jaffe", 1.0), ("fer2013", 0.5)])
def test_real_faces_are_found(name, min_found):
    from conftest import shared_dataset
    from facefeat.images.datasets import load_folder

    ds = load_folder(shared_dataset(name))
    sample = ds.subset(np.linspace(0, len(ds) - 1, 40).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoFaceWarning)
        batch = FaceAligner().fit_transform(sample.paths)
    assert batch.face_found.mean() >= min_found
    # detected faces put the eyes on the canonical positions, so the mean crop is face-shaped:
    # the eye rows are darker than the cheek rows below them
    found = batch.images[batch.face_found].astype(float)
    assert found[:, 28:34].mean() < found[:, 44:52].mean()
