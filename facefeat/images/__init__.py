"""Where faces come from: image files read robustly, data sets of labelled faces, a synthetic demo set.

=====================================  ==================================================
:mod:`facefeat.images.io`              :func:`read_image`, :func:`read_images`, one error type
:mod:`facefeat.images.errors`          :class:`ImageReadError` and the warnings of reading
:mod:`facefeat.images.datasets`        :class:`FaceDataset`, :func:`load_folder`, layouts
:mod:`facefeat.images.synthetic`       :func:`make_expressions`, faces drawn from one photo
=====================================  ==================================================
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "io": ["read_image", "read_images", "is_image_file"],
    "errors": ["ImageReadError", "SkippedImagesWarning", "display_path"],
    "datasets": ["FaceDataset", "load_folder", "CLASSES"],
    "synthetic": ["make_expressions"],
})
