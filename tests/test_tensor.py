"""The Tensor itself: creation, metadata, NumPy interop (zero-copy both ways), repr."""
import numpy as np
import pytest

import pydl


def test_tensor_from_data_copies_and_defaults_to_float32():
    # integers make int64 tensors, as PyTorch (issue 9); floats default to float32
    a = np.array([[1, 2], [3, 4]], dtype=np.int64)
    t = pydl.tensor(a)
    assert t.dtype == pydl.int64 and t.shape == (2, 2) and t.ndim == 2 and t.size == 4
    np.testing.assert_array_equal(t.numpy(), a)
    a[0, 0] = 100
    assert t.numpy()[0, 0] == 1  # a copy
    t = pydl.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert t.dtype == pydl.float32
    assert pydl.tensor([1.0, 2.0], dtype=pydl.float64).dtype == pydl.float64
    assert pydl.tensor(3.5).shape == ()
    assert pydl.tensor(3.5).item() == 3.5
    assert pydl.tensor([True, False]).tolist() == [1.0, 0.0]
    u = pydl.tensor(t)  # from a tensor: a copy, same dtype
    assert u.dtype == pydl.float32 and not u._same(t)


def test_creation_functions():
    np.testing.assert_array_equal(pydl.zeros(2, 3).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(pydl.zeros((2, 3)).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(pydl.ones([2]).numpy(), np.ones(2))
    np.testing.assert_array_equal(pydl.full((2, 2), 7.0).numpy(), np.full((2, 2), 7.0))
    np.testing.assert_array_equal(pydl.arange(5.0).numpy(), np.arange(5.0))
    np.testing.assert_allclose(pydl.arange(1, 2, 0.25).numpy(), np.arange(1, 2, 0.25))
    np.testing.assert_array_equal(pydl.arange(5, 0, -2).numpy(), [5, 3, 1])
    np.testing.assert_array_equal(pydl.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(pydl.eye(2, 3, dtype=pydl.float64).numpy(), np.eye(2, 3))
    assert pydl.empty(4, 5).shape == (4, 5)
    assert pydl.zeros(2, dtype=pydl.float64).dtype == pydl.float64
    assert pydl.zeros(0, 3).shape == (0, 3) and pydl.zeros(0, 3).numel() == 0
    assert pydl.zeros().shape == ()
    x = pydl.zeros(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    assert pydl.zeros_like(x).shape == (3,) and pydl.ones_like(x, dtype=pydl.float64).dtype == pydl.float64


def test_metadata():
    t = pydl.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.dim() == 3 and t.numel() == 24 and len(t) == 2
    assert t.strides == (12, 4, 1) and t.is_contiguous()
    tt = t.transpose(0, 2)
    assert tt.strides == (1, 4, 12) and not tt.is_contiguous()
    assert t[:, ::2].strides == (12, 8, 1)
    assert t.device == "cpu"
    assert pydl.zeros(1, 3).T.is_contiguous()  # size-1 axes' strides do not matter
    assert pydl.float32.itemsize == 4 and pydl.float64.itemsize == 8


def test_from_numpy_shares_memory_both_ways():
    a = np.zeros((2, 3), dtype=np.float32)
    t = pydl.from_numpy(a)
    a[0, 1] = 5.0
    assert t.numpy()[0, 1] == 5.0
    t[1, 2] = 7.0
    assert a[1, 2] == 7.0
    assert t.dtype == pydl.float32


def test_from_numpy_keeps_strides_of_views():
    base = np.arange(24.0).reshape(4, 6)
    view = base[::2, 1::2].T
    t = pydl.from_numpy(view)
    assert not t.is_contiguous()
    np.testing.assert_array_equal(t.numpy(), view)
    t[0, 0] = -1.0
    assert base[0, 1] == -1.0


def test_from_numpy_refuses_what_it_cannot_share_and_as_tensor_copies_it():
    # from_numpy promises shared memory: a silent copy would let writes through the tensor miss
    # the array. (test_numpy_interop.py covers the layouts one by one.)
    rev = np.arange(5.0)[::-1]  # negative stride: cannot be viewed
    with pytest.raises(ValueError, match="from_numpy"):
        pydl.from_numpy(rev)
    np.testing.assert_array_equal(pydl.as_tensor(rev).numpy(), rev)
    swapped = np.arange(3.0).astype(">f8")  # non-native byte order
    with pytest.raises(ValueError, match="from_numpy"):
        pydl.from_numpy(swapped)
    np.testing.assert_array_equal(pydl.as_tensor(swapped).numpy(), [0, 1, 2])


def test_from_numpy_copies_read_only_arrays():
    # writing through the tensor must never reach read-only memory (broadcast views, mmaps)
    base = np.ones(1)
    ro = np.broadcast_to(base, (3,))
    t = pydl.from_numpy(ro)
    t.fill_(5.0)
    assert base[0] == 1.0
    np.testing.assert_array_equal(t.numpy(), [5, 5, 5])
    frozen = np.arange(4.0)
    frozen.flags.writeable = False
    t2 = pydl.from_numpy(frozen)
    t2 += 1.0
    np.testing.assert_array_equal(frozen, [0, 1, 2, 3])


def test_from_numpy_keeps_the_array_alive():
    t = pydl.from_numpy(np.arange(1000.0))
    import gc
    gc.collect()
    assert t.numpy()[999] == 999.0


def test_numpy_and_asarray_share_memory():
    t = pydl.zeros(2, 3)
    n = t.numpy()
    a = np.asarray(t)
    m = memoryview(t)
    n[0, 0] = 1.0
    assert t.numpy()[0, 0] == 1.0 and a[0, 0] == 1.0
    a[1, 1] = 2.0
    assert n[1, 1] == 2.0
    assert np.shares_memory(n, a)
    assert m.shape == (2, 3) and m.format == "f"
    # a transposed view comes back with the matching NumPy strides, no copy
    tt = t.T
    assert np.shares_memory(tt.numpy(), n)
    np.testing.assert_array_equal(tt.numpy(), n.T)


def test_numpy_keeps_the_storage_alive():
    arr = pydl.arange(100.0).numpy()
    import gc
    gc.collect()
    assert arr[99] == 99.0


def test_as_tensor():
    a = np.ones(3, dtype=np.float32)
    t = pydl.as_tensor(a)
    a[0] = 9
    assert t.numpy()[0] == 9
    assert pydl.as_tensor(t)._same(t)
    assert pydl.as_tensor([1.0, 2]).dtype == pydl.float32
    assert pydl.as_tensor([1, 2]).dtype == pydl.int64  # ints are int64, as PyTorch (issue 9)
    assert pydl.as_tensor(a, dtype=pydl.float64).dtype == pydl.float64


def test_repr_shows_values_shape_dtype_grad_fn():
    t = pydl.tensor([[1.0, 2.5], [3.0, 4.0]])
    r = repr(t)
    assert "1." in r and "2.5" in r and "4." in r
    assert "shape=(2, 2)" in r and "dtype=float32" in r and "grad_fn" not in r
    w = pydl.tensor([1.0], dtype=pydl.float64, requires_grad=True)
    assert "requires_grad=True" in repr(w) and "float64" in repr(w)
    y = w * 2
    assert "grad_fn=<MulBackward>" in repr(y)
    assert "grad_fn=<AddBackward>" in str(w + 1)
    assert repr(pydl.float32) == "pydl.float32"
    big = repr(pydl.zeros(1000))
    assert "..." in big and len(big) < 2000  # summarised


def test_repr_of_noncontiguous_view_shows_its_values():
    t = pydl.arange(6.0).reshape(2, 3).T
    r = repr(t)
    assert "shape=(3, 2)" in r
    assert r.replace(" ", "").startswith("tensor([[0.,3.],")


def test_item_float_bool():
    assert pydl.tensor([[2.5]]).item() == 2.5
    assert float(pydl.tensor(1.5)) == 1.5
    assert bool(pydl.tensor(1.0)) and not bool(pydl.tensor([0.0]))


def test_clone_is_a_deep_copy():
    t = pydl.arange(4.0)
    c = t.clone()
    c[0] = 100.0
    assert t.numpy()[0] == 0.0


def test_float64_roundtrip_is_exact():
    x = np.random.default_rng(0).standard_normal(100)
    np.testing.assert_array_equal(pydl.tensor(x, dtype=pydl.float64).numpy(), x)


@pytest.mark.parametrize("shape", [(), (0,), (1,), (3, 0, 2), (2, 3, 4, 5)])
def test_shapes_roundtrip(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    t = pydl.tensor(x, dtype=pydl.float64)
    assert t.shape == shape
    np.testing.assert_array_equal(t.numpy(), x)


# ---------------------------------------------------------------- float32 with float64: promotion
def _pair():
    a = pydl.tensor([0.5, 2.0, 3.0], dtype=pydl.float32, requires_grad=True)
    b = pydl.tensor([1.5, 0.25, 2.0], dtype=pydl.float64, requires_grad=True)
    return a, b


# (pydl op, NumPy forward in float64, d/da and d/db of sum(op(a, b)) by hand)
PROMOTED = {
    "add": (lambda a, b: a + b, np.add, lambda a, b: (np.ones_like(a), np.ones_like(b))),
    "sub": (lambda a, b: a - b, np.subtract, lambda a, b: (np.ones_like(a), -np.ones_like(b))),
    "mul": (lambda a, b: a * b, np.multiply, lambda a, b: (b, a)),
    "div": (lambda a, b: a / b, np.divide, lambda a, b: (1 / b, -a / b ** 2)),
    "pow": (lambda a, b: a ** b, np.power, lambda a, b: (b * a ** (b - 1), a ** b * np.log(a))),
    "maximum": (pydl.maximum, np.maximum, lambda a, b: ((a > b) * 1.0, (b > a) * 1.0)),
    "minimum": (pydl.minimum, np.minimum, lambda a, b: ((a < b) * 1.0, (b < a) * 1.0)),
    "where": (lambda a, b: pydl.where(pydl.tensor([1.0, 0.0, 1.0]), a, b),
              lambda a, b: np.where([True, False, True], a, b),
              lambda a, b: (np.array([1.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]))),
    "pydl.add": (pydl.add, np.add, lambda a, b: (np.ones_like(a), np.ones_like(b))),
    "pydl.mul(b, a)": (lambda a, b: pydl.mul(b, a), np.multiply, lambda a, b: (b, a)),
    "radd (b + a)": (lambda a, b: b + a, np.add, lambda a, b: (np.ones_like(a), np.ones_like(b))),
}


@pytest.mark.parametrize("name", list(PROMOTED))
def test_float32_with_float64_promotes_and_each_gradient_keeps_its_dtype(name):
    op, np_op, grads = PROMOTED[name]
    a, b = _pair()
    y = op(a, b)
    assert y.dtype == pydl.float64
    av, bv = np.array([0.5, 2.0, 3.0]), np.array([1.5, 0.25, 2.0])  # float32-exact values
    np.testing.assert_allclose(y.detach().numpy(), np_op(av, bv), rtol=1e-12)
    y.sum().backward()
    ga, gb = grads(av, bv)
    assert a.grad.dtype == pydl.float32 and b.grad.dtype == pydl.float64
    np.testing.assert_allclose(a.grad.numpy(), ga, rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), gb, rtol=1e-12)


@pytest.mark.parametrize("cmp,np_cmp", [(lambda a, b: a < b, np.less), (lambda a, b: a >= b, np.greater_equal),
                                        (lambda a, b: a == b, np.equal), (lambda a, b: pydl.ne(a, b), np.not_equal),
                                        (lambda a, b: pydl.gt(b, a), lambda a, b: np.greater(b, a))])
def test_comparisons_promote(cmp, np_cmp):
    a = pydl.tensor([0.1, 2.0, 3.0])  # 0.1 in float32 is not 0.1 in float64: compare in float64
    b = pydl.tensor([0.1, 1.0, 3.0], dtype=pydl.float64)
    c = cmp(a, b)
    assert c.dtype == pydl.float64
    expected = np_cmp(np.array([0.1, 2.0, 3.0], dtype=np.float32).astype(np.float64), np.array([0.1, 1.0, 3.0]))
    np.testing.assert_array_equal(c.numpy(), expected.astype(np.float64))


def test_matmul_promotes():
    av = np.array([[1.0, 2.0], [3.0, 4.0]])
    bv = np.array([[0.5], [-1.0]])
    a = pydl.tensor(av, requires_grad=True)
    b = pydl.tensor(bv, dtype=pydl.float64, requires_grad=True)
    for y in (a @ b, pydl.matmul(a, b), a.matmul(b)):
        assert y.dtype == pydl.float64
        np.testing.assert_allclose(y.detach().numpy(), av @ bv)
    (a @ b).sum().backward()
    assert a.grad.dtype == pydl.float32 and b.grad.dtype == pydl.float64
    np.testing.assert_allclose(a.grad.numpy(), np.ones((2, 1)) @ bv.T)
    np.testing.assert_allclose(b.grad.numpy(), av.T @ np.ones((2, 1)))


def test_python_numbers_and_arrays_take_the_tensors_dtype():
    a = pydl.tensor([1.0, 2.0])
    assert (a * 2.0).dtype == pydl.float32 and (2.0 * a).dtype == pydl.float32 and (a ** 2).dtype == pydl.float32
    assert (a + 1).dtype == pydl.float32 and pydl.maximum(a, 0.5).dtype == pydl.float32
    d = pydl.tensor([1.0, 2.0], dtype=pydl.float64)
    assert (d * 2.0).dtype == pydl.float64 and (3 - d).dtype == pydl.float64
    # a NumPy array operand becomes a tensor of the other operand's dtype (documented in README)
    assert (a + np.ones(2)).dtype == pydl.float32 and (np.ones(2) + a).dtype == pydl.float32
    assert (d * np.ones(2, dtype=np.float32)).dtype == pydl.float64


def test_in_place_ops_keep_the_destinations_dtype():
    a = pydl.tensor([1.0, 2.0])
    a += pydl.tensor([0.5, 0.25], dtype=pydl.float64)
    assert a.dtype == pydl.float32
    np.testing.assert_array_equal(a.numpy(), [1.5, 2.25])
