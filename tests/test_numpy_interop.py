"""NumPy at the tensor boundary: what t.numpy(), np.asarray(t) and memoryview(t) hand out (and
refuse), what from_numpy accepts, and NumPy's operators and ufuncs on tensors (__array_ufunc__)."""
import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

import pydl

DETACH = r"detach\(\)\.numpy\(\)"


# ---------------------------------------------------------------- exports of tensors that require grad
def test_numpy_and_asarray_of_a_tensor_that_requires_grad_raise_naming_detach():
    w = pydl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=DETACH):
        w.numpy()
    with pytest.raises(RuntimeError, match=DETACH):
        np.asarray(w)
    with pytest.raises(RuntimeError, match=DETACH):
        np.array(w)
    with pytest.raises(BufferError) as info:  # the buffer protocol (memoryview, bytes(...), ...)
        memoryview(w)
    assert "detach().numpy()" in str(info.value.__cause__)
    y = w * 3  # a non-leaf requires grad too
    with pytest.raises(RuntimeError, match=DETACH):
        y.numpy()
    # the advice works, and shares memory
    d = w.detach().numpy()
    np.testing.assert_array_equal(d, [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(y.detach()), [3.0, 6.0])


def test_item_and_tolist_work_on_tensors_that_require_grad():
    w = pydl.tensor([1.5, -2.0], requires_grad=True)
    assert w.tolist() == [1.5, -2.0]
    assert (w * 2).tolist() == [3.0, -4.0]
    assert (w * w).sum().item() == 1.5 ** 2 + 4.0
    assert float(w[0]) == 1.5


def test_writing_through_numpy_into_an_input_saved_for_backward_is_refused():
    # d/dw sum(2 * w * x) = 2 * x = 14 for x = 7. Writing x = 1 through NumPy between forward
    # and backward gave 2 on the old main, silently.
    w = pydl.tensor([3.0], requires_grad=True)
    x = pydl.tensor([7.0])
    loss = (w * x * 2.0).sum()
    a = x.numpy()
    assert not a.flags.writeable  # MulBackward saved x
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        np.asarray(x)[0] = 1.0
    assert memoryview(x).readonly
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [14.0])
    # the graph is freed: x can be written again
    b = x.numpy()
    assert b.flags.writeable
    b[0] = 1.0
    assert x.item() == 1.0


def test_saved_storage_stays_read_only_until_the_graph_dies():
    w = pydl.tensor([3.0], requires_grad=True)
    x = pydl.tensor([7.0])
    loss = (w * x).sum()
    assert not x.numpy().flags.writeable
    del loss  # nothing can run backward any more
    assert x.numpy().flags.writeable
    loss = (w * x).sum()
    loss.backward(retain_graph=True)  # a retained graph still holds x
    assert not x.numpy().flags.writeable


def test_broadcast_view_is_read_only_through_every_route():
    b = pydl.tensor([1.0, 2.0]).broadcast_to(3, 2)
    assert not b.numpy().flags.writeable
    assert not np.asarray(b).flags.writeable
    assert memoryview(b).readonly
    with pytest.raises(ValueError, match="read-only"):
        np.asarray(b)[0, 0] = 5.0
    plain = pydl.zeros(3)
    assert plain.numpy().flags.writeable and np.asarray(plain).flags.writeable and not memoryview(plain).readonly


def test_asarray_dtype_and_copy_arguments():
    t = pydl.tensor([1.0, 2.0])
    a = np.asarray(t, dtype=np.float64)
    assert a.dtype == np.float64 and a.tolist() == [1.0, 2.0]
    c = np.array(t, copy=True)
    c[0] = 9.0
    assert t.tolist() == [1.0, 2.0]


# ---------------------------------------------------------------- from_numpy of layouts it cannot share
@pytest.mark.parametrize("make", [
    lambda: as_strided(np.zeros(1), shape=(4,), strides=(0,)),                   # every element in one place
    lambda: as_strided(np.arange(10.0), shape=(4, 3), strides=(8, 8)),           # rows overlap
    lambda: as_strided(np.arange(10.0), shape=(3, 2, 2), strides=(16, 8, 8)),    # inner axes overlap
], ids=["zero-stride", "overlapping-rows", "overlapping-inner"])
def test_from_numpy_refuses_writeable_self_overlapping_arrays(make):
    a = make()
    assert a.flags.writeable
    with pytest.raises(ValueError, match=r"from_numpy: .*share memory.*pydl\.tensor\(arr\)") as info:
        pydl.from_numpy(a)
    assert str(a.shape).replace(" ", "") in str(info.value).replace(" ", "")
    # the documented way out copies, and then += applies once per element
    t = pydl.as_tensor(a)
    np.testing.assert_array_equal(t.numpy(), a)
    t += 1.0
    np.testing.assert_array_equal(t.numpy(), a + 1.0)


