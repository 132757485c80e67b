"""Image frames of the ASM: gray conversion, the normalised face frame, 2x3 similarity maps.

Both training (:meth:`facefeat.shape.model.ActiveShapeModel.fit`) and search
(:class:`facefeat.shape.fitter.ASMFitter`) resample the image into a square
canvas in which the face has a fixed size and is upright; these helpers do
that and carry points and poses between the two frames.
"""

import cv2
import numpy as np

from facefeat.shape.pdm import Pose, align_similarity


def to_gray_u8(image):
    """A gray or RGB image as a contiguous (h, w) uint8 array (the dlib detector's input)."""
    image = np.asarray(image)
    if image.ndim == 3:
        image = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    if image.dtype != np.uint8:
        image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def to_gray_f32(image):
    """A gray or RGB image as a contiguous (h, w) float32 array (the profiles' input)."""
    image = np.asarray(image)
    if image.ndim == 3:
        if image.shape[2] != 3:
            raise ValueError(f"expected a gray (h, w) or RGB (h, w, 3) image, got shape {image.shape}")
        image = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    elif image.ndim != 2:
        raise ValueError(f"expected a gray (h, w) or RGB (h, w, 3) image, got shape {image.shape}")
    return np.ascontiguousarray(image, dtype=np.float32)


def normalise_frame(image, scale, centre, size, angle=0.0):
    """Resample ``image`` into a square canvas around a face.

    ``centre`` lands mid-canvas, the image is scaled by ``scale`` canvas
    pixels per image pixel and turned by ``-angle`` (so that a face rotated
    by ``angle`` comes out upright); outside the image its border pixels are
    repeated. Shrinking uses area averaging (no aliasing); only the part of
    the image that the canvas covers is resampled.

    Returns the (size, size) float32 canvas and the 2x3 map image -> canvas.
    """
    h, w = image.shape
    half = (size - 1) / 2
    radius = (half * np.sqrt(2) + 3) / scale  # image region the (rotated) canvas covers
    side = int(np.ceil(2 * radius)) + 2
    x0 = int(np.floor(centre[0] - radius))
    y0 = int(np.floor(centre[1] - radius))
    # the covered region, clipped to the image (at least one pixel)
    cx0, cy0 = min(max(x0, 0), w - 1), min(max(y0, 0), h - 1)
    cx1, cy1 = max(min(x0 + side, w), cx0 + 1), max(min(y0 + side, h), cy0 + 1)
    roi = image[cy0:cy1, cx0:cx1]
    rh, rw = roi.shape
    # one factor for both axes (rounding the output size changes it by < 1 pixel's worth)
    sw, sh = max(1, round(rw * scale)), max(1, round(rh * scale))
    fx, fy = sw / rw, sh / rh
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(roi, (sw, sh), interpolation=interp)
    # image -> resized ROI (pixel-centre convention of cv2.resize)
    A = np.array([[fx, 0.0, (0.5 - cx0) * fx - 0.5], [0.0, fy, (0.5 - cy0) * fy - 0.5]])
    c = A[:, :2] @ np.asarray(centre, dtype=float) + A[:, 2]
    co, si = np.cos(-angle), np.sin(-angle)
    R = np.array([[co, -si], [si, co]])
    T = np.hstack([R, (half - R @ c)[:, None]])
    canvas = cv2.warpAffine(small, T, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    M = np.hstack([T[:, :2] @ A[:, :2], (T[:, :2] @ A[:, 2] + T[:, 2])[:, None]])
    return canvas, M


def map_pose(M, pose):
    """The pose followed by the similarity ``M`` (2x3), as a :class:`Pose`."""
    P = pose.matrix
    A = M[:, :2] @ P[:, :2]
    t = M[:, :2] @ P[:, 2] + M[:, 2]
    return Pose(float(np.hypot(A[0, 0], A[1, 0])), float(np.arctan2(A[1, 0], A[0, 0])), float(t[0]), float(t[1]))


def apply_affine(M, pts):
    """Points (n, 2) mapped by the 2x3 matrix ``M``."""
    return np.asarray(pts, dtype=float) @ M[:, :2].T + M[:, 2]


def invert_affine(M):
    """The inverse of the 2x3 affine map ``M``."""
    A = np.linalg.inv(M[:, :2])
    return np.hstack([A, -(A @ M[:, 2])[:, None]])


def box_matches(box, shape, min_overlap=0.5):
    """Whether a detector box covers the face of ``shape`` (IoU with its landmark box)."""
    lo, hi = shape.min(axis=0), shape.max(axis=0)
    ix = max(0.0, min(box[2], hi[0]) - max(box[0], lo[0]))
    iy = max(0.0, min(box[3], hi[1]) - max(box[1], lo[1]))
    inter = ix * iy
    union = (box[2] - box[0]) * (box[3] - box[1]) + (hi[0] - lo[0]) * (hi[1] - lo[1]) - inter
    return union > 0 and inter / union >= min_overlap


def relative_pose(mean, shape, box):
    """Similarity mean -> shape expressed relative to ``box``: [s/w, angle, dx/w, dy/w]."""
    pose = align_similarity(mean, shape)
    w = box[2] - box[0]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return [pose.scale / w, pose.angle, (pose.tx - cx) / w, (pose.ty - cy) / w]
