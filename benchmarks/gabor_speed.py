"""Throughput of Gabor features: facefeat's batched FFT vs per-image filtering.

facefeat's side is ``GaborFeatures().fit(...).transform`` (5 scales x 8
orientations, magnitudes averaged on a 7 x 7 grid) on the whole batch. The
straightforward alternative filters one image at a time with
``cv2.filter2D`` (real and imaginary kernel parts, mirrored border), then
pools the same cells; the script checks that both give the same features
before it reports any number. ``skimage.filters.gabor`` (its own kernels,
spatial convolution) is timed on a few images for scale only.

Wall-clock rates suffer when other processes share the CPU; the CPU-time
rate (process time, all threads) is reported too.

    python benchmarks/gabor_speed.py --n-images 200 --size 96 --repeats 3 --json gabor_speed.json
"""

import argparse
import os
import platform
import sys

import cv2
import numpy as np
import scipy
import skimage
from _harness import make_faces, time_calls, write_json
from skimage.filters import gabor as sk_gabor

from facefeat.features.gabor import GaborFeatures, gabor_kernel


def cv2_features(images, est):
    """Per image and kernel: cv2.filter2D of the real and imaginary parts, then cell means."""
    ks = est.k_max / est.f ** np.arange(est.n_scales)
    thetas = np.pi * np.arange(est.n_orientations) / est.n_orientations
    # filter2D correlates: flip the kernels to convolve
    kernels = [gabor_kernel(k, t, est.sigma, est.truncate)[::-1, ::-1] for k in ks for t in thetas]
    kernels = [(np.ascontiguousarray(kn.real, np.float32), np.ascontiguousarray(kn.imag, np.float32))
               for kn in kernels]
    h, w = images.shape[1:]
    gr, gc = est.grid
    re, ce = np.linspace(0, h, gr + 1).astype(int), np.linspace(0, w, gc + 1).astype(int)
    feats = np.empty((len(images), len(kernels), gr * gc))
    for i, image in enumerate(images):
        img = image.astype(np.float32)
        for j, (kr, ki) in enumerate(kernels):
            mag = cv2.magnitude(cv2.filter2D(img, -1, kr, borderType=cv2.BORDER_REFLECT),
                                cv2.filter2D(img, -1, ki, borderType=cv2.BORDER_REFLECT))
            feats[i, j] = [mag[re[a] : re[a + 1], ce[b] : ce[b + 1]].mean() for a in range(gr) for b in range(gc)]
    return feats.reshape(len(images), -1)


def timed(fn, repeats):
    """Best wall time, best process (CPU) time, and the last result."""
    walls, cpus, result = time_calls(fn, repeats)
    return min(walls), min(cpus), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-images", type=int, default=200)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=None, help="FFT threads of GaborFeatures (default 1)")
    parser.add_argument("--cv2-images", type=int, default=20, help="images for the cv2.filter2D baseline")
    parser.add_argument("--skimage-images", type=int, default=2, help="images for skimage.filters.gabor")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)

    n = args.n_images
    images = make_faces(n, args.size)
    est = GaborFeatures(n_jobs=args.n_jobs).fit(images[:1])
    est.transform(images[:1])  # warm the cache of filter spectra
    ff_wall, ff_cpu, ff_feats = timed(lambda: est.transform(images), args.repeats)

    m = min(args.cv2_images, n)
    cv_wall, cv_cpu, cv_feats = timed(lambda: cv2_features(images[:m], est), 1)
    max_diff = float(np.abs(cv_feats - ff_feats[:m]).max() / np.abs(cv_feats).max())
    same = bool(max_diff < 1e-4)

    ks = est.k_max / est.f ** np.arange(est.n_scales)
    thetas = np.pi * np.arange(est.n_orientations) / est.n_orientations
    s = min(args.skimage_images, n)
    sk_wall, _, _ = timed(lambda: [sk_gabor(im, k / (2 * np.pi), t)
                                   for im in images[:s] for k in ks for t in thetas], 1)

    result = {
        "n_images": n,
        "size": args.size,
        "bank": f"{est.n_scales} scales x {est.n_orientations} orientations",
        "grid": list(est.grid),
        "n_features": int(ff_feats.shape[1]),
        "repeats": args.repeats,
        "n_jobs": args.n_jobs,
        "facefeat_images_per_second": n / ff_wall,
        "facefeat_images_per_cpu_second": n / ff_cpu,
        "cv2_filter2d_images_per_second": m / cv_wall,
        "skimage_gabor_seconds_per_image": sk_wall / s,
        "speedup_vs_cv2": (n / ff_wall) / (m / cv_wall),
        "same_features_as_cv2": same,
        "max_relative_difference": max_diff,
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                     "opencv": cv2.__version__, "skimage": skimage.__version__},
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "machine": platform.machine(),
    }
    print(f"{n} images {args.size}x{args.size}, Gabor {result['bank']}, grid {est.grid[0]}x{est.grid[1]}, "
          f"{ff_feats.shape[1]} features, best of {args.repeats}")
    print(f"  same features as cv2.filter2D: {same} (max relative difference {max_diff:.2g})")
    print(f"  facefeat GaborFeatures.transform: {n / ff_wall:8.0f} images/s wall, {n / ff_cpu:.0f} per CPU second")
    print(f"  cv2.filter2D per image ({m} images): {m / cv_wall:8.1f} images/s")
    print(f"  skimage.filters.gabor ({s} images):  {sk_wall / s:8.2f} s per image")
    if result["load_average"]:
        print(f"  load average {result['load_average'][0]:.1f} on {os.cpu_count()} CPUs")
    write_json(args.json, result)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