def test_from_numpy_copies_read_only_self_overlapping_arrays():
    base = np.arange(3.0)
    ro = as_strided(base, shape=(2, 3), strides=(0, 8), writeable=False)
    t = pydl.from_numpy(ro)
    t += 1.0  # the copy: every element once, base untouched
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [1, 2, 3]])
    np.testing.assert_array_equal(base, [0, 1, 2])


def test_from_numpy_shares_a_non_overlapping_strided_view_and_updates_each_element_once():
    base = np.zeros((4, 6))
    view = base[1:, ::2]  # strides (48, 16) bytes; the view ends before the buffer does
    t = pydl.from_numpy(view)
    assert t.shape == (3, 3) and t.strides == (6, 2)
    t += 1.0
    expected = np.zeros((4, 6))
    expected[1:, ::2] = 1.0
    np.testing.assert_array_equal(base, expected)
    # as_strided with gaps but no overlap is shared too
    b2 = np.zeros(12)
    g = as_strided(b2, shape=(3, 2), strides=(32, 8))
    pydl.from_numpy(g).add_(2.0)
    np.testing.assert_array_equal(b2, [2, 2, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0])


@pytest.mark.parametrize("view,extent", [
    (lambda b: b, 24 * 8),                     # the whole buffer
    (lambda b: b[1:, ::2], (2 * 6 + 2 * 2 + 1) * 8),  # last element at offset 16 from the view's start
    (lambda b: b[:, 5], (3 * 6 + 1) * 8),       # one column: 4 elements 6 apart
    (lambda b: b[:0], 0),                      # empty
    (lambda b: b.T, 24 * 8),                   # transposed: the same span
])
def test_from_numpy_borrows_exactly_the_bytes_the_view_reaches(view, extent):
    base = np.arange(24.0).reshape(4, 6)
    t = pydl.from_numpy(view(base))
    assert t._storage_nbytes == extent


def test_from_numpy_refuses_writeable_reversed_and_byte_swapped_arrays():
    rev = np.arange(5.0)[::-1]
    with pytest.raises(ValueError, match="from_numpy: .*negative stride"):
        pydl.from_numpy(rev)
    swapped = np.arange(3.0).astype(">f8")
    with pytest.raises(ValueError, match="from_numpy: .*byte order"):
        pydl.from_numpy(swapped)
    # as_tensor (no promise to share) copies them
    np.testing.assert_array_equal(pydl.as_tensor(rev).numpy(), [4, 3, 2, 1, 0])
    np.testing.assert_array_equal(pydl.as_tensor(swapped).numpy(), [0, 1, 2])
    # a read-only reversed array is copied by from_numpy, as every read-only array is
    ro = np.arange(4.0)[::-1]
    ro.flags.writeable = False
    np.testing.assert_array_equal(pydl.from_numpy(ro).numpy(), [3, 2, 1, 0])


def test_a_size_one_axis_with_an_odd_stride_is_still_shared():
    base = np.zeros((1, 3))
    v = as_strided(base, shape=(1, 3), strides=(-8, 8))  # the stride of a size-1 axis is never used
    t = pydl.from_numpy(v)
    t += 1.0
    np.testing.assert_array_equal(base, [[1, 1, 1]])


# ---------------------------------------------------------------- NumPy operators and ufuncs on tensors
def _leaf(values):
    return pydl.tensor(values, dtype=pydl.float64, requires_grad=True)


