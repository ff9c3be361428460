"""The convolution layers beyond Conv2D (pydl/layers/conv.py): Conv2DTranspose, DepthwiseConv2D,
SeparableConv2D, Conv1D. Shapes and parameter counts by hand (Keras's numbers), forward values
against NumPy or an adjoint identity, Keras's initializer fans, config and file round trips, a
training step that lowers the loss, and errors that name the layer and the shapes."""
import numpy as np
import pytest

import pydl
from pydl import functional as F
from pydl import layers as L
from pydl.layers import Conv1D, Conv2DTranspose, DepthwiseConv2D, Dense, Flatten, Input, SeparableConv2D
from pydl.models import Sequential, load_model


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _t64(a):
    return pydl.tensor(np.asarray(a, dtype=np.float64), dtype=pydl.float64)


# ---------------------------------------------------------------- Conv2DTranspose
@pytest.mark.parametrize("kwargs, hw, out", [
    # Keras: 'same' -> size * stride; 'valid' -> size * stride + max(kernel - stride, 0)
    (dict(kernel_size=3, strides=2, padding="same"), (5, 4), (10, 8)),
    (dict(kernel_size=3, strides=2, padding="valid"), (5, 4), (11, 9)),
    (dict(kernel_size=(2, 5), strides=(3, 1), padding="valid"), (4, 4), (12, 8)),
    # with output_padding: (size - 1) * stride + kernel - 2 * pad + output_padding, pad = kernel // 2 for 'same'
    (dict(kernel_size=3, strides=2, padding="same", output_padding=1), (5, 4), (10, 8)),
    (dict(kernel_size=3, strides=2, padding="same", output_padding=0), (5, 4), (9, 7)),
    (dict(kernel_size=4, strides=3, padding="valid", output_padding=(2, 1)), (2, 3), (9, 11)),
    # dilation 2 makes a 3-kernel span 5: 'valid' 4 * 1 + 5 - 1 = 8
    (dict(kernel_size=3, dilation_rate=2, padding="valid"), (4, 4), (8, 8)),
    (dict(kernel_size=1, strides=3, padding="same"), (2, 3), (6, 9)),
])
def test_conv2d_transpose_output_size_follows_keras(kwargs, hw, out):
    layer = Conv2DTranspose(3, **kwargs)
    y = layer(pydl.tensor(_x((2, 2) + hw)))
    assert tuple(y.shape) == (2, 3) + out
    assert tuple(layer.compute_output_shape((2,) + hw)) == (3,) + out
    kh, kw = layer.kernel_size
    assert [w.shape for w in layer.get_weights()] == [(2, 3, kh, kw), (3,)]
    assert layer.count_params() == 2 * 3 * kh * kw + 3  # Keras: kh * kw * filters * in + filters


@pytest.mark.parametrize("kwargs, hw", [
    (dict(kernel_size=3, strides=2, padding="same"), (5, 4)),
    (dict(kernel_size=4, strides=2, padding="same"), (3, 5)),
    (dict(kernel_size=3, strides=1, padding="same"), (4, 4)),
    (dict(kernel_size=1, strides=3, padding="same"), (2, 3)),
    (dict(kernel_size=5, strides=2, padding="same", output_padding=1), (3, 3)),
    (dict(kernel_size=3, strides=2, padding="valid"), (4, 3)),
    (dict(kernel_size=(3, 2), strides=(2, 3), padding="valid", output_padding=(1, 2)), (3, 3)),
    (dict(kernel_size=3, strides=2, dilation_rate=(1, 2), padding="same"), (4, 5)),
])
def test_conv2d_transpose_is_the_adjoint_of_the_keras_conv(kwargs, hw):
    # Keras (TensorFlow, JAX) define Conv2DTranspose as the gradient of the Conv2D with the same
    # kernel, strides and padding ('same': Keras's split, the odd zero at the bottom/right) for an
    # input of the transposed output's size: <T(x), y> = <x, conv2d(y)>.
    layer = Conv2DTranspose(3, use_bias=False, dtype="float64", **kwargs)
    x = _x((2, 2) + hw, seed=1).astype(np.float64)
    tx = layer(_t64(x)).detach().numpy()
    y = _x(tx.shape, seed=2).astype(np.float64)
    (k,) = layer.get_weights()  # (in, filters, kh, kw) is a conv weight from filters to in channels
    cy = F.conv2d(_t64(y), _t64(k), stride=layer.strides, padding=layer.padding,
                  dilation=layer.dilation_rate).numpy()
    assert cy.shape == x.shape
    np.testing.assert_allclose(np.sum(tx * y), np.sum(x * cy), rtol=1e-12)


