"""copy.deepcopy / copy.copy / pickle of tensors, deepcopy of layers and models, and
pydl.models.clone_model (Keras's: same architecture, new weights, uncompiled)."""
import copy
import pickle

import numpy as np
import pytest

import pydl
from pydl.layers import Dense, Dropout, Input
from pydl.models import Sequential


def data(n=64, features=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = (x[:, :1] - 0.5 * x[:, 1:2] > 0).astype(np.float32)
    return x, y


def small_model():
    pydl.manual_seed(0)
    return Sequential([Dense(8, activation="tanh", input_shape=(4,)), Dropout(0.25), Dense(1, activation="sigmoid")])


# ---------------------------------------------------------------- tensors
def test_deepcopy_of_a_leaf_copies_values_dtype_requires_grad_grad_and_name():
    t = pydl.tensor(np.array([[1.0, -2.0], [3.5, 4.0]]), dtype=pydl.float64, requires_grad=True)
    t.name = "dense/kernel"
    (t * t).sum().backward()  # grad = 2 t
    c = copy.deepcopy(t)
    assert c is not t and c.is_leaf and c.requires_grad and c.dtype == pydl.float64
    assert c.name == "dense/kernel"
    np.testing.assert_array_equal(c.detach().numpy(), [[1.0, -2.0], [3.5, 4.0]])
    np.testing.assert_array_equal(c.grad.numpy(), [[2.0, -4.0], [7.0, 8.0]])
    # the copy owns its memory: writing into it (and its grad) leaves the original as it was
    with pydl.no_grad():
        c.fill_(0.0)
    c.grad.fill_(0.0)
    np.testing.assert_array_equal(t.detach().numpy(), [[1.0, -2.0], [3.5, 4.0]])
    np.testing.assert_array_equal(t.grad.numpy(), [[2.0, -4.0], [7.0, 8.0]])
    # a gradient into the copy accumulates in the copy only
    (c * 3.0).sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), np.full((2, 2), 3.0))
    np.testing.assert_array_equal(t.grad.numpy(), [[2.0, -4.0], [7.0, 8.0]])


def test_deepcopy_without_grad_and_of_a_view_keeps_the_values():
    a = pydl.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    c = copy.deepcopy(a)
    assert not c.requires_grad and c.grad is None and c.dtype == pydl.float32
    view = a.transpose(0, 1)
    cv = copy.deepcopy(view)
    np.testing.assert_array_equal(cv.numpy(), np.arange(6, dtype=np.float32).reshape(2, 3).T)


def test_deepcopy_of_a_computed_tensor_raises_as_pytorch():
    w = pydl.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2.0
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(y)


def test_deepcopy_keeps_shared_references_shared():
    t = pydl.tensor([1.0, 2.0], requires_grad=True)
    a, b = copy.deepcopy([t, t])
    assert a is b and a is not t


def test_copy_copy_shares_memory_as_pytorch():
    t = pydl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (t * t).sum().backward()
    c = copy.copy(t)
    assert c is not t and c.requires_grad and c.is_leaf and c.grad is None
    with pydl.no_grad():
        c.fill_(7.0)
    np.testing.assert_array_equal(t.detach().numpy(), [7.0, 7.0, 7.0])


def test_pickle_round_trips_values_dtype_requires_grad_and_name_but_not_grad():
    t = pydl.tensor(np.array([0.5, -1.25, 3.0]), dtype=pydl.float64, requires_grad=True)
    t.name = "w"
    (t * t).sum().backward()
    back = pickle.loads(pickle.dumps(t))
    assert back.dtype == pydl.float64 and back.requires_grad and back.is_leaf and back.name == "w"
    assert back.grad is None  # as torch.save / pickle: the gradient is not data
    np.testing.assert_array_equal(back.detach().numpy(), [0.5, -1.25, 3.0])
    plain = pickle.loads(pickle.dumps(pydl.tensor([[1.0, 2.0]])))
    assert not plain.requires_grad and plain.dtype == pydl.float32 and plain.shape == (1, 2)


# ---------------------------------------------------------------- layers and models
def test_deepcopy_of_a_layer_has_its_own_weights():
    pydl.manual_seed(1)
    layer = Dense(3, input_shape=(2,))
    layer(np.ones((1, 2), dtype=np.float32))
    c = copy.deepcopy(layer)
    for a, b in zip(layer.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(a, b)
    c.set_weights([np.ones((2, 3), np.float32), np.zeros(3, np.float32)])
    x = np.array([[1.0, 2.0]], dtype=np.float32)
    np.testing.assert_array_equal(c(x).detach().numpy(), [[3.0, 3.0, 3.0]])  # the copy's call uses the copy's kernel
    assert not np.array_equal(layer.get_weights()[0], np.ones((2, 3)))


def test_deepcopy_of_an_uncompiled_model_is_independent():
    m = small_model()
    x, y = data()
    c = copy.deepcopy(m)
    np.testing.assert_array_equal(m.predict(x), c.predict(x))
    before = m.get_weights()
    c.compile(loss="binary_crossentropy", optimizer="sgd")
    c.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert m.optimizer is None
    assert any(not np.array_equal(a, b) for a, b in zip(before, c.get_weights()))  # the copy trained
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)  # the original did not move


