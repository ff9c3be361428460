"""Autograd semantics (PyTorch's): accumulation, retain_graph, freed graphs, deep graphs,
no_grad, detach, grad = None, zero_grad, multi-root backward."""
import gc

import numpy as np
import pytest

import pydl


def leaf(values, dtype=pydl.float64):
    return pydl.tensor(values, dtype=dtype, requires_grad=True)


def test_backward_of_scalar_matches_hand_derivative():
    x = leaf([1.0, 2.0, 3.0])
    y = (x * x * 3.0 + x).sum()  # dy/dx = 6x + 1
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [7, 13, 19])


def test_two_backward_calls_double_the_gradient():
    x = leaf([1.0, -2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), [2, -4])
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4, -8])


def test_gradients_accumulate_across_graphs():
    x = leaf([3.0])
    (x * 2).sum().backward()
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [7])


def test_retain_graph_false_frees_the_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    assert y.grad_fn.released


def test_retain_graph_allows_many_backwards():
    x = leaf([0.5])
    y = pydl.functional.tanh(x).sum()
    for _ in range(3):
        y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 3 * (1 - np.tanh(0.5) ** 2))


def test_shared_subgraph_gradients_add_up():
    x = leaf([2.0])
    a = x * x          # used twice below
    y = (a + a * 3).sum()  # y = 4 x^2, dy/dx = 8x
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [16])


def test_same_leaf_used_twice_in_one_op():
    x = leaf([3.0, 4.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6, 8])


def test_deep_chain_backward_and_free_without_stack_overflow():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y + 1.0
    assert y.item() == 100_001.0
    y.backward()
    assert x.grad.item() == 1.0
    del y  # freeing a 100 000-node chain must not recurse
    gc.collect()


def test_deep_chain_freed_without_backward():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    del y
    gc.collect()
    assert x.grad is None


def test_backward_with_explicit_gradient():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 2
    y.backward(pydl.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=pydl.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 0], [1, 4]])


def test_backward_gradient_as_array_like_and_other_dtype_is_cast():
    x = leaf([1.0, 2.0], dtype=pydl.float32)
    y = x * 3
    y.backward(np.array([1.0, 2.0]))
    assert x.grad.dtype == pydl.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3, 6])


def test_multi_root_backward_sums():
    x = leaf([1.0, 2.0])
    a, b = (x * 2).sum(), (x * x).sum()
    pydl.backward([a, b])
    np.testing.assert_array_equal(x.grad.numpy(), [4, 6])
    y = leaf([1.0])
    c = y * 3
    pydl.autograd.backward(c, pydl.tensor([2.0], dtype=pydl.float64))
    np.testing.assert_array_equal(y.grad.numpy(), [6])


def test_no_grad_records_nothing():
    x = leaf([1.0])
    with pydl.no_grad():
        y = x * 2
        assert not pydl.is_grad_enabled()
    assert pydl.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_as_decorator_and_enable_grad_inside():
    x = leaf([1.0])

    @pydl.no_grad()
    def f(t):
        with pydl.enable_grad():
            inner = t * 2
        return t * 2, inner

    outer, inner = f(x)
    assert outer.grad_fn is None and inner.grad_fn is not None
    with pydl.set_grad_enabled(False):
        assert not pydl.is_grad_enabled()
    assert pydl.is_grad_enabled()


def test_no_grad_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with pydl.no_grad():
            1 / 0
    assert pydl.is_grad_enabled()


def test_detach_shares_data_and_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    d[0] = 100.0  # same memory
    assert y.detach().numpy()[0] == 100.0
    z = (x * d).sum()  # no gradient flows through d
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [100, 6])
    assert x.data.grad_fn is None


def test_grad_none_and_zero_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    x.zero_grad()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4])
    x.grad = None
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])
    y = leaf([1.0])
    y.zero_grad()  # no grad yet: nothing to zero
    assert y.grad is None


def test_grad_assignment_checks_shape_and_dtype():
    x = leaf([1.0, 2.0])
    x.grad = pydl.tensor([5.0, 6.0], dtype=pydl.float64)
    (x * 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6, 7])
    with pytest.raises(ValueError, match=r"grad.*\(3,\).*\(2,\)"):
        x.grad = pydl.zeros(3, dtype=pydl.float64)
    with pytest.raises(TypeError, match="grad.*float32.*float64"):
        x.grad = pydl.zeros(2)


def test_grad_is_not_aliased_with_another_leaf():
    a, b = leaf([1.0]), leaf([1.0])
    (a + b).sum().backward()
    a.grad += 10.0  # a's grad must be its own buffer
    np.testing.assert_array_equal(b.grad.numpy(), [1])


def test_requires_grad_propagation_and_leaves():
    x = leaf([1.0])
    c = pydl.tensor([2.0], dtype=pydl.float64)
    y = x * c
    assert y.requires_grad and not y.is_leaf and x.is_leaf
    assert not (c * c).requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    c.requires_grad_()
    assert c.requires_grad


