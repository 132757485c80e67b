import os
import struct
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest

# The real data sets sit beside the project (../shared/data); FACEFEAT_SHARED_DATA overrides.
SHARED_DATA = Path(os.environ.get("FACEFEAT_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def shared_dataset(name):
    """Path of a real data set, or skip the test when it is absent (a fresh machine)."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real data set {name!r} not found at {path}")
    return path


@pytest.fixture(scope="session")
def expressions():
    """The default synthetic expression set, made once per test session."""
    from facefeat.images.synthetic import make_expressions

    return make_expressions()


def write_face_folder(root, n_subjects=2, n_per_class=1, random_state=2):
    """The synthetic set written as ``<root>/<class>/<subject>_<i>.png``; returns root."""
    from PIL import Image

    from facefeat.images.synthetic import make_expressions

    ds = make_expressions(n_subjects=n_subjects, n_per_class=n_per_class, random_state=random_state)
    root.mkdir(parents=True, exist_ok=True)
    for i, (img, label, subject) in enumerate(zip(ds.images, ds.labels, ds.groups)):
        (root / label).mkdir(exist_ok=True)
        Image.fromarray(img).save(root / label / f"{subject}_{i:03d}.png")
    return root


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width, height, idat_raw=b"\x00" * 16):
    """A hand-made 8-bit gray PNG: real IHDR with a valid CRC, tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(idat_raw))
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture
def one_thread():
    """torch on one intra-op thread during the test (the CNN tests), then back to its old count."""
    pytest.importorskip("torch")
    from facefeat.deep.embedding import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture(scope="session", autouse=True)
def temporary_facefeat_cache(tmp_path_factory):
    """Every cache of the session (face detections, benchmark folds, weights) in a temporary folder.

    Without it the tests fill the user's ``~/.cache/facefeat`` and a later
    benchmark reuses their folds. Tests that set ``FACEFEAT_CACHE``
    themselves (monkeypatch) still win; subprocesses inherit this one.
    """
    patch = pytest.MonkeyPatch()
    patch.setenv("FACEFEAT_CACHE", str(tmp_path_factory.mktemp("facefeat-cache")))
    yield
    patch.undo()


def tiny_cnn_recipe(folder):
    """A recipe file of a tiny CompactCNN (32 px, 3 epochs, no validation split): seconds to train."""
    recipe = folder / "tiny-cnn.toml"
    recipe.write_text('description = "a tiny compact CNN"\n[[steps]]\nname = "align"\nuse = "face_aligner"\n'
                      'params = { size = 32 }\n[[steps]]\nname = "clf"\nuse = "compact_cnn"\n'
                      'params = { size = 32, width = 4, hidden_units = 8, max_epochs = 3, '
                      'validation_fraction = 0, n_threads = 1 }\n')
    return recipe


@contextmanager
def killed_after_first_epoch():
    """A training killed once its first epoch's checkpoint is on disk (KeyboardInterrupt)."""
    from unittest import mock

    from facefeat.deep import _training

    save = _training._save_atomic

    def save_then_die(state, path):
        save(state, path)
        raise KeyboardInterrupt

    with mock.patch.object(_training, "_save_atomic", save_then_die):
        yield


@contextmanager
def epochs_counted():
    """The epochs the training loop runs inside the block, as the list it yields (0 for the first)."""
    from unittest import mock

    from facefeat.deep import _training

    epochs, train_epoch = [], _training._Loop._train_epoch

    def counted(loop):
        epochs.append(loop.epoch)
        return train_epoch(loop)

    with mock.patch.object(_training._Loop, "_train_epoch", counted):
        yield epochs


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
