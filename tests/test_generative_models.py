"""Issue 10 across modules: saving each kind of generative model, and the bad inputs the issue
names (a GAN whose generator does not fit its discriminator). The pieces have their own tests:
test_models_rbm.py, test_models_subclass.py, test_layers_latent.py, test_losses_masked.py."""
import numpy as np
import pytest

import pydl
from pydl.layers import Dense, Sampling
from pydl.models import Model, Sequential, load_model


def test_gan_whose_generator_does_not_fit_the_discriminator():
    g = Sequential([pydl.Input((4,)), Dense(10)], name="generator")
    d = Sequential([pydl.Input((784,)), Dense(1, activation="sigmoid")], name="discriminator")
    with pytest.raises(ValueError, match=r"discriminator.*784.*10|discriminator.*10.*784"):
        Sequential([g, d]).predict(np.zeros((2, 4), np.float32), verbose=0)


def test_autoencoder_of_nested_models_saves_and_its_encoder_still_works(tmp_path):
    pydl.manual_seed(0)
    enc = Sequential([pydl.Input((6,)), Dense(3, activation="relu")], name="encoder")
    dec = Sequential([pydl.Input((3,)), Dense(6, activation="sigmoid")], name="decoder")
    ae = Sequential([enc, dec])
    ae.compile("adam", "binary_crossentropy")
    x = np.random.default_rng(0).random((32, 6)).astype(np.float32)
    ae.fit(x, x, epochs=2, verbose=0)
    ae.save(tmp_path / "ae.pydl")
    back = load_model(tmp_path / "ae.pydl")
    np.testing.assert_array_equal(back.predict(x, verbose=0), ae.predict(x, verbose=0))
    np.testing.assert_array_equal(back.layers[0].predict(x, verbose=0), enc.predict(x, verbose=0))


def test_vae_parts_save_and_decode_the_same(tmp_path):
    pydl.manual_seed(1)
    x = pydl.Input((5,))
    h = Dense(4, activation="relu")(x)
    mean, log_var = Dense(2, name="mean")(h), Dense(2, name="log_var")(h)
    encoder = Model(x, [mean, log_var, Sampling()([mean, log_var])])
    decoder = Sequential([pydl.Input((2,)), Dense(5, activation="sigmoid")])
    encoder.save(tmp_path / "enc.pydl")
    decoder.save(tmp_path / "dec.pydl")
    enc2, dec2 = load_model(tmp_path / "enc.pydl"), load_model(tmp_path / "dec.pydl")
    data = np.random.default_rng(0).random((3, 5)).astype(np.float32)
    m1, lv1, _ = encoder.predict(data, verbose=0)
    m2, lv2, _ = enc2.predict(data, verbose=0)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(lv1, lv2)
    np.testing.assert_array_equal(dec2.predict(m1, verbose=0), decoder.predict(m1, verbose=0))
