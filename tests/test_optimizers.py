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
        self.u_product, self.u_product_step = 1.0, 0  # Nadam's momentum-cache product

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

    def nadam(self, p, g, s, lr):
        # Keras 3's Nadam: u_product (one scalar, s["u"] of the first parameter) advanced once
        # per apply before the update steps, so every parameter sees the same product.
        b1, b2 = self.h.get("beta_1", 0.9), self.h.get("beta_2", 0.999)
        eps = self.h.get("epsilon", 1e-7)
        t = self.iterations + 1
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t_1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        if self.u_product_step != t:
            self.u_product = self.u_product * u_t
            self.u_product_step = t
        u_product_t = self.u_product
        u_product_t_1 = u_product_t * u_t_1
        m, v = s["a"], s["b"]
        m += (g - m) * (1 - b1)
        v += (np.square(g) - v) * (1 - b2)
        m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * g / (1 - u_product_t)
        v_hat = v / (1 - b2 ** t)
        p -= m_hat * lr / (np.sqrt(v_hat) + eps)

    def adamax(self, p, g, s, lr):
        b1, b2 = self.h.get("beta_1", 0.9), self.h.get("beta_2", 0.999)
        eps = self.h.get("epsilon", 1e-7)
        t = self.iterations + 1
        m, u = s["a"], s["b"]
        m += (g - m) * (1 - b1)
        u[...] = np.maximum(b2 * u, np.abs(g))
        p -= lr * m / ((1 - b1 ** t) * (u + eps))


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
    ("nadam", O.Nadam, dict(learning_rate=0.05)),
    ("nadam_betas", O.Nadam, dict(learning_rate=0.05, beta_1=0.5, beta_2=0.9, epsilon=1e-3)),
    ("nadam_weight_decay_clipnorm", O.Nadam, dict(learning_rate=0.05, weight_decay=0.1, clipnorm=0.3)),
    ("adamax", O.Adamax, dict(learning_rate=0.05)),
    ("adamax_betas", O.Adamax, dict(learning_rate=0.05, beta_1=0.5, beta_2=0.8, epsilon=1e-3)),
    ("adamax_global_clipnorm", O.Adamax, dict(learning_rate=0.05, global_clipnorm=0.5, weight_decay=0.05)),
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
    for cls in (O.Nadam, O.Adamax):  # Keras 3: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7
        n = cls()
        assert (n.learning_rate, n.beta_1, n.beta_2, n.epsilon, n.weight_decay) == (0.001, 0.9, 0.999, 1e-7, None)
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
                      ("rmsprop", O.RMSprop), ("adamw", O.AdamW), ("Adam", O.Adam), ("RMSprop", O.RMSprop),
                      ("nadam", O.Nadam), ("Nadam", O.Nadam), ("adamax", O.Adamax), ("Adamax", O.Adamax)):
        assert type(O.get(name)) is cls
    opt = O.Adam(learning_rate=0.5)
    assert O.get(opt) is opt
    with pytest.raises(ValueError) as e:
        O.get("adamz")
    for valid in ("sgd", "adam", "adagrad", "adadelta", "rmsprop", "adamw", "nadam", "adamax"):
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


# ---------------------------------------------------------------- non-finite gradients (issue 7)
NON_FINITE_CONFIGS = [(O.SGD, dict(learning_rate=0.1)), (O.SGD, dict(learning_rate=0.1, clipnorm=1.0)),
                      (O.Adam, dict(learning_rate=0.1, global_clipnorm=1.0)), (O.RMSprop, dict(clipvalue=0.5)),
                      (O.Nadam, dict()), (O.Adamax, dict(clipnorm=0.1))]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("cls,kwargs", NON_FINITE_CONFIGS, ids=lambda c: getattr(c, "__name__", str(c)))
def test_non_finite_gradient_raises_before_any_weight_changes(backend, cls, kwargs, bad):
    r = np.random.default_rng(4)
    w0, b0, v0 = r.standard_normal((40, 30)), r.standard_normal(30), r.standard_normal((30, 2))
    w = pydl.tensor(w0, requires_grad=True)
    b = pydl.tensor(b0, requires_grad=True)
    v = pydl.tensor(v0, requires_grad=True)
    b.name = "dense/bias"
    opt = cls([w, b, v], **kwargs)
    # one good step first, so the slots hold something to keep
    opt.zero_grad()
    (w.sum() + b.sum() + v.sum()).backward()
    opt.step()
    before = [t.detach().numpy().copy() for t in (w, b, v)]
    slots = [s.copy() for s in opt.get_state()["slots"]]
    opt.zero_grad()
    scale = np.ones(30)
    scale[7] = bad
    (w.sum() + (b * pydl.tensor(scale)).sum() + v.sum()).backward()
    assert np.isfinite(w.grad.numpy()).all() and not np.isfinite(b.grad.numpy()[7])
    with pytest.raises(O.NonFiniteGradientError) as e:
        opt.step()
    msg = str(e.value)
    assert "parameter 1" in msg and "'dense/bias'" in msg and "(30,)" in msg and "NaN or inf" in msg
    assert cls.__name__ in msg
    assert isinstance(e.value, RuntimeError)
    assert (e.value.index, e.value.shape, e.value.name, e.value.indices) == (1, (30,), "dense/bias", [1])
    for t, b4 in zip((w, b, v), before):  # nothing moved: not even the parameters before the bad one
        assert np.array_equal(t.detach().numpy(), b4)
    for s, s4 in zip(opt.get_state()["slots"], slots):
        assert np.array_equal(s, s4)
    assert opt.iterations == 1


