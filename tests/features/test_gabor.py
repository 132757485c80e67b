"""Gabor bank: FFT responses against direct convolution, pooling, landmarks, the transformer contract."""

import pickle

import numpy as np
import pytest
from scipy import ndimage
from scipy.signal import convolve2d
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from facefeat.faces.batch import FaceBatch
from facefeat.features.gabor import GaborFeatures, gabor_kernel, gabor_responses

RNG = np.random.default_rng(3)
SMALL = RNG.normal(100, 30, size=(18, 23))


def _direct(image, k, theta, boundary):
    kern = gabor_kernel(k, theta)
    return np.abs(convolve2d(image, kern, mode="same", boundary={"symmetric": "symm", "zero": "fill"}[boundary]))


@pytest.mark.parametrize("boundary", ["symmetric", "zero"])
def test_responses_equal_direct_convolution(boundary):
    # 3 scales: the coarsest kernel (radius 24) is larger than the 18 x 23 image
    mags = gabor_responses(SMALL, n_scales=3, n_orientations=4, boundary=boundary)
    assert mags.shape == (3, 4, 18, 23) and mags.dtype == np.float32
    for s in range(3):
        for o in range(4):
            direct = _direct(SMALL, np.pi / 2 / np.sqrt(2) ** s, np.pi * o / 4, boundary)
            np.testing.assert_allclose(mags[s, o], direct, rtol=0, atol=2e-6 * direct.max())


def test_responses_equal_ndimage_convolution():
    image = RNG.normal(100, 30, size=(50, 45))
    kern = gabor_kernel(np.pi / 4, 3 * np.pi / 8)
    # scipy.ndimage's 'reflect' repeats the edge pixel, like np.pad's 'symmetric'
    direct = np.hypot(ndimage.convolve(image, kern.real, mode="reflect"),
                      ndimage.convolve(image, kern.imag, mode="reflect"))
    mags = gabor_responses(image, n_scales=3, n_orientations=8)
    np.testing.assert_allclose(mags[2, 3], direct, rtol=0, atol=2e-6 * direct.max())


def test_batch_equals_single_images():
    batch = RNG.integers(0, 256, (5, 30, 26)).astype(np.uint8)
    mags = gabor_responses(batch, n_scales=2, n_orientations=3)
    for i in range(5):
        np.testing.assert_array_equal(mags[i], gabor_responses(batch[i], n_scales=2, n_orientations=3))


def test_grating_excites_its_own_filter():
    # a vertical grating of wavelength 4 px: wave vector along the columns, k = pi/2
    x = np.arange(64)
    image = np.tile(128 + 100 * np.cos(np.pi / 2 * x), (64, 1))
    mags = gabor_responses(image, n_scales=3, n_orientations=4)[:, :, 16:48, 16:48].mean(axis=(2, 3))
    assert np.unravel_index(mags.argmax(), mags.shape) == (0, 0)
    assert mags[0, 0] > 20 * mags[0, 2]  # the orthogonal orientation hardly responds


def test_uniform_image_gives_no_response():
    flat = np.full((40, 40), 200.0)
    noise = gabor_responses(RNG.normal(size=(40, 40)) * 50, n_scales=5)
    assert gabor_responses(flat, n_scales=5).max() < 1e-5 * noise.max()
    for s in range(5):
        assert abs(gabor_kernel(np.pi / 2 / np.sqrt(2) ** s, 0.3).sum()) < 1e-12


def test_kernel_shape_and_symmetry():
    kern = gabor_kernel(np.pi / 8, np.pi / 8)
    assert kern.shape == (97, 97)  # radius ceil(3 * 2 pi / (pi / 8)) = 48
    # point symmetry: psi(-x) = conj(psi(x))
    np.testing.assert_allclose(kern[::-1, ::-1], np.conj(kern))


def _cells(mags, grid):
    h, w = mags.shape[-2:]
    re, ce = np.linspace(0, h, grid[0] + 1).astype(int), np.linspace(0, w, grid[1] + 1).astype(int)
    return [[mags[..., re[i] : re[i + 1], ce[j] : ce[j + 1]] for j in range(grid[1])] for i in range(grid[0])]


@pytest.mark.parametrize("pool", ["mean", "mean_std"])
def test_grid_pooling_of_responses(pool):
    faces = RNG.integers(0, 256, (3, 40, 36), dtype=np.uint8)
    est = GaborFeatures(n_scales=2, n_orientations=3, grid=(3, 4), pool=pool)
    X = est.fit_transform(faces)
    mags = gabor_responses(faces, n_scales=2, n_orientations=3).astype(np.float64)
    cells = _cells(mags, (3, 4))
    mean = np.stack([np.stack([c.mean(axis=(-2, -1)) for c in row], -1) for row in cells], -2)  # (n, S, O, 3, 4)
    if pool == "mean":
        expected = mean.reshape(3, -1)
    else:
        std = np.stack([np.stack([c.std(axis=(-2, -1)) for c in row], -1) for row in cells], -2)
        expected = np.stack([mean, std], axis=-1).reshape(3, -1)
    np.testing.assert_allclose(X, expected, rtol=1e-5, atol=1e-4)
    names = est.get_feature_names_out()
    assert len(names) == X.shape[1] == est.n_features_out_
    if pool == "mean":
        assert names[:2].tolist() == ["gabor_s0_o0_c0x0", "gabor_s0_o0_c0x1"]
    else:
        assert names[:3].tolist() == ["gabor_s0_o0_c0x0_mean", "gabor_s0_o0_c0x0_std", "gabor_s0_o0_c0x1_mean"]


