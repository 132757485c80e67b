"""``facefeat audit``: duplicates, split leaks, label conflicts and thin classes of a data set."""

from pathlib import Path

from facefeat.cli.console import load_dataset, subjects_option
from facefeat.evaluation.audit import (
    MIN_CLASS_COUNT,
    MIN_SUBJECT_IMAGES,
    NEAR_THRESHOLD,
    PHASH_BITS,
    audit_dataset,
)
from facefeat.evaluation.report import atomic_write

__all__ = ["cmd_audit"]


def add_audit_parser(subparsers):
    """Register ``facefeat audit DATA_DIR [--out DIR] [--near] ...``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="facefeat")
    >>> sub = add_audit_parser(parser.add_subparsers())
    >>> sub.prog
    'facefeat audit'
    >>> args = parser.parse_args(["audit", "faces/", "--near", "--near-threshold", "6"])
    >>> args.data_dir, args.out, args.near, args.near_threshold, args.subjects
    ('faces/', 'facefeat-audit', True, 6, 'auto')
    >>> args.func.__name__
    'cmd_audit'
    """
    p = subparsers.add_parser("audit", help="check a data set for duplicates, split leaks, label conflicts "
                              "and thin classes")
    p.add_argument("data_dir", help="<dir>/<class>/<image>")
    p.add_argument("--out", default="facefeat-audit",
                   help="output folder for audit.json and audit.md (default ./facefeat-audit)")
    p.add_argument("--near", action="store_true",
                   help="also find near duplicates (perceptual hash: re-encoded, brightened, noisy or "
                        "re-cropped copies)")
    p.add_argument("--near-threshold", type=int, default=NEAR_THRESHOLD, metavar="BITS",
                   help=f"pHash Hamming distance for --near, out of {PHASH_BITS} bits (default {NEAR_THRESHOLD})")
    p.add_argument("--min-class-count", type=int, default=MIN_CLASS_COUNT, metavar="N",
                   help=f"report classes with fewer images (default {MIN_CLASS_COUNT})")
    p.add_argument("--min-subject-images", type=int, default=MIN_SUBJECT_IMAGES, metavar="N",
                   help=f"report subjects with fewer images (default {MIN_SUBJECT_IMAGES})")
    subjects_option(p)
    p.add_argument("--n-jobs", type=int, default=1, help="processes decoding images (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_audit)
    return p


def cmd_audit(args):
    """Run ``facefeat audit`` (see :func:`add_audit_parser`); writes ``audit.json`` and ``audit.md``.

    Examples
    --------
    A folder that does not exist is refused with exit status 2 (the message goes to stderr):

    >>> from facefeat.cli import main
    >>> main(["audit", "no/such/folder"])
    2
    """
    dataset = load_dataset(args.data_dir, args)
    report = audit_dataset(dataset, near=args.near, near_threshold=args.near_threshold,
                           min_class_count=args.min_class_count, min_subject_images=args.min_subject_images,
                           n_jobs=args.n_jobs, progress=not args.quiet)
    print(report.describe())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "audit.json", report.to_json())
    atomic_write(out / "audit.md", report.to_markdown())
    print(f"report in {out}/ (audit.md, audit.json with every duplicate group and its files)")
    return 0
