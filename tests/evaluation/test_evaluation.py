import numpy as np
import pytest

from conftest import shared_dataset
from facefeat.images.datasets import FaceDataset, load_folder
from facefeat.evaluation import IdentityLeakWarning, classification_metrics, make_folds, summarise_folds


def _toy(n_subjects, groups=True, split=None):
    labels = np.tile(["anger", "happiness", "sadness"], 4 * n_subjects)
    subj = np.repeat([f"s{i}" for i in range(n_subjects)], 12)
    return FaceDataset(labels=labels, images=[np.zeros((4, 4), np.uint8)] * len(labels),
                       groups=subj if groups else None, split=split, name="toy")


def _assert_disjoint(ds, folds):
    covered = np.concatenate([te for _, te in folds])
    for train, test in folds:
        assert not set(ds.groups[train]) & set(ds.groups[test])
    return covered


def test_auto_uses_loso_for_few_subjects():
    ds = _toy(6)
    protocol, folds = make_folds(ds)
    assert protocol["name"] == "loso" and len(folds) == 6
    assert sorted(_assert_disjoint(ds, folds)) == list(range(len(ds)))


def test_auto_uses_grouped_kfold_for_many_subjects():
    ds = _toy(30)
    protocol, folds = make_folds(ds, n_folds=10)
    assert protocol["name"] == "kfold" and len(folds) == 10
    assert sorted(_assert_disjoint(ds, folds)) == list(range(len(ds)))


def test_auto_uses_the_split_when_there_is_one():
    split = np.where(np.arange(36) < 24, "train", "test")
    protocol, folds = make_folds(_toy(3, groups=False, split=split))
    assert protocol["name"] == "split"
    assert folds[0][0].tolist() == list(range(24)) and folds[0][1].tolist() == list(range(24, 36))


def test_no_subject_ids_warns_about_leakage():
    with pytest.warns(IdentityLeakWarning, match="same person"):
        protocol, folds = make_folds(_toy(3, groups=False), n_folds=4)
    assert "identities may leak" in protocol["description"] and len(folds) == 4


def test_bad_protocol_requests():
    with pytest.raises(ValueError, match="needs subject ids"):
        make_folds(_toy(3, groups=False), cv="loso")
    with pytest.raises(ValueError, match="has none"):
        make_folds(_toy(3), cv="split")
    with pytest.raises(ValueError, match="cv must be one of"):
        make_folds(_toy(3), cv="bootstrap")


def test_metrics_known_values():
    m = classification_metrics(["a", "a", "b", "c"], ["a", "b", "b", "b"], ["a", "b", "c"])
    assert m["accuracy"] == 0.5
    assert m["balanced_accuracy"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert m["per_class"]["b"] == {"precision": pytest.approx(1 / 3), "recall": 1.0, "f1": 0.5, "support": 1}
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 0) / 3)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    s = summarise_folds([m, classification_metrics(["a"], ["a"], ["a", "b", "c"])])
    assert s["accuracy"] == {"mean": 0.75, "std": 0.25}
    # class c is absent from the second fold: its F1 is averaged over the first only
    assert s["per_class"]["c"]["f1"] == {"mean": 0.0, "std": 0.0}


@pytest.mark.shared_data
@pytest.mark.parametrize("name, protocol_name, n_folds", [
    ("ck_plus_48", "kfold", 10), ("ck_plus_128", "kfold", 10), ("jaffe", "loso", 10),
])
def test_real_folds_never_share_a_subject(name, protocol_name, n_folds):
    ds = load_folder(shared_dataset(name))
    protocol, folds = make_folds(ds)
    assert (protocol["name"], len(folds)) == (protocol_name, n_folds)
    assert sorted(_assert_disjoint(ds, folds)) == list(range(len(ds)))
