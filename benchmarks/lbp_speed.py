"""Throughput of LBP grid histograms: scikit-image, the straightforward way, vs facefeat.

The scikit-image side is what one would write by hand: ``local_binary_pattern``
per image, then ``np.histogram`` per grid cell. The facefeat side is
``LBPHistogram().fit_transform`` on the whole batch (input checks included).
Both run on the same face-like images: the astronaut's face from
``skimage.data``, resized, with a little noise per image. The script checks
that both give the same features before it reports any number.

    python benchmarks/lbp_speed.py --n-images 500 --size 96 --repeats 3 --json lbp_speed.json
"""

import argparse
import os
import platform
import sys
import warnings

import numpy as np
import skimage
from _harness import make_faces, time_calls, write_json
from skimage.feature import local_binary_pattern as sk_lbp
from sklearn.base import clone

from facefeat.features.lbp import LBPHistogram, local_binary_pattern, n_lbp_bins


def skimage_histograms(images, P, R, method, grid):
    """Per image: scikit-image codes, then one np.histogram per cell (l1-normalised)."""
    n_bins = n_lbp_bins(P, method)
    feats = np.empty((len(images), grid[0] * grid[1] * n_bins))
    for k, image in enumerate(images):
        codes = sk_lbp(image, P, R, method)
        rows = np.linspace(0, image.shape[0], grid[0] + 1).astype(int)
        cols = np.linspace(0, image.shape[1], grid[1] + 1).astype(int)
        hists = []
        for i in range(grid[0]):
            for j in range(grid[1]):
                cell = codes[rows[i] : rows[i + 1], cols[j] : cols[j + 1]]
                hist, _ = np.histogram(cell, bins=n_bins, range=(0, n_bins))
                hists.append(hist / cell.size)
        feats[k] = np.concatenate(hists)
    return feats


def best_time(fn, repeats):
    """Minimum and median wall time of ``repeats`` calls, and the last result."""
    times, _, result = time_calls(fn, repeats)
    return min(times), float(np.median(times)), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-images", type=int, default=500)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--P", type=int, default=8)
    parser.add_argument("--R", type=float, default=1.0)
    parser.add_argument("--method", default="uniform", choices=["uniform", "nri_uniform"])
    parser.add_argument("--grid", type=int, nargs=2, default=(7, 7), metavar=("ROWS", "COLS"))
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)

    images = make_faces(args.n_images, args.size)
    grid = tuple(args.grid)
    est = LBPHistogram(P=args.P, R=args.R, method=args.method, grid=grid)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # uint8 input: scikit-image must not warn
        sk_min, sk_med, sk_feats = best_time(lambda: skimage_histograms(images, args.P, args.R, args.method, grid), args.repeats)
    ff_min, ff_med, ff_feats = best_time(lambda: est.fit_transform(images), args.repeats)
    # fit_transform checks and converts the input twice (in fit and in transform)
    fitted = clone(est).fit(images)
    tr_min, _, tr_feats = best_time(lambda: fitted.transform(images), args.repeats)

    # the code kernels alone, without the histograms
    skc_min, _, sk_codes = best_time(lambda: [sk_lbp(im, args.P, args.R, args.method) for im in images], args.repeats)
    ffc_min, _, ff_codes = best_time(lambda: local_binary_pattern(images, args.P, args.R, args.method), args.repeats)

    max_diff = float(np.abs(ff_feats - sk_feats).max())
    same_features = (
        ff_feats.shape == sk_feats.shape
        and np.allclose(ff_feats, sk_feats, rtol=1e-12, atol=0)
        and np.array_equal(tr_feats, ff_feats)
    )
    same_codes = bool(np.array_equal(np.stack(sk_codes), ff_codes))

    n = args.n_images
    result = {
        "n_images": n,
        "size": args.size,
        "P": args.P,
        "R": args.R,
        "method": args.method,
        "grid": list(grid),
        "repeats": args.repeats,
        "n_features": int(ff_feats.shape[1]),
        "skimage_seconds_min": sk_min,
        "skimage_seconds_median": sk_med,
        "facefeat_seconds_min": ff_min,
        "facefeat_seconds_median": ff_med,
        "skimage_images_per_second": n / sk_min,
        "facefeat_images_per_second": n / ff_min,
        "speedup": sk_min / ff_min,
        "transform_only_images_per_second": n / tr_min,
        "transform_only_speedup": sk_min / tr_min,
        "codes_only_skimage_images_per_second": n / skc_min,
        "codes_only_facefeat_images_per_second": n / ffc_min,
        "codes_only_speedup": skc_min / ffc_min,
        "same_features": bool(same_features),
        "same_codes": same_codes,
        "max_abs_feature_difference": max_diff,
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "skimage": skimage.__version__},
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
    }

    print(f"{n} images {args.size}x{args.size}, P={args.P} R={args.R:g} {args.method}, grid {grid[0]}x{grid[1]}, "
          f"{ff_feats.shape[1]} features, best of {args.repeats}")
    print(f"  same features: {same_features} (max abs difference {max_diff:.3g}), same codes: {same_codes}")
    print(f"  scikit-image (per image + np.histogram per cell): {n / sk_min:9.0f} images/s ({sk_min * 1e3:.1f} ms)")
    print(f"  facefeat LBPHistogram.fit_transform:              {n / ff_min:9.0f} images/s ({ff_min * 1e3:.1f} ms)")
    print(f"  speedup: {sk_min / ff_min:.1f}x")
    print(f"  transform only (fitted): {n / tr_min:.0f} images/s, speedup {sk_min / tr_min:.1f}x")
    print(f"  codes only: scikit-image {n / skc_min:.0f} images/s, facefeat {n / ffc_min:.0f} images/s, "
          f"speedup {skc_min / ffc_min:.1f}x")
    write_json(args.json, result)
    return 0 if same_features and same_codes else 1


if __name__ == "__main__":
    sys.exit(main())
