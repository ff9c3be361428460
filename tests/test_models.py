"""Sequential models end to end: build, summary, fit/evaluate/predict, callbacks, bad input,
the course slides' Keras 1 code, and the MNIST/digits accuracy goals."""
import os
import warnings

import numpy as np
import pytest

import pydl
from pydl import callbacks as C
from pydl.layers import Activation, Dense, Dropout, Input
from pydl.models import Sequential
from pydl.optimizers import SGD, Adam
from pydl.utils import to_categorical


def blobs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 0], [-2, 0], [0, 2.5]], dtype=np.float32)
    y = rng.integers(0, 3, n)
    x = centers[y] + rng.standard_normal((n, 2)).astype(np.float32) * 0.6
    return x, y


def small_model(loss="categorical_crossentropy", metrics=("accuracy",), opt=None):
    pydl.manual_seed(0)
    m = Sequential([Dense(16, activation="relu", input_shape=(2,)), Dense(3, activation="softmax")])
    m.compile(loss=loss, optimizer=opt or Adam(learning_rate=0.01), metrics=list(metrics))
    return m


def test_summary_lists_layers_and_parameter_counts(capsys):
    m = Sequential([Input(shape=(784,)), Dense(500), Activation("sigmoid"), Dense(10)])
    m.summary()
    out = capsys.readouterr().out
    assert "(None, 500)" in out and "392,500" in out and "5,010" in out
    assert f"Total params: {784 * 500 + 500 + 5010:,}" in out
    assert len(m.layers) == 3  # Input is not listed
    m.pop()
    assert len(m.layers) == 2


def test_fit_learns_blobs_and_history_records_epochs():
    x, y = blobs()
    m = small_model()
    h = m.fit(x, to_categorical(y, 3), batch_size=32, epochs=8, verbose=0, validation_split=0.2)
    assert set(h.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(h.history["loss"]) == 8 and h.history["loss"][-1] < h.history["loss"][0]
    loss, acc = m.evaluate(x, to_categorical(y, 3), verbose=0)
    assert acc > 0.9
    p = m.predict(x)
    assert p.shape == (len(x), 3)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    assert np.mean(p.argmax(1) == y) == pytest.approx(acc)


def test_sparse_labels_and_sample_weights():
    x, y = blobs()
    m = small_model(loss="sparse_categorical_crossentropy")
    m.fit(x, y, epochs=5, verbose=0, sample_weight=np.ones(len(x)))
    assert m.evaluate(x, y, verbose=0)[1] > 0.9


def test_same_seed_same_training():
    x, y = blobs()
    runs = []
    for _ in range(2):
        m = small_model()
        m.fit(x, to_categorical(y, 3), epochs=2, verbose=0)
        runs.append(m.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_confident_wrong_softmax_prediction_gives_a_finite_loss():
    m = Sequential([Dense(2, activation="softmax", input_shape=(1,), kernel_initializer="ones",
                         bias_initializer="zeros")])
    m.compile(loss="categorical_crossentropy", optimizer="sgd")
    m.set_weights([np.array([[1000.0, -1000.0]], np.float32), np.zeros(2, np.float32)])
    loss = m.evaluate(np.ones((1, 1), np.float32), np.array([[0.0, 1.0]], np.float32), verbose=0)
    assert np.isfinite(loss) and loss > 100


def test_slides_keras1_code_runs_with_warnings():
    rng = np.random.default_rng(0)
    x_train = rng.random((200, 28 * 28)).astype(np.float32)
    y_train = to_categorical(rng.integers(0, 10, 200), 10)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        model = Sequential()
        model.add(Dense(input_dim=28 * 28, output_dim=500))
        model.add(Activation("sigmoid"))
        model.add(Dense(output_dim=500))
        model.add(Activation("sigmoid"))
        model.add(Dense(output_dim=10))
        model.add(Activation("softmax"))
        model.compile(loss="mse", optimizer=SGD(lr=0.1), metrics=["accuracy"])
        model.fit(x_train, y_train, batch_size=100, nb_epoch=2, verbose=0)
    assert {"output_dim", "lr", "nb_epoch"} <= {n for n in ("output_dim", "lr", "nb_epoch")
                                                if any(n in str(x.message) for x in w)}
    assert all(issubclass(x.category, DeprecationWarning) for x in w if "Keras 1" in str(x.message) or "lr" in str(x.message))
    score = model.evaluate(x_train, y_train)
    assert len(score) == 2 and 0 <= score[1] <= 1
    result = model.predict(x_train)
    assert result.shape == (200, 10)


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch_size=0), "batch_size"), (dict(epochs=-1), "epochs"),
])
def test_bad_fit_arguments_fail_before_any_change(kwargs, match):
    x, y = blobs(64)
    m = small_model()
    before = m.get_weights()
    with pytest.raises(ValueError, match=match):
        m.fit(x, to_categorical(y, 3), verbose=0, **kwargs)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_data_fails_before_any_change():
    x, y = blobs(64)
    m = small_model()
    before = m.get_weights()
    with pytest.raises(ValueError, match="64 samples but y has 63"):
        m.fit(x, to_categorical(y, 3)[:63], verbose=0)
    with pytest.raises(ValueError, match=r"expected input samples of shape \(2,\)"):
        m.fit(np.zeros((64, 3), np.float32), to_categorical(y, 3), verbose=0)
    bad = x.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf .*row 5"):
        m.fit(bad, to_categorical(y, 3), verbose=0)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unknown_names_list_valid_ones():
    m = Sequential([Dense(2, input_shape=(2,))])
    with pytest.raises(ValueError, match="mean_squared_error"):
        m.compile(loss="mean_sqared_error", optimizer="sgd")
    with pytest.raises(ValueError, match="adam"):
        m.compile(loss="mse", optimizer="adamm")
    with pytest.raises(ValueError, match="accuracy"):
        m.compile(loss="mse", optimizer="sgd", metrics=["acuracy"])


