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


# ---------------------------------------------------------------- masks and recurrent dropout
def np_masked(cell, v, mask=None, rdrop=None, zero_output=False, go_backwards=False, act="tanh", ract="sigmoid",
              xdrop=None):
    """The three cells step by step as Keras's backends (JAX / NumPy) run them with a mask: at a masked
    step the states keep their values and the output is the carried h (or 0 with zero_output);
    recurrent dropout: gate q multiplies h_{s-1} by its own mask before U_q (Keras's implementation 1);
    xdrop (batch, gates * features): gate q multiplies x_t by its own mask before W_q."""
    x, w, u, b = v["x"], v["w"], v["u"], v["b"]
    B, T, _ = x.shape
    n = u.shape[0]
    G = w.shape[1] // n
    h = np.zeros((B, n)) if v["h0"] is None else v["h0"].copy()
    c = np.zeros((B, n)) if v.get("c0") is None else v["c0"].copy()
    m = np.ones((B, T), bool) if mask is None else np.asarray(mask, bool)
    rd = np.ones((B, G * n)) if rdrop is None else rdrop
    nf = x.shape[2]
    xd = np.ones((B, G * nf)) if xdrop is None else xdrop
    out = []
    for s in range(T):
        t = T - 1 - s if go_backwards else s
        xw = np.concatenate([(x[:, t] * xd[:, q * nf:(q + 1) * nf]) @ w[:, q * n:(q + 1) * n] for q in range(G)],
                            axis=1)
        rec = np.concatenate([(h * rd[:, q * n:(q + 1) * n]) @ u[:, q * n:(q + 1) * n] for q in range(G)], axis=1)
        if cell == "simple":
            hn, cn = ACTS[act](xw + rec + (0 if b is None else b)), c
        elif cell == "lstm":
            z = xw + rec + (0 if b is None else b)
            i, f, g, o = (ACTS[ract](z[:, :n]), ACTS[ract](z[:, n:2 * n]), ACTS[act](z[:, 2 * n:3 * n]),
                          ACTS[ract](z[:, 3 * n:]))
            cn = f * c + i * g
            hn = o * ACTS[act](cn)
        else:
            bi, br = (0, 0) if b is None else (b[0], b[1])
            mx, mi = xw + bi, rec + br
            zg = ACTS[ract](mx[:, :n] + mi[:, :n])
            r = ACTS[ract](mx[:, n:2 * n] + mi[:, n:2 * n])
            hh = ACTS[act](mx[:, 2 * n:] + r * mi[:, 2 * n:])
            hn, cn = zg * h + (1 - zg) * hh, c  # the update uses the undropped h_{s-1}
        keep = m[:, t][:, None]
        h, c = np.where(keep, hn, h), np.where(keep, cn, c)
        out.append(np.where(keep, h, 0.0) if zero_output else h)
    res = (np.stack(out, 1), h)
    return res + ((c,) if cell == "lstm" else ())


def rand_mask(B, T, seed):
    m = np.random.default_rng(seed).random((B, T)) > 0.4
    m[0, :2] = False  # leading masked steps (pre-padding), carried from the initial state
    m[-1, -2:] = False  # trailing masked steps (post-padding)
    return m


def rand_rdrop(B, GU, seed, p=0.3):
    return (np.random.default_rng(seed).random((B, GU)) >= p) / (1 - p)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("go_backwards, zero_output, dropped, init", [
    (False, False, False, True), (True, False, False, False), (False, True, False, True),
    (True, True, True, True), (False, False, True, False)])
def test_masked_forward_matches_numpy(cell, go_backwards, zero_output, dropped, init, backend):
    B, T, I, U = 3, 6, 4, 5
    v = make(cell, B, T, I, U, True, init, seed=21)
    mask = rand_mask(B, T, 3)
    G = {"simple": 1, "lstm": 4, "gru": 3}[cell]
    rdrop = rand_rdrop(B, G * U, 4) if dropped else None
    expected = np_masked(cell, v, mask, rdrop, zero_output, go_backwards)
    for dtype, tol in ((pydl.float64, 1e-12), (pydl.float32, 1e-5)):
        got, _ = run(cell, v, dtype, go_backwards=go_backwards, mask=mask, recurrent_dropout=rdrop,
                     zero_output_for_mask=zero_output)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.numpy(), e, rtol=tol, atol=tol)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("masked, dropped, init, go_backwards", [
    (False, False, False, False), (True, False, True, True), (True, True, True, False), (False, True, False, True)])
