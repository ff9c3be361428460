"""The functional API (pydl/models/: Model, Functional; pydl/layers/base.py: KerasTensor, Node):
graphs with skip connections that train, several inputs and outputs with per-output losses,
sub-models and nested models sharing weights, summary, save/load round trips, and the errors
a wrongly wired graph gets. Expected values are computed in NumPy from the models' weights."""

import numpy as np
import pytest

import pydl
from pydl.layers import Add, Concatenate, Dense, Input, InputLayer
from pydl.models import Functional, Model, Sequential, clone_model, load_model


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def relu(a):
    return np.maximum(a, 0)


def residual_model(seed=0):
    pydl.manual_seed(seed)
    x = Input((6,), name="x")
    h = Dense(6, activation="relu", name="f1")(x)
    h = Dense(6, name="f2")(h)
    y = Add(name="skip")([x, h])  # x + f(x)
    out = Dense(1, name="head")(y)
    return Model(x, out, name="resnet")


# ---------------------------------------------------------------- single input / output
def test_model_of_inputs_and_outputs_is_a_functional_model_sharing_the_base_class():
    m = residual_model()
    assert isinstance(m, Functional) and isinstance(m, Model)
    assert issubclass(Sequential, Model) and not issubclass(Sequential, Functional)
    assert Sequential.fit is Model.fit and Functional.fit is Model.fit  # one training loop
    assert [l.name for l in m.layers] == ["x", "f1", "f2", "skip", "head"]
    assert isinstance(m.layers[0], InputLayer)
    assert pydl.Input is Input and pydl.Model is Model


def test_residual_forward_is_x_plus_f_of_x():
    m = residual_model()
    X = _x((5, 6))
    w1, b1, w2, b2, wh, bh = m.get_weights()
    expect = (X + relu(X @ w1 + b1) @ w2 + b2) @ wh + bh
    np.testing.assert_allclose(m.predict(X, verbose=0), expect, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m(X).detach().numpy(), expect, rtol=1e-5, atol=1e-5)


