"""The int64 dtype (issue 9): integer data becomes int64 tensors as in PyTorch, moves through the
shape ops and converts both ways, is refused by every float op (TypeError naming the op), never
requires grad, serves as labels; argmax/argmin return it; integer indexing (t[idx], pydl.take,
pydl.gather) with a scatter-add backward into the float source. Expected values come from NumPy."""
import numpy as np
import pytest

import pydl
from pydl import functional as F
from pydl import layers as L
from pydl.utils import gradcheck


# ---------------------------------------------------------------- the dtype
@pytest.mark.parametrize("data", [[1, 2, 3], [[1, 2], [3, 4]], np.array([1, 2], dtype=np.int32),
                                  np.array([7], dtype=np.uint8), np.array([[-3]], dtype=np.int16),
                                  np.arange(4, dtype=np.uint64), 5, np.int64(5)])
def test_integers_make_int64_tensors(data):
    t = pydl.tensor(data)
    assert t.dtype == pydl.int64 and t.dtype.itemsize == 8 and str(t.dtype) == "pydl.int64"
    want = np.asarray(data).astype(np.int64)
    assert t.numpy().dtype == np.int64
    np.testing.assert_array_equal(t.numpy(), want)


@pytest.mark.parametrize("data", [[1, 2.5], [[1, 2], [3, 4.0]], np.array([1.0, 2.0]), np.array([True, False]), 2.0])
def test_floats_and_bools_stay_float32(data):
    assert pydl.tensor(data).dtype == pydl.float32


def test_int64_values_are_exact_and_convert_both_ways():
    big = 2 ** 53 + 1  # not a double
    t = pydl.tensor([big, -big])
    assert t[0].item() == big and isinstance(t[0].item(), int) and int(t[1]) == -big
    assert t.tolist() == [big, -big]
    f = pydl.tensor([[1.9, -1.9], [2.5, -0.5]])
    i = f.to(pydl.int64)
    np.testing.assert_array_equal(i.numpy(), np.trunc(f.numpy()).astype(np.int64))  # toward zero, as PyTorch
    np.testing.assert_array_equal(i.to(pydl.float64).numpy(), [[1.0, -1.0], [2.0, 0.0]])
    assert i.to(pydl.float32).dtype == pydl.float32 and f.long().dtype == pydl.int64
    for bad in (np.nan, np.inf, 1e19):
        with pytest.raises(ValueError, match="int64"):
            pydl.tensor([bad]).to(pydl.int64)
        with pytest.raises(ValueError, match="int64"):
            pydl.tensor([bad], dtype=pydl.int64)
    assert pydl.tensor(np.array([1.7, -1.7]), dtype="int64").tolist() == [1, -1]
    with pytest.raises(TypeError, match="int64"):
        pydl.tensor([1], dtype=np.int32)  # one integer dtype: int64


def test_a_float_tensor_with_grad_becomes_int64_without_a_graph():
    w = pydl.tensor([1.5, 2.5], requires_grad=True)
    i = w.to(pydl.int64)
    assert i.dtype == pydl.int64 and not i.requires_grad and i.grad_fn is None


def test_repr_and_shape_ops_move_int64_data():
    a = np.arange(12).reshape(3, 4) - 5
    t = pydl.tensor(a)
    assert "dtype=int64" in repr(t) and "-5" in repr(t)
    np.testing.assert_array_equal(t.reshape(4, 3).numpy(), a.reshape(4, 3))
    np.testing.assert_array_equal(t.view(12).numpy(), a.reshape(12))
    np.testing.assert_array_equal(t.transpose(0, 1).numpy(), a.T)
    np.testing.assert_array_equal(t.T.contiguous().numpy(), a.T)
    np.testing.assert_array_equal(t[1:, ::2].numpy(), a[1:, ::2])
    np.testing.assert_array_equal(t[-1].numpy(), a[-1])
    np.testing.assert_array_equal(pydl.concatenate([t, t], axis=1).numpy(), np.concatenate([a, a], 1))
    np.testing.assert_array_equal(pydl.stack([t, t]).numpy(), np.stack([a, a]))
    np.testing.assert_array_equal(t.clone().numpy(), a)
    np.testing.assert_array_equal(pydl.squeeze(t.unsqueeze(0)).numpy(), a)
    np.testing.assert_array_equal(t.flatten().numpy(), a.reshape(-1))
    np.testing.assert_array_equal(np.asarray(t), a)
    c = t.clone()
    c[0] = 7
    c[1, 1:3] = pydl.tensor([8, 9])
    want = a.copy()
    want[0] = 7
    want[1, 1:3] = [8, 9]
    np.testing.assert_array_equal(c.numpy(), want)
    np.testing.assert_array_equal(pydl.zeros(2, 3, dtype=pydl.int64).numpy(), np.zeros((2, 3), np.int64))
    np.testing.assert_array_equal(pydl.full((2,), 4, dtype=pydl.int64).numpy(), [4, 4])
    np.testing.assert_array_equal(pydl.arange(5, dtype=pydl.int64).numpy(), np.arange(5))
    np.testing.assert_array_equal(pydl.eye(3, dtype=pydl.int64).numpy(), np.eye(3, dtype=np.int64))


