"""Metrics, computed on NumPy views of each batch's predictions and averaged over an epoch
(weighted by batch size, as Keras reports them).

'accuracy' is resolved from the loss and the shapes, as Keras does: binary for
binary_crossentropy or one output unit, sparse for integer labels, categorical for one-hot.
Labels of the wrong kind for a metric (class ids for categorical accuracy, one-hot rows for
sparse accuracy, shapes that do not match) raise a ValueError naming the metric and both shapes.
A Keras-style function ``fn(y_true, y_pred)`` returning per-sample values is a metric too
(``MeanMetricWrapper``), reported under its function name.
"""
import numpy as np

from . import _C
from . import _registry
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
        if len(w) != len(values):
            raise ValueError(f"{self.name}: sample_weight has {len(w)} entries for {len(values)} samples")
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


def _shape(a):
    return tuple(int(d) for d in np.shape(a))


def _same_shape(name, y_true, y_pred):
    """y_true in y_pred's shape; as in the losses only a trailing axis of size 1 may differ."""
    ts, ps = _shape(y_true), _shape(y_pred)
    if ts == ps:
        return y_true
    if (len(ts) + 1 == len(ps) and ps[-1] == 1 and ps[:-1] == ts) or \
            (len(ps) + 1 == len(ts) and ts[-1] == 1 and ts[:-1] == ps):
        return y_true.reshape(ps)
    raise ValueError(f"{name}: y_true has shape {ts} but y_pred has shape {ps}; they must match "
                     "(only a trailing axis of size 1 may differ)")


def _class_ids(name, y_true, y_pred):
    """Integer class ids of shape y_pred.shape[:-1] from (..., ) or (..., 1) labels; one-hot rows,
    non-integer values and ids outside [0, classes) are refused (they would give a wrong number)."""
    ts, ps = _shape(y_true), _shape(y_pred)
    lead, classes = ps[:-1], ps[-1]
    if ts == lead or ts == lead + (1,):
        y = y_true.reshape(lead)
        if y.dtype.kind == "f" and not np.all(y == np.floor(y)):
            bad = y.reshape(-1)[np.argmax((y != np.floor(y)).reshape(-1))]
            raise ValueError(f"{name}: y_true holds {bad}, which is not an integer class id; sparse labels are "
                             f"integers in [0, {classes})")
        if y.size and (y.min() < 0 or y.max() >= classes):
            bad = y.min() if y.min() < 0 else y.max()
            raise ValueError(f"{name}: label {int(bad)} is out of range for {classes} classes (y_pred has shape "
                             f"{ps}); labels must be integers in [0, {classes})")
        return y.astype(np.int64)
    if ts == ps:
        raise ValueError(f"{name}: y_true has shape {ts}, the same as y_pred, so it looks one-hot; use "
                         "categorical_accuracy for one-hot targets (or 'accuracy', which picks the kind), or pass "
                         f"class ids of shape {lead}")
    raise ValueError(f"{name}: y_true has shape {ts} but y_pred has shape {ps}; expected integer class ids of "
                     f"shape {lead} or {lead + (1,)}")


class CategoricalAccuracy(Metric):
    name = "accuracy"

    def per_sample(self, y_true, y_pred):
        ts, ps = _shape(y_true), _shape(y_pred)
        if ts != ps:
            lead = ps[:-1]
            if len(ps) >= 2 and ps[-1] > 1 and (ts == lead or ts == lead + (1,)):
                raise ValueError(f"{self.name}: y_true has shape {ts}, which looks like integer class labels, but "
                                 f"y_pred has shape {ps} ({ps[-1]} classes) and categorical accuracy compares one-hot "
                                 "rows; use sparse_categorical_accuracy (or 'accuracy', which picks the kind), or "
                                 f"pydl.utils.to_categorical(y, {ps[-1]})")
            raise ValueError(f"{self.name}: y_true has shape {ts} but y_pred has shape {ps}; one-hot targets must "
                             "have y_pred's shape")
        return (y_true.argmax(-1) == y_pred.argmax(-1)).reshape(len(y_pred), -1).mean(-1)


