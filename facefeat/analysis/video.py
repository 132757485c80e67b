"""Video files read frame by frame, sampled at a given rate, in bounded memory."""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["VIDEO_SUFFIXES", "VideoReadError", "VideoInfo", "is_video_file", "video_info", "sample_frames",
           "write_video"]

#: File name endings read as videos (through OpenCV's FFmpeg backend).
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"})


class VideoReadError(ValueError):
    """A video file that cannot be opened or holds no readable frame.

    Examples
    --------
    >>> try:
    ...     video_info("missing.mp4")
    ... except VideoReadError as err:
    ...     print(err)
    missing.mp4: no such file
    """


@dataclass(frozen=True)
class VideoInfo:
    """What a video file says about itself.

    Attributes
    ----------
    fps : float
        Frames per second (nan when the file does not say).
    n_frames : int
        Frames the container announces (may be 0 or wrong for some files).
    width, height : int

    Examples
    --------
    >>> VideoInfo(fps=25.0, n_frames=250, width=640, height=480).duration_s
    10.0
    """

    fps: float
    n_frames: int
    width: int
    height: int

    @property
    def duration_s(self):
        """Length in seconds (nan when the frame rate is unknown)."""
        return self.n_frames / self.fps if self.fps > 0 else math.nan


def is_video_file(path):
    """Whether a path names a video file (by its ending).

    Examples
    --------
    >>> is_video_file("talk.MP4"), is_video_file("face.png")
    (True, False)
    """
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _open(path):
    import cv2

    path = Path(path)
    if not path.is_file():
        raise VideoReadError(f"{path}: {'not a file' if path.exists() else 'no such file'}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoReadError(f"{path}: not a video OpenCV can read (damaged, or a codec its FFmpeg lacks)")
    return cap


def video_info(path):
    """Frame rate, frame count and size of a video file.

    Parameters
    ----------
    path : str or path-like
        A video file; :class:`VideoReadError` when it does not exist or is
        not a readable video.

    Returns
    -------
    VideoInfo

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = write_video(os.path.join(tempfile.mkdtemp(), "clip.avi"), [np.zeros((48, 64), np.uint8)] * 10, fps=5)
    >>> info = video_info(path)
    >>> info.fps, info.n_frames, (info.width, info.height), info.duration_s
    (5.0, 10, (64, 48), 2.0)
    """
    import cv2

    cap = _open(path)
    try:
        fps = cap.get(cv2.CAP_PROP_FPS)
        return VideoInfo(fps=float(fps) if fps and fps > 0 else math.nan,
                         n_frames=max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))),
                         width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        cap.release()


def sample_frames(path, fps=2.0):
    """The frames of a video at about ``fps`` frames per second, one at a time.

    Frames between the samples are skipped without being decoded to images,
    and only one frame is held at a time, so an hour of video needs no more
    memory than a second of it.

    Parameters
    ----------
    path : str or path-like
    fps : float, default=2.0
        Samples per second of video; at most the video's own frame rate
        (every frame).

    Yields
    ------
    frame : int
        Index of the frame in the file (0 first).
    time_s : float
        Its time in seconds.
    image : ndarray of shape (h, w, 3), uint8
        The frame, RGB.

    Raises
    ------
    VideoReadError
        The file cannot be opened, or not a single frame of it can be read.
    ValueError
        ``fps`` is not positive.

    Examples
    --------
    A two-second video of 10 frames per second, sampled at 2:

    >>> import os, tempfile
    >>> import numpy as np
    >>> frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(20)]
    >>> path = write_video(os.path.join(tempfile.mkdtemp(), "clip.avi"), frames, fps=10)
    >>> [(frame, time_s) for frame, time_s, _ in sample_frames(path, fps=2)]
    [(0, 0.0), (5, 0.5), (10, 1.0), (15, 1.5)]
    """
    import cv2

    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    cap = _open(path)
    try:
        native = cap.get(cv2.CAP_PROP_FPS)
        native = float(native) if native and native > 0 else 25.0  # a file that does not say: the PAL rate
        step = max(1, round(native / fps))
        frame, n_read = 0, 0
        while True:
            if frame % step == 0:
                ok, bgr = cap.read()
                if not ok:
                    break
                n_read += 1
                yield frame, round(frame / native, 6), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            elif not cap.grab():
                break
            frame += 1
        if n_read == 0:
            raise VideoReadError(f"{path}: no frame could be read (an empty or damaged video)")
    finally:
        cap.release()


def write_video(path, frames, fps):
    """Write frames to a video file (Motion JPEG in AVI; the codec OpenCV's FFmpeg picks for others).

    Parameters
    ----------
    path : str or path-like
        The file; its ending chooses the container (``.avi``: Motion JPEG,
        readable everywhere; ``.mp4``: MPEG-4 part 2).
    frames : iterable of ndarray of shape (h, w) or (h, w, 3), uint8
        Gray or RGB frames, all of the first one's size; streamed, not held.
    fps : float

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        No frames, frames of different sizes, or a file OpenCV cannot write.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = write_video(os.path.join(tempfile.mkdtemp(), "grey.avi"), [np.full((32, 32), 128, np.uint8)] * 4, 2)
    >>> video_info(path).n_frames
    4
    """
    import cv2

    path, out = Path(path), None
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.suffix.lower() in {".mp4", ".m4v", ".mov"} else "MJPG"))
    try:
        for i, frame in enumerate(frames):
            frame = np.asarray(frame)
            if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
                raise ValueError(f"frame {i}: a uint8 image (h, w) or (h, w, 3) is needed, got {frame.dtype} "
                                 f"{frame.shape}")
            bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR if frame.ndim == 2 else cv2.COLOR_RGB2BGR)
            if out is None:
                size = bgr.shape[1], bgr.shape[0]
                out = cv2.VideoWriter(str(path), fourcc, float(fps), size)
                if not out.isOpened():
                    raise ValueError(f"{path}: OpenCV cannot write this video file")
            elif (bgr.shape[1], bgr.shape[0]) != size:
                raise ValueError(f"frame {i} is {bgr.shape[1]}x{bgr.shape[0]}, the first was {size[0]}x{size[1]}")
            out.write(bgr)
        if out is None:
            raise ValueError("no frames to write")
    finally:
        if out is not None:
            out.release()
    return path
