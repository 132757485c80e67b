"""A small synthetic facial-expression data set made from one real face.

:func:`make_expressions` warps the public-domain portrait that scikit-image
ships (``skimage.data.astronaut()``, NASA astronaut Eileen Collins) into
pseudo-subjects showing posed expressions, with exact ground-truth landmarks.
It is the default data for the demo run and for the tests: deterministic,
fast, needs no download and no dlib at generation time.
"""

from numbers import Integral

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator

from facefeat.images.datasets import FaceDataset
from facefeat.faces.landmarks import (
    INNER_LIPS,
    JAW,
    LEFT_BROW,
    LEFT_EYE,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    NOSE_BASE,
    NOSE_BRIDGE,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE,
    eye_centres,
)

__all__ = ["make_expressions", "EXPRESSIONS", "DEFAULT_CLASSES"]

DEFAULT_CLASSES = ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")

# The base crop: a square window of ``astronaut()`` (512 x 512 RGB), given as
# (x0, y0, side) in the photo's pixels. The face (jaw width 93 px) is ~53 % of
# the window; the head is in it down to the top few pixels of the hair (at
# y ~ 26), a compromise that leaves room for an open jaw, scale 1.1, rotation
# and shift without landmarks leaving the image.
_CROP_X0, _CROP_Y0, _CROP = 138, 32, 176

# 68 iBUG landmarks of the base face, (x, y), 0-based, in the crop frame above.
# Obtained once with dlib 20.0.1 (dlib-bin) on the full RGB ``skimage.data.astronaut()``:
# ``dlib.get_frontal_face_detector()(img, 1)`` (the largest of two boxes,
# [(175, 76) (265, 166)]) then ``dlib.shape_predictor(
# packaged_model_path("shape_predictor_68"))``, minus (_CROP_X0, _CROP_Y0).
# (dlib returns whole pixels.)
# Note the photo is smiling with the teeth showing; the generator "closes" the
# mouth first (``_neutral_shape``) to get the neutral face.
_BASE_LANDMARKS = np.array([
    [41, 72], [42, 84], [43, 95], [44, 107], [47, 118], [53, 128],
    [62, 136], [71, 144], [82, 146], [94, 145], [105, 139], [115, 131],
    [122, 122], [127, 111], [130, 99], [132, 88], [134, 76], [48, 62],
    [54, 56], [62, 55], [70, 57], [78, 60], [98, 61], [106, 59],
    [114, 59], [122, 60], [127, 67], [88, 70], [87, 79], [87, 87],
    [87, 95], [76, 99], [81, 101], [86, 102], [91, 101], [96, 100],
    [57, 69], [62, 66], [69, 66], [74, 72], [68, 72], [61, 72],
    [99, 74], [105, 68], [112, 68], [117, 73], [112, 75], [106, 75],
    [63, 107], [71, 107], [80, 107], [86, 109], [92, 108], [100, 108],
    [108, 109], [100, 119], [91, 123], [84, 124], [78, 123], [70, 118],
    [66, 109], [80, 111], [85, 112], [92, 111], [105, 110], [91, 118],
    [85, 119], [79, 118],
], dtype=float)