def test_conv2d_transpose_same_stride_two_by_hand():
    # One pixel of value 1, a 3x3 kernel, stride 2, 'same': the output is 2x2, the kernel's top-left
    # 2x2 (TensorFlow's placement: the odd row/column of the 3x3 stamp is cut at the bottom/right).
    layer = Conv2DTranspose(1, 3, strides=2, padding="same", bias_initializer="ones", dtype="float64")
    layer(_t64(np.ones((1, 1, 1, 1))))
    k = np.arange(9.0).reshape(1, 1, 3, 3)
    layer.set_weights([k, np.array([0.5])])
    y = layer(_t64(np.ones((1, 1, 1, 1)))).detach().numpy()
    np.testing.assert_array_equal(y[0, 0], k[0, 0, :2, :2] + 0.5)


def test_conv2d_transpose_initializer_sees_keras_fans():
    # Keras's kernel (kh, kw, filters, in) has fan_in = filters * kh * kw; pydl's (in, filters, kh, kw)
    # gives the same: he_uniform's limit sqrt(6 / (16 * 9)), not sqrt(6 / (64 * 9)).
    pydl.manual_seed(0)
    layer = Conv2DTranspose(16, 3, kernel_initializer="he_uniform")
    layer(pydl.tensor(_x((1, 64, 3, 3))))
    k = layer.get_weights()[0]
    limit = np.sqrt(6 / (16 * 9))
    assert k.shape == (64, 16, 3, 3) and np.abs(k).max() <= limit and np.abs(k).max() > 0.95 * limit


def test_conv2d_transpose_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"Conv2DTranspose: output_padding \(2, 2\).*strides \(2, 2\)"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"up: Conv2DTranspose takes NCHW images.*\(5, 5\)"):
        Conv2DTranspose(2, 3, name="up")(pydl.tensor(_x((1, 5, 5))))
    with pytest.raises(ValueError, match="Conv2DTranspose: filters must be a positive integer"):
        Conv2DTranspose(0, 3)
    with pytest.raises(TypeError, match="unexpected arguments.*groups"):
        Conv2DTranspose(2, 3, groups=2)  # Keras's Conv2DTranspose has no groups


# ---------------------------------------------------------------- DepthwiseConv2D
def _np_depthwise(x, k, b, dm):
    """Channel c's m-th output is x[:, c] cross-correlated ('valid') with its own filter k[c*dm + m, 0]."""
    n, c, h, w = x.shape
    kh, kw = k.shape[2:]
    y = np.zeros((n, c * dm, h - kh + 1, w - kw + 1))
    for ch in range(c):
        for m in range(dm):
            o = ch * dm + m
            for i in range(y.shape[2]):
                for j in range(y.shape[3]):
                    y[:, o, i, j] = (x[:, ch, i:i + kh, j:j + kw] * k[o, 0]).sum(axis=(1, 2)) + b[o]
    return y


def test_depthwise_each_channel_its_own_filters():
    layer = DepthwiseConv2D((2, 3), depth_multiplier=2, bias_initializer="random_normal", dtype="float64")
    x = _x((2, 3, 5, 6), seed=3).astype(np.float64)
    y = layer(_t64(x)).detach().numpy()
    k, b = layer.get_weights()
    assert k.shape == (6, 1, 2, 3) and b.shape == (6,)
    assert layer.count_params() == 2 * 3 * 3 * 2 + 3 * 2  # Keras: kh * kw * C * dm + C * dm
    np.testing.assert_allclose(y, _np_depthwise(x, k, b, 2), rtol=1e-12, atol=1e-12)


