"""Model training arguments and data handling: freezing (trainable), evaluate/predict verbosity
and callbacks, class_weight in train_on_batch, shapes given as ints, Keras 1 aliases given with
their new names, float64 models, activity regularisation, non-finite data and a new user's
mistakes. Every expected value is computed here with NumPy."""
import warnings

import numpy as np
import pytest

import pydl
from pydl import callbacks as C
from pydl import regularizers
from pydl.layers import Dense, Input
from pydl.models import Sequential
from pydl.optimizers import SGD, Adam
from pydl.utils import to_categorical


def blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 0], [-2, 0], [0, 2.5]], dtype=np.float32)
    y = rng.integers(0, 3, n)
    x = centers[y] + rng.standard_normal((n, 2)).astype(np.float32) * 0.6
    return x, y


def two_layer(opt=None, metrics=("accuracy",)):
    pydl.manual_seed(0)
    m = Sequential([Dense(8, activation="relu", input_shape=(2,)), Dense(3, activation="softmax")])
    m.compile(loss="categorical_crossentropy", optimizer=opt or Adam(learning_rate=0.01), metrics=list(metrics))
    return m


def same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


# ---------------------------------------------------------------- freezing
def test_freezing_a_layer_after_fit_takes_effect_on_recompile():
    x, y = blobs()
    m = two_layer()
    m.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    m.layers[0].trainable = False
    m.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=0.01))
    frozen, other = m.layers[0].get_weights(), m.layers[1].get_weights()
    m.fit(x, to_categorical(y, 3), epochs=2, verbose=0)
    assert same(m.layers[0].get_weights(), frozen)
    assert not same(m.layers[1].get_weights(), other)
    # and unfreezing, then compiling again, trains it again
    m.layers[0].trainable = True
    m.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=0.01))
    m.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    assert not same(m.layers[0].get_weights(), frozen)


def test_freezing_with_the_same_optimizer_object_recompiled():
    # compile(optimizer=opt) again with the optimizer that already trained the layer
    x, y = blobs()
    opt = SGD(learning_rate=0.1, momentum=0.9)
    m = two_layer(opt=opt)
    m.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    m.layers[0].trainable = False
    m.compile(loss="categorical_crossentropy", optimizer=opt)
    frozen = m.layers[0].get_weights()
    m.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    assert same(m.layers[0].get_weights(), frozen)


def test_model_trainable_false_freezes_every_layer(capsys):
    x, y = blobs()
    m = two_layer()
    n_params = 2 * 8 + 8 + 8 * 3 + 3
    m.trainable = False
    assert all(not l.trainable for l in m.layers)
    assert m.trainable_weights == [] and m.parameters() == []
    assert len(m.non_trainable_weights) == 4
    m.summary()
    out = capsys.readouterr().out
    assert "Trainable params: 0" in out and f"Non-trainable params: {n_params}" in out
    m.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=0.01))
    before = m.get_weights()
    h = m.fit(x, to_categorical(y, 3), epochs=2, verbose=0)
    assert same(m.get_weights(), before)
    assert h.history["loss"][0] == pytest.approx(h.history["loss"][1], rel=1e-6)  # nothing learnt
    m.trainable = True
    assert all(l.trainable for l in m.layers) and len(m.trainable_weights) == 4
    m.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=0.01))
    m.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    assert not same(m.get_weights(), before)


def test_trainable_weights_and_summary_follow_the_flag(capsys):
    m = Sequential([Dense(4, input_shape=(3,)), Dense(2, trainable=False)])
    assert [w.name for w in m.trainable_weights] == [m.layers[0].kernel.name, m.layers[0].bias.name]
    assert len(m.non_trainable_weights) == 2
    m.summary()
    assert "Trainable params: 16" in capsys.readouterr().out
    # a layer built while frozen becomes trainable when unfrozen
    m.layers[1].trainable = True
    assert len(m.trainable_weights) == 4 and m.non_trainable_weights == []
    m.summary()
    assert "Trainable params: 26" in capsys.readouterr().out


def test_changing_trainable_without_recompiling_warns_and_keeps_the_compiled_state():
    # Keras: the trainable state is the one at compile, until the model is compiled again
    x, y = blobs()
    m = two_layer()
    m.layers[1].trainable = False  # after compile, before the first fit
    before = m.layers[1].get_weights()
    with pytest.warns(UserWarning, match="compile"):
        m.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    assert not same(m.layers[1].get_weights(), before)
    m.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=0.01))
    before = m.layers[1].get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    assert same(m.layers[1].get_weights(), before)
    assert m.layers[1].kernel.grad is None  # a frozen weight records no gradient
    assert m.layers[1].kernel.requires_grad  # and is left ready to be unfrozen


