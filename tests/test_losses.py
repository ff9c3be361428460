"""pydl.losses and the fused loss ops (_C.mse_loss, ...): forward against NumPy transcriptions
of Keras's formulas (with sample weights, every layout, both dtypes and backends), gradcheck
in float64, stability of the logit forms at +-1e4, label and shape errors, the Keras-style
classes and get()."""
import numpy as np
import pytest

import pydl
from pydl import _C, losses
from pydl.utils import gradcheck
from conftest import check_backward, check_forward

EPS = 1e-7  # Keras's backend epsilon


# ---------------------------------------------------------------- NumPy transcriptions (Keras 3)
def reduce(per_sample, w=None):
    """Keras's sum_over_batch_size: weight each sample's values, sum, divide by their count."""
    per_sample = np.asarray(per_sample, dtype=np.float64)
    if w is not None:
        per_sample = per_sample * np.asarray(w, dtype=np.float64).reshape((-1,) + (1,) * (per_sample.ndim - 1))
    return per_sample.sum() / per_sample.size


def np_mse(p, t):
    return np.mean((p - t) ** 2, axis=-1)


def np_mae(p, t):
    return np.mean(np.abs(p - t), axis=-1)


def np_bce(p, t):
    q = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(t * np.log(q) + (1 - t) * np.log(1 - q)), axis=-1)


def np_bce_logits(x, t):
    return np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))), axis=-1)


def np_cce(p, t):
    p = p / p.sum(axis=-1, keepdims=True)
    p = np.clip(p, EPS, 1 - EPS)
    return -np.sum(t * np.log(p), axis=-1)


def np_log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def np_cce_logits(x, t):
    return -np.sum(t * np_log_softmax(x), axis=-1)


def one_hot(y, c):
    return np.eye(c)[np.asarray(y, dtype=np.int64).reshape(-1)].reshape(np.shape(y) + (c,))


rng = np.random.default_rng(0)
B, C = 6, 4
PROBS = rng.uniform(0.05, 0.95, size=(B, C))
LOGITS = rng.uniform(-3, 3, size=(B, C))
REAL = rng.uniform(-2, 2, size=(B, C))
TARGET01 = rng.uniform(0, 1, size=(B, C))
ONEHOT = one_hot(rng.integers(0, C, size=B), C)
LABELS = ONEHOT.argmax(-1).astype(np.float64)
W = rng.uniform(0.1, 2.0, size=B)

