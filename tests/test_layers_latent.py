"""Sampling (the reparameterisation trick) and the KL term of the VAE (pydl/layers/latent.py)."""
import numpy as np
import pytest

import pydl
from pydl.layers import Dense, Sampling
from pydl.layers.latent import kl_divergence_normal
from pydl.utils import gradcheck


def t64(a, grad=False):
    t = pydl.tensor(np.asarray(a, dtype=np.float64), dtype="float64")
    t.requires_grad = grad
    return t


def test_sampling_with_fixed_noise_is_mean_plus_sigma_eps():
    rng = np.random.default_rng(0)
    m, lv, eps = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    z = Sampling().call([t64(m), t64(lv)], noise=eps)
    np.testing.assert_allclose(z.numpy(), m + np.exp(0.5 * lv) * eps, rtol=1e-14)


def test_sampling_gradients_with_fixed_noise():
    rng = np.random.default_rng(1)
    m, lv = t64(rng.normal(size=(3, 2)), True), t64(rng.normal(size=(3, 2)), True)
    eps = rng.normal(size=(3, 2))
    layer = Sampling()
    assert gradcheck(lambda a, b: layer.call([a, b], noise=eps), [m, lv])
    # by hand: dz/dmean = 1, dz/dlog_var = 0.5 exp(0.5 log_var) eps
    z = layer.call([m, lv], noise=eps)
    z.sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), np.ones((3, 2)))
    np.testing.assert_allclose(lv.grad.numpy(), 0.5 * np.exp(0.5 * lv.detach().numpy()) * eps, rtol=1e-14)


def test_sampling_draws_standard_normal_noise_repeatably():
    m, lv = np.full((20000, 2), 3.0), np.full((20000, 2), np.log(4.0))  # N(3, 2²)
    pydl.manual_seed(5)
    a = Sampling()([pydl.tensor(m), pydl.tensor(lv)]).numpy()
    pydl.manual_seed(5)
    b = Sampling()([pydl.tensor(m), pydl.tensor(lv)]).numpy()
    np.testing.assert_array_equal(a, b)
    # standard errors: mean 2 / sqrt(20000) = 0.014, std about 0.01
    assert abs(a.mean() - 3.0) < 0.06 and abs(a.std() - 2.0) < 0.05
    c = Sampling()([pydl.tensor(m), pydl.tensor(lv)]).numpy()  # the next draw differs
    assert not np.array_equal(a, c)


def test_sampling_in_a_functional_encoder_and_saving(tmp_path):
    x = pydl.Input((5,))
    h = Dense(8, activation="relu")(x)
    z = Sampling(name="z")([Dense(2, name="mean")(h), Dense(2, name="log_var")(h)])
    enc = pydl.models.Model(x, z)
    assert tuple(enc.output_shape) == (None, 2)
    enc.save(tmp_path / "enc.pydl")
    back = pydl.models.load_model(tmp_path / "enc.pydl")
    assert type(back.get_layer("z")) is Sampling
    data = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    assert enc.predict(data, verbose=0).shape == (4, 2)


def test_sampling_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match=r"same shape.*\(2,\).*\(3,\)"):
        Sampling()([pydl.Input((2,)), pydl.Input((3,))])
    with pytest.raises(ValueError, match=r"same shape, got samples of \(2,\) and \(3,\)"):
        Sampling()([pydl.zeros(4, 2), pydl.zeros(4, 3)])
    with pytest.raises(ValueError, match="two inputs"):
        Sampling()(pydl.Input((2,)))
    with pytest.raises(ValueError, match=r"noise must have z's shape \(4, 2\)"):
        Sampling().call([pydl.zeros(4, 2), pydl.zeros(4, 2)], noise=np.zeros((2, 2)))


def test_kl_term_against_numerical_integration():
    # KL(q || p) = ∫ q(z) log(q(z) / p(z)) dz per unit, independent units summed
    m = np.array([[0.0, 1.5, -0.7], [2.0, 0.0, 0.3]])
    lv = np.array([[0.0, -1.0, 0.8], [0.5, 1.2, -2.0]])
    z = np.linspace(-15, 15, 300001)
    dz = z[1] - z[0]
    want = np.zeros(2)
    for n in range(2):
        for j in range(3):
            s = np.exp(0.5 * lv[n, j])
            logq = -0.5 * ((z - m[n, j]) / s) ** 2 - np.log(s * np.sqrt(2 * np.pi))
            logp = -0.5 * z ** 2 - np.log(np.sqrt(2 * np.pi))
            want[n] += np.sum(np.exp(logq) * (logq - logp)) * dz
    got = kl_divergence_normal(t64(m), t64(lv)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(kl_divergence_normal(t64(np.zeros((2, 3))), t64(np.zeros((2, 3)))).numpy(), 0.0)


def test_kl_term_gradients():
    rng = np.random.default_rng(2)
    m, lv = t64(rng.normal(size=(3, 4)), True), t64(rng.normal(size=(3, 4)), True)
    assert gradcheck(kl_divergence_normal, [m, lv])
    with pytest.raises(ValueError, match="same shape"):
        kl_divergence_normal(t64(np.zeros((2, 3))), t64(np.zeros((2, 2))))