def test_a_layer_shared_by_two_models_trains_in_the_one_compiled_with_it_trainable():
    # the GAN recipe: the discriminator compiled trainable on its own, frozen inside the stack
    rng = np.random.default_rng(6)
    x = rng.standard_normal((16, 2)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    shared = Dense(4, input_shape=(2,))
    alone = Sequential([shared, Dense(1)])
    alone.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
    shared.trainable = False
    stacked = Sequential([shared, Dense(1)])
    stacked.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
    before = shared.get_weights()
    stacked.train_on_batch(x, y)
    assert same(shared.get_weights(), before)
    with pytest.warns(UserWarning, match="compile"):
        alone.train_on_batch(x, y)
    assert not same(shared.get_weights(), before)


def test_parameters_docstring_says_what_the_optimizer_holds():
    assert "construction" in Sequential.parameters.__doc__


# ---------------------------------------------------------------- evaluate / predict: verbose, callbacks
class Recorder(C.Callback):
    """Records (hook, [batch,] logs) for every hook in HOOKS."""

    HOOKS = ("on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
             "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end",
             "on_train_begin", "on_epoch_end")

    def __init__(self):
        super().__init__()
        self.calls = []


def _recording(name):
    def hook(self, *args):
        logs = args[-1] if args else None
        self.calls.append((name,) + tuple(args[:-1]) + (dict(logs) if logs else {},))
    return hook


for _name in Recorder.HOOKS:
    setattr(Recorder, _name, _recording(_name))


def test_evaluate_calls_the_test_hooks_with_keras_logs():
    x, y = blobs(80)
    m = two_layer()
    rec = Recorder()
    result = m.evaluate(x, to_categorical(y, 3), batch_size=32, verbose=0, callbacks=[rec], return_dict=True)
    names = [c[0] for c in rec.calls]
    assert names == ["on_test_begin"] + ["on_test_batch_begin", "on_test_batch_end"] * 3 + ["on_test_end"]
    assert [c[1] for c in rec.calls if c[0] == "on_test_batch_end"] == [0, 1, 2]
    assert rec.calls[-1][-1] == pytest.approx(result)
    assert set(rec.calls[2][-1]) == {"loss", "accuracy"}
    assert rec.params["steps"] == 3
    # the batch logs are running means over the samples seen so far (Keras's)
    p = m.predict(x, verbose=0)
    ce = -np.log(np.sum(p * to_categorical(y, 3), axis=1).astype(np.float64))
    assert rec.calls[2][-1]["loss"] == pytest.approx(ce[:32].mean(), rel=1e-4)
    assert rec.calls[4][-1]["loss"] == pytest.approx(ce[:64].mean(), rel=1e-4)
    assert result["loss"] == pytest.approx(ce.mean(), rel=1e-4)


def test_predict_calls_the_predict_hooks_with_batch_outputs():
    x, _ = blobs(80)
    m = two_layer()
    rec = Recorder()
    p = m.predict(x, batch_size=32, verbose=0, callbacks=[rec])
    names = [c[0] for c in rec.calls]
    assert names == ["on_predict_begin"] + ["on_predict_batch_begin", "on_predict_batch_end"] * 3 + ["on_predict_end"]
    outs = [c[-1]["outputs"] for c in rec.calls if c[0] == "on_predict_batch_end"]
    assert [len(o) for o in outs] == [32, 32, 16]
    np.testing.assert_array_equal(np.concatenate(outs), p)


def test_fit_validation_runs_the_test_hooks_each_epoch():
    # as Keras: fit's validation pass is an evaluate with the same callbacks
    x, y = blobs(96)
    m = two_layer()
    rec = Recorder()
    m.fit(x, to_categorical(y, 3), epochs=2, batch_size=32, verbose=0, validation_split=0.25, callbacks=[rec])
    names = [c[0] for c in rec.calls]
    assert names.count("on_test_begin") == 2 and names.count("on_test_end") == 2
    ends = [c for c in rec.calls if c[0] == "on_test_end"]
    epochs = [c for c in rec.calls if c[0] == "on_epoch_end"]
    assert ends[1][-1]["loss"] == pytest.approx(epochs[1][-1]["val_loss"])


def test_evaluate_and_predict_verbose_print_a_progress_bar(capsys):
    x, y = blobs(80)
    m = two_layer()
    m.evaluate(x, to_categorical(y, 3), batch_size=32, verbose=0)
    m.predict(x, batch_size=32, verbose=0)
    assert capsys.readouterr().out == ""
    m.evaluate(x, to_categorical(y, 3), batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "3/3 [" in out and "loss:" in out and "accuracy:" in out and out.endswith("\n")
    m.evaluate(x, to_categorical(y, 3), batch_size=32, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "loss:" in lines[0]
    m.predict(x, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "3/3 [" in out and out.endswith("\n")


def test_fit_progress_bar_does_not_show_the_validation_batches(capsys):
    x, y = blobs(96)
    m = two_layer()
    m.fit(x, to_categorical(y, 3), epochs=2, batch_size=32, verbose=2, validation_split=0.25)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all("val_loss:" in l for l in lines)


# ---------------------------------------------------------------- class_weight in train_on_batch
def test_train_on_batch_applies_class_weight():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 2))
    labels = np.array([0, 1, 1, 0, 1, 0])
    y = labels[:, None].astype(np.float64)
    w0 = rng.standard_normal((2, 1)).astype(np.float32)
    b0 = np.array([0.1], np.float32)

    def model():
        m = Sequential([Dense(1, input_shape=(2,))])
        m.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
        m.set_weights([w0, b0])
        return m

    cw = {0: 1.0, 1: 4.0}
    weights = np.array([cw[c] for c in labels])
    pred = x @ w0.astype(np.float64) + b0
    expected = np.sum(weights * ((pred - y) ** 2)[:, 0]) / len(x)  # Keras: sum over the batch size
    m = model()
    loss = m.train_on_batch(x, y, class_weight=cw)
    assert loss == pytest.approx(expected, rel=1e-5)
    ref = model()
    ref.train_on_batch(x, y, sample_weight=weights)
    for a, b in zip(m.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    with pytest.raises(TypeError, match="class_weight"):
        model().train_on_batch(x, y, class_weight=[1.0, 4.0])


# ---------------------------------------------------------------- shapes given as ints
def test_an_int_input_shape_builds_the_model():
    m = Sequential([Dense(3, input_shape=4)])
    assert m.layers[0].kernel.shape == (4, 3) and m.layers[0].input_shape == (None, 4)
    m2 = Sequential([Input(shape=784), Dense(2)])
    assert m2.layers[0].kernel.shape == (784, 2)
    m3 = Sequential([Dense(2, batch_input_shape=(None, 5))])
    assert m3.layers[0].kernel.shape == (5, 2)


def test_sequential_build_accepts_an_int():
    m = Sequential([Dense(2)])
    m.build(7)
    assert m.layers[0].kernel.shape == (7, 2)
    with pytest.raises(TypeError, match="build"):
        Sequential([Dense(2)]).build("7")


# ---------------------------------------------------------------- Keras 1 aliases with their new names
def test_nb_epoch_and_epochs_together_raise():
    x, y = blobs(32)
    m = two_layer()
    before = m.get_weights()
    with pytest.raises(TypeError, match="nb_epoch.*epochs"):
        m.fit(x, to_categorical(y, 3), nb_epoch=2, epochs=3, verbose=0)
    assert same(m.get_weights(), before)
    with pytest.warns(DeprecationWarning, match="nb_epoch"):
        h = m.fit(x, to_categorical(y, 3), nb_epoch=2, verbose=0)
    assert len(h.history["loss"]) == 2


# ---------------------------------------------------------------- float64 models
def test_float64_model_trains_in_float64():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 1))
    w0 = rng.standard_normal((3, 1))
    m = Sequential([Dense(1, input_shape=(3,), dtype="float64")])
    m.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
    m.set_weights([w0, np.zeros(1)])
    assert m.predict(x, verbose=0).dtype == np.float64
    np.testing.assert_allclose(m.predict(x, verbose=0), x @ w0, rtol=1e-13)
    loss = m.train_on_batch(x, y)
    r = x @ w0 - y
    assert loss == pytest.approx(np.mean(r ** 2), rel=1e-13)
    w1 = w0 - 0.1 * 2 * x.T @ r / len(x)
    b1 = -0.1 * 2 * r.sum(0) / len(x)
    w, b = m.get_weights()
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, w1, rtol=1e-12)  # float32 would be off by ~1e-7
    np.testing.assert_allclose(b, b1, rtol=1e-12)
    # fit and evaluate too
    m.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    r = x @ w1 + b1 - y
    w2 = w1 - 0.1 * 2 * x.T @ r / len(x)
    np.testing.assert_allclose(m.get_weights()[0], w2, rtol=1e-12)
    r2 = x @ w2 + m.get_weights()[1] - y
    assert m.evaluate(x, y, verbose=0) == pytest.approx(np.mean(r2 ** 2), rel=1e-12)


