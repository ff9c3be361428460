"""Conv2D: shapes and parameter counts worked out by hand, the forward pass against the
functional op with the layer's own weights, config and file round trips, a small CNN that
learns, and the argument errors."""
import numpy as np
import pytest

import pydl
from pydl import functional as F
from pydl import layers as L
from pydl.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from pydl.models import Sequential, load_model


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_lenet_summary_shapes_and_parameter_counts():
    model = Sequential([Input(shape=(1, 28, 28)), Conv2D(32, 3, activation="relu"), MaxPooling2D(), Flatten(),
                        Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    conv, pool, flat, dense = model.layers[-4:]
    # by hand: 32 filters of 1 * 3 * 3 weights + 32 biases; 28 - 3 + 1 = 26; 26 // 2 = 13
    assert conv.count_params() == 32 * 1 * 3 * 3 + 32 == 320
    assert conv.output_shape == (None, 32, 26, 26)
    assert pool.output_shape == (None, 32, 13, 13) and pool.count_params() == 0
    assert flat.output_shape == (None, 32 * 13 * 13)
    assert dense.count_params() == 32 * 13 * 13 * 10 + 10 == 54090
    assert "320" in text and "54,090" in text and f"Total params: {320 + 54090:,}" in text
    assert model.predict(_x((2, 1, 28, 28)), verbose=0).shape == (2, 10)


@pytest.mark.parametrize("kwargs,sample,out,params", [
    # 'same', stride 2: ceil(9 / 2) = 5, ceil(10 / 2) = 5; groups 2: each filter sees 4 / 2 channels
    (dict(filters=6, kernel_size=(3, 5), strides=2, padding="same", groups=2), (4, 9, 10), (6, 5, 5),
     6 * 2 * 3 * 5 + 6),
    # dilation 2 spans 5 rows/cols: 7 - 5 + 1 = 3, 8 - 5 + 1 = 4; no bias
    (dict(filters=2, kernel_size=3, dilation_rate=2, use_bias=False), (1, 7, 8), (2, 3, 4), 2 * 1 * 3 * 3),
    # valid, strides (2, 3): (10 - 2) // 2 + 1 = 5, (11 - 3) // 3 + 1 = 3
    (dict(filters=3, kernel_size=(2, 3), strides=(2, 3)), (2, 10, 11), (3, 5, 3), 3 * 2 * 2 * 3 + 3),
])
def test_output_shapes_weight_layout_and_params(kwargs, sample, out, params):
    layer = Conv2D(**kwargs)
    y = layer(pydl.tensor(_x((2,) + sample)))
    assert tuple(y.shape) == (2,) + out
    assert tuple(layer.compute_output_shape(sample)) == out
    assert layer.count_params() == params
    kh, kw = (kwargs["kernel_size"],) * 2 if isinstance(kwargs["kernel_size"], int) else kwargs["kernel_size"]
    shapes = [w.shape for w in layer.get_weights()]
    groups = kwargs.get("groups", 1)
    assert shapes[0] == (kwargs["filters"], sample[0] // groups, kh, kw)
    assert shapes[1:] == ([(kwargs["filters"],)] if kwargs.get("use_bias", True) else [])


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_forward_is_the_functional_op_with_the_layers_weights(padding):
    layer = Conv2D(4, (3, 2), strides=(1, 2), padding=padding, dilation_rate=(2, 1), groups=2, activation="relu",
                   bias_initializer="random_normal")
    x = _x((3, 2, 8, 7), seed=1)
    y = layer(pydl.tensor(x)).detach().numpy()
    w, b = layer.get_weights()
    ref = F.relu(F.conv2d(pydl.tensor(x), pydl.tensor(w), pydl.tensor(b), stride=(1, 2), padding=padding,
                          dilation=(2, 1), groups=2)).detach().numpy()
    np.testing.assert_array_equal(y, ref)
    assert (y >= 0).all() and (y > 0).any()


def test_set_weights_gives_the_numpy_cross_correlation():
    # one 1-channel image, one 2x2 filter, valid: y[i, j] = sum x[i:i+2, j:j+2] * k + b
    x = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4)
    k = np.array([[1, -1], [2, 0.5]], dtype=np.float32)
    layer = Conv2D(1, 2)
    layer(pydl.tensor(x))  # builds the weights
    layer.set_weights([k.reshape(1, 1, 2, 2), np.array([0.25], dtype=np.float32)])
    expect = np.array([[(x[0, 0, i:i + 2, j:j + 2] * k).sum() + 0.25 for j in range(3)] for i in range(2)])
    np.testing.assert_allclose(layer(pydl.tensor(x)).detach().numpy()[0, 0], expect, rtol=1e-6)


def test_config_round_trip_and_layers_deserialize():
    layer = Conv2D(5, (3, 2), strides=2, padding="same", dilation_rate=1, groups=1, activation="tanh",
                   use_bias=False, kernel_initializer="he_normal", kernel_regularizer="l2")
    cfg = layer.get_config()
    assert cfg["kernel_size"] == [3, 2] and cfg["strides"] == [2, 2] and cfg["data_format"] == "channels_first"
    clone = Conv2D.from_config(cfg)
    assert clone.get_config() == cfg
    again = L.deserialize(L.serialize(layer))
    assert type(again) is Conv2D and again.get_config() == cfg


def test_save_and_load_model_predict_the_same(tmp_path):
    pydl.manual_seed(0)
    model = Sequential([Input(shape=(2, 9, 9)), Conv2D(4, 3, padding="same", activation="relu", groups=2),
                        MaxPooling2D(), L.Conv2D(3, 2), L.GlobalAveragePooling2D(), Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    x = _x((6, 2, 9, 9), seed=2)
    model.fit(x, np.arange(6) % 2, epochs=1, batch_size=3, verbose=0)
    path = tmp_path / "cnn.pydl"
    model.save(path)
    loaded = load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def _digits_or_random():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        rng = np.random.default_rng(0)
        return rng.standard_normal((200, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 200)
    d = load_digits()
    return (d.images[:300] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8), d.target[:300]


def test_small_cnn_loss_falls_over_a_few_steps():
    pydl.manual_seed(0)
    x, y = _digits_or_random()
    model = Sequential([Input(shape=(1, 8, 8)), Conv2D(8, 3, activation="relu"), MaxPooling2D(), Flatten(),
                        Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=pydl.optimizers.Adam(learning_rate=0.01))
    before = model.evaluate(x, y, verbose=0)
    h = model.fit(x, y, epochs=5, batch_size=50, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.8 * before, (before, h.history["loss"], after)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("fmt", [None, "NCHW", "channels-first"])
def test_unknown_data_format_raises(fmt):
    # channels_last works (tests/test_layers_channels_last.py); anything else is refused
    with pytest.raises(ValueError, match="Conv2D: data_format must be 'channels_first'.*'channels_last'"):
        Conv2D(4, 3, data_format=fmt)


@pytest.mark.parametrize("filters", [0, -3, None, 2.5, True])
def test_non_positive_or_non_integer_filters_raise(filters):
    with pytest.raises(ValueError, match="Conv2D: filters must be a positive integer"):
        Conv2D(filters, 3)


def test_bad_kernel_strides_padding_groups_raise():
    with pytest.raises(ValueError, match="Conv2D: kernel_size must be positive"):
        Conv2D(2, (0, 3))
    with pytest.raises(TypeError, match="Conv2D: strides must be an int or a pair"):
        Conv2D(2, 3, strides=(1, 1, 1))
    with pytest.raises(ValueError, match="Conv2D: padding must be 'valid' or 'same'"):
        Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match=r"filters \(5\) must be divisible by groups \(2\)"):
        Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match=r"conv2d.*input channels \(3.*divisible by groups \(2\)"):
        Conv2D(4, 3, groups=2, name="conv2d_g")(pydl.tensor(_x((1, 3, 5, 5))))
    with pytest.raises(TypeError, match="unexpected arguments.*kernel_constraint"):
        Conv2D(2, 3, kernel_constraint="max_norm")


def test_kernel_larger_than_the_input_names_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"big_conv: Conv2D kernel \(5, 5\) is larger than the input image \(4, 6\)"):
        Conv2D(2, 5, name="big_conv")(pydl.tensor(_x((1, 1, 4, 6))))
    with pytest.raises(ValueError, match=r"dil: Conv2D kernel \(3, 3\) \(dilated to \(5, 5\)\).*\(4, 4\)"):
        Sequential([Input(shape=(1, 4, 4)), Conv2D(2, 3, dilation_rate=2, name="dil")])
    # 'same' pads, so the same kernel fits
    assert tuple(Conv2D(2, 5, padding="same")(pydl.tensor(_x((1, 1, 4, 6)))).shape) == (1, 2, 4, 6)


def test_input_that_is_not_an_image_raises():
    with pytest.raises(ValueError, match=r"flat: Conv2D takes NCHW images.*\(10,\)"):
        Conv2D(2, 3, name="flat")(pydl.tensor(_x((4, 10))))


def test_input_shape_keyword_and_kernel_regularizer():
    model = Sequential([Conv2D(3, 2, input_shape=(2, 5, 5), kernel_regularizer=pydl.regularizers.l2(0.1)),
                        Flatten(), Dense(1)])
    conv = model.layers[0]
    assert conv.output_shape == (None, 3, 4, 4) and conv.count_params() == 3 * 2 * 2 * 2 + 3
    assert Conv2D.from_config(conv.get_config()).get_config()["input_shape"] == [2, 5, 5]
    (penalty,) = conv.regularization_losses()
    w = conv.get_weights()[0].astype(np.float64)
    assert float(penalty.item()) == pytest.approx(0.1 * (w ** 2).sum(), rel=1e-5)


def test_float64_layer_computes_in_float64():
    layer = Conv2D(2, 3, dtype="float64")
    y = layer(pydl.tensor(_x((1, 1, 4, 4))))
    assert y.dtype.name == "float64" and layer.get_weights()[0].dtype == np.float64


def test_a_built_conv_layer_takes_other_image_sizes_but_not_other_channels():
    # Keras's input_spec for a convolution fixes the rank and the channels, not the spatial size
    conv = L.Conv2D(4, 3, padding="same", use_bias=False)
    conv(pydl.zeros(1, 2, 8, 8))
    y = conv(pydl.ones(2, 2, 11, 5))
    assert tuple(y.shape) == (2, 4, 11, 5)
    w = conv.get_weights()[0]
    np.testing.assert_allclose(y.detach().numpy()[0, :, 5, 2], w.sum(axis=(1, 2, 3)), rtol=1e-5)
    with pytest.raises(ValueError, match=r"conv2d.*built for samples of shape \(2, 8, 8\).*\(3, 8, 8\)"):
        conv(pydl.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="rank and the number of channels"):
        conv(pydl.zeros(1, 2, 8))
