"""pydl.layers.normalization: BatchNormalization (batch statistics in training, moving
statistics in inference, Keras's momentum convention checked by hand in NumPy, trainable=False
freezing them during fit, parameter counts as Keras), LayerNormalization and
GroupNormalization against NumPy, axis handling for NCHW, config and save/load round trips,
and one training step lowering the loss."""
import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.layers import BatchNormalization, GroupNormalization, Input, LayerNormalization
from pydl.models import Sequential, load_model


def _x(shape, seed=0, loc=0.0, scale=1.0):
    return np.random.default_rng(seed).normal(loc, scale, shape).astype(np.float32)


def np_bn(x, mean, var, gamma, beta, eps, axis=1):
    shape = [1] * x.ndim
    shape[axis] = -1
    r = lambda a: np.asarray(a, dtype=np.float64).reshape(shape)  # noqa: E731
    return (x - r(mean)) / np.sqrt(r(var) + eps) * r(gamma) + r(beta)


def batch_moments(x, axis=1):
    axes = tuple(a for a in range(x.ndim) if a != axis)
    x = x.astype(np.float64)
    return x.mean(axis=axes), x.var(axis=axes)  # biased, as Keras


# ---------------------------------------------------------------- BatchNormalization
def test_parameter_counts_as_keras():
    model = Sequential([Input(shape=(32, 5, 5)), BatchNormalization()])
    bn = model.layers[-1]
    assert bn.count_params() == 128
    assert sum(int(np.prod(w.shape)) for w in bn.non_trainable_weights) == 64
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 64
    lines = []
    model.summary(print_fn=lines.append)
    assert "Non-trainable params: 64" in lines[0] and "Total params: 128" in lines[0]
    assert [w.name.split("/")[-1] for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    no_affine = BatchNormalization(center=False, scale=False)
    no_affine(pydl.tensor(_x((2, 7))))
    assert no_affine.count_params() == 14 and no_affine.trainable_weights == []


def test_training_call_uses_batch_statistics_and_updates_moving_ones_by_hand():
    rng = np.random.default_rng(1)
    bn = BatchNormalization(momentum=0.9, epsilon=1e-3)
    bn(pydl.tensor(_x((2, 3, 4, 4))))  # builds: moving_mean 0, moving_variance 1
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    bn.set_weights([gamma, beta, np.zeros(3), np.ones(3)])
    mm, mv = np.zeros(3), np.ones(3)
    for step in range(3):
        x = _x((5, 3, 4, 4), seed=10 + step, loc=2.0 + step, scale=3.0)
        y = bn(pydl.tensor(x), training=True).detach().numpy()
        m, v = batch_moments(x)
        np.testing.assert_allclose(y, np_bn(x, m, v, gamma, beta, 1e-3), rtol=1e-4, atol=1e-4)
        # Keras: moving = moving * momentum + batch * (1 - momentum), with the biased variance
        mm, mv = mm * 0.9 + m * 0.1, mv * 0.9 + v * 0.1
        got = bn.get_weights()
        np.testing.assert_allclose(got[2], mm, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got[3], mv, rtol=1e-5, atol=1e-6)


def test_inference_uses_moving_statistics_and_leaves_them():
    bn = BatchNormalization(epsilon=0.01)
    x = _x((4, 2), seed=3)
    bn(pydl.tensor(x))
    weights = [np.array([2.0, 0.5]), np.array([0.1, -1.0]), np.array([0.3, -0.2]), np.array([1.5, 0.25])]
    bn.set_weights(weights)
    for training in (None, False):
        y = bn(pydl.tensor(x), training=training).detach().numpy()
        np.testing.assert_allclose(y, np_bn(x, weights[2], weights[3], weights[0], weights[1], 0.01), rtol=1e-5)
    for got, want in zip(bn.get_weights(), weights):
        np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float32))


