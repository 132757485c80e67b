"""Named pipelines: one small TOML recipe per file in this folder.

Adding a pipeline is adding a file ``<name>.toml``::

    description = "one line shown by `facefeat pipelines`"

    [[steps]]
    name = "lbp"            # step name in the sklearn Pipeline
    use = "lbp"             # a component of facefeat.registry.COMPONENTS
    params = { P = 8, R = 1.0, grid = [7, 7] }

A step may also fuse several branches, each a component or a list of
``steps``: ``union = [...]`` concatenates their features (a scikit-learn
``FeatureUnion``, feature-level fusion) and ``vote = [...]`` averages the
class probabilities of several classifiers (a soft
:class:`~facefeat.classifiers.fusion.Vote`, score-level fusion; subject ids
given to its fit reach the members that use them; ``params = { weights =
"fitted" }`` beside ``vote`` weighs the members by how well they predict
held-out faces)::

    [[steps]]
    name = "features"
    union = [{ name = "lbp", use = "lbp" }, { name = "geometry", use = "geometry" }]

Users may pass the path of their own recipe file wherever a name is taken.
This folder is installed as the package ``facefeat.pipelines``.
"""

import importlib.util
import sys
from importlib import resources
from pathlib import Path

from sklearn.pipeline import Pipeline

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from facefeat.registry import get_component


def _recipe_files():
    return {
        entry.name[: -len(".toml")]: entry
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".toml")
    }


def list_pipelines():
    """Names of the built-in pipelines with their one-line descriptions.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> "lbp-linear" in list_pipelines()
    True
    """
    return {name: load_recipe(name)["description"] for name in sorted(_recipe_files())}


def load_recipe(name_or_path):
    """Read and check a recipe by pipeline name or file path.

    Parameters
    ----------
    name_or_path : str or path-like
        A name from :func:`list_pipelines` or the path of a ``.toml`` recipe.

    Returns
    -------
    dict
        ``name``, ``description`` and ``steps`` (list of dicts with ``name``,
        ``use`` and ``params``).

    Raises
    ------
    ValueError
        An unknown name, a file that is not valid TOML, or a recipe without
        a description or steps, or with a malformed step.

    Examples
    --------
    >>> recipe = load_recipe("lbp-rf")
    >>> recipe["name"], [step["use"] for step in recipe["steps"]]
    ('lbp-rf', ['face_aligner', 'lbp', 'random_forest'])

    A recipe file of your own is named after its file:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "my-hog.toml")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write('description = "HOG + logistic regression"\\n'
    ...                  '[[steps]]\\nname = "hog"\\nuse = "hog"\\n'
    ...                  '[[steps]]\\nname = "clf"\\nuse = "logistic_regression"\\n')
    >>> recipe = load_recipe(path)
    >>> recipe["name"], recipe["description"], [step["name"] for step in recipe["steps"]]
    ('my-hog', 'HOG + logistic regression', ['hog', 'clf'])
    """
    files = _recipe_files()
    if name_or_path in files:
        name, text = name_or_path, files[name_or_path].read_text()
    else:
        path = Path(name_or_path)
        if path.suffix != ".toml" or not path.is_file():
            raise ValueError(
                f"unknown pipeline {str(name_or_path)!r}: give one of {', '.join(sorted(files))} "
                "or the path of a .toml recipe file"
            )
        name, text = path.stem, path.read_text()
    try:
        recipe = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"recipe {name!r} is not valid TOML: {exc}") from None
    steps = recipe.get("steps")
    if not isinstance(recipe.get("description"), str) or not isinstance(steps, list) or not steps:
        raise ValueError(f"recipe {name!r} needs a 'description' string and at least one [[steps]] table")
    for step in steps:
        _check_step(name, step, kinds=("use", "union", "vote"))
    return {"name": name, "description": recipe["description"], "steps": steps}


def make_pipeline(name_or_path):
    """Build a named pipeline (or one from a recipe file) as a scikit-learn Pipeline.

    Parameters
    ----------
    name_or_path : str or path-like
        As for :func:`load_recipe`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        A plain Pipeline: clone it, grid-search it, pickle it.

    Raises
    ------
    ValueError
        As for :func:`load_recipe`.
    ImportError
        A recipe with a ``union`` step when pandas is not installed.

    Examples
    --------
    >>> [name for name, _ in make_pipeline("lbp-rf").steps]
    ['align', 'lbp', 'clf']
    """
    recipe = load_recipe(name_or_path)
    if any("union" in step for step in recipe["steps"]) and importlib.util.find_spec("pandas") is None:
        # said here rather than by scikit-learn after every face has been aligned
        raise ImportError(f"pipeline {recipe['name']!r} needs pandas: its feature union names each block's "
                          "columns (a DataFrame) so that BlockScaler can weigh the blocks alike. "
                          "Install it with: pip install pandas")
    return Pipeline([(step["name"], _build(step)) for step in recipe["steps"]])


def _check_step(recipe, step, kinds):
    if not isinstance(step, dict):
        raise ValueError(f"recipe {recipe!r}: a step must be a table, got {step!r}")
    given = [k for k in kinds if k in step]
    allowed = {"name", "params"} | set(kinds)
    if ("name" not in step or len(given) != 1 or set(step) - allowed
            or ("params" in step and given[0] not in ("use", "vote"))):
        raise ValueError(f"recipe {recipe!r}: each step needs a 'name' and one of {', '.join(map(repr, kinds))} "
                         f"(with 'params' only beside 'use' or 'vote'), got {step}")
    if given[0] != "use":
        branches = step[given[0]]
        if not isinstance(branches, list) or not branches:
            raise ValueError(f"recipe {recipe!r}: {given[0]!r} of step {step['name']!r} needs a non-empty list")
        for branch in branches:
            _check_step(recipe, branch, kinds=("use", "steps") if given[0] != "steps" else ("use",))


def _build(step):
    """The estimator of one recipe step (a component, a feature union, a soft vote, a sub-pipeline)."""
    from sklearn.pipeline import FeatureUnion

    from facefeat.classifiers.fusion import Vote

    params = {k: _tuples(v) for k, v in step.get("params", {}).items()}
    if "use" in step:
        return get_component(step["use"])(**params)
    if "steps" in step:
        return Pipeline([(s["name"], _build(s)) for s in step["steps"]])
    branches = [(b["name"], _build(b)) for b in step.get("union", step.get("vote"))]
    if "union" in step:
        # named output columns (<branch>__<feature>) tell BlockScaler where each block is
        return FeatureUnion(branches).set_output(transform="pandas")
    return Vote(branches, **params)


def _tuples(value):
    # TOML has arrays only; estimators expect tuples for shapes such as grid=(7, 7)
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