def test_residual_block_trains():
    m = residual_model()
    X = _x((256, 6), 1)
    y = (X.sum(1, keepdims=True) + 0.5 * np.sin(X[:, :1])).astype(np.float32)
    m.compile(optimizer=pydl.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    h = m.fit(X, y, epochs=30, batch_size=32, verbose=0, validation_split=0.25)
    assert set(h.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert h.history["loss"][-1] < 0.1 * h.history["loss"][0]
    mse = float(np.mean((m.predict(X, verbose=0) - y) ** 2))
    np.testing.assert_allclose(m.evaluate(X, y, verbose=0, batch_size=256)[0], mse, rtol=1e-4)


def test_functional_chain_trains_exactly_as_the_same_sequential():
    # the same layers, weights and batches: Functional and Sequential take identical steps
    # (the fused softmax + crossentropy on the functional model's output too)
    pydl.manual_seed(3)
    seq = Sequential([Input((4,)), Dense(5, activation="tanh"), Dense(3, activation="softmax")])
    x = Input((4,))
    out = Dense(3, activation="softmax")(Dense(5, activation="tanh")(x))
    fun = Model(x, out)
    fun.set_weights(seq.get_weights())
    X, y = _x((64, 4), 2), np.random.default_rng(0).integers(0, 3, 64)
    for m in (seq, fun):
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert fun._fused[0] is not None and seq._fused[0] is not None
    hs = seq.fit(X, y, epochs=3, batch_size=16, verbose=0, seed=7, shuffle=True)
    hf = fun.fit(X, y, epochs=3, batch_size=16, verbose=0, seed=7, shuffle=True)
    np.testing.assert_allclose(hf.history["loss"], hs.history["loss"], rtol=1e-6)
    for a, b in zip(fun.get_weights(), seq.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_shared_layer_is_called_twice_with_one_set_of_weights():
    pydl.manual_seed(0)
    a, b = Input((3,), name="a"), Input((3,), name="b")
    shared = Dense(2, name="shared")
    out = Add()([shared(a), shared(b)])
    m = Model([a, b], out)
    assert len(m.weights) == 2 and m.count_params() == 8
    A, B = _x((4, 3), 1), _x((4, 3), 2)
    w, bias = shared.get_weights()
    np.testing.assert_allclose(m.predict([A, B], verbose=0), A @ w + B @ w + 2 * bias, rtol=1e-5, atol=1e-6)
    with pytest.raises(AttributeError, match="called 2 times"):
        shared.output


# ---------------------------------------------------------------- several inputs and outputs
def two_in_two_out(seed=0):
    pydl.manual_seed(seed)
    a, b = Input((3,), name="a"), Input((2,), name="b")
    h = Concatenate(name="cat")([Dense(4, activation="tanh", name="da")(a), Dense(4, activation="tanh", name="db")(b)])
    reg = Dense(1, name="reg")(h)
    cls = Dense(1, activation="sigmoid", name="cls")(h)
    return Model([a, b], [reg, cls], name="two")


def two_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, 3)).astype(np.float32)
    B = rng.standard_normal((n, 2)).astype(np.float32)
    y_reg = (A[:, :1] - B[:, 1:]).astype(np.float32)
    y_cls = (A[:, 1:2] + B[:, :1] > 0).astype(np.float32)
    return A, B, y_reg, y_cls


def test_two_inputs_two_outputs_reported_loss_is_the_weighted_sum_computed_in_numpy():
    m = two_in_two_out()
    A, B, y_reg, y_cls = two_data()
    m.compile(optimizer="adam", loss={"reg": "mse", "cls": "binary_crossentropy"},
              loss_weights={"reg": 0.5, "cls": 2.0}, metrics={"cls": ["accuracy"]})
    logs = m.evaluate({"a": A, "b": B}, {"reg": y_reg, "cls": y_cls}, verbose=0, return_dict=True, batch_size=40)
    p_reg, p_cls = m.predict({"a": A, "b": B}, verbose=0)
    mse = np.mean((p_reg - y_reg) ** 2)
    p = p_cls.astype(np.float64)
    bce = np.mean(-(y_cls * np.log(p) + (1 - y_cls) * np.log(1 - p)))
    acc = np.mean((p_cls > 0.5) == (y_cls > 0.5))
    assert list(logs) == ["loss", "reg_loss", "cls_loss", "cls_accuracy"]  # Keras 3's names
    np.testing.assert_allclose(logs["reg_loss"], mse, rtol=1e-5)
    np.testing.assert_allclose(logs["cls_loss"], bce, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], 0.5 * mse + 2.0 * bce, rtol=1e-5)
    np.testing.assert_allclose(logs["cls_accuracy"], acc)
    # lists in output order say the same
    m.compile(optimizer="adam", loss=["mse", "binary_crossentropy"], loss_weights=[0.5, 2.0],
              metrics=[None, "accuracy"])
    vals = m.evaluate([A, B], [y_reg, y_cls], verbose=0, batch_size=40)
    np.testing.assert_allclose(vals, [logs[k] for k in logs], rtol=1e-6)


def test_two_outputs_fit_history_keys_and_loss_weights_act_on_the_gradients():
    m = two_in_two_out()
    A, B, y_reg, y_cls = two_data()
    # a zero weight on 'reg': its head gets a zero gradient, so Adam leaves it where it was
    m.compile(optimizer=pydl.optimizers.Adam(0.01), loss={"reg": "mse", "cls": "binary_crossentropy"},
              loss_weights={"reg": 0.0, "cls": 1.0}, metrics={"reg": "mae", "cls": "accuracy"})
    reg0 = m.get_layer("reg").get_weights()
    h = m.fit([A, B], {"reg": y_reg, "cls": y_cls}, epochs=5, batch_size=16, verbose=0,
              validation_data=([A[:20], B[:20]], [y_reg[:20], y_cls[:20]]))
    assert set(h.history) == {"loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy", "val_loss",
                              "val_reg_loss", "val_cls_loss", "val_reg_mae", "val_cls_accuracy"}
    for a, b in zip(m.get_layer("reg").get_weights(), reg0):
        np.testing.assert_array_equal(a, b)
    assert h.history["cls_loss"][-1] < h.history["cls_loss"][0]
    np.testing.assert_allclose(h.history["loss"], h.history["cls_loss"], rtol=1e-6)