def test_depthwise_initializer_sees_keras_fans():
    # Keras's depthwise kernel (kh, kw, C, dm) has fan_in = C * kh * kw: he_uniform's limit is
    # sqrt(6 / (64 * 9)) = 0.102, not the grouped-conv layout's sqrt(6 / 9) = 0.816.
    pydl.manual_seed(0)
    layer = DepthwiseConv2D(3, depth_multiplier=2, depthwise_initializer="he_uniform")
    layer(pydl.tensor(_x((1, 64, 4, 4))))
    k = layer.get_weights()[0]
    limit = np.sqrt(6 / (64 * 9))
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.95 * limit


def test_depthwise_same_padding_and_strides():
    layer = DepthwiseConv2D(3, strides=2, padding="same")
    assert tuple(layer(pydl.tensor(_x((1, 4, 7, 8)))).shape) == (1, 4, 4, 4)
    assert layer.compute_output_shape((4, 7, 8)) == (4, 4, 4)


def test_depthwise_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"dw: DepthwiseConv2D kernel \(5, 5\) is larger than the input image \(3, 3\)"):
        DepthwiseConv2D(5, name="dw")(pydl.tensor(_x((1, 2, 3, 3))))
    with pytest.raises(ValueError, match="DepthwiseConv2D: depth_multiplier must be a positive integer"):
        DepthwiseConv2D(3, depth_multiplier=0)


# ---------------------------------------------------------------- SeparableConv2D
def test_separable_is_depthwise_then_pointwise():
    layer = SeparableConv2D(4, 3, depth_multiplier=2, padding="same", bias_initializer="random_normal",
                            dtype="float64", name="sep")
    x = _x((2, 3, 5, 5), seed=4).astype(np.float64)
    y = layer(_t64(x)).detach().numpy()
    names = [w.name for w in layer.weights]
    assert names == ["sep/depthwise_kernel", "sep/pointwise_kernel", "sep/bias"]
    dk, pk, b = layer.get_weights()
    assert dk.shape == (6, 1, 3, 3) and pk.shape == (4, 6, 1, 1) and b.shape == (4,)
    assert layer.count_params() == 3 * 3 * 3 * 2 + 6 * 4 + 4  # Keras: depthwise + pointwise + bias
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    mid = _np_depthwise(xp, dk, np.zeros(6), 2)                    # (2, 6, 5, 5)
    want = np.einsum("ncij,oc->noij", mid, pk[:, :, 0, 0]) + b[None, :, None, None]
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)


def test_separable_has_fewer_weights_than_conv2d():
    sep = SeparableConv2D(64, 3)
    conv = L.Conv2D(64, 3)
    x = pydl.tensor(_x((1, 32, 8, 8)))
    sep(x)
    conv(x)
    assert sep.count_params() == 3 * 3 * 32 + 32 * 64 + 64 == 2400
    assert conv.count_params() == 3 * 3 * 32 * 64 + 64 == 18496


# ---------------------------------------------------------------- Conv1D
def test_conv1d_causal_output_never_sees_the_future():
    layer = Conv1D(3, 3, padding="causal", dilation_rate=2, dtype="float64", data_format="channels_first")
    x = _x((1, 2, 12), seed=5).astype(np.float64)
    y = layer(_t64(x)).detach().numpy()
    assert y.shape == (1, 3, 12)
    x2 = x.copy()
    x2[:, :, 7:] += 10.0  # change the inputs from t = 7 on
    y2 = layer(_t64(x2)).detach().numpy()
    np.testing.assert_array_equal(y2[:, :, :7], y[:, :, :7])
    assert not np.allclose(y2[:, :, 7], y[:, :, 7])