# Sub-groups of the iBUG regions, taken by position inside the named regions.
_UPPER_LIDS = RIGHT_EYE[1:3] + LEFT_EYE[1:3]          # 37 38 43 44
_LOWER_LIDS = RIGHT_EYE[4:6] + LEFT_EYE[4:6]          # 40 41 46 47
# brow points counted from the inner end outwards, both sides together
_BROW_RANK = [(RIGHT_BROW[-1 - k], LEFT_BROW[k]) for k in range(len(LEFT_BROW))]
_INNER_CORNERS = (INNER_LIPS[0], INNER_LIPS[4])       # 60 64
_UPPER_OUTER = OUTER_LIPS[1:6]                        # 49 .. 53
_LOWER_OUTER = OUTER_LIPS[7:12]                       # 55 .. 59
_UPPER_INNER = INNER_LIPS[1:4]                        # 61 62 63
_LOWER_INNER = INNER_LIPS[5:8][::-1]                  # 67 66 65, paired with 61 62 63
_CHIN = JAW[len(JAW) // 2]                            # 8
_NEAR_CORNERS = (OUTER_LIPS[1], OUTER_LIPS[5], OUTER_LIPS[7], OUTER_LIPS[11])  # 49 53 55 59
_MID_UPPER_OUTER = OUTER_LIPS[2:5]                    # 50 51 52
_MID_LOWER_OUTER = OUTER_LIPS[8:11]                   # 56 57 58


def _jaw_profile(width):
    """Weights of the jaw contour points for a chin movement: 1 at the chin."""
    return {j: max(0.0, 1.0 - abs(j - _CHIN) / width) for j in JAW}


# Expression rules: lists of (indices, up, out), in units of the inter-ocular
# distance D (between eye centres). ``up`` > 0 moves the points up, ``out`` > 0
# moves them away from the face's vertical midline. Applied to the neutral
# shape of a subject, scaled by a per-image intensity.
def _brows(rank_moves):
    """Brow rule from (up, out) per rank, inner end first."""
    return [(_BROW_RANK[k], up, out) for k, (up, out) in enumerate(rank_moves)]


def _jaw_drop(amount, width=5.0):
    return [((j,), -amount * w, 0.0) for j, w in _jaw_profile(width).items() if w > 0]


EXPRESSIONS = {
    "neutral": [],
    "happiness": [
        ((MOUTH_RIGHT, MOUTH_LEFT), 0.13, 0.08),
        (_INNER_CORNERS, 0.11, 0.06),
        (_UPPER_OUTER[::4], 0.05, 0.04),
        (_LOWER_OUTER[::4], 0.05, 0.05),
        (_MID_LOWER_OUTER, -0.10, 0.0),
        (_LOWER_INNER, -0.11, 0.0),
        (_LOWER_LIDS, 0.04, 0.0),
        *_jaw_drop(0.06),
    ],
    "sadness": [
        ((MOUTH_RIGHT, MOUTH_LEFT), -0.10, -0.02),
        (_INNER_CORNERS, -0.08, -0.01),
        (_NEAR_CORNERS, -0.04, 0.0),
        (_MID_LOWER_OUTER, 0.03, 0.0),
        *_brows([(0.14, -0.02), (0.08, 0.0), (0.02, 0.0), (-0.01, 0.0), (-0.03, 0.0)]),
        (_UPPER_LIDS, -0.03, 0.0),
    ],
    "surprise": [
        *_brows([(0.19, 0.0), (0.22, 0.0), (0.23, 0.0), (0.2, 0.0), (0.16, 0.0)]),
        (_UPPER_LIDS, 0.06, 0.0),
        (_LOWER_LIDS, -0.02, 0.0),
        ((MOUTH_RIGHT, MOUTH_LEFT), -0.12, -0.05),
        (_INNER_CORNERS, -0.12, -0.04),
        (_MID_UPPER_OUTER, 0.02, 0.0),
        (_UPPER_INNER, 0.02, 0.0),
        (_LOWER_OUTER[::4], -0.22, -0.02),
        (_MID_LOWER_OUTER, -0.32, 0.0),
        (_LOWER_INNER, -0.32, 0.0),
        *_jaw_drop(0.28),
    ],
    "anger": [
        *_brows([(-0.11, -0.07), (-0.08, -0.05), (-0.05, -0.03), (-0.03, 0.0), (-0.01, 0.0)]),
        (_UPPER_LIDS, -0.04, 0.0),
        (_LOWER_LIDS, 0.03, 0.0),
        ((MOUTH_RIGHT, MOUTH_LEFT), 0.0, -0.06),
        (_INNER_CORNERS, 0.0, -0.05),
        (_NEAR_CORNERS, 0.0, -0.03),
        (_MID_UPPER_OUTER, -0.025, 0.0),
        (_MID_LOWER_OUTER, 0.045, 0.0),
        ((NOSE_BASE[0], NOSE_BASE[-1]), 0.0, 0.02),
        *_jaw_drop(-0.02, 3.0),
    ],
    "disgust": [
        (_MID_UPPER_OUTER, 0.10, 0.0),
        (_UPPER_OUTER[::4], 0.07, 0.0),
        (_UPPER_INNER, 0.09, 0.0),
        ((MOUTH_RIGHT, MOUTH_LEFT), 0.02, 0.0),
        (_MID_LOWER_OUTER, 0.02, 0.0),
        (NOSE_BASE[1:4], 0.06, 0.0),
        ((NOSE_BASE[0], NOSE_BASE[-1]), 0.05, 0.02),
        (NOSE_BRIDGE[-1:], 0.03, 0.0),
        *_brows([(-0.05, -0.03), (-0.04, -0.02), (-0.03, 0.0), (-0.02, 0.0), (-0.02, 0.0)]),
        (_LOWER_LIDS, 0.04, 0.0),
        (_UPPER_LIDS, -0.02, 0.0),
    ],
    "fear": [
        *_brows([(0.17, -0.05), (0.14, -0.03), (0.1, 0.0), (0.07, 0.0), (0.04, 0.0)]),
        (_UPPER_LIDS, 0.07, 0.0),
        (_LOWER_LIDS, -0.02, 0.0),
        ((MOUTH_RIGHT, MOUTH_LEFT), -0.04, 0.11),
        (_INNER_CORNERS, -0.04, 0.10),
        (_NEAR_CORNERS, -0.01, 0.05),
        (_MID_LOWER_OUTER, -0.09, 0.0),
        (_LOWER_INNER, -0.10, 0.0),
        *_jaw_drop(0.07),
    ],
    "contempt": [  # unilateral: the subject's left lip corner (image right)
        ((MOUTH_LEFT,), 0.08, 0.06),
        ((INNER_LIPS[4],), 0.07, 0.05),
        ((OUTER_LIPS[5], OUTER_LIPS[7]), 0.04, 0.03),
    ],
}

_INTENSITY = (0.6, 1.0)


def _midline(shape):
    return shape[list(NOSE_BRIDGE), 0].mean()


def _iod(shape):
    right, left = eye_centres(shape)
    return float(np.linalg.norm(left - right))


def _apply_rule(shape, rule, scale):
    """Displacement (68, 2) of ``rule`` on ``shape``, with D * intensity = scale."""
    d = np.zeros_like(shape)
    mid = _midline(shape)
    for idx, up, out in rule:
        idx = list(idx)
        d[idx, 1] -= up * scale
        d[idx, 0] += out * scale * np.sign(shape[idx, 0] - mid)
    return d


def _neutral_shape():
    """Base landmarks with the smile undone: mouth closed, corners lowered."""
    s = _BASE_LANDMARKS.copy()
    D = _iod(s)
    mid = _midline(s)
    close = []
    for u, l in zip(_UPPER_INNER, _LOWER_INNER):
        c = (s[l, 1] - s[u, 1]) - 0.03 * D
        close.append(c)
        s[u, 1] += 0.3 * c
        s[l, 1] -= 0.7 * c
    lift = 0.7 * float(np.mean(close))
    s[list(_LOWER_OUTER), 1] -= lift
    for j, w in _jaw_profile(5.0).items():
        s[j, 1] -= 0.7 * lift * w
    for idx, down, inward in (((MOUTH_RIGHT, MOUTH_LEFT), 0.10, 0.04),
                              (_INNER_CORNERS, 0.06, 0.03),
                              (_NEAR_CORNERS, 0.03, 0.0)):
        idx = list(idx)
        s[idx, 1] += down * D
        s[idx, 0] -= inward * D * np.sign(s[idx, 0] - mid)
    s[list(_LOWER_LIDS), 1] += 0.02 * D
    return s


_NEUTRAL = _neutral_shape()
_D0 = _iod(_BASE_LANDMARKS)
# centre of the face's landmark box: the centre of the random similarity
_FACE_CENTRE = (_BASE_LANDMARKS.min(axis=0) + _BASE_LANDMARKS.max(axis=0)) / 2
# landmarks are kept at least this fraction of the size inside the image
_MARGIN = 0.02
# in-plane roll of the photo's eye line (~3.5 degrees); the random rotation is
# drawn about the upright face
_EYE_R, _EYE_L = eye_centres(_BASE_LANDMARKS)
_ROLL = float(np.arctan2(_EYE_L[1] - _EYE_R[1], _EYE_L[0] - _EYE_R[0]))
# teeth visible in the photo's open smile: bands kept below the upper / above
# the lower inner lip when the mouth opens wider; the rest is darkened
_TEETH_UP, _TEETH_LOW = 0.10, 0.03


def _subject_shape(rng):
    """A pseudo-subject: smooth random changes of the neutral face's proportions."""
    s = _NEUTRAL.copy()
    D = _D0
    mid = _midline(s)
    eye_y = np.mean(eye_centres(s), axis=0)[1]
    jaw = list(JAW)
    a, b, c, e, f, g = rng.uniform(-1, 1, 6) * np.array([0.06, 0.06, 0.05, 0.05, 0.06, 0.04]) * D
    # face width: jaw contour scaled about the midline (ends move by a)
    half = np.abs(s[jaw, 0] - mid).max()
    s[jaw, 0] += a * (s[jaw, 0] - mid) / half
    # face height: lower face stretched below the eyes (chin moves by b)
    lower = np.clip((s[:, 1] - eye_y) / (s[_CHIN, 1] - eye_y), 0, None)
    lower[list(RIGHT_EYE + LEFT_EYE + RIGHT_BROW + LEFT_BROW)] = 0
    s[:, 1] += b * lower
    # eye distance: eyes and brows move apart by c
    for part in (RIGHT_EYE + RIGHT_BROW, LEFT_EYE + LEFT_BROW):
        part = list(part)
        s[part, 0] += 0.5 * c * np.sign(s[part, 0].mean() - mid)
    # nose length: nose base and the lower bridge move down by e
    s[list(NOSE_BASE), 1] += e
    s[list(NOSE_BRIDGE), 1] += e * np.linspace(0, 0.75, len(NOSE_BRIDGE))
    # mouth width: corners out by f / 2, their neighbours half as far
    for idx, w in (((MOUTH_RIGHT, MOUTH_LEFT) + _INNER_CORNERS, 0.5), (_NEAR_CORNERS, 0.25)):
        idx = list(idx)
        s[idx, 0] += w * f * np.sign(s[idx, 0] - mid)
    # brow height
    s[list(RIGHT_BROW + LEFT_BROW), 1] -= g
    return s


def _anchors(rings=((1.3, 8), (1.9, 4))):
    """Fixed points on squares around the crop: zero displacement there.

    ``rings`` holds (side relative to the crop, points per side).
    """
    centre = (_CROP - 1) / 2
    pts = []
    for r, n_side in rings:
        h = r * _CROP / 2
        for v in np.linspace(-1, 1, n_side + 1)[:-1]:
            pts += [(v * h, -h), (h, v * h), (-v * h, h), (-h, -v * h)]
    return np.asarray(pts) + centre


_ANCHORS = _anchors()


def _source_image(color, size):
    """The astronaut photo as float32, pre-blurred for the output scale."""
    from skimage import data

    img = data.astronaut()
    img = img.astype(np.float32) if color else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    factor = _CROP / size
    if factor > 1:
        img = cv2.GaussianBlur(img, (0, 0), 0.5 * np.sqrt(factor ** 2 - 1))
    return img


def _as_seed(random_state):
    """A non-negative int seed from ``random_state`` (None: fresh entropy)."""
    if isinstance(random_state, Integral) and random_state < 0:
        raise ValueError(f"random_state must be non-negative, got {random_state}")
    if random_state is None or isinstance(random_state, Integral):
        return np.random.SeedSequence(random_state).entropy
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2 ** 63))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2 ** 31))
    raise ValueError(f"random_state must be None, an int, a Generator or a RandomState, got {random_state!r}")


