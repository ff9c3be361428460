import json
import re
import warnings
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


# ---------------------------------------------------------------- custom objects
def _scale_layer_class():
    """A custom layer as a course writes one: a weight, a constructor argument, get_config."""
    class Scale(pydl.layers.Layer):
        def __init__(self, factor=1.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = float(factor)

        def build(self, input_shape):
            self.gain = self.add_weight("gain", (input_shape[-1],), initializer="ones")

        def call(self, x, training=None):
            return x * self.gain * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    return Scale


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:2] > 0).astype(np.float32)
    return x, y


def test_registered_custom_layer_activation_initializer_and_regularizer_load_without_custom_objects(tmp_path):
    from pydl.saving import register_serializable
    Scale = register_serializable(package="test_saving")(_scale_layer_class())

    @register_serializable(package="test_saving")
    def cube(x):
        return x * x * x

    @register_serializable(package="test_saving")
    def halves(shape, dtype="float32"):
        return np.full(shape, 0.5, dtype=dtype)

    @register_serializable(package="test_saving", name="AbsPenalty")
    class Penalty(pydl.regularizers.Regularizer):
        def __init__(self, c=0.1):
            self.c = float(c)

        def __call__(self, w):
            return pydl.abs(w).sum() * self.c

        def get_config(self):
            return {"c": self.c}

    pydl.manual_seed(0)
    m = Sequential([Dense(3, activation=cube, kernel_initializer=halves, kernel_regularizer=Penalty(0.25),
                          input_shape=(4,)), Scale(factor=3.0), Dense(1)])
    x, y = _data()
    path = tmp_path / "m.pydl"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # everything is registered: no warning
        m.save(path)
    m2 = load_model(path)
    assert type(m2.layers[1]) is Scale and m2.layers[1].factor == 3.0
    assert m2.layers[0].activation is cube and m2.layers[0].kernel_initializer is halves
    assert type(m2.layers[0].kernel_regularizer) is Penalty and m2.layers[0].kernel_regularizer.c == 0.25
    np.testing.assert_array_equal(m.predict(x), m2.predict(x))
    # the file names them by registered name; it holds no code
    with zipfile.ZipFile(path) as zf:
        text = zf.read("model.json").decode()
    for name in ("test_saving>Scale", "test_saving>cube", "test_saving>halves", "test_saving>AbsPenalty"):
        assert name in text


def test_unregistered_custom_layer_warns_at_save_and_loads_with_custom_objects(tmp_path):
    Scale = _scale_layer_class()
    pydl.manual_seed(0)
    m = Sequential([Dense(3, input_shape=(4,)), Scale(factor=2.0)])
    path = tmp_path / "m.pydl"
    with pytest.warns(UserWarning, match=r"'Scale'.*not registered.*register_serializable.*custom_objects"):
        m.save(path)
    with pytest.raises(ValueError, match=r"Scale.*register_serializable.*custom_objects"):
        load_model(path)
    m2 = load_model(path, custom_objects={"Scale": Scale})
    assert type(m2.layers[1]) is Scale and m2.layers[1].factor == 2.0
    x, _ = _data()
    np.testing.assert_array_equal(m.predict(x), m2.predict(x))


def test_a_custom_class_named_like_a_builtin_is_not_replaced_by_the_builtin(tmp_path):
    class Dense(pydl.layers.Dense):  # a user's own "Dense": doubles its output
        def call(self, x, training=None, logits=False):
            return super().call(x, training, logits) * 2.0

    pydl.manual_seed(0)
    m = Sequential([Dense(2, input_shape=(3,))])
    path = tmp_path / "m.pydl"
    with pytest.warns(UserWarning, match="'Dense'.*not registered"):
        m.save(path)
    with pytest.raises(ValueError, match="Dense"):
        load_model(path)  # never silently the built-in Dense
    m2 = load_model(path, custom_objects={"Dense": Dense})
    assert type(m2.layers[0]) is Dense
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_array_equal(m.predict(x), m2.predict(x))


