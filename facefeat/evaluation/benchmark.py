"""Compare named pipelines on one data set, subject-independently."""

import os
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import joblib
from joblib import Parallel, delayed
from sklearn.base import clone

from facefeat._steps import (detach_from_machine, groups_fit_params, set_checkpoints, set_everywhere, stateless_prefix,
                             take)
from facefeat.evaluation.folds import make_folds
from facefeat.evaluation.metrics import classification_metrics, summarise_folds
from facefeat.evaluation.report import results_markdown, write_outputs  # noqa: F401 (results_markdown: public here)
from facefeat.faces.align import FaceAligner

DEFAULT_PIPELINES = ("lbp-linear", "lbp-rf", "hog-linear", "hog-rf")

# Named sets of pipelines for ``facefeat benchmark --suite``. "seed" is the
# comparison that motivated facefeat (ResNet18 + linear head, EfficientNet-B0
# + MLP, InceptionV3 and MobileNetV2 fine-tuned, LBP + random forest, a
# PCA + GaussianHMM clusterer) beside facefeat's handcrafted, shape, proper
# HMM, compact CNN and fusion pipelines. None means every built-in pipeline.
SUITES = {
    "default": DEFAULT_PIPELINES,
    "seed": (
        # the seed's systems (those of ResNet, EfficientNet-B0 and Inception only when their weights are cached)
        "resnet18-linear", "resnet18-finetune", "efficientnet-b0-mlp", "inceptionv3-finetune",
        "mobilenetv2-finetune", "lbp-rf", "hmm-naive",
        # facefeat's offline deep pipelines: fine-tuned, frozen, and a compact CNN trained from scratch
        "efficientnet-lite0-finetune", "mobilenetv2-linear", "mobilenetv2-mlp", "efficientnet-lite0-linear",
        "dlib-resnet-linear", "compact-cnn",
        # handcrafted, shape, the proper HMM and fusion
        "lbp-linear", "hog-linear", "gabor-linear", "geometry-linear", "asm-linear", "lbp-hmm",
        "fusion-lbp-geometry-linear", "fusion-lbp-hog-geometry-vote", "fusion-handcrafted-deep-linear",
        "fusion-handcrafted-finetuned-vote",
    ),
    "all": None,
}


def suite_pipelines(suite):
    """The pipeline names of a suite of :data:`SUITES`.

    Examples
    --------
    >>> suite_pipelines("default")
    ['lbp-linear', 'lbp-rf', 'hog-linear', 'hog-rf']
    """
    from facefeat.pipelines import list_pipelines

    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")
    return list(SUITES[suite] or list_pipelines())


def missing_weights(pipe):
    """Why a pipeline cannot run without downloading weights, or None if it can.

    Looks at every step with a ``backbone`` and ``weights="imagenet"``
    (DeepEmbedding, FineTunedCNN): weights that are neither in an installed
    package nor in the cache (see :func:`facefeat.deep.weights.weights_path`).

    Parameters
    ----------
    pipe : sklearn.pipeline.Pipeline
        A pipeline, e.g. from :func:`facefeat.pipelines.make_pipeline`.

    Returns
    -------
    str or None
        The :class:`~facefeat.deep.weights.WeightsNotFoundError` message of
        the first missing weight file (which file to fetch, from where, and
        where to put it), or None when nothing needs downloading.

    Examples
    --------
    Hand-crafted pipelines need no weights:

    >>> import os, tempfile
    >>> from unittest import mock
    >>> from facefeat.evaluation.benchmark import missing_weights
    >>> from facefeat.pipelines import make_pipeline
    >>> print(missing_weights(make_pipeline("lbp-linear")))
    None

    ResNet-18's weights are downloaded on first use; with an empty cache
    they are missing:

    >>> empty = tempfile.mkdtemp()
    >>> with mock.patch.dict(os.environ, {"FACEFEAT_CACHE": empty, "TORCH_HOME": empty}):
    ...     why = missing_weights(make_pipeline("resnet18-linear"))
    >>> why.split(" and ")[0]
    "weights 'resnet18-f37072fd.pth' not found"
    """
    from facefeat.deep.weights import WEIGHTS, WeightsNotFoundError, weights_path

    params = pipe.get_params(deep=True)
    for key, backbone in params.items():
        if not key.endswith("__backbone") or backbone not in WEIGHTS:
            continue
        if params.get(key[: -len("backbone")] + "weights") != "imagenet":
            continue
        try:
            weights_path(backbone, download=False)
        except WeightsNotFoundError as exc:
            return str(exc)
    return None


