"""Feature and prediction plots (facefeat.plots) and the ``facefeat visualize`` command.

The checks look at what is drawn (points, lines, images, labels, legends),
not only at files appearing. Faces are synthetic warps of the public-domain
``skimage.data.astronaut()``.
"""

import argparse

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from PIL import Image

from facefeat import plots as viz
from facefeat.cli.visualize import FEATURES, add_visualize_parser, embedding_features, visualize_command


@pytest.fixture(scope="module")
def synthetic():
    from facefeat.images.synthetic import make_expressions

    return make_expressions(n_subjects=1, n_per_class=1, classes=["surprise"])


@pytest.fixture(scope="module")
def aligned(synthetic):
    """One aligned 64 x 64 face and its landmarks in the crop frame."""
    from facefeat.faces.align import FaceAligner

    batch = FaceAligner(size=64).fit_transform(synthetic.images)
    return batch.images[0], batch.landmarks[0]


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# ------------------------------------------------------------ landmarks
def test_landmarks_points_lines_and_legend(aligned):
    from facefeat.features.geometry import CURATED_ANGLES, CURATED_DISTANCES

    face, points = aligned
    ax = viz.plot_landmarks(face, points)
    distances, angles, dots = ax.collections
    assert isinstance(distances, LineCollection) and isinstance(angles, LineCollection)
    assert isinstance(dots, PathCollection)
    np.testing.assert_allclose(dots.get_offsets(), points)
    assert len(distances.get_segments()) == len(CURATED_DISTANCES) == 25
    assert len(angles.get_segments()) == len(CURATED_ANGLES) == 10
    # each distance line joins its two landmarks; each angle line goes through its vertex
    i, j = CURATED_DISTANCES[0]
    np.testing.assert_allclose(distances.get_segments()[0], points[[i, j]])
    np.testing.assert_allclose(angles.get_segments()[0][1], points[CURATED_ANGLES[0][1]])
    assert _legend(ax) == ["curated distances (25)", "curated angles (10)", "68 landmarks"]
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), face)
    assert image.get_clim() == (0, 255)
    assert ax.get_xlim() == (-0.5, 63.5) and ax.get_ylim() == (63.5, -0.5)


def test_landmarks_without_geometry_into_a_given_axes(aligned):
    face, points = aligned
    ax = Figure().add_subplot()
    assert viz.plot_landmarks(face, points, geometry=False, ax=ax) is ax
    assert len(ax.collections) == 1 and ax.collections[0].get_offsets().shape == (68, 2)
    assert _legend(ax) == ["68 landmarks"]


def test_landmarks_need_68_points_in_xy(aligned):
    face, points = aligned
    with pytest.raises(ValueError, match=r"\(68, 2\)"):
        viz.plot_landmarks(face, points.T)


# ------------------------------------------------------------ LBP, HOG, Gabor
def test_lbp_code_map_and_histograms_are_the_feature_kernels(aligned):
    from facefeat.features.lbp import LBPHistogram, local_binary_pattern

    face, _ = aligned
    fig = viz.plot_lbp(face)
    assert len(fig.axes) == 3
    ax_face, ax_codes, ax_hist = fig.axes
    np.testing.assert_array_equal(ax_codes.images[0].get_array(), local_binary_pattern(face, 8, 1.0, "nri_uniform"))
    hist = ax_hist.images[0].get_array()
    assert hist.shape == (49, 59)
    np.testing.assert_allclose(hist.sum(axis=1), 1.0)
    np.testing.assert_allclose(hist.ravel(), LBPHistogram().fit_transform(face[None])[0])
    assert len(ax_codes.lines) == 2 * 6  # inner edges of a 7 x 7 grid
    assert ax_codes.images[0].get_clim() == (0, 58)
    assert ax_hist.get_xlabel() == "LBP code (histogram bin)"
    assert ax_hist.get_ylabel() == "cell (row-major)"


def test_lbp_other_method_and_grid(aligned):
    face, _ = aligned
    fig = viz.plot_lbp(face, P=8, R=2.0, method="uniform", grid=(3, 4))
    assert fig.axes[2].images[0].get_array().shape == (12, 10)
    assert int(fig.axes[1].images[0].get_array().max()) <= 9
    assert len(fig.axes[1].lines) == 2 + 3


