"""The shipped expression model on FER2013 PublicTest, scored as its benchmark scored it and as ``facefeat predict`` runs it.

    python benchmarks/shipped_model.py ../shared/data/fer2013 --json benchmarks/results/shipped_model.json

The test images are those of ``facefeat benchmark ../shared/data/fer2013``:
the PublicTest split after the benchmark's duplicate audit (groups of
pixel-identical images with conflicting labels removed). Two scores:

- ``pipeline``: the model's pipeline on each image (dlib's HOG detector, its
  landmarks, alignment), as the benchmark scored it;
- ``analyze``: :func:`facefeat.analyze` with ``largest_only=True``, as
  ``facefeat predict`` runs on a photo: BlazeFace finds the face, dlib's
  landmarks align it.

The model defaults to ``facefeat/data/expression.model``; ``--results`` names
the benchmark's ``results.json`` whose figure it should match.
"""

import argparse
import json
import sys
import time

import numpy as np
from _harness import write_json


def benchmark_test_items(data_dir):
    """(images, labels, classes) of the benchmark's test split of ``data_dir``."""
    from facefeat.evaluation.benchmark import benchmark_folds
    from facefeat.images.datasets import load_folder

    prepared = benchmark_folds(load_folder(data_dir), cv="split")
    [(_, test)] = prepared.folds
    return [prepared.images[i] for i in test], prepared.dataset.labels[test], prepared.dataset.classes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="the FER2013 folder (Training_* and PublicTest_* files per class)")
    parser.add_argument("--model", help="a model file (default: the one shipped in facefeat/data)")
    parser.add_argument("--results", help="the benchmark's results.json to compare with")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    from tqdm.auto import tqdm

    from facefeat.analysis.analyze import DEFAULT_MODEL_PATH, load_pipeline
    from facefeat.analysis.records import face_records
    from facefeat.evaluation.metrics import classification_metrics
    from facefeat.modelfile import read_manifest

    pipeline = load_pipeline(args.model)
    images, labels, classes = benchmark_test_items(args.data_dir)
    result = {"model": args.model or "facefeat/data/expression.model (shipped)", "n_test": len(labels)}

    start = time.perf_counter()
    by_pipeline = pipeline.predict(images)
    seconds = time.perf_counter() - start
    by_analyze, found = [], 0
    for image in tqdm(images, desc="facefeat.analyze", unit="image"):
        [record] = face_records(image, pipeline, largest_only=True)
        by_analyze.append(record["label"])
        found += record["face_found"]
    for name, pred in (("pipeline", by_pipeline), ("analyze", np.array(by_analyze))):
        m = classification_metrics(labels, pred, classes)
        result[name] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                        "per_class_f1": {c: m["per_class"][c]["f1"] for c in classes}}
    result["pipeline"]["ms_per_image"] = seconds / len(labels) * 1e3
    result["analyze"]["faces_found"] = int(found)
    if args.results:  # what the benchmark that fitted this model scored
        name = read_manifest(args.model or DEFAULT_MODEL_PATH)["pipeline_name"]
        with open(args.results) as fh:
            pooled = json.load(fh)["pipelines"][name]["pooled"]
        result["benchmark"] = {"pipeline": name, "accuracy": pooled["accuracy"], "macro_f1": pooled["macro_f1"]}
    for how in ("pipeline", "analyze", "benchmark"):
        if how in result:
            print(f"{how}: accuracy {result[how]['accuracy']:.4f}, macro-F1 {result[how]['macro_f1']:.4f}")
    print(f"facefeat.analyze found a face in {found} of {len(labels)} images (the others: the whole image)")
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