def test_non_finite_gradient_names_every_bad_parameter_and_apply_gradients_raises():
    w = pydl.tensor([1.0, 2.0])
    v = pydl.tensor([3.0])
    u = pydl.tensor([4.0, 5.0])
    opt = O.SGD(learning_rate=0.5)
    with pytest.raises(O.NonFiniteGradientError, match=r"parameter 1 \(shape \(1,\)\).*parameters 2") as e:
        opt.apply_gradients([(pydl.tensor([1.0, 1.0]), w), (pydl.tensor([np.nan]), v),
                             (pydl.tensor([np.inf, 0.0]), u)])
    assert e.value.indices == [1, 2] and e.value.name is None
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(u.numpy(), [4.0, 5.0])
    assert opt.iterations == 0
    # positions count in the caller's list, skipped (None) gradients included
    with pytest.raises(O.NonFiniteGradientError, match=r"SGD.apply_gradients: the gradient of parameter 2 "):
        opt.apply_gradients([(None, w), (pydl.tensor([1.0]), v), (pydl.tensor([1.0, np.nan]), u)])
    p = pydl.tensor([1.0], requires_grad=True)
    q = pydl.tensor([1.0], requires_grad=True)
    opt = O.Adam([p, q])
    (q * float("inf")).sum().backward()  # p.grad stays None
    with pytest.raises(O.NonFiniteGradientError, match=r"Adam.step: the gradient of parameter 1 ") as e:
        opt.step()
    assert e.value.index == 1 and e.value.parameters[0] is q


def test_clipnorm_with_an_infinite_norm_of_finite_values_clips_exactly():
    # float64 values whose squares overflow: the norm is still finite (5e200) and the clipped
    # gradient is g * c / |g| = (0.6, 0.8), not NaN (today) and not an error
    for kw in (dict(clipnorm=1.0), dict(global_clipnorm=1.0)):
        w = pydl.tensor([0.0, 0.0], dtype=pydl.float64)
        opt = O.SGD(learning_rate=1.0, **kw)
        opt.apply_gradients([(pydl.tensor([3e200, 4e200], dtype=pydl.float64), w)])
        np.testing.assert_allclose(w.numpy(), [-0.6, -0.8], rtol=1e-14)


def test_all_finite_scan_reference_matches_fast():
    r = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        for n in (1, 17, 4096 * 9 + 3):
            x = (r.standard_normal(n) * 1e30).astype(dtype)
            for backend in ("reference", "fast"):
                pydl.set_backend(backend)
                assert pydl._C.all_finite(pydl.tensor(x))
            for where in (0, n // 2, n - 1):
                for bad in (np.nan, np.inf, -np.inf):
                    y = x.copy()
                    y[where] = bad
                    for backend in ("reference", "fast"):
                        pydl.set_backend(backend)
                        assert not pydl._C.all_finite(pydl.tensor(y))


# ---------------------------------------------------------------- hyperparameter ranges (issue 7)
BAD_HYPER = [
    (O.SGD, "learning_rate", -0.1), (O.SGD, "learning_rate", float("nan")), (O.Adam, "learning_rate", float("inf")),
    (O.SGD, "momentum", -0.1), (O.SGD, "momentum", 1.5), (O.RMSprop, "momentum", 1.01),
    (O.RMSprop, "rho", 1.0), (O.RMSprop, "rho", -0.1), (O.Adadelta, "rho", 1.0),
    (O.Adam, "beta_1", 1.0), (O.Adam, "beta_2", -0.5), (O.AdamW, "beta_1", 1.2),
    (O.Nadam, "beta_1", 1.0), (O.Nadam, "beta_2", 1.0), (O.Adamax, "beta_1", -0.1), (O.Adamax, "beta_2", 1.0),
    (O.Adam, "epsilon", -1e-7), (O.Adagrad, "epsilon", -1.0), (O.Adam, "epsilon", 0.0), (O.Adadelta, "epsilon", 0.0), (O.Adagrad, "initial_accumulator_value", -0.1),
    (O.SGD, "clipnorm", -1.0), (O.Adam, "clipvalue", -0.5), (O.Adam, "global_clipnorm", -2.0),
    (O.SGD, "weight_decay", -0.1),
]


@pytest.mark.parametrize("cls,arg,value", BAD_HYPER, ids=[f"{c.__name__}-{a}-{v}" for c, a, v in BAD_HYPER])
def test_out_of_range_hyperparameters_raise_at_construction_and_when_set(cls, arg, value):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: `{arg}`"):
        cls(**{arg: value})
    opt = cls()
    old = getattr(opt, arg)
    with pytest.raises(ValueError, match=rf"{cls.__name__}: `{arg}`"):
        setattr(opt, arg, value)
    assert getattr(opt, arg) == old  # refused: nothing changed


def test_learning_rate_setter_checks_and_schedules_stay_allowed():
    opt = O.SGD(learning_rate=0.1)
    with pytest.raises(ValueError, match="SGD: `learning_rate` must be >= 0, got -0.5"):
        opt.learning_rate = -0.5
    assert opt.learning_rate == 0.1
    with pytest.raises(TypeError, match="learning_rate"):
        opt.learning_rate = "fast"
    opt.learning_rate = 0.0  # zero is allowed (a frozen step), as in Keras and PyTorch
    from pydl import schedules
    opt = O.Adam(learning_rate=schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5))
    assert opt.learning_rate == pytest.approx(0.1)
    # a schedule whose value goes negative is refused at the step, before anything changes
    w = pydl.tensor([1.0], requires_grad=True)
    opt = O.SGD([w], learning_rate=lambda step: -1.0)
    (w * 2.0).sum().backward()
    with pytest.raises(ValueError, match="learning_rate"):
        opt.step()
    assert w.detach().numpy()[0] == 1.0


