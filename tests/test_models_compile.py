"""Model.compile and the loss / metric plumbing of fit and evaluate (pydl/models/model.py): metric
state per pass, the softmax/sigmoid + crossentropy fusion keeping the user's loss, compile's
arguments (unknown ones, loss_weights, weighted_metrics, a metrics string), Keras-style custom
loss and metric functions, and metrics given labels of the wrong kind. Every expected value is
computed here with NumPy from the model's weights."""
import warnings

import numpy as np
import pytest

import pydl
from pydl import losses, metrics
from pydl.layers import Dense
from pydl.models import Sequential
from pydl.optimizers import SGD
from pydl.utils import to_categorical

EPS = 1e-7  # Keras's backend epsilon


def blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 0], [-2, 0], [0, 2.5]], dtype=np.float32)
    y = rng.integers(0, 3, n)
    x = centers[y] + rng.standard_normal((n, 2)).astype(np.float32) * 1.5
    return x, y


def linear_model(units=3, activation="softmax", seed=0):
    pydl.manual_seed(seed)
    return Sequential([Dense(units, activation=activation, input_shape=(2,))])


def logits_of(m, x):
    W, b = m.get_weights()
    return x.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64)


def np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_log_softmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def np_cce(p, t):  # Keras: normalise, clip, -sum t log p
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(t * np.log(p), axis=-1)


def np_bce(p, t):
    q = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(t * np.log(q) + (1 - t) * np.log(1 - q)), axis=-1)


def accuracy(m, x, y):
    return float(np.mean(m.predict(x).argmax(-1) == y))


# ---------------------------------------------------------------- 1. metric state
def test_metric_object_keeps_separate_training_and_validation_state():
    x, y = blobs(120)
    xv, yv = blobs(40, seed=1)
    yv = (yv + 1) % 3  # validation labels the model gets mostly wrong: a different accuracy
    m = linear_model()
    acc = metrics.CategoricalAccuracy()
    m.compile(loss="categorical_crossentropy", optimizer=SGD(learning_rate=0.0), metrics=[acc])
    h = m.fit(x, to_categorical(y, 3), validation_data=(xv, to_categorical(yv, 3)), epochs=3, batch_size=16,
              verbose=0)
    train_acc, val_acc = accuracy(m, x, y), accuracy(m, xv, yv)  # learning_rate 0: the weights never change
    assert abs(train_acc - val_acc) > 0.2
    np.testing.assert_allclose(h.history["accuracy"], [train_acc] * 3, rtol=1e-12)
    np.testing.assert_allclose(h.history["val_accuracy"], [val_acc] * 3, rtol=1e-12)
    for _ in range(2):  # evaluate starts from a fresh state each time
        assert m.evaluate(xv, to_categorical(yv, 3), verbose=0)[1] == pytest.approx(val_acc, rel=1e-12)


def test_metric_object_val_accuracy_matches_final_weights_while_training():
    x, y = blobs(120)
    xv, yv = blobs(48, seed=2)
    m = linear_model()
    m.compile(loss="categorical_crossentropy", optimizer=SGD(learning_rate=0.05),
              metrics=[metrics.CategoricalAccuracy()])
    h = m.fit(x, to_categorical(y, 3), validation_data=(xv, to_categorical(yv, 3)), epochs=2, verbose=0)
    assert h.history["val_accuracy"][-1] == pytest.approx(accuracy(m, xv, yv), rel=1e-12)


# ---------------------------------------------------------------- 2. the fusion keeps the user's loss
def _fit_one_full_batch(m, x, y, w, lr):
    m.fit(x, y, sample_weight=w, batch_size=len(x), epochs=1, shuffle=False, verbose=0)


def test_fused_categorical_crossentropy_keeps_label_smoothing_and_reduction():
    x, y = blobs(24)
    t = to_categorical(y, 3).astype(np.float64)
    w = np.linspace(0.5, 2.0, len(x))
    s, lr = 0.5, 0.01
    m = linear_model()
    m.compile(loss=losses.CategoricalCrossentropy(label_smoothing=s, reduction="sum"), optimizer=SGD(learning_rate=lr))
    z = logits_of(m, x)
    p = np_softmax(z)
    ts = t * (1 - s) + s / 3
    expected = np.sum(w * np_cce(p, ts))
    got = m.evaluate(x, t, sample_weight=w, batch_size=len(x), verbose=0)
    assert got == pytest.approx(expected, rel=1e-5)
    # one SGD step: d(sum_i w_i l_i)/dz_i = w_i (p_i - ts_i) since the smoothed targets sum to 1
    W, b = [a.astype(np.float64) for a in m.get_weights()]
    dz = w[:, None] * (p - ts)
    _fit_one_full_batch(m, x, t, w, lr)
    W2, b2 = m.get_weights()
    np.testing.assert_allclose(W2, W - lr * x.T.astype(np.float64) @ dz, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b2, b - lr * dz.sum(0), rtol=1e-4, atol=1e-6)