def test_only_leaves_get_grad():
    x = leaf([1.0])
    y = x * 2
    (y * 3).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf"):  # as PyTorch: reading it warns
        assert y.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [6])


def test_backward_through_views_and_inplace_on_detached():
    x = leaf(np.arange(6.0).reshape(2, 3))
    y = x.T.reshape(6)[::2].sum()
    y.backward()
    expected = np.zeros(6)
    expected[::2] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected.reshape(3, 2).T)


def test_graph_released_frees_saved_tensors_but_keeps_structure():
    x = leaf([1.0])
    y = (x * x).sum()
    y.backward()
    assert y.grad_fn is not None and y.grad_fn.released
    names = [f.name() for f, _ in y.grad_fn.next_functions if f is not None]
    assert names  # structure is still there to draw


def test_leaf_grad_after_leaf_is_gone_is_harmless():
    x = leaf([1.0])
    y = (x * 2).sum()
    del x
    gc.collect()
    y.backward()  # the AccumulateGrad's leaf is gone: nothing to write, no crash


def test_modifying_a_saved_tensor_in_place_is_detected():
    w = pydl.tensor([1.0, 2.0], requires_grad=True)
    x = pydl.tensor([3.0, 4.0])
    y = (w * x).sum()  # MulBackward saved x
    x += 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_optimizer_step_invalidates_an_old_graph():
    w = pydl.tensor([1.0, 2.0], requires_grad=True)
    opt = pydl.optimizers.SGD([w], learning_rate=0.1)
    y = (w * w).sum()
    y.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


# ---------------------------------------------------------------- .grad of a non-leaf, retain_grad
def test_hand_written_update_outside_no_grad_warns_on_the_non_leaf_grad():
    """The course's commonest slip: `w = w - lr * w.grad` outside no_grad. After the first step w
    is a non-leaf (it has a grad_fn), backward leaves its .grad empty, and reading it must warn
    (as PyTorch does) instead of silently giving None."""
    import warnings
    w = pydl.tensor([1.0, -2.0], requires_grad=True)
    lr = 0.1
    grads = []
    for step in range(3):
        loss = (w * w).sum()
        loss.backward()
        if step == 0:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a leaf: no warning
                g = w.grad
        else:
            with pytest.warns(UserWarning, match=r"not a leaf Tensor.*retain_grad\(\).*no_grad"):
                g = w.grad
        grads.append(g)
        if g is None:
            break
        w = w - lr * w.grad
    np.testing.assert_allclose(grads[0].numpy(), [2.0, -4.0])
    assert grads[1] is None and not w.is_leaf


def test_retain_grad_fills_a_non_leaf_grad_without_warning():
    import warnings
    x = pydl.tensor([1.0, 2.0, -1.0], dtype=pydl.float64, requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    z = (y * y).sum()
    z.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yg = y.grad
    np.testing.assert_allclose(yg.numpy(), 2 * 3.0 * np.array([1.0, 2.0, -1.0]))  # dz/dy = 2y
    np.testing.assert_allclose(x.grad.numpy(), 18.0 * np.array([1.0, 2.0, -1.0]))  # dz/dx = 18x
    # gradients accumulate into a retained .grad as into a leaf's
    y2 = x * 3.0
    y2.retain_grad()
    s = y2.sum()
    s.backward(retain_graph=True)
    s.backward()
    np.testing.assert_allclose(y2.grad.numpy(), [2.0, 2.0, 2.0])
    x.retain_grad()  # a leaf: nothing to do, no error
    with pytest.raises(RuntimeError, match="retain_grad"):
        pydl.zeros(2).retain_grad()


def test_gradient_tape_gives_backward_gradients_and_leaves_grad_alone():
    import numpy as np
    w = pydl.tensor(np.array([1.0, -2.0, 3.0]), dtype=pydl.float64, requires_grad=True)
    v = pydl.tensor(np.array([5.0]), dtype=pydl.float64, requires_grad=True)
    w.grad = pydl.tensor(np.array([9.0, 9.0, 9.0]), dtype=pydl.float64)
    with pydl.GradientTape() as tape:
        loss = (w * w).sum() * 0.5
    gw, gv = tape.gradient(loss, [w, v])
    np.testing.assert_array_equal(gw.numpy(), [1.0, -2.0, 3.0])  # d(½Σw²)/dw = w
    assert gv is None  # v is not in the graph
    np.testing.assert_array_equal(w.grad.numpy(), [9.0, 9.0, 9.0])
    with pytest.raises(RuntimeError, match="already used"):
        tape.gradient(loss, [w])
    with pydl.GradientTape(persistent=True) as tape:
        loss = (w * 3.0).sum()
    assert tape.gradient(loss, w).numpy().tolist() == [3.0, 3.0, 3.0]
    assert tape.gradient(loss, w).numpy().tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="requires grad"):
        pydl.GradientTape().gradient(loss, [pydl.zeros(3)])
