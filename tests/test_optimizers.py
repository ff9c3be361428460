"""pydl.optimizers: every update rule against a NumPy transcription of Keras 3's update_step
(several steps, with weight decay and each kind of gradient clipping), the reference and fast
backends bit for bit, the PyTorch-style four-step loop, Keras's apply_gradients, schedules,
config and state round trips, and the errors."""
import warnings

import numpy as np
import pytest

import pydl
from pydl import optimizers as O

STEPS = 6


# ---------------------------------------------------------------- NumPy transcription of Keras 3
class NumpyOptimizer:
    """Keras 3's BaseOptimizer.apply + each optimizer's update_step, in NumPy float64."""

    def __init__(self, rule, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 **h):
        self.rule, self.lr, self.wd, self.h = rule, learning_rate, weight_decay, h
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self.slots = None

    def clip(self, grads):
        if self.clipnorm:
            return [g * self.clipnorm / max(np.sqrt(np.sum(g * g)), self.clipnorm) for g in grads]
        if self.global_clipnorm:
            norm = np.sqrt(sum(np.sum(g * g) for g in grads))
            return [g * self.global_clipnorm * min(1.0 / norm, 1.0 / self.global_clipnorm) for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def apply(self, params, grads):
        lr = self.lr(self.iterations) if callable(self.lr) else self.lr
        if self.slots is None:
            init = self.h.get("initial_accumulator_value", 0.1) if self.rule == "adagrad" else 0.0
            self.slots = [{k: np.full_like(p, init) for k in ("a", "b", "c", "d")} for p in params]
        grads = self.clip(grads)
        if self.wd:
            for p in params:
                p -= p * self.wd * lr
        for p, g, s in zip(params, grads, self.slots):
            getattr(self, self.rule)(p, g, s, lr)
        self.iterations += 1

    def sgd(self, p, g, s, lr):
        mu, m = self.h.get("momentum", 0.0), s["a"]
        if mu:
            m[...] = m * mu - g * lr
            p += (m * mu - g * lr) if self.h.get("nesterov") else m
        else:
            p -= g * lr

    def adagrad(self, p, g, s, lr):
        eps, a = self.h.get("epsilon", 1e-7), s["a"]
        a += g * g
        p -= lr * g / np.sqrt(a + eps)

    def adadelta(self, p, g, s, lr):
        rho, eps = self.h.get("rho", 0.95), self.h.get("epsilon", 1e-7)
        eg, ed = s["a"], s["b"]
        eg[...] = rho * eg + (1 - rho) * g * g
        delta = -np.sqrt(ed + eps) * g / np.sqrt(eg + eps)
        ed[...] = rho * ed + (1 - rho) * delta * delta
        p += lr * delta

    def rmsprop(self, p, g, s, lr):
        rho, mu, eps = self.h.get("rho", 0.9), self.h.get("momentum", 0.0), self.h.get("epsilon", 1e-7)
        v, m, mg = s["a"], s["b"], s["c"]
        v[...] = rho * v + (1 - rho) * g * g
        if self.h.get("centered"):
            mg[...] = rho * mg + (1 - rho) * g
            den = v - mg * mg + eps
        else:
            den = v + eps
        inc = lr * g / np.sqrt(den)
        if mu > 0:
            m[...] = mu * m + inc
            p -= m
        else:
            p -= inc

    def adam(self, p, g, s, lr):
        b1, b2 = self.h.get("beta_1", 0.9), self.h.get("beta_2", 0.999)
        eps = self.h.get("epsilon", 1e-7)
        t = self.iterations + 1
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m, v, vhat = s["a"], s["b"], s["c"]
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        if self.h.get("amsgrad"):
            vhat[...] = np.maximum(vhat, v)
            v = vhat
        p -= m * alpha / (np.sqrt(v) + eps)


# A quadratic with different curvature per coordinate: g = A * (p - c)
rng = np.random.default_rng(1)
P0 = [rng.uniform(-1, 1, size=(3, 4)), rng.uniform(-1, 1, size=(4,))]
A = [rng.uniform(0.5, 3.0, size=(3, 4)), rng.uniform(0.5, 3.0, size=(4,))]
CTR = [rng.uniform(-1, 1, size=(3, 4)), rng.uniform(-1, 1, size=(4,))]


def np_grads(params):
    return [a * (p - c) for p, a, c in zip(params, A, CTR)]


def pydl_loss(params):
    total = None
    for p, a, c in zip(params, A, CTR):
        d = p - pydl.tensor(c, dtype=p.dtype)
        term = (pydl.tensor(a, dtype=p.dtype) * d * d).sum() * 0.5
        total = term if total is None else total + term
    return total


def run_pydl(cls, kwargs, steps=STEPS, dtype=pydl.float64):
    params = [pydl.tensor(p, dtype=dtype, requires_grad=True) for p in P0]
    opt = cls(params, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        pydl_loss(params).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in params], opt


def run_numpy(rule, kwargs, steps=STEPS):
    params = [p.copy() for p in P0]
    opt = NumpyOptimizer(rule, **kwargs)
    for _ in range(steps):
        opt.apply(params, np_grads(params))
    return params


CONFIGS = [
    ("sgd", O.SGD, dict(learning_rate=0.1)),
    ("sgd_momentum", O.SGD, dict(learning_rate=0.1, momentum=0.9)),
    ("sgd_nesterov", O.SGD, dict(learning_rate=0.1, momentum=0.9, nesterov=True)),
    ("adagrad", O.Adagrad, dict(learning_rate=0.1, initial_accumulator_value=0.1, epsilon=1e-7)),
    ("adadelta", O.Adadelta, dict(learning_rate=0.001, rho=0.95, epsilon=1e-7)),
    ("adadelta_zeiler", O.Adadelta, dict(learning_rate=1.0, rho=0.95, epsilon=1e-6)),
    ("rmsprop", O.RMSprop, dict(learning_rate=0.01, rho=0.9)),
    ("rmsprop_momentum", O.RMSprop, dict(learning_rate=0.01, rho=0.9, momentum=0.9)),
    ("rmsprop_centered", O.RMSprop, dict(learning_rate=0.01, rho=0.9, centered=True)),
    ("rmsprop_centered_momentum", O.RMSprop, dict(learning_rate=0.01, rho=0.8, momentum=0.5, centered=True)),
    ("adam", O.Adam, dict(learning_rate=0.05)),
    ("adam_betas", O.Adam, dict(learning_rate=0.05, beta_1=0.5, beta_2=0.9, epsilon=1e-3)),
    ("adam_amsgrad", O.Adam, dict(learning_rate=0.05, amsgrad=True)),
    ("adamw", O.AdamW, dict(learning_rate=0.05, weight_decay=0.004)),
    ("adamw_strong", O.AdamW, dict(learning_rate=0.05, weight_decay=0.5, amsgrad=True)),
    ("sgd_weight_decay", O.SGD, dict(learning_rate=0.1, momentum=0.5, weight_decay=0.1)),
    ("rmsprop_weight_decay", O.RMSprop, dict(learning_rate=0.01, weight_decay=0.2)),
    ("sgd_clipnorm", O.SGD, dict(learning_rate=0.1, clipnorm=0.5)),
    ("adam_clipnorm", O.Adam, dict(learning_rate=0.05, clipnorm=0.3)),
    ("sgd_clipvalue", O.SGD, dict(learning_rate=0.1, clipvalue=0.2)),
    ("adagrad_clipvalue", O.Adagrad, dict(learning_rate=0.1, clipvalue=0.1)),
    ("sgd_global_clipnorm", O.SGD, dict(learning_rate=0.1, momentum=0.9, global_clipnorm=0.5)),
    ("rmsprop_global_clipnorm", O.RMSprop, dict(learning_rate=0.01, global_clipnorm=1.0)),
]


def rule_of(cls):
    return cls.rule


@pytest.mark.parametrize("name,cls,kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_rule_matches_numpy(backend, name, cls, kwargs):
    got, opt = run_pydl(cls, kwargs)
    expected = run_numpy(rule_of(cls), {"weight_decay": getattr(opt, "weight_decay", None), **kwargs})
    assert opt.iterations == STEPS
    for g, e, p0 in zip(got, expected, P0):
        assert not np.allclose(e, p0)  # the parameters moved
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,cls,kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_float32_close_to_float64(name, cls, kwargs):
    got32, _ = run_pydl(cls, kwargs, dtype=pydl.float32)
    got64, _ = run_pydl(cls, kwargs, dtype=pydl.float64)
    for a, b in zip(got32, got64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,cls,kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_reference_and_fast_identical(name, cls, kwargs):
    # large enough that the fast loop runs on several threads
    big = np.random.default_rng(2).standard_normal((300, 250)).astype(np.float32)
    results = {}
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        w = pydl.tensor(big, requires_grad=True)
        opt = cls([w], **kwargs)
        for k in range(3):
            opt.zero_grad()
            ((w * w).sum() * 0.5 + (w * float(k + 1)).sum()).backward()
            opt.step()
        results[backend] = (w.detach().numpy().copy(), [s.copy() for s in opt.get_state()["slots"]])
    assert np.array_equal(results["reference"][0], results["fast"][0])
    for a, b in zip(results["reference"][1], results["fast"][1]):
        assert np.array_equal(a, b)


def test_keras_defaults():
    assert O.SGD().learning_rate == 0.01 and O.SGD().momentum == 0.0 and O.SGD().nesterov is False
    a = O.Adam()
    assert (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad) == (0.001, 0.9, 0.999, 1e-7, False)
    r = O.RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    g = O.Adagrad()
    assert (g.learning_rate, g.initial_accumulator_value, g.epsilon) == (0.001, 0.1, 1e-7)
    d = O.Adadelta()
    assert (d.learning_rate, d.rho, d.epsilon) == (0.001, 0.95, 1e-7)
    w = O.AdamW()
    assert (w.learning_rate, w.weight_decay) == (0.001, 0.004)
    assert O.Adam().weight_decay is None
    s = O.SGD(0.2, 0.9, True)  # Keras's positional order
    assert (s.learning_rate, s.momentum, s.nesterov) == (0.2, 0.9, True)


def test_four_step_loop_converges_on_least_squares():
    r = np.random.default_rng(3)
    X = r.standard_normal((200, 3))
    w_true, b_true = np.array([[1.5], [-2.0], [0.5]]), 0.7
    y = X @ w_true + b_true
    for cls, kw, steps in ((O.SGD, dict(learning_rate=0.1), 300), (O.SGD, dict(learning_rate=0.05, momentum=0.9), 300),
                           (O.Adam, dict(learning_rate=0.05), 600), (O.RMSprop, dict(learning_rate=0.01), 800)):
        w = pydl.zeros(3, 1, requires_grad=True)
        b = pydl.zeros(1, requires_grad=True)
        opt = cls(params=[w, b], **kw)
        Xt, yt = pydl.tensor(X), pydl.tensor(y)
        for _ in range(steps):
            opt.zero_grad()
            loss = pydl.mean(pydl.square(pydl.matmul(Xt, w) + b - yt))
            loss.backward()
            opt.step()
        np.testing.assert_allclose(w.detach().numpy(), w_true, atol=2e-2, err_msg=cls.__name__)
        np.testing.assert_allclose(b.detach().numpy(), [b_true], atol=2e-2, err_msg=cls.__name__)


def test_apply_gradients_keras_style_and_none_grads_skipped():
    w = pydl.tensor([1.0, 2.0])
    v = pydl.tensor([5.0])
    opt = O.SGD(learning_rate=0.5)
    opt.build([w, v])
    it = opt.apply_gradients(zip([pydl.tensor([1.0, 1.0]), None], [w, v]))
    assert it == 1 and opt.iterations == 1
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])
    np.testing.assert_allclose(v.numpy(), [5.0])
    # PyTorch style over built variables: a parameter without .grad stays put
    p = pydl.tensor([1.0], requires_grad=True)
    q = pydl.tensor([1.0], requires_grad=True)
    opt2 = O.Adam([p, q], learning_rate=0.1)
    (p * 3.0).sum().backward()
    opt2.step()
    assert q.detach().numpy()[0] == 1.0 and p.detach().numpy()[0] < 1.0


def test_clipping_never_modifies_the_stored_grad():
    w = pydl.tensor([0.0, 0.0], requires_grad=True)
    opt = O.SGD([w], learning_rate=1.0, clipnorm=1.0)
    (w * pydl.tensor([3.0, 4.0])).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(w.detach().numpy(), [-0.6, -0.8], rtol=1e-6)


def test_schedule_learning_rate_is_called_with_the_iteration():
    calls = []

    def schedule(step):
        calls.append(step)
        return 0.1 / (1 + step)

    got, opt = run_pydl(O.SGD, dict(learning_rate=schedule, momentum=0.5))
    assert calls[:STEPS] == list(range(STEPS))
    expected = run_numpy("sgd", dict(learning_rate=lambda s: 0.1 / (1 + s), momentum=0.5))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    opt.learning_rate = 0.25  # callbacks set a float
    assert opt.learning_rate == 0.25


def test_deprecated_lr_and_decay_warn():
    with pytest.warns(DeprecationWarning, match="lr"):
        opt = O.SGD(lr=0.3)
    assert opt.learning_rate == 0.3
    with pytest.warns(DeprecationWarning, match="decay"):
        opt = O.SGD(learning_rate=0.1, decay=0.5)
    opt.iterations = 2
    assert opt.learning_rate == pytest.approx(0.1 / 2)
    with pytest.warns(DeprecationWarning):
        assert O.Adam(learning_rate=0.2).lr == 0.2


def test_get_by_name_and_unknown_names():
    for name, cls in (("sgd", O.SGD), ("adam", O.Adam), ("adagrad", O.Adagrad), ("adadelta", O.Adadelta),
                      ("rmsprop", O.RMSprop), ("adamw", O.AdamW), ("Adam", O.Adam), ("RMSprop", O.RMSprop)):
        assert type(O.get(name)) is cls
    opt = O.Adam(learning_rate=0.5)
    assert O.get(opt) is opt
    with pytest.raises(ValueError) as e:
        O.get("adamax")
    for valid in ("sgd", "adam", "adagrad", "adadelta", "rmsprop", "adamw"):
        assert valid in str(e.value)


def test_argument_errors():
    with pytest.raises(ValueError, match="momentum"):
        O.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="clipnorm.*global_clipnorm"):
        O.Adam(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        O.AdamW(weight_decay=None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'betta_1'"):
        O.Adam(betta_1=0.9)
    with pytest.raises(RuntimeError, match="no parameters"):
        O.SGD().step()


def test_shape_mismatch_changes_nothing():
    w = pydl.tensor([1.0, 2.0])
    v = pydl.tensor([3.0])
    opt = O.SGD(learning_rate=1.0)
    with pytest.raises(ValueError, match=r"shape \(1,\) but its gradient has shape \(2,\)"):
        opt.apply([pydl.tensor([1.0, 1.0]), pydl.tensor([1.0, 1.0])], [w, v])
    np.testing.assert_allclose(w.numpy(), [1.0, 2.0])
    assert opt.iterations == 0


def test_config_round_trip():
    opt = O.RMSprop(learning_rate=0.02, rho=0.8, momentum=0.3, centered=True, clipvalue=0.5, name="rms")
    cfg = opt.get_config()
    assert cfg["learning_rate"] == 0.02 and cfg["rho"] == 0.8 and cfg["centered"] is True and cfg["name"] == "rms"
    again = O.RMSprop.from_config(cfg)
    assert again.get_config() == cfg
    assert O.deserialize(O.serialize(opt)).get_config() == cfg


def test_state_round_trip_resumes_exactly():
    full, _ = run_pydl(O.Adam, dict(learning_rate=0.05, amsgrad=True), steps=6)
    # three steps, save, new optimizer, load, three more
    params = [pydl.tensor(p, dtype=pydl.float64, requires_grad=True) for p in P0]
    opt = O.Adam(params, learning_rate=0.05, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        pydl_loss(params).backward()
        opt.step()
    state = opt.get_state()
    assert state["iterations"] == 3 and len(state["slots"]) == 6 and state["slot_names"][:3] == \
        ["0/momentum", "0/velocity", "0/velocity_hat"]
    assert len(opt.variables()) == 6
    opt2 = O.Adam(params, learning_rate=0.05, amsgrad=True)
    opt2.set_state(state)  # builds from the parameters it was given
    for _ in range(3):
        opt2.zero_grad()
        pydl_loss(params).backward()
        opt2.step()
    for p, f in zip(params, full):
        np.testing.assert_allclose(p.detach().numpy(), f, rtol=1e-14)
    # a dict of named slots works too; a mismatch is refused without changing anything
    opt3 = O.Adam(params, learning_rate=0.05, amsgrad=True)
    opt3.set_state({"iterations": 3, "slots": dict(zip(state["slot_names"], state["slots"]))})
    assert opt3.iterations == 3
    with pytest.raises(ValueError, match="slot arrays"):
        opt3.set_state({"iterations": 1, "slots": state["slots"][:2]})
    assert opt3.iterations == 3


def test_set_state_before_build_waits_for_build():
    w = pydl.tensor([1.0, 2.0])
    opt = O.SGD(learning_rate=0.1, momentum=0.9)
    opt.set_state({"iterations": 4, "slots": [np.array([0.5, 0.5])]})
    opt.build([w])
    assert opt.iterations == 4
    np.testing.assert_allclose(opt.variables()[0].numpy(), [0.5, 0.5])
