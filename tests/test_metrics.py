import numpy as np
import pytest

from pydl import metrics as M


def test_accuracy_kind_follows_loss_and_shapes():
    assert isinstance(M.get("accuracy", "categorical_crossentropy", np.zeros((3, 4)), (None, 4)), M.CategoricalAccuracy)
    assert isinstance(M.get("accuracy", "sparse_categorical_crossentropy", np.zeros(3), (None, 4)),
                      M.SparseCategoricalAccuracy)
    assert isinstance(M.get("accuracy", "binary_crossentropy", np.zeros((3, 1)), (None, 1)), M.BinaryAccuracy)
    assert isinstance(M.get("accuracy", "mse", np.zeros((3, 4)), (None, 4)), M.CategoricalAccuracy)


def test_values_against_numpy_over_batches():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 100)
    p = rng.random((100, 5))
    m = M.SparseCategoricalAccuracy()
    m.update_state(y[:60], p[:60])
    m.update_state(y[60:], p[60:])
    assert m.result() == pytest.approx(np.mean(p.argmax(1) == y))
    t = rng.random((100, 3))
    q = rng.random((100, 3))
    for cls, ref in [(M.MeanSquaredError, np.mean((t - q) ** 2)), (M.MeanAbsoluteError, np.mean(np.abs(t - q))),
                     (M.RootMeanSquaredError, np.sqrt(np.mean((t - q) ** 2)))]:
        m = cls()
        m.update_state(t[:30], q[:30])
        m.update_state(t[30:], q[30:])
        assert m.result() == pytest.approx(ref)


def test_weighted_and_binary():
    m = M.BinaryAccuracy()
    m.update_state(np.array([[1], [0], [1]]), np.array([[0.9], [0.2], [0.1]]), sample_weight=[1, 1, 2])
    assert m.result() == pytest.approx(2 / 4)


def test_unknown_metric():
    with pytest.raises(ValueError, match="accuracy"):
        M.get("acuracy")
