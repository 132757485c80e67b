"""``facefeat asm train``: train an Active Shape Model on image + ``.pts`` folders."""

import time

__all__ = ["asm_train_command"]


def add_asm_parser(subparsers):
    """Register ``facefeat asm train DIR... --out MODEL`` on an argparse sub-parser set.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="facefeat")
    >>> asm = add_asm_parser(parser.add_subparsers(dest="command"))
    >>> asm.prog
    'facefeat asm'
    >>> args = parser.parse_args(["asm", "train", "lfpw/trainset", "helen/trainset", "--out", "asm.npz"])
    >>> args.asm_command, args.paths, args.out, args.levels, args.components
    ('train', ['lfpw/trainset', 'helen/trainset'], 'asm.npz', None, None)
    >>> args.func is asm_train_command
    True
    """
    p = subparsers.add_parser("asm", help="Active Shape Models: train one on image + .pts folders")
    sub = p.add_subparsers(dest="asm_command", required=True)
    t = sub.add_parser("train", help="train an ASM on folders of images with .pts landmark files")
    t.add_argument("paths", nargs="+", metavar="DIR", help="folders (searched recursively) or image files, "
                   "each image with a .pts file of the same name (300-W format, 1-based)")
    t.add_argument("--out", required=True, metavar="MODEL", help="model file to write (.npz)")
    t.add_argument("--levels", type=int, default=None, help="pyramid levels (default 3, as the shipped model)")
    t.add_argument("--components", type=float, default=None,
                   help="shape modes: an int, or a variance fraction in (0, 1] (default 0.98)")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(func=asm_train_command)
    return p


def asm_train_command(args):
    """``facefeat asm train``: train an Active Shape Model and save it.

    Reads ``args.paths``, ``args.out``, ``args.levels``,
    ``args.components``, ``args.quiet`` (the options of
    :func:`add_asm_parser`), trains with
    :func:`facefeat.shape.asm.train_asm` and writes the model with
    :meth:`~facefeat.shape.asm.ActiveShapeModel.save`.

    Exit status: 0; prints what was trained and where it was written.

    Examples
    --------
    The arguments it reads (training itself takes seconds, so it is not run
    here); ``--components`` below 1 is a variance fraction, from 1 on a
    number of modes:

    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="facefeat")
    >>> _ = add_asm_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["asm", "train", "faces/", "--out", "asm.npz", "--levels", "2",
    ...                           "--components", "0.95", "--quiet"])
    >>> args.func is asm_train_command, args.levels, args.components, args.quiet
    (True, 2, 0.95, True)
    """
    from facefeat.shape.asm import train_asm

    params = {}
    if getattr(args, "levels", None) is not None:
        params["n_levels"] = args.levels
    comps = getattr(args, "components", None)
    if comps is not None:
        params["n_components"] = int(comps) if comps >= 1 else comps
    t0 = time.time()
    model = train_asm(args.paths, progress=not getattr(args, "quiet", False), **params)
    model.save(args.out)
    print(f"trained an ASM on {model.n_train_} images ({model.n_boxes_} with a detector box), "
          f"{model.pdm_.n_components_} shape modes, {model.n_levels} levels, in {time.time() - t0:.0f} s; "
          f"written to {args.out}")
    return 0
