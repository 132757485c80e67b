"""Throughput of DeepEmbedding for each backbone that works offline.

For every offline backbone (MobileNetV2 and EfficientNet-Lite0 from their
PyPI weight packages, dlib's face ResNet from ``face_recognition_models``)
at its default input size, plus MobileNetV2 at 112 px, this times
``DeepEmbedding.transform`` (preprocessing included) on face crops made from
``skimage.data.astronaut()``, with batch size 1 and 32 and a fixed number of
torch threads (default 2). It reports the best of ``--repeats`` runs as
images per second, and the process CPU time per image, so that a run on a
busy machine can be recognised (CPU seconds per image stay put when wall
time grows because other processes take the cores).

    python benchmarks/deep_speed.py --n-images 64 --repeats 3 --threads 2 --json deep_speed.json
"""

import argparse
import os
import platform
import sys

import numpy as np
from _harness import make_faces, time_calls, write_json

# name, backbone, input size (None: the backbone's default)
CONFIGS = [
    ("mobilenet_v2@224", "mobilenet_v2", None),
    ("mobilenet_v2@112", "mobilenet_v2", 112),
    ("efficientnet_lite0@224", "efficientnet_lite0", None),
    ("efficientnet_lite0@112", "efficientnet_lite0", 112),
    ("dlib_resnet@150", "dlib_resnet", None),
]


def time_transform(est, faces, repeats):
    """Best wall time and its CPU time over ``repeats`` calls (after one warm-up call)."""
    est.transform(faces[: min(len(faces), est.batch_size)])  # warm-up: allocator, kernels
    walls, cpus, _ = time_calls(lambda: est.transform(faces), repeats)
    best = int(np.argmin(walls))
    return walls[best], cpus[best]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-images", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these configurations")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)

    import torch

    from facefeat.deep import weights as W
    from facefeat.deep.embedding import DeepEmbedding

    faces = make_faces(args.n_images, gray=False)
    load_before = os.getloadavg()
    rows = []
    print(f"{args.n_images} faces 96x96 RGB, {args.threads} torch threads, best of {args.repeats}; "
          f"load average {load_before[0]:.1f} on {os.cpu_count()} CPUs")
    for name, backbone, size in CONFIGS:
        if args.only and name not in args.only:
            continue
        if backbone != "dlib_resnet" and W.packaged_path(backbone) is None:
            print(f"  {name}: skipped, {W.WEIGHTS[backbone].pip_name} not installed")
            continue
        for bs in args.batch_sizes:
            est = DeepEmbedding(backbone, input_size=size, batch_size=bs, n_threads=args.threads).fit(faces[:1])
            wall, cpu = time_transform(est, faces, args.repeats)
            row = {"config": name, "backbone": backbone, "input_size": size or (150 if backbone == "dlib_resnet" else
                                                                                  224),
                   "batch_size": bs, "images_per_second": args.n_images / wall,
                   "cpu_ms_per_image": 1e3 * cpu / args.n_images, "n_features": est.n_features_out_}
            rows.append(row)
            print(f"  {name:24s} batch {bs:3d}: {row['images_per_second']:7.1f} images/s "
                  f"({row['cpu_ms_per_image']:6.1f} CPU ms/image)")
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.1f}")
    result = {
        "n_images": args.n_images, "threads": args.threads, "repeats": args.repeats, "results": rows,
        "load_average_before": load_before, "load_average_after": load_after,
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__},
        "cpu_count": os.cpu_count(), "machine": platform.machine(),
    }
    write_json(args.json, result, indent="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
