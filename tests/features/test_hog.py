"""HOGFeatures against scikit-image's hog."""

import pickle
import re

import numpy as np
import pytest
from skimage import color, data, transform
from skimage.feature import hog
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from facefeat.faces.batch import FaceBatch
from facefeat.features.hog import HOGFeatures


@pytest.fixture(scope="module")
def faces():
    """Four 96 x 96 uint8 crops of the astronaut's face, shifted a little."""
    gray = color.rgb2gray(data.astronaut())
    crops = [gray[45 + d : 195 + d, 160 + d : 310 + d] for d in (0, 3, 6, 9)]
    return np.stack([np.round(transform.resize(c, (96, 96)) * 255).astype(np.uint8) for c in crops])


def test_equals_skimage_hog(faces):
    X = HOGFeatures().fit_transform(faces)
    assert X.shape == (4, 7 * 7 * 2 * 2 * 9)
    for image, row in zip(faces, X):
        np.testing.assert_array_equal(row, hog(image, 9, (12, 12), (2, 2), "L2-Hys"))
    # the face is not a degenerate input: the features vary across images
    assert np.abs(X[0] - X[3]).max() > 0.05


def test_non_default_parameters_equal_skimage(faces):
    params = dict(orientations=6, pixels_per_cell=(8, 10), cells_per_block=(3, 2), block_norm="L1", transform_sqrt=True)
    X = HOGFeatures(**params).fit_transform(faces[:2])
    for image, row in zip(faces[:2], X):
        np.testing.assert_allclose(row, hog(image.astype(float), feature_vector=True, **params), rtol=1e-12, atol=0)


NAME = re.compile(r"^hog_b(\d+)x(\d+)_c(\d+)x(\d+)_o(\d+)$")


def test_feature_names_follow_output_layout(faces):
    est = HOGFeatures(orientations=4, pixels_per_cell=(16, 12), cells_per_block=(2, 3)).fit(faces)
    names = est.get_feature_names_out()
    # 6 x 8 cells -> 5 x 6 blocks of 2 x 3 cells
    assert len(names) == est.n_features_out_ == est.transform(faces[:1]).shape[1] == 5 * 6 * 2 * 3 * 4
    assert all(NAME.match(n) for n in names)
    blocks = hog(faces[0], 4, (16, 12), (2, 3), "L2-Hys", feature_vector=False)
    assert blocks.shape == (5, 6, 2, 3, 4)
    X = est.transform(faces[:1])[0]
    for k in [0, 1, 5, 37, 200, len(names) - 1]:
        br, bc, cr, cc, o = map(int, NAME.match(names[k]).groups())
        assert X[k] == blocks[br, bc, cr, cc, o]
    assert names[-1] == "hog_b4x5_c1x2_o3"


def test_shape_mismatch_raises(faces):
    est = HOGFeatures().fit(faces)
    with pytest.raises(ValueError, match=r"fitted on images of shape \(96, 96\); got images of shape \(80, 96\)"):
        est.transform(faces[:, :80])
    with pytest.raises(ValueError, match=r"fitted shape \(96, 96\); got images of shapes \[\(80, 96\), \(96, 96\)\]"):
        est.transform([faces[0], faces[1, :80]])


def test_too_small_images_raise_at_fit():
    with pytest.raises(ValueError, match=r"shape \(20, 40\) are too small .* at least 24x24 pixels"):
        HOGFeatures().fit(np.zeros((1, 20, 40)))


def test_facebatch_input(faces):
    batch = FaceBatch(faces, np.zeros((4, 68, 2)), np.ones(4, bool))
    np.testing.assert_array_equal(HOGFeatures().fit_transform(batch), HOGFeatures().fit_transform(faces))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"orientations": 0}, r"The 'orientations' parameter of HOGFeatures must be an int in the range"),
        ({"pixels_per_cell": (0, 12)}, r"The 'pixels_per_cell' parameter of HOGFeatures must be a pair"),
        ({"cells_per_block": (2,)}, r"The 'cells_per_block' parameter"),
        ({"cells_per_block": 2}, r"The 'cells_per_block' parameter"),
        ({"block_norm": "L3"}, r"The 'block_norm' parameter"),
        ({"transform_sqrt": "yes"}, r"The 'transform_sqrt' parameter"),
    ],
)
def test_invalid_parameters_raise_at_fit(faces, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        HOGFeatures(**params).fit(faces)


def test_clone_and_pickle(faces):
    est = HOGFeatures(orientations=8, pixels_per_cell=(16, 16)).fit(faces)
    X = est.transform(faces)
    np.testing.assert_array_equal(clone(est).fit_transform(faces), X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(faces), X)
    assert HOGFeatures().set_params(**est.get_params()).get_params() == est.get_params()
