"""Metrics, computed on NumPy views of each batch's predictions and averaged over an epoch
(weighted by batch size, as Keras reports them).

'accuracy' is resolved from the loss and the shapes, as Keras does: binary for
binary_crossentropy or one output unit, sparse for integer labels, categorical for one-hot.
"""
import numpy as np

from . import _C
from ._registry import lookup


def _np(a):
    """A batch as a NumPy array; a tensor (one that requires grad too) without its graph."""
    return a.detach().numpy() if isinstance(a, _C.Tensor) else np.asarray(a)


class Metric:
    name = "metric"

    def __init__(self, name=None):
        if name:
            self.name = name
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.per_sample(_np(y_true), _np(y_pred))
        w = np.ones(len(values)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        self.total += float(np.sum(values * w))
        self.count += float(np.sum(w))

    def result(self):
        return self.total / self.count if self.count else 0.0

    def per_sample(self, y_true, y_pred):
        raise NotImplementedError


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


def get(identifier, loss_name=None, y_true=None, y_pred_shape=None):
    """A fresh metric object for a name; 'accuracy' picks its kind from the loss and shapes."""
    if isinstance(identifier, Metric):
        return identifier
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
