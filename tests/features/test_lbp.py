"""LBP codes against scikit-image, and the grid-histogram transformer."""

import pickle
import re

import numpy as np
import pytest
from skimage import color, data
from skimage.feature import local_binary_pattern as sk_lbp
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from facefeat.faces.batch import FaceBatch
from facefeat.features.lbp import LBPHistogram, local_binary_pattern, n_lbp_bins

# scikit-image warns on every float image; the float case is the point here
pytestmark = pytest.mark.filterwarnings("ignore:Applying `local_binary_pattern`:UserWarning")

METHODS = ["default", "ror", "uniform", "nri_uniform"]
SCALES = [(8, 1), (8, 1.5), (8, 2), (8, 3), (16, 1), (16, 2), (16, 3)]


def _images():
    rng = np.random.default_rng(7)
    face = color.rgb2gray(data.astronaut()[45:195, 160:310])  # float in [0, 1]
    return {
        "uint8": rng.integers(0, 256, (17, 23), dtype=np.uint8),
        "uint8_few_levels": rng.integers(0, 3, (17, 23), dtype=np.uint8),  # many exact ties
        "float": rng.normal(size=(19, 21)),
        "constant_float": np.full((9, 10), 7.3),  # ties decided by interpolation rounding
        "one_row": rng.integers(0, 256, (1, 6), dtype=np.uint8),
        "face_float": face[:61, :67],
        "face_uint8": np.round(face * 255).astype(np.uint8)[60:121, 50:117],
    }


IMAGES = _images()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("P", "R"), SCALES)
@pytest.mark.parametrize("name", sorted(IMAGES))
def test_codes_equal_skimage(name, P, R, method):
    image = IMAGES[name]
    ours = local_binary_pattern(image, P, R, method)
    assert ours.shape == image.shape
    assert np.issubdtype(ours.dtype, np.unsignedinteger)
    np.testing.assert_array_equal(ours, sk_lbp(image, P, R, method))


@pytest.mark.parametrize(("P", "R", "method"), [(24, 3, "uniform"), (24, 3, "nri_uniform"), (20, 2, "ror"), (20, 2.5, "default")])
@pytest.mark.parametrize("name", ["uint8", "uint8_few_levels", "float", "face_uint8"])
def test_codes_equal_skimage_large_P(name, P, R, method):
    # P > 16 takes the direct path instead of a lookup table
    image = IMAGES[name]
    np.testing.assert_array_equal(local_binary_pattern(image, P, R, method), sk_lbp(image, P, R, method))


def test_whole_face_uniform_equal_skimage():
    face = np.round(color.rgb2gray(data.astronaut()) * 255).astype(np.uint8)
    np.testing.assert_array_equal(local_binary_pattern(face, 8, 1), sk_lbp(face, 8, 1, "uniform"))


@pytest.mark.parametrize("method", METHODS)
def test_batch_equals_images_one_by_one(method):
    rng = np.random.default_rng(3)
    batch = rng.integers(0, 4, (5, 13, 11)).astype(np.float64)
    codes = local_binary_pattern(batch, 8, 1.5, method)
    assert codes.shape == (5, 13, 11)
    for image, got in zip(batch, codes):
        np.testing.assert_array_equal(got, sk_lbp(image, 8, 1.5, method))


def test_code_values_on_known_patterns():
    # centre 5 surrounded by a step: right half (cols 2) 9, the rest 0
    image = np.zeros((3, 3), np.uint8)
    image[1, 1] = 5
    image[:, 2] = 9
    # R=1, P=4: neighbours at angles 0, 90, 180, 270 deg = right, up, left, down
    assert local_binary_pattern(image, 4, 1, "default")[1, 1] == 0b0001
    assert local_binary_pattern(image, 4, 1, "uniform")[1, 1] == 1
    image[0, 1] = 9  # up too: bits 0 and 1, still uniform with two ones
    assert local_binary_pattern(image, 4, 1, "default")[1, 1] == 0b0011
    assert local_binary_pattern(image, 4, 1, "uniform")[1, 1] == 2
    image[0, 1], image[1, 0] = 0, 9  # right and left: 0101, four transitions
    assert local_binary_pattern(image, 4, 1, "uniform")[1, 1] == 4 + 1
    assert local_binary_pattern(image, 4, 1, "ror")[1, 1] == 0b0101


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"P": 0}, "P must be a positive int"),
        ({"R": -1.0}, "R must be a positive"),
        ({"method": "var"}, "method must be one of"),
        ({"P": 32, "method": "default"}, "at most 31"),
    ],
)
def test_function_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        local_binary_pattern(np.zeros((4, 4)), **kwargs)


