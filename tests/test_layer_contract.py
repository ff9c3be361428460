"""The layer contract, run over every built-in layer class (``pydl.layers._CLASSES``).

For each class the table below gives constructor arguments, a sample shape (without the batch
axis), the output sample shape and the parameter count worked out by hand (Keras's count: the
same number of weights, whatever their layout), and whether the layer is differentiable with
respect to its input. A layer class added to ``_CLASSES`` without a row here fails
``test_every_layer_class_has_a_contract_entry``, so the table stays complete.

Each layer is checked for: its output shape against compute_output_shape and output_shape,
count_params against the weights and the hand count, the config round trip (same config and,
with the weights copied, the same output), save/load of a one-layer-plus-Dense model, one SGD
step lowering a loss (layers with trainable weights), float64, deepcopy, and a float64 gradient
check with respect to the input (and the trainable weights).
"""
import copy

import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.models import Sequential
from pydl.saving import load_model, save_model
from pydl.utils import gradcheck


class Row:
    def __init__(self, make, sample, out, params, grad=True, training_grad=False):
        self.make = make          # kwargs -> layer (extra kwargs such as dtype go through)
        self.sample = sample      # input sample shape
        self.out = out            # output sample shape, by hand
        self.params = params      # count_params, by hand
        self.grad = grad          # differentiable w.r.t. the input (in inference)
        self.training_grad = training_grad  # also gradcheck with training=True (deterministic in training)


def _time_distributed(**k):
    d = k.pop("dtype", None)  # the wrapped layer holds the weights, so it takes the dtype
    return L.TimeDistributed(L.Dense(3, activation="tanh", dtype=d), **k)


def _bidirectional(**k):
    d = k.pop("dtype", None)
    return L.Bidirectional(L.SimpleRNN(3, return_sequences=True, dtype=d), **k)