def test_a_float64_sequential_passes_gradcheck_on_its_loss():
    pydl.manual_seed(0)
    m = Sequential([Dense(4, activation="tanh", input_shape=(3,), dtype="float64",
                          kernel_regularizer=regularizers.l2(0.1), activity_regularizer=regularizers.l1(0.01)),
                    Dense(2, activation="sigmoid", dtype="float64")])
    rng = np.random.default_rng(1)
    x = pydl.tensor(rng.standard_normal((6, 3)), dtype=pydl.float64)
    y = pydl.tensor(rng.random((6, 2)), dtype=pydl.float64)
    loss_fn = pydl.losses.get("binary_crossentropy")

    def loss(*weights):  # the weights are the model's own tensors: gradcheck perturbs them in place
        out = m(x, training=True)
        total = loss_fn(y, out)
        for layer in m.layers:
            for t in layer.regularization_losses() + list(layer.losses):
                total = total + t
        return total

    assert all(w.dtype == pydl.float64 for w in m.weights)
    assert pydl.utils.gradcheck(loss, m.trainable_weights)


def test_mixed_dtypes_cast_inputs_to_each_layers_dtype():
    # Keras's rule: a layer casts floating inputs to its own dtype
    rng = np.random.default_rng(2)
    m = Sequential([Dense(4, input_shape=(3,)), Dense(2, dtype="float64")])
    m.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    w1, b1, w2, b2 = m.get_weights()
    p = m.predict(x, verbose=0)
    assert p.dtype == np.float64
    h = (x @ w1 + b1).astype(np.float64)
    np.testing.assert_allclose(p, h @ w2 + b2, rtol=1e-6)
    m.fit(x, rng.standard_normal((5, 2)), epochs=1, verbose=0)
    assert all(np.isfinite(w).all() for w in m.get_weights())
    assert m.get_weights()[0].dtype == np.float32 and m.get_weights()[2].dtype == np.float64


