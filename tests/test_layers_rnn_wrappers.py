"""RepeatVector, TimeDistributed and Bidirectional against NumPy transcriptions of what they do."""
import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.models import Sequential
from pydl.saving import load_model


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_repeat_vector():
    x = _x((2, 3))
    y = L.RepeatVector(4)(pydl.tensor(x)).numpy()
    assert y.shape == (2, 4, 3)
    np.testing.assert_array_equal(y, np.repeat(x[:, None], 4, axis=1))
    with pytest.raises(ValueError, match="RepeatVector takes \\(batch, features\\)"):
        L.RepeatVector(2)(pydl.tensor(_x((2, 3, 4))))


def test_time_distributed_dense_is_one_dense_per_step():
    x = _x((2, 5, 3))
    td = L.TimeDistributed(L.Dense(4, activation="tanh"))
    y = td(pydl.tensor(x)).detach().numpy()
    w, b = td.get_weights()
    np.testing.assert_allclose(y, np.tanh(x @ w + b), rtol=1e-5, atol=1e-6)
    assert td.count_params() == 3 * 4 + 4 and td.output_shape == (None, 5, 4)


def _np_rnn(x, w, u, b, backwards=False):
    h = np.zeros((x.shape[0], u.shape[0]))
    outs = []
    steps = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in steps:
        h = np.tanh(x[:, t] @ w + h @ u + b)
        outs.append(h)
    return np.stack(outs, 1)


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_two_numpy_rnns(mode):
    x = _x((3, 4, 2)).astype(np.float64)
    pydl.manual_seed(0)
    bi = L.Bidirectional(L.SimpleRNN(5, return_sequences=True, dtype="float64"), merge_mode=mode)
    y = bi(pydl.tensor(x, dtype=pydl.float64))
    wf, uf, bf, wb, ub, bb = bi.get_weights()
    fwd = _np_rnn(x, wf, uf, bf)
    bwd = _np_rnn(x, wb, ub, bb, backwards=True)[:, ::-1]  # back in time order
    want = {"concat": np.concatenate([fwd, bwd], -1), "sum": fwd + bwd, "mul": fwd * bwd,
            "ave": (fwd + bwd) / 2, None: None}[mode]
    if mode is None:
        np.testing.assert_allclose(y[0].detach().numpy(), fwd, rtol=1e-10)
        np.testing.assert_allclose(y[1].detach().numpy(), bwd, rtol=1e-10)
    else:
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-10)
    assert bi.count_params() == 2 * (2 * 5 + 5 * 5 + 5)


def test_bidirectional_last_state_and_gradcheck():
    x = pydl.tensor(_x((2, 3, 2)).astype(np.float64), dtype=pydl.float64, requires_grad=True)
    bi = L.Bidirectional(L.LSTM(3, dtype="float64"))
    bi(x.detach())
    res = pydl.utils.gradcheck(lambda x, *_: bi(x), [x] + bi.trainable_weights)
    assert res, res
    assert bi.output_shape == (None, 6)


def test_bidirectional_model_trains_saves_and_loads(tmp_path):
    pydl.manual_seed(0)
    x = _x((32, 6, 2))
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)[:, None]
    model = Sequential([L.Bidirectional(L.GRU(4, return_sequences=True), input_shape=(6, 2)),
                        L.TimeDistributed(L.Dense(2)), L.Flatten(), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    h = model.fit(x, y, epochs=15, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    model.save(tmp_path / "bi.pydl")
    again = load_model(tmp_path / "bi.pydl")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    names = [w.name for w in model.layers[0].weights]
    assert names[0].startswith("forward_") and names[3].startswith("backward_")


def test_bidirectional_errors():
    with pytest.raises(TypeError, match="expected a recurrent layer"):
        L.Bidirectional(L.Dense(3))
    with pytest.raises(ValueError, match="merge_mode must be one of"):
        L.Bidirectional(L.LSTM(3), merge_mode="max")
    with pytest.raises(NotImplementedError, match="return_state"):
        L.Bidirectional(L.LSTM(3, return_state=True))