def test_train_and_inference_outputs_differ():
    bn = BatchNormalization()
    x = pydl.tensor(_x((8, 3), seed=4, loc=5.0, scale=2.0))
    y_train = bn(x, training=True).detach().numpy()
    bn2 = BatchNormalization()
    y_infer = bn2(x, training=False).detach().numpy()
    # batch statistics centre each feature; the fresh moving statistics (0, 1) do not
    np.testing.assert_allclose(y_train.mean(axis=0), 0, atol=1e-5)
    assert np.all(y_infer.mean(axis=0) > 3)


def test_moving_statistics_stay_outside_the_graph():
    bn = BatchNormalization()
    x = pydl.tensor(_x((6, 4), seed=5), requires_grad=True)
    y = bn(x, training=True)
    assert not bn.moving_mean.requires_grad and bn.moving_mean.grad_fn is None
    assert bn.moving_variance.grad_fn is None
    (y * y).sum().backward()
    assert bn.moving_mean.grad is None and bn.moving_variance.grad is None
    assert bn.gamma.grad is not None and x.grad is not None


def _bn_model(seed=0, **bn_kwargs):
    pydl.manual_seed(seed)
    model = Sequential([Input(shape=(3,)), BatchNormalization(**bn_kwargs)])
    model.compile(optimizer=pydl.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


def test_fit_trains_with_batch_statistics_predict_and_evaluate_use_moving_ones():
    x = _x((16, 3), seed=6, loc=3.0, scale=2.0)
    y = _x((16, 3), seed=7)
    model = _bn_model(momentum=0.8)
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)  # one step, on all of x
    gamma, beta, mm, mv = model.get_weights()
    m, v = batch_moments(x)
    np.testing.assert_allclose(mm, 0.2 * m, rtol=1e-5)
    np.testing.assert_allclose(mv, 0.8 + 0.2 * v, rtol=1e-5)
    # one SGD step on mse with batch statistics: dL/dbeta = 2 mean(out - y) per feature, out = xhat
    xhat = (x - m) / np.sqrt(v + 1e-3)
    np.testing.assert_allclose(beta, -0.1 * 2 * (xhat - y).mean(axis=0) / 3, rtol=1e-4, atol=1e-6)
    # predict / evaluate: the moving statistics, which differ from the batch's
    want = np_bn(x, mm, mv, gamma, beta, 1e-3)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-4, atol=1e-5)
    loss = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(loss, ((want - y) ** 2).mean(), rtol=1e-4)
    np.testing.assert_array_equal(model.get_weights()[2], mm)  # evaluate/predict leave them


def test_trainable_false_freezes_the_statistics_during_fit():
    x = _x((16, 3), seed=8, loc=3.0, scale=2.0)
    y = _x((16, 3), seed=9)
    model = _bn_model()
    bn = model.layers[-1]
    bn.set_weights([np.full(3, 1.5), np.full(3, 0.2), np.array([1.0, 2.0, 3.0]), np.array([4.0, 1.0, 0.5])])
    before = model.get_weights()
    bn.trainable = False
    model.compile(optimizer=pydl.optimizers.SGD(learning_rate=0.1), loss="mse")
    hist = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    # and the layer ran in inference mode during fit: the reported loss is the moving-statistics one
    want = np_bn(x, before[2], before[3], before[0], before[1], 1e-3)
    np.testing.assert_allclose(hist.history["loss"][-1], ((want - y) ** 2).mean(), rtol=1e-4)
    out = bn(pydl.tensor(x), training=True).detach().numpy()
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)


def test_axis_choices_for_nchw():
    x = _x((4, 3, 5, 6), seed=11)
    for axis in (1, -3, [1]):
        bn = BatchNormalization(axis=axis)
        y = bn(pydl.tensor(x), training=True).detach().numpy()
        m, v = batch_moments(x, 1)
        np.testing.assert_allclose(y, np_bn(x, m, v, 1, 0, 1e-3, 1), rtol=1e-4, atol=1e-4)
    for axis in (-1, 2, 3, -2):
        with pytest.raises(ValueError, match=r"spatial axis of the NCHW images.*channel axis is 1"):
            BatchNormalization(axis=axis)(pydl.tensor(x))
    with pytest.raises(ValueError, match="batch axis"):
        BatchNormalization(axis=0)(pydl.tensor(x))
    with pytest.raises(ValueError, match="out of range"):
        BatchNormalization(axis=4)(pydl.tensor(x))
    flat = _x((6, 4), seed=12)
    y1 = BatchNormalization(axis=-1)(pydl.tensor(flat), training=True).detach().numpy()
    y2 = BatchNormalization()(pydl.tensor(flat), training=True).detach().numpy()
    np.testing.assert_array_equal(y1, y2)


