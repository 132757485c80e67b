"""Draw the pictures of the documentation's feature gallery.

Every face is public domain: ``skimage.data.astronaut()`` (NASA) and the
synthetic expressions that :func:`facefeat.images.synthetic.make_expressions` warps
from it. No picture of a research data set may ever be drawn here.

Usage::

    python docs/gallery/make_gallery.py [--out DIR] [--dpi 100]

The pictures go to ``docs/gallery/img/`` by default (generated, not
committed); ``docs/build.sh`` runs this script before ``mkdocs build``.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent / "img"

# The face shown for the single-face features: a synthetic "surprise" of the
# first pseudo-subject (open mouth and raised brows make every feature show something).
SHOWN_CLASS = "surprise"


def _dataset():
    from facefeat.images.synthetic import make_expressions

    return make_expressions(n_subjects=3, n_per_class=2, random_state=0)


def _aligned(dataset):
    from facefeat.faces.align import FaceAligner

    return FaceAligner(size=96).fit_transform(dataset.images)


def _cross_validated_proba(dataset):
    """Out-of-fold class probabilities of landmark geometry + logistic regression, by subject."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from facefeat.features.geometry import LandmarkGeometry

    pipe = make_pipeline(LandmarkGeometry(), StandardScaler(), LogisticRegression(max_iter=2000))
    proba = cross_val_predict(pipe, dataset.landmarks, dataset.labels, groups=dataset.groups,
                              cv=GroupKFold(n_splits=3), method="predict_proba")
    return proba, sorted(set(dataset.labels.tolist()))


def _asm_photo():
    """The astronaut's head: the ASM search starts from dlib's face box in it."""
    from skimage.data import astronaut

    return astronaut()[20:230, 120:330]


def _analysis_model(dataset):
    """The shipped expression model, or (in a checkout without it) HOG + logistic regression on the gallery's faces."""
    from facefeat.analysis.analyze import DEFAULT_MODEL_PATH, load_pipeline
    from facefeat.pipelines import make_pipeline

    if DEFAULT_MODEL_PATH.is_file():
        return load_pipeline(None)
    return make_pipeline("hog-linear").fit(dataset.images, dataset.labels)


def _group_photo(dataset):
    """Three synthetic faces of different subjects and expressions, at three sizes, on one wall."""
    import cv2

    photo = np.full((300, 760, 3), (196, 186, 170), np.uint8)
    for (cls, subject), side, (r, c) in zip([("happiness", "synth01"), ("surprise", "synth02"),
                                             ("sadness", "synth03")], (280, 220, 180), ((10, 10), (40, 320), (60, 570))):
        face = dataset.images[np.flatnonzero((dataset.labels == cls) & (dataset.groups == subject))[0]]
        photo[r:r + side, c:c + side] = cv2.cvtColor(cv2.resize(face, (side, side)), cv2.COLOR_GRAY2RGB)
    return photo


def _clip(dataset, path):
    """A 7-second video: one synthetic subject going through the expressions, a second each (4 fps)."""
    from facefeat.analysis.video import write_video

    subject = dataset.groups == "synth01"
    order = ["neutral", "happiness", "surprise", "neutral", "anger", "sadness", "neutral"]
    frames = [dataset.images[np.flatnonzero(subject & (dataset.labels == c))[0]] for c in order for _ in range(4)]
    return write_video(path, frames, fps=4)


def draw(out, dpi=100):
    """Draw every gallery picture into ``out``.

    Parameters
    ----------
    out : str or path-like
        Folder, created when missing.
    dpi : int, default=100

    Returns
    -------
    dict of str to pathlib.Path
        Picture name -> PNG file, in drawing order.
    """
    from sklearn.metrics import confusion_matrix

    from facefeat import plots as viz
    from facefeat.features.lbp import LBPHistogram

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dataset = _dataset()
    batch = _aligned(dataset)
    k = int(np.flatnonzero(dataset.labels == SHOWN_CLASS)[0])
    face, points = batch.images[k], batch.landmarks[k]
    lbp = LBPHistogram().fit_transform(batch)
    proba, classes = _cross_validated_proba(dataset)
    predicted = np.asarray(classes)[proba.argmax(axis=1)]

    pictures = {
        "landmarks": lambda: viz.plot_landmarks(face, points),
        "lbp": lambda: viz.plot_lbp(face),
        "hog": lambda: viz.plot_hog(face),
        "gabor": lambda: viz.plot_gabor(face),
        "asm_fitting": lambda: viz.plot_asm_fitting(_asm_photo()),
        "asm_modes": lambda: viz.plot_asm_modes(n_modes=3),
        "embedding_pca": lambda: viz.plot_embedding(lbp, dataset.labels, method="pca"),
        "embedding_tsne": lambda: viz.plot_embedding(lbp, dataset.labels, method="tsne"),
        "circumplex": lambda: viz.plot_circumplex(proba, classes, labels=dataset.labels),
        "confusion_matrix": lambda: viz.plot_confusion_matrix(
            confusion_matrix(dataset.labels, predicted, labels=classes), classes,
            title="landmark geometry, 3-fold by subject"),
    }
    written = {}
    for name, make in pictures.items():
        path = out / f"{name}.png"
        viz.save(make(), path, dpi=dpi)
        written[name] = path

    # the analysis of a group photo and of a short video, as facefeat predict --annotate / --plot draw them
    from PIL import Image

    from facefeat.analysis import analyze, face_records
    from facefeat.analysis.annotate import annotate_image

    model = _analysis_model(dataset)
    photo = _group_photo(dataset)
    written["analysis_photo"] = out / "analysis_photo.png"
    Image.fromarray(annotate_image(photo, face_records(photo, model))).save(written["analysis_photo"])
    written["analysis_timeline"] = out / "analysis_timeline.png"
    with tempfile.TemporaryDirectory() as tmp:  # the clip itself is not a gallery picture
        records = analyze(_clip(dataset, Path(tmp) / "clip.avi"), model=model, fps=4)
    viz.save(viz.plot_timeline(records), written["analysis_timeline"], dpi=dpi)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--dpi", type=int, default=100, help="resolution of the PNGs (default 100)")
    args = parser.parse_args(argv)
    t0 = time.time()
    written = draw(args.out, dpi=args.dpi)
    for path in written.values():
        print(path)
    print(f"{len(written)} pictures in {time.time() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