def test_fused_sparse_categorical_crossentropy_keeps_reduction():
    x, y = blobs(24)
    w = np.linspace(0.5, 2.0, len(x))
    m = linear_model()
    m.compile(loss=losses.SparseCategoricalCrossentropy(reduction="sum"), optimizer="sgd")
    p = np_softmax(logits_of(m, x))
    expected = np.sum(w * -np.log(p[np.arange(len(y)), y]))
    assert m.evaluate(x, y, sample_weight=w, batch_size=len(x), verbose=0) == pytest.approx(expected, rel=1e-5)


def test_fused_binary_crossentropy_keeps_label_smoothing_and_reduction():
    x, y = blobs(24)
    t = (y == 0).astype(np.float64)[:, None]
    s, lr = 0.2, 0.01
    m = linear_model(units=1, activation="sigmoid")
    m.compile(loss=losses.BinaryCrossentropy(label_smoothing=s, reduction="sum"), optimizer=SGD(learning_rate=lr))
    z = logits_of(m, x)
    p = 1 / (1 + np.exp(-z))
    ts = t * (1 - s) + 0.5 * s
    assert m.evaluate(x, t, batch_size=len(x), verbose=0) == pytest.approx(np.sum(np_bce(p, ts)), rel=1e-5)
    W, b = [a.astype(np.float64) for a in m.get_weights()]
    dz = p - ts  # d/dz of the summed binary crossentropy of sigmoid(z)
    _fit_one_full_batch(m, x, t, None, lr)
    W2, b2 = m.get_weights()
    np.testing.assert_allclose(W2, W - lr * x.T.astype(np.float64) @ dz, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b2, b - lr * dz.sum(0), rtol=1e-4, atol=1e-6)


def test_fused_sparse_categorical_crossentropy_keeps_ignore_class():
    x, y = blobs(24)
    y = y.astype(np.float64)
    y[::4] = 7  # ignored
    m = linear_model()
    m.compile(loss=losses.SparseCategoricalCrossentropy(ignore_class=7), optimizer="sgd")
    p = np_softmax(logits_of(m, x))
    valid = y != 7
    yi = np.where(valid, y, 0).astype(np.int64)
    expected = np.sum(-np.log(p[np.arange(len(y)), yi]) * valid) / (valid.sum() + EPS)
    assert m.evaluate(x, y, batch_size=len(x), verbose=0) == pytest.approx(expected, rel=1e-5)