def test_last_axis_of_a_sequence():
    # (batch, time, features) with axis=-1: statistics per feature over batch and time, as Keras
    x = _x((3, 5, 4), seed=13, loc=1.0)
    bn = BatchNormalization(axis=-1, momentum=0.5)
    y = bn(pydl.tensor(x), training=True).detach().numpy()
    m, v = batch_moments(x, 2)
    np.testing.assert_allclose(y, np_bn(x, m, v, 1, 0, 1e-3, 2), rtol=1e-4, atol=1e-4)
    assert bn.gamma.shape == (4,)
    np.testing.assert_allclose(bn.get_weights()[2], 0.5 * m, rtol=1e-5)
    np.testing.assert_allclose(bn.get_weights()[3], 0.5 + 0.5 * v, rtol=1e-5)


def test_batch_norm_regularizer_and_float64():
    bn = BatchNormalization(gamma_regularizer=pydl.regularizers.L2(0.5), gamma_initializer="ones", dtype="float64")
    bn(pydl.tensor(np.ones((2, 3))), training=True)
    assert bn.gamma.dtype == pydl.float64 and bn.moving_mean.dtype == pydl.float64
    (pen,) = bn.regularization_losses()
    assert pen.item() == pytest.approx(0.5 * 3)


def test_batch_norm_argument_errors():
    with pytest.raises(ValueError, match="momentum must be in"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="synchronized=True"):
        BatchNormalization(synchronized=True)
    with pytest.raises(ValueError, match="gamma_constraint is not supported"):
        BatchNormalization(gamma_constraint="non_neg")
    with pytest.raises(ValueError, match="epsilon must be"):
        BatchNormalization(epsilon=-1)
    with pytest.raises(TypeError, match="axis must be an int"):
        BatchNormalization(axis=(1, 2))
    with pytest.raises(TypeError, match="center must be a bool"):
        BatchNormalization(center="yes")
    with pytest.raises(TypeError, match="unexpected arguments"):
        BatchNormalization(renorm=True)


def test_batch_norm_config_round_trip():
    layer = BatchNormalization(axis=-1, momentum=0.9, epsilon=1e-4, center=False, gamma_initializer="he_normal",
                               moving_variance_initializer="zeros", gamma_regularizer="l2", name="bn_x")
    cfg = layer.get_config()
    assert cfg["momentum"] == 0.9 and cfg["axis"] == -1 and cfg["center"] is False
    clone = BatchNormalization.from_config(cfg)
    assert clone.get_config() == cfg
    again = L.deserialize(L.serialize(layer))
    assert type(again) is BatchNormalization and again.get_config() == cfg


def _cnn(norm):
    pydl.manual_seed(0)
    return Sequential([Input(shape=(2, 6, 6)), L.Conv2D(4, 3, padding="same"), norm, L.Activation("relu"),
                       L.Flatten(), L.Dense(3, activation="softmax")])


@pytest.mark.parametrize("make", [lambda: BatchNormalization(momentum=0.5), lambda: GroupNormalization(2),
                                  lambda: LayerNormalization(axis=[1, 2, 3])])
def test_save_and_load_round_trip(tmp_path, make):
    model = _cnn(make())
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    x = _x((8, 2, 6, 6), seed=14, loc=1.0)
    model.fit(x, np.arange(8) % 3, epochs=2, batch_size=4, verbose=0)
    path = tmp_path / "norm.pydl"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.layers[1]) is type(model.layers[1])
    assert loaded.layers[1].get_config() == model.layers[1].get_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("make", [lambda: BatchNormalization(), lambda: GroupNormalization(4),
                                  lambda: LayerNormalization(axis=[1, 2, 3])])
