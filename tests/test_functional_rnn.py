"""pydl.functional.simple_rnn / lstm / gru: forward against a NumPy step-by-step transcription of
Keras's equations (both backends, float32 and float64, go_backwards, initial states, no bias),
float64 gradcheck of every input through time (the whole sequence, the last h alone, LSTM's last c
alone), the multi-output node (an unused output gives no gradient; backward accumulates), and the
errors for bad input."""
import numpy as np
import pytest

import pydl
from pydl import functional as F
from pydl.utils import gradcheck

ACTS = {"tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "relu": lambda v: np.maximum(v, 0),
        "linear": lambda v: v}


# ---------------------------------------------------------------- NumPy transcriptions
def np_simple_rnn(x, w, u, b, h0, act="tanh", go_backwards=False):
    B, T, _ = x.shape
    h = np.zeros((B, u.shape[0])) if h0 is None else h0
    xs = x[:, ::-1] if go_backwards else x
    out = []
    for t in range(T):
        h = ACTS[act](xs[:, t] @ w + h @ u + (0 if b is None else b))
        out.append(h)
    return np.stack(out, 1), h


def np_lstm(x, w, u, b, h0, c0, act="tanh", ract="sigmoid", go_backwards=False):
    B, T, _ = x.shape
    n = u.shape[0]
    h = np.zeros((B, n)) if h0 is None else h0
    c = np.zeros((B, n)) if c0 is None else c0
    xs = x[:, ::-1] if go_backwards else x
    out = []
    for t in range(T):
        z = xs[:, t] @ w + h @ u + (0 if b is None else b)
        i, f, g, o = ACTS[ract](z[:, :n]), ACTS[ract](z[:, n:2 * n]), ACTS[act](z[:, 2 * n:3 * n]), ACTS[ract](z[:, 3 * n:])
        c = f * c + i * g
        h = o * ACTS[act](c)
        out.append(h)
    return np.stack(out, 1), h, c


def np_gru(x, w, u, b, h0, act="tanh", ract="sigmoid", go_backwards=False):
    """Keras 3's GRUCell with reset_after=True."""
    B, T, _ = x.shape
    n = u.shape[0]
    h = np.zeros((B, n)) if h0 is None else h0
    bi, br = (np.zeros(3 * n), np.zeros(3 * n)) if b is None else (b[0], b[1])
    xs = x[:, ::-1] if go_backwards else x
    out = []
    for t in range(T):
        mx = xs[:, t] @ w + bi
        mi = h @ u + br
        z = ACTS[ract](mx[:, :n] + mi[:, :n])
        r = ACTS[ract](mx[:, n:2 * n] + mi[:, n:2 * n])
        hh = ACTS[act](mx[:, 2 * n:] + r * mi[:, 2 * n:])
        h = z * h + (1 - z) * hh
        out.append(h)
    return np.stack(out, 1), h


def make(cell, B, T, I, U, bias=True, init=True, seed=0):
    rng = np.random.default_rng(seed)
    G = {"simple": 1, "lstm": 4, "gru": 3}[cell]
    vals = dict(x=rng.standard_normal((B, T, I)), w=0.5 * rng.standard_normal((I, G * U)),
                u=0.5 * rng.standard_normal((U, G * U)))
    vals["b"] = (0.3 * rng.standard_normal((2, G * U) if cell == "gru" else (G * U,))) if bias else None
    vals["h0"] = 0.5 * rng.standard_normal((B, U)) if init else None
    vals["c0"] = 0.5 * rng.standard_normal((B, U)) if init and cell == "lstm" else None
    return vals


def run(cell, v, dtype=pydl.float64, requires_grad=False, **kw):
    t = {k: None if a is None else pydl.tensor(a, dtype=dtype, requires_grad=requires_grad) for k, a in v.items()}
    if cell == "simple":
        return F.simple_rnn(t["x"], t["w"], t["u"], t["b"], t["h0"], **kw), t
    if cell == "lstm":
        init = None if t["h0"] is None else (t["h0"], t["c0"])
        return F.lstm(t["x"], t["w"], t["u"], t["b"], init, **kw), t
    return F.gru(t["x"], t["w"], t["u"], t["b"], t["h0"], **kw), t


def want(cell, v, **kw):
    if cell == "simple":
        return np_simple_rnn(v["x"], v["w"], v["u"], v["b"], v["h0"], **kw)
    if cell == "lstm":
        return np_lstm(v["x"], v["w"], v["u"], v["b"], v["h0"], v["c0"], **kw)
    return np_gru(v["x"], v["w"], v["u"], v["b"], v["h0"], **kw)


