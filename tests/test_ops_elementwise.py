"""Elementwise ops: forward against NumPy, backward through gradcheck, broadcasting and
non-contiguous inputs, comparisons, where, clip, in-place updates and dtype conversion."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import pydl
from conftest import (LAYOUTS, away_from, check_backward, helper_test_op, make_tensor, random_inputs,
                      st_arrays, st_broadcast_shapes)

SHAPES_2 = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5,), ())]


# ---------------------------------------------------------------- binary
@pytest.mark.parametrize("shapes", SHAPES_2)
@pytest.mark.parametrize("np_fn,pydl_fn", [
    (np.add, pydl.add), (np.subtract, pydl.sub), (np.multiply, pydl.mul),
    (np.add, lambda a, b: a + b), (np.subtract, lambda a, b: a - b), (np.multiply, lambda a, b: a * b),
], ids=["add", "sub", "mul", "op+", "op-", "op*"])
def test_binary(shapes, np_fn, pydl_fn, backend):
    helper_test_op(shapes, np_fn, pydl_fn)


@pytest.mark.parametrize("shapes", SHAPES_2)
def test_div(shapes, backend):
    # denominators kept away from 0
    a, b = random_inputs(shapes, 0.5, 2.0)
    b = b * np.where(random_inputs([b.shape], seed=3)[0] > 0, 1, -1)
    helper_test_op(None, np.divide, pydl.div, values=[a, b])
    helper_test_op(None, np.divide, lambda x, y: x / y, values=[a, b])


@pytest.mark.parametrize("shapes", SHAPES_2)
def test_pow(shapes, backend):
    helper_test_op(shapes, np.power, pydl.pow, low=0.5, high=2.0)


@pytest.mark.parametrize("k", [2.0, 3.0, 0.5, -1.5])
def test_pow_scalar(k, backend):
    helper_test_op([(3, 4)], lambda x: x ** k, lambda x: x ** k, low=0.5, high=2.0)


def test_rpow_and_reflected_operators(backend):
    helper_test_op([(4,)], lambda x: 2.0 ** x, lambda x: 2.0 ** x)
    helper_test_op([(4,)], lambda x: 3.0 - x, lambda x: 3.0 - x)
    helper_test_op([(4,)], lambda x: 3.0 + x, lambda x: 3.0 + x)
    helper_test_op([(4,)], lambda x: 3.0 * x, lambda x: 3.0 * x)
    a = random_inputs([(4,)], 0.5, 2.0)
    helper_test_op(None, lambda x: 3.0 / x, lambda x: 3.0 / x, values=a)


@pytest.mark.parametrize("shapes", SHAPES_2)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum(shapes, name, backend):
    a, b = random_inputs(shapes)
    # no ties: central differences at a tie would straddle the kink
    helper_test_op(None, getattr(np, name), getattr(pydl, name), values=[a, b + 0.01])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_gradient(name):
    a = pydl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = pydl.tensor([1.0, 0.0, 5.0], requires_grad=True)
    getattr(pydl, name)(a, b).sum().backward()
    if name == "maximum":
        np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0, 0.0])
        np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0, 1.0])
    else:
        np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0, 1.0])
        np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0, 0.0])


def test_maximum_propagates_nan():
    a = pydl.tensor([np.nan, 1.0])
    b = pydl.tensor([0.0, np.nan])
    np.testing.assert_array_equal(np.isnan(pydl.maximum(a, b).numpy()), [True, True])
    np.testing.assert_array_equal(np.isnan(pydl.minimum(a, b).numpy()), [True, True])


# Selects propagate NaN on both backends, in the vector body and the scalar tail (issue 7):
# positions 0, the ends of 8- and 16-lane vectors, the tail of a 37-run, and a 70001-run that
# takes the tiled parallel path. A NaN input gets a NaN gradient (pydl's rule, see
# test_functional.py); the non-NaN input of maximum/minimum gets none where the other was NaN.
SELECT_NAN_AT = {37: [0, 7, 8, 15, 16, 31, 32, 36], 70001: [0, 16, 35000, 69984, 70000]}


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("n", sorted(SELECT_NAN_AT))
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_nan_forward_and_backward(name, n, dtype, backend):
    rng = np.random.default_rng(n)
    av, bv = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    at = SELECT_NAN_AT[n]
    bt = [i + 1 for i in at[1::2] if i + 1 < n]  # NaN in b at other positions
    av[at], bv[bt] = np.nan, np.nan
    a = pydl.tensor(av, dtype=dtype, requires_grad=True)
    b = pydl.tensor(bv, dtype=dtype, requires_grad=True)
    y = getattr(pydl, name)(a, b)
    y.backward(pydl.ones(n, dtype=dtype))
    nan_a, nan_b = np.isnan(av), np.isnan(bv)
    want = getattr(np, name)(av, bv)  # np.maximum/minimum propagate NaN
    np.testing.assert_array_equal(np.isnan(y.detach().numpy()), nan_a | nan_b)
    np.testing.assert_allclose(y.detach().numpy()[~(nan_a | nan_b)], want[~(nan_a | nan_b)], rtol=1e-7)
    ga, gb = a.grad.numpy(), b.grad.numpy()
    np.testing.assert_array_equal(np.isnan(ga), nan_a)
    np.testing.assert_array_equal(np.isnan(gb), nan_b)
    assert (ga[nan_b & ~nan_a] == 0).all() and (gb[nan_a & ~nan_b] == 0).all()
    wins = (av > bv) if name == "maximum" else (av < bv)
    ok = ~(nan_a | nan_b)
    np.testing.assert_array_equal(ga[ok], wins[ok].astype(np.float64))
    np.testing.assert_array_equal(gb[ok], (~wins[ok]).astype(np.float64))


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("n", sorted(SELECT_NAN_AT))
@pytest.mark.parametrize("name", ["abs", "clip", "where_a", "where_b"])
def test_unary_selects_propagate_nan(name, n, dtype, backend):
    rng = np.random.default_rng(n)
    xv = rng.uniform(-2, 2, n)
    xv[SELECT_NAN_AT[n]] = np.nan
    nan = np.isnan(xv)
    cond = pydl.tensor(np.arange(n) % 2 == 0, dtype=dtype)  # where: x selected at even positions
    other = pydl.tensor(np.full(n, 7.0), dtype=dtype)
    fns = {"abs": (pydl.abs, np.abs(xv), nan),
           "clip": (lambda t: pydl.clip(t, -0.5, 0.7), np.clip(xv, -0.5, 0.7), nan),
           "where_a": (lambda t: pydl.where(cond, t, other), np.where(np.arange(n) % 2 == 0, xv, 7.0),
                       nan & (np.arange(n) % 2 == 0)),
           "where_b": (lambda t: pydl.where(cond, other, t), np.where(np.arange(n) % 2 == 0, 7.0, xv),
                       nan & (np.arange(n) % 2 == 1))}
    fn, want, out_nan = fns[name]
    x = pydl.tensor(xv, dtype=dtype, requires_grad=True)
    y = fn(x)
    y.backward(pydl.ones(n, dtype=dtype))
    got = y.detach().numpy()
    np.testing.assert_array_equal(np.isnan(got), out_nan)
    np.testing.assert_allclose(got[~out_nan], want[~out_nan], rtol=1e-7)
    if name in ("abs", "clip"):  # a NaN input gets a NaN gradient
        np.testing.assert_array_equal(np.isnan(x.grad.numpy()), nan)


@given(shapes=st_broadcast_shapes(2), data=st.data())
def test_binary_broadcast_hypothesis(shapes, data):
    (a, av), (b, bv) = data.draw(st_arrays(shapes[0])), data.draw(st_arrays(shapes[1]))
    pydl.set_backend(data.draw(st.sampled_from(["reference", "fast"])))
    ta, tb = pydl.from_numpy(av), pydl.from_numpy(bv)
    np.testing.assert_allclose((ta + tb).numpy(), a + b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((ta * tb).numpy(), a * b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pydl.maximum(ta, tb).numpy(), np.maximum(a, b))
    np.testing.assert_array_equal((ta < tb).numpy(), (a < b).astype(np.float64))


@given(shapes=st_broadcast_shapes(2, max_dims=3, max_side=3), data=st.data())
def test_binary_broadcast_backward_hypothesis(shapes, data):
    """The gradient of a broadcast input is summed back down to its own shape."""
    (a, av), (b, bv) = data.draw(st_arrays(shapes[0])), data.draw(st_arrays(shapes[1]))
    ta, tb = pydl.from_numpy(av.copy()), pydl.from_numpy(bv.copy())
    ta.requires_grad = tb.requires_grad = True
    out = ta * tb
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(pydl.tensor(g, dtype=pydl.float64))
    full = np.broadcast_shapes(a.shape, b.shape)

    def reduce_to(x, shape):
        x = np.broadcast_to(x, full)
        lead = len(full) - len(shape)
        x = x.sum(axis=tuple(range(lead))) if lead else x
        axes = tuple(i for i, s in enumerate(shape) if s == 1 and x.shape[i] != 1)
        return x.sum(axis=axes, keepdims=True) if axes else x

    np.testing.assert_allclose(ta.grad.numpy(), reduce_to(g * b, a.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), reduce_to(g * a, b.shape), rtol=1e-12, atol=1e-12)
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape


# ---------------------------------------------------------------- unary
@pytest.mark.parametrize("np_fn,pydl_fn,low,high,kinks", [
    (np.negative, pydl.neg, -2, 2, []),
    (np.negative, lambda x: -x, -2, 2, []),
    (np.exp, pydl.exp, -2, 2, []),
    (np.log, pydl.log, 0.2, 3, []),
    (np.sqrt, pydl.sqrt, 0.2, 3, []),
    (np.abs, pydl.abs, -2, 2, [0.0]),
    (np.abs, lambda x: abs(x), -2, 2, [0.0]),
    (np.square, pydl.square, -2, 2, []),
], ids=["neg", "op-", "exp", "log", "sqrt", "abs", "op_abs", "square"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), (5,), ()])
def test_unary(np_fn, pydl_fn, low, high, kinks, shape, backend):
    values = away_from(random_inputs([shape], low, high), kinks)
    helper_test_op(None, np_fn, pydl_fn, values=values)


def test_unary_methods():
    values = random_inputs([(3, 4)], 0.2, 3)
    for name in ["exp", "log", "sqrt", "abs"]:
        helper_test_op(None, getattr(np, name), lambda x: getattr(x, name)(), values=values)


@pytest.mark.parametrize("lo,hi", [(-1.0, 1.0), (0.0, None), (None, 0.5), (-0.3, -0.3)])
def test_clip(lo, hi, backend):
    values = away_from(random_inputs([(4, 5)]), [p for p in (lo, hi) if p is not None])
    np_lo = -np.inf if lo is None else lo
    np_hi = np.inf if hi is None else hi
    helper_test_op(None, lambda x: np.clip(x, np_lo, np_hi), lambda x: pydl.clip(x, lo, hi), values=values)
    helper_test_op(None, lambda x: np.clip(x, np_lo, np_hi), lambda x: x.clip(lo, hi), values=values,
                   forward_only=True)


def test_clip_gradient_is_one_inside_zero_outside():
    x = pydl.tensor([-2.0, -0.5, 0.5, 2.0], requires_grad=True)
    pydl.clip(x, -1, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 0])


# ---------------------------------------------------------------- where
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (4,)), ((2, 3), (), (2, 3))])
def test_where(shapes, backend):
    c, a, b = random_inputs(shapes)
    cond = (c > 0).astype(np.float64)

    def np_fn(a, b):
        return np.where(cond != 0, a, b)

    def pydl_fn(a, b):
        return pydl.where(pydl.tensor(cond, dtype=a.dtype), a, b)

    helper_test_op(None, np_fn, pydl_fn, values=[a, b])


def test_where_with_comparison_condition_and_scalars():
    x = pydl.tensor([-1.0, 2.0, -3.0, 4.0])
    np.testing.assert_array_equal(pydl.where(x > 0, x, 0.0).numpy(), [0, 2, 0, 4])
    np.testing.assert_array_equal(pydl.where(x > 0, 1.0, -1.0).numpy(), [-1, 1, -1, 1])


# ---------------------------------------------------------------- comparisons
@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(op, backend):
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = np.array([3.0, 2.0, 1.0])
    np_fn = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
             "gt": np.greater, "ge": np.greater_equal}[op]
    pyop = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}[op]
    for layout in LAYOUTS:
        ta, tb = make_tensor(a, layout), make_tensor(b, layout)
        expected = np_fn(a, b).astype(np.float64)
        np.testing.assert_array_equal(getattr(pydl, op)(ta, tb).numpy(), expected)
        np.testing.assert_array_equal(getattr(ta, pyop)(tb).numpy(), expected)
        np.testing.assert_array_equal(getattr(ta, pyop)(2.0).numpy(), np_fn(a, 2.0).astype(np.float64))


def test_comparisons_carry_no_gradient():
    a = pydl.tensor([1.0, 2.0], requires_grad=True)
    c = a > 1.5
    assert not c.requires_grad and c.grad_fn is None
    assert c.dtype == pydl.float32


def test_tensors_are_hashable_by_identity():
    a, b = pydl.tensor([1.0]), pydl.tensor([1.0])
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2


# ---------------------------------------------------------------- in place
def test_inplace_on_plain_tensor(backend):
    t = pydl.tensor([[1.0, 2.0], [3.0, 4.0]])
    alias = t
    t += 1.0
    t *= pydl.tensor([2.0, 3.0])
    t -= 1.0
    t /= 2.0
    assert t._same(alias)  # the same tensor, updated in place
    np.testing.assert_allclose(t.numpy(), ((np.array([[1, 2], [3, 4.0]]) + 1) * [2, 3] - 1) / 2)


def test_inplace_through_a_view_changes_the_base():
    base = pydl.zeros(3, 4)
    col = base[:, 1]
    col += 5.0
    expected = np.zeros((3, 4))
    expected[:, 1] = 5
    np.testing.assert_array_equal(base.numpy(), expected)
    base[::2, 2:] = pydl.tensor([7.0, 8.0])
    expected[::2, 2:] = [7, 8]
    np.testing.assert_array_equal(base.numpy(), expected)


def test_inplace_with_overlapping_source():
    t = pydl.arange(6.0)
    t[1:] = t[:-1]  # source overlaps the destination: must behave like a copy first
    np.testing.assert_array_equal(t.numpy(), [0, 0, 1, 2, 3, 4])
    u = pydl.arange(4.0).reshape(2, 2)
    u += u.T
    np.testing.assert_array_equal(u.numpy(), [[0, 3], [3, 6]])


def test_inplace_refused_on_leaf_requiring_grad():
    w = pydl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_.*\(2,\)"):
        w += 1.0
    with pytest.raises(RuntimeError, match="requires grad"):
        w.mul_(2.0)
    with pytest.raises(RuntimeError):
        w.fill_(0.0)
    np.testing.assert_array_equal(w.detach().numpy(), [1, 2])  # nothing half-updated


def test_inplace_refuses_a_source_that_requires_grad():
    # In-place updates record no graph: writing a tensor that requires grad into another would
    # silently drop its gradient, so it is an error (the out-of-place form keeps it).
    w = pydl.tensor([5.0, 6.0], requires_grad=True)
    t = pydl.zeros(3)
    with pytest.raises(RuntimeError, match=r"t\[key\] = value.*\(2,\).*gradient would be lost"):
        t[1:] = w
    with pytest.raises(RuntimeError, match=r"add_.*requires grad.*\(3,\)"):
        t += pydl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    np.testing.assert_array_equal(t.numpy(), [0, 0, 0])  # nothing written
    t[1:] = w.detach()  # a detached value, or any value under no_grad, is fine
    with pydl.no_grad():
        t += w.sum()
    np.testing.assert_array_equal(t.numpy(), [11, 16, 17])
    u = pydl.concatenate([pydl.zeros(1), w])  # the out-of-place form keeps the gradient
    u.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1, 1])


def test_inplace_allowed_under_no_grad():
    w = pydl.tensor([1.0, 2.0], requires_grad=True)
    with pydl.no_grad():
        w -= 0.5
        w.mul_(2.0)
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 3.0])
    assert w.requires_grad and w.is_leaf and w.grad_fn is None


def test_inplace_shape_that_would_grow_is_refused():
    t = pydl.zeros(3)
    with pytest.raises(ValueError, match=r"add_.*\(3,\).*\(2, 3\)"):
        t += pydl.zeros(2, 3)


def test_inplace_casts_other_dtype():
    t = pydl.zeros(2, dtype=pydl.float32)
    t += pydl.tensor([1.5, 2.5], dtype=pydl.float64)
    assert t.dtype == pydl.float32
    np.testing.assert_array_equal(t.numpy(), [1.5, 2.5])


def test_fill_zero_copy():
    t = pydl.ones(2, 3)
    t.zero_()
    assert np.all(t.numpy() == 0)
    t.fill_(2.5)
    assert np.all(t.numpy() == 2.5)
    t.copy_(pydl.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [1, 2, 3]])


# ---------------------------------------------------------------- dtype conversion
def test_to_float64_and_back(backend):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    for layout in LAYOUTS:
        t = make_tensor(x, layout, pydl.float32)
        d = t.to(pydl.float64)
        assert d.dtype == pydl.float64 and d.shape == (3, 4)
        np.testing.assert_array_equal(d.numpy(), x.astype(np.float64))
        f = d.to(pydl.float32)
        assert f.dtype == pydl.float32
        np.testing.assert_array_equal(f.numpy(), x)
    assert t.to(pydl.float32)._same(t)  # same dtype: no copy
    assert t.to("float64").dtype == pydl.float64
    assert t.to(np.float64).dtype == pydl.float64
    assert t.double().dtype == pydl.float64 and t.double().float().dtype == pydl.float32


def test_to_dtype_is_differentiable():
    x = pydl.tensor([1.0, 2.0], dtype=pydl.float32, requires_grad=True)
    y = (x.to(pydl.float64) * pydl.tensor([3.0, 4.0], dtype=pydl.float64)).sum()
    y.backward()
    assert x.grad.dtype == pydl.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3, 4])


def test_scalar_operands_take_the_tensor_dtype():
    t64 = pydl.tensor([1.0], dtype=pydl.float64)
    assert (t64 + 1).dtype == pydl.float64
    assert (1 + t64).dtype == pydl.float64
    assert (pydl.tensor([1.0]) * 2.5).dtype == pydl.float32


def test_elementwise_on_empty_tensor():
    t = pydl.zeros(0, 3)
    assert (t + 1).shape == (0, 3)
    assert pydl.exp(t).shape == (0, 3)


def test_large_tensor_fast_path_matches_numpy(backend):
    # large enough to take the parallel, tiled path of the fast kernels
    a = np.random.default_rng(1).standard_normal((300, 301))
    b = np.random.default_rng(2).standard_normal((301,))
    ta, tb = pydl.tensor(a, dtype=pydl.float64), pydl.tensor(b, dtype=pydl.float64)
    np.testing.assert_allclose((ta * tb).numpy(), a * b, rtol=1e-15)
    np.testing.assert_allclose((ta.T + 1).numpy(), a.T + 1, rtol=1e-15)
    np.testing.assert_allclose(pydl.exp(ta[::2, 1::3]).numpy(), np.exp(a[::2, 1::3]), rtol=1e-14)


def test_check_backward_layouts_cover_noncontiguous():
    # the layouts the helper uses really are non-contiguous tensors
    from conftest import as_layout
    x = np.arange(12.0).reshape(3, 4)
    for layout in ("strided", "transposed", "permuted", "offset"):
        t = pydl.from_numpy(as_layout(x, layout))
        assert not t.is_contiguous(), layout
        np.testing.assert_array_equal(t.numpy(), x)
    check_backward(lambda a: a * a, [x])


def test_inplace_into_broadcast_view_is_refused():
    # every row of the view is the same memory: `+=` would add several times (racing in parallel)
    base = pydl.zeros(3)
    view = base.broadcast_to(2, 3)
    with pytest.raises(RuntimeError, match=r"add_.*broadcast view.*\(2, 3\)"):
        view += 1.0
    with pytest.raises(RuntimeError, match="copy_.*broadcast"):
        view.copy_(pydl.ones(2, 3))
    np.testing.assert_array_equal(base.numpy(), [0, 0, 0])
    assert not view.numpy().flags.writeable  # as np.broadcast_to's result
    one = pydl.zeros(1)
    ok = one.broadcast_to(1, 1)  # stride 0 on a size-1 axis holds one element: fine
    ok += 2.0
    assert one.item() == 2.0