def test_summary_before_build_is_a_clear_error():
    m = Sequential([Dense(2)])
    with pytest.raises(ValueError, match="not been built"):
        m.summary()
    with pytest.raises(ValueError, match="no layers"):
        Sequential().predict(np.zeros((1, 2)))


def test_exception_in_a_callback_leaves_a_usable_model():
    x, y = blobs(128)
    m = small_model()

    class Boom(C.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        m.fit(x, to_categorical(y, 3), batch_size=16, epochs=1, verbose=0, callbacks=[Boom()])
    assert m.optimizer.iterations == 3
    assert all(np.isfinite(w).all() for w in m.get_weights())
    m.fit(x, to_categorical(y, 3), batch_size=16, epochs=1, verbose=0)
    assert m.optimizer.iterations == 3 + 8


def _fit_with_scripted_monitor(values, epochs=None, **es_args):
    """fit() with an EarlyStopping that sees ``values[epoch]`` as its monitored quantity: a
    callback placed before it writes the scripted value into the epoch's logs (fit hands the
    same logs to each callback in turn) and records the weights the model has at that point."""
    x, y = blobs(96)
    m = small_model()
    monitor = es_args.pop("monitor", "scripted")
    weights = []

    class Script(C.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs[monitor] = values[epoch]
            weights.append([w.copy() for w in self.model.get_weights()])

    es = C.EarlyStopping(monitor=monitor, **es_args)
    hist = m.fit(x, to_categorical(y, 3), batch_size=32, epochs=epochs or len(values), verbose=0,
                 callbacks=[Script(), es])
    return m, es, hist, weights


def _same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


@pytest.mark.parametrize("values, args, last_epoch, best_epoch", [
    # best at epoch 2 (0.6); epochs 3 and 4 do not improve: with patience 2 training stops after 4
    ([1.0, 0.8, 0.6, 0.7, 0.65, 0.5, 0.4, 0.3], dict(patience=2), 4, 2),
    # patience 0: the first epoch that does not improve stops
    ([1.0, 0.9, 0.95, 0.1], dict(patience=0), 2, 1),
    # a later improvement resets the count: 0.55 at epoch 3 beats 0.6, so the stop comes at 5
    ([1.0, 0.6, 0.7, 0.55, 0.56, 0.57, 0.1], dict(patience=2), 5, 3),
    # min_delta 0.05: 0.87 and 0.86 are below 0.9 but not by 0.05, so they do not count
    ([1.0, 0.9, 0.87, 0.86, 0.2], dict(patience=2, min_delta=0.05), 3, 1),
    # without min_delta the same values keep improving: no stop in 5 epochs
    ([1.0, 0.9, 0.87, 0.86, 0.2], dict(patience=2), None, 4),
    # a negative min_delta means the same as its absolute value (Keras takes abs)
    ([1.0, 0.9, 0.87, 0.86, 0.2], dict(patience=2, min_delta=-0.05), 3, 1),
    # baseline 0.5 never beaten: stops after `patience` epochs
    ([0.9, 0.95, 0.97, 0.96, 0.2], dict(patience=2, baseline=0.5), 1, None),
    # baseline beaten at epoch 1 (0.45): counting starts from there
    ([0.9, 0.45, 0.47, 0.48, 0.1], dict(patience=2, baseline=0.5), 3, 1),
    # an accuracy is maximised ('auto' mode sees "acc" in the name)
    ([0.5, 0.6, 0.55, 0.58, 0.9], dict(patience=2, monitor="val_accuracy"), 3, 1),
    ([0.5, 0.6, 0.65, 0.58, 0.9], dict(patience=1, mode="max"), 3, 2),
    # epochs before start_from_epoch are not watched: the rising 5, 6, 7 would otherwise stop at 2
    ([5.0, 6.0, 7.0, 8.0, 9.0, 1.0], dict(patience=2, start_from_epoch=2), 4, 2),
])
def test_early_stopping_stops_at_the_right_epoch(values, args, last_epoch, best_epoch):
    m, es, hist, weights = _fit_with_scripted_monitor(values, **args)
    epochs_run = len(values) if last_epoch is None else last_epoch + 1
    assert hist.epoch == list(range(epochs_run))
    assert es.stopped_epoch == (0 if last_epoch is None else last_epoch)
    assert m.stop_training == (last_epoch is not None)
    if best_epoch is not None:
        assert es.best_epoch == best_epoch
        assert es.best == values[best_epoch]
    # without restore_best_weights the model keeps the weights of its last epoch
    assert _same_weights(m.get_weights(), weights[-1])


def test_early_stopping_restores_best_weights():
    values = [1.0, 0.8, 0.6, 0.7, 0.65, 0.5]
    m, es, hist, weights = _fit_with_scripted_monitor(values, patience=2, restore_best_weights=True)
    assert hist.epoch == [0, 1, 2, 3, 4] and es.best_epoch == 2
    assert not _same_weights(weights[2], weights[4])  # training moved the weights after the best epoch
    assert _same_weights(m.get_weights(), weights[2])
    # and on real validation loss: a learning rate so high that it soon gets worse
    x, y = blobs(300)
    m = small_model(opt=SGD(learning_rate=5.0))
    seen = {}

    class Spy(C.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch] = (logs["val_loss"], [w.copy() for w in self.model.get_weights()])

    es = C.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    m.fit(x, to_categorical(y, 3), epochs=30, verbose=0, validation_split=0.3, callbacks=[Spy(), es])
    losses = [seen[e][0] for e in sorted(seen)]
    best = int(np.argmin(losses))
    assert es.stopped_epoch == len(losses) - 1 and len(losses) < 30, losses
    assert best == len(losses) - 3  # patience 2: two epochs without improvement after the best
    assert _same_weights(m.get_weights(), seen[best][1])


def test_callbacks_lr_scheduler_reduce_on_plateau_csv_lambda_nan(tmp_path):
    x, y = blobs(128)
    m = small_model(opt=SGD(learning_rate=0.1))
    lrs = []
    m.fit(x, to_categorical(y, 3), epochs=3, verbose=0, callbacks=[
        C.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1)),
        C.LambdaCallback(on_epoch_end=lambda e, logs: lrs.append(m.optimizer.learning_rate)),
        C.CSVLogger(tmp_path / "log.csv")])
    assert lrs == pytest.approx([0.1, 0.05, 0.1 / 3])
    rows = (tmp_path / "log.csv").read_text().strip().splitlines()
    assert rows[0].startswith("epoch") and len(rows) == 4

    m = small_model(opt=SGD(learning_rate=0.1))
    plateau = C.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    m.fit(x, to_categorical(y, 3), epochs=4, verbose=0, callbacks=[plateau])
    # epoch 0 sets the best; epochs 1, 2, 3 fail to improve by min_delta: three halvings
    assert m.optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 3)

    m = small_model(opt=SGD(learning_rate=1e30))
    h = m.fit(x * 1e20, to_categorical(y, 3), epochs=5, batch_size=16, verbose=0, callbacks=[C.TerminateOnNaN()])
    assert len(h.history["loss"]) == 1