def test_from_logits_loss_after_a_softmax_treats_the_probabilities_as_logits_and_warns():
    x, y = blobs(24)
    t = to_categorical(y, 3).astype(np.float64)
    m = linear_model()
    with pytest.warns(UserWarning, match="from_logits=True.*softmax"):
        m.compile(loss=losses.CategoricalCrossentropy(from_logits=True), optimizer="sgd")
    p = np_softmax(logits_of(m, x))
    expected = np.mean(-np.sum(t * np_log_softmax(p), -1))  # what the user's loss computes on p
    assert m.evaluate(x, t, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_a_crossentropy_subclass_is_not_fused():
    class Doubled(losses.CategoricalCrossentropy):
        def call(self, y_true, y_pred, sample_weight):
            return super().call(y_true, y_pred, sample_weight) * 2.0

    x, y = blobs(24)
    t = to_categorical(y, 3).astype(np.float64)
    m = linear_model()
    m.compile(loss=Doubled(), optimizer="sgd")
    expected = 2 * np.mean(np_cce(np_softmax(logits_of(m, x)), t))
    assert m.evaluate(x, t, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_reduction_none_is_refused_at_compile():
    with pytest.raises(ValueError, match="reduction='none'"):
        linear_model().compile(loss=losses.CategoricalCrossentropy(reduction="none"), optimizer="sgd")


# ---------------------------------------------------------------- 4. compile's arguments
def test_unknown_compile_arguments_raise_and_list_the_valid_ones():
    m = linear_model()
    with pytest.raises(TypeError, match=r"compile: unexpected argument.*'metric'.*did you mean 'metrics'.*"
                                        r"valid arguments: optimizer, loss, metrics, loss_weights, weighted_metrics"):
        m.compile(loss="categorical_crossentropy", optimizer="sgd", metric=["accuracy"])
    with pytest.raises(TypeError, match="'sample_weight_mode'"):
        m.compile(loss="mse", optimizer="sgd", sample_weight_mode="temporal")
    with pytest.raises(ValueError, match="steps_per_execution=4 is not supported"):
        m.compile(loss="mse", optimizer="sgd", steps_per_execution=4)
    with pytest.raises(ValueError, match="jit_compile"):
        m.compile(loss="mse", optimizer="sgd", jit_compile="xla")


def test_run_eagerly_jit_compile_auto_scale_loss_change_nothing():
    x, y = blobs(64)
    runs = []
    for kw in ({}, dict(run_eagerly=True, jit_compile=True, auto_scale_loss=False, steps_per_execution=1),
               dict(run_eagerly=False, jit_compile=False)):
        m = linear_model()
        m.compile(loss="sparse_categorical_crossentropy", optimizer=SGD(learning_rate=0.1), **kw)
        m.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=3)
        runs.append(m.get_weights())
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


def test_weighted_metrics_use_sample_weights_and_metrics_do_not():
    x, y = blobs(60)
    w = np.where(np.arange(len(x)) % 3 == 0, 3.0, 0.5)
    m = linear_model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"],
              weighted_metrics=["accuracy"])
    hit = (m.predict(x).argmax(-1) == y).astype(np.float64)
    out = m.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert list(out) == ["loss", "accuracy", "weighted_accuracy"]
    assert out["accuracy"] == pytest.approx(hit.mean(), rel=1e-12)
    assert out["weighted_accuracy"] == pytest.approx(np.sum(w * hit) / np.sum(w), rel=1e-12)
    m2 = linear_model()
    m2.compile(loss="sparse_categorical_crossentropy", optimizer=SGD(learning_rate=0.0), weighted_metrics=["accuracy"])
    h = m2.fit(x, y, sample_weight=w, epochs=1, batch_size=7, verbose=0)
    assert h.history["accuracy"][0] == pytest.approx(np.sum(w * hit) / np.sum(w), rel=1e-12)


# ---------------------------------------------------------------- 5. loss_weights
@pytest.mark.parametrize("lw", [0.5, [0.5], "dict"], ids=["scalar", "list", "dict"])
def test_loss_weights_scale_the_loss_but_not_the_penalties(lw):
    x, y = blobs(32)
    t = to_categorical(y, 3).astype(np.float64)
    pydl.manual_seed(0)
    m = Sequential([Dense(3, activation="softmax", input_shape=(2,), kernel_regularizer=pydl.regularizers.l2(0.01))])
    m.compile(loss="categorical_crossentropy", optimizer="sgd",
              loss_weights={m.layers[-1].name: 0.5} if lw == "dict" else lw)
    W = m.get_weights()[0].astype(np.float64)
    expected = 0.5 * np.mean(np_cce(np_softmax(logits_of(m, x)), t)) + 0.01 * np.sum(W ** 2)
    assert m.evaluate(x, t, batch_size=len(x), verbose=0) == pytest.approx(expected, rel=1e-5)


def test_loss_weights_scale_the_gradient():
    x, y = blobs(64)
    runs = []
    for lw, lr in ((0.5, 0.2), (None, 0.1)):  # plain SGD: half the loss at twice the rate is the same step
        m = linear_model()
        m.compile(loss="sparse_categorical_crossentropy", optimizer=SGD(learning_rate=lr), loss_weights=lw)
        m.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=1)
        runs.append(m.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bad_loss_weights():
    m = linear_model()
    with pytest.raises(ValueError, match="loss_weights has 2 entries"):
        m.compile(loss="mse", optimizer="sgd", loss_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="output name"):
        m.compile(loss="mse", optimizer="sgd", loss_weights={"nope": 1.0})
    with pytest.raises(TypeError, match="loss_weights must be a number"):
        m.compile(loss="mse", optimizer="sgd", loss_weights="high")


def test_loss_weights_and_weighted_metrics_survive_save_and_load(tmp_path):
    x, y = blobs(32)
    w = np.linspace(0.5, 2.0, len(x))
    m = linear_model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", loss_weights=0.25,
              weighted_metrics=["accuracy"])
    before = m.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    m.save(tmp_path / "m.pydl")
    again = pydl.models.load_model(tmp_path / "m.pydl")
    assert again.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True) == pytest.approx(before, rel=1e-6)


