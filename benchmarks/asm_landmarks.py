"""Landmark accuracy and speed: facefeat's ASM against dlib's 68-point predictor, by 5-fold CV.

On image + ``.pts`` folders (by default the 300-W training images in
``../shared/data/landmarks_300w_train``): the images are split into 5 folds;
an ASM is trained on 4 and tested on the 5th, in turn, always starting from
dlib's HOG face box. dlib's 68-point predictor
(:func:`facefeat.faces.align.detect_landmarks`, HOG box then an ensemble of
regression trees) runs on the same images. Errors follow the 300-W convention:
mean point-to-point distance divided by the outer-eye-corner distance
(points 36 and 45), failures are NME > 0.10.

    python benchmarks/asm_landmarks.py                      # writes to $TMPDIR/facefeat-asm-benchmark
    python benchmarks/asm_landmarks.py --out results/ --methods asm,dlib --limit 300

Methods: ``asm`` (the default ActiveShapeModel / ASMFitter settings, i.e. the
recipe of the shipped model), ``asm-classic`` (1-D grey-level profiles, best
candidate, Cootes et al. 1995 convergence rule) and ``dlib``.

Caveat: dlib's predictor was trained on the iBUG 300-W training set, which
contains these images, so its numbers here are in-sample (optimistic); the
ASM numbers are out-of-fold.

Writes ``asm_landmarks.json`` (per fold and pooled: mean / median NME, failure
rate, AUC@0.1, mean iterations, ms per face) and ``cumulative_error.png``.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "landmarks_300w_train"
DEFAULT_OUT = Path(tempfile.gettempdir()) / "facefeat-asm-benchmark"

METHODS = {
    "asm": {"model": {}, "fitter": {}},
    "asm-classic": {"model": {"profile_kind": "1d", "discriminative": False},
                    "fitter": {"soft": 0.0, "converge_fraction": 0.9, "max_iter": 10}},
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder of images with .pts files (recursive)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0, help="seed of the fold split (default 0)")
    p.add_argument("--methods", default="asm,asm-classic,dlib", help="comma-separated: asm, asm-classic, dlib")
    p.add_argument("--limit", type=int, default=None, help="use only this many images (a quick run)")
    p.add_argument("--threshold", type=float, default=0.10, help="failure threshold on NME (default 0.10)")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def _cpu_ms(t_wall, t_cpu):
    return 1000 * (time.perf_counter() - t_wall), 1000 * (time.process_time() - t_cpu)


def main(argv=None):
    args = parse_args(argv)
    from sklearn.model_selection import KFold
    from tqdm.auto import tqdm

    from facefeat.faces.align import FOUND, detect_landmarks
    from facefeat.shape.asm import ActiveShapeModel, ASMFitter, detect_face_box, load_landmarked_images
    from facefeat.shape.metrics import error_summary, normalized_mean_error
    from facefeat.shape.plots import plot_cumulative_error

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - set(METHODS) - {"dlib"}
    if unknown:
        sys.exit(f"unknown methods {sorted(unknown)}; known: asm, asm-classic, dlib")
    data = Path(args.data)
    if not data.is_dir():
        sys.exit(f"no data folder {data} (pass --data)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    quiet = args.quiet
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    t_start = time.time()

    images, shapes, paths = load_landmarked_images(data, progress=not quiet)
    if args.limit:
        keep = np.random.default_rng(args.seed).permutation(len(images))[: args.limit]
        keep.sort()
        images, shapes, paths = [images[i] for i in keep], shapes[keep], [paths[i] for i in keep]
    n = len(images)
    print(f"{n} images with landmarks from {data}")

    # dlib HOG face boxes, once for every image (the start of every method)
    boxes, det_ms = [], []
    for img in tqdm(images, desc="HOG face boxes", disable=quiet):
        t0 = time.perf_counter()
        boxes.append(detect_face_box(img))
        det_ms.append(1000 * (time.perf_counter() - t0))
    found = np.array([b is not None for b in boxes])
    print(f"dlib HOG detector found a face in {found.sum()} of {n} images "
          f"({np.mean(det_ms):.1f} ms per image)")

    folds = list(KFold(args.folds, shuffle=True, random_state=args.seed).split(np.arange(n)))
    fold_of = np.empty(n, int)
    for k, (_, test) in enumerate(folds):
        fold_of[test] = k
    # per method, per image: error, iterations, wall ms, cpu ms
    rec = {m: {"nme": np.full(n, np.nan), "iters": np.full(n, np.nan), "ms": np.full(n, np.nan),
               "cpu_ms": np.full(n, np.nan)} for m in methods}
    train_s = {m: [] for m in methods if m != "dlib"}

    for k, (train, test) in enumerate(folds):
        for m in methods:
            if m == "dlib":
                continue
            t0 = time.time()
            model = ActiveShapeModel(**METHODS[m]["model"]).fit(
                [images[i] for i in train], shapes[train], [boxes[i] for i in train])
            train_s[m].append(time.time() - t0)
            fitter = ASMFitter(model, **METHODS[m]["fitter"])
            for i in tqdm(test, desc=f"fold {k + 1}/{len(folds)} {m}", disable=quiet, leave=False):
                t_wall, t_cpu = time.perf_counter(), time.process_time()
                if boxes[i] is not None:
                    r = fitter.fit_from_bb(images[i], boxes[i])
                else:  # as dlib does: the whole image as the face box
                    h, w = images[i].shape[:2]
                    r = fitter.fit_from_bb(images[i], (0, 0, w - 1, h - 1))
                rec[m]["ms"][i], rec[m]["cpu_ms"][i] = _cpu_ms(t_wall, t_cpu)
                rec[m]["nme"][i] = r.error(shapes[i])
                rec[m]["iters"][i] = r.n_iterations
            e = rec[m]["nme"][test][found[test]]
            print(f"fold {k + 1}: {m:<12} trained in {train_s[m][-1]:.0f} s on {len(train)} images; "
                  f"mean NME {np.mean(e):.4f}, median {np.median(e):.4f} on {len(e)} detected faces")
        if "dlib" in methods:
            for i in tqdm(test, desc=f"fold {k + 1}/{len(folds)} dlib", disable=quiet, leave=False):
                t_wall, t_cpu = time.perf_counter(), time.process_time()
                pts, status = detect_landmarks(images[i])
                rec["dlib"]["ms"][i], rec["dlib"]["cpu_ms"][i] = _cpu_ms(t_wall, t_cpu)
                rec["dlib"]["nme"][i] = normalized_mean_error(pts, shapes[i])
                if (status == FOUND) != found[i]:
                    warnings.warn(f"detect_landmarks and detect_face_box disagree on {paths[i]}")

    def summary(m, idx):
        s = error_summary(rec[m]["nme"][idx], args.threshold)
        s["mean_iterations"] = None if m == "dlib" else float(np.mean(rec[m]["iters"][idx]))
        s["ms_per_face"] = float(np.mean(rec[m]["ms"][idx]))
        s["cpu_ms_per_face"] = float(np.mean(rec[m]["cpu_ms"][idx]))
        return s

    results = {
        "benchmark": "facefeat ASM vs dlib 68-point predictor, landmark error by k-fold cross-validation",
        "data": str(data),
        "n_images": n,
        "n_face_detected": int(found.sum()),
        "protocol": {
            "folds": args.folds, "seed": args.seed, "split": "sklearn KFold(shuffle=True) over images",
            "start": "dlib HOG face box (facefeat.shape.asm.detect_face_box); images without a box are "
                     "counted in 'all_images' with the whole image as the box (dlib's fallback too)",
            "error": "NME = mean point-to-point error / distance between outer eye corners (points 36, 45)",
            "failure": f"NME > {args.threshold}",
            "timing": "ms_per_face: wall time of the search only for ASM (the HOG box is given), of "
                      "detect_landmarks (HOG detection + prediction) for dlib; cpu_ms_per_face: process CPU "
                      "time of the same; detection_ms_per_image: the HOG detector alone",
        },
        "methods": {m: ({"model": METHODS[m]["model"], "fitter": METHODS[m]["fitter"]} if m != "dlib"
                        else "facefeat.faces.align.detect_landmarks (dlib shape_predictor_68_face_landmarks)")
                    for m in methods},
        "caveat": "dlib's 68-point model was trained on the iBUG 300-W training set, which contains these "
                  "images: its numbers here are in-sample. The ASM numbers are out-of-fold.",
        "detection_ms_per_image": float(np.mean(det_ms)),
        "train_seconds_per_fold": {m: float(np.mean(v)) for m, v in train_s.items()},
        "detected_faces": {m: summary(m, found) for m in methods},
        "all_images": {m: summary(m, np.ones(n, bool)) for m in methods},
        "per_fold_detected": {m: [summary(m, (fold_of == k) & found) for k in range(len(folds))]
                              for m in methods},
        "per_image": [{"path": os.path.relpath(paths[i], data), "fold": int(fold_of[i]), "face_found": bool(found[i]),
                       **{f"nme_{m}": round(float(rec[m]["nme"][i]), 5) for m in methods}} for i in range(n)],
        "environment": {"python": platform.python_version(), "machine": platform.machine(),
                        "cpus": os.cpu_count(), "load_average_start": load_start,
                        "load_average_end": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "wall_seconds": time.time() - t_start,
    }
    (out / "asm_landmarks.json").write_text(json.dumps(results, indent=2))
    fig = plot_cumulative_error({m: rec[m]["nme"][found] for m in methods}, max_error=0.15,
                                title=f"{data.name}: {int(found.sum())} faces (ASM: {args.folds}-fold CV)")
    fig.savefig(out / "cumulative_error.png", dpi=120)

    print()
    print(f"{'method':<12} {'faces':>5} {'mean NME':>9} {'median':>8} {'fail>' + format(args.threshold, 'g'):>9} "
          f"{'AUC':>6} {'iters':>6} {'ms/face':>8} {'cpu ms':>7}")
    for m in methods:
        s = results["detected_faces"][m]
        it = "" if s["mean_iterations"] is None else f"{s['mean_iterations']:.1f}"
        print(f"{m:<12} {s['n']:>5} {s['mean']:>9.4f} {s['median']:>8.4f} {s['failure_rate']:>9.3f} "
              f"{s['auc']:>6.3f} {it:>6} {s['ms_per_face']:>8.1f} {s['cpu_ms_per_face']:>7.1f}")
    print("(detected faces; all images incl. detector misses are in the JSON)")
    print(f"HOG detection {results['detection_ms_per_image']:.1f} ms per image; "
          f"load average at start {load_start}; {results['wall_seconds']:.0f} s in all")
    print(f"results in {out}/ (asm_landmarks.json, cumulative_error.png)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
