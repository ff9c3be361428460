"""pydl.functional: activations and (log-)softmax, against NumPy and gradcheck; softmax's
stability on huge inputs."""
import numpy as np
import pytest

import pydl
import pydl.functional as F
from conftest import away_from, helper_test_op, random_inputs


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


ACTIVATIONS = [
    ("relu", lambda x: np.maximum(x, 0), F.relu, [0.0]),
    ("leaky_relu", lambda x: np.where(x > 0, x, 0.01 * x), F.leaky_relu, [0.0]),
    ("leaky_relu_0.2", lambda x: np.where(x > 0, x, 0.2 * x), lambda x: F.leaky_relu(x, 0.2), [0.0]),
    ("elu", lambda x: np.where(x > 0, x, np.exp(x) - 1), F.elu, [0.0]),
    ("elu_0.5", lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1)), lambda x: F.elu(x, alpha=0.5), [0.0]),
    ("sigmoid", np_sigmoid, F.sigmoid, []),
    ("tanh", np.tanh, F.tanh, []),
]


@pytest.mark.parametrize("name,np_fn,pydl_fn,kinks", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), ()])
def test_activation(name, np_fn, pydl_fn, kinks, shape, backend):
    values = away_from(random_inputs([shape], -3, 3), kinks)
    helper_test_op(None, np_fn, pydl_fn, values=values)


def test_activation_methods():
    values = away_from(random_inputs([(3, 4)], -3, 3), [0.0])
    helper_test_op(None, lambda x: np.maximum(x, 0), lambda x: x.relu(), values=values)
    helper_test_op(None, np_sigmoid, lambda x: x.sigmoid(), values=values)
    helper_test_op(None, np.tanh, lambda x: x.tanh(), values=values)


def test_activations_saturate_without_nan(backend):
    x = pydl.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    s = F.sigmoid(x).numpy()
    np.testing.assert_allclose(s, [0, np_sigmoid(-50.0), 0.5, 1, 1], atol=1e-7)
    np.testing.assert_allclose(F.tanh(x).numpy(), [-1, -1, 0, 1, 1])
    np.testing.assert_allclose(F.elu(x).numpy(), [-1, -1, 0, 50, 1000])
    for y in (s, F.tanh(x).numpy(), F.elu(x).numpy(), F.relu(x).numpy()):
        assert np.all(np.isfinite(y))