# Output sizes and parameter counts worked out by hand in the comments.
TABLE = {
    "RepeatVector": Row(lambda **k: L.RepeatVector(3, **k), (5,), (3, 5), 0),
    # one Dense(3) shared by the 4 steps: 5 * 3 + 3
    "TimeDistributed": Row(_time_distributed, (4, 5), (4, 3), 18, training_grad=True),
    # two SimpleRNN(3) on 2 features: 2 * (2*3 + 3*3 + 3); outputs concatenated: 6 per step
    "Bidirectional": Row(_bidirectional, (4, 2), (4, 6), 36, training_grad=True),
    "InputLayer": Row(lambda **k: L.InputLayer(shape=(5,), **k), (5,), (5,), 0),
    # 5 * 3 weights + 3 biases
    "Dense": Row(lambda **k: L.Dense(3, activation="tanh", **k), (5,), (3,), 18),
    "Activation": Row(lambda **k: L.Activation("sigmoid", **k), (2, 3), (2, 3), 0),
    "LeakyReLU": Row(lambda **k: L.LeakyReLU(0.1, **k), (2, 3), (2, 3), 0),
    "MaskingNoise": Row(lambda **k: L.MaskingNoise(0.3, seed=0, **k), (6,), (6,), 0),
    "Dropout": Row(lambda **k: L.Dropout(0.5, **k), (6,), (6,), 0),
    "Flatten": Row(lambda **k: L.Flatten(**k), (2, 3, 2), (12,), 0),
    "Reshape": Row(lambda **k: L.Reshape((3, 4), **k), (2, 6), (3, 4), 0),
    # 'same', stride 2: ceil(6/2) = 3, ceil(7/2) = 4; 3 filters * 2 channels * 3 * 3 + 3 biases
    "Conv2D": Row(lambda **k: L.Conv2D(3, 3, strides=2, padding="same", **k), (2, 6, 7), (3, 3, 4), 57,
                  training_grad=True),
    # valid, stride 2: (4 - 1) * 2 + 3 = 9, (5 - 1) * 2 + 3 = 11; 2 * 3 * 3 * 3 + 3
    "Conv2DTranspose": Row(lambda **k: L.Conv2DTranspose(3, 3, strides=2, **k), (2, 4, 5), (3, 9, 11), 57,
                           training_grad=True),
    # 6 - 3 + 1 = 4; 2 channels * 2 multipliers * 3 * 3 + 4 biases
    "DepthwiseConv2D": Row(lambda **k: L.DepthwiseConv2D(3, depth_multiplier=2, **k), (2, 6, 6), (4, 4, 4), 40,
                           training_grad=True),
    # depthwise 2 * 3 * 3, pointwise 2 * 4, bias 4
    "SeparableConv2D": Row(lambda **k: L.SeparableConv2D(4, 3, **k), (2, 6, 6), (4, 4, 4), 30, training_grad=True),
    # causal keeps the length; 4 filters * 2 channels * 3 + 4
    "Conv1D": Row(lambda **k: L.Conv1D(4, 3, padding="causal", dilation_rate=2, **{"data_format": "channels_first", **k}), (2, 7), (4, 7), 28,
                  training_grad=True),
    "MaxPooling2D": Row(lambda **k: L.MaxPooling2D(**k), (2, 6, 5), (2, 3, 2), 0),
    # pool 2 stride 1: 5 - 2 + 1 = 4
    "AveragePooling2D": Row(lambda **k: L.AveragePooling2D(2, strides=1, **k), (2, 5, 5), (2, 4, 4), 0),
    "GlobalMaxPooling2D": Row(lambda **k: L.GlobalMaxPooling2D(**k), (3, 4, 5), (3,), 0),
    "GlobalAveragePooling2D": Row(lambda **k: L.GlobalAveragePooling2D(**k), (3, 4, 5), (3,), 0),
    "MaxPooling1D": Row(lambda **k: L.MaxPooling1D(**{"data_format": "channels_first", **k}), (2, 9), (2, 4), 0),
    # the mean / max over the 5 steps of 3 channels
    # data_format has no default for these two (either would be silently wrong for someone)
    "GlobalAveragePooling1D": Row(lambda **k: L.GlobalAveragePooling1D(**{"data_format": "channels_first", **k}),
                                  (3, 5), (3,), 0),
    "GlobalMaxPooling1D": Row(lambda **k: L.GlobalMaxPooling1D(**{"data_format": "channels_first", **k}),
                              (3, 5), (3,), 0),
    # no step of the contract's data is all zeros, so nothing is masked: the identity
    "Masking": Row(lambda **k: L.Masking(**k), (4, 3), (4, 3), 0),
    "UpSampling2D": Row(lambda **k: L.UpSampling2D((2, 3), interpolation="bilinear", **k), (2, 3, 4), (2, 6, 12), 0),
    "ZeroPadding2D": Row(lambda **k: L.ZeroPadding2D(((1, 0), (2, 1)), **k), (2, 3, 4), (2, 4, 7), 0),
    "Cropping2D": Row(lambda **k: L.Cropping2D(((1, 0), (0, 2)), **k), (2, 5, 6), (2, 4, 4), 0),
    # gamma, beta, moving_mean, moving_variance, 3 channels each
    "BatchNormalization": Row(lambda **k: L.BatchNormalization(**k), (3, 4, 4), (3, 4, 4), 12,
                              training_grad=True),
    # gamma and beta over the last axis (4)
    "LayerNormalization": Row(lambda **k: L.LayerNormalization(**k), (3, 4), (3, 4), 8, training_grad=True),
    # gamma and beta per channel (4)
    "GroupNormalization": Row(lambda **k: L.GroupNormalization(groups=2, **k), (4, 3, 3), (4, 3, 3), 8,
                              training_grad=True),
    "RandomRotation": Row(lambda **k: L.RandomRotation(0.1, seed=1, **k), (1, 8, 9), (1, 8, 9), 0),
    "RandomTranslation": Row(lambda **k: L.RandomTranslation(0.1, 0.2, seed=1, **k), (1, 8, 9), (1, 8, 9), 0),
    "RandomZoom": Row(lambda **k: L.RandomZoom(0.1, seed=1, **k), (1, 8, 9), (1, 8, 9), 0),
    "RandomFlip": Row(lambda **k: L.RandomFlip(seed=1, **k), (2, 5, 6), (2, 5, 6), 0),
    "RandomBrightness": Row(lambda **k: L.RandomBrightness(0.2, value_range=(0, 1), seed=1, **k), (2, 5, 6),
                            (2, 5, 6), 0),
    "RandomContrast": Row(lambda **k: L.RandomContrast(0.2, value_range=(0, 1), seed=1, **k), (2, 5, 6),
                          (2, 5, 6), 0),
    "GaussianNoise": Row(lambda **k: L.GaussianNoise(0.1, seed=1, **k), (2, 3), (2, 3), 0),
    "GaussianDropout": Row(lambda **k: L.GaussianDropout(0.2, seed=1, **k), (2, 3), (2, 3), 0),
    # recurrent (issue 9): kernel (in, g*u), recurrent kernel (u, g*u), bias (g*u,) or GRU's (2, g*u)
    # 2 * 3 + 3 * 3 + 3 = 18
    "SimpleRNN": Row(lambda **k: L.SimpleRNN(3, **k), (4, 2), (3,), 18),
    # 4 gates * (2 * 3 + 3 * 3 + 3) = 72, the whole sequence
    "LSTM": Row(lambda **k: L.LSTM(3, return_sequences=True, **k), (4, 2), (4, 3), 72),
    # 3 * 6 + 2 * 6 + 2 * 6 = 42
    "GRU": Row(lambda **k: L.GRU(2, go_backwards=True, **k), (4, 3), (2,), 42),
}

