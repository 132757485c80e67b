"""Bad inputs across the library: every file is generated in tmp dirs, none is committed.

What each kind of bad input gets (``ImageReadError`` messages start with
``cannot read image '<file>': ``; :mod:`tests.test_io` already covers
``read_image`` on each single file kind, here the same files go through
``read_images``, data sets, the aligner, the extractors and the CLI):

=================================  ==========================================================================
input kind                         documented behaviour
=================================  ==========================================================================
zero-byte file                     ``ImageReadError`` "empty file (0 bytes)"; skipped by ``read_images(on_error=
                                   "skip")``/``FaceDataset.read_images``/``fit``/``benchmark`` with that reason
                                   and a ``SkippedImagesWarning`` naming it; ``predict``/``landmarks``: a
                                   record with an ``error`` key (exit 0)
truncated JPEG / PNG               same, "truncated JPEG data" / "truncated PNG data"
text file named ``.jpg``           same, "not an image: the file contains text"
HTML page named ``.png``           same, "not an image: the file contains HTML (a web page saved ...)"
header claims 60000x60000          ``DecompressionBombError`` (an ``ImageReadError``) before decoding; skipped
                                   like the above
CMYK JPEG, 16-bit PNG, RGBA PNG,   read as uint8 (colour/bit depth/transparency converted); a face in them is
palette GIF, palette TIFF          found (``face_found`` True)
1x1 image                          read (shape (1, 1)); ``FaceAligner``: ``ValueError`` "<file or image[i]>: 1x1
                                   px is too small to hold a face (at least 8x8 px)"; ``FaceDataset.
                                   read_images``/``fit``/``benchmark``: skipped with that reason and a warning;
                                   ``predict``: error record; ``landmarks``: ``face_found`` false, landmarks null
10x10, all-black, all-white,       no face: aligned by the fallback, ``face_found`` False, ``NoFaceWarning``
non-face photo (coffee), face      naming the file; ``predict`` still labels it with ``face_found`` false;
cut by the border                  ``landmarks``: ``face_found`` false, landmarks null
two faces side by side             ``face_found`` True, the largest face (here: the first) is aligned
EXIF-rotated photo                 EXIF orientation applied, so a face stored sideways with tag 6 is found;
                                   the same pixels without the tag are not
NaN / inf in a float array         extractors: ``ValueError`` "image i: contains NaN or infinite values";
                                   ``FaceAligner`` and ``detect_landmarks``: ``TypeError`` (uint8 needed,
                                   never cast); ``ASMShape``/``LandmarkGeometry`` (landmarks): ``ValueError``
float in [0, 255]                  extractors: taken at face value (same features as uint8); ``FaceAligner``:
                                   ``TypeError`` "needs uint8 images"
bool, complex                      ``TypeError`` "dtype bool is not a real-valued image type" (aligner: "needs
                                   uint8")
shape (n, h, w, 4)                 ``ValueError`` "image i: expected shape (h, w) or (h, w, 3), got (h, w, 4)";
                                   (n, h, w, 1) is accepted as gray everywhere
empty batch ([] or (0, h, w))      ``ValueError`` "empty batch: at least one image/face is needed"
files at the root, no class dirs   ``load_folder``: ``ValueError`` "no images found ...; N image files lie
                                   directly in the folder, not in class sub-folders"
empty class folder                 listed in ``skipped``: "class folder without images"
hidden files / folders             left out, counted in ``FaceDataset.hidden`` and ``describe()``
                                   (``.DS_Store``, ``._x.jpg``, ``.git``)
symlink loop                       the link is listed in ``skipped``: "symbolic link to a folder already
                                   indexed (...), not followed"; other folder links are followed
non-UTF-8 file name                read from bytes or surrogate-escaped str; listed with the surrogate str;
                                   messages and ``describe()`` print it as ``\\xNN``
=================================  ==========================================================================
"""

import io
import json
import os
import sys
import warnings

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from conftest import write_face_folder

from facefeat.faces.align import FaceAligner, NoFaceWarning, detect_landmarks
from facefeat.cli import main
from facefeat.images.datasets import load_folder
from facefeat.deep.embedding import DeepEmbedding
from facefeat.features._base import check_images
from facefeat.features.gabor import GaborFeatures
from facefeat.features.geometry import LandmarkGeometry
from facefeat.features.hog import HOGFeatures
from facefeat.features.lbp import LBPHistogram
from facefeat.images.io import DecompressionBombError, ImageReadError, SkippedImagesWarning, read_images
from facefeat.shape.features import ASMShape
from conftest import png_bytes

