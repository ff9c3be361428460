"""data_format='channels_last' on the image layers (and Conv1D / MaxPooling1D): Keras's NHWC
arrays in and out, the same numbers as the channels_first layer on the transposed data with the
same weights; an (N, 12, 12, 1) CNN that trains and round-trips through a file; the errors for
NHWC data given to an NCHW layer and the reverse; Keras 1's Convolution2D(25, 3, 3),
border_mode and subsample."""
import warnings

import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.models import Sequential, load_model


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


IMAGE_LAYERS = [
    lambda fmt: L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", data_format=fmt),
    lambda fmt: L.Conv2DTranspose(3, 3, strides=2, padding="same", data_format=fmt),
    lambda fmt: L.DepthwiseConv2D(3, depth_multiplier=2, data_format=fmt),
    lambda fmt: L.SeparableConv2D(4, 2, data_format=fmt),
    lambda fmt: L.MaxPooling2D(2, data_format=fmt),
    lambda fmt: L.AveragePooling2D(3, strides=2, padding="same", data_format=fmt),
    lambda fmt: L.GlobalMaxPooling2D(data_format=fmt),
    lambda fmt: L.GlobalAveragePooling2D(data_format=fmt, keepdims=True),
    lambda fmt: L.UpSampling2D((2, 3), interpolation="bilinear", data_format=fmt),
    lambda fmt: L.ZeroPadding2D(((1, 0), (2, 1)), data_format=fmt),
    lambda fmt: L.Cropping2D(((1, 0), (2, 1)), data_format=fmt),
]


@pytest.mark.parametrize("make", IMAGE_LAYERS)
def test_channels_last_is_the_channels_first_layer_on_transposed_data(make):
    x = _x((2, 6, 7, 3))                           # NHWC
    last, first = make("channels_last"), make("channels_first")
    y_last = last(pydl.tensor(x))
    first(pydl.tensor(x.transpose(0, 3, 1, 2)))    # builds the same weight shapes
    first.set_weights(last.get_weights())
    y_first = first(pydl.tensor(x.transpose(0, 3, 1, 2))).detach().numpy()
    want = y_first.transpose(0, 2, 3, 1) if y_first.ndim == 4 else y_first
    np.testing.assert_allclose(y_last.detach().numpy(), want, rtol=1e-6, atol=1e-6)
    assert tuple(last.compute_output_shape((6, 7, 3))) == want.shape[1:]
    assert last.output_shape == (None,) + want.shape[1:]
    assert last.get_config()["data_format"] == "channels_last"
    assert L.deserialize(L.serialize(last)).get_config() == last.get_config()


@pytest.mark.parametrize("make", [lambda fmt: L.Conv1D(4, 3, padding="causal", data_format=fmt),
                                  lambda fmt: L.MaxPooling1D(2, data_format=fmt)])
def test_channels_last_sequences(make):
    x = _x((2, 9, 3))                              # (N, length, channels)
    last, first = make("channels_last"), make("channels_first")
    y_last = last(pydl.tensor(x)).detach().numpy()
    first(pydl.tensor(x.transpose(0, 2, 1)))
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(y_last, first(pydl.tensor(x.transpose(0, 2, 1))).detach().numpy().transpose(0, 2, 1),
                               rtol=1e-6, atol=1e-6)


