"""The iBUG-68 landmark scheme, named once.

Shapes everywhere in facefeat are ``(68, 2)`` float arrays in ``(x, y)`` order,
0-based pixel coordinates. Indices follow the 300-W / iBUG convention
(Sagonas et al. 2016, doi:10.1016/j.imavis.2016.01.002), which is also the
order of dlib's 68-point predictor. "Left" and "right" are the subject's, so
the subject's right eye (36-41) appears on the image's left.
"""

import numpy as np

N_LANDMARKS = 68

JAW = tuple(range(0, 17))
RIGHT_BROW = tuple(range(17, 22))
LEFT_BROW = tuple(range(22, 27))
NOSE_BRIDGE = tuple(range(27, 31))
NOSE_BASE = tuple(range(31, 36))
RIGHT_EYE = tuple(range(36, 42))
LEFT_EYE = tuple(range(42, 48))
OUTER_LIPS = tuple(range(48, 60))
INNER_LIPS = tuple(range(60, 68))

REGIONS = {
    "jaw": JAW,
    "right_brow": RIGHT_BROW,
    "left_brow": LEFT_BROW,
    "nose_bridge": NOSE_BRIDGE,
    "nose_base": NOSE_BASE,
    "right_eye": RIGHT_EYE,
    "left_eye": LEFT_EYE,
    "outer_lips": OUTER_LIPS,
    "inner_lips": INNER_LIPS,
}

# outer eye corners: the 300-W normaliser for landmark error
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 36, 45
MOUTH_RIGHT, MOUTH_LEFT = 48, 54


def eye_centres(shape):
    """Centres of the subject's right and left eye.

    Parameters
    ----------
    shape : ndarray of shape (..., 68, 2)
        Landmarks in (x, y) order.

    Returns
    -------
    right, left : ndarray of shape (..., 2)
        Mean of the six points of each eye; ``right`` is on the image's left.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.zeros((68, 2)); s[36:42] = [10, 20]; s[42:48] = [30, 20]
    >>> [c.tolist() for c in eye_centres(s)]
    [[10.0, 20.0], [30.0, 20.0]]
    """
    shape = np.asarray(shape, dtype=float)
    if shape.shape[-2:] != (N_LANDMARKS, 2):
        raise ValueError(f"expected landmarks of shape (..., 68, 2), got {shape.shape}")
    return shape[..., RIGHT_EYE, :].mean(axis=-2), shape[..., LEFT_EYE, :].mean(axis=-2)
