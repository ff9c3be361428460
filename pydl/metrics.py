"""Metrics, computed on NumPy views of each batch's predictions and averaged over an epoch
(weighted by batch size, as Keras reports them).

'accuracy' is resolved from the loss and the shapes, as Keras does: binary for
binary_crossentropy or one output unit, sparse for integer labels, categorical for one-hot.
"""
import numpy as np

from . import _registry
from ._registry import lookup


class Metric:
    name = "metric"

    def __init__(self, name=None):
        if name:
            self.name = name
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.per_sample(np.asarray(y_true), np.asarray(y_pred))
        w = np.ones(len(values)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        self.total += float(np.sum(values * w))
        self.count += float(np.sum(w))

    def result(self):
        return self.total / self.count if self.count else 0.0

    def per_sample(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        """The constructor's arguments (a subclass with more adds its own), for saving."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _labels(y):
    return y.reshape(-1).astype(np.int64) if y.ndim == 1 or y.shape[-1] == 1 else y.argmax(-1)


class CategoricalAccuracy(Metric):
    name = "accuracy"

    def per_sample(self, y_true, y_pred):
        return (y_true.argmax(-1) == y_pred.argmax(-1)).reshape(len(y_pred), -1).mean(-1)


class SparseCategoricalAccuracy(Metric):
    name = "accuracy"

    def per_sample(self, y_true, y_pred):
        return (_labels(y_true) == y_pred.argmax(-1).reshape(-1)).astype(np.float64)


class BinaryAccuracy(Metric):
    name = "accuracy"

    def __init__(self, name=None, threshold=0.5):
        self.threshold = threshold
        super().__init__(name)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}

    def per_sample(self, y_true, y_pred):
        hit = (y_pred > self.threshold) == (y_true.reshape(y_pred.shape) > 0.5)
        return hit.reshape(len(y_pred), -1).mean(-1)


class MeanSquaredError(Metric):
    name = "mse"

    def per_sample(self, y_true, y_pred):
        return ((y_pred - y_true.reshape(y_pred.shape)) ** 2).reshape(len(y_pred), -1).mean(-1)


class MeanAbsoluteError(Metric):
    name = "mae"

    def per_sample(self, y_true, y_pred):
        return np.abs(y_pred - y_true.reshape(y_pred.shape)).reshape(len(y_pred), -1).mean(-1)


class RootMeanSquaredError(MeanSquaredError):
    """sqrt of the epoch's mean squared error (not the mean of per-batch roots)."""
    name = "rmse"

    def result(self):
        return float(np.sqrt(super().result()))


_ALL = {
    "accuracy": None, "acc": None,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy, "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError, "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
}


_CLASSES = {c.__name__: c for c in (CategoricalAccuracy, SparseCategoricalAccuracy, BinaryAccuracy,
                                     MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError)}


def serialize(metric):
    """``{"class_name", "config"}`` of a Metric; a custom one also carries its registered name."""
    return _registry.serialize(metric, _CLASSES)


def deserialize(config, custom_objects=None):
    return _registry.deserialize("metric", _CLASSES, config, custom_objects)


def get(identifier, loss_name=None, y_true=None, y_pred_shape=None):
    """A fresh metric object for a name; 'accuracy' picks its kind from the loss and shapes.
    A Metric instance is returned as is; a ``serialize`` dict or a registered name
    ('my_course>F1') gives the custom metric."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() not in _ALL:
        obj = _registry.get_registered_object(identifier)
        if isinstance(obj, type) and issubclass(obj, Metric):
            return obj()
    cls = lookup("metric", _ALL, identifier)
    if cls is not None:
        m = cls()
        if identifier.lower() not in ("mse", "mae", "rmse"):
            m.name = identifier.lower()
        return m
    # 'accuracy'
    if loss_name == "binary_crossentropy" or (y_pred_shape is not None and y_pred_shape[-1] == 1):
        m = BinaryAccuracy()
    elif loss_name == "sparse_categorical_crossentropy" or (
            y_true is not None and (np.ndim(y_true) == 1 or np.shape(y_true)[-1] == 1)):
        m = SparseCategoricalAccuracy()
    else:
        m = CategoricalAccuracy()
    m.name = identifier.lower() if identifier.lower() == "acc" else "accuracy"
    return m
