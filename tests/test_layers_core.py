"""A run_layer_test contract for every core layer (shapes, weight counts, one training step
lowers the loss, config round trip), plus each layer's own behaviour."""
import warnings

import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl import regularizers
from pydl.layers import Dense, Dropout
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


# ---- Keras 1 names given together with their new names
@pytest.mark.parametrize("make", [
    lambda: Dense(3, output_dim=2),
    lambda: Dense(units=3, output_dim=2),
    lambda: Dense(3, init="zeros", kernel_initializer="ones"),
    lambda: Dense(3, W_regularizer="l2", kernel_regularizer="l1"),
    lambda: Dense(3, b_regularizer="l2", bias_regularizer="l1"),
    lambda: Dense(3, bias=False, use_bias=True),
    lambda: Dropout(0.3, p=0.5),
    lambda: Dropout(rate=0.3, p=0.5),
])
def test_keras1_alias_with_its_new_name_raises(make):
    with pytest.raises(TypeError, match="Keras 1"):
        make()


def test_keras1_dropout_p_alone_works():
    with pytest.warns(DeprecationWarning, match="'p'"):
        layer = Dropout(p=0.25)
    assert layer.rate == 0.25



# ---- shapes given as ints, dtypes by name
def test_an_int_input_shape_is_a_one_tuple_for_every_spelling():
    assert Dense(3, input_shape=4)._input_shape_arg == (4,)
    assert L.Input(shape=784)._input_shape_arg == (784,)
    assert L.Input(784).get_config()["shape"] == [784]
    assert Dense(2, batch_input_shape=(None, 5))._input_shape_arg == (5,)
    assert Dense(2, input_dim=6)._input_shape_arg == (6,)
    assert Dense(2, input_shape=(6,), input_dim=6)._input_shape_arg == (6,)  # agreeing: fine
    with pytest.raises(ValueError, match="disagree"):
        Dense(2, input_shape=(5,), input_dim=6)
    with pytest.raises(TypeError, match="input_shape"):
        Dense(2, input_shape="784")
    with pytest.raises(TypeError, match="input_shape"):
        Dense(2, input_shape=784.0)
    with pytest.raises(ValueError, match="input_shape"):
        Dense(2, input_shape=(0,))
    with pytest.raises(TypeError, match="batch_input_shape"):
        Dense(2, batch_input_shape=5)
    with pytest.raises(TypeError, match="shape"):
        L.Input(shape=3, input_shape=3)


def test_dtype_names_are_checked():
    assert Dense(2, dtype=np.float64).dtype == pydl.float64
    assert Dense(2, dtype=pydl.float64).dtype == pydl.float64
    assert Dense(2, dtype="float32").dtype == pydl.float32
    with pytest.raises(ValueError, match="float16"):
        Dense(2, dtype="float16")



def test_a_layer_casts_floating_inputs_to_its_dtype_and_the_cast_has_a_gradient():
    layer = Dense(2, dtype="float64", kernel_initializer="ones")
    x = pydl.ones(3, 4, requires_grad=True)  # float32
    out = layer(x)
    assert out.dtype == pydl.float64
    out.sum().backward()
    assert x.grad.dtype == pydl.float32
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 4), 2.0))  # d/dx sum(x @ ones(4, 2))
    # a layer without weights or a dtype of its own keeps its input's dtype, also once reloaded
    assert L.Activation("tanh")(out).dtype == pydl.float64
    assert L.Activation.from_config(L.Activation("tanh").get_config())(out).dtype == pydl.float64
    assert L.Activation("tanh", dtype="float32")(out).dtype == pydl.float32
    assert Dense.from_config(layer.get_config()).dtype == pydl.float64


# ---- trainable
def test_layer_trainable_weights_follow_the_flag_even_if_built_frozen():
    layer = Dense(3, trainable=False)
    layer(pydl.ones(2, 4))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    layer.trainable = True
    assert [w.name for w in layer.trainable_weights] == [layer.kernel.name, layer.bias.name]
    assert all(w.requires_grad for w in layer.trainable_weights)
    assert layer.get_config()["trainable"] is True


# ---- activity_regularizer
def test_activity_regularizer_penalises_the_output_after_the_activation():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 3)).astype(np.float32)
    layer = Dense(4, activation="relu", activity_regularizer=regularizers.l1(0.1))
    out = layer(pydl.tensor(x)).detach().numpy()
    w, b = layer.get_weights()
    act = np.maximum(x.astype(np.float64) @ w + b, 0)
    np.testing.assert_allclose(out, act, rtol=1e-5, atol=1e-6)
    (penalty,) = layer.losses
    # Keras 3: activity_regularizer(outputs), summed over the batch (not divided by its size)
    assert penalty.item() == pytest.approx(0.1 * np.abs(act).sum(), rel=1e-5)


def test_activity_regularizer_is_in_the_base_layer_and_round_trips():
    from pydl.layers import Activation
    layer = Activation("tanh", activity_regularizer=regularizers.l2(0.25))
    x = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
    layer(pydl.tensor(x))
    assert layer.losses[0].item() == pytest.approx(0.25 * (np.tanh(x.astype(np.float64)) ** 2).sum(), rel=1e-5)
    clone = Activation.from_config(layer.get_config())
    assert clone.activity_regularizer.get_config() == {"l2": 0.25}
