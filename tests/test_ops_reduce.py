"""Reductions: sum, mean, max, min, var over any axes with keepdims (and ddof for var);
forward against NumPy in every layout, backward through gradcheck."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import pydl
from conftest import helper_test_op, make_tensor, random_inputs, st_arrays, st_shapes

AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2), (2, 0), (-3, -1), (1, 2)]


def _distinct(shape, seed=0):
    """Values with no ties (max/min have a kink at a tie)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n).reshape(shape) * 0.37 - n * 0.15).astype(np.float64)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(name, axis, keepdims, backend):
    np_fn = lambda x: getattr(np, name)(x, axis=axis, keepdims=keepdims)  # noqa: E731
    helper_test_op([(2, 3, 4)], np_fn, lambda x: getattr(pydl, name)(x, axis=axis, keepdims=keepdims))
    helper_test_op([(2, 3, 4)], np_fn, lambda x: getattr(x, name)(axis=axis, keepdims=keepdims), forward_only=True)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min(name, axis, keepdims, backend):
    np_fn = lambda x: getattr(np, name)(x, axis=axis, keepdims=keepdims)  # noqa: E731
    helper_test_op(None, np_fn, lambda x: getattr(pydl, name)(x, axis=axis, keepdims=keepdims),
                   values=[_distinct((2, 3, 4))])
    helper_test_op(None, np_fn, lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),
                   values=[_distinct((2, 3, 4), 1)], forward_only=True)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_ties_split_the_gradient(name):
    x = pydl.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    y = getattr(pydl, name)(x, axis=1)
    y.sum().backward()
    if name == "max":
        np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    else:
        np.testing.assert_allclose(x.grad.numpy(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ddof", [0, 1])
def test_var(axis, keepdims, ddof, backend):
    helper_test_op([(3, 4, 2)], lambda x: np.var(x, axis=axis, keepdims=keepdims, ddof=ddof),
                   lambda x: pydl.var(x, axis=axis, keepdims=keepdims, ddof=ddof))
    helper_test_op([(3, 4, 2)], lambda x: np.var(x, axis=axis, keepdims=keepdims, ddof=ddof),
                   lambda x: x.var(axis=axis, keepdims=keepdims, ddof=ddof), forward_only=True)


def test_var_without_degrees_of_freedom_raises():
    with pytest.raises(ValueError, match=r"var.*ddof=1.*\(1, 3\)"):
        pydl.var(pydl.zeros(1, 3), axis=0, ddof=1)


def test_reduce_scalar_and_vector(backend):
    helper_test_op([()], np.sum, pydl.sum)
    helper_test_op([(7,)], np.sum, pydl.sum)
    helper_test_op([(7,)], lambda x: np.max(x), lambda x: pydl.max(x), values=[_distinct((7,))])


def test_reduce_empty_axis():
    z = pydl.zeros(0, 3)
    np.testing.assert_array_equal(pydl.sum(z, axis=0).numpy(), np.zeros(3))
    assert pydl.sum(z).item() == 0.0
    assert pydl.sum(z, axis=1).shape == (0,)
    with pytest.raises(ValueError, match=r"max.*\(0, 3\)"):
        pydl.max(z, axis=0)
    with pytest.raises(ValueError, match=r"mean.*\(0, 3\)"):
        pydl.mean(z, axis=0)


@pytest.mark.parametrize("shape,axis", [((1000, 37), 0), ((37, 1000), 1), ((70000,), None), ((3, 40000), 1),
                                        ((50, 40, 30), (0, 2))])
def test_large_reductions_match_numpy(shape, axis, backend):
    # shapes big enough for the blocked, parallel paths of the fast kernels
    x = np.random.default_rng(0).standard_normal(shape)
    t = pydl.tensor(x, dtype=pydl.float64)
    np.testing.assert_allclose(pydl.sum(t, axis=axis).numpy(), x.sum(axis=axis), rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(pydl.max(t, axis=axis).numpy(), x.max(axis=axis))
    np.testing.assert_array_equal(pydl.min(t, axis=axis).numpy(), x.min(axis=axis))
    t32 = pydl.tensor(x, dtype=pydl.float32)
    np.testing.assert_allclose(pydl.sum(t32, axis=axis).numpy(), x.sum(axis=axis), rtol=1e-4, atol=2e-3)


@pytest.mark.parametrize("shape,axis", [((37,), None), ((70001,), None), ((3, 37), 1), ((37, 3), 0),
                                        ((2, 40000), 1), ((40000, 3), 0)])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_propagate_nan_from_every_position(name, shape, axis, backend):
    """NaN at the first, a vector-boundary and the last position of each reduced run (issue 7)."""
    x = np.random.default_rng(0).uniform(-2, 2, shape)
    flat = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
    n = flat.shape[-1]
    for pos in (0, 15, 16, n - 1):
        v = flat.copy()
        v[..., pos] = np.nan
        v = v if axis is None else np.moveaxis(v, -1, axis)
        got = getattr(pydl, name)(pydl.tensor(v), axis=axis).numpy()
        assert np.isnan(got).all(), (name, shape, axis, pos)


def test_reduce_propagates_nan(backend):
    x = pydl.tensor([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    assert np.isnan(pydl.max(x, axis=1).numpy()[0]) and pydl.max(x, axis=1).numpy()[1] == 6
    assert np.isnan(pydl.min(x).item())
    assert np.isnan(pydl.sum(x).item())


def test_max_min_backward_with_a_nan_extreme(backend):
    # The extreme is NaN, held by the NaN position: the gradient goes there (as PyTorch's argmax
    # form does), and the other rows are unaffected; never NaN everywhere.
    x = pydl.tensor([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    pydl.max(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [0, 0, 1]])
    y = pydl.tensor([np.nan, 2.0, np.nan], requires_grad=True)
    pydl.min(y).backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.5, 0, 0.5])  # two NaNs: split evenly


@given(shape=st_shapes(1, 4, 1, 4), data=st.data())
def test_reductions_hypothesis(shape, data):
    x, view = data.draw(st_arrays(shape))
    nd = len(shape)
    axes = data.draw(st.lists(st.integers(-nd, nd - 1), unique_by=lambda a: a % nd, max_size=nd))
    axis = tuple(axes) if axes else None
    keepdims = data.draw(st.booleans())
    pydl.set_backend(data.draw(st.sampled_from(["reference", "fast"])))
    t = pydl.from_numpy(view)
    np.testing.assert_allclose(pydl.sum(t, axis=axis, keepdims=keepdims).numpy(),
                               np.sum(x, axis=axis, keepdims=keepdims), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pydl.mean(t, axis=axis, keepdims=keepdims).numpy(),
                               np.mean(x, axis=axis, keepdims=keepdims), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(pydl.max(t, axis=axis, keepdims=keepdims).numpy(),
                                  np.max(x, axis=axis, keepdims=keepdims))
    np.testing.assert_array_equal(pydl.min(t, axis=axis, keepdims=keepdims).numpy(),
                                  np.min(x, axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(pydl.var(t, axis=axis, keepdims=keepdims).numpy(),
                               np.var(x, axis=axis, keepdims=keepdims), rtol=1e-9, atol=1e-12)


@given(shape=st_shapes(1, 3, 1, 3), data=st.data())
def test_sum_backward_hypothesis(shape, data):
    x, view = data.draw(st_arrays(shape))
    nd = len(shape)
    axes = data.draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))
    t = pydl.from_numpy(view.copy() if not view.flags.writeable else view)
    t.requires_grad = True
    out = pydl.sum(t * t, axis=tuple(axes) or None, keepdims=data.draw(st.booleans()))
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(pydl.tensor(g, dtype=pydl.float64))
    keep = np.sum(x, axis=tuple(axes) or None, keepdims=True).shape
    np.testing.assert_allclose(t.grad.numpy(), 2 * x * g.reshape(keep), rtol=1e-12, atol=1e-12)


def test_reduce_values_from_hand():
    t = pydl.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert pydl.sum(t).item() == 21
    np.testing.assert_array_equal(pydl.sum(t, axis=0).numpy(), [5, 7, 9])
    np.testing.assert_array_equal(pydl.mean(t, axis=1).numpy(), [2, 5])
    np.testing.assert_array_equal(t.max(axis=0).numpy(), [4, 5, 6])
    np.testing.assert_allclose(pydl.var(t, axis=1).numpy(), [2 / 3, 2 / 3], rtol=1e-6)
    np.testing.assert_allclose(pydl.var(t, axis=1, ddof=1).numpy(), [1, 1], rtol=1e-6)
    assert pydl.sum(t, axis=(0, 1), keepdims=True).shape == (1, 1)


def test_reduce_of_views_via_pydl_slicing(backend):
    x = np.arange(60.0).reshape(3, 4, 5)
    t = pydl.tensor(x, dtype=pydl.float64)
    v = t.permute(2, 0, 1)[1::2, :, ::3]
    xv = x.transpose(2, 0, 1)[1::2, :, ::3]
    for axis in [None, 0, 1, 2, (0, 2)]:
        np.testing.assert_allclose(pydl.sum(v, axis=axis).numpy(), xv.sum(axis=axis))
        np.testing.assert_allclose(pydl.max(v, axis=axis).numpy(), xv.max(axis=axis))


def test_gradcheck_sum_of_random_inputs_in_all_layouts():
    (x,) = random_inputs([(3, 4)])
    for layout in ("strided", "transposed"):
        t = make_tensor(x, layout, requires_grad=True)
        assert pydl.utils.gradcheck(lambda a: pydl.mean(a * a, axis=0), [t])


# ---------------------------------------------------------------- accuracy on large data (issue 7)
# float32 sums accumulate in double on both backends, so a sum of float32 values is the exact
# sum rounded once: within 1e-6 relative (about 8 float32 roundings) of NumPy's float64 sum of
# the same values. var must stay accurate with a large mean (1e4 + noise): a float32 mean is
# rounded by up to 5e-4 there, which the corrected two-pass formula removes.
def test_mean_of_2_to_the_25_ones(backend):
    x = pydl.ones(2 ** 25)
    assert pydl.mean(x).item() == 1.0
    assert pydl.sum(x).item() == 2.0 ** 25
    np.testing.assert_array_equal(pydl.mean(x.reshape(2 ** 24, 2), axis=0).numpy(), [1.0, 1.0])


@pytest.fixture(scope="module")
def large_mean_data():
    rng = np.random.default_rng(7)
    return (1e4 + 0.1 * rng.standard_normal((1 << 20, 4))).astype(np.float32)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_sum_mean_var_of_large_mean_data_match_float64(large_mean_data, axis, backend):
    x32 = large_mean_data
    x64 = x32.astype(np.float64)  # the same values, reduced in float64 by NumPy
    t = pydl.tensor(x32)
    np.testing.assert_allclose(pydl.sum(t, axis=axis).numpy(), x64.sum(axis=axis), rtol=1e-6)
    np.testing.assert_allclose(pydl.mean(t, axis=axis).numpy(), x64.mean(axis=axis), rtol=1e-6)
    for ddof in (0, 1):
        np.testing.assert_allclose(pydl.var(t, axis=axis, ddof=ddof).numpy(), x64.var(axis=axis, ddof=ddof),
                                   rtol=1e-5)
