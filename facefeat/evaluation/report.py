"""The benchmark's report: ``results.md``, ``results.json``, the audit and the pictures, written atomically."""

import json
import os
from pathlib import Path

import numpy as np

def atomic_write(path, text):
    """Write ``text`` to ``path`` through a temporary file and a rename, so a reader never sees half a file.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "results.md")
    >>> atomic_write(path, "| pipeline |")
    >>> open(path).read(), os.listdir(os.path.dirname(path))
    ('| pipeline |', ['results.md'])
    """
    tmp = f"{path}.tmp{os.getpid()}"
    # file names that are not valid UTF-8 reach the reports as surrogate escapes: keep their bytes
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)
    os.replace(tmp, path)


def _save_png(ax, path):
    tmp = f"{path}.tmp{os.getpid()}"
    ax.figure.savefig(tmp, format="png", dpi=120)
    os.replace(tmp, path)


def write_outputs(results, dataset, out_dir, audit=None):
    """Write results.json, results.md, audit.json/.md, the confusion matrices and the class distribution.

    Every file is written to a temporary name and renamed into place.

    Parameters
    ----------
    results : dict
        What :func:`~facefeat.evaluation.benchmark.run_benchmark` returns.
    dataset : FaceDataset
        The data set it ran on (for the class distribution and titles).
    out_dir : str or path-like
        Created if needed.
    audit : AuditReport, optional
        Also write ``audit.json`` and ``audit.md``.

    Examples
    --------
    Four synthetic faces, the built-in ``hog-linear`` recipe:

    >>> import os, tempfile
    >>> from facefeat.evaluation.benchmark import run_benchmark
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=2, n_per_class=1, classes=["happiness", "surprise"])
    >>> out = os.path.join(tempfile.mkdtemp(), "out")
    >>> write_outputs(run_benchmark(ds, ["hog-linear"], progress=False, n_boot=20), ds, out)
    >>> sorted(os.listdir(out))
    ['class_distribution.png', 'confusion_hog-linear.png', 'per_class_f1.png', 'results.json', 'results.md']
    """
    from facefeat import plots as viz

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "results.json", json.dumps(results, indent=1))
    atomic_write(out / "results.md", results_markdown(results))
    if audit is not None:
        atomic_write(out / "audit.json", audit.to_json())
        atomic_write(out / "audit.md", audit.to_markdown())
    _save_png(viz.plot_class_distribution(dataset.counts(), title=f"{dataset.name}: images per class"),
              out / "class_distribution.png")
    for name, entry in results["pipelines"].items():
        ax = viz.plot_confusion_matrix(np.array(entry["pooled"]["confusion_matrix"]), results["classes"],
                                       title=f"{name} on {dataset.name} (pooled over folds)")
        _save_png(ax, out / f"confusion_{name}.png")
    if results["pipelines"]:
        scores = {name: [e["folds"]["per_class"][c]["f1"]["mean"] for c in results["classes"]]
                  for name, e in results["pipelines"].items()}
        _save_png(viz.plot_per_class_f1(scores, results["classes"], title=f"per-class F1 on {dataset.name} "
                                        "(mean over folds)"), out / "per_class_f1.png")


_LABELS = {"accuracy": "accuracy", "balanced_accuracy": "balanced acc.", "macro_f1": "macro-F1",
           "micro_f1": "micro-F1"}


