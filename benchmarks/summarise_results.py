"""One table of every pipeline on every data set, from the benchmark folders' ``results.json``.

    python benchmarks/summarise_results.py benchmarks/results/ck_plus_48 benchmarks/results/jaffe ...
    python benchmarks/summarise_results.py --out benchmarks/results/SUMMARY.md benchmarks/results/*/

Cells are macro-F1 mean ± standard deviation over folds (a single split has no
standard deviation), accuracy in brackets; the best macro-F1 of each data set
is in bold. A second table gives each pipeline's compute time: feature
extraction plus every fold's fit and prediction, as first measured (folds
reused from the cache keep their original timings). Pipelines a run skipped
(weights not cached) are listed under the tables with the reason.
"""

import argparse
import json
from pathlib import Path


def load(folders):
    runs = {}
    for folder in folders:
        path = Path(folder) / "results.json"
        if path.is_file():
            runs[Path(folder).name] = json.loads(path.read_text())
    return runs


def _table(runs, names, cell):
    """Markdown rows of ``cell(name, run_name, run)`` per pipeline and data set ("–" where it gives None)."""
    lines = ["| pipeline | " + " | ".join(runs) + " |", "|---|" + "---:|" * len(runs)]
    for name in names:
        cells = [cell(name, d, res) for d, res in runs.items()]
        lines.append(f"| {name} | " + " | ".join("–" if c is None else c for c in cells) + " |")
    return lines


def summary_markdown(runs):
    names = []
    for res in runs.values():
        names += [n for n in res["pipelines"] if n not in names]
    best = {d: max(e["folds"]["macro_f1"]["mean"] for e in r["pipelines"].values()) for d, r in runs.items()}

    def score(name, d, res):
        e = res["pipelines"].get(name)
        if e is None:
            return None
        f, acc = e["folds"]["macro_f1"], e["folds"]["accuracy"]["mean"]
        text = f"{f['mean']:.3f}" + (f" ± {f['std']:.3f}" if res["protocol"].get("n_folds", 1) > 1 else "")
        text = f"**{text}**" if abs(f["mean"] - best[d]) < 1e-12 else text
        return f"{text} ({acc:.3f})"

    def minutes(name, d, res):
        t = res["pipelines"].get(name, {}).get("timing")
        if t is None:
            return None
        n_folds = res["protocol"].get("n_folds", 1)
        seconds = t["extract_seconds"] + n_folds * (t["fit_seconds_mean"] + t["predict_seconds_mean"])
        return f"{seconds / 60:.1f}"

    lines = _table(runs, names, score)
    lines += ["", "Compute time in minutes (features + fits and predictions of every fold):", ""]
    lines += _table(runs, names, minutes)
    lines += ["", "Protocols:", ""]
    for d, res in runs.items():
        p, ds = res["protocol"], res["dataset"]
        cached = sum(e["timing"].get("folds_from_cache", 0) for e in res["pipelines"].values())
        total = p["n_folds"] * len(res["pipelines"])
        # a rerun that read most folds from the cache must not pass its wall time off as the suite's
        reused = f", {cached} of its {total} folds read from an earlier run's cache" if cached else ""
        lines.append(f"- {d}: {ds['n_images']} images, {ds['n_classes']} classes; {p['description']}; "
                     f"wall time {res['wall_seconds'] / 60:.0f} min{reused}")
    skipped = {(s["name"], s["reason"]) for res in runs.values() for s in res.get("skipped_pipelines", [])}
    if skipped:
        lines += ["", "Skipped (weights not cached; `facefeat benchmark --suite` never downloads):", ""]
        lines += [f"- {n}: {why}" for n, why in sorted(skipped)]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="benchmark output folders (with results.json)")
    parser.add_argument("--out", help="write the Markdown here instead of printing it")
    args = parser.parse_args(argv)
    runs = load(args.folders)
    if not runs:
        parser.error("no results.json in the folders given")
    text = summary_markdown(runs)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