def test_deepcopy_of_a_compiled_trained_model_resumes_identically_and_independently():
    m = small_model()
    x, y = data()
    m.compile(loss="binary_crossentropy", optimizer=pydl.optimizers.Adam(learning_rate=0.01), metrics=["accuracy"])
    m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    c = copy.deepcopy(m)
    assert c.optimizer is not m.optimizer and c.optimizer.iterations == m.optimizer.iterations
    # the same further training on both gives the same weights: the optimizer state came along
    for model in (m, c):
        pydl.manual_seed(3)
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(m.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(a, b)
    # and training the copy leaves the original unchanged
    before = m.get_weights()
    c.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(before, c.get_weights()))


def test_a_deep_copied_optimizer_finds_the_slots_of_its_own_variables():
    # apply_gradients looks slots up by variable: the copy must map its own (copied) variables
    # to the copied slots, not start fresh ones (which would reset Adam's moments).
    w = pydl.tensor([1.0, -1.0], requires_grad=True)
    opt = pydl.optimizers.Adam([w], learning_rate=0.1)
    opt.apply_gradients([(pydl.tensor([0.5, 2.0]), w)])
    w2, opt2 = copy.deepcopy((w, opt))
    g = np.array([0.5, 2.0], dtype=np.float32)
    opt.apply_gradients([(pydl.tensor(g), w)])
    opt2.apply_gradients([(pydl.tensor(g), w2)])
    np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())
    assert len(opt2.variables()) == len(opt.variables())


# ---------------------------------------------------------------- clone_model
def test_clone_model_has_the_architecture_and_new_weights_and_is_not_compiled():
    from pydl.models import clone_model
    m = small_model()
    x, y = data()
    m.compile(loss="binary_crossentropy", optimizer="adam")
    m.fit(x, y, epochs=1, verbose=0)
    before = m.get_weights()
    c = clone_model(m)
    assert c is not m and c.optimizer is None and c.built
    assert [type(l) for l in c.layers] == [type(l) for l in m.layers]
    assert [l.get_config() for l in c.layers] == [l.get_config() for l in m.layers]
    assert all(a is not b for a, b in zip(c.layers, m.layers))
    # freshly initialised: the kernels differ (biases start at zero either way)
    assert not np.array_equal(c.get_weights()[0], before[0])
    assert not np.array_equal(c.get_weights()[2], before[2])
    c.set_weights(before)
    np.testing.assert_array_equal(c.predict(x), m.predict(x))
    with pytest.raises(RuntimeError, match="compile"):
        c.fit(x, y, verbose=0)
    c.compile(loss="binary_crossentropy", optimizer="sgd")
    c.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_clone_model_of_a_model_built_by_fit_and_with_an_input_layer():
    from pydl.models import clone_model
    pydl.manual_seed(0)
    m = Sequential([Dense(5, activation="relu"), Dense(2)])
    m.predict(np.zeros((3, 7), dtype=np.float32))  # built by its first call, for 7 features
    c = clone_model(m)
    assert c.built and c.layers[0].kernel.shape == (7, 5)
    m2 = Sequential([Input(shape=(3,)), Dense(2)])
    c2 = clone_model(m2)
    assert c2.layers[0].kernel.shape == (3, 2)


def test_clone_model_input_tensors_and_clone_function():
    from pydl.models import clone_model
    m = small_model()
    c = clone_model(m, input_tensors=Input(shape=(6,)))
    assert c.layers[0].kernel.shape == (6, 8)
    c1 = clone_model(m, input_tensors=[Input(shape=(5,))])
    assert c1.layers[0].kernel.shape == (5, 8)

    def no_dropout(layer):
        cfg = layer.get_config()
        if isinstance(layer, Dropout):
            cfg["rate"] = 0.0
        return type(layer).from_config(cfg)

    c2 = clone_model(m, clone_function=no_dropout)
    assert [l.rate for l in c2.layers if isinstance(l, Dropout)] == [0.0]
    # returning the layer itself shares it, weights included (as in Keras)
    c3 = clone_model(m, clone_function=lambda layer: layer)
    assert c3.layers[0] is m.layers[0]


def test_clone_model_rejects_what_it_does_not_support():
    from pydl.models import clone_model
    m = small_model()
    with pytest.raises(TypeError, match="Sequential"):
        clone_model(Dense(3))
    with pytest.raises(TypeError, match="Input"):
        clone_model(m, input_tensors=pydl.zeros(2, 4))
    with pytest.raises(TypeError, match="Input"):
        clone_model(m, input_tensors=[Input(shape=(4,)), Input(shape=(4,))])
    with pytest.raises(TypeError, match="callable"):
        clone_model(m, clone_function="dense")
    with pytest.raises(TypeError, match="must return a Layer"):
        clone_model(m, clone_function=lambda layer: None)


def test_deepcopy_and_pickle_of_a_model_after_a_call_with_an_activity_regularizer():
    # the layer keeps the last call's penalty (a computed tensor): copies start without it
    pydl.manual_seed(0)
    m = Sequential([Dense(3, activation="relu", input_shape=(4,), activity_regularizer=pydl.regularizers.l2(0.1)),
                    Dense(1)])
    m.compile(loss="mse", optimizer="adam")
    x, y = data()
    m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        np.testing.assert_array_equal(c.predict(x), m.predict(x))
        before = m.get_weights()
        c.fit(x, y, epochs=1, batch_size=16, verbose=0)
        assert any(not np.array_equal(a, b) for a, b in zip(before, c.get_weights()))
        for a, b in zip(before, m.get_weights()):
            np.testing.assert_array_equal(a, b)
