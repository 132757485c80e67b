"""Ready-to-use analysis: every face of a photo or a video, its expression, valence and arousal.

* :func:`~facefeat.analysis.analyze.analyze`: one call, one record per face
  (and sampled video frame);
* :func:`~facefeat.analysis.records.face_records`: the records of one image;
* :mod:`facefeat.analysis.video`: video files sampled frame by frame;
* :class:`~facefeat.analysis.tracks.FaceTracker`: face tracks across frames.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "analyze": ["analyze", "analyze_video", "load_pipeline"],
    "records": ["face_records"],
    "tracks": ["FaceTracker", "box_iou"],
    "video": ["sample_frames", "video_info", "write_video", "VideoReadError"],
})
