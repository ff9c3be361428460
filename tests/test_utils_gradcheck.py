"""pydl.utils.gradcheck: passes correct gradients, reports wrong ones per input."""
import numpy as np
import pytest

import pydl
from pydl.utils import GradcheckResult, gradcheck


def leaf(shape, seed=0):
    return pydl.tensor(np.random.default_rng(seed).uniform(0.5, 2.0, size=shape), dtype=pydl.float64,
                       requires_grad=True)


def test_passes_for_correct_gradients_and_lists_each_input():
    a, b = leaf((3, 4)), leaf((4,), 1)
    res = gradcheck(lambda x, y: (x * y).exp() / y, [a, b])
    assert isinstance(res, GradcheckResult)
    assert res and res.passed
    assert res.names == ["input 0", "input 1"]
    assert len(res.max_abs_errors) == len(res.max_rel_errors) == len(res.passed_each) == 2
    assert all(e < 1e-6 for e in res.max_abs_errors)
    assert "passed" in repr(res) and "input 1" in repr(res)


def test_only_inputs_requiring_grad_are_checked():
    a = leaf((2, 2))
    c = pydl.tensor(np.ones((2, 2)), dtype=pydl.float64)
    res = gradcheck(lambda x, y: x * y, [a, c])
    assert res.names == ["input 0"]


def test_reports_a_wrong_gradient():
    """A function whose analytic gradient is deliberately wrong: the forward value is
    2*x, but a detached factor hides half of the dependence on x from backward."""
    a, b = leaf((3,)), leaf((3,), 1)

    def wrong(x, y):
        return x * x.detach() + x * y  # d/dx should be 2x + y, backward gives x + y

    res = gradcheck(wrong, [a, b], seed=3)
    assert not res.passed and not bool(res)
    assert res.passed_each == [False, True]  # y's gradient is right, x's is wrong
    # gradcheck differentiates sum(out * w) with w ~ N(0, 1) from `seed`: the error is |w x|
    w = np.random.default_rng(3).standard_normal(3)
    np.testing.assert_allclose(res.max_abs_errors[0], np.abs(w * a.detach().numpy()).max(), rtol=1e-4)
    assert res.max_abs_errors[1] < 1e-6
    assert "FAIL" in repr(res) and "FAILED" in repr(res)


def test_reports_a_missing_gradient():
    a = leaf((2,))
    res = gradcheck(lambda x: (x.detach() * 3.0) + x * 0.0, [a])
    assert not res.passed  # numeric derivative 3, analytic 0


def test_does_not_touch_existing_grads():
    a = leaf((2,))
    a.grad = pydl.tensor([5.0, 6.0], dtype=pydl.float64)
    gradcheck(lambda x: x * x, [a])
    np.testing.assert_array_equal(a.grad.numpy(), [5, 6])
    np.testing.assert_allclose(a.detach().numpy(), np.random.default_rng(0).uniform(0.5, 2.0, size=2))  # unperturbed


def test_non_scalar_outputs_are_weighted_not_summed():
    # sum(out) would hide an error in the sum of the gradient's parts; a random weighting does not
    a = leaf((4,))
    res = gradcheck(lambda x: pydl.functional.softmax(x), [a])
    assert res.passed


def test_input_validation():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x, [pydl.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x, [pydl.zeros(2, dtype=pydl.float64)])
    with pytest.raises(TypeError, match="pydl tensors"):
        gradcheck(lambda x: x, [np.zeros(2)])
    a = leaf((2,))
    with pytest.raises(ValueError, match="leaf"):
        gradcheck(lambda x: x, [a * 2])