def test_epsilon_zero_is_refused_because_a_zero_gradient_would_write_nan():
    # with epsilon 0, a parameter whose gradient is 0 (a dead ReLU unit) has m = v = 0 and Adam's
    # step m / (sqrt(v) + 0) is 0 / 0: NaN written into the weights without a word
    with pytest.raises(ValueError, match=r"Adam: `epsilon` must be > 0 .*NaN"):
        O.Adam(epsilon=0.0)


@pytest.mark.parametrize("arg", ["use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                                 "gradient_accumulation_steps"])
def test_keras_arguments_pydl_does_not_implement_are_refused_by_name(arg):
    with pytest.raises(TypeError, match=rf"Adam\(\): `{arg}` \(a Keras 3 optimizer argument\) is not supported"):
        O.Adam(**{arg: 1})


def test_nesterov_without_momentum_raises_as_in_pytorch():
    with pytest.raises(ValueError, match=r"SGD: `nesterov=True` needs a momentum > 0"):
        O.SGD(learning_rate=0.1, nesterov=True)
    opt = O.SGD(momentum=0.9, nesterov=True)
    with pytest.raises(ValueError, match="nesterov"):
        opt.momentum = 0.0
    assert opt.momentum == 0.9


def test_hyperparameter_types_and_deprecated_decay_are_checked():
    with pytest.raises(TypeError, match="SGD: `momentum` must be a number"):
        O.SGD(momentum="0.9")
    with pytest.raises(TypeError, match="SGD: `nesterov` must be True or False"):
        O.SGD(momentum=0.9, nesterov="yes")
    with pytest.raises(TypeError, match="Adam: `amsgrad`"):
        O.Adam().amsgrad = None
    with pytest.raises(ValueError, match="decay"), pytest.warns(DeprecationWarning):
        O.SGD(decay=-0.1)
    opt = O.Adam(beta_1=np.float32(0.5))  # NumPy scalars are numbers, stored as Python floats
    assert type(opt.beta_1) is float and opt.get_config()["beta_1"] == 0.5


# ---------------------------------------------------------------- Nadam and Adamax
def test_nadam_and_adamax_config_state_and_get():
    for cls in (O.Nadam, O.Adamax):
        opt = cls(learning_rate=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-5, clipvalue=0.5)
        cfg = opt.get_config()
        assert cfg["name"] == cls.__name__.lower() and cfg["beta_1"] == 0.8 and cfg["epsilon"] == 1e-5
        assert O.deserialize(O.serialize(opt)).get_config() == cfg
        assert type(O.get({"class_name": cls.__name__, "config": cfg})) is cls
        # save after three steps, resume in a new optimizer: the same as six steps in one go
        full, _ = run_pydl(cls, dict(learning_rate=0.05), steps=6)
        params = [pydl.tensor(p, dtype=pydl.float64, requires_grad=True) for p in P0]
        first = cls(params, learning_rate=0.05)
        for _ in range(3):
            first.zero_grad()
            pydl_loss(params).backward()
            first.step()
        second = cls(params, learning_rate=0.05)
        second.set_state(first.get_state())
        for _ in range(3):
            second.zero_grad()
            pydl_loss(params).backward()
            second.step()
        for p, f in zip(params, full):
            np.testing.assert_allclose(p.detach().numpy(), f, rtol=1e-13)


def test_nadam_momentum_cache_product_by_hand():
    # u_1 u_2 u_3 with u_k = 0.9 (1 - 0.5 * 0.96^k)
    expected = 1.0
    for k in (1, 2, 3):
        expected *= 0.9 * (1 - 0.5 * 0.96 ** k)
    assert pydl._C.optimizer_nadam_u_product(0.9, 3) == pytest.approx(expected, rel=1e-15)
    assert pydl._C.optimizer_nadam_u_product(0.9, 0) == 1.0
