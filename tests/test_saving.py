import json
import zipfile

import numpy as np
import pytest

import pydl
from pydl.layers import Dense, Dropout
from pydl.models import Sequential, load_model
from pydl.optimizers import Adam
from pydl.regularizers import l2


def trained(tmp_path=None):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 4)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:2] > 0).astype(np.float32)
    pydl.manual_seed(0)
    m = Sequential([Dense(8, activation="tanh", input_shape=(4,), kernel_regularizer=l2(1e-3)), Dropout(0.1),
                    Dense(1, activation="sigmoid")])
    m.compile(loss="binary_crossentropy", optimizer=Adam(learning_rate=0.01), metrics=["accuracy"])
    m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return m, x, y


def test_round_trip_predictions_and_resumed_training_are_identical(tmp_path):
    m, x, y = trained()
    path = tmp_path / "m.pydl"
    m.save(path)
    m2 = load_model(path)
    np.testing.assert_array_equal(m.predict(x), m2.predict(x))
    assert m2.optimizer.iterations == m.optimizer.iterations
    for model in (m, m2):
        pydl.manual_seed(5)
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(m.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_file_is_json_and_arrays_without_pickle(tmp_path):
    m, _, _ = trained()
    path = tmp_path / "m.pydl"
    m.save(path)
    with zipfile.ZipFile(path) as zf:
        assert set(zf.namelist()) == {"model.json", "weights.npz", "optimizer.npz"}
        meta = json.loads(zf.read("model.json"))
    assert meta["format"] == "pydl-model" and meta["model"]["class_name"] == "Sequential"


def test_weights_only_round_trip(tmp_path):
    m, x, _ = trained()
    m.save_weights(tmp_path / "w.npz")
    pydl.manual_seed(9)
    other = Sequential([Dense(8, activation="tanh", input_shape=(4,)), Dropout(0.1), Dense(1, activation="sigmoid")])
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.predict(x), m.predict(x))


def test_bad_files_raise_clearly_and_change_nothing(tmp_path):
    m, x, _ = trained()
    good = tmp_path / "m.pydl"
    m.save(good)
    data = good.read_bytes()
    (tmp_path / "trunc.pydl").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a pydl model file"):
        load_model(tmp_path / "trunc.pydl")
    (tmp_path / "foreign.pydl").write_bytes(b"hello, I am a text file")
    with pytest.raises(ValueError, match="not a pydl model file"):
        load_model(tmp_path / "foreign.pydl")
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 3] ^= 0xFF
    (tmp_path / "corrupt.pydl").write_bytes(bytes(corrupt))
    with pytest.raises(ValueError):
        load_model(tmp_path / "corrupt.pydl")
    # a newer format version
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members["model.json"])
    meta["version"] = 99
    with zipfile.ZipFile(tmp_path / "newer.pydl", "w") as zf:
        zf.writestr("model.json", json.dumps(meta))
        for n in ("weights.npz", "optimizer.npz"):
            zf.writestr(n, members[n])
    with pytest.raises(ValueError, match="newer pydl"):
        load_model(tmp_path / "newer.pydl")
    # loading weights of the wrong shapes into a model leaves it untouched
    before = m.get_weights()
    small = Sequential([Dense(3, input_shape=(4,)), Dense(1)])
    small.save_weights(tmp_path / "small.npz")
    with pytest.raises(ValueError):
        m.load_weights(tmp_path / "small.npz")
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