def _render(src, target, sim, size, lighting, noise, rng, color):
    """Warp ``src`` so the base landmarks land on ``target``, then move by ``sim``.

    ``sim`` = (scale, angle in rad, tx, ty): a similarity about the face
    centre applied after the crop is resized to ``size``. The shift is
    reduced where needed to keep every landmark ``_MARGIN * size`` inside.
    Returns the uint8 image and the landmarks in its frame.
    """
    k = size / _CROP * sim[0]
    cos, sin = np.cos(sim[1]), np.sin(sim[1])
    R = np.array([[cos, -sin], [sin, cos]])
    fc = _FACE_CENTRE
    oc = (fc - (_CROP - 1) / 2) * size / _CROP + (size - 1) / 2 + np.array(sim[2:])

    def to_out(p):
        return k * (p - fc) @ R.T + oc

    def to_crop(o):
        return (o - oc) @ R / k + fc

    out = to_out(target)
    lo, hi = _MARGIN * size, (size - 1) * (1 - _MARGIN)
    shift = np.maximum(lo - out.min(axis=0), 0) - np.maximum(out.max(axis=0) - hi, 0)
    oc = oc + shift
    out = out + shift

    # backward displacement field (crop frame): target -> base position
    dst = np.vstack([target, _ANCHORS])
    disp = np.vstack([_BASE_LANDMARKS - target, np.zeros_like(_ANCHORS)])
    field = RBFInterpolator(dst, disp, kernel="thin_plate_spline")
    # evaluated on a coarse grid of output pixels, upsampled bilinearly
    g = min(64, max(16, -(-size // 2)))
    coarse = (np.arange(g) + 0.5) * size / g - 0.5
    gx, gy = np.meshgrid(coarse, coarse)
    d = field(to_crop(np.column_stack([gx.ravel(), gy.ravel()]))).astype(np.float32)
    dx = cv2.resize(d[:, 0].reshape(g, g), (size, size), interpolation=cv2.INTER_LINEAR)
    dy = cv2.resize(d[:, 1].reshape(g, g), (size, size), interpolation=cv2.INTER_LINEAR)
    ox, oy = np.meshgrid(np.arange(size, dtype=float), np.arange(size, dtype=float))
    c = to_crop(np.stack([ox, oy], axis=-1))
    mapx = (c[..., 0] + dx + _CROP_X0).astype(np.float32)
    mapy = (c[..., 1] + dy + _CROP_Y0).astype(np.float32)
    img = cv2.remap(src, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)

    _darken_mouth(img, out, k)
    gain, gamma, contrast, offset, tint = lighting
    u = np.linspace(-0.5, 0.5, size)
    gmap = (1 + gain[0] * u[None, :] + gain[1] * u[:, None]).astype(np.float32)
    if color:
        gmap = gmap[..., None] * tint.astype(np.float32)
    img = 255 * (np.clip(img * gmap, 0, 255) / 255) ** gamma
    img = (img - 128) * contrast + 128 + offset
    img += rng.normal(0, noise, img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), out


def _darken_mouth(img, shape, k):
    """Darken the inside of the inner-lip polygon where the mouth is open.

    A closed mouth (inner-lip gap below 0.04 D) gets a dark lip line instead
    of the squeezed teeth of the photo; a wider gap first shows teeth bands
    below the upper and above the lower lip, and is dark in between.
    """
    D = _D0 * k
    upper, lower = shape[list(_UPPER_INNER)], shape[list(_LOWER_INNER)]
    gap = float(np.min(lower[:, 1] - upper[:, 1])) / D
    teeth = float(np.clip((gap - 0.04) / 0.08, 0, 1))
    up = upper + [0, teeth * _TEETH_UP * D]
    low = lower - [0, teeth * _TEETH_LOW * D]
    dark = float(np.min(low[:, 1] - up[:, 1])) / D
    if teeth > 0 and dark <= 0:
        return
    strength = 0.55 if teeth == 0 else 0.8 * min(1.0, dark / 0.08)
    poly = np.vstack([shape[INNER_LIPS[0]], up, shape[INNER_LIPS[4]], low[::-1]])
    mask = np.zeros(img.shape[:2], np.float32)
    cv2.fillPoly(mask, [np.rint(poly * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=4)
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.6, 0.02 * D))
    if img.ndim == 3:
        mask = mask[..., None]
    img *= 1 - strength * mask


def make_expressions(n_subjects=6, n_per_class=3, size=128, classes=None, color=False, random_state=0):
    """Synthetic posed facial expressions warped from one real, public-domain face.

    Parameters
    ----------
    n_subjects : int, default=6
        Number of pseudo-subjects (identities), at least 1.
    n_per_class : int, default=3
        Images per subject and class, at least 1.
    size : int, default=128
        Side of the square output images in pixels, at least 64.
    classes : sequence of str, optional
        Expressions to make, in this order. Default: ``("anger", "disgust",
        "fear", "happiness", "neutral", "sadness", "surprise")``;
        ``"contempt"`` is also available.
    color : bool, default=False
        RGB images of shape (size, size, 3) instead of gray (size, size).
    random_state : int, numpy Generator, RandomState or None, default=0
        Seed. The same int gives identical images. A subject's identity does
        not depend on ``classes`` or ``n_per_class``, nor an image on the
        other classes asked for.

    Returns
    -------
    FaceDataset
        ``n_subjects * len(classes) * n_per_class`` images ordered by subject,
        then class, then repetition, with

        - ``labels`` : ndarray of str of shape (n_images,)
        - ``images`` : list of uint8 ndarray of shape (size, size) or (size, size, 3)
        - ``groups`` : ndarray of str of shape (n_images,), ``"synth01"``, ...
        - ``landmarks`` : ndarray of shape (n_images, 68, 2), exact iBUG-68
          ground truth in each image's pixel frame, (x, y), 0-based
        - ``name="synthetic"``, ``layout="synthetic"``.

    Raises
    ------
    ValueError
        Unknown or repeated class names, ``n_subjects`` or ``n_per_class``
        below 1, ``size`` below 64.

    Notes
    -----
    How it is made. The base is a square crop around the head of
    ``skimage.data.astronaut()`` (Eileen Collins, NASA, public domain); its
    68 landmarks were found once with dlib and are stored in this module.
    The photo smiles, so the mouth is first closed and the lip corners
    lowered to give the neutral shape. Each pseudo-subject changes that
    shape's proportions (face width and height, eye distance, nose length,
    mouth width, brow height; up to 4-6 % of the inter-ocular distance D)
    and gets its own lighting (linear gain gradient, gamma, contrast,
    brightness, and a colour tint when ``color``). Each expression is a
    rule in :data:`EXPRESSIONS` moving named landmark groups by fractions
    of D (e.g. surprise: brows up ~0.2 D, upper lids up, jaw and lower lip
    down ~0.3 D), scaled by a random intensity in [0.6, 1.0]. The image is
    warped so the photo's landmarks land on the new ones: a thin-plate-spline
    displacement field (:class:`scipy.interpolate.RBFInterpolator`, pinned
    to zero on squares around the crop so the background stays still) is
    evaluated on a grid of every other output pixel (at most 64 x 64),
    upsampled and applied with :func:`cv2.remap`, together with a random
    similarity about the face centre (scale 0.9-1.1, rotation +-10 degrees
    from the upright eye line, shift +-5 % of ``size``, the shift reduced
    in the rare case a landmark would come within 2 % of the border) that
    is applied to the landmarks too. Where the mouth opens beyond the
    photo's teeth, the middle of the inner-lip polygon is darkened; a
    closed mouth gets a dark lip line. Gaussian noise (sigma 1-3 grey
    levels) is added last. The landmarks are exact up to the bilinear
    upsampling of the field (below 0.3 px, up to ~0.6 px at the inner lips
    of a closed mouth, where the photo's teeth are squeezed to a line).

    Limits. Every subject is the same person with reshaped features: there
    is no variation of identity, age, sex, skin, hair, pose out of the image
    plane or occlusion, and the expressions are stereotyped geometric
    rules without wrinkles, bulges or real mouth interiors. The landmark
    geometry alone separates the classes almost perfectly. It is meant for
    demos, tests and smoke checks of pipelines; scores on it say nothing
    about performance on real faces and it is no substitute for real data.
    dlib's HOG face detector (upsampling once) finds every face of the
    default set at ``size=128``; for other seeds about 0.3 % of the images
    (strong anger or disgust rolled 8-10 degrees) are missed, and at
    ``size=64`` (1 of the 126 default faces missed) faces get small for it.

    Examples
    --------
    >>> ds = make_expressions(n_subjects=2, n_per_class=1)
    >>> len(ds), ds.images[0].shape, ds.images[0].dtype
    (14, (128, 128), dtype('uint8'))
    >>> ds.classes[:3], str(ds.groups[0]), ds.landmarks.shape
    (['anger', 'disgust', 'fear'], 'synth01', (14, 68, 2))
    """
    for name, value, low in (("n_subjects", n_subjects, 1), ("n_per_class", n_per_class, 1), ("size", size, 64)):
        if not isinstance(value, Integral) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    known = sorted(EXPRESSIONS)
    if classes is None:
        classes = DEFAULT_CLASSES
    if isinstance(classes, str):
        raise ValueError(f"classes must be a sequence of class names, got the string {classes!r}")
    classes = [str(c) for c in classes]
    unknown = [c for c in classes if c not in EXPRESSIONS]
    if unknown:
        raise ValueError(f"unknown classes {unknown}; known: {', '.join(known)}")
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be non-empty and without repeats, got {classes}")
    n_subjects, n_per_class, size = int(n_subjects), int(n_per_class), int(size)

    seed = _as_seed(random_state)
    src = _source_image(color, size)
    labels, images, groups, shapes = [], [], [], []
    for s in range(n_subjects):
        srng = np.random.default_rng([seed, 0, s])
        subject = _subject_shape(srng)
        D = _iod(subject)
        lighting = (
            srng.uniform(-0.35, 0.35, 2),          # gain gradient across x, y
            float(srng.uniform(0.75, 1.3)),        # gamma
            float(srng.uniform(0.75, 1.15)),       # contrast
            float(srng.uniform(-15, 15)),          # brightness
            srng.uniform(0.92, 1.08, 3),           # colour tint (colour only)
        )
        for c in classes:
            for r in range(n_per_class):
                irng = np.random.default_rng([seed, 1, s, known.index(c), r])
                intensity = irng.uniform(*_INTENSITY)
                target = subject + _apply_rule(subject, EXPRESSIONS[c], D * intensity)
                sim = (
                    irng.uniform(0.9, 1.1),
                    np.deg2rad(irng.uniform(-10, 10)) - _ROLL,
                    *irng.uniform(-0.05, 0.05, 2) * size,
                )
                img, shape = _render(src, target, sim, size, lighting, irng.uniform(1, 3), irng, color)
                labels.append(c)
                images.append(img)
                groups.append(f"synth{s + 1:02d}")
                shapes.append(shape)
    return FaceDataset(
        labels=np.array(labels),
        images=images,
        groups=np.array(groups),
        landmarks=np.array(shapes),
        name="synthetic",
        layout="synthetic",
    )
