"""Fixtures of the CNN tests."""

import pytest


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    """``random_weights(backbone, seed)``: the path of a randomly initialised backbone's state dict.

    A known starting point for fine-tuning tests, without any download.
    """
    torch = pytest.importorskip("torch")
    from facefeat.deep.backbones import build_backbone

    def save(backbone, seed):
        torch.manual_seed(seed)
        path = tmp_path_factory.mktemp("w") / f"{backbone}_random_{seed}.pth"
        torch.save(build_backbone(backbone, weights=None).state_dict(), path)
        return path

    return save
