"""Active Shape Model: training, search, storage, the shipped model, plots and command line."""

import json
import zipfile

import numpy as np
import pytest
from matplotlib.figure import Figure

from conftest import shared_dataset
from facefeat.shape.asm import (
    DEFAULT_MODEL_PATH,
    ActiveShapeModel,
    ASMFitter,
    FittingResult,
    detect_face_box,
    load_landmarked_images,
    train_asm,
)
from facefeat.shape.metrics import normalized_mean_error
from facefeat.shape.pts import write_pts

# a small, fast model: two levels, 64 px faces
SMALL = dict(n_levels=2, face_width=64, n_components=8)


@pytest.fixture(scope="module")
def synth():
    from facefeat.images.synthetic import make_expressions

    return make_expressions(n_subjects=6, n_per_class=2)


@pytest.fixture(scope="module")
def split(synth):
    test = np.flatnonzero(np.arange(len(synth)) % 6 == 0)
    train = np.setdiff1d(np.arange(len(synth)), test)
    return train, test


def _train(synth, train, **params):
    return ActiveShapeModel(**SMALL, **params).fit([synth.images[i] for i in train], synth.landmarks[train])


@pytest.fixture(scope="module")
def small_asm(synth, split):
    """The default recipe (2-D discriminative profiles), small."""
    return _train(synth, split[0])


@pytest.fixture(scope="module", params=["2d", "1d-classic"])
def any_asm(request, small_asm, synth, split):
    """The default recipe and Cootes' classic one (1-D profiles, Mahalanobis distance)."""
    if request.param == "2d":
        return small_asm
    return _train(synth, split[0], profile_kind="1d", discriminative=False)


def test_training_learns_every_part(small_asm):
    assert small_asm.pdm_.n_components_ == 8 and small_asm.pdm_.n_points_ == 68
    assert len(small_asm.profiles_) == 2
    assert small_asm.box_source_ == "hog" and small_asm.n_boxes_ > 0.9 * small_asm.n_train_
    assert small_asm.box_pose_.shape == (4,)


def test_search_from_perturbed_truth_gets_closer(any_asm, synth, split):
    _, test = split
    rng = np.random.default_rng(0)
    fitter = ASMFitter(any_asm)
    before, after = [], []
    for i in test:
        truth = synth.landmarks[i]
        iod = np.linalg.norm(truth[45] - truth[36])
        start = truth + rng.normal(0, 0.04 * iod, 2) + rng.normal(0, 0.03 * iod, truth.shape)
        result = fitter.fit_from_shape(synth.images[i], start)
        before.append(normalized_mean_error(start, truth))
        after.append(result.error(truth))
    assert np.mean(after) < 0.8 * np.mean(before)
    assert np.mean(np.array(after) < np.array(before)) >= 0.75


def test_search_from_the_detector_box(small_asm, synth, split):
    _, test = split
    fitter = ASMFitter(small_asm)
    errors = []
    for i in test:
        result = fitter.fit_image(synth.images[i])
        assert result.face_found and result.box is not None
        errors.append(result.error(synth.landmarks[i]))
        init = normalized_mean_error(result.initial_shape, synth.landmarks[i])
        assert errors[-1] < max(init, 0.05)
    assert np.median(errors) < 0.06


def test_fitting_result_history(small_asm, synth):
    result = ASMFitter(small_asm, max_iter=3).fit_from_bb(synth.images[0], detect_face_box(synth.images[0]))
    assert isinstance(result, FittingResult)
    assert result.shapes.shape == (result.n_iterations + 1, 68, 2)
    assert len(result.levels) == result.n_iterations <= 3 * small_asm.n_levels
    assert list(result.levels) == sorted(result.levels, reverse=True)  # coarse to fine
    np.testing.assert_array_equal(result.shapes[0], result.initial_shape)
    np.testing.assert_array_equal(result.shapes[-1], result.shape)
    assert isinstance(result.converged, bool) and result.b.shape == (8,)
    np.testing.assert_allclose(small_asm.pdm_.reconstruct(result.b, result.pose), result.shape, atol=1e-6)


def test_any_box_and_initial_shape_accepted(small_asm, synth):
    fitter = ASMFitter(small_asm)
    image, truth = synth.images[1], synth.landmarks[1]
    lo, hi = truth.min(axis=0), truth.max(axis=0)
    r1 = fitter.fit_image(image, box=(*lo, *hi))
    r2 = fitter.fit_image(image, initial_shape=truth)
    assert r1.shape.shape == r2.shape.shape == (68, 2)
    assert r2.error(truth) < 0.05
    with pytest.raises(ValueError, match="x1 > x0"):
        fitter.fit_from_bb(image, (10, 10, 5, 20))


