"""Input handling shared by the image transformers."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from facefeat.batch import FaceBatch


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
    images of that shape) and ``_transform_images(images)``. ``fit`` validates
    the parameters and records the image shape, which fixes the feature names;
    nothing is learned from the data, so the benchmark may apply such steps to
    a whole dataset once before cross-validation.

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
        self._validate_params()
        self._record(check_images(X))
        return self

    def fit_transform(self, X, y=None):
        """Fit and transform, checking the images once.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays
        y : ignored

        Returns
        -------
        ndarray of shape (n, n_features_out_)
        """
        self._validate_params()
        images = check_images(X)
        self._record(images)
        return self._transform_images(images)

    def _record(self, images):
        self.image_shape_ = images[0].shape[:2]
        self.n_features_out_ = len(self._output_names(self.image_shape_))

    def transform(self, X):
        """Extract one feature vector per image.

        Parameters
        ----------
        X : FaceBatch, ndarray of shape (n, h, w) or (n, h, w, 3), or list of arrays

        Returns
        -------
        ndarray of shape (n, n_features_out_)
        """
        self._validate_params()
        return self._transform_images(check_images(X))

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