def test_function_rejects_bad_images():
    with pytest.raises(ValueError, match="shape"):
        local_binary_pattern(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="NaN"):
        local_binary_pattern(np.array([[0.0, np.nan]]))


@pytest.mark.parametrize("P", range(1, 13))
def test_bin_counts_match_enumeration(P):
    codes = np.arange(2**P)
    rotations = [((codes >> k) | (codes << (P - k))) & (2**P - 1) for k in range(P)]
    assert n_lbp_bins(P, "ror") == len(np.unique(np.min(rotations, axis=0)))
    bits = (codes[:, None] >> np.arange(P)) & 1
    transitions = np.abs(np.diff(bits, axis=1)).sum(axis=1)
    assert n_lbp_bins(P, "nri_uniform") == int((transitions <= 2).sum()) + 1
    assert (n_lbp_bins(8, "ror"), n_lbp_bins(16, "ror")) == (36, 4116)


# --------------------------------------------------------------------------
# LBPHistogram


def _ror_bins(P):
    codes = range(2**P)
    return sorted({min(((c >> k) | (c << (P - k))) & (2**P - 1) for k in range(P)) for c in codes})


def reference_histograms(images, P, R, method, grid, normalize):
    """Cell-by-cell histograms of scikit-image codes, the straightforward way."""
    feats = []
    for image in images:
        codes = sk_lbp(image, P, R, method).astype(int)
        if method == "ror":
            codes = np.searchsorted(_ror_bins(P), codes)
        n_bins = {"uniform": P + 2, "nri_uniform": P * (P - 1) + 3, "ror": len(_ror_bins(P))}[method]
        rows = np.linspace(0, image.shape[0], grid[0] + 1).astype(int)
        cols = np.linspace(0, image.shape[1], grid[1] + 1).astype(int)
        row = []
        for i in range(grid[0]):
            for j in range(grid[1]):
                cell = codes[rows[i] : rows[i + 1], cols[j] : cols[j + 1]]
                hist = np.bincount(cell.ravel(), minlength=n_bins).astype(float)
                if normalize == "l1" and hist.sum() > 0:
                    hist /= hist.sum()
                elif normalize == "l2" and hist.any():
                    hist /= np.linalg.norm(hist)
                row.append(hist)
        feats.append(np.concatenate(row))
    return np.array(feats)


@pytest.fixture(scope="module")
def faces():
    """Face-like batch: the astronaut's face at 41 x 37 with a little noise."""
    rng = np.random.default_rng(0)
    face = np.round(color.rgb2gray(data.astronaut()[45:195, 160:310])[::3, ::3][:41, :37] * 255)
    noisy = face + rng.normal(0, 4, (6, *face.shape))
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("method", ["uniform", "nri_uniform", "ror"])
@pytest.mark.parametrize("normalize", ["l1", "l2", "none"])
@pytest.mark.parametrize(("grid", "R"), [((7, 7), 1.0), ((3, 5), 1.5), ((4, 2), 2.0)])
def test_histograms_equal_reference(faces, method, normalize, grid, R):
    est = LBPHistogram(P=8, R=R, method=method, grid=grid, normalize=normalize)
    got = est.fit_transform(faces)
    want = reference_histograms(faces, 8, R, method, grid, normalize)
    assert got.shape == want.shape == (len(faces), est.n_features_out_)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_l1_cells_sum_to_one_and_l2_cells_have_unit_length(faces):
    X = LBPHistogram(method="uniform", grid=(5, 4)).fit_transform(faces).reshape(len(faces), 20, 10)
    np.testing.assert_allclose(X.sum(axis=2), 1.0, rtol=1e-12)
    X = LBPHistogram(method="uniform", grid=(5, 4), normalize="l2").fit_transform(faces).reshape(len(faces), 20, 10)
    np.testing.assert_allclose(np.linalg.norm(X, axis=2), 1.0, rtol=1e-12)


