"""``facefeat landmarks`` and ``facefeat landmarks-eval``: 68 landmarks per image, and their error on ``.pts`` folders."""

import json
import time
from pathlib import Path

import numpy as np

from facefeat.cli.console import error, exit_status, expand_paths, note, report_unreadable, write_output, write_records

__all__ = ["add_landmarks_parsers", "landmarks_command", "landmarks_eval_command"]


def add_landmarks_parsers(subparsers):
    """Register ``facefeat landmarks`` and ``facefeat landmarks-eval``.

    Examples
    --------
    >>> import argparse
    >>> from facefeat.cli.landmarks import add_landmarks_parsers, landmarks_command, landmarks_eval_command
    >>> parser = argparse.ArgumentParser(prog="facefeat")
    >>> find, evaluate = add_landmarks_parsers(parser.add_subparsers(dest="command"))
    >>> find.prog, evaluate.prog
    ('facefeat landmarks', 'facefeat landmarks-eval')
    >>> args = parser.parse_args(["landmarks", "a.png", "faces/", "--method", "asm", "--format", "csv"])
    >>> args.paths, args.method, args.model, args.format, args.func is landmarks_command
    (['a.png', 'faces/'], 'asm', None, 'csv', True)
    >>> args = parser.parse_args(["landmarks-eval", "300w/testset", "--threshold", "0.08"])
    >>> args.data_dir, args.method, args.threshold, args.func is landmarks_eval_command
    ('300w/testset', 'dlib', 0.08, True)
    """
    p = subparsers.add_parser("landmarks", help="find 68 facial landmarks in images (dlib or ASM)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    _method_options(p)
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                   help="one JSON object per line (default), or CSV with x0,y0,...,x67,y67 columns")
    p.add_argument("--output", help="write here instead of standard output")
    p.add_argument("--plot", metavar="DIR", help="also save each image with its landmarks drawn in DIR")
    p.set_defaults(func=landmarks_command)

    e = subparsers.add_parser("landmarks-eval", help="landmark error on images with .pts files "
                              "(NME normalised by the outer eye corners, 300-W convention)")
    e.add_argument("data_dir", metavar="DIR", help="folder of images with .pts files of the same name")
    _method_options(e)
    e.add_argument("--out", default="facefeat-landmarks-eval", metavar="DIR",
                   help="folder for results.json and the cumulative error distribution PNG "
                        "(default ./facefeat-landmarks-eval)")
    e.add_argument("--threshold", type=float, default=0.10, help="failure threshold on NME (default 0.10)")
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    e.set_defaults(func=landmarks_eval_command)
    return p, e


def _method_options(p):
    p.add_argument("--method", choices=("dlib", "asm"), default="dlib",
                   help="dlib's 68-point regression-tree predictor (default) or facefeat's ASM")
    p.add_argument("--model", metavar="MODEL", help="ASM model file (default: the model shipped with facefeat)")


class _Locator:
    """Landmarks of one gray image by dlib or by an ASM."""

    def __init__(self, method, model_path=None):
        self.method = method
        if method == "asm":
            from facefeat.shape.asm import ActiveShapeModel, ASMFitter

            model = ActiveShapeModel.load(model_path) if model_path else ActiveShapeModel.default()
            self.fitter = ASMFitter(model)
        elif method != "dlib":
            raise ValueError(f"unknown method {method!r}; use 'dlib' or 'asm'")

    def __call__(self, gray):
        """(landmarks (68, 2), face_found, iterations or None)."""
        if self.method == "dlib":
            from facefeat.faces.align import FOUND, detect_landmarks

            pts, status = detect_landmarks(gray)
            return pts, status == FOUND, None
        r = self.fitter.fit_image(gray)
        return r.shape, r.face_found, r.n_iterations