def test_multi_io_data_errors_name_the_inputs():
    m = two_in_two_out()
    m.compile(optimizer="adam", loss="mse")  # one loss: every output
    A, B, y_reg, y_cls = two_data(10)
    with pytest.raises(ValueError, match=r"has 2 inputs \['a', 'b'\]"):
        m.fit(A, [y_reg, y_cls], verbose=0)
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        m.predict({"a": A}, verbose=0)
    with pytest.raises(ValueError, match=r"x\['b'\] samples of shape \(2,\).*got \(3,\)"):
        m.predict([A, A], verbose=0)
    with pytest.raises(ValueError, match=r"x\['a'\] has 10 samples but x\['b'\] has 9"):
        m.predict([A, B[:9]], verbose=0)
    with pytest.raises(ValueError, match=r"not outputs of two.*\['reg', 'cls'\]"):
        m.compile(optimizer="adam", loss={"reg": "mse", "clss": "mse"})
    with pytest.raises(ValueError, match="3 entries but two has 2 outputs"):
        m.compile(optimizer="adam", loss=["mse"] * 3)
    with pytest.raises(ValueError, match="class_weight is for a model of one output"):
        m.fit([A, B], [y_reg, y_cls], class_weight={0: 1.0}, verbose=0)


# ---------------------------------------------------------------- sub-models and nesting
def test_encoder_cut_from_a_trained_sequential_autoencoder_shares_its_weights():
    pydl.manual_seed(1)
    ae = Sequential([Input((8,)), Dense(3, activation="relu", name="code"), Dense(8, name="decoded")])
    X = _x((128, 8), 4)
    ae.compile(optimizer="adam", loss="mse")
    ae.fit(X, X, epochs=2, verbose=0)
    encoder = Model(ae.input, ae.get_layer("code").output)
    w, b = ae.get_layer("code").get_weights()
    np.testing.assert_allclose(encoder.predict(X, verbose=0), relu(X @ w + b), rtol=1e-5, atol=1e-6)
    assert encoder.get_layer("code") is ae.get_layer("code")  # the same layer, so the same weights
    ae.fit(X, X, epochs=1, verbose=0)  # training the autoencoder moves the encoder too
    w2, b2 = ae.get_layer("code").get_weights()
    assert not np.allclose(w, w2)
    np.testing.assert_allclose(encoder.predict(X, verbose=0), relu(X @ w2 + b2), rtol=1e-5, atol=1e-6)


def test_sub_model_of_a_functional_model_gives_the_full_models_intermediate_values():
    m = residual_model()
    X = _x((7, 6), 3)
    part = Model(m.input, m.get_layer("skip").output)
    w1, b1, w2, b2, wh, bh = m.get_weights()
    code = X + relu(X @ w1 + b1) @ w2 + b2
    np.testing.assert_allclose(part.predict(X, verbose=0), code, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m.predict(X, verbose=0), code @ wh + bh, rtol=1e-5, atol=1e-5)
    assert m.get_layer("skip").input_shape == [(None, 6), (None, 6)]
    assert m.get_layer("skip").output_shape == (None, 6)
    assert m.get_layer(index=1) is m.get_layer("f1") and m.get_layer(index=-1).name == "head"


def gan_parts():
    pydl.manual_seed(2)
    gen = Sequential([Input((2,)), Dense(4, activation="relu", name="g1"), Dense(3, name="g2")], name="gen")
    disc = Sequential([Input((3,)), Dense(4, activation="relu", name="d1"), Dense(1, activation="sigmoid", name="d2")],
                      name="disc")
    return gen, disc