def test_an_nhwc_cnn_trains_and_round_trips(tmp_path):
    pydl.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 12, 12, 1)).astype(np.float32)
    y = (x[:, :6].mean(axis=(1, 2, 3)) > x[:, 6:].mean(axis=(1, 2, 3))).astype(np.int64)  # top half brighter?
    model = Sequential([L.Input(shape=(12, 12, 1)),
                        L.Conv2D(4, 3, activation="relu", padding="same", data_format="channels_last"),
                        L.MaxPooling2D(data_format="channels_last"), L.Flatten(), L.Dense(2, activation="softmax")])
    assert model.layers[-4].output_shape == (None, 12, 12, 4) and model.layers[-3].output_shape == (None, 6, 6, 4)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=pydl.optimizers.Adam(learning_rate=0.01))
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.8 * before
    model.save(tmp_path / "nhwc.pydl")
    np.testing.assert_array_equal(load_model(tmp_path / "nhwc.pydl").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_nhwc_data_to_an_nchw_layer_says_which_axis_and_how_to_fix():
    with pytest.raises(ValueError) as info:
        L.Conv2D(8, 3, name="c")(pydl.tensor(_x((2, 28, 28, 1))))
    text = str(info.value)
    for words in ["c: Conv2D", "(28, 28, 1)", "channels_last", "1 channel(s) on the last axis",
                  "data_format='channels_last'", "x.transpose(0, 3, 1, 2)"]:
        assert words in text, (words, text)
    with pytest.raises(ValueError, match=r"m: MaxPooling2D got samples of shape \(32, 32, 3\).*channels_last"):
        L.MaxPooling2D(name="m")(pydl.tensor(_x((1, 32, 32, 3))))
    # the weights were not created: the error came before build
    layer = L.Conv2D(8, 3)
    with pytest.raises(ValueError):
        layer(pydl.tensor(_x((1, 28, 28, 1))))
    assert layer.weights == []


def test_nchw_data_to_a_channels_last_layer_raises():
    with pytest.raises(ValueError, match=r"cl: Conv2D has data_format='channels_last'.*\(1, 28, 28\).*"
                                         r"x.transpose\(0, 2, 3, 1\)"):
        L.Conv2D(8, 3, data_format="channels_last", name="cl")(pydl.tensor(_x((2, 1, 28, 28))))
    with pytest.raises(ValueError, match=r"cl2: Conv2D with data_format='channels_last' takes NHWC images.*\(10,\)"):
        L.Conv2D(8, 3, data_format="channels_last", name="cl2")(pydl.tensor(_x((2, 10))))


# ---------------------------------------------------------------- Keras 1 names
def test_convolution2d_keras1_form():
    with pytest.warns(DeprecationWarning, match=r"Convolution2D\(25, 3, 3\) is the Keras 1 form"):
        layer = L.Convolution2D(25, 3, 3, input_shape=(1, 28, 28))
    assert type(layer) is L.Conv2D and layer.filters == 25 and layer.kernel_size == (3, 3)
    assert layer.strides == (1, 1)  # not Conv2D(25, 3, 3)'s strides=3
    model = Sequential([layer, L.Flatten(), L.Dense(1)])
    assert model.layers[0].output_shape == (None, 25, 26, 26) and layer.count_params() == 25 * 9 + 25


def test_border_mode_and_subsample_are_keras1_names():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = L.Convolution2D(4, 3, 2, border_mode="same", subsample=(2, 2), W_regularizer="l2", bias=False)
    msgs = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert any("'border_mode' is the Keras 1 name; use 'padding'" in m for m in msgs)
    assert any("'subsample' is the Keras 1 name; use 'strides'" in m for m in msgs)
    assert layer.padding == "same" and layer.strides == (2, 2) and layer.kernel_size == (3, 2)
    assert layer.kernel_regularizer is not None and layer.use_bias is False
    y = layer(pydl.tensor(_x((1, 2, 7, 8))))
    assert tuple(y.shape) == (1, 4, 4, 4)  # 'same', stride 2: ceil(7 / 2), ceil(8 / 2)
    with pytest.warns(DeprecationWarning):
        assert L.Conv2D(nb_filter=3, kernel_size=2).filters == 3


def test_dim_ordering_tf_trains_on_nhwc_like_the_slides():
    with pytest.warns(DeprecationWarning) as record:
        layer = L.Convolution2D(5, 3, 3, dim_ordering="tf", input_shape=(28, 28, 1))
    assert any("dim_ordering='tf' is the Keras 1 name; use data_format='channels_last'" in str(w.message)
               for w in record)
    assert layer.data_format == "channels_last"
    model = Sequential([layer, L.Flatten(), L.Dense(1)])
    assert model.layers[0].output_shape == (None, 26, 26, 5)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="dim_ordering must be 'th'.*'tf'"):
        L.Convolution2D(5, 3, 3, dim_ordering="default")


def test_keras1_names_with_their_new_names_raise():
    with pytest.raises(TypeError, match="Conv2D: got both 'border_mode'.*'padding'"):
        L.Conv2D(4, 3, padding="same", border_mode="valid")
    with pytest.raises(TypeError, match="Convolution2D: got both nb_row/nb_col.*kernel_size"):
        L.Convolution2D(4, 3, 3, kernel_size=2)
    with pytest.raises(TypeError, match="Convolution2D: give both nb_row and nb_col"):
        L.Convolution2D(4, 3)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="Conv2D: padding must be 'valid' or "
                                                                             "'same'.*full"):
        L.Convolution2D(4, 3, 3, border_mode="full")