@pytest.mark.parametrize("params", [{"P": (8, 16), "R": (1, 2)}, {"method": "bogus"}, {"grid": (0, 3)}])
def test_lbp_rejects_bad_parameters(aligned, params):
    with pytest.raises(ValueError):
        viz.plot_lbp(aligned[0], **params)


def test_hog_glyphs_and_cell_grid(aligned):
    from skimage.feature import hog

    face, _ = aligned
    fig = viz.plot_hog(face)
    assert len(fig.axes) == 2
    glyphs = fig.axes[1].images[0].get_array()
    assert glyphs.shape == face.shape
    assert glyphs.min() >= 0 and glyphs.max() > 0
    _, expected = hog(face.astype(float), 9, (12, 12), (2, 2), "L2-Hys", visualize=True)
    np.testing.assert_allclose(glyphs, expected)
    assert len(fig.axes[0].lines) == 64 // 12 * 2  # full cells only, as skimage counts them
    assert "9 orientations (576 features)" in fig.axes[1].get_title()


def test_hog_needs_room_for_one_block():
    with pytest.raises(ValueError, match="too small"):
        viz.plot_hog(np.zeros((20, 20), np.uint8))


def test_gabor_panels_are_the_bank_magnitudes(aligned):
    from facefeat.features.gabor import gabor_responses

    face, _ = aligned
    fig = viz.plot_gabor(face, n_scales=2, n_orientations=4)
    assert len(fig.axes) == 8
    mags = gabor_responses(face, n_scales=2, n_orientations=4)
    for k, ax in enumerate(fig.axes):
        s, o = divmod(k, 4)
        np.testing.assert_allclose(ax.images[0].get_array(), mags[s, o])
        assert ax.images[0].get_clim() == (0, pytest.approx(mags[s].max()))
    assert [ax.get_title() for ax in fig.axes[:4]] == ["0°", "45°", "90°", "135°"]
    assert [fig.axes[k].get_ylabel() for k in (0, 4)] == ["λ = 4.0 px", "λ = 5.7 px"]


# ------------------------------------------------------------ ASM
def test_asm_fitting_runs_the_shipped_model_on_a_photograph():
    from skimage.data import astronaut

    fig = viz.plot_asm_fitting(astronaut()[20:230, 120:330], iterations=(0, None))
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title() == "initial"
    assert fig.axes[1].get_title().startswith("final")
    # 68 points, joined along the iBUG contours
    assert any(len(line.get_xdata()) == 68 for line in fig.axes[1].lines)


def test_asm_modes_of_the_shipped_model():
    fig = viz.plot_asm_modes(n_modes=2, n_sd=2.0)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:3]] == ["-2 sd", "mean", "+2 sd"]
    assert fig.axes[3].get_ylabel().startswith("mode 2")


# ------------------------------------------------------------ embedding
def test_pca_embedding_points_per_class():
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 6))
    labels = np.array(["b"] * 10 + ["a"] * 15 + ["c"] * 5)
    ax = viz.plot_embedding(X, labels)
    assert [c.get_offsets().shape[0] for c in ax.collections] == [15, 10, 5]
    assert _legend(ax) == ["a (15)", "b (10)", "c (5)"]
    assert ax.get_xlabel().startswith("PC 1 (") and ax.get_ylabel().startswith("PC 2 (")
    Y = PCA(2, random_state=0).fit_transform(StandardScaler().fit_transform(X))
    np.testing.assert_allclose(ax.collections[1].get_offsets(), Y[:10])


def test_tsne_embedding():
    X = np.random.default_rng(1).normal(size=(12, 60))
    ax = viz.plot_embedding(X, ["x", "y"] * 6, method="tsne")
    assert [c.get_offsets().shape[0] for c in ax.collections] == [6, 6]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("t-SNE 1", "t-SNE 2")
    assert ax.get_title().startswith("t-SNE of 60 features, 12 faces")