def landmarks_command(args):
    """``facefeat landmarks PATH... --method dlib|asm [--format jsonl|csv] [--plot DIR]``.

    Reads ``args.paths``, ``args.method``, ``args.model`` (optional),
    ``args.format``, ``args.output`` (optional), ``args.plot`` (optional).
    Writes one record per image: ``path``, ``face_found`` and ``landmarks``
    (68 ``[x, y]`` pairs, 0-based, in the original image's pixel frame;
    ``null`` when no face was detected), plus ``error`` for unreadable files.

    Exit status: 0 after writing the records (images without a face are counted on
    stderr); 1 when some files could not be read (counted on stderr, records with an
    ``error``); 2 when no image file was found.

    Examples
    --------
    A text file saved under an image name gets a record with its error
    (no face detector is run for it):

    >>> import argparse, contextlib, io, json, os, tempfile
    >>> from facefeat.cli.landmarks import add_landmarks_parsers
    >>> parser = argparse.ArgumentParser(prog="facefeat")
    >>> _ = add_landmarks_parsers(parser.add_subparsers(dest="command"))
    >>> folder = tempfile.mkdtemp()
    >>> fake = os.path.join(folder, "notes.png")
    >>> with open(fake, "w") as fh:
    ...     _ = fh.write("not pixels")
    >>> out = os.path.join(folder, "landmarks.jsonl")
    >>> args = parser.parse_args(["landmarks", fake, "--output", out])
    >>> stderr = io.StringIO()
    >>> with contextlib.redirect_stderr(stderr):
    ...     code = args.func(args)
    >>> code, stderr.getvalue()
    (1, "1 of 1 files could not be read (records with an 'error' key)\\n")
    >>> with open(out) as fh:
    ...     record = json.loads(fh.readline())
    >>> record["face_found"], record["landmarks"], record["error"].endswith("not an image: the file contains text")
    (False, None, True)
    """
    from facefeat.images.io import ImageReadError, read_image

    files = expand_paths(args.paths)
    if not files:
        return error("no image files found in " + ", ".join(map(str, args.paths)))
    locate = _Locator(args.method, getattr(args, "model", None))
    plot_dir = Path(args.plot) if getattr(args, "plot", None) else None
    if plot_dir is not None:
        plot_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for k, path in enumerate(files):
        try:
            gray = read_image(path, mode="gray")
        except ImageReadError as exc:
            records.append({"path": path, "face_found": False, "landmarks": None, "error": str(exc)})
            continue
        pts, found, _ = locate(gray)
        records.append({"path": path, "face_found": bool(found),
                        "landmarks": np.round(pts, 2).tolist() if found else None})
        if plot_dir is not None:
            _save_plot(gray, pts if found else None, plot_dir / f"{k:05d}_{Path(path).stem}.png")
    write_output(args, lambda out: write_records(records, getattr(args, "format", "jsonl"), out, _csv_columns))
    n_missed = sum(not r["face_found"] and "error" not in r for r in records)
    if n_missed:
        note(f"no face detected in {n_missed} of {len(records)} images (landmarks null)")
    report_unreadable(records)
    return exit_status(records)


def _csv_columns(records):
    from facefeat.faces.landmarks import N_LANDMARKS

    header = ["path", "face_found", "error"] + [f"{c}{i}" for i in range(N_LANDMARKS) for c in ("x", "y")]

    def row(r):
        coords = [v for xy in r["landmarks"] for v in xy] if r.get("landmarks") else [""] * (2 * N_LANDMARKS)
        return [r["path"], r["face_found"], r.get("error", "")] + coords

    return header, row


def _save_plot(gray, pts, path):
    from matplotlib.figure import Figure

    from facefeat.shape.plots import draw_shape

    h, w = gray.shape
    fig = Figure(figsize=(min(8, max(3, w / 100)), min(8, max(3, h / 100))), layout="constrained")
    ax = fig.subplots()
    ax.imshow(gray, cmap="gray", vmin=0, vmax=255)
    if pts is not None:
        draw_shape(ax, pts)
    else:
        ax.set_title("no face found", fontsize=9)
    ax.set_axis_off()
    fig.savefig(path, dpi=100)