def test_every_batch_hook_runs_once_per_step_in_each_spelling():
    # fit calls per-batch hooks only on callbacks that define them: a LambdaCallback (hooks set on
    # the instance), a subclass using Keras 1's names, and one using the new names all run.
    x, y = blobs(96)
    calls = {"lambda_end": 0, "old_begin": 0, "old_end": 0, "new_begin": 0, "new_end": 0}

    class Old(C.Callback):
        def on_batch_begin(self, batch, logs=None):
            calls["old_begin"] += 1

        def on_batch_end(self, batch, logs=None):
            calls["old_end"] += 1
            assert "loss" in logs

    class New(C.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            calls["new_begin"] += 1

        def on_train_batch_end(self, batch, logs=None):
            calls["new_end"] += 1

    lam = C.LambdaCallback(on_batch_end=lambda b, logs: calls.__setitem__("lambda_end", calls["lambda_end"] + 1))
    m = small_model(loss="sparse_categorical_crossentropy", metrics=())
    m.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[lam, Old(), New(), C.Callback()])
    assert calls == {k: 6 for k in calls}  # 96 / 32 = 3 steps, 2 epochs


def test_model_checkpoint_best_only(tmp_path):
    x, y = blobs(128)
    m = small_model()
    path = str(tmp_path / "best.pydl")
    ck = C.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    m.fit(x, to_categorical(y, 3), epochs=3, verbose=0, validation_split=0.25, callbacks=[ck])
    assert os.path.exists(path)
    loaded = pydl.models.load_model(path)
    assert loaded.evaluate(x[-32:], to_categorical(y, 3)[-32:], verbose=0)[0] == pytest.approx(ck.best, rel=1e-5)