def test_one_training_step_lowers_the_loss(make):
    model = _cnn(make())
    model.compile(loss="sparse_categorical_crossentropy", optimizer=pydl.optimizers.SGD(learning_rate=0.05))
    x = _x((12, 2, 6, 6), seed=15, loc=2.0, scale=3.0)
    y = np.arange(12) % 3
    before = model.train_on_batch(x, y)
    after = model.train_on_batch(x, y)
    assert after < before


# ---------------------------------------------------------------- LayerNormalization
@pytest.mark.parametrize("shape, axis", [((4, 6), -1), ((3, 4, 5), -1), ((3, 4, 5), [-2, -1]),
                                         ((2, 3, 4, 5), [1, 2, 3]), ((2, 3, 4, 5), (2, 3))])
def test_layer_norm_matches_numpy(shape, axis):
    x = _x(shape, seed=16, loc=1.0, scale=2.0)
    axes = [axis] if isinstance(axis, int) else list(axis)
    axes = sorted(a % len(shape) for a in axes)
    rng = np.random.default_rng(0)
    layer = LayerNormalization(axis=axis)
    layer(pydl.tensor(x))
    wshape = tuple(shape[a] for a in axes)
    assert layer.gamma.shape == wshape and layer.beta.shape == wshape
    gamma, beta = rng.normal(size=wshape), rng.normal(size=wshape)
    layer.set_weights([gamma, beta])
    xd = x.astype(np.float64)
    want = (xd - xd.mean(axis=tuple(axes), keepdims=True)) / np.sqrt(xd.var(axis=tuple(axes), keepdims=True) + 1e-3)
    want = want * gamma + beta
    for training in (True, False):
        np.testing.assert_allclose(layer(pydl.tensor(x), training=training).detach().numpy(), want, rtol=1e-4,
                                   atol=1e-4)


