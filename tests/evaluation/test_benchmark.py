import json

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from conftest import epochs_counted, killed_after_first_epoch, tiny_cnn_recipe

from facefeat.deep.compact import CompactCNN
from facefeat.evaluation.benchmark import _extract, _params_key, benchmark_folds, results_markdown, run_benchmark
from facefeat.features.lbp import LBPHistogram
from facefeat.images.synthetic import make_expressions


@pytest.fixture(scope="module")
def small():
    return make_expressions(n_subjects=3, n_per_class=2, random_state=1)


@pytest.fixture(scope="module")
def results(small, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    res = run_benchmark(small, ["lbp-linear", "hog-rf"], out_dir=out, progress=False, seed=3)
    return res, out


def test_results_content(results, small):
    res, _ = results
    assert res["protocol"]["name"] == "loso" and res["protocol"]["n_folds"] == 3
    assert res["dataset"]["n_images"] == len(small) and res["classes"] == small.classes
    for name in ("lbp-linear", "hog-rf"):
        e = res["pipelines"][name]
        for key in ("accuracy", "balanced_accuracy", "macro_f1", "micro_f1"):
            assert 0 <= e["folds"][key]["mean"] <= 1 and e["folds"][key]["std"] >= 0
            assert 0 <= e["pooled"][key] <= 1
        cm = np.array(e["pooled"]["confusion_matrix"])
        assert cm.sum() == len(small) and cm.shape == (7, 7)
        assert np.trace(cm) / cm.sum() == pytest.approx(e["pooled"]["accuracy"])
        assert e["timing"]["images_per_second"] > 0 and e["faces_not_found"]["count"] == 0
        assert set(e["pooled"]["per_class"]) == set(small.classes)
    # the synthetic expressions are learnable: far above the 1/7 chance level
    assert res["pipelines"]["lbp-linear"]["pooled"]["accuracy"] > 0.5


def test_outputs_written(results):
    res, out = results
    assert json.loads((out / "results.json").read_text())["pipelines"].keys() == res["pipelines"].keys()
    md = (out / "results.md").read_text()
    assert "| lbp-linear |" in md and "**" in md and "leave-one-subject-out" in md
    for png in ("class_distribution.png", "confusion_lbp-linear.png", "confusion_hog-rf.png", "per_class_f1.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_metrics(small, results):
    again = run_benchmark(small, ["lbp-linear", "hog-rf"], progress=False, seed=3)
    for name, e in results[0]["pipelines"].items():
        assert again["pipelines"][name]["pooled"] == e["pooled"]


def test_markdown_bolds_the_best_per_column():
    def entry(acc):
        m = {"mean": acc, "std": 0.0}
        return {"folds": {"accuracy": m, "balanced_accuracy": m, "macro_f1": m, "micro_f1": m,
                          "per_class": {"a": {"f1": {"mean": acc}}}},
                "pooled": {"accuracy": acc, "balanced_accuracy": acc, "macro_f1": acc, "micro_f1": acc},
                "timing": {"images_per_second": 10.0}}
    res = {"pipelines": {"good": entry(0.9), "bad": entry(0.5)}, "classes": ["a"], "wall_seconds": 1.0,
           "dataset": {"name": "d", "n_images": 2, "n_classes": 1, "n_subjects": None},
           "protocol": {"description": "p", "seed": 0}}
    md = results_markdown(res)
    assert "| good | **0.900 ± 0.000** (0.900)" in md and "| bad | 0.500 ± 0.000 (0.500)" in md


def test_uncached_weights_are_skipped_with_the_reason(small, tmp_path, monkeypatch):
    monkeypatch.setenv("FACEFEAT_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-hub"))
    res = run_benchmark(small, ["lbp-linear", "resnet18-linear"], progress=False, skip_uncached=True,
                        out_dir=tmp_path / "out", n_boot=50)
    assert list(res["pipelines"]) == ["lbp-linear"]
    [skipped] = res["skipped_pipelines"]
    assert skipped["name"] == "resnet18-linear" and "resnet18-f37072fd.pth" in skipped["reason"]
    assert "resnet18-linear skipped: weights 'resnet18-f37072fd.pth'" in (tmp_path / "out" / "results.md").read_text()
    with pytest.raises(ValueError, match="no pipeline to run: resnet18-linear"):
        run_benchmark(small, ["resnet18-linear"], progress=False, skip_uncached=True)


def test_suites_name_built_in_pipelines():
    from facefeat.pipelines import list_pipelines

    from facefeat.evaluation.benchmark import SUITES, suite_pipelines

    assert set(suite_pipelines("seed")) <= set(list_pipelines())
    assert suite_pipelines("all") == list(list_pipelines())
    assert {"hmm-naive", "lbp-hmm", "lbp-rf", "mobilenetv2-finetune"} <= set(SUITES["seed"])
    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        suite_pipelines("nope")


def test_a_recipe_file_is_reported_by_its_name(small, tmp_path):
    import shutil
    from importlib import resources

    recipe = tmp_path / "my-lbp.toml"
    shutil.copy(resources.files("facefeat.pipelines") / "lbp-linear.toml", recipe)
    res = run_benchmark(small, [str(recipe)], progress=False, out_dir=tmp_path / "out", n_boot=50)
    assert list(res["pipelines"]) == ["my-lbp"]
    assert (tmp_path / "out" / "confusion_my-lbp.png").is_file()


def test_results_say_which_folds_came_from_the_cache(small, tmp_path):
    cache = tmp_path / "cache"
    first = run_benchmark(small, ["lbp-linear"], cache_dir=cache, out_dir=tmp_path / "a", progress=False, n_boot=20)
    again = run_benchmark(small, ["lbp-linear"], cache_dir=cache, out_dir=tmp_path / "b", progress=False, n_boot=20)
    assert first["pipelines"]["lbp-linear"]["timing"]["folds_from_cache"] == 0
    timing = again["pipelines"]["lbp-linear"]["timing"]
    assert timing["folds_from_cache"] == 3 and again["pipelines"]["lbp-linear"]["pooled"] == \
        first["pipelines"]["lbp-linear"]["pooled"]
    [folder] = (cache / "benchmark").iterdir()
    assert timing["fold_cache_dir"] == str(folder)
    assert "from the cache" not in (tmp_path / "a" / "results.md").read_text()
    md = (tmp_path / "b" / "results.md").read_text()
    # the timing cells of the row are marked, and a note says where the folds came from
    row = next(line for line in md.splitlines() if line.startswith("| lbp-linear | "))  # the scores table
    images_per_second, wall = row.split("|")[-3:-1]
    assert images_per_second.endswith(" † ") and wall.endswith(" † ") and row.count("†") == 2
    assert (f"- † lbp-linear: 3 of 3 folds read from the cache {folder}, not recomputed: its wall time is only "
            "the reading, and its images/s was timed by the run that computed them; delete that folder or use "
            "--no-cache to recompute") in md
    assert "s (some folds read from the cache, marked †)." in md.splitlines()[-1]


def test_a_parameter_added_later_keeps_older_cache_keys_at_its_off_value(monkeypatch):
    clf = CompactCNN(random_state=0)
    key = _params_key(clf)
    before = {k: v for k, v in clf.get_params().items() if k not in ("crop_tta", "start_from_epoch")}
    monkeypatch.setattr(clf, "get_params", lambda deep=True: before)
    assert _params_key(clf) == key
    assert _params_key(CompactCNN(random_state=0, crop_tta=0.9)) != key
    assert _params_key(CompactCNN(random_state=0, start_from_epoch=20)) != key


def test_a_votes_split_is_in_the_cache_key_only_when_the_vote_fits_weights():
    from sklearn.linear_model import LogisticRegression

    from facefeat.classifiers.fusion import Vote

    def key(**params):
        return _params_key(Pipeline([("clf", Vote([("lr", LogisticRegression())], **params))]))

    assert key() == key(random_state=3, validation_fraction=0.2, cv=5)  # unused: keys of older votes stay
    assert key(weights="fitted") != key()
    assert key(weights="fitted", random_state=3) != key(weights="fitted", random_state=4)
    assert key(weights="fitted", cv=5) != key(weights="fitted")
    assert key(weights="fitted", cv=5, validation_fraction=0.2) == key(weights="fitted", cv=5)


def test_a_vote_with_fitted_weights_reports_them_per_fold_and_keeps_them_in_the_cache(small, tmp_path):
    recipe = tmp_path / "weighted.toml"
    recipe.write_text('description = "x"\n[[steps]]\nname = "align"\nuse = "face_aligner"\n'
                      '[[steps]]\nname = "clf"\nparams = { weights = "fitted" }\nvote = [\n'
                      '{ name = "lbp", steps = [{ name = "lbp", use = "lbp" }, { name = "lr", use = "logistic_regression" }] },\n'
                      '{ name = "hog", steps = [{ name = "hog", use = "hog" }, { name = "lr", use = "logistic_regression" }] },\n]\n')
    cache = tmp_path / "cache"
    first = run_benchmark(small, [str(recipe)], cache_dir=cache, progress=False, n_boot=20)["pipelines"]["weighted"]
    folds = first["vote_weights"]
    assert len(folds) == 3 and all(set(f) == {"clf"} and set(f["clf"]) == {"lbp", "hog"} for f in folds)
    assert all(sum(f["clf"].values()) == pytest.approx(1) for f in folds)
    # the weights of fold 0, fitted by hand on its training faces
    from facefeat.evaluation.benchmark import benchmark_folds
    from facefeat.pipelines import make_pipeline

    bf = benchmark_folds(small)
    train = bf.folds[0][0]
    pipe = make_pipeline(str(recipe)).set_params(clf__random_state=0, align__progress=False)
    pipe.fit([bf.images[i] for i in train], np.asarray(bf.dataset.labels)[train], clf__groups=bf.groups[train])
    np.testing.assert_allclose([folds[0]["clf"][m] for m in ("lbp", "hog")], pipe.named_steps["clf"].weights_)
    again = run_benchmark(small, [str(recipe)], cache_dir=cache, progress=False, n_boot=20)
    entry = again["pipelines"]["weighted"]
    assert entry["timing"]["folds_from_cache"] == 3 and entry["vote_weights"] == folds
    lbp, hog = (np.mean([f["clf"][m] for f in folds]) for m in ("lbp", "hog"))
    assert (f"- weighted: fitted weights of its vote `clf` (mean over folds): lbp {lbp:.2f}, hog {hog:.2f}"
            in results_markdown(again).splitlines())


def test_a_fold_cached_by_an_earlier_version_is_read(small, tmp_path):
    import joblib

    cache = tmp_path / "cache"
    res = run_benchmark(small, ["lbp-linear"], cache_dir=cache, progress=False, n_boot=20)
    for f in (cache / "benchmark").glob("*/fold*.joblib"):  # as written before fitted models were summarised
        record = joblib.load(f)
        joblib.dump((record["pred"], record["fit_s"], record["predict_s"]), f)
    again = run_benchmark(small, ["lbp-linear"], cache_dir=cache, progress=False, n_boot=20)
    assert again["pipelines"]["lbp-linear"]["timing"]["folds_from_cache"] == 3
    assert again["pipelines"]["lbp-linear"]["pooled"] == res["pipelines"]["lbp-linear"]["pooled"]
    assert "vote_weights" not in again["pipelines"]["lbp-linear"]


def test_a_benchmark_killed_inside_a_cnn_fold_resumes_from_its_last_epoch(small, tmp_path):
    pytest.importorskip("torch")
    recipe, cache = str(tiny_cnn_recipe(tmp_path)), tmp_path / "cache"
    with killed_after_first_epoch(), pytest.raises(KeyboardInterrupt):
        run_benchmark(small, [recipe], cache_dir=cache, progress=False, n_boot=20)
    [checkpoint] = (cache / "benchmark").glob("*/fold0-*-clf__checkpoint.ckpt")
    with epochs_counted() as epochs_run:
        resumed = run_benchmark(small, [recipe], cache_dir=cache, progress=False, n_boot=20)
    # fold 0 ran its epochs 2 and 3 only; folds 1 and 2 all three
    assert epochs_run == [1, 2, 0, 1, 2, 0, 1, 2]
    assert not checkpoint.exists() and not list((cache / "benchmark").glob("*/*.ckpt"))
    straight = run_benchmark(small, [recipe], progress=False, n_boot=20)
    assert resumed["pipelines"]["tiny-cnn"]["pooled"] == straight["pipelines"]["tiny-cnn"]["pooled"]


def test_a_split_benchmark_saves_the_model_it_scored(small, tmp_path):
    import dataclasses

    from sklearn.metrics import confusion_matrix

    from facefeat.modelfile import load_model

    split = np.where(small.groups == small.groups[0], "test", "train")
    ds = dataclasses.replace(small, split=split)
    for run in range(2):  # the second run reads the fold, model included, from the cache
        res = run_benchmark(ds, ["lbp-linear"], progress=False, n_boot=20, cache_dir=tmp_path / "cache",
                            save_models=tmp_path / "models")
        entry = res["pipelines"]["lbp-linear"]
        assert entry["timing"]["folds_from_cache"] == run
        path = tmp_path / "models" / "lbp-linear.model"
        assert entry["model_file"] == str(path)
        loaded = load_model(path)
        test = np.flatnonzero(split == "test")
        pred = loaded.pipeline.predict([ds.images[i] for i in test])
        assert loaded.manifest["n_train"] == int((split == "train").sum())
        # the very predictions that were scored
        assert confusion_matrix(ds.labels[test], pred, labels=res["classes"]).tolist() == \
            entry["pooled"]["confusion_matrix"]
        path.unlink()


def test_models_are_saved_only_with_one_split(small, tmp_path):
    with pytest.raises(ValueError, match="save_models needs a protocol with one train/test split, not leave-one"):
        run_benchmark(small, ["lbp-linear"], progress=False, n_boot=20, save_models=tmp_path)


def test_benchmark_folds_are_the_items_a_benchmark_scores(small):
    import dataclasses

    split = np.where(small.groups == small.groups[0], "test", "train")
    test_item = int(np.flatnonzero(split == "test")[0])
    leak = int(np.flatnonzero((split == "train") & (small.labels == small.labels[test_item]))[0])
    images = list(small.images)
    images[leak] = images[test_item].copy()  # a training copy of a test image
    ds = dataclasses.replace(small, images=images, split=split)
    prepared = benchmark_folds(ds)
    [(train, test)] = prepared.folds
    assert len(prepared.images) == len(prepared.dataset) == len(ds) - 1  # the training copy is removed
    assert len(test) == (split == "test").sum() and len(train) == (split == "train").sum() - 1
    assert not any(np.array_equal(prepared.images[i], images[test_item]) for i in train)
    res = run_benchmark(ds, ["lbp-linear"], progress=False, n_boot=20)
    assert res["protocol"]["n_images_used"] == len(train) + len(test)
    assert np.sum(res["pipelines"]["lbp-linear"]["pooled"]["confusion_matrix"]) == len(test)


class _CountedLBP(LBPHistogram):
    """LBP histograms that record the images of each ``transform`` call and can be killed at one."""

    calls = []

    def __init__(self, killed_at=None):
        super().__init__()
        self.killed_at = killed_at

    def transform(self, X):
        type(self).calls.append(len(X))
        if len(type(self).calls) == self.killed_at:
            raise KeyboardInterrupt
        return super().transform(X)


def test_a_long_extraction_is_kept_in_parts_and_resumes_from_its_last_one(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (10, 24, 24), dtype=np.uint8)
    memo = tmp_path / "features-x.joblib"
    _CountedLBP.calls = []
    with pytest.raises(KeyboardInterrupt):
        _extract(Pipeline([("lbp", _CountedLBP(killed_at=2))]), images, memo, part=4)
    assert [p.name for p in tmp_path.iterdir()] == ["features-x-part0.joblib"] and _CountedLBP.calls == [4, 4]
    _CountedLBP.calls = []
    out, seconds = _extract(Pipeline([("lbp", _CountedLBP())]), images, memo, part=4)
    # parts 1 and 2 computed, part 0 read back; then one file for the whole matrix
    assert _CountedLBP.calls == [4, 2] and seconds > 0
    np.testing.assert_array_equal(out, LBPHistogram().fit_transform(images))
    assert [p.name for p in tmp_path.iterdir()] == ["features-x.joblib"]