CELLS = ["simple", "lstm", "gru"]


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bias, init, go_backwards", [(True, True, False), (False, False, False),
                                                      (True, False, True), (False, True, True)])
def test_forward_matches_numpy(cell, bias, init, go_backwards, backend):
    v = make(cell, 3, 6, 4, 5, bias, init, seed=int(bias) + 2 * int(init) + 4 * int(go_backwards))
    expected = want(cell, v, go_backwards=go_backwards)
    for dtype, tol in ((pydl.float64, 1e-12), (pydl.float32, 1e-5)):
        got, _ = run(cell, v, dtype, go_backwards=go_backwards)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.dtype == dtype
            np.testing.assert_allclose(g.numpy(), e, rtol=tol, atol=tol)


@pytest.mark.parametrize("cell, acts", [("simple", {"activation": "relu"}), ("simple", {"activation": "linear"}),
                                        ("simple", {"activation": "sigmoid"}),
                                        ("lstm", {"activation": "relu", "recurrent_activation": "tanh"}),
                                        ("gru", {"activation": "linear", "recurrent_activation": "tanh"})])
def test_other_activations(cell, acts, backend):
    v = make(cell, 2, 4, 3, 3, seed=7)
    names = {"activation": "act", "recurrent_activation": "ract"}
    expected = want(cell, v, **{names[k]: a for k, a in acts.items()})
    got, _ = run(cell, v, **acts)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-12, atol=1e-12)


def test_go_backwards_returns_the_processing_order():
    # as Keras: output step s is the state after reading x[:, T-1], ..., x[:, T-1-s]
    v = make("simple", 2, 5, 3, 4, bias=True, init=False, seed=3)
    (seq, last), _ = run("simple", v, go_backwards=True)
    rev = dict(v, x=v["x"][:, ::-1].copy())
    (seq_f, last_f), _ = run("simple", rev)
    np.testing.assert_allclose(seq.numpy(), seq_f.numpy(), rtol=1e-14)
    np.testing.assert_allclose(last.numpy(), seq.numpy()[:, -1], rtol=0)


def test_backends_agree_on_gradients():
    for cell in CELLS:
        grads = {}
        for backend in ("reference", "fast"):
            pydl.set_backend(backend)
            v = make(cell, 3, 5, 4, 6, seed=11)
            outs, t = run(cell, v, requires_grad=True, go_backwards=True)
            loss = sum((o * pydl.tensor(np.random.default_rng(k).standard_normal(tuple(o.shape)))).sum()
                       for k, o in enumerate(outs))
            loss.backward()
            grads[backend] = [t[k].grad.numpy() for k in ("x", "w", "u", "b", "h0") + (("c0",) if cell == "lstm" else ())]
        for r, f in zip(grads["reference"], grads["fast"]):
            np.testing.assert_allclose(f, r, rtol=1e-11, atol=1e-12)


# ---------------------------------------------------------------- gradients through time
@pytest.mark.parametrize("cell, which", [(c, w) for c in CELLS for w in ("sequence", "last_h")] + [("lstm", "last_c")])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradcheck(cell, which, go_backwards, backend):
    v = make(cell, 2, 4, 3, 3, seed=5)
    names = [k for k in ("x", "w", "u", "b", "h0", "c0") if v[k] is not None]
    ts = [pydl.tensor(v[k], dtype=pydl.float64, requires_grad=True) for k in names]
    out_index = {"sequence": 0, "last_h": 1, "last_c": 2}[which]

    def fn(*args):
        d = dict(zip(names, args))
        if cell == "simple":
            outs = F.simple_rnn(d["x"], d["w"], d["u"], d["b"], d["h0"], go_backwards=go_backwards)
        elif cell == "lstm":
            outs = F.lstm(d["x"], d["w"], d["u"], d["b"], (d["h0"], d["c0"]), go_backwards=go_backwards)
        else:
            outs = F.gru(d["x"], d["w"], d["u"], d["b"], d["h0"], go_backwards=go_backwards)
        return outs[out_index]

    result = gradcheck(fn, ts)
    assert result, result


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_without_bias_or_initial_state(cell):
    v = make(cell, 2, 3, 2, 4, bias=False, init=False, seed=9)
    ts = [pydl.tensor(v[k], dtype=pydl.float64, requires_grad=True) for k in ("x", "w", "u")]
    op = {"simple": F.simple_rnn, "lstm": F.lstm, "gru": F.gru}[cell]
    assert gradcheck(lambda x, w, u: op(x, w, u)[1], ts)


