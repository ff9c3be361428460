import numpy as np
import pytest

import pydl
from pydl import regularizers as R


def test_l1_l2_values_and_gradients_match_numpy():
    w_np = np.array([[0.5, -2.0], [1.5, 0.0]])
    w = pydl.tensor(w_np, dtype=pydl.float64, requires_grad=True)
    r = R.l1_l2(l1=0.1, l2=0.01)
    loss = r(w)
    assert loss.item() == pytest.approx(0.1 * np.abs(w_np).sum() + 0.01 * (w_np ** 2).sum())
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 0.1 * np.sign(w_np) + 0.02 * w_np)


def test_named_constructors_and_config():
    assert R.get("l2").l2 == pytest.approx(0.01)
    assert R.l1(0.3).get_config() == {"l1": 0.3}
    back = R.deserialize(R.serialize(R.L1L2(0.1, 0.2)))
    assert (back.l1, back.l2) == (0.1, 0.2)
    with pytest.raises(ValueError, match="l1_l2"):
        R.get("l3")


# ---- KLSparsity, the sparse autoencoder's penalty (issue 10)
from pydl.regularizers import KLSparsity  # noqa: E402
from pydl.utils import gradcheck  # noqa: E402


def t64(a, grad=False):
    t = pydl.tensor(np.asarray(a, dtype=np.float64), dtype="float64")
    t.requires_grad = grad
    return t


def test_by_hand_and_zero_at_the_target():
    a = np.array([[0.1, 0.5], [0.3, 0.9]])
    rho_hat, rho = a.mean(0), 0.2
    want = 2.0 * np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    assert float(KLSparsity(rho=0.2, beta=2.0)(t64(a)).numpy()) == pytest.approx(want, rel=1e-12)
    assert float(KLSparsity(rho=0.25)(t64(np.full((4, 3), 0.25))).numpy()) == pytest.approx(0.0, abs=1e-12)


def test_gradcheck_and_as_an_activity_regularizer():
    a = t64(np.random.default_rng(0).uniform(0.05, 0.95, (5, 4)), grad=True)
    assert gradcheck(KLSparsity(0.1, 3.0), [a])
    pydl.manual_seed(0)
    x = np.random.default_rng(1).random((64, 8)).astype(np.float32)
    dense = pydl.layers.Dense(16, activation="sigmoid", activity_regularizer=KLSparsity(0.05, 3.0))
    model = pydl.models.Sequential([pydl.Input((8,)), dense, pydl.layers.Dense(8)])
    model.compile(pydl.optimizers.Adam(0.01), loss="mse")
    before = dense(x).detach().numpy().mean()
    model.fit(x, x, epochs=60, batch_size=64, verbose=0)
    after = dense(x).detach().numpy().mean()
    assert before > 0.3 and after < 0.15, (before, after)  # pushed towards rho = 0.05
    cfg = pydl.regularizers.serialize(KLSparsity(0.1, 2.0))
    assert pydl.regularizers.deserialize(cfg).get_config() == {"rho": 0.1, "beta": 2.0}


def test_bad_arguments():
    with pytest.raises(ValueError, match="rho"):
        KLSparsity(rho=1.0)
    with pytest.raises(ValueError, match="beta"):
        KLSparsity(beta=-1)
    with pytest.raises(ValueError, match=r"batch of activations.*\(3,\)"):
        KLSparsity()(t64(np.full(3, 0.5)))
