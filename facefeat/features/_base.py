"""Input handling and plumbing shared by the image transformers."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import InvalidParameterError

from facefeat.faces.batch import FaceBatch


def check_images(X, *, gray=True, start=0):
    """Validate a batch of images and bring it to one float layout.

    Parameters
    ----------
    X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or sequence of arrays
        Images of shape (h, w) or (h, w, 3). Integer and float images are taken
        at face value (uint8 in [0, 255]; uint16 is rescaled to [0, 255]).
    gray : bool, default=True
        Convert RGB images to gray with ITU-R 601 luma weights.
    start : int, default=0
        Index of the first image in error messages, for a chunk of a larger
        batch (``image {start + i}``).

    Returns
    -------
    images : ndarray of shape (n, h, w) or (n, h, w, 3), float64, or list of such arrays
        A stacked array when every image has the same shape, else a list.

    Raises
    ------
    ValueError
        Empty batch, an image that is not 2-D or 3-channel, non-finite values,
        intensities outside [0, 255].
    TypeError
        Boolean, complex or non-numeric images.

    Examples
    --------
    >>> check_images(np.zeros((2, 4, 5), np.uint8)).shape
    (2, 4, 5)
    >>> check_images([np.zeros((4, 4, 3)), np.ones((6, 6))])[1].shape
    (6, 6)
    """
    if isinstance(X, FaceBatch):
        X = X.images
    if isinstance(X, np.ndarray):
        if X.ndim not in (3, 4):
            raise ValueError(
                f"expected a batch of images of shape (n, h, w) or (n, h, w, 3), got an array of shape {X.shape}"
            )
        items = list(X)
    elif isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise TypeError(f"expected a batch of images (array or list of arrays), got {type(X).__name__}")
    else:
        items = list(X)
    if len(items) == 0:
        raise ValueError("empty batch: at least one image is needed")
    out = [_check_one(img, i, gray) for i, img in enumerate(items, start=start)]
    if len({im.shape for im in out}) == 1:
        return np.stack(out)
    return out


def _check_one(img, i, gray):
    img = np.asarray(img)
    if img.dtype == bool or not (np.issubdtype(img.dtype, np.integer) or np.issubdtype(img.dtype, np.floating)):
        raise TypeError(f"image {i}: dtype {img.dtype} is not a real-valued image type")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
        raise ValueError(f"image {i}: expected shape (h, w) or (h, w, 3), got {img.shape}")
    if min(img.shape[:2]) < 1:
        raise ValueError(f"image {i}: empty image of shape {img.shape}")
    if img.dtype == np.uint16:
        img = img / 257.0
    img = img.astype(np.float64, copy=False)
    if not np.isfinite(img).all():
        raise ValueError(f"image {i}: contains NaN or infinite values")
    # intensities are 0..255; far larger values overflow the extractors' sums of squares into NaN
    lo, hi = img.min(), img.max()
    if lo < 0 or hi > 255:
        raise ValueError(f"image {i}: intensities must lie in [0, 255] (uint8 scale), got values in [{lo:g}, {hi:g}]")
    if gray and img.ndim == 3:
        img = img @ np.array([0.299, 0.587, 0.114])
    return img


class ImageTransformer(TransformerMixin, BaseEstimator):
    """Base for stateless transformers from a batch of images to feature vectors.

    Subclasses implement ``_output_names(image_shape)`` (feature names for
    images of that shape) and ``_transform_images(images)``; one that reads
    more than the images from ``X`` (e.g. the landmarks of a FaceBatch)
    returns it from ``_side_inputs(X)``, as keyword arguments of
    ``_transform_images``. ``fit`` validates the parameters and records the
    image shape, which fixes the feature names; nothing is learned from the
    data, so the benchmark may apply such steps to a whole dataset once before
    cross-validation.

    Attributes
    ----------
    image_shape_ : tuple of (int, int)
        ``(h, w)`` of the images seen by ``fit``.
    n_features_out_ : int
        Length of each feature vector.

    See Also
    --------
    check_images : the input validation every method applies.

    Examples
    --------
    A transformer giving the mean and the standard deviation of each image:

    >>> import numpy as np
    >>> from facefeat.features._base import ImageTransformer
    >>> class MeanStd(ImageTransformer):
    ...     _parameter_constraints = {}
    ...     def _output_names(self, image_shape):
    ...         return ["mean", "std"]
    ...     def _transform_images(self, images):
    ...         return np.array([[im.mean(), im.std()] for im in images])
    >>> images = np.zeros((3, 8, 8), dtype=np.uint8)
    >>> images[:, :4] = 200
    >>> features = MeanStd().fit_transform(images)
    >>> features.shape, features[0].tolist()
    ((3, 2), [100.0, 100.0])
    >>> est = MeanStd().fit(images)
    >>> est.image_shape_, est.n_features_out_, est.get_feature_names_out().tolist()
    ((8, 8), 2, ['mean', 'std'])
    """

    def fit(self, X, y=None):
        """Validate parameters and record the input image shape.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays
        y : ignored

        Returns
        -------
        self
        """
        self._check(X, record=True)
        return self

    def fit_transform(self, X, y=None):
        """``fit(X).transform(X)``, checking the images once.

        Parameters
        ----------
        X, y : as for :meth:`fit`

        Returns
        -------
        ndarray of shape (n, n_features_out_)
        """
        images, side = self._check(X, record=True)
        return self._transform_images(images, **side)

    def transform(self, X):
        """Extract one feature vector per image.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays

        Returns
        -------
        ndarray of shape (n, n_features_out_)
        """
        images, side = self._check(X)
        return self._transform_images(images, **side)

    def _check(self, X, record=False):
        """Validate the parameters, then ``X``: its side inputs and its checked images."""
        self._validate_params()
        # before the images, so that a batch without what the parameters ask for is reported as such
        side = self._side_inputs(X)
        images = check_images(X)
        if record:
            self._record(images)
        return images, side

    def _side_inputs(self, X):
        """Keyword arguments of ``_transform_images`` read from ``X`` besides its images."""
        return {}

    def _record(self, images):
        self.image_shape_ = images[0].shape[:2]
        self.n_features_out_ = len(self._output_names(self.image_shape_))

    def _pair(self, name):
        """Parameter ``name`` as a pair (rows, cols) of positive ints.

        ``_parameter_constraints`` can only require a tuple or a list.
        """
        value = getattr(self, name)
        pair = tuple(value)
        if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, Integral) or v < 1 for v in pair):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(self).__name__} must be a pair (rows, cols) of positive ints. "
                f"Got {value!r} instead."
            )
        return int(pair[0]), int(pair[1])

    def get_feature_names_out(self, input_features=None):
        """Readable names of the output features (needs ``fit``).

        Returns
        -------
        ndarray of str of shape (n_features_out_,)
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "image_shape_")
        return np.asarray(self._output_names(self.image_shape_), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


def _by_shape(extract, images, *per_image):
    """Rows of ``extract(batch, *rows)`` for checked images, one call per distinct image shape.

    ``images`` is what :func:`check_images` returns: one stacked batch, or a
    list of images of mixed sizes, which are grouped by shape so that each
    group still gets one vectorised pass. ``per_image`` are arrays with one
    row per image (or None), passed on with the rows of each group.
    """
    if isinstance(images, np.ndarray):
        return extract(images, *per_image)
    out = None
    by_shape = {}
    for i, im in enumerate(images):
        by_shape.setdefault(im.shape, []).append(i)
    for idx in by_shape.values():
        feats = extract(np.stack([images[i] for i in idx]), *(None if a is None else a[idx] for a in per_image))
        if out is None:
            out = np.empty((len(images), feats.shape[1]))
        out[idx] = feats
    return out


def _grid_edges(n, parts):
    """Cell edges of an even split of ``n`` pixels into ``parts`` cells."""
    return np.linspace(0, n, parts + 1).astype(np.intp)