# ---------------------------------------------------------------- activity_regularizer
def test_activity_regularizer_on_a_fused_softmax_output_is_in_the_loss():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 2)).astype(np.float32)
    labels = rng.integers(0, 3, 8)
    m = Sequential([Dense(3, activation="softmax", input_shape=(2,), activity_regularizer=regularizers.l2(0.5))])
    m.compile(loss="categorical_crossentropy", optimizer="sgd")
    w, b = m.get_weights()
    z = x.astype(np.float64) @ w + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    ce = -np.log(p[np.arange(8), labels]).mean()
    expected = ce + 0.5 * (p ** 2).sum()
    assert m.evaluate(x, to_categorical(labels, 3), batch_size=8, verbose=0) == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------- non-finite data
def _nan_at(a, row):
    a = np.array(a, dtype=np.float32, copy=True)
    a.reshape(len(a), -1)[row, 0] = np.nan
    return a


@pytest.mark.parametrize("where", ["fit y", "val x", "val y", "evaluate x", "evaluate y", "predict x",
                                   "train_on_batch x", "train_on_batch y", "test_on_batch y",
                                   "fit sample_weight"])
def test_non_finite_data_is_refused_everywhere(where):
    x, y = blobs(40)
    yc = to_categorical(y, 3)
    m = two_layer()
    before = m.get_weights()
    fn, arg = where.split()
    calls = {
        "fit y": lambda: m.fit(x, _nan_at(yc, 3), verbose=0),
        "val x": lambda: m.fit(x, yc, validation_data=(_nan_at(x[:10], 3), yc[:10]), verbose=0),
        "val y": lambda: m.fit(x, yc, validation_data=(x[:10], _nan_at(yc[:10], 3)), verbose=0),
        "evaluate x": lambda: m.evaluate(_nan_at(x, 3), yc, verbose=0),
        "evaluate y": lambda: m.evaluate(x, _nan_at(yc, 3), verbose=0),
        "predict x": lambda: m.predict(_nan_at(x, 3), verbose=0),
        "train_on_batch x": lambda: m.train_on_batch(_nan_at(x, 3), yc),
        "train_on_batch y": lambda: m.train_on_batch(x, _nan_at(yc, 3)),
        "test_on_batch y": lambda: m.test_on_batch(x, _nan_at(yc, 3)),
        "fit sample_weight": lambda: m.fit(x, yc, sample_weight=_nan_at(np.ones(40), 3), verbose=0),
    }
    what = {"val": "fit: validation_data"}.get(fn, fn)
    with pytest.raises(ValueError, match=rf"{what}.*{arg} contains NaN or inf.*row 3"):
        calls[where]()
    assert same(m.get_weights(), before)


