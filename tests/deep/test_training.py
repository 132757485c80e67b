"""The training loop's linear probe: the head starts as a logistic regression on the frozen network's features."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.linear_model import LogisticRegression  # noqa: E402
from torch import nn  # noqa: E402

from facefeat.deep._training import TrainingSettings, train_classifier  # noqa: E402


def _tiny():
    # no BatchNorm: a training epoch at a negligible learning rate leaves the features as they were
    return nn.Sequential(nn.Conv2d(1, 6, 5, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Dropout(0.2), nn.Linear(24, 3))


def _predict(model, x):
    with torch.no_grad():
        return model((x.float() / 255 - 0.5) / 0.25).argmax(1).numpy()


@pytest.fixture(scope="module")
def faces():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    x = rng.integers(0, 120, (60, 1, 24, 24)).astype(np.uint8)
    x[y == 1, :, :12] += 120  # bright top half
    x[y == 2, :, :, :12] += 120  # bright left half
    return torch.from_numpy(x), y


def test_the_probed_head_is_the_logistic_regression(faces, one_thread):
    x, y = faces
    settings = TrainingSettings(max_epochs=1, lr=1e-12, weight_decay=0, augment=None, validation_fraction=0,
                                class_weight=None, linear_probe=True)
    model, result = train_classifier(_tiny, x, y, 3, settings=settings, random_state=0)
    with torch.no_grad():
        features = model[:4]((x.float() / 255 - 0.5) / 0.25).numpy()
    # without a validation split the middle regularisation, C = 0.1, is taken
    expected = LogisticRegression(C=0.1, max_iter=2000).fit(features, y)
    np.testing.assert_allclose(model[5].weight.detach().numpy(), expected.coef_, atol=1e-4)
    np.testing.assert_allclose(model[5].bias.detach().numpy(), expected.intercept_, atol=1e-4)
    assert (_predict(model, x) == y).mean() == 1.0


def test_training_that_does_worse_than_the_probe_keeps_the_probe(faces, one_thread):
    x, y = faces
    settings = TrainingSettings(max_epochs=3, lr=50.0, augment=None, validation_fraction=0.25, class_weight=None,
                                linear_probe=True)
    model, result = train_classifier(_tiny, x, y, 3, settings=settings, random_state=0)
    assert result.best_epoch == 0 and result.best_score == 1.0
    assert max(result.history["val_score"]) < 1.0  # the diverged epochs
    assert (_predict(model, x) == y).mean() == 1.0


def test_the_probe_needs_a_linear_last_layer(faces):
    x, y = faces
    settings = TrainingSettings(max_epochs=1, validation_fraction=0, linear_probe=True)
    with pytest.raises(ValueError, match="last layer is a torch.nn.Linear with one output per class"):
        train_classifier(lambda: nn.Sequential(nn.Flatten(), nn.Linear(576, 3), nn.ReLU()), x, y, 3,
                         settings=settings)
