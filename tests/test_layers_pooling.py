"""The pooling layers: shapes by hand, values against NumPy windows, Keras's 'same' average
(divided by the real elements), config and file round trips, and the argument errors."""
import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.layers import (AveragePooling2D, Conv2D, Dense, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D,
                         Input, MaxPooling2D)
from pydl.models import Sequential, load_model


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("make,sample,out", [
    (lambda: MaxPooling2D(), (3, 7, 9), (3, 3, 4)),                              # 7 // 2, 9 // 2
    (lambda: MaxPooling2D(3, strides=1, padding="same"), (2, 7, 9), (2, 7, 9)),
    (lambda: AveragePooling2D((2, 3), strides=(1, 2)), (2, 5, 7), (2, 4, 3)),    # 5 - 2 + 1, (7 - 3) // 2 + 1
    (lambda: AveragePooling2D(2, padding="SAME"), (1, 5, 5), (1, 3, 3)),         # ceil(5 / 2)
    (lambda: GlobalMaxPooling2D(), (4, 3, 5), (4,)),
    (lambda: GlobalAveragePooling2D(keepdims=True), (4, 3, 5), (4, 1, 1)),
])
def test_output_shapes(make, sample, out):
    layer = make()
    y = layer(pydl.tensor(_x((2,) + sample)))
    assert tuple(y.shape) == (2,) + out
    assert tuple(layer.compute_output_shape(sample)) == out
    assert layer.count_params() == 0


def test_max_and_average_values_against_numpy_windows():
    x = _x((2, 3, 6, 4), seed=1)
    # pool (2, 2), strides (2, 1), valid: windows x[2i:2i+2, j:j+2]
    win = np.stack([np.stack([x[:, :, 2 * i:2 * i + 2, j:j + 2] for j in range(3)], axis=2) for i in range(3)], axis=2)
    got_max = MaxPooling2D(2, strides=(2, 1))(pydl.tensor(x)).detach().numpy()
    got_avg = AveragePooling2D(2, strides=(2, 1))(pydl.tensor(x)).detach().numpy()
    np.testing.assert_array_equal(got_max, win.max(axis=(-2, -1)))
    # float32 sums of four O(1) values: a few ulps of 1 absolute error, whatever the mean's size
    np.testing.assert_allclose(got_avg, win.astype(np.float64).mean(axis=(-2, -1)), rtol=1e-6, atol=1e-6)


def test_same_average_divides_by_the_real_elements_as_keras():
    # 3x3 image, pool 2, stride 2, 'same': one row/column of padding at the bottom/right
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    a = x[0, 0]
    expect = np.array([[a[0:2, 0:2].mean(), a[0:2, 2].mean()],
                       [a[2, 0:2].mean(), a[2, 2]]])
    got = AveragePooling2D(2, padding="same")(pydl.tensor(x)).detach().numpy()[0, 0]
    np.testing.assert_allclose(got, expect, rtol=1e-6)
    # max 'same': the padding never wins, even for all-negative inputs
    got = MaxPooling2D(2, padding="same")(pydl.tensor(-x - 1)).detach().numpy()[0, 0]
    b = -a - 1
    np.testing.assert_array_equal(got, [[b[0:2, 0:2].max(), b[0:2, 2].max()], [b[2, 0:2].max(), b[2, 2]]])


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pools_are_the_plane_max_and_mean(keepdims):
    x = _x((3, 4, 5, 2), seed=2)
    gmax = GlobalMaxPooling2D(keepdims=keepdims)(pydl.tensor(x)).detach().numpy()
    gavg = GlobalAveragePooling2D(keepdims=keepdims)(pydl.tensor(x)).detach().numpy()
    np.testing.assert_array_equal(gmax, x.max(axis=(2, 3), keepdims=keepdims))
    np.testing.assert_allclose(gavg, x.astype(np.float64).mean(axis=(2, 3), keepdims=keepdims), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("layer", [MaxPooling2D((3, 2), strides=1, padding="same"), AveragePooling2D(3, strides=(2, 1)),
                                   GlobalMaxPooling2D(keepdims=True), GlobalAveragePooling2D()])
def test_config_round_trip_and_layers_deserialize(layer):
    cfg = layer.get_config()
    assert cfg["data_format"] == "channels_first"
    assert type(layer).from_config(cfg).get_config() == cfg
    again = L.deserialize(L.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == cfg


def test_default_strides_are_the_pool_size_in_the_config():
    assert MaxPooling2D((3, 2)).get_config()["strides"] == [3, 2]


def test_save_and_load_model_with_every_pool(tmp_path):
    pydl.manual_seed(1)
    model = Sequential([Input(shape=(2, 8, 8)), Conv2D(3, 3, padding="same"), MaxPooling2D(padding="same"),
                        AveragePooling2D(2, strides=1), Conv2D(4, 1), GlobalMaxPooling2D(keepdims=True), Flatten(),
                        Dense(2)])
    x = _x((4, 2, 8, 8), seed=3)
    path = tmp_path / "pools.pydl"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model2 = Sequential([Input(shape=(2, 8, 8)), Conv2D(3, 3), GlobalAveragePooling2D(), Dense(1)])
    model2.save(tmp_path / "gap.pydl")
    np.testing.assert_array_equal(load_model(tmp_path / "gap.pydl").predict(x, verbose=0), model2.predict(x, verbose=0))


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D, GlobalMaxPooling2D, GlobalAveragePooling2D])
@pytest.mark.parametrize("fmt", [None, "NHWC", "channels-last"])
def test_unknown_data_format_raises(cls, fmt):
    # channels_last works (tests/test_layers_channels_last.py); anything else is refused
    with pytest.raises(ValueError, match=f"{cls.__name__}: data_format must be 'channels_first'.*'channels_last'"):
        cls(data_format=fmt)