def test_gan_idiom_nested_sequential_trains_the_generator_only():
    gen, disc = gan_parts()
    disc.compile(optimizer="adam", loss="binary_crossentropy")  # compiled while trainable
    disc.trainable = False
    gan = Sequential([gen, disc], name="gan")
    gan.compile(optimizer=pydl.optimizers.Adam(0.01), loss="binary_crossentropy")
    assert gan.layers == [gen, disc] and len(gan.weights) == 8
    assert gan.weights[0] is gen.weights[0]  # shared, not copied
    Z = _x((64, 2), 5)
    np.testing.assert_allclose(gan.predict(Z, verbose=0), disc.predict(gen.predict(Z, verbose=0), verbose=0),
                               rtol=1e-5, atol=1e-6)
    g0, d0 = gen.get_weights(), disc.get_weights()
    h = gan.fit(Z, np.ones((64, 1), np.float32), epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert all(np.array_equal(a, b) for a, b in zip(disc.get_weights(), d0))  # frozen inside the gan
    assert not all(np.array_equal(a, b) for a, b in zip(gen.get_weights(), g0))
    # Keras semantics: disc was compiled while trainable, so its own training still moves it
    X = _x((32, 3), 6)
    with pytest.warns(UserWarning, match="compile"):
        disc.train_on_batch(X, np.ones((32, 1), np.float32))
    assert not all(np.array_equal(a, b) for a, b in zip(disc.get_weights(), d0))


def test_model_called_on_a_symbolic_tensor_is_a_layer_of_a_functional_model():
    inner = residual_model()
    x = Input((6,), name="outer_in")
    y = Dense(2, name="outer_head")(inner(x))
    outer = Model(x, y, name="outer")
    assert outer.layers[1] is inner and len(outer.weights) == 8
    X = _x((16, 6), 7)
    np.testing.assert_allclose(outer.predict(X, verbose=0),
                               inner.predict(X, verbose=0) @ outer.get_layer("outer_head").get_weights()[0]
                               + outer.get_layer("outer_head").get_weights()[1], rtol=1e-5, atol=1e-5)
    # freezing the inner model at compile: only the outer head trains
    inner.trainable = False
    outer.compile(optimizer="adam", loss="mse")
    before = inner.get_weights()
    outer.fit(X, _x((16, 2), 8), epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(inner.get_weights(), before))
    assert len(outer.trainable_weights) == 2 and len(outer.non_trainable_weights) == 6


# ---------------------------------------------------------------- summary
def test_functional_summary_has_a_connected_to_column():
    lines = []
    residual_model().summary(print_fn=lines.append)
    text = lines[0]
    assert "Connected to" in text
    row = next(l for l in text.splitlines() if l.startswith("skip (Add)"))
    assert "x[0][0]" in row
    assert any(l.strip() == "f2[0][0]" for l in text.splitlines())  # the Add's second input, next line
    assert "f1[0][0]" in next(l for l in text.splitlines() if l.startswith("f2 (Dense)"))
    assert f"Total params: {6 * 6 + 6 + 6 * 6 + 6 + 6 + 1:,}" in text


# ---------------------------------------------------------------- saving
def _round_trip(model, tmp_path, x):
    p = tmp_path / f"{model.name}.pydl"
    model.save(p)
    loaded = load_model(p)
    assert type(loaded) is type(model)
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    a, b = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    for u, v in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        np.testing.assert_array_equal(u, v)
    return loaded


def test_save_load_functional_residual_resumes_training_identically(tmp_path):
    m = residual_model()
    X, y = _x((64, 6), 1), _x((64, 1), 2)
    m.compile(optimizer="adam", loss="mse")
    m.fit(X, y, epochs=1, verbose=0)
    m2 = _round_trip(m, tmp_path, X)
    h1 = m.fit(X, y, epochs=1, verbose=0, seed=3)
    h2 = m2.fit(X, y, epochs=1, verbose=0, seed=3)
    assert h1.history["loss"] == h2.history["loss"]


def test_save_load_two_inputs_two_outputs_keeps_the_losses(tmp_path):
    m = two_in_two_out()
    A, B, y_reg, y_cls = two_data(40)
    m.compile(optimizer="adam", loss={"reg": "mse", "cls": "binary_crossentropy"},
              loss_weights={"reg": 0.5, "cls": 2.0}, metrics={"cls": ["accuracy"]})
    m2 = _round_trip(m, tmp_path, [A, B])
    assert m2.evaluate([A, B], [y_reg, y_cls], verbose=0, return_dict=True) == \
        m.evaluate([A, B], [y_reg, y_cls], verbose=0, return_dict=True)


def test_save_load_nested_models(tmp_path):
    gen, disc = gan_parts()
    disc.trainable = False
    gan = Sequential([gen, disc], name="gan")
    gan2 = _round_trip(gan, tmp_path, _x((5, 2)))
    assert [type(l) for l in gan2.layers] == [Sequential, Sequential]
    assert gan2.layers[1].trainable is False and gan2.layers[0].trainable is True
    inner = residual_model()
    x = Input((6,))
    outer = Model(x, Dense(2, name="top")(inner(x)), name="outer")
    _round_trip(outer, tmp_path, _x((5, 6)))


def test_clone_model_of_a_functional_model_has_new_weights(tmp_path):
    m = residual_model()
    c = clone_model(m)
    assert isinstance(c, Functional) and [l.name for l in c.layers] == [l.name for l in m.layers]
    assert c.get_layer("f1") is not m.get_layer("f1")
    c.set_weights(m.get_weights())
    X = _x((4, 6))
    np.testing.assert_array_equal(c.predict(X, verbose=0), m.predict(X, verbose=0))


# ---------------------------------------------------------------- wrongly wired graphs
def test_disconnected_input_is_an_error_naming_it():
    a, b = Input((3,), name="used"), Input((2,), name="unused")
    with pytest.raises(ValueError, match=r"'unused', \(None, 2\).*disconnected"):
        Model([a, b], Dense(1)(a))


def test_output_not_reachable_from_the_inputs_is_graph_disconnected():
    a, b = Input((3,), name="given"), Input((3,), name="other")
    out = Add(name="sum")([a, b])
    with pytest.raises(ValueError, match=r"graph disconnected.*sum.*'other' \(None, 3\).*\['given'\]"):
        Model(a, out)


def test_two_layers_with_one_name_are_an_error():
    x = Input((3,))
    h = Dense(2, name="twin")(x)
    with pytest.raises(ValueError, match=r"two layers are named 'twin' \(Dense and Dense\)"):
        Model(x, Dense(2, name="twin")(h))
    with pytest.raises(ValueError, match="already has a layer named 'twin'"):
        Sequential([Dense(2, name="twin", input_shape=(3,)), Dense(2, name="twin")])


def test_inputs_and_outputs_must_be_symbolic_and_inputs_must_be_inputs():
    x = Input((3,))
    h = Dense(2)(x)
    with pytest.raises(ValueError, match="not a pydl.Input"):
        Model(h, Dense(1)(h))
    with pytest.raises(TypeError, match="outputs.*symbolic"):
        Model(x, pydl.ones(2, 2))
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(TypeError, match="mix of symbolic"):
        Add()([x, pydl.ones(1, 3)])
    with pytest.raises(AttributeError, match="not been called on a symbolic tensor"):
        Dense(2).output
    m = Model(x, h)
    with pytest.raises(ValueError, match=r"no layer named 'nope'"):
        m.get_layer("nope")
    with pytest.raises(IndexError, match="out of range"):
        m.get_layer(index=5)
    with pytest.raises(ValueError, match=r"expected input samples of shape\(s\) \(3,\), got \(4,\)"):
        m(Input((4,)))


def test_per_output_sample_weights_and_validation_split_with_two_outputs():
    m = two_in_two_out()
    A, B, y_reg, y_cls = two_data(50)
    m.compile(optimizer="adam", loss={"reg": "mse", "cls": "binary_crossentropy"}, loss_weights=[1.0, 3.0])
    assert m._fused == [None, m._fused[1]] and m._fused[1] is not None  # sigmoid + BCE from the logits
    w = np.linspace(0.0, 2.0, 50).astype(np.float32)
    logs = m.evaluate([A, B], [y_reg, y_cls], sample_weight={"reg": w, "cls": None}, verbose=0, return_dict=True)
    p_reg, p_cls = m.predict([A, B], verbose=0)
    p = p_cls.astype(np.float64)
    wmse = np.sum(w * ((p_reg - y_reg) ** 2)[:, 0]) / 50  # Keras: sum over the batch / batch size
    bce = np.mean(-(y_cls * np.log(p) + (1 - y_cls) * np.log(1 - p)))
    np.testing.assert_allclose(logs["reg_loss"], wmse, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], wmse + 3.0 * bce, rtol=1e-5)
    # one array weighs every output
    both = m.evaluate([A, B], [y_reg, y_cls], sample_weight=w, verbose=0, return_dict=True)
    wbce = np.sum(w * -(y_cls * np.log(p) + (1 - y_cls) * np.log(1 - p))[:, 0]) / 50
    np.testing.assert_allclose(both["cls_loss"], wbce, rtol=1e-5)
    h = m.fit([A, B], [y_reg, y_cls], epochs=2, verbose=0, validation_split=0.2)
    assert {"val_loss", "val_reg_loss", "val_cls_loss"} <= set(h.history)
    val = m.evaluate([A[-10:], B[-10:]], [y_reg[-10:], y_cls[-10:]], verbose=0, return_dict=True)
    np.testing.assert_allclose(h.history["val_loss"][-1], val["loss"], rtol=1e-6)


