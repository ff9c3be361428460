"""The masked loss of the recommender autoencoder (pydl.losses.masked_mean_squared_error)."""
import numpy as np
import pytest

import pydl
from pydl import losses
from pydl.utils import gradcheck


def t64(a, grad=False):
    t = pydl.tensor(np.asarray(a, dtype=np.float64), dtype="float64")
    t.requires_grad = grad
    return t


R = np.array([[5.0, 0.0, 3.0, 0.0],
              [0.0, 0.0, 0.0, 0.0],
              [1.0, 2.0, 0.0, 4.0]])
P = np.array([[4.0, 9.0, 3.5, -7.0],
              [1.0, 1.0, 1.0, 1.0],
              [2.0, 2.5, 8.0, 1.0]])


def test_by_hand():
    # user 0: ((4-5)² + (3.5-3)²) / 2 = 0.625; user 1 rated nothing: 0; user 2: (1 + 0.25 + 9) / 3
    want = np.array([0.625, 0.0, 10.25 / 3.0])
    np.testing.assert_allclose(losses.masked_mean_squared_error(R, t64(P)).numpy(), want, rtol=1e-14)
    np.testing.assert_allclose(float(losses.MaskedMeanSquaredError()(R, t64(P)).numpy()), want.mean(), rtol=1e-14)
    np.testing.assert_allclose(float(losses.get("masked_mse")(R, t64(P)).numpy()), want.mean(), rtol=1e-14)
    # an explicit mask, and NaN as the missing marker, give the same
    explicit = losses.masked_mean_squared_error(np.where(R > 0, R, -1.0), t64(P), mask=R > 0).numpy()
    nan = losses.MaskedMeanSquaredError(mask_value=float("nan"), reduction="none")(np.where(R > 0, R, np.nan), t64(P))
    np.testing.assert_allclose(explicit, want, rtol=1e-14)
    np.testing.assert_allclose(nan.numpy(), want, rtol=1e-14)


def test_missing_entries_contribute_nothing_to_the_loss_or_its_gradient():
    p = t64(P, grad=True)
    loss = losses.MaskedMeanSquaredError()(R, p)
    loss.backward()
    g = p.grad.numpy()
    assert np.all(g[R == 0] == 0.0)
    assert np.all(g[R != 0] != 0.0)
    # moving the predictions of missing entries changes nothing
    other = P + np.where(R == 0, 100.0, 0.0)
    assert float(losses.MaskedMeanSquaredError()(R, t64(other)).numpy()) == float(loss.detach().numpy())


def test_gradcheck():
    rng = np.random.default_rng(0)
    r = np.where(rng.random((4, 6)) < 0.5, rng.integers(1, 6, (4, 6)), 0).astype(np.float64)
    p = t64(rng.normal(3, 1, (4, 6)), grad=True)
    assert gradcheck(lambda x: losses.masked_mean_squared_error(r, x), [p])


def test_trains_in_compile_and_saves(tmp_path):
    pydl.manual_seed(0)
    rng = np.random.default_rng(1)
    r = np.where(rng.random((64, 10)) < 0.4, rng.integers(1, 6, (64, 10)), 0).astype(np.float32)
    model = pydl.models.Sequential([pydl.Input((10,)), pydl.layers.Dense(4, activation="sigmoid"),
                                    pydl.layers.Dense(10)])
    model.compile(pydl.optimizers.Adam(0.05), loss="masked_mse")
    h = model.fit(r, r, epochs=30, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < 0.3 * h.history["loss"][0], h.history["loss"]
    model.save(tmp_path / "m.pydl")
    back = pydl.models.load_model(tmp_path / "m.pydl")
    assert type(back.loss).__name__ == "MaskedMeanSquaredError"
    np.testing.assert_allclose(back.evaluate(r, r, verbose=0), model.evaluate(r, r, verbose=0), rtol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match=r"the mask has shape \(3, 3\) but y_true has shape \(3, 4\)"):
        losses.masked_mean_squared_error(R, t64(P), mask=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match=r"y_true has shape \(3, 4\) but y_pred has shape \(3, 2\)"):
        losses.masked_mean_squared_error(R, t64(P[:, :2]))
    bad = R.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN at observed entries"):
        losses.MaskedMeanSquaredError()(bad, t64(P))
    with pytest.raises(TypeError, match="mask_value must be a number"):
        losses.MaskedMeanSquaredError(mask_value="0")
