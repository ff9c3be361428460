"""pydl.functional.batch_norm, layer_norm, group_norm: forward against NumPy transcriptions
(both backends, float32 and float64, every memory layout), gradcheck of x, weight and bias,
the running statistics' update (PyTorch's convention) by hand, reference vs fast from Python,
and the errors for bad input."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import pydl
from pydl import functional as F
from pydl.utils import gradcheck
from conftest import helper_test_op, make_tensor, st_arrays, st_shapes


# ---------------------------------------------------------------- NumPy transcriptions
def np_batch_norm(x, mean, var, w=None, b=None, eps=1e-5):
    """(x - mean[c]) / sqrt(var[c] + eps) * w[c] + b[c], channels on axis 1."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def np_batch_stats(x):
    """The batch's per-channel mean and biased variance over every axis but 1."""
    axes = (0,) + tuple(range(2, x.ndim))
    return x.mean(axis=axes), x.var(axis=axes)


def np_layer_norm(x, k, w=None, b=None, eps=1e-5):
    """Normalise over the last k axes."""
    axes = tuple(range(x.ndim - k, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return y * (1 if w is None else w) + (0 if b is None else b)


def np_group_norm(x, groups, w=None, b=None, eps=1e-5):
    n, c = x.shape[:2]
    xg = x.reshape(n, groups, -1)
    y = ((xg - xg.mean(axis=2, keepdims=True)) / np.sqrt(xg.var(axis=2, keepdims=True) + eps)).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


# ---------------------------------------------------------------- batch_norm
BN_SHAPES = [(4, 3), (5, 2, 3, 4), (3, 4, 5), (2, 1, 2, 3), (6, 7, 1, 1)]


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_numpy_with_gradients(shape, affine, backend):
    c = shape[1]
    shapes = [shape] + ([(c,), (c,)] if affine else [])

    def np_fn(x, w=None, b=None):
        m, v = np_batch_stats(x)
        return np_batch_norm(x, m, v, w, b, eps=1e-3)

    def pydl_fn(x, w=None, b=None):
        return F.batch_norm(x, None, None, w, b, training=True, eps=1e-3)

    helper_test_op(shapes, np_fn, pydl_fn)


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_inference_matches_numpy_with_gradients(shape, backend):
    c = shape[1]
    rng = np.random.default_rng(1)
    values = [rng.uniform(-2, 2, shape), rng.uniform(-1, 1, c), rng.uniform(0.2, 2, c), rng.uniform(-2, 2, c),
              rng.uniform(-2, 2, c)]

    def pydl_fn(x, rm, rv, w, b):
        return F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-4)

    helper_test_op(None, lambda x, m, v, w, b: np_batch_norm(x, m, v, w, b, eps=1e-4), pydl_fn, values=values,
                   grad_inputs=(0, 3, 4))


@pytest.mark.parametrize("seed", range(6))
def test_batch_norm_random_shapes_fast_matches_reference(seed):
    # The two backends from Python on random shapes: outputs and all three gradients.
    rng = np.random.default_rng(seed)
    spatial = tuple(int(s) for s in rng.integers(1, 9, rng.integers(0, 3)))
    shape = (int(rng.integers(2, 9)), int(rng.integers(1, 70))) + spatial
    x = rng.normal(2, 3, shape)
    w, b = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    g = rng.normal(size=shape)
    results = {}
    for be in ("reference", "fast"):
        pydl.set_backend(be)
        ts = [make_tensor(v, requires_grad=True) for v in (x, w, b)]
        y = F.batch_norm(ts[0], None, None, ts[1], ts[2], training=True)
        (y * pydl.tensor(g, dtype=pydl.float64)).sum().backward()
        results[be] = [y.detach().numpy()] + [t.grad.numpy() for t in ts]
    for a, r in zip(results["fast"], results["reference"]):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)
    m, v = np_batch_stats(x)
    np.testing.assert_allclose(results["fast"][0], np_batch_norm(x, m, v, w, b), rtol=1e-9, atol=1e-9)


