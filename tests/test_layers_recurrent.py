"""pydl.layers.SimpleRNN / LSTM / GRU: Keras's weight shapes, gate orders and defaults (orthogonal
recurrent kernel, unit_forget_bias), weights set in Keras's layout give a NumPy transcription of
Keras's equations, return_sequences / return_state / go_backwards, arguments not implemented raise,
config and save/load round trips, masks, dropout and recurrent_dropout (training only, fixed over
time, seeded), stateful with reset_states, a stacked LSTM trains in a Sequential, a functional model uses
return_state, and bad input names the layer."""
import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.layers import GRU, LSTM, Dense, Input, SimpleRNN
from pydl.models import Model, Sequential, load_model
from test_functional_rnn import np_gru, np_lstm, np_simple_rnn


def _seq(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("cls, shapes", [
    (SimpleRNN, [(3, 4), (4, 4), (4,)]),
    (LSTM, [(3, 16), (4, 16), (16,)]),
    (GRU, [(3, 12), (4, 12), (2, 12)]),
])
def test_weight_shapes_are_keras(cls, shapes):
    layer = cls(4)
    out = layer(_seq((2, 5, 3)))
    assert tuple(out.shape) == (2, 4)
    assert [w.shape for w in layer.get_weights()] == shapes
    assert [w.name.split("/")[-1] for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert layer.count_params() == sum(int(np.prod(s)) for s in shapes)


def test_defaults_orthogonal_recurrent_kernel_and_unit_forget_bias():
    pydl.manual_seed(1)
    lstm = LSTM(5)
    lstm(_seq((1, 2, 3)))
    k, u, b = lstm.get_weights()
    np.testing.assert_allclose(u @ u.T, np.eye(5), atol=1e-5)  # (5, 20) with orthonormal rows
    np.testing.assert_array_equal(b, np.r_[np.zeros(5), np.ones(5), np.zeros(10)])
    b2 = LSTM(5, unit_forget_bias=False)
    b2(_seq((1, 2, 3)))
    np.testing.assert_array_equal(b2.get_weights()[2], np.zeros(20))
    rnn = SimpleRNN(6)
    rnn(_seq((1, 2, 3)))
    np.testing.assert_allclose(rnn.get_weights()[1].T @ rnn.get_weights()[1], np.eye(6), atol=1e-5)
    gru = GRU(4)
    gru(_seq((1, 2, 3)))
    np.testing.assert_array_equal(gru.get_weights()[2], np.zeros((2, 12)))
    assert lstm.activation == "tanh" and lstm.recurrent_activation == "sigmoid"
    assert not lstm.return_sequences and not lstm.return_state and not lstm.go_backwards


def _keras_weights(cls, i, u, seed):
    rng = np.random.default_rng(seed)
    g = {SimpleRNN: 1, LSTM: 4, GRU: 3}[cls]
    b = rng.standard_normal((2, g * u) if cls is GRU else (g * u,)) * 0.3
    return [rng.standard_normal((i, g * u)) * 0.5, rng.standard_normal((u, g * u)) * 0.5, b]


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_set_weights_gives_keras_equations(cls, go_backwards):
    x = _seq((3, 6, 4), seed=2).astype(np.float64)
    w = _keras_weights(cls, 4, 5, seed=3)
    layer = cls(5, return_sequences=True, return_state=True, go_backwards=go_backwards, dtype="float64")
    layer.build((6, 4))
    layer.set_weights(w)
    outs = layer(x)
    if cls is SimpleRNN:
        expected = np_simple_rnn(x, *w, None, go_backwards=go_backwards)
    elif cls is LSTM:
        expected = np_lstm(x, *w, None, None, go_backwards=go_backwards)
    else:
        expected = np_gru(x, *w, None, go_backwards=go_backwards)
    assert isinstance(outs, list) and len(outs) == len(expected)
    for got, e in zip(outs, expected):
        np.testing.assert_allclose(got.detach().numpy(), e, rtol=1e-12, atol=1e-12)
    # return_sequences=False: the last h alone
    last = cls(5, go_backwards=go_backwards, dtype="float64")
    last.build((6, 4))
    last.set_weights(w)
    np.testing.assert_allclose(last(x).detach().numpy(), expected[1], rtol=1e-12, atol=1e-12)


def test_output_shapes_with_return_state():
    assert LSTM(3, return_state=True).compute_output_shape((7, 2)) == [(3,), (3,), (3,)]
    assert GRU(3, return_sequences=True, return_state=True).compute_output_shape((7, 2)) == [(7, 3), (3,)]
    assert SimpleRNN(3, return_sequences=True).compute_output_shape((7, 2)) == (7, 3)


def test_a_built_layer_takes_other_lengths_but_not_other_features():
    layer = LSTM(4)
    layer(_seq((2, 5, 3)))
    assert tuple(layer(_seq((2, 9, 3))).shape) == (2, 4)
    with pytest.raises(ValueError, match=r"lstm.*built for sequences of 3 features.*\(9, 2\)"):
        layer(_seq((2, 9, 2)))


def test_bad_input_names_the_layer_before_any_weight_exists():
    layer = LSTM(4, name="enc")
    with pytest.raises(ValueError, match=r"enc: LSTM takes sequences \(batch, time, features\).*\(5,\)"):
        layer(_seq((2, 5)))
    assert not layer.built and layer.weights == []
    with pytest.raises(ValueError, match="enc: LSTM got samples of shape \\(0, 3\\)"):
        layer(_seq((2, 0, 3)))
    assert not layer.built


@pytest.mark.parametrize("cls, kwargs, error", [
    (GRU, {"recurrent_dropout": 1.0}, ValueError),
    (SimpleRNN, {"stateful": 1}, TypeError),
    (SimpleRNN, {"zero_output_for_mask": None}, TypeError),
    (GRU, {"reset_after": False}, NotImplementedError),
    (LSTM, {"kernel_constraint": "max_norm"}, NotImplementedError),
    (LSTM, {"use_cudnn": True}, NotImplementedError),
    (LSTM, {"dropout": 1.5}, ValueError),
    (LSTM, {"activation": "softmax"}, ValueError),
    (GRU, {"recurrent_activation": "hard_sigmoid"}, ValueError),
    (SimpleRNN, {"recurrent_activation": "sigmoid"}, TypeError),
    (LSTM, {"return_sequences": "yes"}, TypeError),
    (LSTM, {"units": 0}, ValueError),
    (LSTM, {"mask_zero": True}, TypeError),
])
def test_arguments_not_implemented_or_wrong_raise(cls, kwargs, error):
    args = dict(units=3)
    args.update(kwargs)
    with pytest.raises(error, match=cls.__name__):
        cls(**args)


def test_activations_by_function_and_none():
    assert SimpleRNN(2, activation=pydl.activations.relu).activation == "relu"
    assert SimpleRNN(2, activation=None).activation == "linear"


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_config_round_trip(cls):
    layer = cls(3, return_sequences=True, go_backwards=True, use_bias=False, kernel_regularizer="l2",
                recurrent_initializer="glorot_uniform")
    cfg = layer.get_config()
    assert cfg["units"] == 3 and cfg["go_backwards"] and cfg["dropout"] == 0.0
    clone = cls.from_config(cfg)
    assert clone.get_config() == cfg
    again = L.deserialize(L.serialize(layer))
    assert type(again) is cls and again.get_config() == cfg


def test_regularizers_add_penalties():
    layer = LSTM(2, kernel_regularizer=pydl.regularizers.l2(0.1), recurrent_regularizer=pydl.regularizers.l1(0.01),
                 bias_regularizer=pydl.regularizers.l2(0.5))
    layer(_seq((1, 3, 2)))
    k, u, b = (w.astype(np.float64) for w in layer.get_weights())
    got = sorted(float(p.item()) for p in layer.regularization_losses())
    want = sorted([0.1 * (k ** 2).sum(), 0.01 * np.abs(u).sum(), 0.5 * (b ** 2).sum()])
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_stacked_lstm_trains_and_saves(tmp_path):
    pydl.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1, keepdims=True) * 0.3).astype(np.float32)  # a sum over the whole sequence
    model = Sequential([Input(shape=(8, 2)), LSTM(8, return_sequences=True), LSTM(8), Dense(1)])
    assert model.layers[0].output_shape == (None, 8, 8)
    model.compile(loss="mse", optimizer=pydl.optimizers.Adam(learning_rate=0.02))
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.5 * before, (before, after)
    path = tmp_path / "lstm.pydl"
    model.save(path)
    loaded = load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == ["LSTM", "LSTM", "Dense"]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_functional_model_with_return_state(tmp_path):
    pydl.manual_seed(2)
    inp = Input(shape=(5, 3))
    seq, h, c = LSTM(4, return_sequences=True, return_state=True)(inp)
    gru_out, gh = GRU(3, return_state=True)(seq)
    out = Dense(1)(L.Concatenate()([h, c, gh]))
    model = Model(inp, out)
    x = _seq((10, 5, 3), seed=4)
    y = _seq((10, 1), seed=5)
    model.compile(loss="mse", optimizer="adam")
    hist = model.fit(x, y, epochs=3, batch_size=5, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    # the state outputs are the layer's: the last h equals the sequence's last step
    lstm = model.layers[1]
    got_seq, got_h, got_c = lstm(pydl.tensor(x))
    np.testing.assert_allclose(got_h.detach().numpy(), got_seq.detach().numpy()[:, -1], rtol=0)
    path = tmp_path / "state.pydl"
    model.save(path)
    np.testing.assert_allclose(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_loss_on_the_last_state_reaches_the_first_weights():
    # return_state in eager mode: a loss on c alone gives the kernel a gradient through every step
    layer = LSTM(3, return_state=True, dtype="float64")
    out, h, c = layer(_seq((2, 4, 2)).astype(np.float64))
    c.sum().backward()
    assert np.abs(layer.kernel.grad.numpy()).sum() > 0
    assert layer.recurrent_kernel.grad is not None


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_initial_state_gives_keras_equations(cls):
    x = _seq((3, 4, 2), seed=6).astype(np.float64)
    w = _keras_weights(cls, 2, 3, seed=7)
    rng = np.random.default_rng(8)
    states = [rng.standard_normal((3, 3)) for _ in range(2 if cls is LSTM else 1)]
    layer = cls(3, return_sequences=True, dtype="float64")
    layer.build((4, 2))
    layer.set_weights(w)
    got = layer(x, initial_state=[pydl.tensor(s, dtype=pydl.float64) for s in states])
    if cls is SimpleRNN:
        expected = np_simple_rnn(x, *w, states[0])[0]
    elif cls is LSTM:
        expected = np_lstm(x, *w, states[0], states[1])[0]
    else:
        expected = np_gru(x, *w, states[0])[0]
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    # the same as the list form layer([x, *states])
    again = layer([pydl.tensor(x, dtype=pydl.float64)] + [pydl.tensor(s, dtype=pydl.float64) for s in states])
    np.testing.assert_array_equal(again.detach().numpy(), got.detach().numpy())


def test_initial_state_errors_name_the_layer():
    layer = LSTM(3, name="dec")
    x = _seq((2, 4, 2))
    with pytest.raises(ValueError, match=r"dec: LSTM takes 2 initial state\(s\) \(\[h, c\]\), got 1"):
        layer(x, initial_state=[_seq((2, 3))])
    with pytest.raises(ValueError, match=r"dec: an initial state must have shape \(batch, 3\), got \(batch,\) \+ \(4,\)"):
        layer(x, initial_state=[_seq((2, 4)), _seq((2, 3))])
    assert not layer.built


def test_encoder_decoder_with_initial_state_trains_and_saves(tmp_path):
    pydl.manual_seed(3)
    enc_in, dec_in = Input(shape=(6, 2)), Input(shape=(4, 3))
    _, h, c = LSTM(5, return_state=True)(enc_in)
    dec = LSTM(5, return_sequences=True)(dec_in, initial_state=[h, c])
    out = L.Flatten()(dec)
    model = Model([enc_in, dec_in], Dense(1)(out))
    xe, xd = _seq((16, 6, 2), seed=1), _seq((16, 4, 3), seed=2)
    y = xe[:, :, :1].sum(axis=1) * 0.3
    model.compile(loss="mse", optimizer=pydl.optimizers.Adam(learning_rate=0.02))
    before = model.evaluate([xe, xd], y, verbose=0)
    model.fit([xe, xd], y, epochs=40, batch_size=8, verbose=0)
    assert model.evaluate([xe, xd], y, verbose=0) < 0.5 * before
    path = tmp_path / "seq2seq.pydl"
    model.save(path)
    np.testing.assert_allclose(load_model(path).predict([xe, xd], verbose=0), model.predict([xe, xd], verbose=0),
                               rtol=1e-6)


# ---------------------------------------------------------------- masks, dropout, stateful (issue 9)
from test_functional_rnn import np_masked  # noqa: E402


def _weights64(layer):
    return [w.astype(np.float64) for w in layer.get_weights()]


def _np_values(cls, layer, x, h0=None, c0=None):
    k, u, b = _weights64(layer)
    return dict(x=x.astype(np.float64), w=k, u=u, b=b, h0=h0, c0=c0)


CELL = {SimpleRNN: "simple", LSTM: "lstm", GRU: "gru"}


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("go_backwards, zero_output", [(False, False), (True, False), (False, True), (True, True)])
def test_mask_gives_keras_semantics(cls, go_backwards, zero_output):
    x = _seq((3, 5, 2), seed=4)
    mask = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 0, 1, 0, 1]], dtype=bool)
    layer = cls(4, return_sequences=True, return_state=True, go_backwards=go_backwards,
                zero_output_for_mask=zero_output, dtype="float64")
    seq, *states = layer(x, mask=mask)
    want = np_masked(CELL[cls], _np_values(cls, layer, x), mask, None, zero_output, go_backwards)
    np.testing.assert_allclose(seq.detach().numpy(), want[0], rtol=1e-12, atol=1e-12)
    for got, w in zip(states, want[1:]):
        np.testing.assert_allclose(got.detach().numpy(), w, rtol=1e-12, atol=1e-12)
    # without return_sequences: Keras returns the sequence's last step (the last state, or 0 when
    # zero_output_for_mask and that step is masked)
    last = cls(4, go_backwards=go_backwards, zero_output_for_mask=zero_output, dtype="float64")
    last(x)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x, mask=mask).detach().numpy(), want[0][:, -1], rtol=1e-12, atol=1e-12)


