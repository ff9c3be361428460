"""Embedding: rows of the matrix for integer ids, the gradient only into the rows used, Keras's
config, and the contract the float layers get in test_layer_contract.py."""
import copy

import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.models import Sequential
from pydl.saving import load_model


def test_rows_of_the_matrix_and_the_gradient_only_into_the_rows_used():
    emb = L.Embedding(10, 4)
    ids = np.array([[1, 3, 3], [0, 9, 1]])
    y = emb(ids)
    w = emb.get_weights()[0]
    np.testing.assert_array_equal(y.detach().numpy(), w[ids])
    assert tuple(y.shape) == (2, 3, 4) and emb.count_params() == 40
    (y * y).sum().backward()
    g = emb.embeddings.grad.numpy()
    want = np.zeros_like(w)
    np.add.at(want, ids.reshape(-1), 2 * w[ids].reshape(-1, 4))
    np.testing.assert_allclose(g, want, rtol=1e-6)
    assert not g[[2, 4, 5, 6, 7, 8]].any()
    # other sentence lengths, ids as whole floats
    np.testing.assert_array_equal(emb(np.array([[2.0, 5.0, 7.0, 1.0]])).detach().numpy(), w[[[2, 5, 7, 1]]])
    # Keras's default initializer: uniform in [-0.05, 0.05]
    assert np.abs(w).max() <= 0.05


def test_a_model_with_embedding_trains_saves_and_loads(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20, (64, 6))
    y = (ids[:, 0] < 10).astype(np.float32)[:, None]  # the first word decides
    pydl.manual_seed(0)
    model = Sequential([L.Embedding(20, 8, input_shape=(6,)), L.LSTM(8), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=pydl.optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    h = model.fit(ids, y, epochs=30, batch_size=16, verbose=0)
    assert h.history["accuracy"][-1] > 0.9
    model.save(tmp_path / "e.pydl")
    again = load_model(tmp_path / "e.pydl")
    np.testing.assert_array_equal(again.predict(ids, verbose=0), model.predict(ids, verbose=0))
    assert again.layers[0].get_config() == model.layers[0].get_config()
    twin = copy.deepcopy(model.layers[0])
    np.testing.assert_array_equal(twin.get_weights()[0], model.layers[0].get_weights()[0])


def test_bad_ids_raise_naming_the_layer():
    emb = L.Embedding(5, 2, name="words")
    with pytest.raises(ValueError, match="words: token id 5 is outside \\[0, 5\\)"):
        emb(np.array([[1, 5]]))
    with pytest.raises(ValueError, match="words: token id -1 is outside"):
        emb(np.array([[-1, 2]]))
    with pytest.raises(ValueError, match="words: Embedding takes integer token ids, got 1.5"):
        emb(np.array([[1.5, 2.0]]))
    with pytest.raises(TypeError, match="mask_zero must be True or False"):
        L.Embedding(5, 2, mask_zero="yes")
    with pytest.raises(ValueError, match="input_dim must be a positive int"):
        L.Embedding(0, 2)
    model = Sequential([L.Embedding(5, 2, input_shape=(3,)), L.Flatten(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    with pytest.raises(ValueError, match="token id 7 is outside"):
        model.fit(np.array([[1, 2, 7]]), np.zeros((1, 1)), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_int64_tensor_ids_work_directly_and_match_numpy_ids():
    emb = L.Embedding(7, 3)
    ids = np.array([[6, 0, 6], [2, 6, 0]])
    a = emb(ids)
    b = emb(pydl.tensor(ids))
    assert pydl.tensor(ids).dtype == pydl.int64
    w = emb.get_weights()[0]
    np.testing.assert_array_equal(b.detach().numpy(), w[ids])
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    # whole floats, as a tensor too
    np.testing.assert_array_equal(emb(pydl.tensor(ids.astype(np.float32))).detach().numpy(), w[ids])
    with pytest.raises(ValueError, match="token id 7 is outside \\[0, 7\\)"):
        emb(pydl.tensor([[1, 7]]))
    with pytest.raises(ValueError, match="token id -2 is outside"):
        emb(pydl.tensor([[-2, 1]]))  # never wrapped to row 5
    with pytest.raises(ValueError, match="integer token ids, got 0.5"):
        emb(pydl.tensor([[0.5, 1.0]]))


def test_repeated_ids_accumulate_and_unused_rows_get_exactly_zero():
    emb = L.Embedding(6, 2)
    ids = pydl.tensor([[5, 5, 5, 1]])
    y = emb(ids)
    gy = np.arange(8, dtype=np.float32).reshape(1, 4, 2) + 1
    y.backward(pydl.tensor(gy))
    g = emb.embeddings.grad.numpy()
    want = np.zeros((6, 2), np.float32)
    want[5] = gy[0, 0] + gy[0, 1] + gy[0, 2]
    want[1] = gy[0, 3]
    np.testing.assert_array_equal(g, want)
    assert (g[[0, 2, 3, 4]] == 0).all()


def test_embedding_gradient_float64_gradcheck():
    emb = L.Embedding(5, 3, dtype="float64")
    ids = pydl.tensor([[0, 4, 4], [2, 0, 1]])
    emb(ids)  # build
    w = pydl.tensor(emb.get_weights()[0], dtype=pydl.float64, requires_grad=True)

    def f(weight):
        emb.embeddings = weight
        return emb.call(ids).tanh()
    assert pydl.utils.gradcheck(f, [w])


def test_a_large_vocabulary_does_not_build_a_one_hot():
    # 200 000 x 8 ids: a one-hot would hold 64 x 200 000 floats per call; the gather touches 64 rows
    emb = L.Embedding(200_000, 8)
    ids = np.random.default_rng(0).integers(0, 200_000, (4, 16))
    y = emb(ids)
    y.sum().backward()
    g = emb.embeddings.grad.numpy()
    counts = np.bincount(ids.reshape(-1), minlength=200_000).astype(np.float32)
    np.testing.assert_array_equal(g, np.repeat(counts[:, None], 8, axis=1))
