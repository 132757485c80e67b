"""The recipes' standard scaler: scikit-learn's figures, bit for bit, without a copy of the features."""

import itertools
import pickle
import tracemalloc

import numpy as np
import pytest
from scipy import sparse
from sklearn.preprocessing import StandardScaler

from facefeat.features import scaling
from facefeat.features.scaling import LowMemoryStandardScaler
from facefeat.registry import get_component

FITTED = ("mean_", "var_", "scale_", "n_samples_seen_", "n_features_in_")


def assert_same_fit(ours, theirs):
    """Equal attributes, compared byte for byte, of the same types and dtypes."""
    for name in FITTED:
        a, b = getattr(ours, name), getattr(theirs, name)
        assert type(a) is type(b), name
        if a is not None:
            a, b = np.atleast_1d(a), np.atleast_1d(b)
            assert (a.dtype, a.shape) == (b.dtype, b.shape), name
            assert a.tobytes() == b.tobytes(), name


def _matrix(rng, n, m, dtype, order, nans, constant):
    X = rng.normal(rng.uniform(-1e3, 1e3, m), rng.uniform(1e-3, 1e3, m), size=(n, m))
    if constant:
        X[:, ::3] = 7.3
    if nans == "scattered":
        X[rng.random((n, m)) < 0.1] = np.nan
    elif nans == "one column":  # blocks without NaN are summed by np.sum, scikit-learn's by np.nansum
        X[::4, m // 2] = np.nan
    return np.asarray(X.astype(dtype), order=order)


@pytest.mark.parametrize("block_bytes", [16, 24 * 128, 1000 * 8 * 5, scaling.BLOCK_BYTES])
def test_same_figures_as_scikit_learn_bit_for_bit(monkeypatch, block_bytes):
    # blocks of 2 and 3 columns, of a few, and the whole matrix at once
    monkeypatch.setattr(scaling, "BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(0)
    cases = itertools.product([(1000, 33), (128, 7), (5, 2), (3, 1)], [np.float64, np.float32], "CF",
                              [None, "scattered", "one column"], [False, True])
    for (n, m), dtype, order, nans, constant in cases:
        X = _matrix(rng, n, m, dtype, order, nans, constant)
        for with_mean, with_std in [(True, True), (False, True), (True, False)]:
            params = {"with_mean": with_mean, "with_std": with_std}
            with np.errstate(all="ignore"):
                ours, theirs = LowMemoryStandardScaler(**params).fit(X), StandardScaler(**params).fit(X)
            assert_same_fit(ours, theirs)
            assert ours.transform(X).tobytes() == theirs.transform(X).tobytes()


def test_constant_columns_and_integers():
    X = np.tile(np.arange(40)[:, None] % 5, (1, 6))
    X[:, 2] = 3
    ours, theirs = LowMemoryStandardScaler().fit(X), StandardScaler().fit(X)
    assert_same_fit(ours, theirs)
    assert ours.scale_[2] == 1.0 and ours.var_[2] == 0.0
    assert isinstance(ours.n_samples_seen_, np.float64) and ours.n_samples_seen_ == 40


def test_weights_sparse_input_and_pickling_as_scikit_learn():
    rng = np.random.default_rng(1)
    X, w = rng.normal(size=(60, 5)), rng.uniform(0.5, 2.0, 60)
    assert_same_fit(LowMemoryStandardScaler().fit(X, sample_weight=w), StandardScaler().fit(X, sample_weight=w))
    S = sparse.random(60, 5, density=0.3, format="csr", random_state=0)
    assert_same_fit(LowMemoryStandardScaler(with_mean=False).fit(S), StandardScaler(with_mean=False).fit(S))
    neither = LowMemoryStandardScaler(with_mean=False, with_std=False).fit(X)
    assert neither.mean_ is None and neither.n_samples_seen_ == 60
    fitted = LowMemoryStandardScaler().fit(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).transform(X), fitted.transform(X))


def _peak(fit, X):
    tracemalloc.start()
    try:
        fit(X)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_recipes_scaler_fits_without_a_copy_of_the_features(monkeypatch):
    # Issue 15: scikit-learn's fit makes X minus its means, as large as X (633
    # MiB for FER2013's LBP features), the peak of `facefeat fit`. Block by
    # block, the temporaries are a block's size.
    monkeypatch.setattr(scaling, "BLOCK_BYTES", 2**20)
    X = np.random.default_rng(2).normal(size=(4000, 500))  # 16 MB
    assert _peak(StandardScaler().fit, X) > X.nbytes  # what the recipes used
    assert _peak(get_component("standard_scaler")().fit, X) < 0.2 * X.nbytes