# ---------------------------------------------------------------- a new user's mistakes
def test_predict_with_the_wrong_sample_shape_names_predict_and_the_shapes():
    m = two_layer()
    with pytest.raises(ValueError, match=r"predict: .*\(2,\).*\(5,\).*\(3, 5\)"):
        m.predict(np.zeros((3, 5)), verbose=0)
    with pytest.raises(ValueError, match=r"predict: .*no batch axis.*x\[None\]"):
        m.predict(np.zeros(2), verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: .*\(2,\).*\(4,\)"):
        m.evaluate(np.zeros((3, 4)), np.zeros((3, 3)), verbose=0)
    with pytest.raises(ValueError, match=r"predict: x has no samples \(shape \(0, 2\)\)"):
        m.predict(np.zeros((0, 2)), verbose=0)
    with pytest.raises(ValueError, match=r"predict: x must be an array .*3\.0"):
        m.predict(3.0, verbose=0)
    with pytest.raises(ValueError, match=r"fit: x is missing"):
        m.fit(None, np.zeros((3, 3)), verbose=0)


def test_y_with_the_wrong_number_of_rows_names_the_function():
    x, y = blobs(40)
    m = two_layer()
    for fn in (lambda: m.evaluate(x, to_categorical(y, 3)[:39], verbose=0),
               lambda: m.train_on_batch(x, to_categorical(y, 3)[:39])):
        with pytest.raises(ValueError, match=r"(evaluate|train_on_batch): x has 40 samples but y has 39"):
            fn()
    with pytest.raises(ValueError, match=r"fit: validation_data: x has 10 samples but y has 9"):
        m.fit(x, to_categorical(y, 3), validation_data=(x[:10], to_categorical(y, 3)[:9]), verbose=0)


def test_string_labels_get_a_type_error_with_a_hint():
    x, _ = blobs(6)
    m = two_layer()
    with pytest.raises(TypeError, match=r"fit: y holds strings .*'cat'.*integers"):
        m.fit(x, np.array(["cat", "dog", "cat", "bird", "dog", "cat"]), verbose=0)
    with pytest.raises(TypeError, match=r"predict: x holds strings"):
        m.predict(np.array([["1", "2"]]), verbose=0)


def test_a_layer_added_after_fit_is_trained_and_its_gradients_cleared():
    # The trained weights are fixed at the first step after compile or after the stack changes:
    # a layer added later trains too (and its .grad is cleared every step, not accumulated).
    x, y = blobs()
    pydl.manual_seed(0)
    m = Sequential([Dense(8, activation="relu", input_shape=(2,))])
    m.compile(loss="mse", optimizer=SGD(learning_rate=0.05))
    m.fit(x, np.zeros((len(x), 8), np.float32), epochs=1, batch_size=32, verbose=0)
    m.add(Dense(3, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=SGD(learning_rate=0.05))
    new = m.layers[-1]
    before = [w.detach().numpy().copy() for w in new.weights]
    m.fit(x, to_categorical(y, 3), epochs=1, batch_size=96, verbose=0)
    assert not any(np.array_equal(a, w.detach().numpy()) for a, w in zip(before, new.weights))
    m.add(Dense(3, activation="softmax"))  # added without compiling again: trained at the next step
    last = m.layers[-1]
    m.fit(x, to_categorical(y, 3), epochs=1, batch_size=96, verbose=0)
    g1 = last.kernel.grad.detach().numpy().copy()
    w1 = last.kernel.detach().numpy().copy()
    m.fit(x, to_categorical(y, 3), epochs=1, batch_size=96, verbose=0, shuffle=False)
    # one full batch with SGD: the change of the kernel is -lr times this step's gradient alone
    np.testing.assert_allclose(last.kernel.detach().numpy() - w1, -0.05 * last.kernel.grad.detach().numpy(),
                               rtol=1e-5, atol=1e-7)
    assert not np.allclose(g1 * 2, last.kernel.grad.detach().numpy())