def test_copy_deepcopy_and_pickle_keep_int64():
    import copy
    import pickle
    t = pydl.tensor([[1, 2], [3, 2 ** 40 + 1]])
    for c in (copy.copy(t), copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        assert c.dtype == pydl.int64 and c.tolist() == [[1, 2], [3, 2 ** 40 + 1]]


def test_from_numpy_shares_an_int64_array():
    a = np.array([1, 2, 3], dtype=np.int64)
    t = pydl.from_numpy(a)
    a[0] = 10
    assert t.dtype == pydl.int64 and t[0].item() == 10
    with pytest.raises(TypeError, match="int64"):
        pydl.from_numpy(np.array([1], dtype=np.int32))


# ---------------------------------------------------------------- no silent misuse
def _ids():
    return pydl.tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])


@pytest.mark.parametrize("name, fn", [
    ("add", lambda t: t + 1), ("add", lambda t: t + t), ("mul", lambda t: 2 * t), ("sub", lambda t: t - 1.5),
    ("div", lambda t: t / 2), ("neg", lambda t: -t), ("matmul", lambda t: t @ pydl.ones(4, 2)),
    ("matmul", lambda t: pydl.ones(2, 3) @ t), ("exp", lambda t: t.exp()), ("log", lambda t: pydl.log(t)),
    ("relu", lambda t: F.relu(t)), ("sigmoid", lambda t: t.sigmoid()), ("tanh", lambda t: t.tanh()),
    ("softmax", lambda t: t.softmax()), ("sum", lambda t: t.sum()), ("mean", lambda t: t.mean(axis=0)),
    ("max", lambda t: t.max()), ("var", lambda t: t.var()), ("eq", lambda t: t == t),
    ("clip", lambda t: t.clip(0, 1)), ("maximum", lambda t: pydl.maximum(t, t)), ("pow", lambda t: t ** 2),
    ("where", lambda t: pydl.where(pydl.ones(3, 4), t, t)),
    ("linear", lambda t: F.linear(t, pydl.ones(4, 2))),
    ("mse", lambda t: pydl.losses.mean_squared_error(pydl.zeros(3, 4), t)),
    ("add_", lambda t: t.add_(1)),
    ("dropout", lambda t: F.dropout(t, 0.5, training=True)),
])
def test_float_ops_refuse_int64_naming_the_op(name, fn):
    with pytest.raises(TypeError, match=rf"{name}\w*: int64 tensor \(3, 4\) is not supported; convert with "
                                        r"\.to\(pydl\.float32\)"):
        fn(_ids())


def test_conv_pool_rnn_and_layers_refuse_int64():
    img = pydl.tensor(np.ones((1, 1, 4, 4), dtype=np.int64))
    with pytest.raises(TypeError, match="conv2d: int64"):
        F.conv2d(img, pydl.ones(1, 1, 3, 3))
    with pytest.raises(TypeError, match="max_pool2d: int64"):
        F.max_pool2d(img, 2)
    seq = pydl.tensor(np.ones((2, 3, 4), dtype=np.int64))
    with pytest.raises(TypeError, match="int64"):
        L.LSTM(2)(seq)
    with pytest.raises(TypeError, match="int64"):
        L.Dense(2)(_ids())