def test_no_face_falls_back_to_the_whole_image(small_asm):
    blank = np.full((96, 96), 128, np.uint8)
    assert detect_face_box(blank) is None
    result = ASMFitter(small_asm, max_iter=2).fit_image(blank)
    assert not result.face_found and np.isfinite(result.shape).all()


def test_save_load_round_trip_without_pickle(any_asm, synth, tmp_path):
    small_asm = any_asm
    path = tmp_path / "asm.npz"
    small_asm.save(path)
    with np.load(path, allow_pickle=False) as z:  # plain arrays only
        assert "meta" in z.files
    twin = ActiveShapeModel.load(path)
    assert (twin.profile_kind, twin.n_levels, twin.n_train_) == (small_asm.profile_kind, 2, small_asm.n_train_)
    np.testing.assert_array_equal(twin.pdm_.components_, small_asm.pdm_.components_)
    a = ASMFitter(small_asm).fit_image(synth.images[2])
    b = ASMFitter(twin).fit_image(synth.images[2])
    # profile statistics are stored compactly (float32, int8 patch bases): same answer within a pixel
    np.testing.assert_allclose(a.shape, b.shape, atol=1.0)
    twin.save(tmp_path / "again.npz")
    c = ASMFitter(ActiveShapeModel.load(tmp_path / "again.npz")).fit_image(synth.images[2])
    np.testing.assert_allclose(c.shape, b.shape, atol=1e-6)  # storage is stable
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    with pytest.raises(Exception):
        ActiveShapeModel.load(tmp_path / "bad.npz")


def test_invalid_parameters(synth):
    with pytest.raises(ValueError, match="n_levels"):
        ActiveShapeModel(n_levels=0).fit(synth.images[:3], synth.landmarks[:3])
    with pytest.raises(ValueError, match="profile_kind"):
        ActiveShapeModel(profile_kind="3d").fit(synth.images[:3], synth.landmarks[:3])
    with pytest.raises(AttributeError, match="not trained"):
        ASMFitter(ActiveShapeModel()).fit_from_bb(synth.images[0], (0, 0, 10, 10))


def test_default_model_is_shipped_small_and_fits_offline():
    from skimage.data import astronaut

    assert DEFAULT_MODEL_PATH.is_file()
    assert DEFAULT_MODEL_PATH.stat().st_size < 2_000_000
    with zipfile.ZipFile(DEFAULT_MODEL_PATH) as z:  # arrays and a JSON header, no pickles
        assert all(name.endswith(".npy") for name in z.namelist())
    asm = ActiveShapeModel.default()
    assert asm.pdm_.n_points_ == 68 and asm.n_train_ > 1000
    image = astronaut()
    result = ASMFitter(asm).fit_image(image)
    assert result.face_found
    # the astronaut's face (dlib's landmarks, see facefeat.images.synthetic) spans x 179-272, y 87-178
    x0, y0 = result.shape.min(axis=0)
    x1, y1 = result.shape.max(axis=0)
    assert 165 < x0 < 195 and 255 < x1 < 290 and 70 < y0 < 105 and 165 < y1 < 195


def test_plots_return_figures(small_asm, synth):
    from facefeat.shape.plots import plot_cumulative_error, plot_fitting_sequence, plot_modes

    result = ASMFitter(small_asm).fit_image(synth.images[0])
    fig = plot_fitting_sequence(synth.images[0], result, truth=synth.landmarks[0])
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert fig.axes[0].get_title() == "initial" and fig.axes[-1].get_title().startswith("final")
    modes = plot_modes(small_asm, n_modes=2)
    assert isinstance(modes, Figure) and len(modes.axes) == 6
    assert isinstance(plot_cumulative_error({"asm": [0.05, 0.08]}), Figure)


# ------------------------------------------------------------------ folders and command line
@pytest.fixture(scope="module")
def pts_folder(synth, tmp_path_factory):
    """Synthetic faces saved as PNG + 300-W .pts pairs."""
    from PIL import Image

    root = tmp_path_factory.mktemp("pts_faces")
    for i in range(0, len(synth), 3):
        Image.fromarray(synth.images[i]).save(root / f"face{i:03d}.png")
        write_pts(root / f"face{i:03d}.pts", synth.landmarks[i])
    return root