def test_batch_norm_running_stats_update_pytorch_convention(backend):
    # running = (1 - momentum) running + momentum batch, with the unbiased batch variance (M / (M - 1)).
    rng = np.random.default_rng(3)
    rm0, rv0 = rng.normal(size=3), rng.uniform(0.5, 2, 3)
    rm, rv = pydl.tensor(rm0, dtype=pydl.float64), pydl.tensor(rv0, dtype=pydl.float64)
    em, ev = rm0.copy(), rv0.copy()
    for _ in range(3):
        x = rng.normal(1, 2, (4, 3, 2, 5))
        F.batch_norm(pydl.tensor(x, dtype=pydl.float64), rm, rv, training=True, momentum=0.3)
        m, v = np_batch_stats(x)
        em = 0.7 * em + 0.3 * m
        ev = 0.7 * ev + 0.3 * v * 40 / 39
    np.testing.assert_allclose(rm.numpy(), em, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), ev, rtol=1e-12)


def test_batch_norm_inference_leaves_running_stats_and_uses_them():
    rm, rv = pydl.tensor([1.0, -2.0], dtype=pydl.float64), pydl.tensor([4.0, 0.25], dtype=pydl.float64)
    x = np.array([[3.0, -1.0], [1.0, -2.5]])
    y = F.batch_norm(pydl.tensor(x, dtype=pydl.float64), rm, rv, training=False, eps=0.0)
    # by hand: (3 - 1) / 2 = 1, (-1 + 2) / 0.5 = 2, (1 - 1) / 2 = 0, (-2.5 + 2) / 0.5 = -1
    np.testing.assert_allclose(y.numpy(), [[1.0, 2.0], [0.0, -1.0]], rtol=1e-15)
    assert rm.numpy().tolist() == [1.0, -2.0] and rv.numpy().tolist() == [4.0, 0.25]


def test_batch_norm_running_stats_do_not_enter_the_graph():
    rm, rv = pydl.zeros(2, dtype=pydl.float64), pydl.ones(2, dtype=pydl.float64)
    x = pydl.tensor(np.arange(8.0).reshape(4, 2), dtype=pydl.float64, requires_grad=True)
    y = F.batch_norm(x, rm, rv, training=True)
    assert not rm.requires_grad and rm.grad_fn is None and rv.grad_fn is None
    y.sum().backward()
    # Σ_n xhat = 0, so the gradient of Σ y through the batch statistics is 0 everywhere
    np.testing.assert_allclose(x.grad.numpy(), np.zeros((4, 2)), atol=1e-12)


def test_batch_norm_backward_twice_doubles_the_gradient():
    x = pydl.tensor(np.random.default_rng(0).normal(size=(3, 2, 2)), dtype=pydl.float64, requires_grad=True)
    w = pydl.tensor([1.5, -0.5], dtype=pydl.float64, requires_grad=True)
    g = pydl.tensor(np.random.default_rng(1).normal(size=(3, 2, 2)), dtype=pydl.float64)
    (F.batch_norm(x, None, None, w, training=True) * g).sum().backward()
    first = x.grad.numpy().copy(), w.grad.numpy().copy()
    (F.batch_norm(x, None, None, w, training=True) * g).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first[0], rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), 2 * first[1], rtol=1e-12)