# ---------------------------------------------------------------- 6. a metrics string is one metric
def test_metrics_string_is_one_metric():
    x, y = blobs(40)
    m = linear_model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics="accuracy")
    out = m.evaluate(x, y, verbose=0, return_dict=True)
    assert list(out) == ["loss", "accuracy"]
    assert out["accuracy"] == pytest.approx(accuracy(m, x, y), rel=1e-12)
    with pytest.raises(ValueError, match="listed twice"):
        acc = metrics.SparseCategoricalAccuracy()
        m.compile(loss="mse", optimizer="sgd", metrics=[acc, acc])
    with pytest.raises(ValueError, match="two metrics report under the name 'accuracy'"):
        m.compile(loss="mse", optimizer="sgd", metrics=["accuracy", metrics.CategoricalAccuracy()])


def test_per_output_forms_of_one_output():
    x, y = blobs(40)
    m = linear_model()
    out = m.layers[-1].name
    m.compile(loss={out: "sparse_categorical_crossentropy"}, optimizer="sgd", metrics={out: "accuracy"})
    p = m.predict(x)
    got = m.evaluate(x, y, verbose=0, return_dict=True)
    assert got["loss"] == pytest.approx(np.mean(-np.log(p[np.arange(len(y)), y])), rel=1e-5)
    assert got["accuracy"] == pytest.approx(np.mean(p.argmax(-1) == y), rel=1e-12)
    m.compile(loss=["sparse_categorical_crossentropy"], optimizer="sgd")
    assert m.evaluate(x, y, verbose=0) == pytest.approx(got["loss"], rel=1e-6)


# ---------------------------------------------------------------- 7. Keras-style custom losses and metrics
def my_mse(y_true, y_pred):
    return pydl.mean(pydl.square(y_pred - y_true), axis=-1)


def squared_error(y_true, y_pred):  # per element: Keras divides by all the values
    return pydl.square(y_pred - y_true)


@pytest.mark.parametrize("fn", [my_mse, squared_error])
def test_custom_loss_function_trains_and_weights_apply_outside(fn):
    x, y = blobs(48)
    t = to_categorical(y, 3).astype(np.float64)
    w = np.linspace(0.2, 3.0, len(x))
    m = linear_model()
    m.compile(loss=fn, optimizer=SGD(learning_rate=0.5))
    assert m.loss.name == fn.__name__ and m.loss_name == fn.__name__
    p = np_softmax(logits_of(m, x))
    expected = np.sum(w[:, None] * (p - t) ** 2) / ((p - t) ** 2).size  # (sum over the values) / count
    assert m.evaluate(x, t, sample_weight=w, batch_size=len(x), verbose=0) == pytest.approx(expected, rel=1e-5)
    h = m.fit(x, t, sample_weight=w, epochs=5, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_custom_loss_returning_numpy_is_a_clear_error():
    m = linear_model()
    m.compile(loss=lambda y_true, y_pred: np.zeros(len(y_pred.shape)), optimizer="sgd")
    with pytest.raises(TypeError, match="not a pydl Tensor"):
        m.evaluate(*blobs(8), verbose=0)


def test_custom_metric_function_reported_under_its_name():
    def abs_error(y_true, y_pred):
        return pydl.mean(pydl.abs(y_pred - y_true), axis=-1)

    x, y = blobs(30)
    t = to_categorical(y, 3)
    m = linear_model()
    m.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=[abs_error])
    out = m.evaluate(x, t, verbose=0, return_dict=True)
    assert out["abs_error"] == pytest.approx(np.mean(np.abs(m.predict(x) - t)), rel=1e-5)


# ---------------------------------------------------------------- 8. labels of the wrong kind
def test_categorical_accuracy_with_integer_labels_is_a_clear_error():
    x, y = blobs(30)
    m = linear_model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["categorical_accuracy"])
    with pytest.raises(ValueError, match=r"categorical_accuracy: y_true has shape \(30,\).*integer class labels.*"
                                         r"sparse_categorical_accuracy"):
        m.evaluate(x, y, verbose=0)


def test_sparse_accuracy_with_one_hot_labels_is_a_clear_error():
    x, y = blobs(30)
    m = linear_model()
    m.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["sparse_categorical_accuracy"])
    with pytest.raises(ValueError, match=r"sparse_categorical_accuracy: y_true has shape \(30, 3\).*one-hot"):
        m.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
