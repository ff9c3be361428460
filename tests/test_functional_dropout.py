"""pydl.functional.dropout: inverted dropout's statistics, identity at inference, the backward
through the same saved mask (gradcheck with the mask fixed by re-seeding), the seed, the errors."""
import numpy as np
import pytest

import pydl
import pydl.functional as F
from pydl.utils import gradcheck

N = 100_000


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64])
def test_keep_rate_and_expectation(backend, rate, dtype):
    pydl.manual_seed(123)
    x = pydl.tensor(np.random.default_rng(0).uniform(0.5, 1.5, size=N), dtype=dtype)
    y = F.dropout(x, rate)
    xv, yv = x.numpy().astype(np.float64), y.numpy().astype(np.float64)
    kept = yv != 0
    keep = 1.0 - rate
    # binomial keep count within 5 standard deviations
    assert abs(kept.mean() - keep) < 5 * np.sqrt(keep * (1 - keep) / N)
    # kept units are scaled by 1 / (1 - rate); dropped ones are exactly 0
    np.testing.assert_allclose(yv[kept], xv[kept] / keep, rtol=1e-6)
    # E[y] = x: the mean of y / x is 1 within 5 standard errors (var of mask/keep is rate/keep)
    ratio = yv / xv
    assert abs(ratio.mean() - 1.0) < 5 * np.sqrt(rate / keep / N)
    assert abs(yv.mean() - xv.mean()) < 5 * np.sqrt(rate / keep / N) * 1.5


def test_identity_when_not_training_or_rate_zero():
    x = pydl.randn(4, 5, requires_grad=True)
    for y in (F.dropout(x, 0.5, training=False), F.dropout(x, 0.0), F.dropout(x, 0.0, True)):
        np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())
    y = F.dropout(x, 0.5, training=False)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((4, 5), dtype=np.float32))


def test_backward_uses_the_same_scaled_mask():
    pydl.manual_seed(7)
    x = pydl.tensor(np.random.default_rng(1).uniform(1, 2, size=(50, 40)), requires_grad=True)
    y = F.dropout(x, 0.3)
    assert y.grad_fn.name() == "DropoutBackward"
    g = np.random.default_rng(2).standard_normal((50, 40)).astype(np.float32)
    y.backward(pydl.tensor(g))
    mask = y.detach().numpy().astype(np.float64) / x.detach().numpy()  # 0 or 1/(1 - rate)
    assert np.all((mask == 0) | (np.abs(mask - 1 / 0.7) < 1e-5))
    np.testing.assert_allclose(x.grad.numpy(), g * mask, rtol=1e-6)


def test_gradcheck_with_mask_fixed_by_reseeding():
    def fn(x):
        pydl.manual_seed(11)  # the same mask on every call of the numeric differences
        return F.dropout(x, 0.4)

    x = pydl.tensor(np.random.default_rng(3).standard_normal((6, 7)), dtype=pydl.float64, requires_grad=True)
    assert gradcheck(fn, [x])


def test_seed_fixes_the_mask():
    x = pydl.ones(1000)
    pydl.manual_seed(5)
    first = F.dropout(x, 0.5).numpy().copy()
    pydl.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)
    assert not np.array_equal(first, F.dropout(x, 0.5).numpy())  # the generator moved on


def test_backends_apply_the_same_mask_through_their_own_mul_kernels():
    """The mask (a counter-based random fill, scaled in place) is one loop shared by both
    backends; what differs is the product x * mask, computed by mul's reference and fast
    kernels. Same seed, same mask: both backends give x / keep or 0 at the same positions, on a
    size that takes the fast kernel's vectorised, tiled path (and its ragged tail)."""
    x = np.random.default_rng(0).uniform(0.5, 1.5, (3, 70001)).astype(np.float32)
    out = {}
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        pydl.manual_seed(11)
        out[backend] = F.dropout(pydl.tensor(x), 0.25).numpy().copy()
    kept = out["reference"] != 0
    np.testing.assert_array_equal(out["fast"] != 0, kept)
    np.testing.assert_allclose(out["reference"][kept], x[kept] / np.float32(0.75), rtol=1e-6)
    np.testing.assert_array_equal(out["fast"], out["reference"])  # one rounding of x * (1 / keep)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match=r"dropout: rate must be in \[0, 1\)"):
        F.dropout(pydl.ones(3), rate)
    with pytest.raises(ValueError, match="dropout"):
        F.dropout(pydl.ones(3), rate, training=False)