class SparseCategoricalAccuracy(Metric):
    name = "accuracy"

    def per_sample(self, y_true, y_pred):
        hit = _class_ids(self.name, y_true, y_pred) == y_pred.argmax(-1)
        return hit.reshape(len(y_pred), -1).mean(-1)


class BinaryAccuracy(Metric):
    name = "accuracy"

    def __init__(self, name=None, threshold=0.5):
        self.threshold = threshold
        super().__init__(name)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}

    def per_sample(self, y_true, y_pred):
        hit = (y_pred > self.threshold) == (_same_shape(self.name, y_true, y_pred) > 0.5)
        return hit.reshape(len(y_pred), -1).mean(-1)


class MeanSquaredError(Metric):
    name = "mse"

    def per_sample(self, y_true, y_pred):
        return ((y_pred - _same_shape(self.name, y_true, y_pred)) ** 2).reshape(len(y_pred), -1).mean(-1)


class MeanAbsoluteError(Metric):
    name = "mae"

    def per_sample(self, y_true, y_pred):
        return np.abs(y_pred - _same_shape(self.name, y_true, y_pred)).reshape(len(y_pred), -1).mean(-1)


class RootMeanSquaredError(MeanSquaredError):
    """sqrt of the epoch's mean squared error (not the mean of per-batch roots)."""
    name = "rmse"

    def result(self):
        return float(np.sqrt(super().result()))


class MeanMetricWrapper(Metric):
    """A Keras-style metric function ``fn(y_true, y_pred)`` -> per-sample (or per-element) values,
    averaged like the built-in metrics. ``fn`` gets pydl tensors (float32, or y_pred's dtype) and
    may return a Tensor or an array; values per element are averaged within each sample first."""

    def __init__(self, fn, name=None, **kwargs):
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name or getattr(fn, "__name__", type(fn).__name__))

    def per_sample(self, y_true, y_pred):
        dt = _C.float64 if y_pred.dtype == np.float64 else _C.float32
        with _no_grad():
            out = self.fn(_C.tensor(y_true, dtype=dt), _C.tensor(y_pred, dtype=dt), **self.fn_kwargs)
        v = np.asarray(out.detach().numpy() if isinstance(out, _C.Tensor) else out, dtype=np.float64)
        n = len(y_pred)
        if v.ndim == 0 or v.shape[0] != n:
            raise ValueError(f"metric {self.name}: the function returned shape {v.shape} for {n} samples; a metric "
                             "function returns one value per sample (or per element), first axis the batch")
        return v.reshape(n, -1).mean(-1)


def _no_grad():
    from .autograd import no_grad
    return no_grad()


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
    """A fresh metric object for a name or a function; 'accuracy' picks its kind from the loss
    and shapes. A Metric object is returned as is (``compile`` keeps its own copies of it); a
    ``serialize`` dict or a registered name ('my_course>F1') gives the custom metric."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() not in _ALL:
        obj = _registry.get_registered_object(identifier)
        if obj is not None:
            identifier = obj
    if isinstance(identifier, type) and issubclass(identifier, Metric) and identifier is not MeanMetricWrapper:
        return identifier()
    if callable(identifier) and not isinstance(identifier, (str, type)):
        return MeanMetricWrapper(identifier)
    cls = lookup("metric", _ALL, identifier)
    if cls is not None:
        m = cls()
        if identifier.lower() not in ("mse", "mae", "rmse"):
            m.name = identifier.lower()
        return m
    # 'accuracy': binary for one output unit; sparse when the labels have one axis fewer than the
    # outputs (or a trailing 1); categorical for one-hot rows
    rank = None if y_pred_shape is None else len(y_pred_shape)
    tshape = None if y_true is None else np.shape(y_true)
    if loss_name == "binary_crossentropy" or (y_pred_shape is not None and y_pred_shape[-1] == 1):
        m = BinaryAccuracy()
    elif loss_name == "sparse_categorical_crossentropy" or (tshape is not None and (
            len(tshape) == 1 or tshape[-1] == 1 or (rank is not None and len(tshape) == rank - 1))):
        m = SparseCategoricalAccuracy()
    else:
        m = CategoricalAccuracy()
    m.name = identifier.lower() if identifier.lower() == "acc" else "accuracy"
    return m