def _fit_predict(rest, X, y, train, test, groups=None, cache_file=None, keep_model=False):
    """Fit on ``train``, predict ``test``: the fold's record.

    The record is a dict: ``pred`` (predictions), ``fit_s`` and
    ``predict_s`` (seconds), ``learned`` (what :func:`_learned` reports of
    the fitted model), ``from_cache``, and ``model``, the fitted ``rest``,
    with ``keep_model``. With ``cache_file``, a finished fold is stored there
    (atomically) and an interrupted benchmark rerun with the same data and
    settings reuses it; a cached fold without a model is computed again when
    one is to be kept.
    """
    if cache_file is not None and cache_file.is_file():
        try:
            cached = _fold_record(joblib.load(cache_file))
            if not keep_model or "model" in cached:
                return {**cached, "from_cache": True}
        except Exception:  # a file from another version or a damaged disk: recompute
            pass
    model = clone(rest)
    # a CNN saves its epochs beside the fold's file, so a killed run resumes inside the fold too
    checkpoints = [] if cache_file is None else set_checkpoints(model, cache_file.with_suffix(""))
    pred, fit_s, predict_s = _fit_predict_now(model, X, y, train, test, groups)
    record = {"pred": pred, "fit_s": fit_s, "predict_s": predict_s, "learned": _learned(model)}
    if keep_model:
        record["model"] = model
    if cache_file is not None:
        _atomic_dump(record, cache_file)
    for path in checkpoints:
        path.unlink(missing_ok=True)
    return {**record, "from_cache": False}


def _fold_record(cached):
    """A cached fold as a dict; folds written before fitted models were summarised are tuples."""
    if isinstance(cached, dict):
        return cached
    record = {"pred": cached[0], "fit_s": cached[1], "predict_s": cached[2], "learned": {}}
    if len(cached) == 4:
        record["model"] = cached[3]
    return record


def _learned(model):
    """What a fitted pipeline learned that a reader of the results wants to see: the weights of its votes.

    Returns
    -------
    dict
        ``{"vote_weights": {path: {member: weight}}}`` for every vote with
        fitted weights (``path``: its parameter path, e.g. ``"clf"``), else ``{}``.
    """
    from facefeat.classifiers.fusion import Vote

    votes = {path: est for path, est in model.get_params(deep=True).items()
             if isinstance(est, Vote) and hasattr(est, "weights_")}
    if not votes:
        return {}
    return {"vote_weights": {
        path: {name: float(w) for name, w in zip([n for n, e in vote.estimators if e != "drop"], vote.weights_)}
        for path, vote in votes.items()}}