# More configurations of the same classes through the same contract (not part of the
# completeness check): 'same' padding with strides, dilation and groups, no bias, depth
# multipliers, transposed 'same', keepdims, the norms' other axes.
VARIANTS = {
    # same: ceil(7/2) = 4, ceil(6/1) = 6; 4 filters * (2 / 2 groups) channels * 3 * 2, no bias
    "Conv2D/same-dilated-grouped": Row(lambda **k: L.Conv2D(4, (3, 2), strides=(2, 1), padding="same",
                                                            dilation_rate=(1, 2), groups=2, use_bias=False, **k),
                                       (2, 7, 6), (4, 4, 6), 24, training_grad=True),
    # same: 3 * 2 = 6, 4 * 2 = 8; 2 in * 4 out * 3 * 3 + 4
    "Conv2DTranspose/same": Row(lambda **k: L.Conv2DTranspose(4, 3, strides=2, padding="same", **k), (2, 3, 4),
                                (4, 6, 8), 76),
    # Keras: (size - 1) * stride + kernel - 2 * (kernel // 2) + output_padding: (3-1)*2 + 3 - 2 + 1 = 6, 8
    "Conv2DTranspose/output_padding": Row(lambda **k: L.Conv2DTranspose(2, 3, strides=2, padding="same",
                                                                         output_padding=1, **k),
                                          (2, 3, 4), (2, 6, 8), 2 * 2 * 9 + 2),
    # same, stride 2: ceil(5/2) = 3; 2 channels * 3 multipliers * 3 * 3 + 6
    "DepthwiseConv2D/same-strided": Row(lambda **k: L.DepthwiseConv2D(3, strides=2, padding="same",
                                                                      depth_multiplier=3, **k),
                                        (2, 5, 5), (6, 3, 3), 60),
    # depthwise 2 * 2 * 3 * 3 = 36, pointwise (2 * 2) * 3 = 12, no bias
    "SeparableConv2D/same-multiplier": Row(lambda **k: L.SeparableConv2D(3, 3, padding="same", depth_multiplier=2,
                                                                         use_bias=False, **k),
                                           (2, 4, 4), (3, 4, 4), 48),
    # same, stride 2: ceil(7/2) = 4; 3 * 2 * 2 + 3
    "Conv1D/same-strided": Row(lambda **k: L.Conv1D(3, 2, strides=2, padding="same", **{"data_format": "channels_first", **k}), (2, 7), (3, 4), 15),
    # groups 2: 4 filters * 1 channel * 3 + 4; valid: 6 - 3 + 1 = 4
    "Conv1D/grouped": Row(lambda **k: L.Conv1D(4, 3, groups=2, **{"data_format": "channels_first", **k}), (2, 6), (4, 4), 16),
    "MaxPooling2D/same-strided": Row(lambda **k: L.MaxPooling2D(3, strides=2, padding="same", **k), (1, 5, 6),
                                     (1, 3, 3), 0),
    "AveragePooling2D/same": Row(lambda **k: L.AveragePooling2D(2, padding="same", **k), (1, 5, 5), (1, 3, 3), 0),
    "MaxPooling1D/same": Row(lambda **k: L.MaxPooling1D(3, strides=1, padding="same", **{"data_format": "channels_first", **k}), (2, 5), (2, 5), 0),
    "GlobalAveragePooling2D/keepdims": Row(lambda **k: L.GlobalAveragePooling2D(keepdims=True, **k), (3, 4, 5),
                                           (3, 1, 1), 0),
    # keepdims keeps the steps axis, of size 1
    "GlobalAveragePooling1D/keepdims": Row(lambda **k: L.GlobalAveragePooling1D(
        **{"data_format": "channels_first", "keepdims": True, **k}), (3, 5),
                                           (3, 1), 0),
    "UpSampling2D/nearest": Row(lambda **k: L.UpSampling2D(2, **k), (1, 2, 3), (1, 4, 6), 0),
    # (batch, features): gamma (no beta: center=False) and the two moving statistics, 5 each
    "BatchNormalization/features-no-center": Row(lambda **k: L.BatchNormalization(center=False, **k), (5,), (5,),
                                                 15, training_grad=True),
    # (batch, time, features), axis -1: 4 features, 4 weights each
    "BatchNormalization/sequence-last-axis": Row(lambda **k: L.BatchNormalization(axis=-1, **k), (3, 4), (3, 4),
                                                 16, training_grad=True),
    # gamma and beta of shape (4, 2)
    "LayerNormalization/two-axes": Row(lambda **k: L.LayerNormalization(axis=[-2, -1], **k), (3, 4, 2), (3, 4, 2),
                                       16, training_grad=True),
    # groups = channels: instance normalisation
    "GroupNormalization/instance": Row(lambda **k: L.GroupNormalization(groups=4, **k), (4, 5), (4, 5), 8),
}
ROWS = {**TABLE, **VARIANTS}
NAMES = sorted(ROWS)
BATCH = 3


