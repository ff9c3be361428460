"""The subclassing API, custom train_step / test_step, add_loss, trackers and freezing a nested
model (issue 10, Deliver 1): pydl/models/model.py and pydl/models/custom_step.py."""
import warnings

import numpy as np
import pytest

import pydl
from pydl.layers import Dense, Layer
from pydl.models import Model, Sequential


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1).astype(np.float32)
    return x, y


class TwoDense(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = Dense(8, activation="tanh")
        self.out = Dense(1)

    def call(self, x, training=None):
        return self.out(self.hidden(x))


class ManualStep(TwoDense):
    """The built-in step written out by hand, as Keras 3's PyTorch backend documents it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.loss_tracker = pydl.metrics.Mean(name="loss")

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        x, y = data
        loss = self.compute_loss(y=y, y_pred=self(x, training=False))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def reference_pair():
    """A Sequential with the same layers and weights as a fresh TwoDense-like model."""
    seq = Sequential([pydl.Input((3,)), Dense(8, activation="tanh"), Dense(1)])
    return seq


def copy_weights(dst, src):
    dst.set_weights(src.get_weights())


@pytest.mark.parametrize("cls", [TwoDense, ManualStep])
def test_subclassed_training_matches_the_same_sequential(cls):
    x, y = data()
    pydl.manual_seed(0)
    seq = reference_pair()
    sub = cls()
    sub.predict(x[:2], verbose=0)  # builds on the first data
    copy_weights(sub, seq)
    for m in (seq, sub):
        m.compile(pydl.optimizers.SGD(0.05), loss="mse")
    h_seq = seq.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    h_sub = sub.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(seq.get_weights(), sub.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # the tracker's epoch mean is the built-in loop's epoch loss (equal batches of 16)
    np.testing.assert_allclose(h_sub.history["loss"], h_seq.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(sub.evaluate(x, y, verbose=0), seq.evaluate(x, y, verbose=0), rtol=1e-5)


def test_trackers_reset_every_epoch_and_validation_uses_test_step():
    x, y = data()
    pydl.manual_seed(1)
    m = ManualStep()
    m.compile(pydl.optimizers.Adam(0.01), loss="mse")
    seen = []

    class Record(pydl.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(logs["loss"])

    h = m.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0, callbacks=[Record()],
              validation_data=(x[:40], y[:40]))
    # 3 batches per epoch: the logged value after batch k is the mean of that epoch's first k+1
    assert len(seen) == 6
    assert h.history["loss"][1] == pytest.approx(seen[5])
    assert "val_loss" in h.history and len(h.history["val_loss"]) == 2
    assert h.history["val_loss"][-1] == pytest.approx(m.evaluate(x[:40], y[:40], verbose=0), rel=1e-6)


def test_mean_and_sum_trackers():
    m = pydl.metrics.Mean(name="kl")
    m.update_state(2.0)
    m.update_state(np.array([1.0, 3.0, 5.0]))
    m.update_state(pydl.tensor([4.0]), sample_weight=[3.0])
    assert m.result() == pytest.approx((2 + 1 + 3 + 5 + 12) / 7)
    m.reset_state()
    assert m.result() == 0.0
    s = pydl.metrics.Sum()
    s.update_state([1.0, 2.0])
    s.update_state(3.0)
    assert s.result() == 6.0
    with pytest.raises(ValueError, match="does not broadcast"):
        m.update_state(np.ones(3), sample_weight=np.ones(2))


class Penalised(Layer):
    """Identity that adds 0.5 * mean(x²) of its input through add_loss."""

    def call(self, x, training=None):
        self.add_loss((x * x).mean() * 0.5)
        return x


def test_add_loss_in_a_layer_is_part_of_the_loss_fit_reports_and_trains():
    x, y = data(32)
    pydl.manual_seed(2)
    model = Sequential([pydl.Input((3,)), Dense(4), Penalised(), Dense(1)])
    model.compile(pydl.optimizers.SGD(1.0), loss="mse")
    h = model.get_layer(index=0)(x).detach().numpy()
    pred = model.predict(x, verbose=0)
    want = np.mean((pred - y) ** 2) + 0.5 * np.mean(h ** 2)
    assert model.evaluate(x, y, batch_size=32, verbose=0) == pytest.approx(want, rel=1e-5)
    assert len(model.losses) == 1
    # the term's gradient reaches the first layer: with an all-zero target and a zero last layer
    # only the penalty moves the first kernel, shrinking the hidden activations
    model.layers[2].set_weights([np.zeros((4, 1), np.float32), np.zeros(1, np.float32)])
    before = np.mean(model.get_layer(index=0)(x).detach().numpy() ** 2)
    model.fit(x, np.zeros_like(y), epochs=30, batch_size=32, verbose=0)
    after = np.mean(model.get_layer(index=0)(x).detach().numpy() ** 2)
    assert after < 0.5 * before, (before, after)


def test_add_loss_in_a_subclassed_call():
    class WithKL(TwoDense):
        def call(self, x, training=None):
            h = self.hidden(x)
            self.add_loss((h * h).sum() * 0.01)
            return self.out(h)

    x, y = data(16)
    pydl.manual_seed(3)
    m = WithKL()
    m.compile("sgd", loss="mse")
    pred = m.predict(x, verbose=0)
    h = m.hidden(x).detach().numpy()
    assert m.evaluate(x, y, batch_size=16, verbose=0) == pytest.approx(
        np.mean((pred - y) ** 2) + 0.01 * np.sum(h ** 2), rel=1e-5)


def test_add_loss_refuses_what_it_cannot_use():
    layer = Penalised()
    with pytest.raises(ValueError, match=r"expects a scalar.*\(2, 3\)"):
        layer.add_loss(pydl.zeros(2, 3))
    with pytest.raises(TypeError, match="scalar pydl tensor"):
        layer.add_loss(1.5)
    with pytest.raises(TypeError, match="callable loss"):
        layer.add_loss(lambda: pydl.zeros(()))
    with pytest.raises(NotImplementedError, match="symbolic tensor"):
        layer.add_loss(Dense(2)(pydl.Input((3,))))


def test_compile_without_a_loss_needs_a_train_step():
    x, y = data(8)
    m = TwoDense()
    m.compile(optimizer="adam")
    with pytest.raises(RuntimeError, match="compiled without a loss.*override train_step"):
        m.fit(x, y, verbose=0)


def test_subclassing_errors_and_weights_files(tmp_path):
    class Positional(Model):
        def __init__(self):
            super().__init__("name")

    with pytest.raises(TypeError, match="keywords only"):
        Positional()

    class NoCall(Model):
        def __init__(self):
            super().__init__()
            self.d = Dense(2)

    with pytest.raises(ValueError, match="defines no call"):
        NoCall().predict(np.zeros((2, 3)), verbose=0)
    x, _ = data(4)
    m = TwoDense(name="two")
    m.predict(x, verbose=0)
    with pytest.raises(NotImplementedError, match="save_weights"):
        m.save(tmp_path / "m.pydl")
    m.save_weights(tmp_path / "w.weights.npz")
    m2 = TwoDense()
    m2.predict(x, verbose=0)
    m2.load_weights(tmp_path / "w.weights.npz")
    np.testing.assert_array_equal(m2.predict(x, verbose=0), m.predict(x, verbose=0))
    assert [l.name for l in m.layers] == [m.hidden.name, m.out.name]


def test_gan_pattern_freezes_the_discriminator_only_in_the_combined_model():
    """Keras-GAN: compile D, set D.trainable = False, compile G+D; then D.train_on_batch trains D
    (compiled while trainable) and combined.train_on_batch trains only G (compile-time flags)."""
    pydl.manual_seed(4)
    g = Sequential([pydl.Input((2,)), Dense(4, activation="relu"), Dense(3)], name="g")
    d = Sequential([pydl.Input((3,)), Dense(4, activation="relu"), Dense(1, activation="sigmoid")], name="d")
    d.compile("sgd", loss="binary_crossentropy")
    d.trainable = False
    combined = Sequential([g, d])
    combined.compile("sgd", loss="binary_crossentropy")
    z = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    ones = np.ones((8, 1), np.float32)
    g0, d0 = g.get_weights(), d.get_weights()
    combined.train_on_batch(z, ones)
    assert all(np.array_equal(a, b) for a, b in zip(d0, d.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(g0, g.get_weights()))
    g1 = g.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns here too: trainable changed since compile
        d.train_on_batch(np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32), ones)
    assert not all(np.array_equal(a, b) for a, b in zip(d0, d.get_weights()))
    assert all(np.array_equal(a, b) for a, b in zip(g1, g.get_weights()))


def test_train_step_must_return_a_dict_of_numbers():
    class Bad(TwoDense):
        def train_step(self, data):
            return 3.0

    m = Bad()
    m.compile("sgd")
    x, y = data(8)
    with pytest.raises(TypeError, match="must return a dict"):
        m.fit(x, y, verbose=0)
