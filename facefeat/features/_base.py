"""Input handling and plumbing shared by the image transformers."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import InvalidParameterError

from facefeat._steps import image_tags
from facefeat.faces.batch import FaceBatch

# Pixels per chunk of images that the transformers check and extract at once.
# check_images gives float64 copies (a list, then a stacked array: 16 bytes a
# pixel, 16 times the uint8 faces); for FER2013's 28,709 aligned faces at once
# that was 4.2 GB of a 4.6 GB fit (issue 15). 2**20 pixels is 113 faces of
# 96 x 96, 16 MiB of copies.
_CHUNK_PIXELS = 1 << 20


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
    out = [_check_one(img, i, gray) for i, img in enumerate(_batch_items(X), start=start)]
    if len({im.shape for im in out}) == 1:
        return np.stack(out)
    return out


def _batch_items(X):
    """The images of a batch, an array or a list, once the batch as a whole is valid."""
    if isinstance(X, FaceBatch):
        X = X.images
    if isinstance(X, np.ndarray):
        if X.ndim not in (3, 4):
            raise ValueError(
                f"expected a batch of images of shape (n, h, w) or (n, h, w, 3), got an array of shape {X.shape}"
            )
        items = X
    elif isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise TypeError(f"expected a batch of images (array or list of arrays), got {type(X).__name__}")
    else:
        items = list(X)
    if len(items) == 0:
        raise ValueError("empty batch: at least one image is needed")
    return items


def _chunk_bounds(items):
    """``(start, stop)`` of consecutive runs of about ``_CHUNK_PIXELS`` pixels (at least one image each)."""
    if isinstance(items, np.ndarray):
        step = max(1, _CHUNK_PIXELS // max(1, items[0].size))
        return [(i, min(i + step, len(items))) for i in range(0, len(items), step)]
    bounds, start, pixels = [], 0, 0
    for i, img in enumerate(items):
        # only arrays are counted: other items are converted (or refused) by check_images
        pixels += img.size if isinstance(img, np.ndarray) else 1
        if pixels >= _CHUNK_PIXELS:
            bounds.append((start, i + 1))
            start, pixels = i + 1, 0
    if start < len(items):
        bounds.append((start, len(items)))
    return bounds


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
    images of that shape) and ``_transform_images(images)``, which gets the
    checked images (float64, see :func:`check_images`) a chunk at a time and
    must give each image's features independently of the others in the
    chunk; one that reads more than the images from ``X`` (e.g. the landmarks
    of a FaceBatch) returns it from ``_side_inputs(X)``, as keyword arguments
    of ``_transform_images`` with one row per image. ``fit`` validates the
    parameters and records the image shape, which fixes the feature names;
    nothing is learned from the data, so the benchmark may apply such steps
    to a whole dataset once before cross-validation.

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

    # whether every image of a batch must have the same shape (HOG); else a
    # chunk of mixed sizes reaches _transform_images as a list
    _one_shape = False

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
        for _ in self._checked_chunks(X, record=True):
            pass
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
        return self._transform_chunks(X, record=True)

    def transform(self, X):
        """Extract one feature vector per image.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays

        Returns
        -------
        ndarray of shape (n, n_features_out_)
        """
        return self._transform_chunks(X)

    def _transform_chunks(self, X, record=False):
        """Features of ``X``, a chunk of images at a time, in one array."""
        out = None
        for start, images, side in self._checked_chunks(X, record):
            feats = self._transform_images(images, **side)
            del images  # else it lives on while the next chunk is checked
            if out is None:
                out = np.empty((len(X),) + feats.shape[1:], feats.dtype)
            out[start : start + len(feats)] = feats
        return out

    def _checked_chunks(self, X, record=False):
        """Validate the parameters, then yield ``(start, images, side inputs)`` chunk by chunk.

        Each chunk holds about ``_CHUNK_PIXELS`` pixels, checked by
        :func:`check_images`: the float64 copies of a whole data set would take
        8 bytes a pixel. Features are computed image by image, so the chunks
        do not change them.
        """
        self._validate_params()
        # before the images, so that a batch without what the parameters ask for is reported as such
        side = self._side_inputs(X)
        items = _batch_items(X)
        shapes = set()
        for start, stop in _chunk_bounds(items):
            images = check_images(items[start:stop], start=start)
            if record and start == 0:
                self._record(images)
            if self._one_shape:
                shapes.update(im.shape[:2] for im in images)
                if len(shapes) > 1:
                    want = f"the fitted shape {self.image_shape_}" if hasattr(self, "image_shape_") else "one shape"
                    raise ValueError(f"{type(self).__name__} needs all images of {want}; "
                                     f"got images of shapes {sorted(shapes)}")
            yield start, images, {name: rows[start:stop] for name, rows in side.items()}
            del images

    def _side_inputs(self, X):
        """Keyword arguments of ``_transform_images`` read from ``X`` besides its images.

        Each is an array with one row per image; a chunk of images gets its rows.
        """
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
        return image_tags(super().__sklearn_tags__(), requires_fit=False)


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
