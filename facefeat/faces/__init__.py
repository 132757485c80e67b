"""Face preparation: detection, 68 landmarks, alignment to a canonical crop, and the batch that carries them.

=====================================  ==================================================
:mod:`facefeat.faces.align`            :class:`FaceAligner`, detection and landmarks
:mod:`facefeat.faces.batch`            :class:`FaceBatch`: aligned faces with their landmarks
:mod:`facefeat.faces.landmarks`        the iBUG 68-point scheme: named regions, once
:mod:`facefeat.faces.models`           dlib's model files shipped in PyPI packages
=====================================  ==================================================
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "align": ["FaceAligner", "NoFaceWarning", "detect_face_box", "detect_landmarks"],
    "batch": ["FaceBatch"],
})
