"""What a benchmark does with the duplicates an audit found: leak-proof groups, dropped copies.

:func:`dedupe_plan` turns an :class:`~facefeat.evaluation.audit.AuditReport`
into the images to use and the groups to keep in one fold;
:func:`duplicate_group_ids` gives one group id per image.
"""

import numpy as np

from facefeat.evaluation._groups import chain_edges, connected_components

DEDUPE_MODES = ("group", "drop", "off")


def duplicate_group_ids(report, n):
    """One group id per item: duplicates share an id, every other item has its own.

    Pass the result as ``groups`` to a grouped splitter
    (:class:`sklearn.model_selection.GroupKFold`, ``StratifiedGroupKFold``) so
    no duplicate group is split across folds.

    Parameters
    ----------
    report : AuditReport
        Audit of the data set whose items are being split.
    n : int
        Number of items (must equal ``report.n_images``).

    Returns
    -------
    ids : ndarray of int of shape (n,)
        ``0 .. len(report.groups) - 1`` for the duplicate groups, then
        consecutive unique ids for the remaining items.

    Examples
    --------
    >>> from facefeat.evaluation.audit import AuditReport
    >>> r = AuditReport(name="x", root=None, n_images=5, groups=[{"indices": [1, 3]}])
    >>> duplicate_group_ids(r, 5).tolist()
    [1, 0, 2, 0, 3]
    """
    if n != report.n_images:
        raise ValueError(f"the report is about {report.n_images} items, not {n}")
    ids = np.full(n, -1, dtype=int)
    for k, g in enumerate(report.groups):
        ids[np.asarray(g["indices"], dtype=int)] = k
    rest = np.flatnonzero(ids < 0)
    ids[rest] = len(report.groups) + np.arange(len(rest))
    return ids


def _groups_in(dataset, report):
    """The report's duplicate groups as index arrays into ``dataset`` (matched by file)."""
    if dataset.paths is not None and all(g.get("files") is not None for g in report.groups):
        pos = {str(p): i for i, p in enumerate(dataset.paths)}
        out = []
        for g in report.groups:
            idx = sorted(pos[f] for f in g["files"] if f in pos)
            if len(idx) > 1:
                out.append(np.array(idx, dtype=int))
        return out
    if len(dataset) != report.n_images:
        raise ValueError(f"the report is about {report.n_images} items but the data set has {len(dataset)} "
                         "and no file names to match them by")
    return [np.asarray(g["indices"], dtype=int) for g in report.groups]