# (name, numpy per-sample fn, pydl fn(pred, target, sample_weight), pred, target)
CASES = [
    ("mse", np_mse, lambda p, t, w=None: _C.mse_loss(p, t, sample_weight=w), REAL, TARGET01),
    ("mae", np_mae, lambda p, t, w=None: _C.mae_loss(p, t, sample_weight=w), REAL, TARGET01),
    ("bce", np_bce, lambda p, t, w=None: _C.binary_crossentropy(p, t, sample_weight=w), PROBS, TARGET01),
    ("bce_logits", np_bce_logits, lambda p, t, w=None: _C.binary_crossentropy(p, t, True, w), LOGITS, TARGET01),
    ("cce", np_cce, lambda p, t, w=None: _C.categorical_crossentropy(p, t, sample_weight=w), PROBS, ONEHOT),
    ("cce_soft", np_cce, lambda p, t, w=None: _C.categorical_crossentropy(p, t, sample_weight=w), PROBS,
     TARGET01 / TARGET01.sum(-1, keepdims=True)),
    ("cce_logits", np_cce_logits, lambda p, t, w=None: _C.categorical_crossentropy(p, t, True, w), LOGITS, ONEHOT),
    ("scce", lambda p, y: np_cce(p, one_hot(y, p.shape[-1])),
     lambda p, t, w=None: _C.sparse_categorical_crossentropy(p, t, sample_weight=w), PROBS, LABELS),
    ("scce_logits", lambda p, y: np_cce_logits(p, one_hot(y, p.shape[-1])),
     lambda p, t, w=None: _C.sparse_categorical_crossentropy(p, t, True, w), LOGITS, LABELS),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name,np_fn,fn,pred,target", CASES, ids=IDS)
def test_forward_matches_numpy(backend, name, np_fn, fn, pred, target):
    check_forward(lambda p, t: reduce(np_fn(p, t)), fn, [pred, target])


@pytest.mark.parametrize("name,np_fn,fn,pred,target", CASES, ids=IDS)
def test_forward_with_sample_weight(backend, name, np_fn, fn, pred, target):
    check_forward(lambda p, t, w: reduce(np_fn(p, t), w), fn, [pred, target, W])


@pytest.mark.parametrize("name,np_fn,fn,pred,target", CASES, ids=IDS)
def test_gradcheck(backend, name, np_fn, fn, pred, target):
    sparse = name.startswith("scce")
    # the targets are differentiable too (except class ids); sample weights are constants
    check_backward(lambda p, t: fn(p, t, pydl.tensor(W, dtype=pydl.float64)), [pred, target],
                   grad_inputs=[0] if sparse else [0, 1])


def test_3d_predictions_average_over_positions(backend):
    # (batch, time, classes): per-position losses, Keras divides by batch * time
    x = rng.uniform(-2, 2, size=(3, 5, 4))
    t = one_hot(rng.integers(0, 4, size=(3, 5)), 4)
    w = np.array([1.0, 0.5, 2.0])
    got = _C.categorical_crossentropy(pydl.tensor(x, dtype=pydl.float64), t, True, w).item()
    assert got == pytest.approx(reduce(np_cce_logits(x, t), w), rel=1e-12)
    got = _C.mse_loss(pydl.tensor(x, dtype=pydl.float64), t, w).item()
    assert got == pytest.approx(reduce(np_mse(x, t), w), rel=1e-12)
    labels = t.argmax(-1).astype(np.float64)
    got = _C.sparse_categorical_crossentropy(pydl.tensor(x, dtype=pydl.float64), labels, True).item()
    assert got == pytest.approx(reduce(np_cce_logits(x, t)), rel=1e-12)


def test_column_targets_match_vector_outputs(backend):
    # Keras squeezes/expands a trailing 1: y of shape (N,) against a Dense(1) output (N, 1)
    p = rng.uniform(0.1, 0.9, size=(7, 1))
    y = rng.integers(0, 2, size=7).astype(np.float64)
    expected = reduce(np_bce(p, y[:, None]))
    assert _C.binary_crossentropy(pydl.tensor(p, dtype=pydl.float64), y).item() == pytest.approx(expected, rel=1e-12)
    assert _C.binary_crossentropy(pydl.tensor(p[:, 0], dtype=pydl.float64), y[:, None]).item() == \
        pytest.approx(expected, rel=1e-12)
    t = pydl.tensor(y, dtype=pydl.float64, requires_grad=True)
    _C.mse_loss(pydl.tensor(p, dtype=pydl.float64), t).backward()
    assert t.grad.shape == (7,)
    np.testing.assert_allclose(t.grad.numpy(), -2 * (p[:, 0] - y) / 7, rtol=1e-12)


def test_reductions(backend):
    p = pydl.tensor(REAL, dtype=pydl.float64)
    per = np_mse(REAL, TARGET01) * W
    np.testing.assert_allclose(_C.mse_loss(p, TARGET01, W, reduction="none").numpy(), per, rtol=1e-12)
    assert _C.mse_loss(p, TARGET01, W, reduction="sum").item() == pytest.approx(per.sum(), rel=1e-12)
    with pytest.raises(ValueError, match="reduction"):
        _C.mse_loss(p, TARGET01, reduction="avg")
    check_backward(lambda p, t: _C.categorical_crossentropy(p, t, True, reduction="none"), [LOGITS, ONEHOT])


def test_one_node_per_loss_and_backward_accumulates():
    x = pydl.tensor(LOGITS, dtype=pydl.float64, requires_grad=True)
    loss = _C.categorical_crossentropy(x, ONEHOT, from_logits=True)
    assert loss.grad_fn.name() == "CategoricalCrossentropyBackward"
    assert [f.name() for f, _ in loss.grad_fn.next_functions if f is not None] == ["AccumulateGrad"]
    loss.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    e = np.exp(LOGITS - LOGITS.max(-1, keepdims=True))
    np.testing.assert_allclose(g1, (e / e.sum(-1, keepdims=True) - ONEHOT) / B, rtol=1e-12, atol=1e-15)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1, rtol=1e-12)


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64])
def test_logits_stable_at_1e4(backend, dtype):
    # confident and wrong: a large finite loss and finite gradients, never inf/NaN
    x = pydl.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype, requires_grad=True)
    t = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    loss = _C.categorical_crossentropy(x, t, from_logits=True)
    assert loss.item() == pytest.approx(1e4, rel=1e-6)  # (2e4 + 0) / 2
    loss.backward()
    g = x.grad.numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-6)
    s = _C.sparse_categorical_crossentropy(x.detach(), np.array([1.0, 1.0]), from_logits=True)
    assert s.item() == pytest.approx(1e4, rel=1e-6)
    b = pydl.tensor([[1e4], [-1e4], [1e4]], dtype=dtype, requires_grad=True)
    bl = _C.binary_crossentropy(b, np.array([[0.0], [1.0], [1.0]]), from_logits=True)
    assert bl.item() == pytest.approx(2e4 / 3, rel=1e-6)
    bl.backward()
    np.testing.assert_allclose(b.grad.numpy(), [[1 / 3], [-1 / 3], [0.0]], atol=1e-7)


