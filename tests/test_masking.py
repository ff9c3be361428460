"""Masks as Keras has them (pydl/layers/base.py get_mask/set_mask, Layer.compute_mask): made by
Masking and Embedding(mask_zero=True), handed to every call that has a ``mask`` parameter (eager,
Sequential, functional), passed through by the per-step layers, refused by the layers that cannot
honour one, and weighting the loss and metrics of fit/evaluate. Expected values by NumPy."""
import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.models import Model, Sequential
from pydl.saving import load_model

IDS = np.array([[3, 1, 2, 0, 0],
                [4, 2, 0, 0, 0],
                [1, 1, 1, 3, 2]])
REAL = IDS != 0


class Recorder(L.Layer):
    """The identity, recording the mask its call received."""
    supports_masking = True

    def __init__(self, **kw):
        super().__init__(**kw)
        self.seen = []

    def call(self, x, training=None, mask=None):
        self.seen.append(None if mask is None else np.array(mask))
        return x


def _seq(seed=0, shape=(3, 5, 2)):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- making masks
def test_masking_masks_the_steps_whose_features_all_equal_the_value_and_zeroes_them():
    x = _seq()
    x[0, 3:] = 0.0
    x[1, 1] = 0.0
    x[2, 2, 0] = 0.0  # one feature only: a real step
    y = L.Masking()(pydl.tensor(x))
    want_mask = np.any(x != 0.0, axis=-1)
    np.testing.assert_array_equal(L.get_mask(y), want_mask)
    np.testing.assert_array_equal(y.detach().numpy(), x * want_mask[..., None])
    # another mask value: those steps are zeroed in the output (Keras: inputs * mask)
    x2 = _seq(1)
    x2[1, 4] = -1.0
    y2 = L.Masking(mask_value=-1.0)(pydl.tensor(x2))
    m2 = np.ones((3, 5), bool)
    m2[1, 4] = False
    np.testing.assert_array_equal(L.get_mask(y2), m2)
    np.testing.assert_array_equal(y2.detach().numpy(), x2 * m2[..., None])
    with pytest.raises(TypeError, match="Masking: mask_value must be a number"):
        L.Masking(mask_value="0")


def test_embedding_mask_zero_masks_id_zero_and_keeps_its_row():
    emb = L.Embedding(5, 3, mask_zero=True)
    y = emb(IDS)
    np.testing.assert_array_equal(L.get_mask(y), REAL)
    # id 0 still has a row (input_dim counts the padding id, as Keras)
    np.testing.assert_allclose(y.detach().numpy(), emb.get_weights()[0][IDS], rtol=1e-6)
    assert emb.get_config()["mask_zero"] is True
    assert L.Embedding.from_config(emb.get_config()).mask_zero is True
    assert L.get_mask(L.Embedding(5, 3)(IDS)) is None


# ---------------------------------------------------------------- propagation
def test_a_call_with_a_mask_parameter_gets_the_mask_eagerly_in_sequential_and_in_functional():
    rec = Recorder()
    emb = L.Embedding(5, 2, mask_zero=True)
    rec(L.Dense(3)(emb(IDS)))  # eager: the mask rides on the tensors through Dense
    np.testing.assert_array_equal(rec.seen[-1], REAL)

    rec2 = Recorder()
    model = Sequential([L.Embedding(5, 2, mask_zero=True, input_shape=(5,)), L.Dropout(0.5), rec2,
                        L.Activation("tanh"), L.GlobalAveragePooling1D(data_format="channels_last")])
    model.predict(IDS, verbose=0)
    np.testing.assert_array_equal(rec2.seen[-1], REAL)

    rec3 = Recorder()
    inp = pydl.Input((5,))
    h = L.LayerNormalization()(L.Embedding(5, 2, mask_zero=True)(inp))
    out = L.GlobalAveragePooling1D(data_format="channels_last")(rec3(h))
    Model(inp, out).predict(IDS, verbose=0)
    np.testing.assert_array_equal(rec3.seen[-1], REAL)


def test_without_a_mask_upstream_the_call_gets_none_and_an_explicit_mask_wins():
    rec = Recorder()
    x = pydl.tensor(_seq())
    rec(x)
    assert rec.seen == [None]
    given = np.array([[1, 0, 0, 0, 0]] * 3, dtype=bool)
    y = rec(x, mask=given)
    np.testing.assert_array_equal(rec.seen[-1], given)
    np.testing.assert_array_equal(L.get_mask(y), given)  # the default compute_mask passes it on
    with pytest.raises(ValueError, match="mask of shape \\(3, 4\\) does not match the input of shape \\(3, 5, 2\\)"):
        rec(x, mask=np.ones((3, 4), bool))
    with pytest.raises(TypeError, match="mask= is for calls on data"):
        rec(pydl.Input((5, 2)), mask=given)