def test_batch_norm_errors():
    x = pydl.tensor(np.ones((4, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\).*\(4, 3, 2, 2\).*\(4,\)"):
        F.batch_norm(x, None, None, pydl.ones(4), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: bias must have shape \(3,\)"):
        F.batch_norm(x, None, None, None, pydl.ones((3, 1)), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: the input must be \(N, C\).*got \(3,\)"):
        F.batch_norm(pydl.ones(3), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: inference .* give them"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(3,\)"):
        F.batch_norm(x, pydl.zeros(2), pydl.ones(2), training=True)
    with pytest.raises(ValueError, match=r"both running_mean and running_var"):
        F.batch_norm(x, pydl.zeros(3), None, training=True)
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        F.batch_norm(pydl.ones((1, 3)), None, None, training=True)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
        F.batch_norm(x, None, None, training=True, momentum=1.5)
    with pytest.raises(ValueError, match=r"eps must be finite and >= 0"):
        F.batch_norm(x, None, None, training=True, eps=-1.0)
    with pytest.raises(ValueError, match=r"running_var\[1\] = -2"):
        F.batch_norm(x, pydl.zeros(3), pydl.tensor([1.0, -2.0, 1.0]))
    with pytest.raises(TypeError, match=r"batch_norm: training must be a bool"):
        F.batch_norm(x, None, None, training=1)
    with pytest.raises(TypeError, match=r"batch_norm: dtype mismatch"):
        F.batch_norm(x, None, None, pydl.ones(3, dtype=pydl.float64), training=True)
    rm = pydl.zeros(3)
    with pytest.raises(ValueError, match="must not require grad"):
        F.batch_norm(x, rm, pydl.ones(3, requires_grad=True), training=True)
    assert rm.numpy().tolist() == [0.0, 0.0, 0.0]  # nothing was updated before the error


# ---------------------------------------------------------------- layer_norm
LN_CASES = [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((3, 2, 2, 3), (2, 2, 3)), ((2, 6), 6), ((5, 1), (1,))]


@pytest.mark.parametrize("shape, normalized", LN_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_numpy_with_gradients(shape, normalized, affine, backend):
    k = 1 if isinstance(normalized, int) else len(normalized)
    wshape = shape[len(shape) - k:]
    shapes = [shape] + ([wshape, wshape] if affine else [])
    helper_test_op(shapes, lambda x, w=None, b=None: np_layer_norm(x, k, w, b, eps=1e-3),
                   lambda x, w=None, b=None: F.layer_norm(x, normalized, w, b, eps=1e-3))


@pytest.mark.parametrize("seed", range(4))
def test_layer_norm_random_shapes_fast_matches_reference(seed):
    rng = np.random.default_rng(10 + seed)
    shape = (int(rng.integers(1, 9)), int(rng.integers(1, 200)))
    x, w, b, g = rng.normal(3, 2, shape), rng.normal(size=shape[1:]), rng.normal(size=shape[1:]), rng.normal(size=shape)
    out = {}
    for be in ("reference", "fast"):
        pydl.set_backend(be)
        ts = [make_tensor(v, requires_grad=True) for v in (x, w, b)]
        y = F.layer_norm(ts[0], shape[1:], ts[1], ts[2])
        (y * pydl.tensor(g, dtype=pydl.float64)).sum().backward()
        out[be] = [y.detach().numpy()] + [t.grad.numpy() for t in ts]
    for a, r in zip(out["fast"], out["reference"]):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out["fast"][0], np_layer_norm(x, 1, w, b), rtol=1e-9, atol=1e-9)


def test_layer_norm_errors():
    x = pydl.ones((2, 3, 4))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(3,\) must .* trailing dims .* \(2, 3, 4\)"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(3, 4\).*got \(4,\)"):
        F.layer_norm(x, (3, 4), pydl.ones(4))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(2, 2, 3, 4\)"):
        F.layer_norm(x, (2, 2, 3, 4))
    with pytest.raises(TypeError, match=r"layer_norm: normalized_shape must be an int or a tuple"):
        F.layer_norm(x, "4")


# ---------------------------------------------------------------- group_norm
GN_CASES = [((2, 6, 3, 3), 3), ((3, 4, 5), 2), ((2, 4, 2, 2), 4), ((2, 4, 2, 2), 1), ((4, 6), 2), ((1, 2, 3, 1), 2)]


@pytest.mark.parametrize("shape, groups", GN_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_numpy_with_gradients(shape, groups, affine, backend):
    c = shape[1]
    shapes = [shape] + ([(c,), (c,)] if affine else [])
    helper_test_op(shapes, lambda x, w=None, b=None: np_group_norm(x, groups, w, b, eps=1e-3),
                   lambda x, w=None, b=None: F.group_norm(x, groups, w, b, eps=1e-3))


def test_group_norm_with_groups_equal_channels_is_instance_norm():
    x = np.random.default_rng(2).normal(size=(3, 4, 5, 6))
    y = F.group_norm(pydl.tensor(x, dtype=pydl.float64), 4, eps=1e-5).numpy()
    inst = (x - x.mean(axis=(2, 3), keepdims=True)) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, inst, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_group_norm_random_shapes_fast_matches_reference(seed):
    rng = np.random.default_rng(20 + seed)
    groups = int(rng.integers(1, 5))
    shape = (int(rng.integers(1, 5)), groups * int(rng.integers(1, 5)), int(rng.integers(1, 9)),
             int(rng.integers(1, 9)))
    c = shape[1]
    x, w, b, g = rng.normal(-1, 3, shape), rng.normal(size=c), rng.normal(size=c), rng.normal(size=shape)
    out = {}
    for be in ("reference", "fast"):
        pydl.set_backend(be)
        ts = [make_tensor(v, requires_grad=True) for v in (x, w, b)]
        y = F.group_norm(ts[0], groups, ts[1], ts[2])
        (y * pydl.tensor(g, dtype=pydl.float64)).sum().backward()
        out[be] = [y.detach().numpy()] + [t.grad.numpy() for t in ts]
    for a, r in zip(out["fast"], out["reference"]):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out["fast"][0], np_group_norm(x, groups, w, b), rtol=1e-9, atol=1e-9)


def test_group_norm_errors():
    x = pydl.ones((2, 6, 3, 3))
    with pytest.raises(ValueError,
                       match=r"group_norm: num_groups=4 must divide the channels \(6, input \(2, 6, 3, 3\)\)"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match=r"group_norm: weight must have shape \(6,\).*got \(3,\)"):
        F.group_norm(x, 3, pydl.ones(3))
    with pytest.raises(ValueError, match=r"group_norm: the input must be \(N, C, \*\)"):
        F.group_norm(pydl.ones(6), 3)
    with pytest.raises(ValueError, match=r"group_norm: num_groups must be positive"):
        F.group_norm(x, 0)
    with pytest.raises(TypeError, match=r"group_norm: num_groups must be an int"):
        F.group_norm(x, 2.0)


def test_gradcheck_with_large_offsets_float64():
    # Values far from 0 (mean 100) still gradcheck: the statistics are two-pass.
    rng = np.random.default_rng(5)
    x = pydl.tensor(rng.normal(100, 1, (3, 2, 4)), dtype=pydl.float64, requires_grad=True)
    assert gradcheck(lambda t: F.batch_norm(t, None, None, training=True), [x])
    assert gradcheck(lambda t: F.group_norm(t, 1), [x])
    assert gradcheck(lambda t: F.layer_norm(t, (2, 4)), [x])


def test_results_do_not_depend_on_the_thread_count():
    # Large enough for the fast kernels' parallel paths; each sum is taken by one thread.
    pydl.set_backend("fast")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(64, 16, 8, 8))
    g = pydl.tensor(rng.normal(size=x.shape), dtype=pydl.float64)
    w = rng.normal(size=16)
    ops = [lambda t, wt: F.batch_norm(t, None, None, wt, None, training=True),
           lambda t, wt: F.group_norm(t, 4, wt),
           lambda t, wt: F.layer_norm(t.reshape(64, 1024), 1024)]
    for op in ops:
        runs = []
        for threads in (1, 2):
            pydl.set_num_threads(threads)
            t = pydl.tensor(x, dtype=pydl.float64, requires_grad=True)
            wt = pydl.tensor(w, dtype=pydl.float64, requires_grad=True)
            y = op(t, wt)
            (y.reshape(*x.shape) * g).sum().backward()
            runs.append((y.detach().numpy().copy(), t.grad.numpy().copy()))
        np.testing.assert_array_equal(runs[0][0], runs[1][0])
        np.testing.assert_array_equal(runs[0][1], runs[1][1])


@given(shape=st_shapes(2, 4, 1, 5), data=st.data())
def test_norm_ops_hypothesis(shape, data):
    # Random shapes and memory layouts (strided, transposed, permuted, offset views), either backend.
    x, view = data.draw(st_arrays(shape))
    pydl.set_backend(data.draw(st.sampled_from(["reference", "fast"])))
    eps = data.draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    t = pydl.from_numpy(view)
    m, v = np_batch_stats(x)
    if x.size // shape[1] == 1:  # one value per channel: PyTorch refuses to train on it
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            F.batch_norm(t, None, None, training=True, eps=eps)
    else:
        np.testing.assert_allclose(F.batch_norm(t, None, None, training=True, eps=eps).numpy(),
                                   np_batch_norm(x, m, v, eps=eps), rtol=1e-9, atol=1e-9)
    k = data.draw(st.integers(1, len(shape)))
    np.testing.assert_allclose(F.layer_norm(t, shape[len(shape) - k:], eps=eps).numpy(),
                               np_layer_norm(x, k, eps=eps), rtol=1e-9, atol=1e-9)
    groups = data.draw(st.sampled_from([d for d in range(1, shape[1] + 1) if shape[1] % d == 0]))
    np.testing.assert_allclose(F.group_norm(t, groups, eps=eps).numpy(), np_group_norm(x, groups, eps=eps),
                               rtol=1e-9, atol=1e-9)
