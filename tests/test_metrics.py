import numpy as np
import pytest

import pydl
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


def test_categorical_accuracy_refuses_integer_labels_and_mismatched_shapes():
    p = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
    for y in (np.array([1, 0]), np.array([[1], [0]])):
        with pytest.raises(ValueError, match=r"looks like integer class labels.*sparse_categorical_accuracy"):
            M.CategoricalAccuracy().update_state(y, p)
    with pytest.raises(ValueError, match=r"y_true has shape \(2, 2\) but y_pred has shape \(2, 3\)"):
        M.CategoricalAccuracy().update_state(np.eye(2), p)


def test_sparse_accuracy_refuses_one_hot_and_non_integer_labels():
    p = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
    with pytest.raises(ValueError, match="looks one-hot.*categorical_accuracy"):
        M.SparseCategoricalAccuracy().update_state(np.array([[0, 1, 0], [1, 0, 0]]), p)
    with pytest.raises(ValueError, match="0.5, which is not an integer class id"):
        M.SparseCategoricalAccuracy().update_state(np.array([1.0, 0.5]), p)
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        M.SparseCategoricalAccuracy().update_state(np.array([1, 3]), p)
    m = M.SparseCategoricalAccuracy()  # (N,) and (N, 1) class ids both work
    m.update_state(np.array([1, 1]), p)
    m.update_state(np.array([[0], [0]]), p)
    assert m.result() == pytest.approx(2 / 4)


def test_sequence_accuracy_is_per_sample_and_accuracy_picks_sparse_for_sequence_labels():
    rng = np.random.default_rng(1)
    p = rng.random((4, 5, 3))
    y = rng.integers(0, 3, (4, 5))
    assert isinstance(M.get("accuracy", None, y, (None, 5, 3)), M.SparseCategoricalAccuracy)
    m = M.SparseCategoricalAccuracy()
    w = np.array([1.0, 2.0, 0.0, 1.0])
    m.update_state(y, p, sample_weight=w)
    per = (p.argmax(-1) == y).mean(-1)
    assert m.result() == pytest.approx(np.sum(w * per) / np.sum(w))


def test_shape_mismatch_in_binary_and_regression_metrics_is_an_error():
    with pytest.raises(ValueError, match=r"y_true has shape \(4,\) but y_pred has shape \(2, 2\)"):
        M.BinaryAccuracy().update_state(np.array([1, 0, 1, 0]), np.full((2, 2), 0.7))
    with pytest.raises(ValueError, match=r"mse: y_true has shape \(2, 3\)"):
        M.MeanSquaredError().update_state(np.zeros((2, 3)), np.zeros((3, 2)))
    m = M.MeanAbsoluteError()  # a trailing axis of 1 may differ, as in the losses
    m.update_state(np.array([1.0, 2.0]), np.array([[0.5], [3.0]]))
    assert m.result() == pytest.approx(0.75)


def test_function_metric_averages_per_sample_values():
    def half_abs(y_true, y_pred):
        return pydl.mean(pydl.abs(y_pred - y_true), axis=-1) * 0.5

    m = M.get(half_abs)
    assert m.name == "half_abs"
    t, q = np.arange(6.0).reshape(3, 2), np.ones((3, 2))
    m.update_state(t[:2], q[:2])
    m.update_state(t[2:], q[2:])
    assert m.result() == pytest.approx(np.mean(0.5 * np.abs(q - t).mean(-1)), rel=1e-6)