@pytest.mark.parametrize("make", [lambda: L.Flatten(), lambda: L.Conv1D(2, 2, data_format="channels_last"),
                                  lambda: L.GlobalMaxPooling1D(data_format="channels_last"),
                                  lambda: L.BatchNormalization(axis=-1), lambda: L.Reshape((10,))])
def test_a_layer_that_cannot_honour_a_mask_raises_naming_itself(make):
    layer = make()
    y = L.Masking()(pydl.tensor(_seq()))
    with pytest.raises(ValueError, match=f"{layer.name}: {type(layer).__name__} does not support masking"):
        layer(y)
    # in a model: the first batch raises, before any weight changes
    model = Sequential([L.Embedding(5, 2, mask_zero=True, input_shape=(5,)), make(), L.Flatten(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="does not support masking"):
        model.fit(IDS, np.zeros((3, 1)), verbose=0)


def test_layer_normalization_over_the_steps_refuses_a_mask():
    y = L.Masking()(pydl.tensor(_seq()))
    with pytest.raises(ValueError, match="mixes the masked steps"):
        L.LayerNormalization(axis=[-2, -1])(y)
    np.testing.assert_array_equal(L.get_mask(L.LayerNormalization()(y)), L.get_mask(y))


def test_global_average_pooling_1d_averages_the_real_steps_only():
    x = _seq(3).astype(np.float64)
    mask = REAL
    gap = L.GlobalAveragePooling1D(data_format="channels_last", dtype="float64")
    y = gap(pydl.tensor(x, dtype=pydl.float64), mask=mask)
    want = np.stack([x[i][mask[i]].mean(0) for i in range(3)])
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12)
    assert L.get_mask(y) is None  # no steps left, so no mask
    np.testing.assert_allclose(gap(pydl.tensor(x, dtype=pydl.float64)).detach().numpy(), x.mean(1), rtol=1e-12)
    # the gradient reaches the real steps only, 1 / (their number) each
    xt = pydl.tensor(x, dtype=pydl.float64, requires_grad=True)
    gap(xt, mask=mask).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), np.broadcast_to((mask / mask.sum(1, keepdims=True))[..., None],
                                                                x.shape), rtol=1e-12)
    res = pydl.utils.gradcheck(lambda t: gap(t, mask=mask), [xt])
    assert res, res
    with pytest.raises(ValueError, match="sample 1 has every step masked"):
        gap(pydl.tensor(x, dtype=pydl.float64), mask=np.array([[1, 0, 0, 0, 0], [0] * 5, [1] * 5], bool))
    with pytest.raises(ValueError, match="give data_format='channels_last'"):
        L.GlobalAveragePooling1D(data_format="channels_first")(pydl.tensor(x), mask=mask)
    # no default layout: Keras's (channels_last) and PyTorch's (channels first) both give a
    # plausible shape, so a guess could pool over the wrong axis silently
    for cls in (L.GlobalAveragePooling1D, L.GlobalMaxPooling1D):
        with pytest.raises(ValueError, match="give data_format: 'channels_last' for \\(batch, steps, channels\\)"):
            cls()


# ---------------------------------------------------------------- losses and metrics
def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _tagger(classes=3):
    pydl.manual_seed(0)
    model = Sequential([L.Embedding(5, 4, mask_zero=True, input_shape=(5,)),
                        L.Dense(classes, activation="softmax")])
    return model


def _tagger_probs(model):
    e, w, b = model.get_weights()
    return _softmax(e[IDS] @ w + b)


TAGS = np.array([[0, 2, 1, 2, 2],
                 [1, 0, 0, 1, 1],
                 [2, 2, 0, 1, 0]])


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy"])
def test_padded_steps_of_a_tagger_add_nothing_to_the_loss_or_the_accuracy(loss):
    model = _tagger()
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    y = TAGS if loss.startswith("sparse") else np.eye(3)[TAGS]
    got_loss, got_acc = model.evaluate(IDS, y, verbose=0)
    p = _tagger_probs(model)
    nll = -np.log(np.take_along_axis(p, TAGS[..., None], -1)[..., 0])
    np.testing.assert_allclose(got_loss, nll[REAL].sum() / REAL.sum(), rtol=1e-5)
    hits = p.argmax(-1) == TAGS
    np.testing.assert_allclose(got_acc, hits[REAL].mean(), rtol=1e-6)
    assert not np.isclose(nll[REAL].mean(), nll.mean())  # the padding would have changed it


