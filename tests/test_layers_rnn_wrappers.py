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
    with pytest.raises(ValueError, match="same return_sequences and return_state"):
        L.Bidirectional(L.LSTM(3, return_state=True), backward_layer=L.LSTM(3, go_backwards=True))


def _np_lstm(x, w, u, b, backwards=False):
    """Keras's LSTM (gates i, f, c, o) step by step: the last h and c."""
    n = u.shape[0]
    h = np.zeros((x.shape[0], n))
    c = np.zeros_like(h)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    steps = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in steps:
        z = x[:, t] @ w + h @ u + b
        i, f, g, o = sig(z[:, :n]), sig(z[:, n:2 * n]), np.tanh(z[:, 2 * n:3 * n]), sig(z[:, 3 * n:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return h, c


@pytest.mark.parametrize("mode", ["concat", None])
def test_bidirectional_return_state_is_output_then_forward_then_backward_states(mode):
    x = _x((2, 4, 3)).astype(np.float64)
    pydl.manual_seed(1)
    bi = L.Bidirectional(L.LSTM(2, return_state=True, dtype="float64"), merge_mode=mode)
    out = bi(pydl.tensor(x, dtype=pydl.float64))
    wf, uf, bf, wb, ub, bb = bi.get_weights()
    hf, cf = _np_lstm(x, wf, uf, bf)
    hb, cb = _np_lstm(x, wb, ub, bb, backwards=True)
    got = [t.detach().numpy() for t in out]
    want = ([np.concatenate([hf, hb], -1)] if mode == "concat" else [hf, hb]) + [hf, cf, hb, cb]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    shapes = [(4,)] if mode == "concat" else [(2,), (2,)]
    assert bi.compute_output_shape((4, 3)) == shapes + [(2,)] * 4
    # in a functional model: one symbolic tensor per part, in the same order
    inp = pydl.Input((4, 3), dtype="float64")
    parts = bi(inp)
    assert [tuple(p.shape[1:]) for p in parts] == shapes + [(2,)] * 4
    model = pydl.models.Model(inp, parts)
    for g, w in zip(model(pydl.tensor(x, dtype=pydl.float64)), want):
        np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-9, atol=1e-12)


class _Recorder(L.Layer):
    """Identity that records the mask its call received (a stand-in recurrent layer)."""
    supports_masking = True

    def __init__(self, **kw):
        super().__init__(**kw)
        self.seen = []

    def call(self, x, training=None, mask=None):
        self.seen.append(None if mask is None else mask.copy())
        return x


def test_bidirectional_gives_both_directions_the_mask_and_keeps_it_on_sequences():
    bi = L.Bidirectional(L.SimpleRNN(2, return_sequences=True))
    rec_f, rec_b = _Recorder(), _Recorder()
    bi.forward_layer, bi.backward_layer = rec_f, rec_b  # the wrapper's plumbing alone
    bi.built = True
    x = pydl.tensor(_x((2, 3, 2)))
    mask = np.array([[True, True, False], [True, False, False]])
    y = bi(x, mask=mask)
    np.testing.assert_array_equal(rec_f.seen[0], mask)
    # the backward layer (go_backwards) reverses its mask with its steps, as Keras's RNN does
    np.testing.assert_array_equal(rec_b.seen[0], mask)
    np.testing.assert_array_equal(L.get_mask(y), mask)
    # Keras's compute_mask: none on a last-step output, one per part with merge_mode None, none on states
    assert bi.compute_mask(x, mask) is mask
    bi.return_sequences = False
    assert bi.compute_mask(x, mask) is None
    bi.merge_mode, bi.return_sequences = None, True
    assert [m is mask for m in bi.compute_mask(x, mask)] == [True, True]


def test_bidirectional_lstm_with_a_mask_is_each_sample_run_on_its_real_steps():
    # post-padding: a masked step carries the state, so each direction sees only the real steps
    x = _x((3, 5, 2)).astype(np.float64)
    lengths = [5, 3, 1]
    mask = np.arange(5)[None, :] < np.array(lengths)[:, None]
    pydl.manual_seed(4)
    bi = L.Bidirectional(L.LSTM(3, dtype="float64"))
    y = bi(pydl.tensor(x, dtype=pydl.float64), mask=mask).detach().numpy()
    for i, n in enumerate(lengths):
        real = pydl.tensor(x[i:i + 1, :n], dtype=pydl.float64)
        alone = np.concatenate([bi.forward_layer(real).detach().numpy(), bi.backward_layer(real).detach().numpy()], -1)
        np.testing.assert_allclose(y[i:i + 1], alone, rtol=1e-10, atol=1e-12)
    # the last-step output has no steps, so no mask; with return_sequences the mask stays
    assert L.get_mask(bi(pydl.tensor(x, dtype=pydl.float64), mask=mask)) is None
    seq = L.Bidirectional(L.GRU(2, return_sequences=True, return_state=True))
    outs = seq(pydl.tensor(x.astype(np.float32)), mask=mask)
    np.testing.assert_array_equal(L.get_mask(outs[0]), mask)
    assert all(L.get_mask(s) is None for s in outs[1:])


def test_time_distributed_passes_the_mask_through():
    td = L.TimeDistributed(L.Dense(3))
    x = pydl.tensor(_x((2, 4, 5)))
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], dtype=bool)
    y = td(x, mask=mask)
    np.testing.assert_array_equal(L.get_mask(y), mask)
    # a (batch, time) mask is per step, so the inner layer, which sees single steps, gets none
    rec = _Recorder()
    L.TimeDistributed(rec)(x, mask=mask)
    assert rec.seen == [None]
    # a mask of more axes reaches it step by step
    m3 = np.ones((2, 4, 5), dtype=bool)
    m3[0, 1, 2] = False
    L.TimeDistributed(rec)(x, mask=m3)
    np.testing.assert_array_equal(rec.seen[1], m3.reshape(8, 5))