def test_layer_norm_axis_errors_and_config():
    x = pydl.tensor(_x((2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"trailing axes only"):
        LayerNormalization(axis=1)(x)
    with pytest.raises(ValueError, match=r"trailing axes only"):
        LayerNormalization(axis=[0, 1, 2, 3])(x)
    with pytest.raises(ValueError, match=r"distinct axes"):
        LayerNormalization(axis=[-1, 3])(x)
    with pytest.raises(ValueError, match="rms_scaling"):
        LayerNormalization(rms_scaling=True)
    layer = LayerNormalization(axis=[-2, -1], epsilon=1e-5, scale=False)
    cfg = layer.get_config()
    assert cfg["axis"] == [-2, -1] and cfg["epsilon"] == 1e-5 and cfg["scale"] is False
    assert LayerNormalization.from_config(cfg).get_config() == cfg
    layer(x)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["beta"] and layer.count_params() == 20


# ---------------------------------------------------------------- GroupNormalization
@pytest.mark.parametrize("shape, groups", [((2, 6, 3, 4), 3), ((2, 6, 3, 4), 6), ((3, 4), 2), ((2, 4, 5), 1)])
def test_group_norm_matches_numpy(shape, groups):
    x = _x(shape, seed=17, loc=-1.0, scale=2.0)
    layer = GroupNormalization(groups=groups)
    layer(pydl.tensor(x))
    c = shape[1]
    rng = np.random.default_rng(1)
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    layer.set_weights([gamma, beta])
    xg = x.astype(np.float64).reshape(shape[0], groups, -1)
    want = ((xg - xg.mean(axis=2, keepdims=True)) / np.sqrt(xg.var(axis=2, keepdims=True) + 1e-3)).reshape(shape)
    bshape = (1, c) + (1,) * (len(shape) - 2)
    want = want * gamma.reshape(bshape) + beta.reshape(bshape)
    np.testing.assert_allclose(layer(pydl.tensor(x)).detach().numpy(), want, rtol=1e-4, atol=1e-4)
    assert layer.count_params() == 2 * c


def test_group_norm_errors_and_config():
    x = pydl.tensor(_x((2, 6, 3, 3)))
    with pytest.raises(ValueError, match=r"groups=32 cannot be more than the number of channels \(6"):
        GroupNormalization()(x)
    with pytest.raises(ValueError, match=r"groups=4 must divide the number of channels \(6"):
        GroupNormalization(4)(x)
    with pytest.raises(ValueError, match="spatial axis"):
        GroupNormalization(3, axis=-1)(x)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        GroupNormalization(0)
    ok = GroupNormalization(3, axis=-3)
    ok(x)
    assert ok.gamma.shape == (6,)
    layer = GroupNormalization(groups=2, epsilon=1e-2, center=False, beta_regularizer="l1")
    cfg = layer.get_config()
    assert cfg["groups"] == 2 and cfg["axis"] == 1 and cfg["epsilon"] == 1e-2
    assert GroupNormalization.from_config(cfg).get_config() == cfg


def test_a_failed_training_step_leaves_the_moving_statistics():
    # BatchNormalization -> Dense(2) -> Dense(1) in float32 with W1 = 1e38 I and W2 = 0: h1 = xhat 1e38
    # is finite, y = 0, and with targets ±1e3 of xhat's sign dW2 = Σ h1 dy = -250e38 Σ|xhat| overflows.
    # fit stops before the step changes any weight, and that includes the moving statistics the
    # forward pass had already updated.
    model = Sequential([Input(shape=(2,)), BatchNormalization(), L.Dense(2), L.Dense(1)])
    model.compile(loss="mse", optimizer=pydl.optimizers.SGD(learning_rate=0.1))
    x = np.stack([np.arange(8.0), np.arange(8.0)[::-1] ** 2], axis=1).astype(np.float32)
    model.build()
    bn = model.layers[0]
    bn.set_weights([np.ones(2), np.zeros(2), np.array([0.5, -0.5]), np.array([2.0, 3.0])])
    model.layers[1].set_weights([np.eye(2) * 1e38, np.zeros(2)])
    model.layers[2].set_weights([np.zeros((2, 1)), np.zeros(1)])
    y = (1e3 * np.sign(x[:, :1] - x[:, :1].mean())).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(pydl.optimizers.NonFiniteGradientError, match=r"\(Dense\)"):
        model.fit(x, y, batch_size=8, verbose=0)
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    with pytest.raises(pydl.optimizers.NonFiniteGradientError):
        model.train_on_batch(x, y)
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)


def test_layer_gradients_through_the_axis_reshape_gradcheck():
    # BatchNormalization on the last axis of (batch, time, features) views x as (batch*time,
    # features, 1) for the op: the gradient through that view, and gamma's and beta's, in float64.
    from pydl.utils import gradcheck
    bn = BatchNormalization(axis=-1, dtype="float64", gamma_initializer="random_normal",
                            beta_initializer="random_normal")
    x = pydl.tensor(np.random.default_rng(19).normal(size=(3, 4, 5)), dtype=pydl.float64, requires_grad=True)
    bn(x)
    assert gradcheck(lambda t, g, b: bn(t, training=True), [x, bn.gamma, bn.beta])
    ln = LayerNormalization(axis=[-2, -1], dtype="float64", gamma_initializer="random_normal")
    ln(x)
    assert gradcheck(lambda t, g: ln(t), [x, ln.gamma])


def test_a_batch_of_one_trains_as_keras():
    # Keras normalises a single sample with its own statistics (variance 0): the output is beta,
    # and the moving variance decays towards 0 (PyTorch's functional form refuses this batch).
    bn = BatchNormalization(momentum=0.75)
    x = np.array([[3.0, -2.0]], dtype=np.float32)
    bn(pydl.tensor(x))
    bn.set_weights([np.array([2.0, 3.0]), np.array([0.5, -0.5]), np.zeros(2), np.ones(2)])
    y = bn(pydl.tensor(x), training=True).detach().numpy()
    np.testing.assert_allclose(y, [[0.5, -0.5]], atol=1e-6)
    np.testing.assert_allclose(bn.get_weights()[2], [0.75, -0.5], rtol=1e-6)
    np.testing.assert_allclose(bn.get_weights()[3], [0.75, 0.75], rtol=1e-6)