def test_sample_weights_with_a_mask_divide_by_the_real_steps_as_keras():
    model = _tagger()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
    sw = np.array([2.0, 0.5, 1.0])
    got_loss, got_acc = model.evaluate(IDS, TAGS, sample_weight=sw, verbose=0)
    p = _tagger_probs(model)
    nll = -np.log(np.take_along_axis(p, TAGS[..., None], -1)[..., 0])
    w = sw[:, None] * REAL
    # Keras's apply_mask: weights mask * total / valid, then the mean over all positions
    np.testing.assert_allclose(got_loss, (w * nll).sum() / REAL.sum(), rtol=1e-5)
    hits = p.argmax(-1) == TAGS
    np.testing.assert_allclose(got_acc, (w * hits).sum() / w.sum(), rtol=1e-6)


def test_masked_mse_after_masking_and_training_ignores_the_padded_targets():
    x = _seq(4)
    x[0, 3:] = 0.0
    x[2, 1:] = 0.0
    keep = np.any(x != 0, -1)
    target = _seq(5, (3, 5, 1))

    def model_and_weights():
        pydl.manual_seed(3)
        m = Sequential([L.Masking(input_shape=(5, 2)), L.Dense(1)])
        m.compile(optimizer="sgd", loss="mse")
        return m

    model = model_and_weights()
    w, b = model.get_weights()
    pred = (x * keep[..., None]) @ w + b
    want = ((pred - target)[..., 0] ** 2)[keep].sum() / keep.sum()
    np.testing.assert_allclose(model.evaluate(x, target, verbose=0), want, rtol=1e-5)
    # one training step: the padded steps' targets do not reach the gradient
    model.train_on_batch(x, target)
    other = target.copy()
    other[~keep] = 100.0
    twin = model_and_weights()
    twin.train_on_batch(x, other)
    for a, c in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, c, rtol=1e-6)
    # and the step is the gradient of the masked mean: sgd lr 0.01
    err = (pred - target)[..., 0] * keep
    gw = 2 * np.einsum("btf,bt->f", x * keep[..., None], err)[:, None] / keep.sum()
    np.testing.assert_allclose(model.get_weights()[0], w - 0.01 * gw, rtol=1e-5, atol=1e-7)


def test_a_masked_output_needs_one_target_per_step():
    model = _tagger()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="do not match the output's masked axes"):
        model.evaluate(IDS, TAGS[:, :1], verbose=0)


