"""Issue 9, item 6: bad input to the recurrent and embedding layers inside a compiled model.
Each gets a clear exception naming the layer and the shapes, and comes before any weight or
optimizer state changes (a good step first, so the optimizer has state to protect)."""
import numpy as np
import pytest

import pydl
from pydl.layers import GRU, LSTM, Dense, Embedding, SimpleRNN
from pydl.models import Model, Sequential


def snapshot(model):
    return [w.copy() for w in model.get_weights()] + [s.detach().numpy().copy() for s in model.optimizer.variables()]


def assert_unchanged(model, before):
    after = snapshot(model)
    assert len(after) == len(before)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def seq_model(cell):
    pydl.manual_seed(0)
    m = Sequential([pydl.Input((5, 3)), cell(4), Dense(1)])
    m.compile("adam", "mse")
    x = np.random.default_rng(0).random((8, 5, 3)).astype(np.float32)
    m.fit(x, np.zeros((8, 1), np.float32), epochs=1, verbose=0)
    return m


@pytest.mark.parametrize("cell", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("case", ["2-D", "features", "empty"])
def test_sequence_errors_change_nothing(cell, case):
    m = seq_model(cell)
    before = snapshot(m)
    x = {"2-D": np.zeros((8, 5), np.float32), "features": np.zeros((8, 5, 2), np.float32),
         "empty": np.zeros((8, 0, 3), np.float32)}[case]
    with pytest.raises(ValueError) as info:
        m.fit(x, np.zeros((8, 1), np.float32), epochs=1, verbose=0)
    text = str(info.value)
    assert m.layers[0].name in text or "sequential" in text, text
    want = {"2-D": "(5,)", "features": "(5, 2)", "empty": "(0, 3)"}[case]
    assert want in text, text
    assert_unchanged(m, before)


def emb_model():
    pydl.manual_seed(0)
    m = Sequential([pydl.Input((4,)), Embedding(10, 3), LSTM(2), Dense(1)])
    m.compile("adam", "mse")
    m.fit(np.array([[1, 2, 3, 4]] * 4), np.zeros((4, 1)), epochs=1, verbose=0)
    return m


@pytest.mark.parametrize("ids, exc, words", [
    (np.array([[1, 2, 3, -1]] * 4), ValueError, ["token id -1", "[0, 10)"]),
    (np.array([[1, 2, 3, 10]] * 4), ValueError, ["token id 10", "[0, 10)"]),
    (np.array([[1, 2, 3, 2.5]] * 4), ValueError, ["integer token ids", "2.5"]),
])
def test_token_ids_errors_change_nothing(ids, exc, words):
    m = emb_model()
    before = snapshot(m)
    with pytest.raises(exc) as info:
        m.fit(ids, np.zeros((4, 1)), epochs=1, verbose=0)
    for w in words:
        assert w in str(info.value), str(info.value)
    assert m.layers[0].name in str(info.value)
    assert_unchanged(m, before)


def test_initial_state_of_the_wrong_shape_changes_nothing():
    pydl.manual_seed(0)
    x = pydl.Input((5, 3))
    h0, c0 = pydl.Input((4,)), pydl.Input((4,))
    lstm = LSTM(4)
    m = Model([x, h0, c0], Dense(1)(lstm(x, initial_state=[h0, c0])))
    m.compile("adam", "mse")
    xs = [np.zeros((8, 5, 3), np.float32), np.zeros((8, 4), np.float32), np.zeros((8, 4), np.float32)]
    m.fit(xs, np.zeros((8, 1), np.float32), epochs=1, verbose=0)
    before = snapshot(m)
    bad = [xs[0], np.zeros((8, 3), np.float32), xs[2]]
    with pytest.raises(ValueError) as info:
        m.fit(bad, np.zeros((8, 1), np.float32), epochs=1, verbose=0)
    assert "(3,)" in str(info.value) and "(4,)" in str(info.value), str(info.value)
    assert_unchanged(m, before)
    with pytest.raises(ValueError, match=r"lstm.*initial state must have shape \(batch, 4\), got \(batch,\) \+ \(5,\)"):
        LSTM(4)(pydl.zeros(2, 5, 3), initial_state=[pydl.zeros(2, 5), pydl.zeros(2, 4)])
