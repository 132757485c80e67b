"""Memory and speed of chunked feature extraction (:func:`facefeat.features.extract.extract_features`).

Runs the stateless prefix of a named pipeline (``lbp-linear``: FaceAligner +
LBP; ``mobilenetv2-linear``: FaceAligner + MobileNetV2 embedding) over the
images of a folder in chunks and prints images/second, how many detections
the FaceAligner cache already held, and the peak memory. Run it under
``/usr/bin/time -v`` for the kernel's figure ("Maximum resident set size":
the largest single process); the script also samples the summed RSS of
itself and its worker processes, which is what matters with ``--n-jobs 2``.

    /usr/bin/time -v python benchmarks/extract_memory.py /work/shared/data/fer2013 \\
        --pipeline lbp-linear --n-jobs 1 --limit 4000 --json extract_lbp.json
"""

import argparse
import json
import os
import platform
import resource
import sqlite3
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np
from facefeat.pipelines import make_pipeline

from facefeat.evaluation.benchmark import _set_everywhere, _stateless_prefix
from facefeat.cli import default_cache_dir
from facefeat.images.datasets import load_folder
from facefeat.features.extract import extract_features


class TreeRSS:
    """Peak summed RSS of this process and its descendants, sampled every ``interval`` seconds (needs psutil)."""

    def __init__(self, interval=0.2):
        try:
            import psutil
        except ImportError:
            psutil = None
        self.psutil, self.interval, self.peak = psutil, interval, 0
        self._stop = threading.Event()

    def _sample(self):
        me = self.psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except self.psutil.Error:  # a worker that just exited
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self):
        if self.psutil is not None:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.psutil is not None:
            self._stop.set()
            self._thread.join()


def cached_detections(cache):
    """Rows in the FaceAligner detection cache (0 when it does not exist yet)."""
    db = Path(cache) / "landmarks.sqlite"
    if not db.is_file():
        return 0
    with sqlite3.connect(db, timeout=60) as con:
        return con.execute("SELECT COUNT(*) FROM det").fetchone()[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", nargs="?", default="/work/shared/data/fer2013")
    parser.add_argument("--pipeline", default="lbp-linear", help="its stateless prefix is extracted")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--limit", type=int, help="a random subset of this many images (seed 0)")
    parser.add_argument("--cache", default=str(default_cache_dir()), help="FaceAligner detection cache "
                        "('none': no cache)")
    parser.add_argument("--dtype", choices=("float32", "float64"))
    parser.add_argument("--out", help=".npy output (default: a temporary file, deleted afterwards)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)

    dataset = load_folder(args.data_dir)
    n_all = len(dataset)
    if args.limit and args.limit < n_all:
        pick = np.sort(np.random.default_rng(0).choice(n_all, args.limit, replace=False))
        dataset = dataset.subset(pick)
    pipe = make_pipeline(args.pipeline)
    steps = pipe[:_stateless_prefix(pipe)]
    _set_everywhere(steps, "progress", False)
    cache = None if args.cache == "none" else args.cache
    if cache:
        _set_everywhere(steps, "memory", cache)
    before = cached_detections(cache) if cache else 0

    tmp = None
    out = args.out
    if out is None:
        tmp = tempfile.TemporaryDirectory()
        out = os.path.join(tmp.name, "features.npy")
    with TreeRSS() as tree, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no face detected")
        res = extract_features(steps, dataset, chunk_size=args.chunk_size, n_jobs=args.n_jobs, out=out,
                               dtype=args.dtype, progress=sys.stderr.isatty())
    after = cached_detections(cache) if cache else 0
    n_ok = int(res.valid.sum())
    figures = {
        "data_dir": args.data_dir,
        "n_images": len(dataset),
        "n_images_in_folder": n_all,
        "pipeline": args.pipeline,
        "steps": [name for name, _ in steps.steps],
        "n_jobs": args.n_jobs,
        "chunk_size": args.chunk_size,
        "shape": list(res.features.shape),
        "dtype": str(res.features.dtype),
        "seconds": round(res.seconds, 2),
        "images_per_second": round(n_ok / res.seconds, 2),
        "n_skipped": len(res.skipped),
        "n_face_found": int(res.face_found.sum()),
        "cache": cache,
        "cache_rows_before": before,
        "new_detections": after - before,
        # ru_maxrss is in KiB on Linux: the largest process, not the sum over workers
        "max_rss_self_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "max_rss_children_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "peak_tree_rss_mib": round(tree.peak / 2**20, 1) if tree.psutil else None,
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    del res
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
