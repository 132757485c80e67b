"""Named pipelines: one small TOML recipe per file in this folder.

Adding a pipeline is adding a file ``<name>.toml``::

    description = "one line shown by `facefeat pipelines`"

    [[steps]]
    name = "lbp"            # step name in the sklearn Pipeline
    use = "lbp"             # a component of facefeat.registry.COMPONENTS
    params = { P = 8, R = 1.0, grid = [7, 7] }

Users may pass the path of their own recipe file wherever a name is taken.
This folder is installed as the package ``facefeat.pipelines``.
"""

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

    Returns
    -------
    dict
        ``name``, ``description`` and ``steps`` (list of dicts with ``name``,
        ``use`` and ``params``).
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
        unknown = set(step) - {"name", "use", "params"}
        if unknown or "name" not in step or "use" not in step:
            raise ValueError(f"recipe {name!r}: each step needs 'name' and 'use' (and optional 'params'), got {step}")
    return {"name": name, "description": recipe["description"], "steps": steps}


def make_pipeline(name_or_path):
    """Build a named pipeline (or one from a recipe file) as a scikit-learn Pipeline.

    Parameters
    ----------
    name_or_path : str or path-like
        A name from :func:`list_pipelines` or the path of a ``.toml`` recipe.

    Returns
    -------
    sklearn.pipeline.Pipeline
        A plain Pipeline: clone it, grid-search it, pickle it.

    Examples
    --------
    >>> [name for name, _ in make_pipeline("lbp-rf").steps]
    ['align', 'lbp', 'clf']
    """
    recipe = load_recipe(name_or_path)
    steps = []
    for step in recipe["steps"]:
        params = {k: _tuples(v) for k, v in step.get("params", {}).items()}
        steps.append((step["name"], get_component(step["use"])(**params)))
    return Pipeline(steps)


def _tuples(value):
    # TOML has arrays only; estimators expect tuples for shapes such as grid=(7, 7)
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