def test_multi_io_model_nested_in_a_functional_graph():
    inner = two_in_two_out()
    a, b = Input((3,), name="oa"), Input((2,), name="ob")
    reg, cls = inner([a, b])
    assert reg.shape == (None, 1) and cls.shape == (None, 1)
    outer = Model([a, b], Concatenate(name="both")([reg, cls]))
    A, B, _, _ = two_data(8)
    p_reg, p_cls = inner.predict([A, B], verbose=0)
    np.testing.assert_allclose(outer.predict([A, B], verbose=0), np.concatenate([p_reg, p_cls], 1), rtol=1e-6)


def test_deepcopy_of_a_functional_model_is_independent():
    import copy
    m = residual_model()
    c = copy.deepcopy(m)
    X = _x((4, 6))
    np.testing.assert_array_equal(c.predict(X, verbose=0), m.predict(X, verbose=0))
    c.set_weights([w * 0 for w in c.get_weights()])
    assert np.abs(m.predict(X, verbose=0)).sum() > 0 and np.abs(c.predict(X, verbose=0)).sum() == 0


def test_keras1_model_input_output_names_warn_and_work():
    x = Input((3,))
    y = Dense(2)(x)
    with pytest.warns(DeprecationWarning) as record:
        m = Model(input=x, output=y)
    messages = sorted(str(w.message) for w in record)
    assert "'input' is the Keras 1 name; use 'inputs'" in messages[0]
    assert "'output' is the Keras 1 name; use 'outputs'" in messages[1]
    assert m.input is x and m.output is y
    with pytest.raises(TypeError, match="got both 'input'"):
        Model(x, y, input=x)