def test_bad_pool_arguments_raise():
    with pytest.raises(ValueError, match="MaxPooling2D: pool_size must be positive"):
        MaxPooling2D(0)
    with pytest.raises(ValueError, match="AveragePooling2D: strides must be positive"):
        AveragePooling2D(2, strides=(1, -1))
    with pytest.raises(ValueError, match="MaxPooling2D: padding must be 'valid' or 'same'"):
        MaxPooling2D(padding=1)
    with pytest.raises(TypeError, match="GlobalMaxPooling2D: keepdims must be a bool"):
        GlobalMaxPooling2D(keepdims=1)


def test_pool_larger_than_the_input_names_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"big_pool: MaxPooling2D pool_size \(3, 3\) is larger than the input "
                                         r"image \(2, 5\)"):
        MaxPooling2D(3, name="big_pool")(pydl.tensor(_x((1, 1, 2, 5))))


def test_input_that_is_not_an_image_raises():
    with pytest.raises(ValueError, match=r"gp: GlobalAveragePooling2D takes NCHW images.*\(6,\)"):
        GlobalAveragePooling2D(name="gp")(pydl.tensor(_x((2, 6))))


# ---------------------------------------------------------------- MaxPooling1D (issue 8, convx)
def test_max_pooling_1d_values_shapes_and_config():
    from pydl.layers import MaxPooling1D
    x = np.random.default_rng(0).standard_normal((2, 3, 9)).astype(np.float32)
    layer = MaxPooling1D(3, strides=2, data_format="channels_first")
    y = layer(pydl.tensor(x)).numpy()
    # windows [0:3], [2:5], [4:7], [6:9]: (9 - 3) // 2 + 1 = 4
    want = np.stack([x[:, :, s:s + 3].max(axis=2) for s in range(0, 7, 2)], axis=2)
    np.testing.assert_array_equal(y, want)
    assert layer.compute_output_shape((3, 9)) == (3, 4)
    same = MaxPooling1D(2, padding="same", data_format="channels_first")
    assert tuple(same(pydl.tensor(x)).shape) == (2, 3, 5) and same.compute_output_shape((3, 9)) == (3, 5)
    again = pydl.layers.deserialize(pydl.layers.serialize(layer))
    assert type(again) is MaxPooling1D and again.get_config() == layer.get_config()


def test_max_pooling_1d_errors_name_the_layer():
    from pydl.layers import MaxPooling1D
    with pytest.raises(ValueError, match=r"mp: MaxPooling1D pool_size 5 is longer than the input sequence \(3\)"):
        MaxPooling1D(5, name="mp", data_format="channels_first")(pydl.tensor(np.zeros((1, 2, 3), np.float32)))
    with pytest.raises(ValueError, match=r"mp2: MaxPooling1D takes sequences.*\(2, 3, 3\)"):
        MaxPooling1D(2, name="mp2", data_format="channels_first")(pydl.tensor(np.zeros((1, 2, 3, 3), np.float32)))