def _atomic_dump(obj, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    joblib.dump(obj, tmp)
    os.replace(tmp, path)


# parameters that change how a run looks, not what it computes
_NOT_IN_KEY = ("progress", "verbose", "n_jobs", "memory", "n_threads")
# parameters added after folds were cached: left out at their "off" value, so those folds still count
_KEY_SINCE = {"crop_tta": 0.0, "mixup_alpha": 0.0, "cutmix_alpha": 0.0, "start_from_epoch": 0}


def _params_key(est):
    """A hash of what an estimator computes: its class and nested parameters, display settings left out."""
    def plain(v):  # nested estimators appear by class; their parameters are listed separately
        if hasattr(v, "get_params"):
            return type(v).__name__
        return tuple(plain(x) for x in v) if isinstance(v, (list, tuple)) else v

    def in_key(k, v):
        name = k.rsplit("__", 1)[-1]
        return name not in _NOT_IN_KEY and not (name in _KEY_SINCE and v == _KEY_SINCE[name])

    params = est.get_params(deep=True)
    # parameters an estimator does not use as configured (a vote's split without fitted weights)
    unused = {f"{owner}__{name}" if owner else name
              for owner, obj in [("", est), *params.items()] if hasattr(obj, "_unused_params")
              for name in obj._unused_params()}
    return joblib.hash((type(est).__name__, sorted((k, plain(v)) for k, v in params.items()
                                                   if in_key(k, v) and k not in unused)))


# images per stored part of a long feature extraction: a killed run loses at most one part
_PART = 4096


def _extract(prefix, X, memo_file=None, part=_PART):
    """(output, seconds) of the last step of a stateless prefix applied to the previous step's output ``X``.

    Feature matrices are kept in ``memo_file``, and while being computed, in
    parts of ``part`` images beside it, so that a run killed an hour into
    embedding FER2013 resumes from its last part. Aligned faces are not kept
    (the aligner has its own detection cache, and they are big).
    """
    if memo_file is not None and memo_file.is_file():
        try:
            return joblib.load(memo_file)
        except Exception:
            pass
    step = clone(prefix.steps[-1][1])
    keep = memo_file is not None and not isinstance(step, FaceAligner)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no face detected")
        if not keep or len(X) <= part:
            t0 = time.perf_counter()
            out = step.fit_transform(X)
            result = (out, time.perf_counter() - t0)
        else:
            result = _extract_in_parts(step.fit(X), X, memo_file, part)
    if keep:
        _atomic_dump(result, memo_file)
        for path in memo_file.parent.glob(f"{memo_file.stem}-part*.joblib"):
            path.unlink()
    return result


def _extract_in_parts(step, X, memo_file, part):
    outputs, seconds = [], 0.0
    for i, start in enumerate(range(0, len(X), part)):
        path = memo_file.with_name(f"{memo_file.stem}-part{i}.joblib")
        try:
            out, s = joblib.load(path)
        except Exception:  # not computed yet (or unreadable: computed again)
            t0 = time.perf_counter()
            out = step.transform(take(X, np.arange(start, min(start + part, len(X)))))
            s = time.perf_counter() - t0
            _atomic_dump((out, s), path)
        outputs.append(out)
        seconds += s
    return np.concatenate(outputs), seconds


def _fit_predict_now(model, X, y, train, test, groups):
    # a head that holds out validation data (FineTunedCNN's early stopping) keeps subjects apart with groups
    fit_params = groups_fit_params(model, None if groups is None else groups[train])
    t0 = time.perf_counter()
    model.fit(take(X, train), y[train], **fit_params)
    t1 = time.perf_counter()
    pred = model.predict(take(X, test))
    t2 = time.perf_counter()
    return pred, t1 - t0, t2 - t1


def _save_fitted(pipe, k, rest, images, train, name, folder):
    """Write ``pipe``'s stateless first ``k`` steps followed by the fitted ``rest`` to ``folder/<name>.model``."""
    from sklearn.pipeline import Pipeline

    from facefeat.modelfile import save_model

    steps = list(rest.steps)
    if k:  # the stateless steps learn nothing: fitting them on two images only validates their parameters
        steps = clone(pipe[:k]).fit(take(images, train[:2])).steps + steps
    model = Pipeline(steps)
    detach_from_machine(model)
    path = Path(folder) / f"{name}.model"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(path, model, pipeline_name=name, classes=[str(c) for c in model.classes_], n_train=len(train))
    return path


class BenchmarkFolds(NamedTuple):
    """What :func:`benchmark_folds` returns: the items a benchmark scores and its folds.

    Examples
    --------
    >>> BenchmarkFolds._fields
    ('images', 'dataset', 'audit', 'groups', 'protocol', 'folds', 'dedupe_note')
    """

    images: list
    dataset: object
    audit: object
    groups: object
    protocol: dict
    folds: list
    dedupe_note: object


def benchmark_folds(dataset, *, cv="auto", n_folds=10, seed=0, dedupe="group", progress=False):
    """The images and folds :func:`run_benchmark` scores, without fitting anything.

    The images are read (unreadable ones skipped and listed in
    ``dataset.skipped``), audited for pixel-identical duplicates and
    de-duplicated by :func:`facefeat.evaluation.audit.dedupe_plan`; the folds
    are :func:`facefeat.evaluation.folds.make_folds`'s on what remains. Use it
    to score a saved model on exactly a benchmark's test items.

    Parameters
    ----------
    dataset : FaceDataset
    cv, n_folds, seed, dedupe
        As in :func:`run_benchmark`.
    progress : bool, default=False

    Returns
    -------
    BenchmarkFolds
        A named tuple: ``images`` (list of arrays, those kept), ``dataset``
        (the kept items, in the same order), ``audit``, ``groups`` (the fold
        groups of the kept items, or None), ``protocol``, ``folds`` (list of
        ``(train, test)`` index arrays into ``images``) and ``dedupe_note``.

    Examples
    --------
    >>> from facefeat.evaluation.benchmark import benchmark_folds
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=3, n_per_class=1, classes=["happiness", "surprise"])
    >>> prepared = benchmark_folds(ds)
    >>> prepared.protocol["description"], len(prepared.folds), len(prepared.images)
    ('leave-one-subject-out over 3 subjects', 3, 6)
    """
    from facefeat.evaluation.audit import audit_dataset, dedupe_plan

    images, dataset = dataset.read_images(on_error="skip", progress=progress)
    audit = audit_dataset(dataset, images=images)  # exact duplicates of the decoded pixels: ~1 s for FER2013
    split = dataset.split
    split_protocol = cv == "split" or (cv == "auto" and split is not None and {"train", "test"} <= set(split.tolist()))
    keep, groups, dedupe_note = dedupe_plan(dataset, audit, mode=dedupe, split_protocol=split_protocol)
    if len(keep) < len(dataset):
        images = [images[i] for i in keep]
        dataset = dataset.subset(keep)
    protocol, folds = make_folds(dataset, cv=cv, n_folds=n_folds, random_state=seed, groups=groups)
    return BenchmarkFolds(images, dataset, audit, groups, protocol, folds, dedupe_note)


def run_benchmark(dataset, pipelines=DEFAULT_PIPELINES, *, cv="auto", n_folds=10, n_jobs=1, seed=0,
                  cache_dir=None, out_dir=None, progress=True, dedupe="group", n_boot=1000, skip_uncached=False,
                  save_models=None):
    """Cross-validate pipelines on a data set and collect a paper's metrics.

    Parameters
    ----------
    dataset : FaceDataset
    pipelines : sequence of str
        Names from :func:`facefeat.pipelines.list_pipelines` or recipe paths.
    cv : {"auto", "kfold", "loso", "split"}
        See :func:`facefeat.evaluation.folds.make_folds`.
    n_folds : int
    n_jobs : int
        Folds run in parallel; with a single fold the estimators' own
        ``n_jobs`` get it instead.
    seed : int
        ``random_state`` of the folds and of every step that has one.
    cache_dir : str, optional
        On-disk cache of face detections (see ``FaceAligner(memory=...)``).
    out_dir : str, optional
        Where to write ``results.json``, ``results.md``, ``audit.json``,
        ``audit.md`` and the plots.
    progress : bool
    dedupe : {"group", "drop", "off"}, default="group"
        What to do with pixel-identical images (see
        :func:`facefeat.evaluation.audit.dedupe_plan`): keep each duplicate group in one
        fold, keep one image per group, or nothing. Groups with conflicting
        labels are removed, and with a fixed split training copies of test
        images are removed, unless ``"off"``.
    n_boot : int, default=1000
        Bootstrap resamples for the confidence intervals and the paired
        comparisons (clustered by subject when there are subject ids).
    skip_uncached : bool, default=False
        Skip (and list in ``results["skipped_pipelines"]`` with the reason)
        the pipelines whose pretrained weights would have to be downloaded;
        otherwise they download them on first use.
    save_models : str or path-like, optional
        Folder where each pipeline's model fitted on the training part is
        written as ``<name>.model`` (:func:`facefeat.modelfile.save_model`),
        the very model that was scored. Only for a protocol with one
        train/test split: cross-validation fits one model per fold.

    Returns
    -------
    dict
        The content of ``results.json``: ``dataset``, ``protocol``,
        ``audit``, ``classes``, ``pipelines`` (per pipeline: ``folds``, the
        mean and std over folds of :func:`~facefeat.evaluation.metrics.summarise_folds`;
        ``pooled``, the metrics of all test predictions; ``pooled_ci``;
        ``timing``, with ``folds_from_cache``, the number of folds read
        from ``fold_cache_dir`` instead of computed), ``skipped_pipelines``, ``comparisons`` (the best
        pipeline against each other one) and ``wall_seconds``.

    See Also
    --------
    facefeat.evaluation.folds.make_folds : the cross-validation protocols.
    benchmark_folds : the images and folds scored, without fitting.
    write_outputs : the files written with ``out_dir``.

    Examples
    --------
    A recipe of our own (HOG of the whole image, no face alignment) on six
    synthetic faces of three subjects:

    >>> import os, tempfile
    >>> from facefeat.evaluation.benchmark import run_benchmark
    >>> from facefeat.images.synthetic import make_expressions
    >>> ds = make_expressions(n_subjects=3, n_per_class=1, classes=["happiness", "surprise"])
    >>> recipe = os.path.join(tempfile.mkdtemp(), "hog-lr.toml")
    >>> with open(recipe, "w") as fh:
    ...     _ = fh.write('description = "HOG + logistic regression"\\n'
    ...                  '[[steps]]\\nname = "hog"\\nuse = "hog"\\n'
    ...                  '[[steps]]\\nname = "clf"\\nuse = "logistic_regression"\\n')
    >>> results = run_benchmark(ds, [recipe], progress=False, n_boot=20)
    >>> results["protocol"]["description"], results["classes"]
    ('leave-one-subject-out over 3 subjects', ['happiness', 'surprise'])
    >>> entry = results["pipelines"]["hog-lr"]
    >>> entry["steps"], sorted(entry["folds"]["macro_f1"])
    (['hog', 'clf'], ['mean', 'std'])
    >>> len(entry["pooled"]["confusion_matrix"])  # (n_classes, n_classes)
    2
    """
    from tqdm.auto import tqdm

    from facefeat.pipelines import load_recipe, make_pipeline
    from facefeat.evaluation.uncertainty import bootstrap_ci, paired_comparison

    recipes = [load_recipe(p) for p in pipelines]
    names = [r["name"] for r in recipes]  # a recipe file is reported under its file name's stem
    if len(set(names)) < len(names):
        raise ValueError(f"pipeline names must be unique, got {', '.join(names)}")
    built = {r["name"]: make_pipeline(p) for r, p in zip(recipes, pipelines)}
    descriptions = {r["name"]: r["description"] for r in recipes}
    skipped = {}
    if skip_uncached:
        skipped = {name: why for name, pipe in built.items() if (why := missing_weights(pipe))}
        built = {name: pipe for name, pipe in built.items() if name not in skipped}
    if not built:
        raise ValueError("no pipeline to run: " + "; ".join(f"{n}: {why}" for n, why in skipped.items()))
    t_start = time.perf_counter()
    images, dataset, audit, fold_groups, protocol, folds, dedupe_note = benchmark_folds(
        dataset, cv=cv, n_folds=n_folds, seed=seed, dedupe=dedupe, progress=progress)
    y = dataset.labels
    classes = dataset.classes
    if save_models is not None and len(folds) != 1:
        raise ValueError(f"save_models needs a protocol with one train/test split, not {protocol['description']}: "
                         "cross-validation fits one model per fold (facefeat fit trains one on every image)")
    used = np.unique(np.concatenate([np.concatenate([tr, te]) for tr, te in folds]))
    results = {
        "dataset": {**dataset.summary(), "root": dataset.root,
                    "skipped": [{"path": p, "reason": r} for p, r in dataset.skipped]},
        "protocol": {**protocol, "seed": seed, "n_images_used": int(len(used)), "dedupe": dedupe_note},
        "audit": {**audit.summary, "params": audit.params},
        "classes": classes,
        "pipelines": {},
    }
    # bootstrap clusters: the fold groups (subjects merged with duplicate groups), pooled like the predictions
    pooled_groups = None if fold_groups is None else np.concatenate([fold_groups[te] for _, te in folds])
    pooled_preds = {}
    results["skipped_pipelines"] = [{"name": n, "reason": why} for n, why in skipped.items()]
    for name, pipe in built.items():
        set_everywhere(pipe, "random_state", seed)
        if cache_dir is not None:
            set_everywhere(pipe, "memory", str(cache_dir))
        set_everywhere(pipe, "progress", progress)
        if len(folds) == 1:
            set_everywhere(pipe, "n_jobs", n_jobs)
    memo = {}  # output of shared stateless prefixes (all pipelines share the aligner)
    # finished folds and extracted features are kept on disk, so an interrupted run resumes where it stopped
    run_cache = None
    if cache_dir is not None:
        run_cache = Path(cache_dir) / "benchmark" / joblib.hash((y, images, folds,
                                                                 None if fold_groups is None else fold_groups))
    bar = tqdm(total=len(built) * len(folds), desc="benchmark", unit="fold", disable=not progress)
    for name, pipe in built.items():
        bar.set_postfix_str(name)
        t_pipe = time.perf_counter()
        k = stateless_prefix(pipe)
        X, extract_seconds, found = images, 0.0, None
        for j in range(1, k + 1):
            key = _params_key(pipe[:j])
            if key not in memo:
                memo[key] = _extract(pipe[:j], X, memo_file=None if run_cache is None else
                                     run_cache / f"features-{key}.joblib")
            X, seconds = memo[key]
            extract_seconds += seconds
            if hasattr(X, "face_found"):
                found = X.face_found
        rest = pipe[k:]
        fold_jobs = 1 if len(folds) == 1 else n_jobs
        outputs = []
        for out in Parallel(n_jobs=fold_jobs, return_as="generator")(
            delayed(_fit_predict)(rest, X, y, tr, te, fold_groups,
                                  None if run_cache is None else run_cache / f"fold{i}-{_params_key(pipe)}.joblib",
                                  keep_model=save_models is not None)
            for i, (tr, te) in enumerate(folds)
        ):
            outputs.append(out)
            bar.update(1)
        model_file = None
        if save_models is not None:
            model_file = _save_fitted(pipe, k, outputs[0]["model"], images, folds[0][0], name, save_models)
        pooled_true = np.concatenate([y[te] for _, te in folds])
        pooled_pred = np.concatenate([o["pred"] for o in outputs])
        pooled_preds[name] = pooled_pred
        fold_metrics = [classification_metrics(y[te], o["pred"], classes) for (_, te), o in zip(folds, outputs)]
        fit_s = float(np.mean([o["fit_s"] for o in outputs]))
        predict_s = float(np.mean([o["predict_s"] for o in outputs]))
        n_test = float(np.mean([len(te) for _, te in folds]))
        per_image_extract = extract_seconds / len(y)
        entry = {
            "description": descriptions[name],
            "steps": [s for s, _ in pipe.steps],
            "folds": summarise_folds(fold_metrics),
            "pooled": classification_metrics(pooled_true, pooled_pred, classes),
            "pooled_ci": bootstrap_ci(pooled_true, pooled_pred, classes, groups=pooled_groups, n_boot=n_boot,
                                      random_state=seed),
            "timing": {
                "extract_seconds": extract_seconds,
                "fit_seconds_mean": fit_s,
                "predict_seconds_mean": predict_s,
                # end-to-end inference: feature extraction of a test image plus the head's prediction
                "images_per_second": n_test / (predict_s + per_image_extract * n_test),
                # folds read from an earlier run's files rather than computed: their time is not in wall_seconds
                "folds_from_cache": int(sum(o["from_cache"] for o in outputs)),
                "fold_cache_dir": None if run_cache is None else str(run_cache),
                # this pipeline's share of the run: its own extraction and folds (steps shared with an
                # earlier pipeline, such as the aligner, are counted once, for the first one)
                "wall_seconds": time.perf_counter() - t_pipe,
            },
        }
        if model_file is not None:
            entry["model_file"] = str(model_file)
        if any(o["learned"] for o in outputs):
            entry["vote_weights"] = [o["learned"].get("vote_weights", {}) for o in outputs]  # one per fold
        if found is not None:
            missed = [dataset.paths[i] if dataset.paths else f"image[{i}]" for i in np.flatnonzero(~found)]
            entry["faces_not_found"] = {"count": len(missed), "files": missed}
        results["pipelines"][name] = entry
    bar.close()
    # the best pipeline (pooled macro-F1) against each other one, on the same test items
    pipes = results["pipelines"]
    best = max(pipes, key=lambda n: pipes[n]["pooled"]["macro_f1"])
    results["comparisons"] = [
        {"a": best, "b": other, **paired_comparison(pooled_true, pooled_preds[best], pooled_preds[other], classes,
                                                   groups=pooled_groups, n_boot=n_boot, random_state=seed)}
        for other in pipes if other != best
    ]
    results["wall_seconds"] = time.perf_counter() - t_start
    if out_dir is not None:
        write_outputs(results, dataset, out_dir, audit=audit)
    return results
