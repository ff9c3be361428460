"""The Tensor itself: creation, metadata, NumPy interop (zero-copy both ways), repr."""
import numpy as np
import pytest

import pydl


def test_tensor_from_data_copies_and_defaults_to_float32():
    a = np.array([[1, 2], [3, 4]], dtype=np.int64)
    t = pydl.tensor(a)
    assert t.dtype == pydl.float32 and t.shape == (2, 2) and t.ndim == 2 and t.size == 4
    np.testing.assert_array_equal(t.numpy(), a)
    a[0, 0] = 100
    assert t.numpy()[0, 0] == 1  # a copy
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


def test_from_numpy_copies_when_it_must():
    rev = np.arange(5.0)[::-1]  # negative stride: cannot be viewed
    t = pydl.from_numpy(rev)
    np.testing.assert_array_equal(t.numpy(), rev)
    swapped = np.arange(3.0).astype(">f8")  # non-native byte order
    np.testing.assert_array_equal(pydl.from_numpy(swapped).numpy(), [0, 1, 2])


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
    assert pydl.as_tensor([1, 2]).dtype == pydl.float32
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
