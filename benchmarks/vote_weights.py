"""Equal against fitted weights for soft votes of saved CNNs and a vote recipe's other members, on a fixed split.

    python benchmarks/vote_weights.py ../shared/data/fer2013 --cnn DIR/mobilenetv2-finetune.model \\
        --cnn facefeat/data/expression.model --vote fusion-handcrafted-finetuned-vote --json OUT.json

``Vote(weights="fitted")`` fits each member twice (on most training faces,
then on all), which for a CNN on FER2013 costs hours. A facefeat CNN already
holds out a validation split of its training faces for early stopping, and
never trains on it; this script recomputes that split for CNNs saved by
``facefeat benchmark --save-models`` (or ``facefeat fit``) on the data set's
training part, fits the vote recipe's members that are not CNNs on the rest,
and fits :func:`~facefeat.classifiers.fusion.mixture_weights` on the split.
The CNNs' probabilities there are slightly optimistic: their best epoch was
chosen on it. The other members are then refitted on every training face, as
the vote does, and every vote is scored on the test part: all members, the
CNNs alone, and each CNN with the recipe's other members; each paired with the
first CNN alone (duplicate clusters resampled, as the benchmark does).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from _harness import write_json


def _held_out_split(y_train, groups_train, cnns):
    """The validation split every CNN held out (they must share it)."""
    from sklearn.utils import check_random_state

    from facefeat.deep._training import validation_split

    _, y_enc = np.unique(y_train, return_inverse=True)  # the labels as the CNNs encoded them
    splits = []
    for name, pipe in cnns.items():
        clf = pipe[-1]
        _, val = validation_split(y_enc, groups_train, clf.validation_fraction, check_random_state(clf.random_state))
        if len(val) != clf.n_validation_:
            sys.exit(f"{name} held out {clf.n_validation_} faces, but its split of this data set has {len(val)}: "
                     "was it trained on this data set's training part?")
        splits.append(val)
    if any(not np.array_equal(splits[0], s) for s in splits[1:]):
        sys.exit("the CNNs held out different validation splits (different random_state or validation_fraction)")
    return splits[0]


def _check_classes(name, found, classes):
    if list(found) != list(classes):
        sys.exit(f"{name} predicts {list(found)}, the data set has {list(classes)}")


def _score(y, proba, classes):
    from facefeat.evaluation.metrics import classification_metrics

    m = classification_metrics(y, classes[proba.argmax(1)], list(classes))
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="a data set with a train/test split (e.g. FER2013: Training_*, PublicTest_*)")
    parser.add_argument("--cnn", action="append", required=True,
                        help="a CNN model file trained on the data set's training part (repeatable)")
    parser.add_argument("--vote", default="fusion-handcrafted-finetuned-vote",
                        help="a vote recipe whose members that are not CNNs join the CNNs")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    from facefeat._steps import take
    from facefeat.analysis.analyze import load_pipeline
    from facefeat.classifiers.fusion import mixture_weights
    from facefeat.deep._classifier import FaceCNNClassifier
    from facefeat.evaluation.benchmark import benchmark_folds
    from facefeat.evaluation.uncertainty import paired_comparison
    from facefeat.images.datasets import load_folder
    from facefeat.pipelines import make_pipeline

    prepared = benchmark_folds(load_folder(args.data_dir), cv="split", progress=True)
    [(train, test)] = prepared.folds
    y, classes = prepared.dataset.labels, np.asarray(prepared.dataset.classes)
    groups = None if prepared.groups is None else np.asarray(prepared.groups)
    cnns = {Path(path).stem: load_pipeline(path) for path in args.cnn}
    val = train[_held_out_split(y[train], None if groups is None else groups[train], cnns)]
    rest = np.setdiff1d(train, val)
    print(f"{len(train)} training faces, {len(val)} held out by the CNNs, {len(test)} test faces", flush=True)

    probas = {}  # member -> (held-out probabilities, test probabilities), columns in `classes` order
    for name, pipe in cnns.items():
        _check_classes(name, pipe.classes_, classes)
        probas[name] = (pipe.predict_proba(take(prepared.images, val)),
                        pipe.predict_proba(take(prepared.images, test)))
        print(f"{name}: predicted", flush=True)
    vote = make_pipeline(args.vote)
    aligned = vote[:-1].fit_transform(prepared.images)  # the vote's stateless face preparation
    others = [(n, m) for n, m in vote[-1].estimators
              if not isinstance(m[-1] if isinstance(m, Pipeline) else m, FaceCNNClassifier)]
    for name, member in others:
        held = clone(member).fit(take(aligned, rest), y[rest])
        final = clone(member).fit(take(aligned, train), y[train])
        for fitted in (held, final):  # held-out probabilities need every class in the rest, too
            _check_classes(name, fitted.classes_, classes)
        probas[name] = (held.predict_proba(take(aligned, val)), final.predict_proba(take(aligned, test)))
        print(f"{name}: fitted twice", flush=True)

    y_val = np.searchsorted(classes, y[val])
    first = next(iter(cnns))
    reference = classes[probas[first][1].argmax(1)]
    result = {"data_dir": args.data_dir, "vote": args.vote, "cnns": args.cnn, "n_train": len(train),
              "n_held_out": len(val), "n_test": len(test),
              "members": {n: {"held_out": _score(y[val], p[0], classes), "test": _score(y[test], p[1], classes)}
                          for n, p in probas.items()},
              "votes": {}}
    combos = {"all": list(probas), "cnns": list(cnns)}
    combos.update({f"{n}+{args.vote} members": [n] + [o for o, _ in others] for n in cnns})
    seen = set()
    for label, names in combos.items():
        if len(names) < 2 or frozenset(names) in seen:  # one CNN: "all" is that CNN with the others
            continue
        seen.add(frozenset(names))
        val_p, test_p = (np.stack([probas[n][i] for n in names]) for i in (0, 1))
        weights = mixture_weights(val_p, y_val)
        entry = {"members": names, "fitted_weights": dict(zip(names, np.round(weights, 4).tolist()))}
        for how, proba in (("equal", test_p.mean(0)), ("fitted", np.tensordot(weights, test_p, 1))):
            c = paired_comparison(y[test], classes[proba.argmax(1)], reference, list(classes),
                                  groups=None if groups is None else groups[test])
            entry[how] = {**_score(y[test], proba, classes),
                          f"minus_{first}": {k: {q: c[k][q] for q in ("difference", "low", "high")}
                                             for k in ("accuracy", "macro_f1")},
                          "mcnemar_p": c["mcnemar"]["p_value"]}
            weights_said = f" (weights {entry['fitted_weights']})" if how == "fitted" else ""
            print(f"{label}, {how} weights: accuracy {entry[how]['accuracy']:.3f}, "
                  f"macro-F1 {entry[how]['macro_f1']:.3f}{weights_said}")
        result["votes"][label] = entry
    write_json(args.json, result)


if __name__ == "__main__":
    main()
