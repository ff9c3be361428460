"""fit/evaluate/predict on a Python generator or a pydl.data.Sequence (Keras 3's PyDataset):
the same batches as arrays give the same weights, logs and outputs."""
import numpy as np
import pytest

import pydl
from pydl import Input, Model
from pydl.data import Sequence
from pydl.layers import Concatenate, Dense
from pydl.models import Sequential

N, BS = 40, 8


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, N)]
    return x, y


def model(seed=0):
    pydl.manual_seed(seed)
    m = Sequential([Dense(7, activation="relu", input_shape=(5,)), Dense(3, activation="softmax")])
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


class Batches(Sequence):
    def __init__(self, x, y, bs=BS, sw=None):
        self.x, self.y, self.bs, self.sw = x, y, bs, sw
        self.ends = 0

    def __len__(self):
        return -(-len(self.x) // self.bs)

    def __getitem__(self, i):
        s = slice(i * self.bs, (i + 1) * self.bs)
        return (self.x[s], self.y[s]) if self.sw is None else (self.x[s], self.y[s], self.sw[s])

    def on_epoch_end(self):
        self.ends += 1


def endless(x, y, bs=BS):
    while True:
        for i in range(0, len(x), bs):
            yield x[i:i + bs], y[i:i + bs]


def same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_a_sequence_trains_exactly_as_the_arrays_do():
    x, y = data()
    ref, m = model(), model()
    h_ref = ref.fit(x, y, batch_size=BS, epochs=3, shuffle=False, verbose=0)
    seq = Batches(x, y)
    h = m.fit(seq, epochs=3, shuffle=False, verbose=0)
    same_weights(ref, m)
    np.testing.assert_allclose(h.history["loss"], h_ref.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(h.history["accuracy"], h_ref.history["accuracy"])
    assert seq.ends == 3


def test_a_generator_with_steps_per_epoch_trains_as_the_arrays_do():
    x, y = data()
    ref, m = model(), model()
    ref.fit(x, y, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    m.fit(endless(x, y), steps_per_epoch=N // BS, epochs=2, verbose=0)
    same_weights(ref, m)


def test_a_shuffled_sequence_still_sees_every_sample_each_epoch():
    x, y = data()
    m = model()
    seen = []

    class Spy(Batches):
        def __getitem__(self, i):
            seen.append(i)
            return super().__getitem__(i)

    m.fit(Spy(x, y), epochs=2, shuffle=True, verbose=0)
    per_epoch = len(seen) // 2
    assert sorted(seen[-per_epoch:]) == list(range(N // BS))


def test_validation_evaluate_and_predict_on_sources():
    x, y = data()
    xv, yv = data(1)
    m = model()
    h = m.fit(Batches(x, y), validation_data=Batches(xv, yv), epochs=1, verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(m.evaluate(xv, yv, verbose=0)[0], rel=1e-5)
    # validation arrays beside a training generator are used, not dropped
    h = m.fit(endless(x, y), steps_per_epoch=2, validation_data=(xv, yv), epochs=1, verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(m.evaluate(xv, yv, verbose=0)[0], rel=1e-5)
    # a validation generator with validation_steps: the first 2 batches only
    h = m.fit(Batches(x, y), validation_data=endless(xv, yv), validation_steps=2, epochs=1, verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(m.evaluate(xv[:2 * BS], yv[:2 * BS], verbose=0)[0], rel=1e-5)
    np.testing.assert_allclose(m.evaluate(Batches(xv, yv), verbose=0), m.evaluate(xv, yv, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(m.evaluate(endless(xv, yv), steps=3, verbose=0),
                               m.evaluate(xv[:3 * BS], yv[:3 * BS], verbose=0), rtol=1e-5)
    np.testing.assert_allclose(m.predict(Batches(xv, yv), verbose=0), m.predict(xv, verbose=0), rtol=1e-6)
    xs_only = (xv[i:i + BS] for i in range(0, N, BS))
    np.testing.assert_allclose(m.predict(xs_only, steps=N // BS, verbose=0), m.predict(xv, verbose=0), rtol=1e-6)


def test_sample_and_class_weights_from_batches():
    x, y = data()
    sw = np.linspace(0.5, 2.0, N).astype(np.float32)
    ref, m = model(), model()
    ref.fit(x, y, sample_weight=sw, batch_size=BS, epochs=1, shuffle=False, verbose=0)
    m.fit(Batches(x, y, sw=sw), epochs=1, shuffle=False, verbose=0)
    same_weights(ref, m)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    ref, m = model(), model()
    ref.fit(x, y, class_weight=cw, batch_size=BS, epochs=1, shuffle=False, verbose=0)
    m.fit(Batches(x, y), class_weight=cw, epochs=1, shuffle=False, verbose=0)
    same_weights(ref, m)


def test_a_functional_model_of_two_inputs_on_a_sequence():
    x, y = data()
    a, b = x[:, :2], x[:, 2:]

    class Two(Sequence):
        def __len__(self):
            return N // BS

        def __getitem__(self, i):
            s = slice(i * BS, (i + 1) * BS)
            return {"a": a[s], "b": b[s]}, y[s]

    def build():
        pydl.manual_seed(0)
        ia, ib = Input((2,), name="a"), Input((3,), name="b")
        out = Dense(3, activation="softmax")(Concatenate()([Dense(4)(ia), ib]))
        mdl = Model([ia, ib], out)
        mdl.compile(optimizer="adam", loss="categorical_crossentropy")
        return mdl

    ref, m = build(), build()
    ref.fit({"a": a, "b": b}, y, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    m.fit(Two(), epochs=2, shuffle=False, verbose=0)
    same_weights(ref, m)


def test_bad_sources_raise_before_any_weight_changes():
    x, y = data()
    m = model()
    before = m.get_weights()
    with pytest.raises(ValueError, match="x is a generator, which has no length: give steps_per_epoch"):
        m.fit(endless(x, y), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="carry the targets.*instead of passing y"):
        m.fit(Batches(x, y), y, verbose=0)
    with pytest.raises(ValueError, match="validation_split cannot split"):
        m.fit(Batches(x, y), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch is for a generator or Sequence"):
        m.fit(x, y, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="validation_steps is for a generator"):
        m.fit(x, y, validation_data=(x, y), validation_steps=2, verbose=0)
    with pytest.raises(ValueError, match="steps is for a generator or Sequence"):
        m.evaluate(x, y, steps=2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch=9 but the Sequence Batches has only 5"):
        m.fit(Batches(x, y), steps_per_epoch=9, verbose=0)
    for wa, wb in zip(before, m.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_a_bad_batch_mid_epoch_names_the_batch():
    x, y = data()
    bad = x.copy()
    bad[2 * BS + 1, 0] = np.nan
    m = model()
    with pytest.raises(ValueError, match=r"fit: batch 2: x contains NaN"):
        m.fit(Batches(bad, y), epochs=1, shuffle=False, verbose=0)
    wrong = np.zeros((BS, 6), np.float32)

    def gen():
        yield x[:BS], y[:BS]
        yield wrong, y[:BS]
    with pytest.raises(ValueError, match=r"fit: batch 1"):
        m.fit(gen(), steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="ran out after 1 of this epoch's 3 batches"):
        m.fit((b for b in [(x[:BS], y[:BS])]), steps_per_epoch=3, verbose=0)