def test_an_unbuilt_sequential_called_on_a_symbolic_tensor_builds_for_its_shape():
    seq = Sequential([Dense(4, activation="relu"), Dense(2)])
    x = Input((5,))
    out = seq(x)
    assert seq.built and seq.layers[0].kernel.shape == (5, 4) and out.shape == (None, 2)
    m = Model(x, out)
    X = _x((3, 5))
    w1, b1, w2, b2 = seq.get_weights()
    np.testing.assert_allclose(m.predict(X, verbose=0), relu(X @ w1 + b1) @ w2 + b2, rtol=1e-5, atol=1e-6)


def test_pickle_round_trip_of_a_functional_model():
    import pickle
    m = residual_model()
    X = _x((4, 6))
    c = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(c.predict(X, verbose=0), m.predict(X, verbose=0))


def test_clone_model_of_a_functional_model_with_clone_function_and_input_tensors():
    m = residual_model()
    X = _x((4, 6))
    shared = clone_model(m, clone_function=lambda layer: layer)  # every layer shared, so every weight
    assert shared.get_layer("f1") is m.get_layer("f1")
    np.testing.assert_array_equal(shared.predict(X, verbose=0), m.predict(X, verbose=0))
    x2 = Input((6,), name="new_in")
    c = clone_model(m, input_tensors=x2)
    assert c.input is x2 and c.layers[0].name == "new_in"
    c.set_weights(m.get_weights())
    np.testing.assert_array_equal(c.predict(X, verbose=0), m.predict(X, verbose=0))
    with pytest.raises(TypeError, match="1 pydl.Input"):
        clone_model(m, input_tensors=[x2, Input((6,))])
    with pytest.raises(TypeError, match="must return a Layer"):
        clone_model(m, clone_function=lambda layer: None)