def landmarks_eval_command(args):
    """``facefeat landmarks-eval DIR --method dlib|asm``: landmark error on image + ``.pts`` folders.

    Reads ``args.data_dir``, ``args.method``, ``args.model`` (optional),
    ``args.out``, ``args.threshold`` (default 0.10), ``args.quiet``. Prints
    mean and median NME (outer-eye-corner normalised), the failure rate
    (NME > threshold) and timing; writes ``results.json`` and
    ``cumulative_error.png`` to ``args.out``. Images where no face was detected
    are scored with the landmarks found in the fallback box (whole image),
    and also counted separately.

    Exit status: 0 after writing the results; 2 when ``args.data_dir`` holds no image with a
    ``.pts`` file.

    Examples
    --------
    A folder without ``.pts`` files is refused:

    >>> import argparse, contextlib, io, os, tempfile
    >>> from facefeat.cli.landmarks import add_landmarks_parsers, landmarks_eval_command
    >>> parser = argparse.ArgumentParser(prog="facefeat")
    >>> _ = add_landmarks_parsers(parser.add_subparsers(dest="command"))
    >>> empty = tempfile.mkdtemp()
    >>> args = parser.parse_args(["landmarks-eval", empty, "--method", "asm", "--out", empty])
    >>> args.func is landmarks_eval_command, args.method, args.threshold
    (True, 'asm', 0.1)
    >>> stderr = io.StringIO()
    >>> with contextlib.redirect_stderr(stderr):
    ...     code = landmarks_eval_command(args)
    >>> code, stderr.getvalue().replace(empty, "DIR")
    (2, 'error: no image with a .pts file found in DIR\\n')
    """
    from tqdm.auto import tqdm

    from facefeat.images.io import read_image
    from facefeat.shape.metrics import error_summary, normalized_mean_error
    from facefeat.shape.plots import plot_cumulative_error
    from facefeat.shape.pts import find_pts_pairs, read_pts

    threshold = float(getattr(args, "threshold", 0.10))
    pairs = find_pts_pairs(args.data_dir)
    if not pairs:
        return error(f"no image with a .pts file found in {args.data_dir}")
    locate = _Locator(args.method, getattr(args, "model", None))
    errors, found, seconds, per_image = [], [], [], []
    for img_path, pts_path in tqdm(pairs, desc=f"{args.method} landmarks", disable=getattr(args, "quiet", False)):
        truth = read_pts(pts_path)
        gray = read_image(img_path, mode="gray")
        t0 = time.perf_counter()
        pts, ok, _ = locate(gray)
        seconds.append(time.perf_counter() - t0)
        e = normalized_mean_error(pts, truth)
        errors.append(e)
        found.append(bool(ok))
        per_image.append({"path": img_path, "nme": round(e, 5), "face_found": bool(ok)})
    errors, found = np.array(errors), np.array(found)
    summary = {
        "method": args.method,
        "model": getattr(args, "model", None) or ("default" if args.method == "asm" else "dlib shape_predictor_68"),
        "data_dir": str(args.data_dir),
        "n_images": len(errors),
        "n_face_found": int(found.sum()),
        "threshold": threshold,
        "all_images": error_summary(errors, threshold),
        "face_found_images": error_summary(errors[found], threshold),
        "ms_per_image": 1000 * float(np.mean(seconds)),
        "normalisation": "mean point-to-point error / distance between outer eye corners (points 36, 45)",
        "images": per_image,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    fig = plot_cumulative_error({args.method: errors}, max_error=max(threshold, 0.1) * 1.5,
                                title=f"{Path(args.data_dir).name}: {len(errors)} images")
    fig.savefig(out / "cumulative_error.png", dpi=120)
    s = summary["all_images"]
    print(f"{args.method}: {len(errors)} images ({int(found.sum())} faces detected); NME mean {s['mean']:.4f}, "
          f"median {s['median']:.4f}, failure rate (NME > {threshold:g}) {s['failure_rate']:.3f}; "
          f"{summary['ms_per_image']:.1f} ms per image")
    print(f"results in {out}/ (results.json, cumulative_error.png)")
    return 0