def test_raw_counts_add_up_to_cell_sizes(faces):
    X = LBPHistogram(method="uniform", grid=(2, 3), normalize="none").fit_transform(faces).reshape(len(faces), 6, 10)
    rows, cols = np.diff(np.linspace(0, 41, 3).astype(int)), np.diff(np.linspace(0, 37, 4).astype(int))
    np.testing.assert_array_equal(X.sum(axis=2), np.broadcast_to(np.outer(rows, cols).ravel(), (len(faces), 6)))


def test_grid_larger_than_image_leaves_empty_cells_zero():
    X = LBPHistogram(method="uniform", grid=(4, 4)).fit_transform(np.arange(2 * 3 * 3).reshape(2, 3, 3))
    cells = X.reshape(2, 16, 10).sum(axis=2)
    assert np.isfinite(X).all()
    # edges along both axes are 0, 0, 1, 2, 3: the first cell row and column are empty
    non_empty = np.array([[i >= 1 and j >= 1 for j in range(4)] for i in range(4)], float).ravel()
    np.testing.assert_array_equal(cells, np.broadcast_to(non_empty, (2, 16)))


NAME = re.compile(r"^lbp_r(\d+|\d+\.\d+)_c(\d+)x(\d+)_b(\d+)$")


def test_feature_names(faces):
    est = LBPHistogram(grid=(3, 4), method="nri_uniform").fit(faces)
    names = est.get_feature_names_out()
    assert len(names) == est.n_features_out_ == est.transform(faces).shape[1] == 3 * 4 * 59
    assert all(NAME.match(n) for n in names)
    assert len(set(names)) == len(names)
    assert (names[0], names[59], names[-1]) == ("lbp_r1_c0x0_b0", "lbp_r1_c0x1_b0", "lbp_r1_c2x3_b58")
    # the names follow the layout: cell (row, col) then bin
    assert names[(1 * 4 + 2) * 59 + 17] == "lbp_r1_c1x2_b17"
    assert LBPHistogram(R=1.5, grid=(1, 1)).fit(faces).get_feature_names_out()[3] == "lbp_r1.5_c0x0_b3"


def test_ror_bins_are_compact(faces):
    est = LBPHistogram(method="ror", grid=(1, 1), normalize="none").fit(faces)
    X = est.transform(faces)
    assert X.shape == (len(faces), 36)
    np.testing.assert_array_equal(X.sum(axis=1), faces[0].size)


def test_multi_radius_concatenates_blocks_in_order_of_R(faces):
    est = LBPHistogram(method="uniform", P=(8, 16), R=(2, 1.5), grid=(2, 3)).fit(faces)
    single = [LBPHistogram(method="uniform", P=p, R=r, grid=(2, 3)).fit(faces) for p, r in [(8, 2), (16, 1.5)]]
    np.testing.assert_array_equal(est.transform(faces), np.hstack([s.transform(faces) for s in single]))
    names = est.get_feature_names_out()
    assert list(names) == [n for s in single for n in s.get_feature_names_out()]
    assert est.n_features_out_ == 6 * (10 + 18)
    assert names[0] == "lbp_r2_c0x0_b0" and names[-1] == "lbp_r1.5_c1x2_b17"
    # one P for all radii
    np.testing.assert_array_equal(
        LBPHistogram(P=8, R=(1, 2)).fit_transform(faces),
        LBPHistogram(P=(8, 8), R=(1, 2)).fit_transform(faces),
    )