def test_int64_never_requires_grad():
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        pydl.tensor([1, 2], requires_grad=True)
    t = pydl.tensor([1, 2])
    with pytest.raises(RuntimeError, match="only floating point"):
        t.requires_grad = True
    with pytest.raises(RuntimeError, match="only floating point"):
        pydl.zeros(2, dtype=pydl.int64, requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        pydl.rand(2, dtype=pydl.int64)


def test_int64_labels_give_what_numpy_int_labels_give():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    y = rng.integers(0, 4, 6)
    pred = pydl.tensor(logits)
    for loss in (pydl.losses.SparseCategoricalCrossentropy(from_logits=True),
                 pydl.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)):
        a, b = loss(y, pred).item(), loss(pydl.tensor(y), pred).item()
        assert a == b
    # by hand: the mean of -log softmax at the label
    ls = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    np.testing.assert_allclose(pydl.losses.SparseCategoricalCrossentropy(from_logits=True)(pydl.tensor(y), pred).item(),
                               -ls[np.arange(6), y].mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="label 4"):
        pydl.losses.SparseCategoricalCrossentropy()(pydl.tensor([0, 4, 1, 1, 1, 1]), pred.softmax())
    m1, m2 = pydl.metrics.SparseCategoricalAccuracy(), pydl.metrics.SparseCategoricalAccuracy()
    m1.update_state(y, logits)
    m2.update_state(pydl.tensor(y), pred)
    assert m1.result() == m2.result() == np.mean(logits.argmax(1) == y)


# ---------------------------------------------------------------- argmax / argmin
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin_match_numpy(axis, keepdims):
    rng = np.random.default_rng(1)
    a = rng.integers(0, 3, (4, 5)).astype(np.float32)  # many ties: the first one wins
    a[2, 3] = np.nan
    for dt in (pydl.float32, pydl.float64, pydl.int64):
        src = np.nan_to_num(a, nan=5).astype(np.int64) if dt == pydl.int64 else a
        t = pydl.tensor(src, dtype=dt)
        for name in ("argmax", "argmin"):
            got = getattr(t, name)(axis=axis, keepdims=keepdims)
            want = getattr(np, name)(src, axis=axis, keepdims=keepdims)
            assert got.dtype == pydl.int64
            np.testing.assert_array_equal(got.numpy(), want)
            np.testing.assert_array_equal(getattr(pydl, name)(t, axis, keepdims).numpy(), want)


def test_argmax_bad_input():
    with pytest.raises(ValueError, match="argmax"):
        pydl.argmax(pydl.zeros(0))
    with pytest.raises(IndexError, match="argmax"):
        pydl.argmax(pydl.zeros(2, 3), axis=2)
    with pytest.raises(TypeError, match="argmin: axis"):
        pydl.argmin(pydl.zeros(2, 3), axis=(0, 1))


# ---------------------------------------------------------------- t[idx], take, gather
@pytest.mark.parametrize("idx", [pydl.tensor([2, 0, 2, -1]), np.array([2, 0, 2, -1], dtype=np.int32), [2, 0, 2, -1],
                                 np.array([[1, 1], [0, -3]])])
def test_integer_indexing_selects_rows_and_scatters_the_gradient(idx):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 2))
    ia = np.asarray(idx.numpy() if isinstance(idx, pydl.Tensor) else idx)
    x = pydl.tensor(a, dtype=pydl.float64, requires_grad=True)
    y = x[idx]
    np.testing.assert_array_equal(y.detach().numpy(), a[ia])
    gy = rng.standard_normal(a[ia].shape)
    y.backward(pydl.tensor(gy, dtype=pydl.float64))
    want = np.zeros_like(a)
    np.add.at(want, ia, gy)  # repeated rows accumulate
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12)


def test_integer_indexing_errors():
    x = pydl.zeros(3, 2)
    with pytest.raises(IndexError, match=r"index: index 3 is out of range for axis 0 with size 3 \(shape \(3, 2\)"):
        x[[0, 3]]
    with pytest.raises(IndexError, match="index -4 is out of range"):
        x[np.array([-4])]
    with pytest.raises(TypeError, match="must be integers.*float64"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(TypeError, match="must be integers.*float32 tensor"):
        x[pydl.tensor([0.0])]
    with pytest.raises(TypeError, match="setitem: assignment through integer-array indices"):
        x[[0, 1]] = 1.0
    with pytest.raises(TypeError, match="setitem"):
        x[pydl.tensor([0]), 0] = 1.0
    assert x[[]].shape == (0, 2)
    assert x[pydl.tensor(1)].shape == (2,)  # a 0-d index drops the axis, as NumPy


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_take_matches_numpy(axis):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4, 2))
    n = a.size if axis is None else a.shape[axis]
    idx = rng.integers(-n, n, (2, 5))
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        try:
            got = pydl.take(pydl.tensor(a, dtype=pydl.float64), pydl.tensor(idx), axis=axis)
        finally:
            pydl.set_backend("fast")
        np.testing.assert_array_equal(got.numpy(), np.take(a, idx, axis=axis))
    np.testing.assert_array_equal(pydl.take(pydl.tensor(a), 1, axis=1).numpy(), np.take(a.astype(np.float32), 1, axis=1))
    # a strided (transposed) source and a strided index
    tt = pydl.tensor(a[:, :, 0], dtype=pydl.float64).T
    it = pydl.tensor(np.array([[0, 2], [1, 1], [2, 0]])).T
    np.testing.assert_array_equal(pydl.take(tt, it, axis=0).numpy(), np.take(a[:, :, 0].T, [[0, 1, 2], [2, 1, 0]], 0))
    np.testing.assert_array_equal(pydl.gather(tt, 1, it).numpy(),
                                  np.take_along_axis(a[:, :, 0].T[:2], np.array([[0, 1, 2], [2, 1, 0]]), 1))
    ai = np.arange(6).reshape(2, 3)
    assert pydl.take(pydl.tensor(ai), [2, 0], axis=1).tolist() == np.take(ai, [2, 0], axis=1).tolist()


