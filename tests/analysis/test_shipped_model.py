"""The expression model shipped in facefeat/data: small, read without trust, documented, and as good as its benchmark."""

import hashlib
import json
from pathlib import Path

from conftest import shared_dataset
from skimage import data

from facefeat import analyze
from facefeat.analysis.analyze import DEFAULT_MODEL_PATH
from facefeat.cli import main
from facefeat.modelfile import load_model, read_manifest

FER_CLASSES = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
ROOT = Path(__file__).resolve().parents[2]
SCORED = ROOT / "benchmarks" / "results" / "shipped_model.json"


def test_the_model_is_small_portable_and_loads_without_trust():
    assert DEFAULT_MODEL_PATH.stat().st_size <= 20_000_000
    manifest = read_manifest(DEFAULT_MODEL_PATH)
    assert manifest["format_version"] == 2 and manifest["pipeline_name"] == "compact-cnn"  # weights as arrays
    assert manifest["classes"] == FER_CLASSES
    model = load_model(DEFAULT_MODEL_PATH)  # no trust=True: plain arrays, nothing unpickled
    assert model.verified and list(model.pipeline.classes_) == FER_CLASSES
    params = model.pipeline.get_params()
    assert params["align__memory"] is None and params["clf__checkpoint"] is None


def test_its_provenance_names_the_file_it_describes():
    readme = (DEFAULT_MODEL_PATH.parent / "README.md").read_text()
    section = readme[readme.index("## `expression.model`"):]
    digest = hashlib.sha256(DEFAULT_MODEL_PATH.read_bytes()).hexdigest()
    assert digest in section
    for words in ("facefeat benchmark ../shared/data/fer2013 --pipelines compact-cnn", "research", "PublicTest"):
        assert words in section


def test_the_smiling_astronaut_is_found_and_happy():
    [record] = analyze(data.astronaut())
    x, y, w, h = record["box"]
    assert record["face_found"] and 140 < x + w / 2 < 300 and 60 < y + h / 2 < 180  # her face: x 170-280, y 50-190
    assert record["label"] == "happiness" and record["proba"]["happiness"] > 0.5
    assert record["valence"] > 0.3


def test_facefeat_predict_needs_no_model(tmp_path, capsys):
    from skimage import io

    photo = tmp_path / "astronaut.png"
    io.imsave(photo, data.astronaut())
    assert main(["predict", str(photo)]) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["label"] == "happiness" and record["path"].endswith("astronaut.png")


def test_it_scores_on_fer2013_publictest_what_its_benchmark_scored():
    import sys

    fer2013 = shared_dataset("fer2013")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from shipped_model import benchmark_test_items

    from facefeat.evaluation.metrics import classification_metrics

    images, labels, classes = benchmark_test_items(fer2013)
    scored = json.loads(SCORED.read_text())
    assert len(labels) == scored["n_test"]
    pred = load_model(DEFAULT_MODEL_PATH).pipeline.predict(images)
    m = classification_metrics(labels, pred, classes)
    # the benchmark's own figure; a face or two may flip between machines' floating point
    assert abs(m["accuracy"] - scored["benchmark"]["accuracy"]) <= 2 / len(labels)
    assert abs(m["macro_f1"] - scored["benchmark"]["macro_f1"]) <= 0.002