def test_custom_losses_and_metrics_come_back_with_the_compile_state(tmp_path):
    from pydl.saving import register_serializable

    @register_serializable(package="test_saving")
    class ScaledMSE(pydl.losses.Loss):
        def __init__(self, scale=1.0, reduction="sum_over_batch_size", name="scaled_mse"):
            super().__init__(reduction=reduction, name=name)
            self.scale = float(scale)

        def call(self, y_true, y_pred, sample_weight):
            return pydl.losses.MeanSquaredError(reduction=self.reduction)(y_true, y_pred, sample_weight) * self.scale

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    @register_serializable(package="test_saving")
    class MeanPrediction(pydl.metrics.Metric):
        name = "mean_prediction"

        def per_sample(self, y_true, y_pred):
            return y_pred.reshape(len(y_pred), -1).mean(-1)

    def abs_error(y_true, y_pred):  # a plain Keras-style function, passed at load
        return pydl.abs(y_pred - y_true).mean(axis=-1)

    x, y = _data()
    for loss, extra in ((ScaledMSE(scale=3.0), None), (abs_error, {"abs_error": abs_error})):
        pydl.manual_seed(0)
        m = Sequential([Dense(4, activation="tanh", input_shape=(4,)), Dense(1)])
        m.compile(loss=loss, optimizer=Adam(learning_rate=0.01),
                  metrics=["mae", MeanPrediction(), pydl.metrics.BinaryAccuracy(threshold=0.8)])
        m.fit(x, y, epochs=1, batch_size=16, verbose=0)
        path = tmp_path / "m.pydl"
        if extra is None:  # registered: saved silently
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                m.save(path)
        else:
            with pytest.warns(UserWarning, match="'abs_error'.*not registered"):
                m.save(path)
        m2 = load_model(path, custom_objects=extra)
        if extra is None:
            assert type(m2.loss) is ScaledMSE and m2.loss.scale == 3.0
        else:
            assert m2.loss.fn is abs_error  # compile wraps a function (LossFunctionWrapper) again
        assert [type(o) for o in m2._metric_names[1:]] == [MeanPrediction, pydl.metrics.BinaryAccuracy]
        assert m2._metric_names[2].threshold == 0.8
        p = m.predict(x).astype(np.float64)
        np.testing.assert_array_equal(m2.predict(x), m.predict(x))
        loss_value = 3.0 * np.mean((p - y) ** 2) if extra is None else np.mean(np.abs(p - y))
        want = {"loss": loss_value, "mae": np.mean(np.abs(p - y)), "mean_prediction": p.mean(),
                "accuracy": np.mean((p > 0.8) == (y > 0.5))}
        got = m2.evaluate(x, y, batch_size=64, return_dict=True)
        assert sorted(got) == sorted(want)
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-5, err_msg=k)
        # and training resumes identically
        for model in (m, m2):
            pydl.manual_seed(4)
            model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
        for a, b in zip(m.get_weights(), m2.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_builtin_loss_objects_keep_their_arguments(tmp_path):
    from pydl.losses import BinaryCrossentropy
    pydl.manual_seed(0)
    m = Sequential([Dense(1, input_shape=(4,))])  # logits out: the loss is not fused with an activation
    m.compile(loss=BinaryCrossentropy(from_logits=True, label_smoothing=0.2, reduction="sum"), optimizer="sgd")
    path = tmp_path / "m.pydl"
    m.save(path)
    m2 = load_model(path)
    assert m2.loss.get_config() == m.loss.get_config()
    x, y = _data()
    # the value from NumPy: smoothed targets, stable logistic loss, summed
    z = m.predict(x).astype(np.float64)
    t = y * 0.8 + 0.1
    want = np.sum(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
    np.testing.assert_allclose(m2.evaluate(x, y, batch_size=64), want, rtol=1e-5)


def test_lambdas_and_incomplete_configs_warn_at_save(tmp_path):
    pydl.manual_seed(0)
    m = Sequential([Dense(1, input_shape=(4,))])
    m.compile(loss=lambda y_true, y_pred, sample_weight=None: pydl.losses.MeanSquaredError()(y_true, y_pred),
              optimizer="sgd")
    with pytest.warns(UserWarning) as record:
        m.save(tmp_path / "a.pydl")
    assert any("lambda" in str(w.message) and "register_serializable" in str(w.message) for w in record)

    class Shift(pydl.layers.Layer):  # takes `amount` but forgets it in get_config
        def __init__(self, amount=1.0, **kwargs):
            super().__init__(**kwargs)
            self.amount = amount

        def call(self, x, training=None):
            return x + self.amount

    m = Sequential([Dense(1, input_shape=(4,)), Shift(amount=5.0)])
    with pytest.warns(UserWarning) as record:
        m.save(tmp_path / "b.pydl")
    messages = [str(w.message) for w in record]
    assert any(re.search(r"Shift.__init__ takes 'amount'.*get_config", msg) for msg in messages)
    assert any(re.search(r"'Shift'.*not registered", msg) for msg in messages)


def test_custom_objects_argument_is_checked_and_lookups_accept_it(tmp_path):
    m, _, _ = trained()
    path = tmp_path / "m.pydl"
    m.save(path)
    with pytest.raises(TypeError, match="custom_objects"):
        load_model(path, False)  # Keras's order: load_model(path, custom_objects=None, compile=True)
    with pytest.raises(TypeError, match="custom_objects"):
        load_model(path, custom_objects={"x": 3})
    assert load_model(path, compile=False).optimizer is None
    Scale = _scale_layer_class()
    d = pydl.layers.serialize(Scale(factor=4.0, name="s"))
    assert d["registered_name"] == "Scale"
    with pytest.raises(ValueError, match="Scale"):
        pydl.layers.deserialize(d)
    layer = pydl.layers.deserialize(d, custom_objects={"Scale": Scale})
    assert type(layer) is Scale and layer.factor == 4.0 and layer.name == "s"

    def my_loss(y_true, y_pred, sample_weight=None):
        return pydl.losses.MeanSquaredError()(y_true, y_pred, sample_weight)

    assert pydl.losses.deserialize(pydl.losses.serialize(my_loss), custom_objects={"my_loss": my_loss}) is my_loss
    with pydl.saving.custom_object_scope({"my_loss": my_loss}):
        assert pydl.losses.deserialize(pydl.losses.serialize(my_loss)) is my_loss
    with pytest.raises(ValueError, match="my_loss"):
        pydl.losses.deserialize(pydl.losses.serialize(my_loss))


def test_register_serializable_names_and_errors():
    from pydl.saving import get_registered_name, get_registered_object, register_serializable

    @register_serializable()
    def twice(x):
        return x * 2.0

    assert get_registered_name(twice) == "Custom>twice" and get_registered_object("Custom>twice") is twice
    assert pydl.activations.get("Custom>twice") is twice
    assert pydl.losses.get("Custom>twice") is twice
    with pytest.raises(ValueError, match="get_config"):
        register_serializable()(type("NoConfig", (), {}))
    with pytest.raises(ValueError, match="package"):
        register_serializable(package="a>b")


def test_a_file_naming_objects_with_non_strings_is_refused_clearly(tmp_path):
    m, _, _ = trained()
    good = tmp_path / "m.pydl"
    m.save(good)
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    for bad in ({"class_name": "function", "config": {"a": 1}}, {"class_name": "Dense", "registered_name": [1]}):
        meta = json.loads(members["model.json"])
        meta["model"]["config"]["layers"][0] = bad
        path = tmp_path / "bad.pydl"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("model.json", json.dumps(meta))
            for n in ("weights.npz", "optimizer.npz"):
                zf.writestr(n, members[n])
        with pytest.raises(ValueError, match="names are strings"):
            load_model(path)


def test_custom_optimizer_class_round_trips_through_the_registry(tmp_path):
    from pydl.saving import register_serializable

    class SlowSGD(pydl.optimizers.SGD):  # a course exercise: SGD with a smaller default rate
        _hyper = {**pydl.optimizers.SGD._hyper, "learning_rate": 0.003}

    x, y = _data()
    pydl.manual_seed(0)
    m = Sequential([Dense(1, input_shape=(4,))])
    m.compile(loss="mse", optimizer=SlowSGD(momentum=0.5))
    m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    with pytest.warns(UserWarning, match="'SlowSGD'.*not registered"):
        m.save(tmp_path / "a.pydl")
    with pytest.raises(ValueError, match="SlowSGD"):
        load_model(tmp_path / "a.pydl")
    register_serializable(package="test_saving")(SlowSGD)
    m.save(tmp_path / "b.pydl")
    for path, extra in ((tmp_path / "a.pydl", {"SlowSGD": SlowSGD}), (tmp_path / "b.pydl", None)):
        m2 = load_model(path, custom_objects=extra)
        assert type(m2.optimizer) is SlowSGD and m2.optimizer.learning_rate == 0.003
        assert m2.optimizer.momentum == 0.5 and m2.optimizer.iterations == m.optimizer.iterations


def test_every_kind_of_lookup_takes_custom_objects():
    def ramp(x):
        return pydl.relu(x) * 0.5

    def threes(shape, dtype="float32"):
        return np.full(shape, 3.0, dtype=dtype)

    class Tiny(pydl.regularizers.Regularizer):
        def __call__(self, w):
            return pydl.square(w).sum() * 1e-6

    class Hits(pydl.metrics.Metric):
        def per_sample(self, y_true, y_pred):
            return (np.abs(y_true - y_pred) < 0.1).reshape(len(y_pred), -1).mean(-1)

    cases = [(pydl.activations, ramp, "ramp"), (pydl.initializers, threes, "threes"),
             (pydl.regularizers, Tiny(), "Tiny"), (pydl.metrics, Hits(name="hits"), "Hits")]
    for module, obj, name in cases:
        d = module.serialize(obj)
        assert d["registered_name"] == name
        with pytest.raises(ValueError, match=name):
            module.deserialize(d)
        target = obj if callable(obj) and not hasattr(obj, "get_config") else type(obj)
        back = module.deserialize(d, custom_objects={name: target})
        if target is obj:
            assert back is obj
        else:
            assert type(back) is target and back.get_config() == obj.get_config()
    # built-ins keep their plain form
    assert pydl.activations.serialize(pydl.activations.relu) == "relu"
    assert "registered_name" not in pydl.initializers.serialize(pydl.initializers.get("glorot_uniform"))
    assert "registered_name" not in pydl.losses.serialize(pydl.losses.get("mse"))