def _x(shape, seed=0, dtype=np.float32):
    # values in [0, 1] so that the image layers' value_range holds; distinct, so max pooling has no ties
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) / np.prod(shape) + 0.01).astype(dtype)


def _built(name, **kwargs):
    row = ROWS[name]
    layer = row.make(**kwargs)
    x = _x((BATCH,) + row.sample, dtype=np.float64 if kwargs.get("dtype") == "float64" else np.float32)
    y = layer(_t(x))
    return layer, x, y


def _t(a, **kwargs):
    """A pydl tensor keeping the array's dtype (pydl.tensor makes float32 by default)."""
    a = np.asarray(a)
    return pydl.tensor(a, dtype=pydl.float64 if a.dtype == np.float64 else pydl.float32, **kwargs)


def _np(t):
    return t.detach().numpy().copy()


# Layers of several inputs: their contract (shapes, broadcasting, gradcheck, config, saving in a
# functional model) is tests/test_layers_merge.py's.
MERGE = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"}
# Layers whose input is not float samples: their contract is in their own test module
# (Embedding takes integer ids: tests/test_layers_embedding.py; Sampling takes [mean, log_var]
# and draws noise: tests/test_layers_latent.py).
OWN_CONTRACT = {"Embedding", "Sampling"}
# Names kept for loading older files: "Input" is the InputLayer.
ALIASES = {"Input": "InputLayer"}


def test_every_layer_class_has_a_contract_entry():
    for alias, name in ALIASES.items():
        assert L._CLASSES[alias] is L._CLASSES[name]
    covered = set(TABLE) | MERGE | set(ALIASES) | OWN_CONTRACT
    assert set(L._CLASSES) == covered, (
        f"layers without a contract row: {sorted(set(L._CLASSES) - covered)}; "
        f"rows for no layer: {sorted(covered - set(L._CLASSES))}")
    for name in TABLE:
        assert type(TABLE[name].make()) is L._CLASSES[name]


@pytest.mark.parametrize("name", NAMES)
def test_output_shape_matches_compute_output_shape_and_hand_value(name):
    row = ROWS[name]
    layer, _, y = _built(name)
    assert tuple(y.shape) == (BATCH,) + row.out
    assert tuple(layer.compute_output_shape(row.sample)) == row.out
    assert tuple(layer.output_shape) == (None,) + row.out
    assert tuple(layer.input_shape) == (None,) + row.sample


@pytest.mark.parametrize("name", NAMES)
def test_count_params_is_the_weights_and_the_hand_count(name):
    layer, _, _ = _built(name)
    assert layer.count_params() == sum(int(np.prod(w.shape)) for w in layer.get_weights()) == ROWS[name].params


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_gives_the_same_config_and_output(name):
    layer, x, y = _built(name)
    cfg = layer.get_config()
    clone = type(layer).from_config(copy.deepcopy(cfg))
    assert clone.get_config() == cfg
    y2 = clone(_t(x))  # builds it
    clone.set_weights(layer.get_weights())
    y2 = clone(_t(x))
    np.testing.assert_array_equal(_np(y2), _np(y))
    # through the serialize/deserialize pair that saving uses
    again = L.deserialize(L.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == cfg


def _model(name):
    row = ROWS[name]
    first = row.make() if name == "InputLayer" else row.make(input_shape=row.sample)
    if name == "Masking":  # its output carries a mask, which Flatten refuses: a masked mean instead
        rest = [L.GlobalAveragePooling1D(data_format="channels_last")]
    else:
        rest = [] if len(row.out) == 1 else [L.Flatten()]
    return Sequential([first] + rest + [L.Dense(2)])


@pytest.mark.parametrize("name", NAMES)
def test_one_layer_plus_dense_model_saves_and_loads(name, tmp_path):
    model = _model(name)
    model.compile(optimizer="sgd", loss="mse")
    x = _x((4,) + ROWS[name].sample, seed=1)
    y = np.random.default_rng(2).standard_normal((4, 2)).astype(np.float32)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)  # moving statistics and weights move off their init
    before = model.predict(x, verbose=0)
    save_model(model, tmp_path / "m.pydl")
    loaded = load_model(tmp_path / "m.pydl")
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), before)