@pytest.mark.parametrize("kwargs, length, out", [
    (dict(kernel_size=3), 10, 8),
    (dict(kernel_size=3, strides=2, padding="same"), 9, 5),
    (dict(kernel_size=3, strides=2, padding="causal"), 9, 5),
    (dict(kernel_size=3, dilation_rate=3), 10, 4),   # span 7: 10 - 7 + 1
])
def test_conv1d_shapes_and_params(kwargs, length, out):
    layer = Conv1D(4, **{"data_format": "channels_first", **kwargs})
    y = layer(pydl.tensor(_x((2, 3, length))))
    assert tuple(y.shape) == (2, 4, out) and layer.compute_output_shape((3, length)) == (4, out)
    assert [w.shape for w in layer.get_weights()] == [(4, 3, 3), (4,)]
    assert layer.count_params() == 3 * 3 * 4 + 4


def test_conv1d_is_the_functional_op_with_the_layers_weights():
    layer = Conv1D(4, 2, strides=2, padding="same", groups=2, activation="relu", bias_initializer="random_normal", data_format="channels_first")
    x = _x((2, 4, 9), seed=6)
    layer(pydl.tensor(x))
    w, b = layer.get_weights()
    want = F.relu(F.conv1d(pydl.tensor(x), pydl.tensor(w), pydl.tensor(b), stride=2, padding="same", groups=2))
    np.testing.assert_array_equal(layer(pydl.tensor(x)).detach().numpy(), want.detach().numpy())


def test_conv1d_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"c1: Conv1D kernel 5 \(spanning 9 with dilation 2\).*\(6\)"):
        Conv1D(2, 5, dilation_rate=2, name="c1", data_format="channels_first")(pydl.tensor(_x((1, 1, 6))))
    with pytest.raises(ValueError, match=r"c2: Conv1D takes sequences.*\(1, 6, 6\)"):
        Conv1D(2, 3, name="c2", data_format="channels_first")(pydl.tensor(_x((1, 1, 6, 6))))
    with pytest.raises(ValueError, match="Conv1D: padding must be 'valid', 'same' or 'causal'"):
        Conv1D(2, 3, padding="full", data_format="channels_first")


# ---------------------------------------------------------------- the layer contract
CONTRACT = [
    (lambda: Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu"), (2, 4, 4)),
    (lambda: DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (2, 5, 5)),
    (lambda: SeparableConv2D(3, 3, pointwise_regularizer="l2"), (2, 6, 6)),
    (lambda: Conv1D(3, 3, padding="causal", dilation_rate=2, data_format="channels_first"), (2, 10)),
]


@pytest.mark.parametrize("make, sample", CONTRACT)
def test_contract_config_save_load_and_a_training_step(make, sample, tmp_path):
    pydl.manual_seed(0)
    layer = make()
    cfg = layer.get_config()
    again = L.deserialize(L.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == cfg
    model = Sequential([Input(shape=sample), layer, Flatten(), Dense(1)])
    model.compile(loss="mse", optimizer=pydl.optimizers.SGD(learning_rate=0.01))
    x, y = _x((8,) + sample, seed=7), _x((8, 1), seed=8)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    path = tmp_path / "m.pydl"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.layers[0]) is type(layer)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_1d_layers_have_no_default_data_format():
    # Keras's Conv1D reads (batch, steps, channels), PyTorch's (batch, channels, steps): both give
    # shapes that look plausible, so a default would misread someone's sequences without a word
    for make in (lambda **k: Conv1D(4, 3, **k), lambda **k: L.MaxPooling1D(2, **k)):
        with pytest.raises(ValueError, match="give data_format: 'channels_last' for \\(batch, steps, channels\\)"):
            make()
    # the Keras text CNN: Embedding -> Conv1D(channels_last) slides over the 20 words, not the
    # 8 embedding values (channels_first would have taken the words as 20 channels)
    ids = np.random.default_rng(0).integers(1, 50, (3, 20))
    emb = L.Embedding(50, 8)
    conv = Conv1D(6, 5, data_format="channels_last")
    y = conv(emb(pydl.tensor(ids)))
    assert tuple(y.shape) == (3, 16, 6)
    assert tuple(conv.kernel.shape) == (6, 8, 5)  # (filters, embedding width as channels, kernel)
