"""pydl.layers.preprocessing: the augmentation layers are the identity outside training, run
pydl.data.augment with their arguments in training, are deterministic given a seed (or after
pydl.manual_seed), round-trip through their config and a saved model, and the noise layers
pass the gradient through; argument errors name the layer."""
import math

import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.data import augment as A
from pydl.data.augment import Augment
from pydl.layers import Dense, Flatten, Input
from pydl.models import Sequential, load_model


def _x(shape=(6, 2, 8, 8), seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def _np(t):
    return t.detach().numpy()


# each layer with the pydl.data.augment call it must equal for the generator default_rng(seed)
LAYERS = [
    (lambda s: L.RandomRotation(15 / 360, seed=s),
     lambda x, r: A.random_rotation(x, (-15 / 360, 15 / 360), r, "reflect", "bilinear", 0.0)),
    (lambda s: L.RandomRotation((-0.1, 0.2), fill_mode="constant", interpolation="nearest", fill_value=0.5, seed=s),
     lambda x, r: A.random_rotation(x, (-0.1, 0.2), r, "constant", "nearest", 0.5)),
    (lambda s: L.RandomTranslation(0.2, (-0.1, 0.3), fill_mode="wrap", seed=s),
     lambda x, r: A.random_translation(x, (-0.2, 0.2), (-0.1, 0.3), r, "wrap", "bilinear", 0.0)),
    (lambda s: L.RandomZoom(0.3, seed=s),
     lambda x, r: A.random_zoom(x, (-0.3, 0.3), r, None, "reflect", "bilinear", 0.0)),
    (lambda s: L.RandomZoom((-0.2, 0.1), 0.4, fill_mode="nearest", seed=s),
     lambda x, r: A.random_zoom(x, (-0.2, 0.1), r, (-0.4, 0.4), "nearest", "bilinear", 0.0)),
    (lambda s: L.RandomFlip(seed=s), lambda x, r: A.random_flip(x, "horizontal_and_vertical", r)),
    (lambda s: L.RandomFlip("horizontal", seed=s), lambda x, r: A.random_flip(x, "horizontal", r)),
    (lambda s: L.RandomBrightness(0.2, value_range=(0, 1), seed=s),
     lambda x, r: A.random_brightness(x, (-0.2, 0.2), r, (0, 1))),
    (lambda s: L.RandomContrast(0.5, value_range=(0, 1), seed=s),
     lambda x, r: A.random_contrast(x, (0.5, 0.5), r, (0, 1))),
]
NOISE = [lambda s: L.GaussianNoise(0.2, seed=s), lambda s: L.GaussianDropout(0.3, seed=s)]
ALL = [make for make, _ in LAYERS] + NOISE


@pytest.mark.parametrize("make", ALL)
def test_identity_outside_training(make):
    layer, x = make(1), _x()
    for training in (None, False):
        np.testing.assert_array_equal(_np(layer(x, training=training)), x)


@pytest.mark.parametrize("make,reference", LAYERS)
def test_training_runs_the_augmentation_with_the_layers_arguments(make, reference):
    x = _x()
    got = _np(make(7)(x, training=True))
    np.testing.assert_array_equal(got, reference(x, np.random.default_rng(7)))
    assert not np.array_equal(got, x)
    # transform is the same augmentation on NumPy with a given generator (what Augment calls)
    np.testing.assert_array_equal(make(0).transform(x, np.random.default_rng(7)), got)


@pytest.mark.parametrize("make", ALL)
def test_seeded_layers_repeat_and_differ_by_seed(make):
    x = _x()
    a, b, c = make(3), make(3), make(4)
    ya, yb, yc = (_np(l(x, training=True)) for l in (a, b, c))
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(ya, yc)
    assert not np.array_equal(_np(a(x, training=True)), ya)  # the next batch gets new draws


@pytest.mark.parametrize("make", ALL)
def test_manual_seed_repeats_unseeded_layers(make):
    x = _x()
    pydl.manual_seed(11)
    first = _np(make(None)(x, training=True))
    pydl.manual_seed(11)
    np.testing.assert_array_equal(_np(make(None)(x, training=True)), first)


@pytest.mark.parametrize("make", ALL)
def test_config_round_trip(make):
    layer = make(5)
    again = L.deserialize(L.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == layer.get_config()
    x = _x()
    np.testing.assert_array_equal(_np(again(x, training=True)), _np(make(5)(x, training=True)))


def test_gaussian_noise_has_stddev_and_passes_the_gradient():
    x = pydl.tensor(np.full((200, 300), 0.5, np.float32), requires_grad=True)
    y = L.GaussianNoise(0.25, seed=0)(x, training=True)
    noise = _np(y) - 0.5
    assert abs(noise.std() - 0.25) < 0.005 and abs(noise.mean()) < 0.005  # 60000 draws: se ~0.001
    (y * pydl.tensor(np.full((200, 300), 3.0, np.float32))).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.full((200, 300), 3.0, np.float32))


def test_gaussian_dropout_noise_and_gradient():
    rate = 0.3
    x = pydl.tensor(np.full((200, 300), 2.0, np.float32), requires_grad=True)
    y = L.GaussianDropout(rate, seed=0)(x, training=True)
    m = _np(y) / 2.0
    assert abs(m.mean() - 1.0) < 0.01 and abs(m.std() - math.sqrt(rate / (1 - rate))) < 0.01
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), m, rtol=1e-6)  # d(x m)/dx = m


def test_noise_layers_transform_any_batch_shape():
    x = _x((5, 12))
    np.testing.assert_allclose(L.GaussianNoise(0.5).transform(x, np.random.default_rng(1)),
                               x + 0.5 * np.random.default_rng(1).standard_normal((5, 12), dtype=np.float32),
                               atol=1e-6)
    assert L.GaussianDropout(0.2).transform(x, np.random.default_rng(1)).shape == (5, 12)