def test_probabilities_are_clipped_like_keras(backend):
    p = pydl.tensor([[0.0, 1.0]], dtype=pydl.float64)
    t = np.array([[1.0, 0.0]])
    expected = -np.log(EPS)
    assert _C.categorical_crossentropy(p, t).item() == pytest.approx(expected, rel=1e-9)
    assert _C.binary_crossentropy(p, t).item() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64])
def test_all_zero_probability_rows_give_a_finite_loss(backend, dtype):
    # a row of zeros predicts every class with probability 0, clipped to eps as Keras clips any
    # zero: -log(eps) per unit of target mass, and no gradient through the clipped values
    probs = np.array([[0.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    onehot = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    expected = (-np.log(EPS) - np.log(0.3)) / 2
    rel = 1e-5 if dtype == pydl.float32 else 1e-12
    for name, fn, target in [("cce", _C.categorical_crossentropy, onehot),
                             ("scce", _C.sparse_categorical_crossentropy, onehot.argmax(-1).astype(np.float64))]:
        p = pydl.tensor(probs, dtype=dtype, requires_grad=True)
        loss = fn(p, target)
        assert loss.item() == pytest.approx(expected, rel=rel), name
        loss.backward()
        g = p.grad.numpy()
        assert np.all(np.isfinite(g)), name
        np.testing.assert_array_equal(g[0], 0.0)
        # the ordinary row keeps its gradient: d/dp_c of -log(p_1 / sum p) / 2
        np.testing.assert_allclose(g[1], (np.array([1.0, 1.0, 1.0]) - np.array([0, 1 / 0.3, 0])) / 2,
                                   rtol=rel, atol=1e-6)
    p = pydl.tensor(probs, dtype=dtype, requires_grad=True)
    loss = _C.binary_crossentropy(p, onehot)
    assert loss.item() == pytest.approx(reduce(np_bce(probs, onehot)), rel=rel)
    loss.backward()
    assert np.all(np.isfinite(p.grad.numpy()))


def test_loss_function_wrapper_applies_weights_outside_the_function():
    def per_sample(y_true, y_pred):
        return pydl.mean(pydl.square(y_pred - y_true), axis=-1)

    def per_element(y_true, y_pred):
        return pydl.square(y_pred - y_true)

    p = pydl.tensor(REAL, dtype=pydl.float64)
    sq = (REAL - TARGET01) ** 2
    for fn in (per_sample, per_element):
        wrapped = losses.LossFunctionWrapper(fn)
        assert wrapped.name == fn.__name__
        vals = sq.mean(-1) if fn is per_sample else sq
        wv = vals * W.reshape((-1,) + (1,) * (vals.ndim - 1))
        assert wrapped(TARGET01, p).item() == pytest.approx(vals.sum() / vals.size, rel=1e-12)
        assert wrapped(TARGET01, p, sample_weight=W).item() == pytest.approx(wv.sum() / wv.size, rel=1e-12)
        assert losses.LossFunctionWrapper(fn, reduction="sum")(TARGET01, p, W).item() == \
            pytest.approx(wv.sum(), rel=1e-12)
        np.testing.assert_allclose(losses.LossFunctionWrapper(fn, reduction="none")(TARGET01, p, W).numpy(), wv,
                                   rtol=1e-12)
    check_backward(lambda p: losses.LossFunctionWrapper(per_element)(TARGET01, p, sample_weight=W), [REAL])
    assert losses.LossFunctionWrapper(per_element)(TARGET01, p, sample_weight=pydl.tensor(2.0, dtype=pydl.float64)) \
        .item() == pytest.approx(2 * sq.mean(), rel=1e-12)
    with pytest.raises(ValueError, match=r"per_sample: sample_weight has shape \(5,\)"):
        losses.LossFunctionWrapper(per_sample)(TARGET01, p, sample_weight=W[:5])


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_sparse_ignore_class_like_keras(backend, reduction):
    # Keras: ignored positions get zero loss and weight; the default reduction divides the
    # weighted sum by the number of valid positions (+ epsilon)
    x = rng.uniform(-2, 2, size=(3, 4, 5))
    y = rng.integers(0, 5, size=(3, 4)).astype(np.float64)
    y[0, 1] = y[2, 3] = y[2, 0] = -1
    w = np.array([1.0, 0.5, 2.0])
    valid = y != -1
    per = np_cce_logits(x, one_hot(np.where(valid, y, 0), 5)) * valid * w[:, None]
    expected = {"sum_over_batch_size": per.sum() / (valid.sum() + EPS), "sum": per.sum(), "none": per}[reduction]
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=reduction)
    got = loss(y, pydl.tensor(x, dtype=pydl.float64), sample_weight=w)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    if reduction != "none":
        check_backward(lambda p: loss(y, p, sample_weight=w), [x])
    assert loss.get_config()["ignore_class"] == -1


def test_axis_other_than_last_is_refused():
    for cls in (losses.CategoricalCrossentropy, losses.BinaryCrossentropy, losses.SparseCategoricalCrossentropy):
        assert cls(axis=-1).get_config() == cls().get_config()
        with pytest.raises(ValueError, match="axis=1 is not supported"):
            cls(axis=1)


def test_from_logits_form_keeps_every_argument_of_the_loss():
    for loss in (losses.CategoricalCrossentropy(label_smoothing=0.3, reduction="sum", name="cce"),
                 losses.BinaryCrossentropy(label_smoothing=0.1, reduction="sum"),
                 losses.SparseCategoricalCrossentropy(reduction="sum", name="s", ignore_class=2)):
        twin = losses.get_from_logits(loss)
        assert type(twin) is type(loss) and twin.get_config() == {**loss.get_config(), "from_logits": True}


# ---------------------------------------------------------------- errors
def test_sparse_labels_out_of_range():
    p = pydl.tensor(PROBS)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: label 4 .*4 classes.*\[0, 4\)"):
        _C.sparse_categorical_crossentropy(p, np.array([0, 1, 2, 3, 4, 0.0]))
    with pytest.raises(ValueError, match=r"label -1 "):
        _C.sparse_categorical_crossentropy(p, np.array([0, 1, 2, 3, -1, 0.0]))
    with pytest.raises(ValueError, match=r"label 1.5 .*not an integer"):
        _C.sparse_categorical_crossentropy(p, np.array([0, 1, 2, 1.5, 0, 0.0]))


def test_sparse_labels_shapes():
    p = pydl.tensor(PROBS)
    got = _C.sparse_categorical_crossentropy(p, LABELS[:, None]).item()  # (N, 1) works
    assert got == pytest.approx(reduce(np_cce(PROBS, ONEHOT)), rel=1e-5)
    with pytest.raises(ValueError, match="look one-hot.*categorical_crossentropy"):
        _C.sparse_categorical_crossentropy(p, ONEHOT)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*\(5,\).*\(6, 4\)"):
        _C.sparse_categorical_crossentropy(p, LABELS[:5])


@pytest.mark.parametrize("labels", [LABELS, LABELS[:, None]], ids=["(N,)", "(N,1)"])
def test_integer_labels_to_categorical_explain_the_fix(labels):
    with pytest.raises(ValueError) as e:
        _C.categorical_crossentropy(pydl.tensor(PROBS), labels)
    m = str(e.value)
    assert "categorical_crossentropy" in m and str(labels.shape).replace(" ", "") in m.replace(" ", "")
    assert "sparse_categorical_crossentropy" in m and "pydl.utils.to_categorical" in m


def test_class_count_mismatch_names_both_counts():
    with pytest.raises(ValueError, match=r"target has 3 classes .*pred has 4 classes"):
        _C.categorical_crossentropy(pydl.tensor(PROBS), one_hot([0, 1, 2, 0, 1, 2], 3))


def test_shape_and_weight_errors():
    p = pydl.tensor(REAL)
    with pytest.raises(ValueError, match=r"mse_loss: pred has shape \(6, 4\) but target has shape \(6, 3\)"):
        _C.mse_loss(p, np.zeros((6, 3)))
    with pytest.raises(ValueError, match=r"binary_crossentropy: sample_weight has shape \(5,\)"):
        _C.binary_crossentropy(pydl.tensor(PROBS), TARGET01, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="categorical_crossentropy: pred must have shape"):
        _C.categorical_crossentropy(pydl.tensor([0.5, 0.5]), [1.0, 0.0])


# ---------------------------------------------------------------- pydl.losses
def test_loss_classes_take_y_true_first_and_numpy_targets():
    p = pydl.tensor(PROBS)  # float32: the numpy float64 targets are converted to float32
    out = losses.CategoricalCrossentropy()(ONEHOT, p)
    assert out.dtype == pydl.float32
    assert out.item() == pytest.approx(reduce(np_cce(PROBS, ONEHOT)), rel=1e-5)
    assert losses.MeanSquaredError()(TARGET01, pydl.tensor(REAL), sample_weight=W).item() == \
        pytest.approx(reduce(np_mse(REAL, TARGET01), W), rel=1e-5)
    assert losses.BinaryCrossentropy(from_logits=True)(TARGET01, pydl.tensor(LOGITS)).item() == \
        pytest.approx(reduce(np_bce_logits(LOGITS, TARGET01)), rel=1e-5)
    assert losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, pydl.tensor(LOGITS)).item() == \
        pytest.approx(reduce(np_cce_logits(LOGITS, ONEHOT)), rel=1e-5)
    # Keras's functions return per-sample values
    np.testing.assert_allclose(losses.mean_squared_error(TARGET01, pydl.tensor(REAL, dtype=pydl.float64)).numpy(),
                               np_mse(REAL, TARGET01), rtol=1e-12)


def test_label_smoothing_like_keras():
    s = 0.1
    p = pydl.tensor(PROBS, dtype=pydl.float64)
    got = losses.CategoricalCrossentropy(label_smoothing=s)(ONEHOT, p).item()
    assert got == pytest.approx(reduce(np_cce(PROBS, ONEHOT * (1 - s) + s / C)), rel=1e-12)
    got = losses.BinaryCrossentropy(label_smoothing=s)(TARGET01, p).item()
    assert got == pytest.approx(reduce(np_bce(PROBS, TARGET01 * (1 - s) + 0.5 * s)), rel=1e-12)


@pytest.mark.parametrize("name,cls", [
    ("mean_squared_error", losses.MeanSquaredError), ("mse", losses.MeanSquaredError),
    ("mean_absolute_error", losses.MeanAbsoluteError), ("mae", losses.MeanAbsoluteError),
    ("binary_crossentropy", losses.BinaryCrossentropy), ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy), ("MSE", losses.MeanSquaredError),
    ("CategoricalCrossentropy", losses.CategoricalCrossentropy)])