def results_markdown(results):
    """The results as a paper-style Markdown table, the best mean of each column in bold.

    Parameters
    ----------
    results : dict
        What :func:`~facefeat.evaluation.benchmark.run_benchmark` returns.

    Returns
    -------
    str
        The content of ``results.md``: the mean +- std over folds of each
        scalar metric (pooled value in brackets), the per-class F1, the
        bootstrap confidence intervals and paired comparisons, and notes on
        skipped files and pipelines and on folds read from the cache (their
        timing cells marked †).

    Examples
    --------
    >>> from facefeat.evaluation.benchmark import run_benchmark
    >>> from facefeat.images.synthetic import make_expressions
    >>> faces = make_expressions(n_subjects=2, n_per_class=1, classes=["happiness", "surprise"])
    >>> text = results_markdown(run_benchmark(faces, ["hog-linear"], progress=False, n_boot=20))
    >>> print(text.splitlines()[0])
    # synthetic: 1 pipelines
    >>> print(text.splitlines()[2])
    4 images, 2 classes, 2 subjects. Protocol: leave-one-subject-out over 2 subjects; seed 0.
    >>> [line for line in text.splitlines() if line.startswith("| pipeline")][1]
    '| pipeline | happiness | surprise |'
    """
    pipes = results["pipelines"]
    d, p = results["dataset"], results["protocol"]
    lines = [
        f"# {d['name']}: {len(pipes)} pipelines",
        "",
        f"{d['n_images']} images, {d['n_classes']} classes"
        + (f", {d['n_subjects']} subjects" if d["n_subjects"] else "")
        + f". Protocol: {p['description']}; seed {p['seed']}.",
        "",
        "Mean ± standard deviation over folds (pooled over all test predictions in brackets).",
        "",
        "| pipeline | " + " | ".join(_LABELS.values()) + " | images/s | wall s |",
        "|---|" + "---:|" * (len(_LABELS) + 2),
    ]
    best = {k: max(e["folds"][k]["mean"] for e in pipes.values()) for k in _LABELS}
    for name, e in pipes.items():
        cells = []
        for k in _LABELS:
            m, s = e["folds"][k]["mean"], e["folds"][k]["std"]
            cell = f"{m:.3f} ± {s:.3f}"
            cell = f"**{cell}**" if np.isclose(m, best[k]) else cell
            cells.append(f"{cell} ({e['pooled'][k]:.3f})")
        wall = e["timing"].get("wall_seconds")
        mark = " †" if cached_folds_note(name, e, p.get("n_folds")) else ""  # timings not measured by this run
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {e['timing']['images_per_second']:.0f}{mark} | "
                     + ("–" if wall is None else f"{wall:.0f}") + f"{mark} |")
    classes = results["classes"]
    lines += ["", "Per-class F1 (mean over folds):", "",
              "| pipeline | " + " | ".join(classes) + " |", "|---|" + "---:|" * len(classes)]
    for name, e in pipes.items():
        vals = [e["folds"]["per_class"][c]["f1"]["mean"] for c in classes]
        lines.append(f"| {name} | " + " | ".join("–" if v is None else f"{v:.2f}" for v in vals) + " |")
    lines += _uncertainty_markdown(results)
    notes = [f"- † {cached}" for name, e in pipes.items() if (cached := cached_folds_note(name, e, p.get("n_folds")))]
    from_cache = " (some folds read from the cache, marked †)" if notes else ""
    for name, e in pipes.items():
        nf = e.get("faces_not_found")
        if nf and nf["count"]:
            notes.append(f"- {name}: no face detected in {nf['count']} images (aligned by the fallback)")
    for name, e in pipes.items():
        for path, weights in _mean_vote_weights(e.get("vote_weights", [])).items():
            notes.append(f"- {name}: fitted weights of its vote `{path}` (mean over folds): "
                         + ", ".join(f"{member} {w:.2f}" for member, w in weights.items()))
    for sp in results.get("skipped_pipelines", []):
        notes.append(f"- {sp['name']} skipped: {sp['reason']}")
    if d.get("skipped"):
        notes.append(f"- {len(d['skipped'])} files skipped while reading (listed in results.json)")
    dedupe = p.get("dedupe")
    if dedupe and dedupe["n_duplicate_groups"]:
        notes.append(f"- duplicates: {dedupe['description']} (audit.md lists every group)")
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines += ["", f"Wall time {results['wall_seconds']:.0f} s{from_cache}.", ""]
    return "\n".join(lines)