def test_noise_layers_in_float64():
    x = pydl.tensor(np.zeros((4, 5)), dtype=pydl.float64)
    for layer in (L.GaussianNoise(1.0, seed=0), L.GaussianDropout(0.5, seed=0)):
        assert layer(x, training=True).dtype == pydl.float64


def test_image_layers_refuse_an_input_that_needs_a_gradient():
    x = pydl.tensor(_x(), requires_grad=True)
    with pytest.raises(ValueError, match="no gradient"):
        L.RandomRotation(0.1)(x, training=True)
    np.testing.assert_array_equal(_np(L.RandomRotation(0.1)(x)), _x())  # inference: fine


def test_in_a_model_fit_trains_and_predict_is_not_augmented(tmp_path):
    pydl.manual_seed(0)
    model = Sequential([Input(shape=(1, 8, 8)), L.RandomRotation(15 / 360, fill_mode="constant", seed=1),
                        L.RandomFlip("horizontal", seed=2), Flatten(), L.GaussianNoise(0.1, seed=3),
                        Dense(4, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    x, y = _x((12, 1, 8, 8), seed=1), np.arange(12) % 4
    before = model.get_weights()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    rot = next(l for l in model.layers if isinstance(l, L.RandomRotation))
    # fit augmented: the layer drew from its generator (seed 1), one batch of angles per step
    fresh = np.random.default_rng(1)
    for _ in range(6):
        fresh.uniform(size=4)
    assert rot._rng.bit_generator.state == fresh.bit_generator.state
    p1, p2 = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(p1, p2)
    path = tmp_path / "aug.pydl"
    model.save(path)
    loaded = load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    loaded_rot = next(l for l in loaded.layers if isinstance(l, L.RandomRotation))
    assert loaded_rot.get_config() == rot.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), p1)


def test_augment_takes_the_layers():
    x = _x()
    aug = Augment([L.RandomRotation(0.05, fill_mode="constant"), L.RandomFlip("horizontal"),
                   L.GaussianNoise(0.1)], seed=9)
    r = np.random.default_rng(9)
    want = A.gaussian_noise(A.random_flip(A.random_rotation(x, (-0.05, 0.05), r, "constant"), "horizontal", r),
                            0.1, r)
    np.testing.assert_array_equal(aug(x), want)


@pytest.mark.parametrize("make,match", [
    (lambda: L.RandomRotation(0.1, fill_mode="mirror"), "RandomRotation: fill_mode"),
    (lambda: L.RandomRotation(0.1, interpolation="bicubic"), "RandomRotation: interpolation"),
    (lambda: L.RandomRotation(0.1, data_format="NHWC"), "RandomRotation: data_format"),
    (lambda: L.RandomRotation(0.1, seed=-2), "RandomRotation: seed"),
    (lambda: L.RandomTranslation(1.2, 0.1), "RandomTranslation: height_factor"),
    (lambda: L.RandomZoom(0.1, (0.5, 0.2)), "RandomZoom: width_factor"),
    (lambda: L.RandomFlip("diagonal"), "RandomFlip: mode"),
    (lambda: L.RandomBrightness(1.5), "RandomBrightness: factor"),
    (lambda: L.RandomContrast((1.2, 0.1)), "RandomContrast: factor"),
    (lambda: L.GaussianNoise(-0.1), "GaussianNoise: stddev"),
    (lambda: L.GaussianDropout(1.0), "GaussianDropout: rate"),
])
def test_bad_arguments_raise_naming_the_layer(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_image_layers_need_nchw_samples():
    with pytest.raises(ValueError, match="channels, height, width"):
        L.RandomFlip()(np.zeros((2, 5), np.float32), training=True)
    with pytest.raises(TypeError, match="unexpected"):
        L.RandomFlip(bogus=1)


@pytest.mark.parametrize("make", [lambda: L.RandomRotation(0.2, seed=3, data_format="channels_last"),
                                  lambda: L.RandomTranslation(0.2, 0.1, seed=3, data_format="channels_last"),
                                  lambda: L.RandomZoom(0.3, seed=3, data_format="channels_last")])
def test_geometric_layers_take_channels_last_images(make):
    # the NHWC layer on NHWC data equals the NCHW layer (same seed) on the transposed data
    x = np.random.default_rng(0).random((3, 10, 12, 2)).astype(np.float32)
    last = make()
    cfg = last.get_config()
    cfg["data_format"] = "channels_first"
    first = type(last).from_config(cfg)
    y_last = last(pydl.tensor(x), training=True).numpy()
    y_first = first(pydl.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), training=True).numpy()
    assert y_last.shape == x.shape
    np.testing.assert_array_equal(y_last, y_first.transpose(0, 2, 3, 1))
    assert not np.array_equal(y_last, x)


def test_masking_noise_zeroes_a_fraction_in_training_only():
    from pydl.layers import MaskingNoise
    x = np.random.default_rng(0).uniform(0.5, 1.0, (200, 50)).astype(np.float32)
    layer = MaskingNoise(0.3, seed=1)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    out = layer(x, training=True).numpy()
    zero = out == 0
    assert abs(zero.mean() - 0.3) < 0.02  # 10000 values: standard error 0.005
    np.testing.assert_array_equal(out[~zero], x[~zero])  # kept values are not rescaled
    again = MaskingNoise(0.3, seed=1)(x, training=True).numpy()
    np.testing.assert_array_equal(again, out)
    with pytest.raises(ValueError, match="rate"):
        MaskingNoise(1.5)