def test_a_sub_model_round_trips_through_a_file(tmp_path):
    m = residual_model()
    part = Model(m.input, m.get_layer("skip").output, name="part")
    _round_trip(part, tmp_path, _x((3, 6)))


def test_subclassing_model_without_a_wiring_says_so():
    # a subclass with no call() is allowed (its train_step may call sub-models), but it cannot run
    class Mine(Model):
        pass

    with pytest.raises(ValueError, match="defines no call"):
        Mine().predict(np.zeros((2, 3), np.float32), verbose=0)


def test_float64_functional_model_computes_in_float64():
    pydl.manual_seed(0)
    x = Input((4,))
    h = Dense(4, activation="tanh", dtype="float64")(x)
    out = Dense(2, dtype="float64")(Add()([x, h]))
    m = Model(x, out)
    X = np.random.default_rng(1).standard_normal((5, 4))
    w1, b1, w2, b2 = m.get_weights()
    p = m.predict(X, verbose=0)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, (X + np.tanh(X @ w1 + b1)) @ w2 + b2, rtol=1e-12, atol=1e-12)


def test_count_params_of_an_unbuilt_model_raises():
    with pytest.raises(ValueError, match="not built yet"):
        Sequential([Dense(2)]).count_params()


def test_a_functional_graph_survives_its_layers_sequential_re_recording_its_graph():
    # the layer's first call is in a Sequential's graph; re-recording that graph (add) drops
    # that call, which must not shift what the functional model's tensors point at
    pydl.manual_seed(0)
    d = Dense(3, name="d_shared")
    seq = Sequential([Input((3,)), d])
    x = Input((3,), name="fx")
    y = Dense(1, name="fy")(d(x))
    seq.add(Dense(2, name="later"))
    m = Model(x, y)
    X = _x((4, 3))
    w, b = d.get_weights()
    wy, by = m.get_layer("fy").get_weights()
    np.testing.assert_allclose(m.predict(X, verbose=0), (X @ w + b) @ wy + by, rtol=1e-5, atol=1e-6)
    assert [l.name for l in m.layers] == ["fx", "d_shared", "fy"]


def test_a_list_of_one_array_feeds_a_model_of_one_input_and_output():
    x = Input((3,))
    m = Model([x], [Dense(2)(x)])
    X, Y = _x((6, 3)), _x((6, 2), 1)
    p = m.predict([X], verbose=0)
    assert isinstance(p, list) and len(p) == 1 and p[0].shape == (6, 2)  # outputs given as a list: a list back
    m.compile(optimizer="sgd", loss="mse")
    mse = float(np.mean((p[0] - Y) ** 2))
    np.testing.assert_allclose(m.evaluate([X], [Y], verbose=0), mse, rtol=1e-5)