def test_progress_output(capsys):
    x, y = blobs(64)
    m = small_model()
    m.fit(x, to_categorical(y, 3), epochs=2, verbose=2)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[0].startswith("Epoch 1/2") and "loss:" in out[0] and "accuracy:" in out[0]
    m.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_manual_four_step_loop_with_model_parameters():
    x, y = blobs(200)
    pydl.manual_seed(1)
    m = Sequential([Dense(16, activation="relu", input_shape=(2,)), Dense(3)])
    opt = Adam(m.parameters(), learning_rate=0.05)
    loss_fn = pydl.losses.CategoricalCrossentropy(from_logits=True)
    xt, yt = pydl.tensor(x), pydl.tensor(to_categorical(y, 3))
    first = None
    for _ in range(50):
        loss = loss_fn(yt, m(xt, training=True))  # forward
        opt.zero_grad()
        loss.backward()                            # back-propagate: gradients
        opt.step()                                 # update
        first = first if first is not None else loss.item()
    assert loss.item() < 0.3 * first


def test_digits_reach_95_percent():
    pytest.importorskip("sklearn")
    from pydl.datasets import digits
    (xt, yt), (xs, ys) = digits.load_data()
    xt = xt.reshape(len(xt), -1).astype(np.float32) / 16
    xs = xs.reshape(len(xs), -1).astype(np.float32) / 16
    pydl.manual_seed(0)
    m = Sequential([Dense(128, activation="relu", input_shape=(64,)), Dense(10, activation="softmax")])
    m.compile(loss="sparse_categorical_crossentropy", optimizer=Adam(learning_rate=3e-3), metrics=["accuracy"])
    m.fit(xt, yt, batch_size=32, epochs=20, verbose=0)
    assert m.evaluate(xs, ys, verbose=0)[1] >= 0.95


def test_mnist_mlp_reaches_97_percent_in_two_epochs():
    root = os.environ.get("PYDL_DATA")
    if not root or not os.path.exists(os.path.join(root, "mnist", "train-images-idx3-ubyte.gz")):
        pytest.skip("MNIST not found: set PYDL_DATA to a folder with mnist/*-ubyte.gz")
    from pydl.datasets import mnist
    (xt, yt), (xs, ys) = mnist.load_data()
    xt = xt.reshape(-1, 784).astype(np.float32) / 255
    xs = xs.reshape(-1, 784).astype(np.float32) / 255
    pydl.manual_seed(0)
    m = Sequential([Dense(500, activation="relu", input_shape=(784,)), Dense(500, activation="relu"),
                    Dense(10, activation="softmax")])
    m.compile(loss="sparse_categorical_crossentropy", optimizer=Adam(), metrics=["accuracy"])
    m.fit(xt, yt, batch_size=128, epochs=2, verbose=0)
    assert m.evaluate(xs, ys, verbose=0)[1] >= 0.97
