"""The house plan of the package (issue 14), kept by a test.

* no import cycles among facefeat's modules (imports inside functions count:
  they hide a cycle, they do not remove it);
* library modules never import the command line, and command-line code lives
  in ``facefeat.cli`` only;
* no source file over 800 lines.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "facefeat"
MAX_LINES = 800


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name, path):
    """The facefeat modules that ``name`` imports, anywhere in its code."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # "from facefeat.x import y" imports the module facefeat.x.y when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle():
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, stack)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(GRAPH):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def test_the_graph_sees_imports():
    assert "facefeat.images.io" in GRAPH["facefeat.cli.predict"] | GRAPH["facefeat.cli.console"]
    assert "facefeat.evaluation.report" in GRAPH["facefeat.evaluation.benchmark"]


def test_no_import_cycles():
    assert _cycle() is None, " -> ".join(_cycle())


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith("facefeat.cli")))
def test_library_never_imports_the_command_line(name):
    assert not {m for m in GRAPH[name] if m == "facefeat.cli" or m.startswith("facefeat.cli.")}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith("facefeat.cli")))
def test_command_line_code_lives_in_the_cli_package(name):
    source = MODULES[name].read_text()
    assert "add_subparsers" not in source and ".add_parser(" not in source


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_source_file_over_800_lines(name):
    assert len(MODULES[name].read_text().splitlines()) <= MAX_LINES


def test_every_package_is_installed():
    # a subpackage missing from pyproject's list is left out of a non-editable install
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert packages - listed == set()


def test_one_conftest_for_the_tests():
    # tests import helpers with "from conftest import ...": a second conftest.py would shadow the first
    tests = Path(__file__).resolve().parent
    assert [p.relative_to(tests).as_posix() for p in tests.rglob("conftest.py")] == ["conftest.py"]
