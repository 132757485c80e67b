"""Standardisation whose fit needs a few megabytes, not a second copy of the features.

scikit-learn's :class:`~sklearn.preprocessing.StandardScaler` computes the
variance of the whole matrix at once (``_incremental_mean_and_var``): ``X``
minus its column means is a temporary as large as ``X``, next to a NaN mask
and, briefly, the mask converted to float. On FER2013's LBP features (28,709
x 2,891 float64, 633 MiB) that made the scaler the peak of ``facefeat fit``
(issue 15). :class:`LowMemoryStandardScaler` runs the same scikit-learn code
on blocks of columns, so the temporaries are a block's size.

The result is the same, bit for bit: every statistic of a column depends on
that column only, and numpy adds a column's values in the same order whether
the column is summed with the others or with a block of them (row after row
for a C-ordered matrix, pairwise down the column for a Fortran-ordered one).
Blocks are at least two columns wide, because a single column of a C-ordered
matrix would be summed pairwise, not row after row.
"""

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.base import _fit_context
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import FLOAT_DTYPES, validate_data

__all__ = ["LowMemoryStandardScaler"]

# Bytes of a block of columns as float64: its temporaries (the block minus its
# means, and the NaN mask as float) are float64 whatever the input's dtype
BLOCK_BYTES = 32 * 2**20


def _column_blocks(n_samples, n_features):
    """Column ranges of about BLOCK_BYTES each, none narrower than two columns."""
    width = max(2, BLOCK_BYTES // (8 * n_samples))
    n_blocks = max(1, min(-(-n_features // width), n_features // 2))
    return np.array_split(np.arange(n_features), n_blocks)


class LowMemoryStandardScaler(StandardScaler):
    """:class:`~sklearn.preprocessing.StandardScaler` fitted a block of columns at a time.

    Same parameters, attributes and results as scikit-learn's scaler: ``mean_``,
    ``var_``, ``scale_`` and ``n_samples_seen_`` are equal bit for bit, and
    ``transform`` is scikit-learn's. Only :meth:`fit` differs: on a dense
    matrix without ``sample_weight`` it computes the statistics over blocks
    of about 32 MiB of columns, so fitting needs the matrix plus a few blocks
    instead of about twice the matrix (see :mod:`facefeat.features.scaling`
    for why the figures are identical). Sparse input, ``sample_weight`` (a
    matrix product, whose rounding depends on the block), callbacks, array
    API dispatch and ``with_mean=False, with_std=False`` go to
    scikit-learn's ``fit`` as they are. The recipes' ``standard_scaler`` is
    this class.

    Its parameters, ``copy``, ``with_mean`` and ``with_std`` (all True by
    default), are those of :class:`~sklearn.preprocessing.StandardScaler`,
    whose ``__init__`` it keeps.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = np.random.default_rng(0).normal(3.0, 2.0, size=(1000, 40))
    >>> ours, theirs = LowMemoryStandardScaler().fit(X), StandardScaler().fit(X)
    >>> bool((ours.scale_ == theirs.scale_).all() and (ours.mean_ == theirs.mean_).all())
    True
    >>> ours.transform(X[:2]).shape
    (2, 40)
    """

    def fit(self, X, y=None, sample_weight=None):
        """Compute the mean and standard deviation of every column, a block of columns at a time.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples; given, the fit is scikit-learn's, on the
            whole matrix.

        Returns
        -------
        self : LowMemoryStandardScaler
            The fitted scaler.

        Examples
        --------
        >>> import numpy as np
        >>> LowMemoryStandardScaler().fit(np.array([[0.0, 1.0], [2.0, 1.0]])).scale_
        array([1., 1.])
        """
        # scikit-learn >= 1.9 reports fit progress to callbacks set on the scaler (or
        # propagated by a meta-estimator), and with array_api_dispatch keeps the
        # statistics in the input's array library; only its own fit does either
        if (sample_weight is not None or sparse.issparse(X) or getattr(self, "_skl_callbacks", None)
                or get_config()["array_api_dispatch"] or not (self.with_mean or self.with_std)):
            return super().fit(X, y, sample_weight)
        return self._fit_blocks(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit_blocks(self, X):
        self._reset()
        X = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan", reset=True)
        n_samples, n_features = X.shape
        parts = []
        for cols in _column_blocks(n_samples, n_features):
            # a basic slice, so the block is a view of X: no copy
            part = StandardScaler(with_mean=self.with_mean, with_std=self.with_std)
            parts.append((len(cols), part.fit(X[:, cols[0]:cols[-1] + 1])))
        self.mean_ = np.concatenate([p.mean_ for _, p in parts])
        self.var_ = np.concatenate([p.var_ for _, p in parts]) if self.with_std else None
        self.scale_ = np.concatenate([p.scale_ for _, p in parts]) if self.with_std else None
        seen = np.concatenate([np.broadcast_to(p.n_samples_seen_, n) for n, p in parts])
        # scikit-learn's rule: one number when every column saw as many samples
        self.n_samples_seen_ = seen[0] if seen.max() == seen.min() else seen
        return self