def test_load_landmarked_images_is_zero_based(pts_folder, synth):
    images, shapes, paths = load_landmarked_images(pts_folder)
    assert len(images) == len(shapes) == len(paths) == len(range(0, len(synth), 3))
    np.testing.assert_allclose(shapes[1], synth.landmarks[3], atol=1e-3)


def _parser():
    from facefeat.cli import build_parser

    return build_parser()


def test_cli_asm_train(pts_folder, tmp_path, capsys):
    args = _parser().parse_args(["asm", "train", str(pts_folder), "--out", str(tmp_path / "m.npz"),
                                 "--levels", "2", "--components", "5", "--quiet"])
    assert args.func(args) == 0
    model = ActiveShapeModel.load(tmp_path / "m.npz")
    assert model.n_levels == 2 and model.pdm_.n_components_ == 5
    assert "trained an ASM" in capsys.readouterr().out


@pytest.mark.parametrize("method", ["asm", "dlib"])
def test_cli_landmarks_jsonl(pts_folder, tmp_path, method):
    (tmp_path / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out.jsonl"
    args = _parser().parse_args(["landmarks", str(pts_folder / "face000.png"), str(tmp_path / "broken.png"),
                                 "--method", method, "--output", str(out), "--plot", str(tmp_path / "plots")])
    assert args.func(args) == 1  # one file could not be read (issue 15: a script can tell)
    good, bad = [json.loads(line) for line in out.read_text().splitlines()]
    assert set(good) == {"path", "face_found", "landmarks"} and good["face_found"]
    assert np.array(good["landmarks"]).shape == (68, 2)
    assert bad["landmarks"] is None and "error" in bad
    assert len(list((tmp_path / "plots").glob("*.png"))) == 1


def test_cli_landmarks_csv(pts_folder, tmp_path):
    out = tmp_path / "out.csv"
    args = _parser().parse_args(["landmarks", str(pts_folder), "--method", "asm", "--format", "csv",
                                 "--output", str(out)])
    assert args.func(args) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:5] == ["path", "face_found", "error", "x0", "y0"]
    assert len(lines) == 1 + len(list(pts_folder.glob("*.png")))
    assert len(lines[1].split(",")) == 3 + 136


def test_cli_landmarks_eval(pts_folder, tmp_path, capsys):
    args = _parser().parse_args(["landmarks-eval", str(pts_folder), "--method", "dlib",
                                 "--out", str(tmp_path / "ev"), "--quiet"])
    assert args.func(args) == 0
    res = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert res["n_images"] == len(list(pts_folder.glob("*.pts")))
    assert res["all_images"]["mean"] < 0.1  # dlib on the synthetic faces
    assert (tmp_path / "ev" / "cumulative_error.png").stat().st_size > 0
    assert "NME mean" in capsys.readouterr().out


# ------------------------------------------------------------------------ real data
@pytest.mark.shared_data
def test_training_on_a_small_300w_subset():
    root = shared_dataset("landmarks_300w_train")
    images, shapes, paths = load_landmarked_images(root / "lfpw_trainset")
    rng = np.random.default_rng(0)
    idx = rng.choice(len(images), 72, replace=False)
    train, test = idx[:60], idx[60:]
    asm = ActiveShapeModel(n_levels=3, face_width=64, n_components=10).fit(
        [images[i] for i in train], shapes[train])
    assert asm.box_source_ == "hog" and asm.n_boxes_ > 45
    fitter = ASMFitter(asm)
    init, final = [], []
    for i in test:
        box = detect_face_box(images[i])
        if box is None:
            continue
        r = fitter.fit_from_bb(images[i], box)
        init.append(normalized_mean_error(r.initial_shape, shapes[i]))
        final.append(r.error(shapes[i]))
    assert len(final) >= 5 and np.mean(final) < np.mean(init)


@pytest.mark.shared_data
def test_train_asm_from_folders_reads_pts_one_based(tmp_path):
    root = shared_dataset("landmarks_300w_train")
    from facefeat.shape.pts import read_pts

    pts = sorted((root / "afw").glob("*.pts"))[:1]
    raw = read_pts(pts[0], one_based=False)
    np.testing.assert_allclose(read_pts(pts[0]), raw - 1)
    model = train_asm([str(p.with_suffix(".jpg")) for p in sorted((root / "afw").glob("*.pts"))[:30]],
                      n_levels=2, face_width=64, n_components=5)
    assert model.n_train_ == 30