def dedupe_plan(dataset, report, mode="group", *, drop_conflicting=True, split_protocol=False):
    """Which images a benchmark keeps, and how it groups them, given an audit.

    Parameters
    ----------
    dataset : FaceDataset
        The data set to evaluate on. Report groups are matched to it by file
        name, so it may be a subset of the audited one (e.g. after unreadable
        files were skipped); in-memory data sets must be the audited one.
    report : AuditReport
        From :func:`audit_dataset`. Use an exact audit (``near=False``) for
        benchmarks on posed data sets: there, near groups join frames of one
        subject with different expressions (CK+ neutral onsets and peaks),
        which ``drop_conflicting`` would remove.
    mode : {"group", "drop", "off"}, default="group"
        ``"group"``: keep every image but put each duplicate group in one
        fold (the returned groups merge subject ids and duplicate groups by
        union-find, so a group whose copies belong to two subjects joins
        them). ``"drop"``: keep one image per duplicate group (the first by
        index; per split with ``split_protocol``). ``"off"``: change nothing
        (the note still counts the duplicates).
    drop_conflicting : bool, default=True
        In ``"group"`` and ``"drop"`` modes, remove every image of a
        duplicate group whose copies carry different labels.
    split_protocol : bool, default=False
        The evaluation uses the data set's fixed split (FER2013: Training ->
        PublicTest, ``split == "train"`` / ``"test"``): unless ``mode="off"``,
        training images that duplicate a test image are removed, so the test
        set stays the published one (minus conflicting groups).

    Returns
    -------
    keep : ndarray of int of shape (n_kept,)
        Sorted indices into ``dataset`` to keep.
    groups : ndarray of str of shape (n_kept,) or None
        Fold groups for the kept images: subject ids merged with duplicate
        groups (``"S010"``, or ``"S010+S011"`` when a duplicate joins two
        subjects; ``"dup3"`` / ``"img17"`` without subject ids) in
        ``"group"`` mode; the plain subject ids (or None) otherwise. None
        also when the data set has neither subject ids nor duplicates left.
        Use them both for the folds and as bootstrap clusters.
    note : dict
        For ``results.json``: ``mode``, ``drop_conflicting``,
        ``split_protocol``, ``n_duplicate_groups``, ``n_before``,
        ``n_after``, ``n_removed``, ``removed_by_reason``,
        ``n_files_grouped`` (kept files constrained to one fold with their
        copies), ``n_merged_subject_groups``, ``groups`` (what the groups
        are), ``description`` (one sentence) and ``removed_files`` (path or
        index, and reason).

    Examples
    --------
    >>> import numpy as np
    >>> from facefeat.images.datasets import FaceDataset
    >>> from facefeat.evaluation.audit import audit_dataset
    >>> rng = np.random.default_rng(0)
    >>> x = [rng.integers(0, 256, (8, 8), dtype=np.uint8) for _ in range(3)]
    >>> ds = FaceDataset(labels=["fear"] * 5, images=[x[0], x[1], x[0], x[2], x[1]],
    ...                  split=["train", "train", "test", "test", "train"])
    >>> report = audit_dataset(ds, min_class_count=1)
    >>> keep, groups, note = dedupe_plan(ds, report, split_protocol=True)
    >>> keep.tolist(), note["removed_by_reason"]
    ([1, 2, 3, 4], {'training copy of a test image': 1})
    >>> keep, groups, note = dedupe_plan(ds, report, mode="drop")
    >>> keep.tolist(), groups
    ([0, 1, 3], None)
    """
    if mode not in DEDUPE_MODES:
        raise ValueError(f"mode must be one of {', '.join(DEDUPE_MODES)}, got {mode!r}")
    n = len(dataset)
    labels, split, subjects = dataset.labels, dataset.split, dataset.groups
    if split_protocol and split is None:
        raise ValueError(f"split_protocol needs a data set with a split; {dataset.name} has none")
    dup = _groups_in(dataset, report)
    kind = "exact and near" if report.params.get("near") else "exact"
    conflicting = [g for g in dup if len(set(labels[g].tolist())) > 1]
    cross = [g for g in dup if split is not None and len(set(split[g].tolist())) > 1]
    n_extra = int(sum(len(g) - 1 for g in dup))
    note = {
        "mode": mode, "drop_conflicting": bool(drop_conflicting), "split_protocol": bool(split_protocol),
        "duplicates": kind, "n_duplicate_groups": len(dup), "n_extra_files": n_extra,
        "n_cross_split_groups": len(cross) if split is not None else None,
        "n_conflicting_groups": len(conflicting), "n_before": n,
    }
    removed = {}  # index -> reason
    if mode != "off":
        if drop_conflicting:
            for g in conflicting:
                for i in g.tolist():
                    removed[i] = "duplicate group with conflicting labels"
        if split_protocol:
            for g in dup:
                alive = [i for i in g.tolist() if i not in removed]
                if any(split[i] == "test" for i in alive):
                    for i in alive:
                        if split[i] == "train":
                            removed[i] = "training copy of a test image"
        if mode == "drop":
            for g in dup:
                seen = set()
                for i in g.tolist():
                    if i in removed:
                        continue
                    side = split[i] if split_protocol else None
                    if side in seen:
                        removed[i] = "duplicate (one image kept per group)"
                    seen.add(side)
    keep = np.array([i for i in range(n) if i not in removed], dtype=int)
    kept_set = set(keep.tolist())
    alive_groups = [np.array([i for i in g.tolist() if i in kept_set], dtype=int) for g in dup]
    alive_groups = [g for g in alive_groups if len(g) > 1]

    groups_out = None if subjects is None else subjects[keep]
    n_grouped = 0
    n_merged = 0
    groups_desc = "subject ids" if subjects is not None else "none (no subject ids)"
    if mode == "group" and (subjects is not None or alive_groups):
        pos = np.full(n, -1, dtype=int)
        pos[keep] = np.arange(len(keep))
        members = [pos[g] for g in alive_groups]
        if subjects is not None:
            kept_subjects = subjects[keep]
            _, inv = np.unique(kept_subjects, return_inverse=True)
            order = np.argsort(inv, kind="stable")
            members += np.split(order, np.cumsum(np.bincount(inv))[:-1]) if len(keep) else []
        ii, jj = chain_edges([m.tolist() for m in members])
        comp = connected_components(len(keep), ii, jj)
        n_grouped = int(sum(len(g) for g in alive_groups))
        if subjects is not None:
            names = {}
            for c, s in zip(comp.tolist(), kept_subjects.tolist()):
                names.setdefault(c, set()).add(s)
            label = {c: "+".join(sorted(s)) for c, s in names.items()}
            n_merged = sum(len(s) > 1 for s in names.values())
            groups_out = np.array([label[c] for c in comp.tolist()], dtype=str)
            if alive_groups:
                groups_desc = "subject ids merged with duplicate groups"
        else:
            in_dup = np.zeros(len(keep), dtype=bool)
            for m in members:
                in_dup[m] = True
            dup_names = {}
            for c in comp[in_dup].tolist():
                dup_names.setdefault(c, f"dup{len(dup_names)}")
            groups_out = np.array([dup_names[c] if in_dup[k] else f"img{keep[k]}"
                                   for k, c in enumerate(comp.tolist())], dtype=str)
            groups_desc = "duplicate groups (no subject ids; other images are their own group)"

    reasons = {}
    for r in removed.values():
        reasons[r] = reasons.get(r, 0) + 1
    note.update({
        "n_after": int(len(keep)), "n_removed": len(removed), "removed_by_reason": reasons,
        "n_files_grouped": n_grouped, "n_merged_subject_groups": n_merged, "groups": groups_desc,
    })
    note["description"] = _plan_description(note, split_protocol)

    def where(i):
        return str(dataset.paths[i]) if dataset.paths is not None else f"image[{i}]"

    note["removed_files"] = [{"path": where(i), "reason": r} for i, r in sorted(removed.items())]
    return keep, groups_out, note