@pytest.mark.parametrize("fn,grad", [
    (lambda a, t: a + t, lambda a, w: np.ones_like(w)),
    (lambda a, t: a - t, lambda a, w: -np.ones_like(w)),
    (lambda a, t: a * t, lambda a, w: a),
    (lambda a, t: a / t, lambda a, w: -a / w ** 2),
    (lambda a, t: a ** t, lambda a, w: a ** w * np.log(a)),
    (lambda a, t: np.maximum(a, t), lambda a, w: (w > a).astype(float)),
    (lambda a, t: np.minimum(a, t), lambda a, w: (w < a).astype(float)),
    (lambda a, t: np.multiply(t, a), lambda a, w: a),
], ids=["add", "sub", "mul", "div", "pow", "maximum", "minimum", "multiply"])
def test_ndarray_with_tensor_keeps_the_graph(fn, grad):
    a = np.array([3.0, 0.5, 2.0])
    wv = np.array([1.5, 2.0, -1.0])
    w = _leaf(wv)
    y = fn(a, w)
    assert isinstance(y, pydl.Tensor) and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), grad(a, wv), rtol=1e-12)


@pytest.mark.parametrize("ufunc,d", [
    (np.exp, np.exp), (np.log, lambda x: 1 / x), (np.sqrt, lambda x: 0.5 / np.sqrt(x)),
    (np.tanh, lambda x: 1 - np.tanh(x) ** 2), (np.square, lambda x: 2 * x), (np.negative, lambda x: -np.ones_like(x)),
    (np.abs, np.sign),
])
def test_unary_ufuncs_keep_the_graph(ufunc, d):
    xv = np.array([0.5, 1.5, 3.0])
    x = _leaf(xv)
    y = ufunc(x)
    assert isinstance(y, pydl.Tensor)
    np.testing.assert_allclose(y.detach().numpy(), ufunc(xv), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), d(xv), rtol=1e-12)


def test_ndarray_matmul_and_comparisons_give_tensors():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = _leaf([[1.0], [-1.0]])
    y = a @ w
    assert isinstance(y, pydl.Tensor) and y.shape == (2, 1)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), a.sum(axis=0).reshape(2, 1))
    t = pydl.tensor([1.0, 5.0])
    c = np.array([2.0, 2.0]) < t
    assert isinstance(c, pydl.Tensor) and c.tolist() == [0.0, 1.0]


def test_numpy_reductions_call_the_tensor_methods():
    x = _leaf([1.0, 2.0, 4.0])
    s = np.sum(x)
    m = np.mean(x)
    assert isinstance(s, pydl.Tensor) and isinstance(m, pydl.Tensor)
    (s + m).backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 + 1 / 3] * 3)


def test_unsupported_ufuncs_and_arguments_raise_with_a_hint():
    x = _leaf([0.5, 1.0])
    with pytest.raises(TypeError, match=r"np\.sin: not supported.*detach\(\)\.numpy\(\)"):
        np.sin(x)
    with pytest.raises(TypeError, match=r"np\.add\.reduce"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match=r"np\.add.*where"):
        np.add(x, 1.0, where=np.array([True, False]))
    a = np.zeros(2)
    with pytest.raises(TypeError, match=r"np\.add\(\.\.\., out=array\).*graph"):
        np.add(a, x, out=a)
    with pytest.raises(TypeError, match=r"out= must be a NumPy array"):
        np.exp(np.zeros(2), out=pydl.zeros(2))


def test_out_array_is_written_when_no_gradient_is_lost():
    a = np.array([1.0, 2.0])
    t = pydl.tensor([10.0, 20.0], dtype=pydl.float64)
    a += t
    np.testing.assert_array_equal(a, [11.0, 22.0])
    assert isinstance(a, np.ndarray)


def test_matmul_backward_with_a_zero_strided_1x1_gradient_does_not_crash():
    # a (1, 1) gradient with strides (0, 0) (what broadcast_to makes) sent GEMM a null pointer:
    # a segfault on the old main, on both backends
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        a = pydl.tensor([[1.0, 2.0]], dtype=pydl.float64, requires_grad=True)
        b = pydl.tensor([[3.0], [4.0]], dtype=pydl.float64, requires_grad=True)
        g = pydl.tensor(2.0, dtype=pydl.float64).broadcast_to(1, 1)
        assert g.strides == (0, 0)
        (a @ b).backward(g)
        np.testing.assert_array_equal(a.grad.numpy(), [[6.0, 8.0]])  # g * b.T
        np.testing.assert_array_equal(b.grad.numpy(), [[2.0], [4.0]])  # a.T * g