@pytest.mark.parametrize("axis", [-1, 0, 1, 2])
@pytest.mark.parametrize("log", [False, True])
def test_softmax(axis, log, backend):
    np_fn = (lambda x: np_log_softmax(x, axis)) if log else (lambda x: np_softmax(x, axis))
    fn = F.log_softmax if log else F.softmax
    helper_test_op([(2, 3, 4)], np_fn, lambda x: fn(x, axis))
    helper_test_op([(2, 3, 4)], np_fn, lambda x: (x.log_softmax if log else x.softmax)(axis), forward_only=True)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_1d_and_sums_to_one(log, backend):
    helper_test_op([(7,)], np_log_softmax if log else np_softmax, F.log_softmax if log else F.softmax)
    y = F.softmax(pydl.tensor(random_inputs([(5, 9)])[0]), axis=1).numpy()
    np.testing.assert_allclose(y.sum(axis=1), np.ones(5), rtol=1e-6)


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64])
@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_stable_on_huge_inputs(dtype, axis, backend):
    # (every log-probability fits in float32: -3e38 - 3e38 would not)
    x = np.array([[1e4, 1e4 + 1, -1e4], [3e38, 3e38, 0.0], [-1e30, -1e30, -1e30]])
    if dtype == pydl.float32:
        x = x.astype(np.float32).astype(np.float64)
    t = pydl.tensor(x, dtype=dtype)
    y = F.softmax(t, axis).numpy()
    ly = F.log_softmax(t, axis).numpy()
    assert np.all(np.isfinite(y)), y
    assert np.all(np.isfinite(ly)), ly
    if axis == -1:
        e = 1.0 / (1.0 + np.e)
        np.testing.assert_allclose(y[0], [e, 1 - e, 0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(y[1], [0.5, 0.5, 0], atol=1e-6)
        np.testing.assert_allclose(y[2], [1 / 3] * 3, rtol=1e-5)
        np.testing.assert_allclose(ly[0, :2], np.log([e, 1 - e]), rtol=1e-5)
        np.testing.assert_allclose(ly[1], [np.log(0.5), np.log(0.5), -3e38], rtol=1e-5)
        np.testing.assert_allclose(ly[2], [np.log(1 / 3)] * 3, rtol=1e-5)
    np.testing.assert_allclose(y.sum(axis=axis), np.ones(3), rtol=1e-5)


def test_softmax_backward_on_huge_inputs_is_finite():
    x = pydl.tensor([[1e4, 1e4 + 1, -1e4]], dtype=pydl.float64, requires_grad=True)
    F.log_softmax(x).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    e = 1.0 / (1.0 + np.e)
    # d/dx sum(log_softmax) = 1 - 3 softmax
    np.testing.assert_allclose(x.grad.numpy(), [[1 - 3 * e, 1 - 3 * (1 - e), 1]], atol=1e-12)


def test_softmax_errors():
    with pytest.raises(IndexError, match="softmax.*axis 2"):
        F.softmax(pydl.zeros(2, 3), axis=2)
    with pytest.raises(ValueError, match="log_softmax.*scalar"):
        F.log_softmax(pydl.tensor(1.0))


def test_softmax_large_rows_fast_path(backend):
    x = np.random.default_rng(0).standard_normal((300, 257)) * 10
    np.testing.assert_allclose(F.softmax(pydl.tensor(x, dtype=pydl.float64), 1).numpy(), np_softmax(x, 1),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(F.log_softmax(pydl.tensor(x, dtype=pydl.float64), 0).numpy(), np_log_softmax(x, 0),
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- NaN propagates (issue 7)
# NaN in, NaN out, as NumPy and torch.relu do: a NaN row must not come out of a network as a
# plausible probability vector. Positions cover the first element, the ends of 8- and 16-lane
# vectors and the scalar tail after the last full vector, in a short run (37) and a long one that
# takes the tiled, parallel path. The other positions must equal the NaN-free result.
# Gradients: a NaN input gets a NaN gradient (pydl's rule). PyTorch is not uniform here: its
# sigmoid/tanh/elu gradients at NaN are NaN too, but relu and leaky_relu pass the incoming
# gradient through (threshold_backward tests `x <= 0`, false for NaN); pydl makes them NaN so a
# NaN cannot vanish between the loss and the weights.
NAN_SIZES = {37: [0, 7, 8, 15, 16, 31, 32, 36], 70001: [0, 16, 35000, 69984, 70000]}
NAN_ACTIVATIONS = {"relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.2), "elu": F.elu,
                   "sigmoid": F.sigmoid, "tanh": F.tanh}


def _nan_case(n, dtype):
    clean = np.random.default_rng(n).uniform(-3, 3, n)
    nan_at = NAN_SIZES[n]
    dirty = clean.copy()
    dirty[nan_at] = np.nan
    return clean, dirty, np.isin(np.arange(n), nan_at)


def _forward_backward(fn, values, dtype):
    x = pydl.tensor(values, dtype=dtype, requires_grad=True)
    y = fn(x)
    y.backward(pydl.ones(y.shape, dtype=dtype))
    return y.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("n", sorted(NAN_SIZES))
@pytest.mark.parametrize("name", NAN_ACTIVATIONS)
def test_activation_propagates_nan(name, n, dtype, backend):
    clean, dirty, mask = _nan_case(n, dtype)
    fn = NAN_ACTIVATIONS[name]
    y0, g0 = _forward_backward(fn, clean, dtype)
    y, g = _forward_backward(fn, dirty, dtype)
    np.testing.assert_array_equal(np.isnan(y), mask, err_msg=f"{name} forward: NaN exactly where the input is")
    np.testing.assert_array_equal(np.isnan(g), mask, err_msg=f"{name} backward: NaN gradient at NaN inputs")
    np.testing.assert_array_equal(y[~mask], y0[~mask])
    np.testing.assert_array_equal(g[~mask], g0[~mask])


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_propagates_nan_to_its_row(log, dtype, backend):
    """A NaN anywhere in a row makes that row NaN (NumPy's and torch's result); other rows are
    untouched. Rows of 37 (vector body and tail) and 3000 values, NaN first, mid and last."""
    fn = F.log_softmax if log else F.softmax
    for cols in (37, 3000):
        x = np.random.default_rng(cols).uniform(-5, 5, (5, cols))
        bad_rows = {1: 0, 2: cols // 2, 4: cols - 1}
        for r, c in bad_rows.items():
            x[r, c] = np.nan
        rows = np.isin(np.arange(5), list(bad_rows))
        y, g = _forward_backward(lambda t: fn(t, -1) * pydl.tensor(np.arange(cols) + 1.0, dtype=dtype), x, dtype)
        assert np.isnan(y[rows]).all() and not np.isnan(y[~rows]).any()
        assert np.isnan(g[rows]).all() and not np.isnan(g[~rows]).any()
        ref = (np_log_softmax if log else np_softmax)(x[~rows]) * (np.arange(cols) + 1.0)
        tol = 1e-5 if dtype == pydl.float32 else 1e-12
        np.testing.assert_allclose(y[~rows], ref, rtol=tol, atol=tol)
        # along axis 0 too (the strided inner > 1 path): NaN columns
        y0 = fn(pydl.tensor(x, dtype=dtype), 0).numpy()
        cols_bad = np.isnan(x).any(axis=0)
        assert np.isnan(y0[:, cols_bad]).all() and not np.isnan(y0[:, ~cols_bad]).any()


def test_nan_input_row_gives_nan_probabilities(backend):
    """The issue's symptom: relu hid a NaN, and softmax then made a plausible probability row."""
    x = np.random.default_rng(0).standard_normal((4, 6))
    x[2, 3] = np.nan
    w = pydl.tensor(np.random.default_rng(1).standard_normal((6, 5)))
    p = F.softmax(pydl.matmul(F.relu(pydl.tensor(x)), w), -1).numpy()
    assert np.isnan(p[2]).all()
    assert np.isfinite(p[[0, 1, 3]]).all()