def _plan_description(note, split_protocol):
    kind = note["duplicates"]
    if not note["n_duplicate_groups"]:
        return f"no {kind} duplicates found"
    found = (f"{note['n_duplicate_groups']} {kind} duplicate groups ({note['n_extra_files']} extra files"
             + (f", {note['n_cross_split_groups']} spanning splits" if note["n_cross_split_groups"] is not None
                else "")
             + f", {note['n_conflicting_groups']} with conflicting labels)")
    if note["mode"] == "off":
        return f"{found}: left in place (--dedupe off), so scores may be optimistic"
    done = []
    r = note["removed_by_reason"]
    if r.get("duplicate group with conflicting labels"):
        done.append(f"removed {r['duplicate group with conflicting labels']} images of groups with "
                    "conflicting labels")
    if r.get("training copy of a test image"):
        done.append(f"removed {r['training copy of a test image']} training copies of test images")
    if r.get("duplicate (one image kept per group)"):
        done.append(f"removed {r['duplicate (one image kept per group)']} extra copies (one kept per group"
                    + (" and split" if split_protocol else "") + ")")
    if note["mode"] == "group" and note["n_files_grouped"]:
        if split_protocol:
            done.append(f"{note['n_files_grouped']} remaining copies left in place, clustered together "
                        "for confidence intervals")
        else:
            done.append(f"kept {note['n_files_grouped']} copies in the same fold as their duplicates"
                        + (f" ({note['n_merged_subject_groups']} merged subject groups)"
                           if note["n_merged_subject_groups"] else ""))
    return found + ": " + ("; ".join(done) if done else "nothing to change") + \
        f"; {note['n_after']} of {note['n_before']} images used"