def test_get_by_keras_name(name, cls):
    loss = losses.get(name)
    assert isinstance(loss, cls) and not getattr(loss, "from_logits", False)


def test_get_passes_objects_and_callables_and_rejects_unknown_names():
    obj = losses.CategoricalCrossentropy(from_logits=True)
    assert losses.get(obj) is obj
    fn = lambda y_true, y_pred, sample_weight=None: y_pred.sum()  # noqa: E731
    assert losses.get(fn) is fn
    assert isinstance(losses.get(losses.mse), losses.MeanSquaredError)
    with pytest.raises(ValueError) as e:
        losses.get("categorical_crossentropyy")
    assert "categorical_crossentropy" in str(e.value) and "mean_squared_error" in str(e.value)


def test_config_round_trip_and_from_logits_forms():
    obj = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2, name="bce")
    cfg = obj.get_config()
    assert cfg == {"name": "bce", "reduction": "sum_over_batch_size", "from_logits": True, "label_smoothing": 0.2}
    again = losses.BinaryCrossentropy.from_config(cfg)
    assert again.get_config() == cfg
    assert losses.deserialize(losses.serialize(obj)).get_config() == cfg
    assert losses.canonical_name("mse") == "mean_squared_error"
    assert losses.canonical_name(losses.SparseCategoricalCrossentropy()) == "sparse_categorical_crossentropy"
    assert losses.get_from_logits("categorical_crossentropy").from_logits


