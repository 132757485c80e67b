"""Tests for facefeat.images.io: every file is generated in tmp_path, none is committed."""

import errno
import math
import os
import pickle
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from conftest import png_bytes
from facefeat.images.io import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    DecompressionBombError,
    ImageReadError,
    ReadResult,
    SkippedImagesWarning,
    is_image_file,
    read_image,
    read_images,
)


# ------------------------------------------------------------------ helpers
def _gradient(h=24, w=32):
    y, x = np.mgrid[0:h, 0:w]
    return ((x * 7 + y * 3) % 256).astype(np.uint8)


def _colour(h=24, w=32):
    g = _gradient(h, w)
    return np.stack([g, 255 - g, (g // 2 + 60).astype(np.uint8)], axis=2)


def _luma(rgb):
    """What Pillow's 'L' conversion gives for an RGB array."""
    return np.asarray(Image.fromarray(rgb).convert("L"))


def _save(path, array_or_image, **kw):
    im = array_or_image
    if not isinstance(im, Image.Image):
        im = Image.fromarray(im)
    im.save(path, **kw)
    return path


# ------------------------------------------------------------ round trips
def test_png_gray_exact(tmp_path):
    g = _gradient()
    out = read_image(_save(tmp_path / "g.png", g))
    assert out.dtype == np.uint8 and out.shape == g.shape
    np.testing.assert_array_equal(out, g)
    rgb = read_image(tmp_path / "g.png", mode="rgb")
    assert rgb.shape == g.shape + (3,)
    np.testing.assert_array_equal(rgb, np.repeat(g[:, :, None], 3, axis=2))


def test_png_rgb_exact_and_gray_is_pillow_luma(tmp_path):
    c = _colour()
    path = _save(tmp_path / "c.png", c)
    np.testing.assert_array_equal(read_image(path, mode="rgb"), c)
    np.testing.assert_array_equal(read_image(path), _luma(c))
    # ITU-R 601-2: pure red, green, blue
    prim = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    assert read_image(_save(tmp_path / "p.png", prim)).tolist() == [[76, 150, 29]]  # rounded


def test_result_is_writable_and_contiguous(tmp_path):
    out = read_image(_save(tmp_path / "c.png", _colour()), mode="rgb")
    assert out.flags.writeable and out.flags.c_contiguous
    out[0, 0] = 0


def test_rgba_composited_on_white(tmp_path):
    a = np.zeros((4, 3, 4), dtype=np.uint8)
    a[0] = (255, 0, 0, 255)  # opaque red
    a[1] = (255, 0, 0, 0)  # fully transparent -> white
    a[2] = (0, 0, 0, 128)  # half-transparent black -> about mid gray
    a[3] = (0, 0, 255, 255)
    path = _save(tmp_path / "a.png", a)
    assert Image.open(path).mode == "RGBA"
    rgb = read_image(path, mode="rgb")
    assert rgb[0, 0].tolist() == [255, 0, 0]
    assert rgb[1, 0].tolist() == [255, 255, 255]
    assert abs(int(rgb[2, 0, 0]) - 127) <= 1 and len(set(rgb[2, 0].tolist())) == 1
    assert rgb[3, 0].tolist() == [0, 0, 255]
    gray = read_image(path)
    assert gray[1, 0] == 255 and gray[0, 0] == 76


def test_la_and_palette_transparency_on_white(tmp_path):
    la = np.zeros((2, 2, 2), dtype=np.uint8)
    la[0] = (10, 255)
    la[1] = (10, 0)
    path = tmp_path / "la.png"
    Image.merge("LA", [Image.fromarray(la[..., 0]), Image.fromarray(la[..., 1])]).save(path)
    assert Image.open(path).mode == "LA"
    assert read_image(path).tolist() == [[10, 10], [255, 255]]

    p = Image.new("P", (2, 1))
    p.putpalette([0, 0, 0, 200, 10, 10] + [0] * (256 * 3 - 6))
    p.putpixel((0, 0), 0)
    p.putpixel((1, 0), 1)
    p.save(tmp_path / "pt.png", transparency=0)
    out = read_image(tmp_path / "pt.png", mode="rgb")
    assert out.tolist() == [[[255, 255, 255], [200, 10, 10]]]


def test_jpeg_roundtrip(tmp_path):
    c = _colour(48, 64)
    path = _save(tmp_path / "c.jpg", c, quality=95)
    rgb = read_image(path, mode="rgb")
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    assert np.abs(rgb.astype(int) - c).mean() < 6
    assert read_image(path).shape == (48, 64)


def test_cmyk_jpeg(tmp_path):
    c = np.zeros((16, 16, 3), dtype=np.uint8)
    c[:8] = (200, 30, 30)
    c[8:] = (20, 40, 220)
    path = _save(tmp_path / "cmyk.jpg", Image.fromarray(c).convert("CMYK"), quality=95)
    assert Image.open(path).mode == "CMYK"
    rgb = read_image(path, mode="rgb")
    assert rgb.shape == (16, 16, 3)
    assert np.abs(rgb[2:6, 2:14].astype(int) - [200, 30, 30]).max() <= 12
    assert np.abs(rgb[10:14, 2:14].astype(int) - [20, 40, 220]).max() <= 12
    assert read_image(path).shape == (16, 16)


def test_tiff_palette_like_jaffe(tmp_path):
    g = _gradient()
    im = Image.frombytes("P", (g.shape[1], g.shape[0]), g.tobytes())  # gray levels via a palette
    im.putpalette([v for i in range(256) for v in (i, i, i)])
    path = _save(tmp_path / "KA.AN1.39.tiff", im)
    assert Image.open(path).mode == "P"
    np.testing.assert_array_equal(read_image(path), g)
    np.testing.assert_array_equal(read_image(path, mode="rgb")[..., 1], g)


def test_tiff_palette_colour(tmp_path):
    c = _colour()
    im = Image.fromarray(c).quantize(16)
    path = _save(tmp_path / "pc.tif", im)
    assert Image.open(path).mode == "P"
    expected = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(read_image(path, mode="rgb"), expected)
    np.testing.assert_array_equal(read_image(path), _luma(expected))


SIXTEEN = np.array(
    [[0, 1, 128, 129, 256, 257], [1000, 32767, 32896, 40000, 65534, 65535]], dtype=np.uint16
)
SIXTEEN_8 = np.round(SIXTEEN / 257).astype(np.uint8)


@pytest.mark.parametrize("ext", ["png", "tif"])
def test_16bit_scaled_exactly(tmp_path, ext):
    path = _save(tmp_path / f"d16.{ext}", SIXTEEN)
    assert Image.open(path).mode.startswith("I")
    out = read_image(path)
    np.testing.assert_array_equal(out, SIXTEEN_8)
    assert out[1, 5] == 255 and out[0, 5] == 1 and out[1, 2] == 128  # not clipped
    np.testing.assert_array_equal(read_image(path, mode="rgb")[..., 2], SIXTEEN_8)


def test_16bit_pgm(tmp_path):
    path = _save(tmp_path / "d16.pgm", SIXTEEN)
    np.testing.assert_array_equal(read_image(path), SIXTEEN_8)


def test_32bit_int_in_16bit_range_scaled_by_257(tmp_path):
    path = _save(tmp_path / "i32.tif", SIXTEEN.astype(np.int32))
    assert Image.open(path).mode == "I"
    np.testing.assert_array_equal(read_image(path), SIXTEEN_8)


def test_32bit_int_outside_16bit_range_stretched(tmp_path):
    a = np.array([[-1000, 0], [100000, 200000]], dtype=np.int32)
    out = read_image(_save(tmp_path / "i32.tif", a))
    expected = np.rint((a - a.min()) * 255.0 / (a.max() - a.min())).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)


def test_float_stretched_by_actual_range(tmp_path):
    a = np.array([[0.25, 0.5], [0.75, 1.25]], dtype=np.float32)
    out = read_image(_save(tmp_path / "f.tif", a))
    assert out.tolist() == [[0, 64], [128, 255]]
    b = np.array([[np.nan, 1.0], [2.0, 3.0]], dtype=np.float32)
    assert read_image(_save(tmp_path / "nan.tif", b)).tolist() == [[0, 0], [128, 255]]
    flat = np.full((2, 2), 7.5, dtype=np.float32)
    assert read_image(_save(tmp_path / "flat.tif", flat)).tolist() == [[0, 0], [0, 0]]


def test_gif_first_frame(tmp_path):
    f0 = np.full((8, 8), 30, dtype=np.uint8)
    f0[:4] = 200
    f1 = np.full((8, 8), 90, dtype=np.uint8)
    path = tmp_path / "anim.gif"
    Image.fromarray(f0).save(path, save_all=True, append_images=[Image.fromarray(f1)])
    assert Image.open(path).n_frames == 2
    np.testing.assert_array_equal(read_image(path), f0)


def test_bmp_webp_ppm_exact(tmp_path):
    c = _colour()
    for name, kw in [("c.bmp", {}), ("c.webp", {"lossless": True}), ("c.ppm", {})]:
        np.testing.assert_array_equal(read_image(_save(tmp_path / name, c, **kw), mode="rgb"), c)
    g = _gradient()
    np.testing.assert_array_equal(read_image(_save(tmp_path / "g.pgm", g)), g)


def test_one_bit(tmp_path):
    b = np.array([[0, 255, 0], [255, 255, 0]], dtype=np.uint8)
    path = tmp_path / "b.png"
    Image.fromarray(b).convert("1").save(path)
    assert Image.open(path).mode == "1"
    assert read_image(path).tolist() == b.tolist()
    assert read_image(path, mode="rgb")[0, 1].tolist() == [255, 255, 255]


def test_pathlib_str_and_bytes_paths(tmp_path):
    path = _save(tmp_path / "g.png", _gradient())
    for p in (path, str(path), os.fsencode(path)):
        np.testing.assert_array_equal(read_image(p), _gradient())


def test_extension_does_not_matter(tmp_path):
    path = tmp_path / "really_a_png.jpg"
    path.write_bytes((_save(tmp_path / "g.png", _gradient())).read_bytes())
    np.testing.assert_array_equal(read_image(path), _gradient())


def test_bad_mode_is_value_error(tmp_path):
    path = _save(tmp_path / "g.png", _gradient())
    with pytest.raises(ValueError, match="'gray', 'rgb'"):
        read_image(path, mode="RGB")


# ------------------------------------------------------- EXIF orientation
def _marker(h=40, w=60):
    a = np.zeros((h, w), dtype=np.uint8)
    a[:12, :12] = 255  # marker in the stored top-left corner
    return a


def _bright_corner(img):
    h, w = img.shape
    corners = {
        "top-left": img[:8, :8],
        "top-right": img[:8, w - 8 :],
        "bottom-left": img[h - 8 :, :8],
        "bottom-right": img[h - 8 :, w - 8 :],
    }
    bright = [k for k, v in corners.items() if v.mean() > 200]
    assert all(v.mean() < 50 for k, v in corners.items() if k not in bright)
    return bright


@pytest.mark.parametrize("ext", ["jpg", "png"])
@pytest.mark.parametrize(
    "orientation, shape, corner",
    [
        (1, (40, 60), "top-left"),
        (3, (40, 60), "bottom-right"),  # rotate 180
        (6, (60, 40), "top-right"),  # rotate 90 clockwise
        (8, (60, 40), "bottom-left"),  # rotate 90 counter-clockwise
    ],
)
def test_exif_orientation(tmp_path, ext, orientation, shape, corner):
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.{ext}"
    kw = {"quality": 95} if ext == "jpg" else {}
    Image.fromarray(_marker()).save(path, exif=exif.tobytes(), **kw)
    out = read_image(path)
    assert out.shape == shape
    assert _bright_corner(out) == [corner]
    assert read_image(path, mode="rgb").shape == shape + (3,)


# ----------------------------------------------------------- bad inputs
def _assert_names(exc_info, path):
    err = exc_info.value
    assert isinstance(err, OSError)
    assert err.path == os.fsdecode(path) == err.filename
    assert str(err).startswith(f"cannot read image '{os.fsdecode(path)}': ")
    assert str(err).endswith(err.reason)
    return err.reason


def test_missing_file(tmp_path):
    path = tmp_path / "nope.png"
    with pytest.raises(ImageReadError) as ei:
        read_image(path)
    assert _assert_names(ei, path) == "no such file"
    assert ei.value.errno == errno.ENOENT
    assert not isinstance(ei.value, FileNotFoundError)


def test_except_oserror_also_catches(tmp_path):
    try:
        read_image(tmp_path / "nope.png")
    except OSError as err:
        assert "nope.png" in str(err)
    else:  # pragma: no cover
        pytest.fail("no error")


def test_directory(tmp_path):
    with pytest.raises(ImageReadError) as ei:
        read_image(tmp_path)
    assert _assert_names(ei, tmp_path) == "is a directory"


def test_zero_bytes(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError) as ei:
        read_image(path)
    assert "empty" in _assert_names(ei, path)


def test_truncated_jpeg(tmp_path):
    data = _save(tmp_path / "ok.jpg", _colour(64, 64), quality=95).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError) as ei:
        read_image(path)
    assert _assert_names(ei, path) == "truncated JPEG data"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_png(tmp_path):
    rng = np.random.default_rng(0)
    data = _save(tmp_path / "ok.png", rng.integers(0, 256, (64, 64), dtype=np.uint8)).read_bytes()
    for n, expect in [(len(data) // 2, "truncated PNG data"), (20, "PNG")]:
        path = tmp_path / f"cut{n}.png"
        path.write_bytes(data[:n])
        with pytest.raises(ImageReadError) as ei:
            read_image(path)
        assert expect in _assert_names(ei, path)


@pytest.mark.parametrize(
    ("name", "text", "expect"),
    [
        ("notes.jpg", "these are not the pixels you are looking for\n", "text"),
        ("download.png", "<!DOCTYPE html>\n<html><body>403 Forbidden</body></html>\n", "HTML"),
    ],
)
def test_text_named_as_image(tmp_path, name, text, expect):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ImageReadError) as ei:
        read_image(path)
    assert expect in _assert_names(ei, path)


def test_git_lfs_pointer(tmp_path):
    path = tmp_path / "face.png"
    path.write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 1234\n"
    )
    with pytest.raises(ImageReadError, match="git lfs pull"):
        read_image(path)


def test_unsupported_format_is_refused(tmp_path):
    path = tmp_path / "face.ico"
    Image.fromarray(_colour(16, 16)).save(path)
    with pytest.raises(ImageReadError, match="supported format"):
        read_image(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifo_is_not_opened(tmp_path):
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    with pytest.raises(ImageReadError, match="not a regular file"):
        read_image(path)  # would block forever if it were opened


def test_path_of_wrong_type_is_type_error():
    with pytest.raises(TypeError, match="os.PathLike"):
        read_image(3)


def test_errors_pickle(tmp_path):
    with pytest.raises(ImageReadError) as ei:
        read_image(tmp_path / "nope.png")
    err = pickle.loads(pickle.dumps(ei.value))
    assert type(err) is ImageReadError
    assert (err.path, err.reason, err.errno, str(err)) == (
        ei.value.path,
        ei.value.reason,
        errno.ENOENT,
        str(ei.value),
    )
    bomb = pickle.loads(pickle.dumps(DecompressionBombError("b.png", "big", (3, 4), 10)))
    assert type(bomb) is DecompressionBombError
    assert (bomb.path, bomb.reason, bomb.size, bomb.max_pixels) == ("b.png", "big", (3, 4), 10)


# ------------------------------------------------------ decompression bombs
def test_crafted_png_helper_is_valid(tmp_path):
    path = tmp_path / "tiny.png"
    path.write_bytes(png_bytes(3, 2, b"\x00\x01\x02\x03\x00\x04\x05\x06"))
    assert read_image(path).tolist() == [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize(
    "side", [8000, 10000, 60000], ids=["over-ours", "pillow-warns", "pillow-refuses"]
)
def test_decompression_bomb_refused_before_decoding(tmp_path, side):
    path = tmp_path / f"bomb{side}.png"
    path.write_bytes(png_bytes(side, side))
    assert path.stat().st_size < 200
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not escape
        with pytest.raises(DecompressionBombError) as ei:
            read_image(path)
    assert time.perf_counter() - start < 1.0
    err = ei.value
    assert isinstance(err, ImageReadError)
    assert err.size == (side, side)
    assert err.max_pixels == DEFAULT_MAX_PIXELS
    msg = str(err)
    assert msg.startswith(f"cannot read image '{path}': ")
    assert f"{side}x{side}" in msg and f"{side * side:,}" in msg and "50,000,000" in msg


def test_pillow_hard_limit_is_wrapped(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bytes(60000, 60000))
    with pytest.raises(DecompressionBombError) as ei:
        read_image(path, max_pixels=math.inf)  # ours off, Pillow's still refuses
    assert "Pillow" in ei.value.reason and "60000x60000" in str(ei.value)
    assert not isinstance(ei.value.__cause__, DecompressionBombError)
    assert isinstance(ei.value.__cause__, Image.DecompressionBombError)


def test_max_pixels_override(tmp_path):
    path = _save(tmp_path / "g.png", np.zeros((20, 30), dtype=np.uint8))
    with pytest.raises(DecompressionBombError) as ei:
        read_image(path, max_pixels=599)
    assert ei.value.size == (30, 20) and ei.value.max_pixels == 599
    assert read_image(path, max_pixels=600).shape == (20, 30)
    bad_values = [(0, ValueError), (-5, ValueError), (math.nan, ValueError)]
    bad_values += [(True, TypeError), ("9", TypeError)]
    for bad, exc in bad_values:
        with pytest.raises(exc, match="max_pixels"):
            read_image(path, max_pixels=bad)


def test_max_pixels_env_var(tmp_path, monkeypatch):
    path = _save(tmp_path / "g.png", np.zeros((20, 30), dtype=np.uint8))
    monkeypatch.setenv("FACEFEAT_MAX_PIXELS", "100")
    with pytest.raises(DecompressionBombError, match="FACEFEAT_MAX_PIXELS"):
        read_image(path)
    assert read_image(path, max_pixels=1000).shape == (20, 30)  # argument wins
    monkeypatch.setenv("FACEFEAT_MAX_PIXELS", "1_000")
    assert read_image(path).shape == (20, 30)
    monkeypatch.setenv("FACEFEAT_MAX_PIXELS", "lots")
    with pytest.raises(ValueError, match="FACEFEAT_MAX_PIXELS"):
        read_image(path)
    monkeypatch.setenv("FACEFEAT_MAX_PIXELS", "")
    assert read_image(path).shape == (20, 30)


# ------------------------------------------------------------- read_images
def _mixed(tmp_path):
    good = [
        _save(tmp_path / f"g{i}.png", np.full((4, 5), i * 10, dtype=np.uint8)) for i in range(3)
    ]
    missing = tmp_path / "missing.png"
    cut = tmp_path / "cut.jpg"
    data = _save(tmp_path / "full.jpg", _colour(64, 64)).read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return [good[0], missing, good[1], cut, tmp_path, good[2]], good


def test_read_images_skip(tmp_path):
    paths, good = _mixed(tmp_path)
    with pytest.warns(SkippedImagesWarning) as rec:
        res = read_images(paths, on_error="skip")
    assert isinstance(res, ReadResult)
    assert res.indices == [0, 2, 5]
    assert res.paths == [str(p) for p in good]
    assert [int(im[0, 0]) for im in res.images] == [0, 10, 20]
    assert [p for p, _ in res.skipped] == [str(paths[1]), str(paths[3]), str(paths[4])]
    assert [r for _, r in res.skipped] == ["no such file", "truncated JPEG data", "is a directory"]
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert msg.startswith("skipped 3 of 6 images")
    for p in (paths[1], paths[3], paths[4]):
        assert f"'{p}'" in msg
    assert issubclass(SkippedImagesWarning, UserWarning)
    assert rec[0].filename == __file__  # attributed to the caller


def test_read_images_skip_names_first_ten(tmp_path):
    paths = [tmp_path / f"m{i:02d}.png" for i in range(13)]
    with pytest.warns(SkippedImagesWarning) as rec:
        res = read_images(paths, on_error="skip")
    assert res.images == [] and len(res.skipped) == 13
    msg = str(rec[0].message)
    assert "m09.png" in msg and "m10.png" not in msg and "and 3 more" in msg


def test_read_images_raise_on_first_bad(tmp_path):
    paths, _ = _mixed(tmp_path)
    with pytest.raises(ImageReadError) as ei:
        read_images(paths)
    assert ei.value.path == str(paths[1])
    assert ei.value.reason == "no such file"


def test_read_images_all_good_no_warning(tmp_path):
    paths = [_save(tmp_path / f"c{i}.png", _colour()) for i in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = read_images(iter(paths), mode="rgb", on_error="skip")
    assert res.indices == [0, 1] and res.skipped == []
    assert all(im.shape == (24, 32, 3) for im in res.images)
    assert read_images([]) == ReadResult()


def test_read_images_arguments(tmp_path):
    with pytest.raises(ValueError, match="'raise', 'skip'"):
        read_images([], on_error="ignore")
    with pytest.raises(ValueError, match="mode"):
        read_images([], mode="bgr")
    with pytest.raises(TypeError, match="single path"):
        read_images(str(tmp_path / "a.png"))


def test_read_images_bomb_is_skipped(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bytes(60000, 60000))
    ok = _save(tmp_path / "ok.png", _gradient())
    with pytest.warns(SkippedImagesWarning, match="bomb.png"):
        res = read_images([bomb, ok], on_error="skip")
    assert res.indices == [1]


def test_read_images_progress(tmp_path, capsys):
    paths = [_save(tmp_path / f"g{i}.png", _gradient()) for i in range(3)]
    res = read_images(paths, progress=True)
    assert len(res.images) == 3
    assert "reading images" in capsys.readouterr().err


# ------------------------------------------------------- non-UTF-8 names
def _bytes_dir(tmp_path):
    if sys.platform == "win32" or sys.platform == "darwin":
        pytest.skip("file system stores names as Unicode")
    return os.fsencode(tmp_path)


def test_non_utf8_file_name(tmp_path):
    base = _bytes_dir(tmp_path)
    name = os.path.join(base, b"face_\xff\xfe.png")
    try:
        with open(name, "wb") as fh:
            Image.fromarray(_gradient()).save(fh, format="PNG")
    except (OSError, UnicodeError) as exc:
        pytest.skip(f"file system refuses non-UTF-8 names: {exc}")
    as_str = os.fsdecode(name)  # surrogate-escaped
    for p in (name, as_str, Path(as_str)):
        np.testing.assert_array_equal(read_image(p), _gradient())
    with pytest.warns(SkippedImagesWarning, match=r"gone_\\xff\.png"):
        res = read_images([name, os.path.join(base, b"gone_\xff.png")], on_error="skip")
    assert res.paths == [as_str] and res.indices == [0]
    bad_path, reason = res.skipped[0]
    assert os.fsencode(bad_path).endswith(b"gone_\xff.png") and reason == "no such file"


def test_non_utf8_name_message_is_printable(tmp_path):
    name = os.path.join(_bytes_dir(tmp_path), b"gone_\xff.png")
    with pytest.raises(ImageReadError) as ei:
        read_image(name)
    msg = str(ei.value)
    msg.encode("utf-8")  # no lone surrogates in the message
    assert "gone_\\xff.png" in msg
    assert os.fsencode(ei.value.path) == name


# ------------------------------------------------------------ is_image_file
@pytest.mark.parametrize(
    "name, expected",
    [
        ("a.png", True),
        ("dir/S005_001.PNG", True),
        ("KA.AN1.39.tiff", True),
        ("x.JpEg", True),
        ("x.webp", True),
        ("x.pgm", True),
        ("labels.txt", False),
        ("archive.png.zip", False),
        ("noext", False),
        (".png", False),
        ("._face.jpg", False),
        ("dir/.hidden.jpg", False),
        ("dir.png/", False),
        (b"face_\xff.jpg", True),
        (Path("d") / "f.bmp", True),
    ],
)
def test_is_image_file(name, expected):
    assert is_image_file(name) is expected


def test_image_extensions():
    assert IMAGE_EXTENSIONS == frozenset(
        {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp", ".webp", ".pgm", ".ppm"}
    )
    assert all(e == e.lower() and e.startswith(".") for e in IMAGE_EXTENSIONS)


# ---------------------------------------------------------------- property
_settings = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _only_array_or_read_error(path, data):
    path.write_bytes(data)
    try:
        out = read_image(path, max_pixels=1_000_000)
    except ImageReadError as err:
        assert str(err).startswith("cannot read image '")
        return
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.ndim == 2


# Pillow's own warnings about corrupt metadata (e.g. EXIF) may pass through.
@pytest.mark.filterwarnings("ignore::UserWarning:PIL")
@_settings
@given(data=st.binary(max_size=2048))
def test_random_bytes_array_or_read_error(tmp_path, data):
    _only_array_or_read_error(tmp_path / "random.jpg", data)


@pytest.mark.filterwarnings("ignore::UserWarning:PIL")
@_settings
@given(
    prefix=st.sampled_from(
        [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"II*\x00", b"MM\x00*"]
        + [b"BM", b"P5\n", b"RIFF"]
    ),
    data=st.binary(max_size=1024),
)
def test_random_bytes_after_magic_array_or_read_error(tmp_path, prefix, data):
    _only_array_or_read_error(tmp_path / "random.png", prefix + data)
