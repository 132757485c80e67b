"""Histograms of oriented gradients of aligned face crops."""

from numbers import Integral

import numpy as np
from skimage.feature import hog
from sklearn.utils._param_validation import Interval, StrOptions

from facefeat.features._base import ImageTransformer

__all__ = ["HOGFeatures"]


class HOGFeatures(ImageTransformer):
    """HOG descriptor of each image, via :func:`skimage.feature.hog`.

    The defaults suit aligned 96 x 96 face crops: 12-pixel cells give an 8 x 8
    cell grid, i.e. cells about the size of an eye or a mouth corner, and
    2 x 2-cell blocks overlapping by one cell give 7 x 7 blocks, 1764 features.

    Parameters
    ----------
    orientations : int, default=9
        Number of unsigned orientation bins over [0, 180) degrees.
    pixels_per_cell : tuple of (int, int), default=(12, 12)
        Cell size in pixels (rows, cols).
    cells_per_block : tuple of (int, int), default=(2, 2)
        Block size in cells (rows, cols); blocks move by one cell.
    block_norm : {'L2-Hys', 'L2', 'L1', 'L1-sqrt'}, default='L2-Hys'
        Block normalisation, as in :func:`skimage.feature.hog`.
    transform_sqrt : bool, default=False
        Apply power-law (square root) compression to the image first.
        Images must then be non-negative.

    Attributes
    ----------
    image_shape_ : tuple of (int, int)
        Image shape seen in ``fit``; ``transform`` requires the same shape.
    n_features_out_ : int
        ``n_blocks_row * n_blocks_col * cells_per_block[0] * cells_per_block[1]
        * orientations``.

    Notes
    -----
    The features are exactly those of :func:`skimage.feature.hog` with
    ``feature_vector=True`` on each gray image (RGB input is first converted
    to gray), one image at a time. That implementation departs from [1]_: the
    votes go to a single orientation bin and a single cell (no bilinear or
    spatial interpolation), and blocks get no Gaussian spatial window.
    OpenCV's ``HOGDescriptor`` implements those refinements, so its features
    differ; it is also absent from OpenCV 5's main module.

    Feature names are ``hog_b{row}x{col}_c{row}x{col}_o{bin}``: the block's
    position in the block grid, the cell's position within the block, and the
    orientation bin, in the order of the flattened output.

    References
    ----------
    .. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
           detection", IEEE Conference on Computer Vision and Pattern
           Recognition (CVPR), vol. 1, pp. 886-893, 2005.
           :DOI:`10.1109/CVPR.2005.177`

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.feature import hog
    >>> faces = np.random.default_rng(0).integers(0, 256, (3, 96, 96), dtype=np.uint8)
    >>> est = HOGFeatures().fit(faces)
    >>> X = est.transform(faces)
    >>> X.shape
    (3, 1764)
    >>> est.get_feature_names_out()[[0, 9, 1763]].tolist()
    ['hog_b0x0_c0x0_o0', 'hog_b0x0_c0x1_o0', 'hog_b6x6_c1x1_o8']
    >>> bool(np.array_equal(X[1], hog(faces[1], 9, (12, 12), (2, 2), "L2-Hys")))
    True
    """

    _parameter_constraints = {
        "orientations": [Interval(Integral, 1, None, closed="left")],
        "pixels_per_cell": [tuple, list],
        "cells_per_block": [tuple, list],
        "block_norm": [StrOptions({"L2-Hys", "L2", "L1", "L1-sqrt"})],
        "transform_sqrt": ["boolean"],
    }

    # mixed shapes are refused by ImageTransformer, in every chunk and across chunks
    _one_shape = True

    def __init__(
        self,
        orientations=9,
        pixels_per_cell=(12, 12),
        cells_per_block=(2, 2),
        block_norm="L2-Hys",
        transform_sqrt=False,
    ):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.block_norm = block_norm
        self.transform_sqrt = transform_sqrt

    def _validate_params(self):
        super()._validate_params()
        self._pair("pixels_per_cell")
        self._pair("cells_per_block")

    def _block_grid(self, image_shape):
        """Number of block rows and columns for images of ``image_shape``."""
        (ppr, ppc), (cbr, cbc) = self._pair("pixels_per_cell"), self._pair("cells_per_block")
        n_br = image_shape[0] // ppr - cbr + 1
        n_bc = image_shape[1] // ppc - cbc + 1
        if n_br < 1 or n_bc < 1:
            raise ValueError(
                f"images of shape {tuple(image_shape)} are too small for one HOG block of "
                f"{cbr}x{cbc} cells of {ppr}x{ppc} pixels (need at least {cbr * ppr}x{cbc * ppc} pixels)"
            )
        return n_br, n_bc

    def _output_names(self, image_shape):
        n_br, n_bc = self._block_grid(image_shape)
        cbr, cbc = self._pair("cells_per_block")
        return [
            f"hog_b{br}x{bc}_c{cr}x{cc}_o{o}"
            for br in range(n_br)
            for bc in range(n_bc)
            for cr in range(cbr)
            for cc in range(cbc)
            for o in range(self.orientations)
        ]

    def _transform_images(self, images):
        # without fit (transform is allowed first) any single shape will do
        expected = tuple(self.image_shape_) if hasattr(self, "image_shape_") else None
        shape = images.shape[1:]
        if expected is not None and shape != expected:
            raise ValueError(f"HOGFeatures was fitted on images of shape {expected}; got images of shape {shape}")
        n_features = len(self._output_names(shape))
        ppc, cpb = self._pair("pixels_per_cell"), self._pair("cells_per_block")
        out = np.empty((len(images), n_features))
        for k, image in enumerate(images):
            out[k] = hog(
                image,
                orientations=self.orientations,
                pixels_per_cell=ppc,
                cells_per_block=cpb,
                block_norm=self.block_norm,
                transform_sqrt=self.transform_sqrt,
                feature_vector=True,
            )
        return out