def test_float32_gradients_match_float64():
    x32 = pydl.tensor(LOGITS, dtype=pydl.float32, requires_grad=True)
    x64 = pydl.tensor(LOGITS, dtype=pydl.float64, requires_grad=True)
    for x in (x32, x64):
        _C.sparse_categorical_crossentropy(x, LABELS, True, W).backward()
    np.testing.assert_allclose(x32.grad.numpy(), x64.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_gradcheck_helper_directly():
    # the same check through pydl.utils.gradcheck with a weight vector and the probability form
    p = pydl.tensor(PROBS, dtype=pydl.float64, requires_grad=True)
    t = pydl.tensor(ONEHOT * 0.7 + 0.1, dtype=pydl.float64, requires_grad=True)
    assert gradcheck(lambda p, t: _C.categorical_crossentropy(p, t, sample_weight=W), [p, t])


def test_crossentropy_row_sums_are_accurate_on_wide_rows(backend):
    # A row of 2^25 followed by 2^25 ones: in float32, 2^25 + 1 rounds back to 2^25, so a float32
    # row sum never grows past 2^25 and the first class's probability comes out 1 (loss ~0)
    # instead of 1/2. Row sums accumulate in double on both backends, as the reductions do.
    n = 2 ** 25
    p = np.ones((1, n + 1), dtype=np.float32)
    p[0, 0] = n
    loss = _C.sparse_categorical_crossentropy(pydl.from_numpy(p), np.zeros(1))
    assert loss.item() == pytest.approx(np.log(2), rel=1e-6)
    # from logits: the log-sum-exp of 2^25 zeros is log(2^25) (a float32 sum stalls at 2^24)
    loss = _C.sparse_categorical_crossentropy(pydl.zeros(1, n), np.zeros(1), from_logits=True)
    assert loss.item() == pytest.approx(25 * np.log(2), rel=1e-6)