def _loss(y, target):
    d = y - target
    return (d * d).mean()


@pytest.mark.parametrize("name", [n for n in NAMES if ROWS[n].params])
def test_one_sgd_step_lowers_the_loss(name):
    layer, x, _ = _built(name, dtype="float64")
    xt = _t(x.astype(np.float64))
    y0 = _np(layer(xt, training=True))
    target = _t(np.random.default_rng(5).standard_normal(y0.shape))
    ws = layer.trainable_weights
    assert ws, f"{name} has weights but none trainable"
    before = [_np(w) for w in ws]
    opt = pydl.optimizers.SGD(ws, learning_rate=1e-3)
    opt.zero_grad()
    loss0 = _loss(layer(xt, training=True), target)
    loss0.backward()
    opt.step()
    loss1 = _loss(layer(xt, training=True), target)
    assert float(loss1.item()) < float(loss0.item())
    assert any(not np.array_equal(b, _np(w)) for b, w in zip(before, ws))


@pytest.mark.parametrize("name", NAMES)
def test_float64_layer_computes_in_float64_and_agrees_with_float32(name):
    l32, x, y32 = _built(name)
    l64 = ROWS[name].make(dtype="float64")
    x64 = _t(x.astype(np.float64))
    l64(x64)
    l64.set_weights([w.astype(np.float64) for w in l32.get_weights()])
    y64 = l64(x64)
    assert y64.dtype == pydl.float64
    assert all(w.dtype == np.float64 for w in l64.get_weights())
    np.testing.assert_allclose(_np(y64), _np(y32).astype(np.float64), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_deepcopy_is_independent_and_computes_the_same(name):
    layer, x, y = _built(name)
    twin = copy.deepcopy(layer)
    assert twin.get_config() == layer.get_config()
    np.testing.assert_array_equal(_np(twin(_t(x))), _np(y))
    if layer.weights:
        twin.set_weights([w + 1 for w in twin.get_weights()])
        for a, b in zip(layer.get_weights(), twin.get_weights()):
            np.testing.assert_array_equal(a + 1, b)


def _gradcheck_layer(name, training):
    row = ROWS[name]
    layer = row.make(dtype="float64")
    x = _t(_x((2,) + row.sample, seed=3, dtype=np.float64), requires_grad=True)
    layer(x.detach())  # build
    if layer.weights:  # move the weights off their init (ones/zeros) so every term is exercised
        rng = np.random.default_rng(4)
        layer.set_weights([w + 0.1 * rng.standard_normal(w.shape) for w in layer.get_weights()])
    ws = layer.trainable_weights
    res = gradcheck(lambda x, *_: layer(x, training=training), [x] + ws)
    assert res, f"{name} (training={training}): {res}"


@pytest.mark.parametrize("name", [n for n in NAMES if ROWS[n].grad])
def test_gradcheck_input_and_weights_inference(name):
    _gradcheck_layer(name, training=False)


@pytest.mark.parametrize("name", [n for n in NAMES if ROWS[n].training_grad])
def test_gradcheck_input_and_weights_training(name):
    _gradcheck_layer(name, training=True)


def _takes_data_format(name):
    import inspect
    return "data_format" in inspect.signature(type(ROWS[name].make()).__init__).parameters


@pytest.mark.parametrize("name", [n for n in NAMES if _takes_data_format(n)])
def test_channels_last_is_channels_first_on_transposed_data(name):
    row = ROWS[name]
    first, x, y = _built(name)
    last = row.make(data_format="channels_last")
    to_last = (0,) + tuple(range(2, len(row.sample) + 1)) + (1,)  # (N, C, ...) -> (N, ..., C)
    xl = np.ascontiguousarray(x.transpose(to_last))
    last(_t(xl))
    last.set_weights(first.get_weights())  # the weights keep pydl's layout
    yl = _np(last(_t(xl)))
    want = _np(y) if len(row.out) == 1 else _np(y).transpose(to_last)
    np.testing.assert_allclose(yl, want, rtol=1e-6, atol=1e-6)
    assert tuple(last.output_shape[1:]) == want.shape[1:] == tuple(last.compute_output_shape(xl.shape[1:]))
    assert last.get_config()["data_format"] == "channels_last"
    assert type(last).from_config(last.get_config()).get_config() == last.get_config()