def test_fit_trains_a_masked_tagger_and_saves_and_loads(tmp_path):
    model = _tagger()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(np.tile(IDS, (4, 1)), np.tile(TAGS, (4, 1)), epochs=30, batch_size=4, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    model.save(tmp_path / "tagger.pydl")
    again = load_model(tmp_path / "tagger.pydl")
    assert again.layers[0].mask_zero is True
    np.testing.assert_array_equal(again.predict(IDS, verbose=0), model.predict(IDS, verbose=0))
    again.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    np.testing.assert_allclose(again.evaluate(IDS, TAGS, verbose=0), model.evaluate(IDS, TAGS, verbose=0),
                               rtol=1e-6)


def test_a_model_with_masking_saves_and_loads(tmp_path):
    x = _seq(6)
    x[1, 2:] = -1.0
    pydl.manual_seed(0)
    inp = pydl.Input((5, 2))
    h = L.Masking(mask_value=-1.0)(inp)
    out = L.Dense(1)(L.GlobalAveragePooling1D(data_format="channels_last")(L.Dense(3, activation="tanh")(h)))
    model = Model(inp, out)
    model.save(tmp_path / "m.pydl")
    again = load_model(tmp_path / "m.pydl")
    assert again.get_layer(model.layers[1].name).mask_value == -1.0
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    # the masked steps are left out of the mean
    w1, b1 = model.layers[2].get_weights()
    w2, b2 = model.layers[4].get_weights()
    keep = np.any(x != -1.0, -1)
    hid = np.tanh((x * keep[..., None]) @ w1 + b1)
    pooled = np.stack([hid[i][keep[i]].mean(0) for i in range(len(x))])
    np.testing.assert_allclose(model.predict(x, verbose=0), pooled @ w2 + b2, rtol=1e-5, atol=1e-6)


def test_merge_layers_combine_their_inputs_masks():
    a = L.Masking()(pydl.tensor(_seq(7)))
    xb = _seq(8)
    xb[0, 0] = 0.0
    b = L.Masking()(pydl.tensor(xb))
    ma, mb = L.get_mask(a), L.get_mask(b)
    assert not mb[0, 0] and ma.all()
    np.testing.assert_array_equal(L.get_mask(L.Add()([a, b])), ma & mb)
    np.testing.assert_array_equal(L.get_mask(L.Concatenate()([a, b])), ma & mb)
    # along the steps: the masks are joined, an unmasked input counting as real everywhere
    plain = pydl.tensor(_seq(9))
    np.testing.assert_array_equal(L.get_mask(L.Concatenate(axis=1)([b, plain])),
                                  np.concatenate([mb, np.ones((3, 5), bool)], axis=1))
    assert L.get_mask(L.Add()([plain, plain])) is None


@pytest.mark.parametrize("make", [lambda: L.Dense(3), lambda: L.Activation("relu"), lambda: L.Dropout(0.3),
                                  lambda: L.GaussianNoise(0.1, seed=1), lambda: L.GaussianDropout(0.2, seed=1),
                                  lambda: L.LayerNormalization(), lambda: L.TimeDistributed(L.Dense(2))])
@pytest.mark.parametrize("training", [False, True])
def test_per_step_layers_pass_the_mask_on(make, training):
    x = _seq(10)
    x[1, 2:] = 0.0
    y = make()(L.Masking()(pydl.tensor(x)), training=training)
    np.testing.assert_array_equal(L.get_mask(y), np.any(x != 0, -1))


def test_a_per_step_sigmoid_output_masks_binary_crossentropy_and_accuracy():
    x = _seq(11)
    x[0, 3:] = 0.0
    x[2, 1:] = 0.0
    y = (np.random.default_rng(12).random((3, 5)) > 0.5).astype(np.float32)
    pydl.manual_seed(2)
    model = Sequential([L.Masking(input_shape=(5, 2)), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    w, b = model.get_weights()
    keep = np.any(x != 0, -1)
    p = 1 / (1 + np.exp(-((x * keep[..., None]) @ w + b)[..., 0]))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    for target in (y, y[..., None]):  # (batch, time) or (batch, time, 1) targets
        loss, acc = model.evaluate(x, target, verbose=0)
        np.testing.assert_allclose(loss, bce[keep].mean(), rtol=1e-5)
        np.testing.assert_allclose(acc, ((p > 0.5) == (y > 0.5))[keep].mean(), rtol=1e-6)


def test_compute_loss_of_a_custom_train_step_is_masked_too():
    model = _tagger()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    p = _tagger_probs(model)
    nll = -np.log(np.take_along_axis(p, TAGS[..., None], -1)[..., 0])
    got = model.compute_loss(y=TAGS.astype(np.float32), y_pred=model(IDS))
    np.testing.assert_allclose(float(got.item()), nll[REAL].sum() / REAL.sum(), rtol=1e-5)


def test_embedding_mask_reaches_an_lstm_whose_last_state_is_that_of_the_real_steps():
    ids = np.array([[2, 4, 1, 0, 0], [3, 0, 0, 0, 0], [1, 2, 3, 4, 1]])
    pydl.manual_seed(5)
    emb, lstm = L.Embedding(5, 3, mask_zero=True), L.LSTM(4)
    model = Sequential([L.InputLayer(shape=(5,)), emb, lstm, L.Dense(1)])
    got = model.predict(ids, verbose=0)
    for i, row in enumerate(ids):
        real = row[row != 0][None]
        np.testing.assert_allclose(got[i:i + 1], model.layers[2](lstm(emb(real))).detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    # the LSTM's last-step output carries no mask, so the loss is the plain mean over samples
    h = lstm(emb(ids))
    assert L.get_mask(h) is None
    seq = L.LSTM(4, return_sequences=True, return_state=True)(emb(ids))
    np.testing.assert_array_equal(L.get_mask(seq[0]), ids != 0)
    assert L.get_mask(seq[1]) is None and L.get_mask(seq[2]) is None
