"""Shape ops and indexing: reshape view flatten transpose permute squeeze unsqueeze
broadcast_to concatenate stack, and t[int, slice, None, ..., negative]."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import pydl
from conftest import LAYOUTS, helper_test_op, make_tensor, st_arrays, st_shapes


@pytest.mark.parametrize("shape,new", [((2, 3, 4), (6, 4)), ((2, 3, 4), (-1,)), ((2, 3, 4), (4, -1, 2)),
                                       ((6,), (1, 6, 1)), ((), (1,)), ((1,), ())])
def test_reshape(shape, new, backend):
    helper_test_op([shape], lambda x: x.reshape(new), lambda x: x.reshape(new))
    helper_test_op([shape], lambda x: x.reshape(new), lambda x: x.reshape(*new), forward_only=True)
    helper_test_op([shape], lambda x: np.reshape(x, new), lambda x: pydl.reshape(x, new), forward_only=True)


def test_reshape_is_a_view_when_contiguous():
    t = pydl.arange(6.0)
    r = t.reshape(2, 3)
    r[1, 1] = 100.0
    assert t.numpy()[4] == 100.0
    v = t.view(3, 2)
    v[0, 0] = -1.0
    assert t.numpy()[0] == -1.0


def test_view_of_noncontiguous_raises_and_reshape_copies():
    t = pydl.arange(6.0).reshape(2, 3).T
    with pytest.raises(RuntimeError, match=r"view.*\(3, 2\).*contiguous"):
        t.view(6)
    np.testing.assert_array_equal(t.reshape(6).numpy(), np.arange(6.0).reshape(2, 3).T.reshape(6))


def test_view_backward():
    helper_test_op([(2, 3, 4)], lambda x: x.reshape(4, 6), lambda x: x.view(4, 6), layouts=["contiguous"],
                   forward_only=True)
    x = pydl.tensor(np.arange(6.0), dtype=pydl.float64, requires_grad=True)
    (x.view(2, 3) * pydl.tensor([[1.0, 2, 3], [4, 5, 6]], dtype=pydl.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3, 4, 5, 6])


@pytest.mark.parametrize("start,end", [(0, -1), (1, -1), (0, 1), (1, 2), (-2, -1)])
def test_flatten(start, end, backend):
    def np_flat(x):
        s, e = start % x.ndim, end % x.ndim
        return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])
    helper_test_op([(2, 3, 4)], np_flat, lambda x: x.flatten(start, end))
    helper_test_op([(2, 3, 4)], np_flat, lambda x: pydl.flatten(x, start, end), forward_only=True)


@pytest.mark.parametrize("a0,a1", [(0, 1), (-1, -2), (0, 2), (1, 1)])
def test_transpose(a0, a1, backend):
    helper_test_op([(2, 3, 4)], lambda x: np.swapaxes(x, a0, a1), lambda x: x.transpose(a0, a1))
    helper_test_op([(2, 3, 4)], lambda x: np.swapaxes(x, a0, a1), lambda x: pydl.transpose(x, a0, a1),
                   forward_only=True)


def test_T_reverses_axes():
    helper_test_op([(2, 3, 4)], lambda x: x.T, lambda x: x.T)


@pytest.mark.parametrize("perm", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (-1, 0, 1)])
def test_permute(perm, backend):
    helper_test_op([(2, 3, 4)], lambda x: np.transpose(x, perm), lambda x: x.permute(*perm))
    helper_test_op([(2, 3, 4)], lambda x: np.transpose(x, perm), lambda x: pydl.permute(x, list(perm)),
                   forward_only=True)


@pytest.mark.parametrize("axis", [None, 0, 2, -1, (0, 3)])
def test_squeeze(axis, backend):
    helper_test_op([(1, 3, 1, 1)], lambda x: np.squeeze(x, axis), lambda x: x.squeeze(axis))
    helper_test_op([(1, 3, 1, 1)], lambda x: np.squeeze(x, axis), lambda x: pydl.squeeze(x, axis), forward_only=True)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_unsqueeze(axis, backend):
    helper_test_op([(2, 3)], lambda x: np.expand_dims(x, axis), lambda x: x.unsqueeze(axis))
    helper_test_op([(2, 3)], lambda x: np.expand_dims(x, axis), lambda x: pydl.unsqueeze(x, axis), forward_only=True)


@pytest.mark.parametrize("shape,target", [((3,), (2, 3)), ((2, 1), (2, 4)), ((1, 3, 1), (2, 3, 4)), ((), (2, 2)),
                                          ((2, 3), (2, 3))])
def test_broadcast_to(shape, target, backend):
    helper_test_op([shape], lambda x: np.broadcast_to(x, target), lambda x: x.broadcast_to(target))
    helper_test_op([shape], lambda x: np.broadcast_to(x, target), lambda x: pydl.broadcast_to(x, target),
                   forward_only=True)


@pytest.mark.parametrize("shapes,axis", [(((2, 3), (4, 3)), 0), (((2, 3), (2, 1), (2, 2)), 1),
                                         (((2, 3, 1), (2, 3, 2)), -1), (((3,),), 0)])
def test_concatenate(shapes, axis, backend):
    helper_test_op(shapes, lambda *xs: np.concatenate(xs, axis), lambda *xs: pydl.concatenate(list(xs), axis))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis, backend):
    helper_test_op([(2, 3)] * 3, lambda *xs: np.stack(xs, axis), lambda *xs: pydl.stack(list(xs), axis))


def test_contiguous_copies_views_only():
    t = pydl.arange(6.0).reshape(2, 3)
    assert t.contiguous()._same(t)
    c = t.T.contiguous()
    assert c.is_contiguous() and not c._same(t)
    np.testing.assert_array_equal(c.numpy(), np.arange(6.0).reshape(2, 3).T)


# ---------------------------------------------------------------- indexing
INDEX_KEYS = [
    1, -1, (0, 2), (-1, -2, -3),
    slice(None), slice(1, 3), slice(None, None, 2), slice(1, None, 3), slice(-3, None), slice(5, 1), slice(-100, 100),
    (slice(None), 1), (Ellipsis, 0), (Ellipsis, slice(None, None, 2)), (0, Ellipsis), (None,), (None, 1),
    (slice(None), None, slice(1, 3)), (1, None, Ellipsis, None), (slice(None, None, 2), -1, slice(1, None, 2)),
    Ellipsis, (),
]


@pytest.mark.parametrize("key", INDEX_KEYS, ids=repr)
def test_indexing(key, backend):
    helper_test_op([(4, 5, 6)], lambda x: x[key], lambda x: x[key])


def test_indexing_is_a_view():
    t = pydl.zeros(3, 4)
    t[1][2] = 5.0  # the int index is a view; writing into it writes t
    t[..., 0] = 1.0
    t[None, 2, 1::2] = pydl.tensor([7.0, 8.0])
    expected = np.zeros((3, 4))
    expected[1][2] = 5
    expected[..., 0] = 1
    expected[2, 1::2] = [7, 8]
    np.testing.assert_array_equal(t.numpy(), expected)


def test_index_with_numpy_integer():
    t = pydl.arange(5.0)
    assert t[np.int64(3)].item() == 3.0


def test_indexing_gradient_accumulates_into_positions():
    x = pydl.tensor(np.arange(6.0).reshape(2, 3), dtype=pydl.float64, requires_grad=True)
    y = x[0, 1] * 2 + x[:, ::2].sum() + x[-1, -1]
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 2, 1], [1, 0, 2]])


@given(shape=st_shapes(1, 3, 1, 5), data=st.data())
def test_slicing_hypothesis(shape, data):
    x, view = data.draw(st_arrays(shape))
    key = []
    for s in shape:
        kind = data.draw(st.sampled_from(["int", "slice", "none"]))
        if kind == "int":
            key.append(data.draw(st.integers(-s, s - 1)))
        elif kind == "slice":
            key.append(slice(data.draw(st.one_of(st.none(), st.integers(-s - 1, s + 1))),
                             data.draw(st.one_of(st.none(), st.integers(-s - 1, s + 1))),
                             data.draw(st.one_of(st.none(), st.integers(1, 3)))))
        else:
            key.append(None)
            key.append(slice(None))
    key = tuple(key)
    got = pydl.from_numpy(view)[key]
    np.testing.assert_array_equal(got.numpy(), x[key])
    assert got.shape == x[key].shape


@given(shape=st_shapes(1, 4, 1, 4), data=st.data())
def test_permute_reshape_hypothesis(shape, data):
    x, view = data.draw(st_arrays(shape))
    perm = data.draw(st.permutations(range(len(shape))))
    t = pydl.from_numpy(view).permute(*perm)
    np.testing.assert_array_equal(t.numpy(), x.transpose(perm))
    np.testing.assert_array_equal(t.reshape(-1).numpy(), x.transpose(perm).reshape(-1))
    np.testing.assert_array_equal(t.contiguous().numpy(), x.transpose(perm))


def test_shape_ops_on_noncontiguous_layouts():
    x = np.arange(24.0).reshape(2, 3, 4)
    for layout in LAYOUTS:
        t = make_tensor(x, layout)
        np.testing.assert_array_equal(t.reshape(4, 6).numpy(), x.reshape(4, 6), err_msg=layout)
        np.testing.assert_array_equal(t.flatten().numpy(), x.flatten(), err_msg=layout)
        np.testing.assert_array_equal(pydl.concatenate([t, t], 1).numpy(), np.concatenate([x, x], 1))


def test_contiguous_and_clone_backward(backend):
    helper_test_op([(3, 4)], lambda x: x.T, lambda x: x.T.contiguous())
    helper_test_op([(3, 4)], lambda x: x, lambda x: x.clone())