def _mean_vote_weights(folds):
    """``{path: {member: mean weight}}`` over the folds' ``{path: {member: weight}}``.

    Examples
    --------
    >>> _mean_vote_weights([{"clf": {"a": 0.2, "b": 0.8}}, {"clf": {"a": 0.4, "b": 0.6}}])
    {'clf': {'a': 0.3, 'b': 0.7}}
    """
    paths = {path: list(members) for fold in folds for path, members in fold.items()}
    return {path: {m: round(float(np.mean([fold[path][m] for fold in folds if path in fold])), 6) for m in members}
            for path, members in paths.items()}


def cached_folds_note(name, entry, n_folds=None):
    """The sentence saying that folds of a pipeline were read from the benchmark's cache, or None.

    Folds read back from the files of an earlier run are not recomputed, so
    the pipeline's wall time covers only reading them.

    Parameters
    ----------
    name : str
        The pipeline.
    entry : dict
        Its entry in ``results["pipelines"]`` (see
        :func:`~facefeat.evaluation.benchmark.run_benchmark`).
    n_folds : int, optional
        Number of folds of the protocol.

    Returns
    -------
    str or None
        None when every fold was computed by this run.

    Examples
    --------
    >>> entry = {"timing": {"folds_from_cache": 10, "fold_cache_dir": "/cache/benchmark/3f2a"}}
    >>> print(cached_folds_note("lbp-linear", entry, 10))  # doctest: +NORMALIZE_WHITESPACE
    lbp-linear: 10 of 10 folds read from the cache /cache/benchmark/3f2a, not recomputed: its wall time is only
    the reading, and its images/s was timed by the run that computed them; delete that folder or use
    --no-cache to recompute
    >>> print(cached_folds_note("lbp-linear", {"timing": {"folds_from_cache": 0}}, 10))
    None
    """
    timing = entry["timing"]
    n = timing.get("folds_from_cache", 0)
    if not n:
        return None
    where = timing.get("fold_cache_dir")
    return (f"{name}: {n}{'' if n_folds is None else f' of {n_folds}'} folds read from the cache"
            f"{'' if where is None else ' ' + where}, not recomputed: its wall time is only the reading, and its "
            "images/s was timed by the run that computed them; delete that folder or use --no-cache to recompute")


def _uncertainty_markdown(results):
    """Bootstrap CIs of the pooled scores and the paired comparisons, as Markdown lines."""
    pipes = results["pipelines"]
    cis = {n: e["pooled_ci"] for n, e in pipes.items() if "pooled_ci" in e}
    if not cis:
        return []
    any_ci = next(iter(cis.values()))
    lines = ["", f"Pooled scores with {any_ci['confidence']:.0%} bootstrap confidence intervals "
             f"({any_ci['method']}, {any_ci['n_units']} {any_ci['resampling']}, {any_ci['n_boot']} resamples):", "",
             "| pipeline | accuracy | balanced acc. | macro-F1 |", "|---|---:|---:|---:|"]
    for n, ci in cis.items():
        cells = [f"{ci[k]['estimate']:.3f} [{ci[k]['low']:.3f}, {ci[k]['high']:.3f}]"
                 for k in ("accuracy", "balanced_accuracy", "macro_f1")]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    comps = results.get("comparisons") or []
    if comps:
        lines += ["", "Best pipeline against each other one (paired bootstrap of A - B on the same test items; "
                  "McNemar: exact test on the items only one gets right):", "",
                  "| A vs B | Δ macro-F1 [95% CI] | A better in | Δ accuracy [95% CI] | McNemar p |",
                  "|---|---:|---:|---:|---:|"]
        for c in comps:
            f, a = c["macro_f1"], c["accuracy"]
            lines.append(f"| {c['a']} vs {c['b']} | {f['difference']:+.3f} [{f['low']:+.3f}, {f['high']:+.3f}] | "
                         f"{f['fraction_a_better']:.1%} | {a['difference']:+.3f} [{a['low']:+.3f}, {a['high']:+.3f}] | "
                         f"{c['mcnemar']['p_value']:.2g} |")
    return lines