SUBJECTS = ["--subjects", r"^(synth\d+)_"]


# ------------------------------------------------------------------ helpers
def _face():
    """The astronaut's face, 130 x 140 RGB: found by dlib's HOG detector."""
    return skdata.astronaut()[60:190, 150:290]


def _encoded(array, fmt, **kw):
    buf = io.BytesIO()
    (array if isinstance(array, Image.Image) else Image.fromarray(array)).save(buf, format=fmt, **kw)
    return buf.getvalue()


def _exif(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def _non_utf8_name(folder, name):
    """``folder/name`` as a surrogate-escaped str, or skip where names must be Unicode."""
    if sys.platform in ("win32", "darwin"):
        pytest.skip("file system stores names as Unicode")
    return os.fsdecode(os.path.join(os.fsencode(folder), name))


# What every unreadable kind is refused with (the reason of its ImageReadError)
UNREADABLE = {
    "zero.png": (b"", "empty file (0 bytes)"),
    "truncated.jpg": (lambda: _encoded(_face(), "JPEG")[:1500], "truncated JPEG data"),
    "truncated.png": (lambda: _encoded(_face(), "PNG")[:3000], "truncated PNG data"),
    "text.jpg": (b"just some notes\n", "not an image: the file contains text"),
    "page.png": (b"<!DOCTYPE html><html><body>404</body></html>",
                 "not an image: the file contains HTML (a web page saved under an image name?)"),
    "bomb.png": (lambda: png_bytes(60000, 60000), None),  # DecompressionBombError, reason names the size
}

# Images that decode but hold no detectable face
NO_FACE = {
    "10x10.png": lambda: _encoded(np.full((10, 10), 90, np.uint8), "PNG"),
    "black.png": lambda: _encoded(np.zeros((96, 96), np.uint8), "PNG"),
    "white.png": lambda: _encoded(np.full((96, 96), 255, np.uint8), "PNG"),
    "coffee.jpg": lambda: _encoded(skdata.coffee()[::2, ::2], "JPEG"),
    "border.png": lambda: _encoded(np.pad(_face()[:, 70:], ((0, 0), (0, 70), (0, 0))), "PNG"),  # half out at the left
    "sideways.jpg": lambda: _encoded(np.rot90(_face()), "JPEG"),  # face on its side, no EXIF tag
}

# Unusual encodings of a face: all must be read and the face found
FACE_KINDS = {
    "cmyk.jpg": lambda: _encoded(Image.fromarray(_face()).convert("CMYK"), "JPEG"),
    "sixteen.png": lambda: _encoded(Image.fromarray(_face()[..., 1].astype(np.uint16) * 257), "PNG"),
    "rgba.png": lambda: _encoded(np.dstack([_face(), np.full((130, 140), 200, np.uint8)]), "PNG"),
    "palette.gif": lambda: _encoded(Image.fromarray(_face()).convert("P"), "GIF"),
    "palette.tif": lambda: _encoded(Image.fromarray(_face()).convert("P"), "TIFF"),
    "two_faces.png": lambda: _encoded(np.hstack([_face(), _face()[:, ::-1]]), "PNG"),
    # stored on its side as a phone does, EXIF tag 6: "rotate 90 clockwise to display"
    "exif_rotated.jpg": lambda: _encoded(np.rot90(_face()), "JPEG", exif=_exif(6)),
}


def _write(folder, kinds):
    paths = {}
    for name, (content, *_) in ((k, v if isinstance(v, tuple) else (v,)) for k, v in kinds.items()):
        paths[name] = folder / name
        paths[name].write_bytes(content() if callable(content) else content)
    return paths


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Every file kind of the table, in one folder, by name."""
    folder = tmp_path_factory.mktemp("bad")
    paths = _write(folder, UNREADABLE) | _write(folder, NO_FACE) | _write(folder, FACE_KINDS)
    paths["1x1.png"] = folder / "1x1.png"
    paths["1x1.png"].write_bytes(_encoded(np.zeros((1, 1), np.uint8), "PNG"))
    return paths


# ------------------------------------------------------------- read_images
def test_read_images_keeps_or_names_every_file(files):
    names = sorted(files)
    with pytest.warns(SkippedImagesWarning) as rec:
        res = read_images([files[n] for n in names], on_error="skip")
    # nothing is lost: every input is either read or skipped with its reason
    assert len(res.paths) + len(res.skipped) == len(names)
    assert [os.path.basename(p) for p in res.paths] == sorted(set(names) - set(UNREADABLE))
    assert res.indices == [names.index(os.path.basename(p)) for p in res.paths]
    reasons = {os.path.basename(p): r for p, r in res.skipped}
    assert set(reasons) == set(UNREADABLE)
    for name, reason in reasons.items():
        if name == "bomb.png":
            assert reason.startswith("image is 60000x60000 = 3,600,000,000 pixels, over the limit of 50,000,000")
        else:
            assert reason == UNREADABLE[name][1]
    msg = str(rec[0].message)
    assert msg.startswith(f"skipped {len(UNREADABLE)} of {len(names)} images that could not be read")
    assert all(f"{files[n]}' (" in msg for n in UNREADABLE)
    shapes = dict(zip((os.path.basename(p) for p in res.paths), (im.shape for im in res.images)))
    assert shapes["1x1.png"] == (1, 1) and shapes["10x10.png"] == (10, 10)
    assert shapes["exif_rotated.jpg"] == (130, 140)  # upright again: EXIF applied
    assert all(im.dtype == np.uint8 for im in res.images)


def test_read_images_raise_stops_at_the_first_bad_file(files):
    with pytest.raises(DecompressionBombError, match=r"bomb\.png'"):
        read_images([files["black.png"], files["bomb.png"], files["zero.png"]])


# ---------------------------------------------------------------- datasets
def test_images_at_the_root_are_named_in_the_error(tmp_path):
    for name in ("a.png", "b.jpg"):
        (tmp_path / name).write_bytes(_encoded(np.zeros((8, 8), np.uint8), "PNG"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"expected <folder>/<class>/<image> .*; 2 image files lie directly in "
                                         r"the folder, not in class sub-folders \(e\.g\. 'a\.png'\)"):
        load_folder(tmp_path)


def test_folder_layouts_nothing_dropped_silently(tmp_path):
    root = write_face_folder(tmp_path / "faces")
    (root / "contempt").mkdir()  # empty class folder
    (root / "happiness" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "happiness" / "._synth00_099.png").write_bytes(b"\0\5\26\7")  # macOS resource fork
    (root / ".git").mkdir()
    (root / ".git" / "x.png").write_bytes(b"")
    (root / "anger" / "loop").symlink_to(root / "anger")  # a link loop
    (root / "anger" / "synth00_self.png").symlink_to("synth00_self.png")  # a file link loop: listed, fails at read
    outside = tmp_path / "more_fear"
    outside.mkdir()
    (outside / "synth09_500.png").write_bytes(_encoded(np.full((16, 16), 7, np.uint8), "PNG"))
    (root / "fear" / "linked").symlink_to(outside)  # a folder link: followed
    odd = _non_utf8_name(root / "sadness", b"caf\xe9_synth01_600.png")
    with open(odd, "wb") as fh:
        fh.write(_encoded(np.full((16, 16), 9, np.uint8), "PNG"))

    ds = load_folder(root, subjects=r"^(?:caf._)?(synth\d+)_")
    assert len(ds) == 14 + 3  # the synthetic set, the looping file link, the linked image and the non-UTF-8 one
    assert str(root / "fear" / "linked" / "synth09_500.png") in ds.paths and odd in ds.paths
    reasons = {os.path.relpath(p, root): r for p, r in ds.skipped}
    assert reasons == {
        "anger/loop": f"symbolic link to a folder already indexed ({root / 'anger'}), not followed",
        "contempt": "class folder without images",
    }
    assert ds.groups[ds.paths.index(odd)] == "synth01"
    text = ds.describe()
    text.encode("utf-8")  # printable on a UTF-8 console
    with pytest.warns(SkippedImagesWarning, match=r"synth00_self\.png' \(Too many levels of symbolic links\)"):
        images, kept = ds.read_images(on_error="skip")
    assert len(images) == len(kept) == 16
    assert kept.skipped[-1] == (str(root / "anger" / "synth00_self.png"), "Too many levels of symbolic links")


def test_root_link_loop_is_not_a_class(tmp_path):
    root = write_face_folder(tmp_path / "faces")
    (root / "zz_all").symlink_to(root)
    ds = load_folder(root)
    assert "zz_all" not in ds.classes and len(ds) == 14
    assert (str(root / "zz_all"), f"symbolic link to a folder already indexed ({root}), not followed") in ds.skipped


def test_dataset_skips_tiny_images_with_the_reason(tmp_path, files):
    root = write_face_folder(tmp_path / "faces")
    for name in ("1x1.png", "zero.png", "10x10.png"):
        (root / "anger" / name).write_bytes(files[name].read_bytes())
    ds = load_folder(root, subjects=None)
    with pytest.warns(SkippedImagesWarning) as rec:
        images, kept = ds.read_images(on_error="skip")
    assert len(images) == len(kept) == 15  # 10x10 is kept: it may hold a face (the aligner will say)
    assert [(os.path.basename(p), r) for p, r in kept.skipped] == [
        ("zero.png", "empty file (0 bytes)"),
        ("1x1.png", "1x1 px is too small to hold a face (at least 8x8 px)"),
    ]
    assert [str(w.message).split(":")[0] for w in rec] == [
        "skipped 1 of 17 images that could not be read", "skipped 1 of 17 images too small to hold a face"]
    with pytest.raises(ValueError, match=r"image '.*anger/1x1\.png': 1x1 px is too small"):
        ds.subset([ds.paths.index(str(root / "anger" / "1x1.png"))]).read_images()
    with pytest.warns(SkippedImagesWarning, match="zero.png"):  # only the unreadable file now
        assert len(ds.read_images(on_error="skip", min_side=0)[0]) == 16


# ------------------------------------------------------------- FaceAligner
def test_aligner_on_every_readable_file_kind(files):
    names = sorted(set(NO_FACE) | set(FACE_KINDS))
    with pytest.warns(NoFaceWarning) as rec:
        batch = FaceAligner(size=48).fit_transform([files[n] for n in names])
    found = dict(zip(names, batch.face_found.tolist()))
    assert found == {n: n in FACE_KINDS for n in names}
    msg = str(rec[0].message)
    assert msg.startswith(f"no face detected in {len(NO_FACE)} of {len(names)} images, aligned by a fallback")
    missed = [str(files[n]) for n in names if n in NO_FACE]
    assert msg.endswith(": " + ", ".join(missed[:5]) + " and 1 more")  # the first five are named
    assert batch.sources == [str(files[n]) for n in names]
    # of two faces the largest is aligned; here they are equal and the detector returns the left one first
    two = names.index("two_faces.png")
    eye_x = batch.transforms[two]
    src_eyes = np.linalg.solve(eye_x[:, :2], (batch.landmarks[two][36:48] - eye_x[:, 2]).T).T
    assert (src_eyes[:, 0] < 140).all() or (src_eyes[:, 0] >= 140).all()  # one face, not a mix of both


def test_aligner_names_the_file_it_refuses(files):
    with pytest.raises(ValueError, match=rf"'{files['1x1.png']}': 1x1 px is too small to hold a face"):
        FaceAligner().fit_transform([files["black.png"], files["1x1.png"]])
    with pytest.raises(ImageReadError, match=rf"cannot read image '{files['page.png']}': not an image"):
        FaceAligner().fit_transform([files["page.png"]])


def test_aligner_takes_non_utf8_names_as_bytes_or_str(tmp_path):
    name = _non_utf8_name(tmp_path, b"caf\xe9.png")
    with open(name, "wb") as fh:
        fh.write(_encoded(_face(), "PNG"))
    batch = FaceAligner(size=32).fit_transform([os.fsencode(name), name])
    assert batch.face_found.tolist() == [True, True] and batch.sources == [name, name]
    np.testing.assert_array_equal(batch.images[0], batch.images[1])


@pytest.mark.parametrize("image, error, message", [
    (np.full((32, 32), np.nan), TypeError, r"image\[0\]: FaceAligner needs uint8 images, got float64"),
    (np.ones((32, 32), bool), TypeError, "needs uint8 images, got bool"),
    (np.zeros((32, 32, 4), np.uint8), ValueError, r"image\[0\]: expected shape \(h, w\) or \(h, w, 3\), got "
                                                  r"\(32, 32, 4\)"),
    (None, TypeError, r"image\[0\]: expected an image array or a file path, got NoneType"),
])
def test_aligner_refuses_bad_arrays(image, error, message):
    with pytest.raises(error, match=message):
        FaceAligner().fit_transform([image])


def test_aligner_takes_one_channel_images_as_gray():
    face = np.asarray(Image.fromarray(_face()).convert("L"))
    batch = FaceAligner(size=32).fit_transform([face[..., None], face])
    np.testing.assert_array_equal(batch.images[0], batch.images[1])


@pytest.mark.parametrize("gray, error, message", [
    (np.full((64, 64), np.nan), TypeError, "a uint8 gray image is needed, got dtype float64"),
    (np.zeros((64, 64), np.float32), TypeError, "got dtype float32"),
    (np.zeros((64, 64, 3), np.uint8), ValueError, r"gray image of shape \(h, w\) is needed, got shape \(64, 64, 3\)"),
    (np.zeros((0, 64), np.uint8), ValueError, r"non-empty image is needed, got shape \(0, 64\)"),
])
def test_detect_landmarks_validates_before_dlib(gray, error, message):
    with pytest.raises(error, match=message):
        detect_landmarks(gray)


def test_detect_landmarks_on_a_single_pixel():
    pts, status = detect_landmarks(np.zeros((1, 1), np.uint8))
    assert status == 1 and pts.shape == (68, 2)  # WHOLE_IMAGE: no face, no crash


# --------------------------------------------------------------- extractors
IMAGE_EXTRACTORS = {
    "lbp": lambda: LBPHistogram(grid=(2, 2)),
    "hog": lambda: HOGFeatures(pixels_per_cell=(8, 8)),
    "gabor": lambda: GaborFeatures(n_scales=2, n_orientations=2, grid=(2, 2)),
    "deep": lambda: DeepEmbedding(backbone="mobilenet_v2", weights=None, input_size=32, n_threads=1),
}
BAD_IMAGES = [
    ("nan", np.full((2, 32, 32), np.nan), ValueError, "image 0: contains NaN or infinite values"),
    ("inf", np.stack([np.zeros((32, 32)), np.full((32, 32), np.inf)]), ValueError,
     "image 1: contains NaN or infinite values"),
    ("bool", np.ones((2, 32, 32), bool), TypeError, "image 0: dtype bool is not a real-valued image type"),
    ("complex", np.zeros((2, 32, 32), complex), TypeError, "dtype complex128 is not a real-valued image type"),
    ("rgba", np.zeros((2, 32, 32, 4), np.uint8), ValueError,
     r"image 0: expected shape \(h, w\) or \(h, w, 3\), got \(32, 32, 4\)"),
    ("empty array", np.zeros((0, 32, 32), np.uint8), ValueError, "empty batch: at least one image is needed"),
    ("empty list", [], ValueError, "empty batch: at least one image is needed"),
    ("zero height", [np.zeros((0, 5))], ValueError, r"image 0: empty image of shape \(0, 5\)"),
    ("a path", "face.png", TypeError, "expected a batch of images"),
]


@pytest.mark.parametrize("kind, X, error, message", BAD_IMAGES, ids=[b[0] for b in BAD_IMAGES])
@pytest.mark.parametrize("name", list(IMAGE_EXTRACTORS))
def test_image_extractors_refuse_bad_arrays(name, kind, X, error, message):
    est = IMAGE_EXTRACTORS[name]()
    with pytest.raises(error, match=message):
        est.fit_transform(X)
    if kind == "nan":
        with pytest.raises(error, match=message):
            check_images(X)


@pytest.mark.parametrize("name", list(IMAGE_EXTRACTORS))
def test_float_in_0_255_is_taken_at_face_value(name):
    faces = np.random.default_rng(0).integers(0, 256, (2, 32, 32)).astype(np.uint8)
    est = IMAGE_EXTRACTORS[name]()
    np.testing.assert_allclose(est.fit_transform(faces.astype(float)), est.fit_transform(faces), rtol=1e-6)
    np.testing.assert_allclose(est.fit_transform(faces[..., None]), est.fit_transform(faces), rtol=1e-6)


def test_deep_embedding_names_the_image_across_chunks():
    est = DeepEmbedding(weights=None, input_size=32, batch_size=2, n_threads=1)
    X = [np.zeros((8, 8), np.uint8)] * 3 + [np.full((8, 8), np.nan)]
    with pytest.raises(ValueError, match="^image 3: contains NaN"):
        est.fit_transform(X)


LANDMARK_EXTRACTORS = {"geometry": LandmarkGeometry, "asm": lambda: ASMShape(n_components=2)}
BAD_LANDMARKS = [
    ("images", np.zeros((2, 32, 32)), ValueError, r"shape \(n, n_points, 2\), got .*\(2, 32, 32\)"),
    ("nan", np.full((2, 68, 2), np.nan), ValueError, "NaN"),
    ("empty list", [], ValueError, "empty batch: at least one face is needed"),
    ("ragged", [np.zeros((68, 2)), np.zeros((5, 2))], ValueError, "faces with different numbers of points"),
]


@pytest.mark.parametrize("kind, X, error, message", BAD_LANDMARKS, ids=[b[0] for b in BAD_LANDMARKS])
@pytest.mark.parametrize("name", list(LANDMARK_EXTRACTORS))
def test_landmark_extractors_refuse_bad_input(name, kind, X, error, message):
    with pytest.raises(error, match=message):
        LANDMARK_EXTRACTORS[name]().fit_transform(X)


# ---------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def messy_folder(tmp_path_factory, files):
    """The synthetic set plus bad files inside the class folders and a stray at the root."""
    root = write_face_folder(tmp_path_factory.mktemp("messy"))
    for name in ("zero.png", "text.jpg", "page.png", "1x1.png", "black.png"):
        (root / "anger" / f"synth00_{name}").write_bytes(files[name].read_bytes())
    (root / "README.txt").write_text("faces")
    return root


@pytest.fixture(scope="module")
def odd_name_folder(tmp_path_factory):
    """The synthetic set plus an empty file whose name is not UTF-8."""
    root = write_face_folder(tmp_path_factory.mktemp("odd"))
    with open(_non_utf8_name(root / "fear", b"synth01_caf\xe9.png"), "wb"):
        pass
    return root


MESSY_SKIPS = {
    "README.txt": "not inside a class folder",
    "anger/synth00_zero.png": "empty file (0 bytes)",
    "anger/synth00_text.jpg": "not an image: the file contains text",
    "anger/synth00_page.png": UNREADABLE["page.png"][1],
    "anger/synth00_1x1.png": "1x1 px is too small to hold a face (at least 8x8 px)",
}


def _benchmark(folder, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        warnings.simplefilter("ignore", NoFaceWarning)  # the black image; the aligner sees arrays here
        code = main(["benchmark", str(folder), "--pipelines", "lbp-linear", *SUBJECTS, "--out", str(out),
                     "--quiet", "--no-cache"])
    return code, out / "results.json"


def _fit(folder, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        warnings.simplefilter("ignore", NoFaceWarning)
        return main(["fit", str(folder), "--pipeline", "lbp-linear", "--out", str(out), *SUBJECTS,
                     "--quiet", "--no-cache"])


def test_cli_benchmark_lists_every_left_out_file(messy_folder, tmp_path, capsys):
    code, results = _benchmark(messy_folder, tmp_path / "res")
    assert code == 0
    res = json.loads(results.read_text())
    skipped = {os.path.relpath(s["path"], messy_folder): s["reason"] for s in res["dataset"]["skipped"]}
    assert skipped == MESSY_SKIPS
    assert res["dataset"]["n_images"] == 15  # 14 synthetic + the black image
    assert "- 5 files skipped while reading (listed in results.json)" in (results.parent / "results.md").read_text()
    out = capsys.readouterr().out
    assert "5 files skipped while reading" in out and "all in results.json" in out
    # the black image is aligned by the fallback and named
    [missed] = res["pipelines"]["lbp-linear"]["faces_not_found"]["files"]
    assert f"no face detected in 1 of 15 images (aligned by the fallback crop), e.g. {missed}" in out


def test_cli_fit_reports_left_out_files(messy_folder, odd_name_folder, tmp_path, capsys):
    assert _fit(messy_folder, tmp_path / "m.facefeat") == 1  # some images left out
    captured = capsys.readouterr()
    assert "fitted lbp-linear on 15 images" in captured.out
    # README.txt is not an image: load_folder lists it, only images left out are reported
    assert "\nleft out 4 images: " in "\n" + captured.err
    assert f"{messy_folder / 'anger' / 'synth00_1x1.png'}: 1x1 px is too small to hold a face" in captured.err
    assert _fit(odd_name_folder, tmp_path / "odd.facefeat") == 1
    assert capsys.readouterr().err.endswith(
        f"left out 1 image: {odd_name_folder / 'fear'}/synth01_caf\\xe9.png: empty file (0 bytes)\n")


def test_cli_benchmark_with_a_non_utf8_file_name(odd_name_folder, tmp_path, capsys):
    code, results = _benchmark(odd_name_folder, tmp_path / "res")
    assert code == 0, capsys.readouterr().err
    res = json.loads(results.read_bytes().decode("utf-8", "surrogateescape"))
    # the empty, oddly named file is skipped and named (escaped) in the results
    assert res["dataset"]["n_images"] == 14
    [skipped] = res["dataset"]["skipped"]
    assert skipped["path"].endswith("synth01_caf\udce9.png") and "empty file" in skipped["reason"]


@pytest.fixture(scope="module")
def model(messy_folder, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.facefeat"
    assert _fit(messy_folder, path) == 1  # some images left out
    return path


def test_cli_predict_gives_every_file_a_record(model, files, capsys):
    names = ["zero.png", "truncated.jpg", "bomb.png", "1x1.png", "black.png", "coffee.jpg", "cmyk.jpg"]
    assert main(["predict", str(model), *(str(files[n]) for n in names)]) == 1  # 4 could not be read
    captured = capsys.readouterr()
    records = {os.path.basename(r["path"]): r for r in map(json.loads, captured.out.splitlines())}
    assert list(records) == names
    assert records["zero.png"]["error"] == f"cannot read image '{files['zero.png']}': empty file (0 bytes)"
    assert "possible decompression bomb" in records["bomb.png"]["error"]
    assert records["1x1.png"]["error"].endswith("1x1 px is too small to hold a face (at least 8x8 px)")
    assert [records[n]["face_found"] for n in ("black.png", "coffee.jpg", "cmyk.jpg")] == [False, False, True]
    assert all("label" in records[n] for n in ("black.png", "coffee.jpg", "cmyk.jpg"))
    assert "4 of 7 files could not be read" in captured.err
    assert main(["predict", str(model), str(files["1x1.png"]), "--on-error", "raise"]) == 2
    assert f"{files['1x1.png']}': 1x1 px is too small" in capsys.readouterr().err


def test_cli_predict_csv_with_a_non_utf8_name(model, tmp_path):
    name = _non_utf8_name(tmp_path, b"caf\xe9.png")
    with open(name, "wb") as fh:
        fh.write(_encoded(_face(), "PNG"))
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(tmp_path), "--format", "csv", "--output", str(out)]) == 0
    row = out.read_text(encoding="utf-8").splitlines()[1]
    assert row.startswith(f"{tmp_path}/caf\\xe9.png,") and ",True," in row


def test_cli_landmarks_on_bad_files(files, capsys):
    names = ["zero.png", "page.png", "1x1.png", "white.png", "cmyk.jpg"]
    assert main(["landmarks", *(str(files[n]) for n in names)]) == 1  # 2 could not be read
    captured = capsys.readouterr()
    records = {os.path.basename(r["path"]): r for r in map(json.loads, captured.out.splitlines())}
    assert records["zero.png"] == {"path": str(files["zero.png"]), "face_found": False, "landmarks": None,
                                   "error": f"cannot read image '{files['zero.png']}': empty file (0 bytes)"}
    assert "contains HTML" in records["page.png"]["error"]
    for n in ("1x1.png", "white.png"):
        assert records[n] == {"path": str(files[n]), "face_found": False, "landmarks": None}
    assert records["cmyk.jpg"]["face_found"] is True and len(records["cmyk.jpg"]["landmarks"]) == 68
    assert "no face detected in 2 of 5 images" in captured.err and "2 of 5 files could not be read" in captured.err