def test_a_failed_step_leaves_the_moving_statistics_of_a_nested_batch_norm():
    # test_layers_normalization's overflow recipe with the BatchNormalization inside a nested
    # model: the step's restore must reach the leaf layers of nested models
    from pydl.layers import BatchNormalization
    inner = Sequential([Input(shape=(2,)), BatchNormalization(name="bn")], name="inner")
    model = Sequential([inner, Dense(2, name="big"), Dense(1, name="zero")])
    model.compile(loss="mse", optimizer=pydl.optimizers.SGD(learning_rate=0.1))
    x = np.stack([np.arange(8.0), np.arange(8.0)[::-1] ** 2], axis=1).astype(np.float32)
    inner.get_layer("bn").set_weights([np.ones(2), np.zeros(2), np.array([0.5, -0.5]), np.array([2.0, 3.0])])
    model.get_layer("big").set_weights([np.eye(2) * 1e38, np.zeros(2)])
    model.get_layer("zero").set_weights([np.zeros((2, 1)), np.zeros(1)])
    y = (1e3 * np.sign(x[:, :1] - x[:, :1].mean())).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(pydl.optimizers.NonFiniteGradientError, match=r"'big' \(Dense\)|'zero' \(Dense\)"):
        model.fit(x, y, batch_size=8, verbose=0)
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)


def test_residual_cnn_block_with_batch_norm_trains_and_round_trips(tmp_path):
    from pydl.layers import BatchNormalization, Conv2D, Flatten
    pydl.manual_seed(0)
    x = Input((1, 8, 8), name="img")
    c = Conv2D(4, 3, padding="same", activation="relu", name="c1")(x)
    h = BatchNormalization(name="bn")(Conv2D(4, 3, padding="same", name="c2")(c))
    out = Dense(2, activation="softmax", name="cls")(Flatten()(c + h))
    m = Model(x, out, name="cnn_res")
    rng = np.random.default_rng(0)
    X = rng.random((64, 1, 8, 8)).astype(np.float32)
    Y = (X[:, 0, :4].mean((1, 2)) > X[:, 0, 4:].mean((1, 2))).astype(np.int64)
    m.compile(optimizer=pydl.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(X, Y, epochs=8, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < 0.7 * h.history["loss"][0]
    moving = m.get_layer("bn").get_weights()[2]
    assert not np.allclose(moving, 0)  # the moving mean moved in training
    _round_trip(m, tmp_path, X)


def test_nested_model_ending_in_sigmoid_is_fused_with_binary_crossentropy():
    # the GAN's loss comes from the discriminator's logits, and equals BCE of its probabilities
    gen, disc = gan_parts()
    disc.trainable = False
    gan = Sequential([gen, disc], name="gan")
    gan.compile(optimizer="adam", loss="binary_crossentropy")
    z = Input((2,))
    gan_f = Model(z, disc(gen(z)))
    gan_f.compile(optimizer="adam", loss="binary_crossentropy")
    assert gan._fused[0] is not None and gan._fusion_layers[0] is disc.get_layer("d2")
    assert gan_f._fused[0] is not None and gan_f._fusion_layers[0] is disc.get_layer("d2")
    Z = _x((40, 2), 9)
    y = (np.arange(40) % 2).astype(np.float32)[:, None]
    p = gan.predict(Z, verbose=0).astype(np.float64)
    bce = np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))
    np.testing.assert_allclose(gan.evaluate(Z, y, verbose=0), bce, rtol=1e-5)
    np.testing.assert_allclose(gan_f.evaluate(Z, y, verbose=0), bce, rtol=1e-5)
    g0 = gen.get_weights()
    gan.fit(Z, y, epochs=1, verbose=0)
    assert not all(np.array_equal(a, b) for a, b in zip(gen.get_weights(), g0))
