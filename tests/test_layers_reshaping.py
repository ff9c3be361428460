"""UpSampling2D, ZeroPadding2D, Cropping2D (pydl/layers/reshaping.py): values against NumPy,
Keras's argument forms, gradients through the crop, the layer contract (config and file round
trips, a training step), and errors that name the layer and the shapes."""
import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.layers import Conv2D, Cropping2D, Dense, Flatten, Input, UpSampling2D, ZeroPadding2D
from pydl.models import Sequential, load_model


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_upsampling_nearest_repeats_rows_and_columns():
    x = _x((2, 3, 4, 5))
    layer = UpSampling2D((2, 3))
    y = layer(pydl.tensor(x)).numpy()
    np.testing.assert_array_equal(y, np.repeat(np.repeat(x, 2, axis=2), 3, axis=3))
    assert layer.compute_output_shape((3, 4, 5)) == (3, 8, 15) and layer.output_shape == (None, 3, 8, 15)


def test_upsampling_bilinear_by_hand():
    # half-pixel centres (Keras's image resize, PyTorch's align_corners=False): a row [0, 4]
    # doubled reads sources 0 (clamped), 0.25, 0.75, 1 (clamped): 0, 1, 3, 4
    x = np.array([[[[0.0, 4.0]]]], dtype=np.float32)
    y = UpSampling2D((1, 2), interpolation="bilinear")(pydl.tensor(x)).numpy()
    np.testing.assert_allclose(y[0, 0, 0], [0, 1, 3, 4])


@pytest.mark.parametrize("padding, tblr", [
    (2, (2, 2, 2, 2)), ((1, 3), (1, 1, 3, 3)), (((0, 2), (1, 0)), (0, 2, 1, 0)),
])
def test_zero_padding_forms(padding, tblr):
    x = _x((2, 3, 4, 5))
    t, b, l, r = tblr
    layer = ZeroPadding2D(padding)
    y = layer(pydl.tensor(x)).numpy()
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (0, 0), (t, b), (l, r))))
    assert layer.compute_output_shape((3, 4, 5)) == (3, 4 + t + b, 5 + l + r)


@pytest.mark.parametrize("cropping, tblr", [
    (1, (1, 1, 1, 1)), ((0, 2), (0, 0, 2, 2)), (((1, 2), (0, 3)), (1, 2, 0, 3)),
])
def test_cropping_forms_and_gradient(cropping, tblr):
    x = _x((2, 3, 6, 7))
    t, b, l, r = tblr
    xt = pydl.tensor(x, requires_grad=True)
    layer = Cropping2D(cropping)
    y = layer(xt)
    np.testing.assert_array_equal(y.detach().numpy(), x[:, :, t:6 - b, l:7 - r])
    assert layer.compute_output_shape((3, 6, 7)) == (3, 6 - t - b, 7 - l - r)
    y.sum().backward()
    want = np.zeros_like(x)
    want[:, :, t:6 - b, l:7 - r] = 1
    np.testing.assert_array_equal(xt.grad.numpy(), want)


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"crop: Cropping2D cropping.*\(2, 2, 0, 0\).*\(4, 5\)"):
        Cropping2D(((2, 2), (0, 0)), name="crop")(pydl.tensor(_x((1, 1, 4, 5))))
    with pytest.raises(ValueError, match="UpSampling2D: interpolation must be 'nearest' or 'bilinear'.*bicubic"):
        UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match="ZeroPadding2D: padding must be non-negative"):
        ZeroPadding2D(-1)
    with pytest.raises(TypeError, match=r"ZeroPadding2D: padding must be an int, a pair.*\(1, 2, 3\)"):
        ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match=r"flat: UpSampling2D takes NCHW images.*\(10,\)"):
        UpSampling2D(name="flat")(pydl.tensor(_x((2, 10))))


@pytest.mark.parametrize("make", [
    lambda: UpSampling2D((2, 1), interpolation="bilinear"),
    lambda: ZeroPadding2D(((1, 0), (2, 1))),
    lambda: Cropping2D(((1, 0), (0, 1))),
])
def test_contract_config_save_load_and_a_training_step(make, tmp_path):
    pydl.manual_seed(0)
    layer = make()
    cfg = layer.get_config()
    again = L.deserialize(L.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == cfg
    model = Sequential([Input(shape=(2, 5, 5)), Conv2D(2, 2), layer, Flatten(), Dense(1)])
    model.compile(loss="mse", optimizer=pydl.optimizers.SGD(learning_rate=0.01))
    x, y = _x((8, 2, 5, 5), seed=1), _x((8, 1), seed=2)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    model.save(tmp_path / "m.pydl")
    loaded = load_model(tmp_path / "m.pydl")
    assert type(loaded.layers[1]) is type(layer)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
