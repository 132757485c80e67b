"""The documentation gallery script draws every picture, at the expected size."""

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "gallery" / "make_gallery.py"

# (width, height) in pixels at 100 dpi: the figure sizes of facefeat.plots and facefeat.shape.plots
EXPECTED = {
    "landmarks": (420, 460),
    "lbp": (1100, 380),
    "hog": (760, 400),
    "gabor": (1060, 700),          # 5 x 8 panels
    "asm_fitting": (1200, 340),    # 4 panels
    "asm_modes": (660, 690),       # 3 modes x 3 panels
    "embedding_pca": (640, 460),
    "embedding_tsne": (640, 460),
    "circumplex": (660, 480),
    "confusion_matrix": (625, 570),  # 7 classes
    "analysis_photo": (760, 300),    # the group photo itself, annotated
    "analysis_timeline": (820, 480),
}


def _load_script():
    spec = importlib.util.spec_from_file_location("make_gallery", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gallery_script_writes_every_picture(tmp_path, capsys):
    out = tmp_path / "img"
    assert _load_script().main(["--out", str(out), "--dpi", "100"]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f"{name}.png" for name in EXPECTED)
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed] == [f"{name}.png" for name in EXPECTED]
    for name, size in EXPECTED.items():
        path = out / f"{name}.png"
        assert path.stat().st_size > 5000, name
        with Image.open(path) as png:
            assert png.format == "PNG"
            assert png.size == size, name
            pixels = np.asarray(png.convert("L"))
        # something is drawn: not a blank canvas
        assert pixels.std() > 5, name
        assert (pixels < 128).mean() > 0.01, name


def test_gallery_default_folder_is_the_git_ignored_img_folder():
    module = _load_script()
    assert module.DEFAULT_OUT == SCRIPT.parent / "img"
    ignored = (SCRIPT.parents[2] / ".gitignore").read_text().split()
    assert "docs/gallery/img/" in ignored
