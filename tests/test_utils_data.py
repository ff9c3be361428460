"""pydl.utils.data_utils: to_categorical, normalize, scale_to_unit, split_validation."""

import numpy as np
import pytest

from pydl.utils.data_utils import normalize, scale_to_unit, split_validation, to_categorical


# -- to_categorical ----------------------------------------------------------------------

def test_to_categorical_basic():
    out = to_categorical([0, 2, 1, 2])
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[0, 2, 1, 2]])


def test_to_categorical_shapes_follow_keras():
    assert to_categorical(np.array([[1], [0]]), 3).shape == (2, 3)  # (N, 1) -> (N, C)
    assert to_categorical(np.zeros((2, 4), int), 5).shape == (2, 4, 5)
    assert to_categorical(3, 5).tolist() == [0, 0, 0, 1, 0]
    assert to_categorical(np.array([], int), 4).shape == (0, 4)


def test_to_categorical_num_classes_and_dtype():
    out = to_categorical(np.array([1, 0], np.uint8), num_classes=4, dtype="float64")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[0, 1, 0, 0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(to_categorical([2.0, 0.0]), [[0, 0, 1], [1, 0, 0]])  # whole floats


@pytest.mark.parametrize("y, kwargs, message", [
    ([0, -1, 2], {}, "labels must be >= 0, found -1"),
    ([0, 1.5], {}, "whole numbers, found 1.5"),
    ([0, np.nan], {}, "whole numbers"),
    ([0, 3], dict(num_classes=3), r"label 3 is out of range for num_classes=3 \(labels must be 0..2\)"),
    (["a", "b"], {}, "must be integers"),
    ([True, False], {}, "must be integers"),
    (np.array([], int), {}, "cannot infer num_classes from empty labels"),
    ([0, 1], dict(num_classes=0), "num_classes must be a positive integer"),
])
def test_to_categorical_errors(y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        to_categorical(y, **kwargs)


# -- normalize ---------------------------------------------------------------------------

def test_normalize_l2_rows_and_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 1.0]])
    out = normalize(x)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [2 ** -0.5, 2 ** -0.5]])
    np.testing.assert_allclose(np.linalg.norm(out[[0, 2]], axis=1), 1.0)


def test_normalize_axis_order_and_dtype():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    out = normalize(x, axis=0, order=1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.abs(out).sum(axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(normalize(x, order=np.inf), x / np.abs(x).max(axis=1, keepdims=True), rtol=1e-6)
    x3 = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(np.linalg.norm(normalize(x3, axis=1), axis=1), 1.0)


# -- scale_to_unit -----------------------------------------------------------------------

def test_scale_to_unit():
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    out = scale_to_unit(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert out.min() == 0.0 and out.max() == 1.0
    np.testing.assert_array_equal(out, x.astype("float32") / 255)


def test_scale_to_unit_refuses_float():
    with pytest.raises(TypeError, match="expects uint8 pixels .* got float32"):
        scale_to_unit(np.zeros(3, np.float32))


# -- split_validation --------------------------------------------------------------------

def test_split_validation_without_seed_takes_the_last_rows_like_keras():
    x = np.arange(10).reshape(10, 1)
    y = np.arange(10) * 10
    (xt, yt), (xv, yv) = split_validation(x, y, validation_split=0.25)
    # Keras: split_at = floor(10 * 0.75) = 7
    np.testing.assert_array_equal(xt.ravel(), np.arange(7))
    np.testing.assert_array_equal(xv.ravel(), [7, 8, 9])
    np.testing.assert_array_equal(yv, [70, 80, 90])


def test_split_validation_seeded_is_reproducible_disjoint_and_ordered():
    x = np.arange(100)
    (a, _), (va, _) = split_validation(x, None, 0.2, seed=1)
    (b, _), (vb, _) = split_validation(x, None, 0.2, seed=1)
    (_, _), (vc, _) = split_validation(x, None, 0.2, seed=2)
    np.testing.assert_array_equal(va, vb)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(va, vc)
    assert len(a) == 80 and len(va) == 20
    assert sorted(np.concatenate([a, va]).tolist()) == list(range(100))
    assert np.all(np.diff(a) > 0) and np.all(np.diff(va) > 0)
    assert not np.array_equal(va, np.arange(80, 100))  # really a random subset


def test_split_validation_keeps_pairs_and_lists_together():
    x1 = np.arange(20)
    x2 = np.arange(20) * 2
    y = np.arange(20) * 3
    (xt, yt), (xv, yv) = split_validation([x1, x2], y, 0.3, seed=np.random.default_rng(4))
    assert isinstance(xt, list) and len(xt) == 2
    np.testing.assert_array_equal(xt[1], xt[0] * 2)
    np.testing.assert_array_equal(yv, xv[0] * 3)
    assert len(xv[0]) == 6 and yt.shape == (14,)


@pytest.mark.parametrize("split", [0, 1, 1.5, -0.1, True, "0.2"])
def test_split_validation_bad_fraction(split):
    with pytest.raises(ValueError, match="validation_split must be in \\(0, 1\\)"):
        split_validation(np.arange(10), None, split)


def test_split_validation_errors():
    with pytest.raises(ValueError, match="same number of rows; got 10 and 9"):
        split_validation(np.arange(10), np.arange(9), 0.2)
    with pytest.raises(ValueError, match="leaves 0 training and 2 validation rows"):
        split_validation(np.arange(2), None, 0.6)
    with pytest.raises(ValueError, match="leaves 5 training and 0 validation rows"):
        split_validation(np.arange(5), None, 1e-17)
