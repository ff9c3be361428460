"""A run_layer_test contract for every core layer (shapes, weight counts, one training step
lowers the loss, config round trip), plus each layer's own behaviour."""
import warnings

import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.models import Sequential


def run_layer_test(make, input_shape, expected_output_shape, expected_params, trains=True):
    layer = make()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8,) + input_shape).astype(np.float32)
    out = layer(pydl.tensor(x))
    assert tuple(out.shape) == (8,) + expected_output_shape
    assert layer.count_params() == expected_params
    assert tuple(layer.compute_output_shape(input_shape)) == expected_output_shape
    # config round trip: same class, same config, same outputs once weights are copied
    clone = type(layer).from_config(layer.get_config())
    clone(pydl.tensor(x))
    assert clone.get_config() == {**layer.get_config(), "name": clone.name}
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(pydl.tensor(x)).detach().numpy(), layer(pydl.tensor(x)).detach().numpy(), rtol=1e-6)
    if trains:  # one SGD step on a fixed random target lowers the MSE
        model = Sequential([L.Input(shape=input_shape), make(), L.Flatten(), L.Dense(3)])
        model.compile(loss="mse", optimizer=pydl.optimizers.SGD(learning_rate=0.05))
        y = rng.standard_normal((8, 3)).astype(np.float32)
        before = model.evaluate(x, y, verbose=0)
        model.train_on_batch(x, y)
        assert model.evaluate(x, y, verbose=0) < before


def test_dense_contract():
    run_layer_test(lambda: L.Dense(5, activation="tanh"), (4,), (5,), 4 * 5 + 5)
    run_layer_test(lambda: L.Dense(2, use_bias=False), (3, 4), (3, 2), 8)


def test_activation_dropout_flatten_reshape_contracts():
    run_layer_test(lambda: L.Activation("relu"), (6,), (6,), 0)
    run_layer_test(lambda: L.Dropout(0.3), (6,), (6,), 0)
    run_layer_test(lambda: L.Flatten(), (2, 3), (6,), 0)
    run_layer_test(lambda: L.Reshape((3, -1)), (6,), (3, 2), 0)


def test_dense_maths_is_x_w_plus_b():
    layer = L.Dense(3, activation="relu")
    x = np.random.default_rng(1).standard_normal((4, 2)).astype(np.float32)
    y = layer(pydl.tensor(x)).detach().numpy()
    w, b = layer.get_weights()
    assert w.shape == (2, 3) and b.shape == (3,)
    np.testing.assert_allclose(y, np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-6)


def test_dense_defaults_follow_keras():
    layer = L.Dense(4)
    layer(pydl.zeros(1, 300))
    w, b = layer.get_weights()
    assert np.all(b == 0)
    limit = np.sqrt(6 / (300 + 4))  # glorot_uniform
    assert np.abs(w).max() <= limit and w.std() > 0.5 * limit / np.sqrt(3)


def test_dense_wrong_input_width_is_a_clear_error():
    layer = L.Dense(4)
    layer(pydl.zeros(2, 3))
    with pytest.raises(ValueError, match="3 features"):
        layer(pydl.zeros(2, 5))


def test_dropout_is_identity_at_inference_and_scales_in_training():
    layer = L.Dropout(0.5)
    x = pydl.ones(1000, 100)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert abs((y == 0).mean() - 0.5) < 0.01
    with pytest.raises(ValueError, match="rate"):
        L.Dropout(1.0)


def test_keras1_names_warn_and_work():
    with pytest.warns(DeprecationWarning, match="output_dim"):
        layer = L.Dense(input_dim=3, output_dim=2, init="zeros")
    assert layer.units == 2
    out = layer(pydl.ones(1, 3))
    assert np.all(out.detach().numpy() == 0)


def test_unknown_activation_lists_names():
    with pytest.raises(ValueError, match="sigmoid"):
        L.Activation("sigmoidd")


def test_regularizer_penalty_is_collected():
    layer = L.Dense(2, kernel_regularizer=pydl.regularizers.l2(0.5))
    layer(pydl.ones(1, 3))
    (w,) = [layer.kernel.detach().numpy()]
    (penalty,) = layer.regularization_losses()
    assert penalty.item() == pytest.approx(0.5 * (w.astype(np.float64) ** 2).sum(), rel=1e-5)


def test_dense_gradients_pass_gradcheck_in_float64():
    pydl.manual_seed(0)
    layer = L.Dense(3, activation="tanh", dtype="float64", kernel_regularizer=pydl.regularizers.l2(0.1))
    x = pydl.randn(4, 5, dtype=pydl.float64, requires_grad=True)
    layer(x)  # build

    def f(x, kernel, bias):
        return layer(x).sum() + layer.regularization_losses()[0]

    assert pydl.utils.gradcheck(f, [x, layer.kernel, layer.bias])