def test_masked_padding_gives_the_unpadded_result():
    # post-padding with a mask: the last state is that of the unpadded sequence
    x = _seq((1, 6, 3), seed=5)
    layer = LSTM(3, dtype="float64")
    short = layer(x[:, :4]).detach().numpy()
    padded = np.concatenate([x[:, :4], np.full((1, 2, 3), 7.0, np.float32)], axis=1)
    np.testing.assert_allclose(layer(padded, mask=np.array([[1, 1, 1, 1, 0, 0]])).detach().numpy(), short, rtol=1e-12)
    assert not np.allclose(layer(padded).detach().numpy(), short)


def test_dropout_only_in_training_and_fixed_over_time():
    x = np.ones((4, 6, 3), np.float32)
    layer = SimpleRNN(5, dropout=0.5, return_sequences=True, dtype="float64")
    plain = layer(x).detach().numpy()
    np.testing.assert_array_equal(layer(x, training=False).detach().numpy(), plain)  # inference: no dropout
    pydl.manual_seed(3)
    dropped = layer(x, training=True).detach().numpy()
    assert not np.allclose(dropped, plain)
    # the same input mask at every step: running the NumPy SimpleRNN on x * m for one m (batch,
    # features) in {0, 2} reproduces the training output; find m from the first step
    k, u, b = _weights64(layer)
    cands = [np.array(bits, float) * 2 for bits in np.ndindex(2, 2, 2)]
    for n in range(4):
        first = [np.tanh(c @ k + b) for c in cands]
        m = cands[int(np.argmin([np.abs(f - dropped[n, 0]).max() for f in first]))]
        want, _ = np_simple_rnn((x[n:n + 1] * m).astype(np.float64), k, u, b, None)
        np.testing.assert_allclose(dropped[n], want[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_recurrent_dropout_only_in_training_and_seeded(cls):
    x = _seq((3, 5, 2), seed=6)
    layer = cls(4, recurrent_dropout=0.4, dropout=0.3, return_sequences=True)
    plain = layer(x).detach().numpy()
    pydl.manual_seed(11)
    a = layer(x, training=True).detach().numpy()
    b = layer(x, training=True).detach().numpy()
    pydl.manual_seed(11)
    a2 = layer(x, training=True).detach().numpy()
    assert not np.allclose(a, plain) and not np.allclose(a, b)  # a new mask at every call
    np.testing.assert_array_equal(a, a2)  # same seed, same masks
    # seed=: the layer's own generator, repeatable whatever pydl's generator does
    s1, s2 = cls(4, recurrent_dropout=0.4, seed=7), cls(4, recurrent_dropout=0.4, seed=7)
    s1(x)
    s2(x)
    s2.set_weights(s1.get_weights())
    pydl.manual_seed(1)
    r1 = s1(x, training=True).detach().numpy()
    pydl.manual_seed(2)
    np.testing.assert_array_equal(s2(x, training=True).detach().numpy(), r1)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_recurrent_dropout_mask_is_per_gate_and_fixed_over_time(cls):
    # with seed=, the masks are documented to come from numpy's default_rng(seed): the first training
    # call draws keep = (uniform (batch, gates * units) >= rate) / (1 - rate), one mask per gate, and
    # the NumPy cells run with that mask at every step give the layer's output
    x = _seq((2, 4, 3), seed=8)
    layer = cls(3, recurrent_dropout=0.5, seed=5, return_sequences=True, dtype="float64")
    layer(x)
    got = layer(x, training=True).detach().numpy()
    G = {SimpleRNN: 1, LSTM: 4, GRU: 3}[cls]
    keep = (np.random.default_rng(5).random((2, G * 3)) >= 0.5) / 0.5
    assert 0 < keep.mean() < 2  # some units dropped, some kept
    want = np_masked(CELL[cls], _np_values(cls, layer, x), None, keep)
    np.testing.assert_allclose(got, want[0], rtol=1e-12, atol=1e-12)
    # one mask for all gates would give another result (Keras's per-gate masks are what is used)
    if G > 1:
        one = np.tile(keep[:, :3], (1, G))
        assert not np.allclose(got, np_masked(CELL[cls], _np_values(cls, layer, x), None, one)[0])


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_dropout_with_recurrent_dropout_is_per_gate_as_keras(cls):
    # Keras 3: recurrent_dropout makes LSTM/GRU use implementation 1, so dropout is one input mask per
    # gate too (SimpleRNN: one of each). With seed=, the masks are drawn from default_rng(seed) in the
    # documented order: the input masks (batch, features), one per gate, then the recurrent ones.
    x = _seq((2, 4, 3), seed=15)
    layer = cls(3, dropout=0.4, recurrent_dropout=0.5, seed=9, return_sequences=True, dtype="float64")
    layer(x)
    got = layer(x, training=True).detach().numpy()
    G = {SimpleRNN: 1, LSTM: 4, GRU: 3}[cls]
    rng = np.random.default_rng(9)
    xdrop = np.concatenate([(rng.random((2, 3)) >= 0.4) / 0.6 for _ in range(G)], axis=1)
    rdrop = (rng.random((2, G * 3)) >= 0.5) / 0.5
    want = np_masked(CELL[cls], _np_values(cls, layer, x), None, rdrop, xdrop=xdrop)
    np.testing.assert_allclose(got, want[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_gradient_through_per_gate_input_dropout(cls):
    # the gate-stacked input and block-diagonal kernel keep the gradient exact: gradcheck of the input
    # and every weight in training, the masks the same at every evaluation (the seeded generator rewound)
    from pydl.utils import gradcheck
    x = pydl.tensor(_seq((2, 3, 2), seed=16).astype(np.float64), dtype=pydl.float64, requires_grad=True)
    layer = cls(2, dropout=0.3, recurrent_dropout=0.3, seed=3, dtype="float64")
    layer(x.detach())
    state = layer._rng.bit_generator.state

    def fn(xx, *_):
        layer._rng.bit_generator.state = state
        return layer(xx, training=True)

    res = gradcheck(fn, [x] + layer.trainable_weights)
    assert res, res


def test_fit_applies_dropout_and_predict_does_not():
    pydl.manual_seed(0)
    x = _seq((16, 5, 2), seed=9)
    y = x.sum(axis=(1, 2)).reshape(-1, 1)
    model = Sequential([Input((5, 2)), LSTM(4, dropout=0.5, recurrent_dropout=0.5), Dense(1)])
    model.compile("adam", "mse")
    before = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)  # inference is deterministic
    hist = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    # fit runs the layer in training: with a zero learning rate nothing changes, yet the loss fit
    # reports (dropout on) differs from evaluate's (dropout off) on the same single batch
    frozen = Sequential([Input((5, 2)), LSTM(4, dropout=0.5, recurrent_dropout=0.5), Dense(1)])
    frozen.compile(pydl.optimizers.SGD(learning_rate=0.0), "mse")
    fit_loss = frozen.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0).history["loss"][0]
    eval_loss = frozen.evaluate(x, y, batch_size=16, verbose=0)
    eval_loss = eval_loss[0] if isinstance(eval_loss, (list, tuple)) else eval_loss
    assert abs(fit_loss - eval_loss) > 1e-6 * abs(eval_loss)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_stateful_two_batches_equal_one_call_on_the_whole_sequence(cls):
    x = _seq((3, 8, 2), seed=10)
    whole = cls(4, return_sequences=True, dtype="float64")
    full = whole(x).detach().numpy()
    st = cls(4, return_sequences=True, stateful=True, return_state=True, dtype="float64")
    st(x[:, :1])
    st.set_weights(whole.get_weights())
    st.reset_states()
    first, *_ = st(x[:, :5])
    second, *states = st(x[:, 5:])
    np.testing.assert_allclose(np.concatenate([first.detach().numpy(), second.detach().numpy()], axis=1), full, rtol=1e-12)
    np.testing.assert_allclose(states[0].detach().numpy(), full[:, -1], rtol=1e-12)
    # reset_states: zeros again, so the second half alone starts from scratch
    st.reset_states()
    again, *_ = st(x[:, 5:])
    np.testing.assert_allclose(again.detach().numpy(), whole(x[:, 5:]).detach().numpy(), rtol=1e-12)
    # reset_states(states): start from given states
    h = np.full((3, 4), 0.25)
    init = [h, np.zeros((3, 4))] if cls is LSTM else [h]
    st.reset_states(init)
    given, *_ = st(x[:, 5:])
    np.testing.assert_allclose(given.detach().numpy(), whole(x[:, 5:], initial_state=[pydl.tensor(a) for a in init]).detach().numpy(),
                               rtol=1e-12)


def test_stateful_needs_a_fixed_batch_size():
    layer = SimpleRNN(2, stateful=True)
    layer(_seq((4, 3, 1)))
    with pytest.raises(ValueError, match=r"stateful=True carries the states of 4 samples.*got a batch of 3"):
        layer(_seq((3, 3, 1)))
    with pytest.raises(ValueError, match=r"each state must have shape \(batch, 2\)"):
        layer.reset_states([np.zeros((4, 3))])
    with pytest.raises(AttributeError, match="reset_states\\(\\) is for stateful=True layers"):
        SimpleRNN(2).reset_states()


def test_stateful_does_not_backpropagate_into_the_previous_batch():
    x = _seq((2, 4, 2), seed=12)
    layer = LSTM(3, stateful=True)
    layer(pydl.tensor(x)).sum().backward()
    xt = pydl.tensor(x, requires_grad=True)
    layer(xt).sum().backward()  # a second graph: the carried states are constants
    assert np.all(np.isfinite(xt.grad.numpy()))


def test_config_round_trip_keeps_the_new_arguments():
    layer = GRU(3, dropout=0.1, recurrent_dropout=0.2, stateful=True, zero_output_for_mask=True, seed=4)
    cfg = layer.get_config()
    assert (cfg["dropout"], cfg["recurrent_dropout"], cfg["stateful"], cfg["zero_output_for_mask"], cfg["seed"]) == \
        (0.1, 0.2, True, True, 4)
    assert GRU.from_config(cfg).get_config() == cfg