def test_mixed_image_sizes(faces):
    rng = np.random.default_rng(1)
    images = [faces[0], rng.integers(0, 256, (30, 28)).astype(np.uint8), faces[1], faces[2][:17, :23]]
    est = LBPHistogram(method="uniform", grid=(3, 3))
    X = est.fit_transform(images)
    assert X.shape == (4, 90)
    for image, row in zip(images, X):
        np.testing.assert_allclose(row, reference_histograms([image], 8, 1, "uniform", (3, 3), "l1")[0], rtol=1e-12)


def test_facebatch_and_rgb_input(faces):
    batch = FaceBatch(faces, np.zeros((len(faces), 68, 2)), np.ones(len(faces), bool))
    est = LBPHistogram(method="uniform", grid=(3, 3))
    np.testing.assert_array_equal(est.fit_transform(batch), est.fit_transform(faces))
    rgb = np.repeat(faces[..., None], 3, axis=3)  # gray replicated: luma weights sum to 1
    np.testing.assert_allclose(est.fit_transform(rgb), est.fit_transform(faces), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"P": 0}, r"The 'P' parameter of LBPHistogram must be"),
        ({"P": (8, 0), "R": (1, 2)}, r"The 'P' parameter of LBPHistogram must be"),
        ({"P": (8, 8, 8), "R": (1, 2)}, r"one per radius"),
        ({"P": 2.5}, r"The 'P' parameter"),
        ({"R": -1}, r"The 'R' parameter of LBPHistogram must be"),
        ({"R": (1, -2)}, r"The 'R' parameter"),
        ({"R": (1, 1.0)}, r"distinct radii"),
        ({"R": ()}, r"The 'R' parameter"),
        ({"method": "foo"}, r"The 'method' parameter of LBPHistogram must be a str among"),
        ({"method": "default"}, r"The 'method' parameter"),
        ({"method": "ror", "P": 24}, r"at most 16 with method='ror'"),
        ({"grid": (0, 3)}, r"The 'grid' parameter of LBPHistogram must be a pair"),
        ({"grid": (7,)}, r"The 'grid' parameter"),
        ({"grid": 7}, r"The 'grid' parameter"),
        ({"normalize": "max"}, r"The 'normalize' parameter"),
    ],
)
def test_invalid_parameters_raise_at_fit(faces, params, match):
    est = LBPHistogram(**params)  # __init__ stores, never checks
    with pytest.raises(InvalidParameterError, match=match):
        est.fit(faces)


def test_clone_params_and_pickle(faces):
    est = LBPHistogram(P=(8, 16), R=(1, 2), method="nri_uniform", grid=(3, 2), normalize="l2")
    X = est.fit_transform(faces)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    np.testing.assert_array_equal(twin.fit_transform(faces), X)
    other = LBPHistogram().set_params(**est.get_params())
    np.testing.assert_array_equal(other.fit_transform(faces), X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(faces), X)
    np.testing.assert_array_equal(restored.get_feature_names_out(), est.get_feature_names_out())
    est.set_params(P=8, R=1, method="uniform", normalize="none")
    assert est.fit_transform(faces).shape == (len(faces), 6 * 10)


def test_set_output_pandas(faces):
    pd = pytest.importorskip("pandas")
    est = LBPHistogram(grid=(2, 2)).set_output(transform="pandas")
    frame = est.fit_transform(faces)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(est.get_feature_names_out())
    np.testing.assert_array_equal(frame.to_numpy(), LBPHistogram(grid=(2, 2)).fit_transform(faces))


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["ck_plus_48", "jaffe"])
def test_codes_equal_skimage_on_real_faces(name):
    from conftest import shared_dataset
    from facefeat.images.datasets import load_folder

    ds = load_folder(shared_dataset(name))
    images, _ = ds.subset(np.linspace(0, len(ds) - 1, 6).astype(int)).read_images()
    batch = np.stack(images).astype(float)
    for P, R, method in [(8, 1, "nri_uniform"), (8, 1.5, "uniform"), (16, 2, "uniform")]:
        want = np.stack([sk_lbp(im, P, R, method) for im in batch])
        np.testing.assert_array_equal(local_binary_pattern(batch, P, R, method), want)
