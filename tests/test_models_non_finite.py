"""fit and train_on_batch when a gradient is not finite (issue 7): training stops with an error
naming the first layer whose gradient held NaN or inf, before that step changes any weight;
TerminateOnNaN still ends training quietly on a NaN loss. (pydl/models/model.py's _train_step and fit;
the optimizer's own check is tested in test_optimizers.py.)"""
import numpy as np
import pytest

import pydl
from pydl import callbacks as C
from pydl.layers import Dense
from pydl.models import Sequential
from pydl.optimizers import SGD, NonFiniteGradientError


def overflowing_model():
    # Dense(2) -> Dense(1) in float32 with x = 1e19, W1 = 1e19 I: h1 = 1e38 (finite), W2 = 0 so
    # y = 0 and the MSE against 1e3 is 1e6 (finite). Backward: dy = 2 (0 - 1e3) / 8 = -250 per
    # sample, dW2 = sum_b h1_b dy_b = 8 * 1e38 * -250 overflows to -inf; dh1 = dy W2^T = 0 so
    # layer 1's gradients are 0 (finite). Only the second layer's kernel gradient is not finite.
    m = Sequential([Dense(2, input_shape=(2,), name="first"), Dense(1, name="second")])
    m.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
    m.set_weights([np.eye(2, dtype=np.float32) * 1e19, np.zeros(2, np.float32),
                   np.zeros((2, 1), np.float32), np.zeros(1, np.float32)])
    x = np.full((8, 2), 1e19, dtype=np.float32)
    y = np.full((8, 1), 1e3, dtype=np.float32)
    return m, x, y


def test_fit_stops_naming_the_layer_whose_gradient_is_not_finite():
    m, x, y = overflowing_model()
    before = [w.copy() for w in m.get_weights()]
    with pytest.raises(NonFiniteGradientError) as e:
        m.fit(x, y, batch_size=8, epochs=3, verbose=0)
    msg = str(e.value)
    assert "layer 'second' (Dense)" in msg and "'second/" in msg and "(2, 1)" in msg
    assert "'first'" not in msg
    assert e.value.layer == "second" and e.value.loss == pytest.approx(1e6)
    for w, b in zip(m.get_weights(), before):  # the step changed nothing
        assert np.array_equal(w, b)
    with pytest.raises(NonFiniteGradientError, match="layer 'second'"):
        m.train_on_batch(x, y)
    for w, b in zip(m.get_weights(), before):
        assert np.array_equal(w, b)


def test_terminate_on_nan_still_ends_training_quietly_on_a_nan_loss():
    # a NaN loss means NaN gradients: the step refuses them, TerminateOnNaN sees the loss and
    # stops training without an error; the weights stay as the last good step left them
    m, x, y = overflowing_model()
    m.set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32), np.ones((2, 1), np.float32),
                   np.zeros(1, np.float32)])
    x = np.ones((8, 2), np.float32)
    x[0, 0] = 3e38  # finite input; h1 = 3e38 + 1 ... y = 6e38 overflows: loss inf
    before = [w.copy() for w in m.get_weights()]
    h = m.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[C.TerminateOnNaN()])
    assert len(h.history["loss"]) == 1 and not np.isfinite(h.history["loss"][0])
    for w, b in zip(m.get_weights(), before):
        assert np.array_equal(w, b) and np.isfinite(w).all()
    # without the callback the same fit stops with the error
    with pytest.raises(NonFiniteGradientError, match="layer"):
        m.fit(x, y, batch_size=8, epochs=4, verbose=0)