def test_inference_forward_matches_the_recorded_forward(cell, masked, dropped, init, go_backwards):
    # Without a gradient to record, the fast kernel saves nothing and (SimpleRNN, LSTM without
    # recurrent dropout) projects [x_t, h_{s-1}] in one GEMM per step: the same outputs as the forward
    # that records for backward. Sizes large enough for the threaded path and the weight panels.
    B, T, I, U = 37, 5, 9, 70
    v = make(cell, B, T, I, U, True, init, seed=31)
    G = {"simple": 1, "lstm": 4, "gru": 3}[cell]
    kw = dict(go_backwards=go_backwards, mask=rand_mask(B, T, 5) if masked else None,
              recurrent_dropout=rand_rdrop(B, G * U, 6) if dropped else None)
    # float32: the fused GEMM sums x_t W and h U in one chain, in another order than x_t W + h U, so
    # the results differ by rounding: about eps * sum |terms| (~80 terms of ~0.5: 2.4e-6) per
    # pre-activation, carried through the steps
    for dtype, tol in ((pydl.float64, 1e-12), (pydl.float32, 5e-5)):
        recorded, _ = run(cell, v, dtype, requires_grad=True, **kw)
        inferred, _ = run(cell, v, dtype, **kw)
        assert len(recorded) == len(inferred)
        for r, i in zip(recorded, inferred):
            assert not i.requires_grad and r.requires_grad
            np.testing.assert_allclose(i.numpy(), r.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("masked, requires_grad", [(False, False), (True, False), (True, True)])
def test_return_sequences_false_gives_the_last_states_only(cell, masked, requires_grad, backend):
    # return_sequences=False: no sequence output (None); the last states are those of the full run
    B, T, I, U = 4, 6, 3, 18
    v = make(cell, B, T, I, U, True, True, seed=41)
    kw = dict(mask=rand_mask(B, T, 7) if masked else None)
    full, _ = run(cell, v, pydl.float64, **kw)
    last, t = run(cell, v, pydl.float64, requires_grad=requires_grad, return_sequences=False, **kw)
    assert last[0] is None and len(last) == len(full)
    for got, want_ in zip(last[1:], full[1:]):
        np.testing.assert_allclose(got.detach().numpy(), want_.numpy(), rtol=1e-12, atol=1e-12)
    if requires_grad:  # a loss on the last h still trains the whole sequence
        last[1].sum().backward()
        assert t["x"].grad is not None and np.abs(t["x"].grad.numpy()[:, 0]).sum() > 0


def test_mask_semantics_by_hand():
    # one sample, one unit: the masked step 1 repeats the state after step 0, the last h is that state
    v = make("simple", 1, 3, 2, 1, True, True, seed=8)
    mask = np.array([[True, False, True]])
    (seq, last), _ = run("simple", v, mask=mask)
    s = seq.numpy()[0, :, 0]
    h0 = v["h0"][0, 0]
    h1 = np.tanh(v["x"][0, 0] @ v["w"][:, 0] + h0 * v["u"][0, 0] + v["b"][0])
    h3 = np.tanh(v["x"][0, 2] @ v["w"][:, 0] + h1 * v["u"][0, 0] + v["b"][0])
    np.testing.assert_allclose(s, [h1, h1, h3], rtol=1e-14)
    assert last.numpy()[0, 0] == pytest.approx(h3, rel=1e-14)
    # every step masked: the sequence holds h0 throughout (0 with zero_output_for_mask), the last h is h0
    (seq, last), _ = run("simple", v, mask=np.zeros((1, 3), bool))
    np.testing.assert_allclose(seq.numpy()[0, :, 0], [h0] * 3, rtol=0)
    (seq, last), _ = run("simple", v, mask=np.zeros((1, 3)), zero_output_for_mask=True)
    np.testing.assert_array_equal(seq.numpy(), 0)
    assert last.numpy()[0, 0] == h0


def test_all_ones_mask_changes_nothing():
    for cell in CELLS:
        v = make(cell, 2, 4, 3, 3, seed=12)
        plain, _ = run(cell, v)
        masked, _ = run(cell, v, mask=np.ones((2, 4)))
        for a, b in zip(plain, masked):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("cell, which", [(c, w) for c in CELLS for w in ("sequence", "last_h")] + [("lstm", "last_c")])
@pytest.mark.parametrize("go_backwards, zero_output, dropped", [(False, False, False), (True, True, False),
                                                                (False, False, True), (True, False, True)])
def test_gradcheck_with_masks(cell, which, go_backwards, zero_output, dropped, backend):
    B, T, U = 3, 5, 3
    v = make(cell, B, T, 2, U, seed=6)
    names = [k for k in ("x", "w", "u", "b", "h0", "c0") if v[k] is not None]
    ts = [pydl.tensor(v[k], dtype=pydl.float64, requires_grad=True) for k in names]
    mask = rand_mask(B, T, 9)
    G = {"simple": 1, "lstm": 4, "gru": 3}[cell]
    rdrop = rand_rdrop(B, G * U, 10) if dropped else None
    out_index = {"sequence": 0, "last_h": 1, "last_c": 2}[which]
    kw = dict(go_backwards=go_backwards, mask=mask, recurrent_dropout=rdrop, zero_output_for_mask=zero_output)

    def fn(*args):
        d = dict(zip(names, args))
        if cell == "simple":
            outs = F.simple_rnn(d["x"], d["w"], d["u"], d["b"], d["h0"], **kw)
        elif cell == "lstm":
            outs = F.lstm(d["x"], d["w"], d["u"], d["b"], (d["h0"], d["c0"]), **kw)
        else:
            outs = F.gru(d["x"], d["w"], d["u"], d["b"], d["h0"], **kw)
        return outs[out_index]

    result = gradcheck(fn, ts)
    assert result, result


def test_masked_steps_pass_the_gradient_through():
    # a loss on the last h alone: x at a masked step gets no gradient, and the steps before it do
    v = make("lstm", 1, 5, 2, 3, seed=13)
    mask = np.array([[True, True, False, False, True]])
    (seq, h, c), t = run("lstm", v, requires_grad=True, mask=mask)
    h.sum().backward()
    gx = np.abs(t["x"].grad.numpy()[0]).sum(axis=1)
    assert gx[2] == 0 and gx[3] == 0
    assert gx[0] > 0 and gx[1] > 0 and gx[4] > 0
    # the same as running the kept steps alone
    kept = dict(v, x=v["x"][:, [0, 1, 4]].copy())
    (seq2, h2, c2), t2 = run("lstm", kept, requires_grad=True)
    h2.sum().backward()
    np.testing.assert_allclose(h.detach().numpy(), h2.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(t["u"].grad.numpy(), t2["u"].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(t["h0"].grad.numpy(), t2["h0"].grad.numpy(), rtol=1e-12)


def test_backends_agree_with_masks_and_dropout():
    for cell in CELLS:
        grads = {}
        for backend in ("reference", "fast"):
            pydl.set_backend(backend)
            B, T, U = 4, 6, 5
            v = make(cell, B, T, 3, U, seed=14)
            G = {"simple": 1, "lstm": 4, "gru": 3}[cell]
            outs, t = run(cell, v, requires_grad=True, mask=rand_mask(B, T, 1), recurrent_dropout=rand_rdrop(B, G * U, 2))
            loss = sum((o * pydl.tensor(np.random.default_rng(k).standard_normal(tuple(o.shape)))).sum()
                       for k, o in enumerate(outs))
            loss.backward()
            grads[backend] = [t[k].grad.numpy() for k in ("x", "w", "u", "b", "h0") + (("c0",) if cell == "lstm" else ())]
        pydl.set_backend("fast")
        for r, f in zip(grads["reference"], grads["fast"]):
            np.testing.assert_allclose(f, r, rtol=1e-11, atol=1e-12)


def test_mask_and_dropout_errors():
    v = make("gru", 2, 3, 4, 5)
    x, w, u, b = (pydl.tensor(v[k]) for k in ("x", "w", "u", "b"))
    with pytest.raises(ValueError, match=r"gru: the mask must have shape \(batch, time\) = \(2, 3\).*got \(3, 2\)"):
        F.gru(x, w, u, b, mask=np.ones((3, 2), bool))
    with pytest.raises(ValueError, match="gru: the mask must hold only True/False or 0/1"):
        F.gru(x, w, u, b, mask=np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match=r"gru: the recurrent dropout mask must have shape \(batch, 3 \* units\) = \(2, 15\)"):
        F.gru(x, w, u, b, recurrent_dropout=np.ones((2, 5)))
    with pytest.raises(TypeError, match="gru: zero_output_for_mask must be a bool"):
        F.gru(x, w, u, b, zero_output_for_mask=1)