def _gather_reference(a, dim, idx):
    # PyTorch's gather: x cut to index's size on the other axes, then NumPy's take_along_axis
    cut = tuple(slice(None) if d == dim else slice(0, idx.shape[d]) for d in range(a.ndim))
    return np.take_along_axis(a[cut], idx, axis=dim)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_gather_matches_pytorchs_definition(dim):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 4, 5))
    d = dim % 3
    shape = [2, 3, 4]
    shape[d] = 6  # longer than the source along dim: repeats
    idx = rng.integers(0, a.shape[d], shape)
    x = pydl.tensor(a, dtype=pydl.float64, requires_grad=True)
    y = pydl.gather(x, dim, pydl.tensor(idx))
    np.testing.assert_array_equal(y.detach().numpy(), _gather_reference(a, d, idx))
    gy = rng.standard_normal(shape)
    y.backward(pydl.tensor(gy, dtype=pydl.float64))
    want = np.zeros_like(a)
    for pos in np.ndindex(*shape):
        src = list(pos)
        src[d] = idx[pos]
        want[tuple(src)] += gy[pos]
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12)
    # PyTorch's documented example
    t = pydl.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert pydl.gather(t, 1, [[0, 0], [1, 0]]).tolist() == [[1.0, 1.0], [4.0, 3.0]]


def test_gradcheck_take_gather_and_indexing():
    rng = np.random.default_rng(5)
    x = pydl.tensor(rng.standard_normal((4, 3)), dtype=pydl.float64, requires_grad=True)
    idx = pydl.tensor([[3, 0], [3, -1]])
    assert gradcheck(lambda t: pydl.take(t, idx, axis=0) * pydl.take(t, idx, axis=0), [x])
    assert gradcheck(lambda t: pydl.take(t, [2, 2, 0], axis=1).tanh(), [x])
    assert gradcheck(lambda t: t[[1, 1, 2]].sigmoid(), [x])
    gi = pydl.tensor(rng.integers(0, 4, (5, 3)))
    assert gradcheck(lambda t: pydl.gather(t, 0, gi) ** 2, [x])


def test_fast_and_reference_backwards_agree_on_a_large_take():
    rng = np.random.default_rng(6)
    w = rng.standard_normal((500, 16))
    idx = pydl.tensor(rng.integers(0, 500, (64, 40)))  # many repeats, the parallel path
    gy = pydl.tensor(rng.standard_normal((64, 40, 16)), dtype=pydl.float64)
    grads = []
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        try:
            x = pydl.tensor(w, dtype=pydl.float64, requires_grad=True)
            pydl.take(x, idx).backward(gy)
            grads.append(x.grad.numpy())
        finally:
            pydl.set_backend("fast")
    np.testing.assert_array_equal(grads[0], grads[1])  # the same order of additions: the same bits


def test_take_and_gather_bad_input():
    x = pydl.zeros(3, 2)
    with pytest.raises(IndexError, match=r"take: index 5 is out of range for axis 1 with size 2"):
        pydl.take(x, [5], axis=1)
    with pytest.raises(TypeError, match="take: indices must be integers.*float32"):
        pydl.take(x, pydl.tensor([0.0]))
    with pytest.raises(TypeError, match="take: indices must be integers.*float64"):
        pydl.take(x, [0.5])
    with pytest.raises(IndexError, match="take: axis 2 is out of range"):
        pydl.take(x, [0], axis=2)
    with pytest.raises(IndexError, match="gather: index -1 is out of range for axis 0 with size 3"):
        pydl.gather(x, 0, [[-1]])
    with pytest.raises(ValueError, match="gather: index must have the rank"):
        pydl.gather(x, 0, [0])
    with pytest.raises(ValueError, match=r"gather: index shape \(1, 3\) is larger than input shape \(3, 2\)"):
        pydl.gather(x, 0, [[0, 0, 0]])