@pytest.mark.parametrize("X, labels, kwargs, message", [
    (np.zeros((5, 3)), ["a"] * 5, {"method": "umap"}, "pca"),
    (np.zeros((2, 3)), ["a", "b"], {}, "at least 3"),
    (np.zeros((5, 3)), ["a"] * 4, {}, "one label per sample"),
])
def test_embedding_rejects(X, labels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.plot_embedding(X, labels, **kwargs)


# ------------------------------------------------------------ circumplex
def test_circumplex_means_per_predicted_class():
    from facefeat.evaluation.affect import circumplex_coordinates, valence_arousal

    classes = ["anger", "happiness", "neutral", "sadness"]
    proba = np.array([[0.8, 0.1, 0.1, 0.0], [0.6, 0.0, 0.2, 0.2], [0.0, 0.9, 0.1, 0.0],
                      [0.1, 0.0, 0.2, 0.7], [0.0, 0.1, 0.1, 0.8]])
    ax = viz.plot_circumplex(proba, classes)
    faces, anchors, *means = ax.collections
    va = valence_arousal(proba, classes)
    np.testing.assert_allclose(faces.get_offsets(), va)
    np.testing.assert_allclose(anchors.get_offsets(), circumplex_coordinates(classes))
    assert len(means) == 3  # neutral is never the most probable class
    np.testing.assert_allclose(means[0].get_offsets()[0], va[:2].mean(axis=0))
    np.testing.assert_allclose(means[2].get_offsets()[0], va[3:].mean(axis=0))
    assert _legend(ax) == ["faces (5)", "class coordinates", "anger (2)", "happiness (1)", "sadness (2)"]
    assert [t.get_text() for t in ax.texts] == classes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("valence", "arousal")
    assert len(ax.lines) == 2 and ax.patches[0].get_radius() == 1.0
    assert ax.get_xlim() == ax.get_ylim() == (-1.1, 1.1)


def test_circumplex_grouped_by_true_labels_with_aliases():
    ax = viz.plot_circumplex(np.eye(3), ["happy", "sad", "angry"], labels=["sad", "sad", "angry"])
    assert _legend(ax)[2:] == ["sad (2)", "angry (1)"]
    assert ax.get_title().endswith("per label")
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        viz.plot_circumplex(np.eye(3), ["happy", "sad", "angry"], labels=["sad"])


# ------------------------------------------------------------ save
def test_save_axes_and_figures_at_their_pixel_size(tmp_path, aligned):
    face, points = aligned
    viz.save(viz.plot_landmarks(face, points), tmp_path / "a.png", dpi=50)
    viz.save(viz.plot_hog(face), tmp_path / "b.png", dpi=50)
    assert Image.open(tmp_path / "a.png").size == (210, 230)  # 4.2 x 4.6 inches
    assert Image.open(tmp_path / "b.png").size == (380, 200)  # 7.6 x 4.0 inches


# ------------------------------------------------------------ facefeat visualize
def _visualize(argv):
    parser = argparse.ArgumentParser(prog="facefeat")
    add_visualize_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["visualize", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def image_file(tmp_path_factory, synthetic):
    path = tmp_path_factory.mktemp("img") / "surprise.png"
    Image.fromarray(synthetic.images[0]).save(path)
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from facefeat.images.synthetic import make_expressions

    root = tmp_path_factory.mktemp("faces")
    ds = make_expressions(n_subjects=2, n_per_class=1, classes=["happiness", "sadness", "surprise"])
    for k, (image, label) in enumerate(zip(ds.images, ds.labels)):
        (root / label).mkdir(exist_ok=True)
        Image.fromarray(image).save(root / label / f"face{k}.png")
    return root


@pytest.fixture
def drawn(monkeypatch):
    """What visualize saved: file name -> Axes or Figure."""
    saved = {}
    real_save = viz.save

    def save(ax, path, dpi=120):
        saved[path.name] = ax
        real_save(ax, path, dpi=dpi)

    monkeypatch.setattr(viz, "save", save)
    return saved


def test_visualize_image_writes_one_picture_per_feature(tmp_path, image_file, drawn, capsys):
    out = tmp_path / "pics"
    assert _visualize([str(image_file), "--out", str(out), "--size", "64", "--no-cache", "--dpi", "40"]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f"{name}.png" for name in FEATURES)
    for name in files:
        with Image.open(out / name) as png:
            assert png.size[0] > 50 and png.size[1] > 50
    assert Image.open(out / "landmarks.png").size == (168, 184)  # 4.2 x 4.6 inches at 40 dpi
    assert drawn["landmarks.png"].collections[-1].get_offsets().shape == (68, 2)
    assert drawn["lbp.png"].axes[0].images[0].get_array().shape == (64, 64)  # the aligned crop
    assert len(drawn["gabor.png"].axes) == 40
    assert drawn["asm.png"].axes[0].images[0].get_array().shape == (128, 128)  # the photograph
    assert capsys.readouterr().out.count(".png") == 5


def test_visualize_image_selected_features(tmp_path, image_file):
    out = tmp_path / "pics"
    assert _visualize([str(image_file), "--features", "hog, landmarks", "--out", str(out), "--no-cache",
                       "--dpi", "30"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["hog.png", "landmarks.png"]


def test_visualize_dataset_embedding(tmp_path, data_dir, drawn):
    out = tmp_path / "emb"
    assert _visualize([str(data_dir), "--embedding", "hog", "--out", str(out), "--no-cache", "--quiet",
                       "--dpi", "40"]) == 0
    assert [p.name for p in out.iterdir()] == ["embedding.png"]
    assert Image.open(out / "embedding.png").size == (256, 184)  # 6.4 x 4.6 inches
    ax = drawn["embedding.png"]
    assert [c.get_offsets().shape[0] for c in ax.collections] == [2, 2, 2]
    assert _legend(ax) == ["happiness (2)", "sadness (2)", "surprise (2)"]
    assert ax.get_title().endswith("(hog)")


def test_visualize_mobilenet_embedding_uses_deep_embedding(tmp_path, data_dir, drawn, monkeypatch):
    import facefeat.deep.embedding as deep

    seen = {}

    class FakeEmbedding:  # stands in for the CNN: the wiring is tested, not MobileNetV2
        def __init__(self, backbone, progress=False):
            seen["backbone"] = backbone

        def fit_transform(self, batch):
            seen["shape"] = batch.images.shape
            return np.random.default_rng(0).normal(size=(len(batch.images), 16))

    monkeypatch.setattr(deep, "DeepEmbedding", FakeEmbedding)
    out = tmp_path / "emb"
    assert _visualize([str(data_dir), "--embedding", "mobilenet_v2", "--out", str(out), "--no-cache",
                       "--quiet", "--size", "48", "--method", "tsne"]) == 0
    assert seen == {"backbone": "mobilenet_v2", "shape": (6, 48, 48, 3)}  # colour crops for the CNN
    assert drawn["embedding.png"].get_xlabel() == "t-SNE 1"


def test_embedding_features_lbp_in_chunks(monkeypatch):
    import facefeat.cli.visualize as visualize
    from facefeat.faces.batch import FaceBatch
    from facefeat.features.lbp import LBPHistogram

    monkeypatch.setattr(visualize, "_CHUNK", 2)
    faces = np.random.default_rng(0).integers(0, 256, (5, 32, 32), dtype=np.uint8)
    X = embedding_features("lbp", FaceBatch(faces, np.zeros((5, 68, 2)), np.ones(5, bool)))
    np.testing.assert_allclose(X, LBPHistogram().fit_transform(faces))


@pytest.mark.parametrize("argv, message", [
    (["{missing}"], "does not exist"),
    (["{image}", "--features", "lbp,sift"], "unknown feature 'sift' for --features; choose from lbp, hog"),
    (["{image}", "--embedding", "lbp"], "--embedding needs a data folder"),
    (["{data}", "--features", "lbp"], "--features draws one image"),
])
def test_visualize_errors(tmp_path, image_file, data_dir, capsys, argv, message):
    paths = {"missing": tmp_path / "nope.png", "image": image_file, "data": data_dir}
    argv = [a.format(**paths) for a in argv] + ["--out", str(tmp_path / "out"), "--no-cache"]
    assert _visualize(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "out").exists()


def test_visualize_rejects_an_unknown_embedding_at_parse_time(capsys):
    with pytest.raises(SystemExit) as exc:
        _visualize(["faces/", "--embedding", "vgg"])
    assert exc.value.code == 2
    assert "invalid choice: 'vgg'" in capsys.readouterr().err


def test_visualize_command_is_callable_with_a_namespace(tmp_path, capsys):
    args = argparse.Namespace(path=str(tmp_path / "none"), features=None, embedding=None, method="pca",
                              out=str(tmp_path), size=96, dpi=100, subjects="none", no_cache=True, quiet=True)
    assert visualize_command(args) == 2
    assert "does not exist" in capsys.readouterr().err