def test_landmark_sampling():
    faces = RNG.integers(0, 256, (2, 32, 32), dtype=np.uint8)
    pts = np.tile(np.array([[16.0, 16.0]]), (2, 68, 1))
    pts[:, 36] = [5, 7]  # on a pixel: x=5 (column), y=7 (row)
    pts[:, 45] = [10.25, 20.5]  # between pixels
    pts[1, 48] = [-3, 40]  # outside: clamped to the border pixel (0, 31)
    batch = FaceBatch(faces, pts, np.ones(2, bool))
    est = GaborFeatures(n_scales=2, n_orientations=2, sample="landmarks", landmarks=(36, 45, 48))
    X = est.fit_transform(batch).reshape(2, 2, 2, 3)
    mags = gabor_responses(faces, n_scales=2, n_orientations=2).astype(np.float64)
    np.testing.assert_allclose(X[..., 0], mags[:, :, :, 7, 5], rtol=1e-6)
    m = mags[:, :, :, 20:22, 10:12]
    bilinear = 0.5 * (0.75 * m[..., 0, 0] + 0.25 * m[..., 0, 1]) + 0.5 * (0.75 * m[..., 1, 0] + 0.25 * m[..., 1, 1])
    np.testing.assert_allclose(X[..., 1], bilinear, rtol=1e-6)
    np.testing.assert_allclose(X[1, ..., 2], mags[1, :, :, 31, 0], rtol=1e-6)
    assert est.get_feature_names_out()[:4].tolist() == ["gabor_s0_o0_p36", "gabor_s0_o0_p45", "gabor_s0_o0_p48",
                                                        "gabor_s0_o1_p36"]
    with pytest.raises(ValueError, match="needs a FaceBatch"):
        est.fit(faces)
    assert GaborFeatures(sample="landmarks").fit(batch).n_features_out_ == 5 * 8 * 68


def test_default_bank_on_faces():
    faces = RNG.integers(0, 256, (4, 96, 96), dtype=np.uint8)
    est = GaborFeatures().fit(faces)
    X = est.transform(faces)
    assert X.shape == (4, 5 * 8 * 49) and np.all(np.isfinite(X)) and np.all(X >= 0)
    names = est.get_feature_names_out()
    assert len(names) == X.shape[1] and len(set(names)) == len(names)
    assert names[-1] == "gabor_s4_o7_c6x6"


def test_mixed_sizes_and_color():
    small, big = RNG.integers(0, 256, (20, 20), dtype=np.uint8), RNG.integers(0, 256, (30, 24, 3), dtype=np.uint8)
    est = GaborFeatures(n_scales=2, n_orientations=2, grid=(2, 2))
    X = est.fit_transform([small, big])
    np.testing.assert_allclose(X[0], est.transform(small[None])[0])
    assert X.shape == (2, 16)


def test_pickle_and_clone_give_identical_output():
    faces = RNG.integers(0, 256, (3, 48, 48), dtype=np.uint8)
    est = GaborFeatures(n_scales=3, n_orientations=4).fit(faces)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(faces), est.transform(faces))
    np.testing.assert_array_equal(clone(est).fit_transform(faces), est.transform(faces))


def test_threads_do_not_change_output():
    faces = RNG.integers(0, 256, (3, 40, 40), dtype=np.uint8)
    a = GaborFeatures(n_scales=2).fit_transform(faces)
    np.testing.assert_array_equal(GaborFeatures(n_scales=2, n_jobs=2).fit_transform(faces), a)


@pytest.mark.parametrize("param, value", [
    ("n_scales", 0), ("n_orientations", 0), ("k_max", 0.0), ("k_max", 4.0), ("f", 1.0), ("sigma", -1.0),
    ("grid", (0, 3)), ("grid", (2,)), ("pool", "max"), ("sample", "points"), ("landmarks", (70,)),
    ("landmarks", (1, 1)), ("boundary", "wrap"), ("truncate", 0.0),
])
def test_invalid_parameters(param, value):
    faces = np.zeros((2, 24, 24), np.uint8)
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        GaborFeatures(**{param: value}).fit(faces)


def test_landmarks_need_mean_pooling():
    with pytest.raises(InvalidParameterError, match="'pool' parameter"):
        GaborFeatures(sample="landmarks", pool="mean_std").fit(np.zeros((1, 24, 24)))


def test_absurd_kernels_are_refused():
    with pytest.raises(ValueError, match="radius"):
        GaborFeatures(n_scales=12, f=2.0).fit_transform(np.zeros((1, 24, 24)))
