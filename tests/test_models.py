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


def test_early_stopping_restores_best_weights():
    x, y = blobs(300)
    m = small_model()
    seen = {}

    class Spy(C.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch] = (logs["val_loss"], self.model.get_weights())

    es = C.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    # a learning rate so high that validation loss soon gets worse
    m.compile(loss="categorical_crossentropy", optimizer=SGD(learning_rate=5.0))
    m.fit(x, to_categorical(y, 3), epochs=30, verbose=0, validation_split=0.3, callbacks=[Spy(), es])
    best_epoch = min(seen, key=lambda e: seen[e][0])
    assert len(seen) < 30 or es.stopped_epoch == 0
    for a, b in zip(m.get_weights(), seen[best_epoch][1]):
        np.testing.assert_array_equal(a, b)


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
