import pickle
from pathlib import Path

import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from facefeat.pipelines import list_pipelines, load_recipe, make_pipeline
from facefeat.registry import COMPONENTS, get_component

BUILT_IN = (
    "lbp-linear", "lbp-rf", "hog-linear", "hog-rf", "gabor-linear", "gabor-rf",
    "geometry-linear", "geometry-rf", "asm-linear", "asm-rf", "lbp-hmm", "hmm-naive",
    "mobilenetv2-linear", "efficientnet-lite0-linear", "dlib-resnet-linear", "mobilenetv2-mlp",
    "mobilenetv2-finetune", "efficientnet-lite0-finetune", "resnet18-linear", "efficientnet-b0-mlp",
    "inceptionv3-finetune", "resnet18-finetune", "compact-cnn", "mobilenetv2-finetune-cached",
    "fusion-handcrafted-finetuned-vote", "fusion-cnn-vote",
)
HEADS = {"linear": "LogisticRegression", "rf": "RandomForestClassifier", "hmm": "HMMClassifier",
         "naive": "NaiveHMMClassifier", "vote": "Vote", "mlp": "CachedFineTunedCNN", "finetune": "FineTunedCNN",
         "cached": "CachedFineTunedCNN", "cnn": "CompactCNN"}


def test_built_in_pipelines_listed_with_descriptions():
    pipes = list_pipelines()
    assert set(BUILT_IN) <= set(pipes)
    assert all(isinstance(d, str) and len(d) > 20 for d in pipes.values())


@pytest.mark.parametrize("name", sorted(list_pipelines()))
def test_recipe_builds_a_plain_pipeline(name):
    pipe = make_pipeline(name)
    assert type(pipe) is Pipeline and pipe.steps[0][0] == "align"
    twin = pickle.loads(pickle.dumps(clone(pipe)))
    assert twin.get_params().keys() == pipe.get_params().keys()
    head = pipe.steps[-1][1]
    assert type(head).__name__ == HEADS[name.rsplit("-", 1)[1]]
    if name.endswith("rf"):
        assert head.n_estimators == 500
    if name.endswith("mlp"):
        assert head.head == "mlp" and head.unfreeze == 0


def test_lbp_recipe_parameters_become_tuples():
    assert make_pipeline("lbp-linear").named_steps["lbp"].grid == (7, 7)


def test_user_recipe_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('description = "LBP r2 + balanced forest"\n'
                    '[[steps]]\nname = "lbp"\nuse = "lbp"\nparams = { R = 2.0 }\n'
                    '[[steps]]\nname = "clf"\nuse = "random_forest"\n'
                    'params = { n_estimators = 10, class_weight = "balanced" }\n')
    pipe = make_pipeline(str(path))
    assert pipe.named_steps["lbp"].R == 2.0 and pipe.named_steps["clf"].class_weight == "balanced"
    assert load_recipe(str(path))["name"] == "mine"


def test_bad_recipes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown pipeline 'nope'"):
        make_pipeline("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text('description = "x"\n[[steps]]\nname = "a"\nuse = "os.system"\n')
    with pytest.raises(ValueError, match="unknown component 'os.system'"):
        make_pipeline(str(bad))
    bad.write_text("description = ")
    with pytest.raises(ValueError, match="not valid TOML"):
        make_pipeline(str(bad))
    bad.write_text('description = "no steps"\n')
    with pytest.raises(ValueError, match="at least one"):
        make_pipeline(str(bad))


def test_registry_resolves_every_component():
    for name in COMPONENTS:
        assert isinstance(get_component(name), type)


def test_importing_facefeat_does_not_import_heavy_modules():
    import subprocess
    import sys

    code = ("import sys, facefeat, facefeat.pipelines; "
            "print(sorted(m for m in ('torch', 'dlib', 'cv2', 'facefeat.faces.align') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _fusion_recipes():
    return [name for name in list_pipelines() if any("union" in step for step in load_recipe(name)["steps"])]


def test_a_plain_install_can_run_the_fusion_recipes():
    # a union hands its features on as a pandas DataFrame whose columns (<branch>__<feature>) tell
    # BlockScaler where each block is: pandas is needed at run time, not only by the tests
    import re
    import sys
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")

    assert "fusion-lbp-geometry-linear" in _fusion_recipes()
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    required = {re.match(r"[A-Za-z0-9_.-]+", dep).group().lower() for dep in project["dependencies"]}
    assert "pandas" in required


def test_a_fusion_recipe_without_pandas_says_what_to_install():
    import subprocess
    import sys

    code = ("import sys; sys.modules['pandas'] = None\n"
            "from facefeat.pipelines import make_pipeline\n"
            "make_pipeline('lbp-linear')\n"  # no union: no pandas needed
            "try:\n    make_pipeline('fusion-lbp-geometry-linear')\n"
            "except ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("pipeline 'fusion-lbp-geometry-linear' needs pandas")
    assert "pip install pandas" in out.stdout


@pytest.mark.parametrize("vote, member, recipe", [
    ("fusion-cnn-vote", "compact", "compact-cnn"),
    ("fusion-cnn-vote", "mobilenetv2", "mobilenetv2-finetune"),
    ("fusion-handcrafted-finetuned-vote", "cnn", "mobilenetv2-finetune"),
])
def test_a_vote_member_is_trained_as_its_own_recipe(vote, member, recipe):
    # recipes cannot include one another, so a vote repeats its CNN's parameters; they must not drift apart.
    # Crop test-time augmentation is a prediction setting, which the votes leave off
    est = make_pipeline(vote).named_steps["clf"].named_estimators[member]
    est = est.steps[-1][1] if isinstance(est, Pipeline) else est
    alone = make_pipeline(recipe).named_steps["clf"]
    assert type(est) is type(alone) and est.crop_tta == 0
    assert est.get_params() == alone.set_params(crop_tta=0.0).get_params()


# measured variants of a recipe (benchmarks/variants): the recipe they vary and the parameters they change
VARIANTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "variants"
VARIANTS = {"mobilenetv2-finetune-35-epochs": ("mobilenetv2-finetune", {"max_epochs": 35, "patience": 35})}


def test_every_variant_is_listed():
    assert {p.stem for p in VARIANTS_DIR.glob("*.toml")} == set(VARIANTS)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_variant_changes_only_what_it_measures(variant):
    recipe, changed = VARIANTS[variant]
    varied, base = make_pipeline(str(VARIANTS_DIR / f"{variant}.toml")), make_pipeline(recipe)
    assert [name for name, _ in varied.steps] == [name for name, _ in base.steps]
    for (name, est), (_, alone) in zip(varied.steps, base.steps):
        expected = alone.set_params(**changed) if name == "clf" else alone
        assert type(est) is type(expected) and est.get_params() == expected.get_params()
