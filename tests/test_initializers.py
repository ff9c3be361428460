import math

import numpy as np
import pytest

import pydl
from pydl import initializers as I


@pytest.mark.parametrize("name,fan,scale,dist", [
    ("glorot_uniform", "avg", 1.0, "uniform"), ("glorot_normal", "avg", 1.0, "normal"),
    ("he_uniform", "in", 2.0, "uniform"), ("he_normal", "in", 2.0, "normal"),
    ("lecun_uniform", "in", 1.0, "uniform"), ("lecun_normal", "in", 1.0, "normal"),
])
def test_variance_scaling_family_has_the_textbook_variance(name, fan, scale, dist):
    fan_in, fan_out = 300, 200
    w = I.get(name)((fan_in, fan_out))
    n = (fan_in + fan_out) / 2 if fan == "avg" else fan_in
    expected_std = math.sqrt(scale / n)
    assert w.shape == (fan_in, fan_out) and w.dtype == np.float32
    assert abs(w.std() - expected_std) < 0.03 * expected_std
    assert abs(w.mean()) < 0.05 * expected_std
    if dist == "uniform":  # bounded by sqrt(3 var)
        assert np.abs(w).max() <= math.sqrt(3) * expected_std + 1e-6
    else:  # truncated at two (rescaled) standard deviations
        assert np.abs(w).max() <= 2 * expected_std / 0.87962566103423978 + 1e-6


def test_constant_zeros_ones_and_random():
    assert np.all(I.get("zeros")((2, 3)) == 0)
    assert np.all(I.get("ones")((4,)) == 1)
    assert np.all(I.Constant(2.5)((3,)) == 2.5)
    u = I.RandomUniform(-1, 3, seed=1)((10000,))
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.05
    n = I.RandomNormal(1.0, 0.5, seed=1)((10000,))
    assert abs(n.mean() - 1) < 0.02 and abs(n.std() - 0.5) < 0.02


def test_seeded_initializer_repeats_and_global_seed_repeats():
    a = I.GlorotUniform(seed=7)((5, 5))
    b = I.GlorotUniform(seed=7)((5, 5))
    np.testing.assert_array_equal(a, b)
    pydl.manual_seed(3)
    c = I.get("he_normal")((5, 5))
    pydl.manual_seed(3)
    d = I.get("he_normal")((5, 5))
    np.testing.assert_array_equal(c, d)
    assert not np.array_equal(c, I.get("he_normal")((5, 5)))


def test_orthogonal_is_orthogonal():
    q = I.Orthogonal(seed=0)((6, 6)).astype(np.float64)
    np.testing.assert_allclose(q @ q.T, np.eye(6), atol=1e-5)
    r = I.Orthogonal(seed=0)((3, 7)).astype(np.float64)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-5)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="glorot_uniform"):
        I.get("glorot_uniformm")


def test_serialize_round_trip():
    init = I.VarianceScaling(2.0, "fan_out", "uniform", seed=3)
    back = I.deserialize(I.serialize(init))
    np.testing.assert_array_equal(back((4, 4)), init((4, 4)))


# ---------------------------------------------------------------- Keras 1 names (issue 7)
def test_keras1_uniform_and_normal_names_have_keras1_ranges():
    u = I.get("uniform")((300, 200))
    assert u.min() >= -0.05 and u.max() <= 0.05 and u.min() < -0.049 and u.max() > 0.049
    assert abs(u.std() - 0.1 / math.sqrt(12)) < 0.02 * 0.1 / math.sqrt(12)  # U(-a, a): std a / sqrt(3)
    n = I.get("normal")((300, 200))
    assert abs(n.mean()) < 0.001 and abs(n.std() - 0.05) < 0.001
    assert np.abs(n).max() > 3 * 0.05  # untruncated: 60000 draws reach past 3 sigma
    assert np.all(I.get("zero")((2, 3)) == 0) and np.all(I.get("one")((3,)) == 1)
    np.testing.assert_array_equal(I.get("identity")((3, 4)), np.eye(3, 4, dtype=np.float32))
    np.testing.assert_array_equal(I.Identity(gain=2.0)((2, 2)), 2 * np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match=r"Identity.*2D.*\(2, 2, 2\)"):
        I.get("identity")((2, 2, 2))
    back = I.deserialize(I.serialize(I.Identity(gain=3.0)))
    assert isinstance(back, I.Identity) and back.gain == 3.0


@pytest.mark.parametrize("name,cls", [("glorot_normal", I.GlorotNormal), ("glorot_uniform", I.GlorotUniform),
                                      ("he_normal", I.HeNormal), ("he_uniform", I.HeUniform),
                                      ("lecun_uniform", I.LecunUniform), ("orthogonal", I.Orthogonal),
                                      ("GlorotUniform", I.GlorotUniform), ("RandomNormal", I.RandomNormal),
                                      ("uniform", I.RandomUniform), ("normal", I.RandomNormal)])
def test_keras1_and_class_names_resolve(name, cls):
    assert type(I.get(name)) is cls
    assert type(I.get(cls)) is cls


def test_dense_init_uniform_as_on_the_slides():
    from pydl.layers import Dense
    from pydl.models import Sequential
    pydl.manual_seed(0)
    with pytest.warns(DeprecationWarning, match="init"):
        layer = Dense(200, init="uniform", input_dim=300)
    Sequential([layer]).build()
    k = layer.get_weights()[0]
    assert k.shape == (300, 200) and k.min() >= -0.05 and k.max() <= 0.05
    assert abs(k.std() - 0.1 / math.sqrt(12)) < 0.02 * 0.1 / math.sqrt(12)  # not glorot's 0.063
    with pytest.warns(DeprecationWarning):
        k = Dense(200, init="normal", input_dim=300)
    Sequential([k]).build()
    assert abs(k.get_weights()[0].std() - 0.05) < 0.001


def test_conv_kernel_fans_use_pydl_layout_out_in_over_groups_kh_kw():
    # Conv2D(64, (3, 5), groups=2) on 16 channels: kernel (64, 16 / 2, 3, 5)
    # fan_in = 8 * 3 * 5 = 120, fan_out = 64 * 3 * 5 = 960, by hand
    shape = (64, 8, 3, 5)
    limit = np.sqrt(6.0 / (120 + 960))
    w = I.GlorotUniform(seed=0)(shape)
    assert w.shape == shape
    assert np.abs(w).max() <= np.float32(limit)  # float32 rounding is monotonic
    assert np.abs(w).max() > 0.99 * limit  # 7680 uniform draws reach the edge
    assert np.var(w) == pytest.approx(limit ** 2 / 3, rel=0.05)
    he = I.HeNormal(seed=1)((64, 8, 3, 5))
    assert np.var(he) == pytest.approx(2.0 / 120, rel=0.05)
    lecun_out = I.VarianceScaling(1.0, "fan_out", "untruncated_normal", seed=2)(shape)
    assert np.var(lecun_out) == pytest.approx(1.0 / 960, rel=0.05)


def test_conv2d_layer_kernel_gets_the_glorot_limit_of_its_fans():
    import pydl
    layer = pydl.layers.Conv2D(32, 3)
    layer(pydl.tensor(np.zeros((1, 4, 6, 6), np.float32)))
    w = layer.get_weights()[0]
    limit = np.sqrt(6.0 / (4 * 9 + 32 * 9))  # fan_in 4 * 3 * 3, fan_out 32 * 3 * 3
    assert w.shape == (32, 4, 3, 3)
    assert limit * 0.97 < np.abs(w).max() <= np.float32(limit)