def test_loss_on_last_state_trains_every_step():
    # the last h depends on every input step: each x[:, t] gets a nonzero gradient
    v = make("lstm", 2, 6, 3, 4, seed=1)
    (seq, h, c), t = run("lstm", v, requires_grad=True)
    (h.sum() + c.sum()).backward()
    gx = t["x"].grad.numpy()
    assert np.all(np.abs(gx).sum(axis=(0, 2)) > 0)
    # and it is the gradient of the sequence's last step: the same loss through seq[:, -1]
    (seq2, _, c2), t2 = run("lstm", v, requires_grad=True)
    (seq2[:, -1].sum() + c2.sum()).backward()
    np.testing.assert_allclose(t2["x"].grad.numpy(), gx, rtol=1e-12)


def test_backward_accumulates(backend):
    v = make("gru", 2, 3, 2, 3, seed=2)
    (seq, h), t = run("gru", v, requires_grad=True)
    seq.sum().backward(retain_graph=True)
    first = t["u"].grad.numpy().copy()
    seq.sum().backward()
    np.testing.assert_allclose(t["u"].grad.numpy(), 2 * first, rtol=1e-14)


def test_one_step_by_hand():
    # one unit, one feature, one step: x = 0.5, W = 2, U = -1, b = 0.1, h0 = 0.3 -> tanh(0.8)
    x = pydl.tensor(np.array([[[0.5]]]), dtype=pydl.float64)
    seq, h = F.simple_rnn(x, pydl.tensor(np.array([[2.0]]), dtype=pydl.float64),
                          pydl.tensor(np.array([[-1.0]]), dtype=pydl.float64),
                          pydl.tensor(np.array([0.1]), dtype=pydl.float64),
                          pydl.tensor(np.array([[0.3]]), dtype=pydl.float64))
    assert float(h.numpy()[0, 0]) == pytest.approx(np.tanh(0.8), abs=1e-15)


# ---------------------------------------------------------------- bad input
def test_errors_name_the_op_and_shapes():
    v = make("lstm", 2, 3, 4, 5)
    x, w, u, b = (pydl.tensor(v[k]) for k in ("x", "w", "u", "b"))
    with pytest.raises(ValueError, match=r"lstm: the input must be 3-D.*\(2, 4\)"):
        F.lstm(pydl.tensor(np.zeros((2, 4))), w, u, b)
    with pytest.raises(ValueError, match=r"lstm: the kernel must be \(features, 4 \* units\) = \(3, 20\)"):
        F.lstm(pydl.tensor(np.zeros((2, 3, 3))), w, u, b)
    with pytest.raises(ValueError, match=r"lstm: the bias must have shape \(20,\)"):
        F.lstm(x, w, u, pydl.tensor(np.zeros(5)))
    with pytest.raises(ValueError, match=r"lstm: an initial state must have shape \(batch, units\) = \(2, 5\), got \(3, 5\)"):
        F.lstm(x, w, u, b, (pydl.tensor(np.zeros((3, 5))), pydl.tensor(np.zeros((2, 5)))))
    with pytest.raises(ValueError, match="lstm: initial_state must be a pair"):
        F.lstm(x, w, u, b, pydl.tensor(np.zeros((2, 5))))
    with pytest.raises(ValueError, match="lstm: the input sequence is empty"):
        F.lstm(pydl.tensor(np.zeros((2, 0, 4))), w, u, b)
    with pytest.raises(TypeError, match="lstm: go_backwards must be a bool"):
        F.lstm(x, w, u, b, go_backwards=None)
    with pytest.raises(ValueError, match="lstm: activation must be one of"):
        F.lstm(x, w, u, b, activation="softmax")
    with pytest.raises(TypeError, match="lstm: dtype mismatch"):
        F.lstm(x, pydl.tensor(v["w"], dtype=pydl.float64), u, b)
    with pytest.raises(ValueError, match=r"gru: the bias must have shape \(2, 15\)"):
        F.gru(pydl.tensor(np.zeros((2, 3, 4))), pydl.tensor(np.zeros((4, 15))), pydl.tensor(np.zeros((5, 15))),
              pydl.tensor(np.zeros(15)))
    with pytest.raises(ValueError, match=r"simple_rnn: the recurrent kernel must be \(units, 1 \* units\)"):
        F.simple_rnn(x, pydl.tensor(np.zeros((4, 5))), pydl.tensor(np.zeros((5, 4))))
