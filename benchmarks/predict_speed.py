"""How fast ``facefeat predict`` analyses photos and videos: detection, landmarks, alignment and the model.

Photos: 640 x 480 RGB pictures with one face (the astronaut of
``skimage.data``, placed at a different spot of a textured background in
each), analysed one at a time as ``facefeat predict`` does
(:func:`facefeat.analysis.records.face_records`). Video: a generated clip
of such frames at 25 frames per second, sampled at ``--fps``
(:func:`facefeat.analysis.analyze.analyze_video`), reported as sampled
frames per second and as seconds of video per second. The reference is the
``fer`` package's network alone, 1.1 ms per face (issue 17).

    python benchmarks/predict_speed.py --json benchmarks/results/predict_speed.json

The model is the one shipped in ``facefeat/data`` unless ``--model`` names
another file written by ``facefeat fit``.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np
from _harness import write_json
from skimage import data, transform


def make_photos(n, seed=0):
    """``n`` 640 x 480 RGB photos, each with the astronaut (a 300-420 px crop: a face of 100-140 px) on a textured wall."""
    rng = np.random.default_rng(seed)
    face = data.astronaut()[:300, 100:400]
    photos = []
    for _ in range(n):
        wall = rng.integers(60, 200, (480, 640, 3)).astype(np.uint8)
        side = int(rng.integers(300, 421))
        small = (transform.resize(face, (side, side)) * 255).astype(np.uint8)
        r, c = int(rng.integers(0, 480 - side)), int(rng.integers(0, 640 - side))
        wall[r:r + side, c:c + side] = small
        photos.append(wall)
    return photos


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a model file written by facefeat fit (default: the shipped model)")
    parser.add_argument("--n-photos", type=int, default=40)
    parser.add_argument("--video-seconds", type=float, default=8.0)
    parser.add_argument("--fps", type=float, default=5.0, help="video frames sampled per second (default 5)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    from facefeat.analysis.analyze import analyze_video, load_pipeline
    from facefeat.analysis.records import face_records
    from facefeat.analysis.video import write_video

    pipeline = load_pipeline(args.model)
    photos = make_photos(args.n_photos)
    face_records(photos[0], pipeline)  # warm-up: models loaded, caches filled
    start = time.perf_counter()
    found = sum(r["face_found"] for p in photos for r in face_records(p, pipeline))
    photo_s = (time.perf_counter() - start) / len(photos)

    n_frames = round(args.video_seconds * 25)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_video(os.path.join(tmp, "clip.avi"), (photos[i % len(photos)] for i in range(n_frames)), 25)
        start = time.perf_counter()
        records = analyze_video(path, pipeline, fps=args.fps)
        video_s = time.perf_counter() - start
    sampled = len({r["frame"] for r in records})
    result = {
        "model": args.model or "facefeat/data/expression.model (shipped)",
        "photos": {"n": len(photos), "size": "640x480", "faces_found": int(found), "ms_per_photo": photo_s * 1e3,
                   "photos_per_s": 1 / photo_s},
        "video": {"seconds": args.video_seconds, "fps_sampled": args.fps, "sampled_frames": sampled,
                  "frames_per_s": sampled / video_s, "video_seconds_per_s": args.video_seconds / video_s},
        "reference": "fer's mini-Xception alone: 1.1 ms per face (issue 17)",
        "cpus": os.cpu_count(),
    }
    print(f"photos: {result['photos']['photos_per_s']:.1f}/s ({photo_s * 1e3:.1f} ms each, "
          f"{found} of {len(photos)} faces found)")
    print(f"video: {result['video']['frames_per_s']:.1f} sampled frames/s, "
          f"{result['video']['video_seconds_per_s']:.2f} s of video per second at {args.fps:g} fps")
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
