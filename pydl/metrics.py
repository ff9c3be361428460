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


# ---------------------------------------------------------------- streaming confusion metrics
# Keras's streaming semantics: each batch adds its (weighted) true/false positive/negative counts
# at every threshold; result() reads the counts of everything seen since reset_state(), so the
# result does not depend on how the data was cut into batches. A prediction counts as positive
# at threshold t when it is > t (Keras's rule). The counting is the C++ op _C.confusion_counts
# (cpp/src/ops/metrics.cpp: a binary search per value, then cumulative sums over the thresholds).
_EPSILON = 1e-7  # Keras's backend epsilon: AUC's outer thresholds, F-score denominators
_NEG_INF = -1e10  # Keras's NEG_INF: the value predictions outside the top k get, and top_k's default threshold


def _labels01(name, y_true, y_pred):
    """y_true as float64 0/1 in y_pred's shape; anything but 0/1 (class ids, say) is refused."""
    y_true = _same_shape(name, np.asarray(y_true), y_pred)
    if y_true.dtype != np.bool_:
        bad = ~((y_true == 0) | (y_true == 1))
        if bad.any():
            found = float(y_true.reshape(-1)[np.argmax(bad.reshape(-1))])
            raise ValueError(f"{name}: y_true must hold 0/1 labels (binary targets or one-hot rows), found "
                             f"{found:g}; for class ids use one-hot rows (pydl.utils.to_categorical)")
    return y_true.astype(np.float64)


def _check_probabilities(name, p):
    if not np.isfinite(p).all() or p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"{name}: predictions must be probabilities in [0, 1], got values in "
                         f"[{np.nanmin(p)}, {np.nanmax(p)}]; a model ending without sigmoid/softmax gives logits "
                         "(AUC(from_logits=True) takes those)")


def _element_weights(name, sample_weight, shape, per_sample_only=False):
    """sample_weight as one float64 weight per prediction (None when not given): a number, one
    weight per sample ((batch,) or (batch, 1)) spread over the sample's values, or (unless
    per_sample_only) one per prediction, y_pred's shape (Keras broadcasts the same way)."""
    if sample_weight is None:
        return None
    sw = np.asarray(_np(sample_weight), dtype=np.float64)
    n = shape[0] if len(shape) else 1
    if sw.ndim == 0:
        return np.full(shape, float(sw))
    if sw.shape == tuple(shape) and not per_sample_only:
        return sw
    if sw.shape in ((n,), (n, 1)):
        return np.broadcast_to(sw.reshape((n,) + (1,) * (len(shape) - 1)), shape)
    want = "a number or (batch,)" + ("" if per_sample_only else f" or y_pred's shape {tuple(shape)}")
    raise ValueError(f"{name}: sample_weight has shape {sw.shape} for y_pred of shape {tuple(shape)}; expected {want}")


def _confusion(pred, label, weight, thresholds):
    """float64 (4, K, L): tp, fp, tn, fn of pred (N,) or (N, L) at each threshold (in the order
    given), counted by the C++ op (which takes them ascending)."""
    thr = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    order = np.argsort(thr, kind="stable")
    p = _C.tensor(np.ascontiguousarray(pred, dtype=np.float64), dtype=_C.float64)
    w = None if weight is None else np.ascontiguousarray(weight, dtype=np.float64)
    counts = np.asarray(_C.confusion_counts(p, np.ascontiguousarray(label, dtype=np.float64), w, thr[order].tolist()))
    out = np.empty_like(counts)
    out[:, order] = counts
    return out


def _keep_top_k(p, k):
    """Keras's _filter_top_k: each row keeps its k largest values (of equal values the lower
    index first, as top_k orders them); the others become NEG_INF, below any threshold."""
    top = np.argsort(-p, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(p.shape, dtype=bool)
    np.put_along_axis(keep, top, True, axis=-1)
    return np.where(keep, p, _NEG_INF)


def _parse_thresholds(name, thresholds, default):
    """Keras's parse_init_thresholds: None gives [default]; a number or a list gives those, each in
    [0, 1] (any order; one result per threshold, in that order)."""
    if thresholds is None:
        return [float(default)]
    t = np.asarray(thresholds, dtype=np.float64) if not isinstance(thresholds, (str, bytes)) else None
    if t is None or t.ndim > 1 or not t.size or not np.isfinite(t).all() or t.min() < 0 or t.max() > 1:
        raise ValueError(f"{name}: thresholds must be numbers in [0, 1], got {thresholds!r}")
    return [float(v) for v in np.atleast_1d(t)]


def _divide(a, b):
    """a / b, 0 where b is 0 (Keras's divide_no_nan)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _positive_int(name, arg, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
        raise ValueError(f"{name}: {arg} must be None or a positive int, got {value!r}")


class _ConfusionMetric(Metric):
    """Counts at thresholds (Keras's Precision/Recall/TruePositives... arguments): ``thresholds``
    a number or a list (one result per threshold, a single one gives a number); ``top_k``: only
    each row's k highest predictions can be positive (and the default threshold is then NEG_INF,
    so all k are, as Keras); ``class_id``: only that column of y_pred counts."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        cls = type(self).__name__
        _positive_int(cls, "top_k", top_k)
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer))
                                     or class_id < 0):
            raise ValueError(f"{cls}: class_id must be None or a class index (an int >= 0), got {class_id!r}")
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = _parse_thresholds(cls, thresholds, 0.5 if top_k is None else _NEG_INF)
        super().__init__(name)

    def reset_state(self):
        t = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(t) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = np.asarray(_np(y_pred), dtype=np.float64)
        label = _labels01(self.name, _np(y_true), p)
        _check_probabilities(self.name, p)
        w = _element_weights(self.name, sample_weight, p.shape)
        if self.top_k is not None:
            if p.ndim < 2 or self.top_k > p.shape[-1]:
                raise ValueError(f"{self.name}: top_k={self.top_k} needs predictions with a class axis of at least "
                                 f"{self.top_k} entries, got shape {p.shape}")
            p = _keep_top_k(p, self.top_k)
        if self.class_id is not None:
            if p.ndim < 2 or self.class_id >= p.shape[-1]:
                raise ValueError(f"{self.name}: class_id {self.class_id} out of range for predictions of shape "
                                 f"{p.shape}")
            label, p = label[..., self.class_id], p[..., self.class_id]
            w = None if w is None else w[..., self.class_id]
        c = _confusion(p.reshape(-1), label.reshape(-1), None if w is None else w.reshape(-1), self.thresholds)
        self.tp += c[0, :, 0]
        self.fp += c[1, :, 0]
        self.tn += c[2, :, 0]
        self.fn += c[3, :, 0]

    def _out(self, values):
        return float(values[0]) if len(values) == 1 else values.copy()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


def camel(name):
    return _registry.camel_to_snake(name)


def _count_metric(cls_name, attr, doc):
    def __init__(self, thresholds=None, name=None):
        _ConfusionMetric.__init__(self, thresholds=thresholds, name=name)

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds}
    cls = type(cls_name, (_ConfusionMetric,), {
        "__doc__": doc, "name": camel(cls_name), "__init__": __init__, "get_config": get_config,
        "result": lambda self: self._out(getattr(self, attr))})
    return cls


TruePositives = _count_metric("TruePositives", "tp", "Weighted count of predictions > threshold whose label is 1.")
FalsePositives = _count_metric("FalsePositives", "fp", "Weighted count of predictions > threshold whose label is 0.")
TrueNegatives = _count_metric("TrueNegatives", "tn", "Weighted count of predictions <= threshold whose label is 0.")
FalseNegatives = _count_metric("FalseNegatives", "fn", "Weighted count of predictions <= threshold whose label is 1.")
for _c in (TruePositives, FalsePositives, TrueNegatives, FalseNegatives):
    _c.__module__ = __name__


class Precision(_ConfusionMetric):
    """tp / (tp + fp) over everything seen (0 when nothing was predicted positive), at
    ``thresholds`` (default 0.5; a list gives one value per threshold)."""
    name = "precision"

    def result(self):
        return self._out(_divide(self.tp, self.tp + self.fp))


class Recall(_ConfusionMetric):
    """tp / (tp + fn) over everything seen (0 when there was no positive label)."""
    name = "recall"

    def result(self):
        return self._out(_divide(self.tp, self.tp + self.fn))


_CURVES = {"ROC": "ROC", "roc": "ROC", "PR": "PR", "pr": "PR", "PRGAIN": "PRGAIN", "prgain": "PRGAIN"}
_SUMMATIONS = {"interpolation": "interpolation", "Interpolation": "interpolation", "minoring": "minoring",
               "Minoring": "minoring", "majoring": "majoring", "Majoring": "majoring"}


class AUC(Metric):
    """Area under the ROC, precision-recall or PR-gain curve (``curve`` 'ROC', 'PR', 'PRGAIN'),
    from counts at ``num_thresholds`` thresholds (Keras's: 0 - eps, then evenly spaced in (0, 1),
    then 1 + eps; or 0 - eps, the given ``thresholds`` sorted, 1 + eps), summed by
    ``summation_method`` 'interpolation' (trapezoids; for PR Davis & Goadrich's interpolation, as
    Keras), 'minoring' or 'majoring'. ``from_logits``: a sigmoid first.
    ``multi_label=False``: one curve over every value of y_pred (``label_weights``, one per
    column of a (batch, labels) y_pred, then weight each value by its column).
    ``multi_label=True``: y_pred (batch, labels), one curve per label (``num_labels`` of them, or
    as many as the first batch has), their AUCs averaged (weighted by ``label_weights``)."""
    name = "auc"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if curve not in _CURVES:
            raise ValueError(f"AUC: curve must be 'ROC', 'PR' or 'PRGAIN', got {curve!r}")
        if summation_method not in _SUMMATIONS:
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or 'majoring', got "
                             f"{summation_method!r}")
        if thresholds is not None:
            t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
            if not np.isfinite(t).all():
                raise ValueError(f"AUC: thresholds must be finite numbers, got {thresholds!r}")
            inner = sorted(float(v) for v in t)
            num_thresholds = len(inner) + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) or \
                    num_thresholds < 2:
                raise ValueError(f"AUC: num_thresholds must be an int > 1, got {num_thresholds!r}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        if not isinstance(multi_label, (bool, np.bool_)):
            raise ValueError(f"AUC: multi_label must be True or False, got {multi_label!r}")
        _positive_int("AUC", "num_labels", num_labels)
        if num_labels is not None and not multi_label:
            raise ValueError(f"AUC: num_labels ({num_labels}) is needed only when multi_label is True")
        if label_weights is not None:
            lw = np.asarray(_np(label_weights), dtype=np.float64)
            if lw.ndim != 1 or not lw.size or not np.isfinite(lw).all() or lw.min() < 0:
                raise ValueError(f"AUC: label_weights must be a list of non-negative numbers, one per label, got "
                                 f"{label_weights!r}")
            if num_labels is not None and len(lw) != num_labels:
                raise ValueError(f"AUC: {len(lw)} label_weights for num_labels={num_labels}")
            label_weights = lw
        self.num_thresholds = int(num_thresholds)
        self.curve, self.summation_method = _CURVES[curve], _SUMMATIONS[summation_method]
        self.multi_label, self.num_labels, self.label_weights = bool(multi_label), num_labels, label_weights
        self.from_logits = bool(from_logits)
        self._init_from_thresholds = thresholds is not None
        self._thresholds = np.array([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        self._labels = (num_labels if multi_label else 1)  # None until the first batch when multi_label
        super().__init__(name)

    @property
    def thresholds(self):
        """Every threshold, the two outer ones included (Keras's AUC.thresholds)."""
        return list(self._thresholds)

    def reset_state(self):
        if self._labels is None:
            self.tp = self.fp = self.tn = self.fn = None
        else:
            self.tp, self.fp, self.tn, self.fn = (np.zeros((self.num_thresholds, self._labels)) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = np.asarray(_np(y_pred), dtype=np.float64)
        if self.from_logits:
            p = 0.5 * (1.0 + np.tanh(0.5 * p))  # the sigmoid, without exp overflowing
        label = _labels01(self.name, _np(y_true), p)
        _check_probabilities(self.name, p)
        w = _element_weights(self.name, sample_weight, p.shape)
        lw = self.label_weights
        if self.multi_label or lw is not None:
            if p.ndim != 2 or (lw is not None and p.shape[1] != len(lw)):
                need = f"{len(lw)} labels (one per label weight)" if lw is not None else "labels"
                raise ValueError(f"{self.name}: {'multi_label=True' if self.multi_label else 'label_weights'} needs "
                                 f"y_pred of shape (batch, {need}), got {p.shape}")
        if self.multi_label:
            if self._labels is None:
                self._labels = p.shape[1]
                self.reset_state()
            elif p.shape[1] != self._labels:
                raise ValueError(f"{self.name}: y_pred has {p.shape[1]} labels (shape {p.shape}), the metric counts "
                                 f"{self._labels}")
            c = _confusion(p, label, w, self._thresholds)
        else:
            if lw is not None:  # each value weighted by its column's weight, then one curve
                w = (np.ones(p.shape) if w is None else w) * lw[None, :]
            c = _confusion(p.reshape(-1), label.reshape(-1), None if w is None else w.reshape(-1), self._thresholds)
        self.tp += c[0]
        self.fp += c[1]
        self.tn += c[2]
        self.fn += c[3]

    def _by_label(self):
        """The AUC of each label's curve, (labels,)."""
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        if self.curve == "PR" and self.summation_method == "interpolation":
            # Davis & Goadrich: between two thresholds tp and p = tp + fp move linearly, so the
            # precision tp / p integrates to slope * (dtp + intercept * log(p_a / p_b))
            dtp = tp[:-1] - tp[1:]
            p = tp + fp
            dp = p[:-1] - p[1:]
            slope = _divide(dtp, np.maximum(dp, 0))
            intercept = tp[1:] - slope * p[1:]
            ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _divide(p[:-1], np.maximum(p[1:], 0)), 1.0)
            return np.sum(_divide(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)), axis=0)
        recall = _divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide(tp, tp + fp)
        else:  # PR gain (Flach & Kull): gains relative to the share of positives, P / N
            scale = _divide(tp + fn, tn + fp)
            x = np.maximum(np.where(tp == 0, 0.0, 1.0 - scale * _divide(fn, tp)), 0.0)
            y = np.where(tp == 0, 1.0, 1.0 - scale * _divide(fp, tp))
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return np.sum((x[:-1] - x[1:]) * heights, axis=0)

    def result(self):
        if self.tp is None:  # multi_label, nothing seen and num_labels not given
            return 0.0
        auc = self._by_label()
        if not self.multi_label:
            return float(auc[0])
        if self.label_weights is None:
            return float(np.mean(auc))
        return float(_divide(np.sum(auc * self.label_weights), np.sum(self.label_weights)))

    def get_config(self):
        config = {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class FBetaScore(Metric):
    """F-beta over classes, from 0/1 targets (one-hot or multi-label rows) and per-class scores
    (Keras 3's FBetaScore): a row's predicted classes are its maximum (``threshold=None``; an
    all-zero row predicts nothing) or the scores > ``threshold`` (0 < threshold <= 1);
    precision = tp / (tp + fp + eps), recall = tp / (tp + fn + eps),
    F = (1 + b^2) p r / (b^2 p + r + eps) per class; ``average`` None (an array, one per class),
    'micro' (from the summed counts), 'macro' (the mean) or 'weighted' (by each class's true
    count). ``dtype`` None, 'float32' or 'float64': the result's type."""
    name = "fbeta_score"

    def __init__(self, average=None, beta=1.0, threshold=None, name=None, dtype=None):
        cls = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{cls}: average must be None, 'micro', 'macro' or 'weighted', got {average!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
            raise ValueError(f"{cls}: beta must be a number > 0, got {beta!r}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0 < threshold <= 1):
            raise ValueError(f"{cls}: threshold must be None or a number with 0 < threshold <= 1, got {threshold!r}")
        if dtype not in (None, "float32", "float64"):
            raise ValueError(f"{cls}: dtype must be None, 'float32' or 'float64', got {dtype!r}")
        self.average, self.beta, self.threshold, self.dtype = average, float(beta), threshold, dtype
        super().__init__(name)

    def reset_state(self):
        self.tp = self.fp = self.fn = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = np.asarray(_np(y_pred), dtype=np.float64)
        if p.ndim != 2:
            raise ValueError(f"{self.name}: expected 0/1 targets and scores of shape (batch, classes), got y_pred of "
                             f"shape {p.shape}")
        label = _labels01(self.name, _np(y_true), p)
        if _shape(_np(y_true)) != p.shape:
            raise ValueError(f"{self.name}: y_true has shape {_shape(_np(y_true))} but y_pred has {p.shape}; one "
                             "0/1 column per class is needed")
        _check_probabilities(self.name, p)
        w = _element_weights(self.name, sample_weight, p.shape, per_sample_only=True)
        if self.threshold is None:  # the row's maximum, unless the row is all zeros
            p = ((p >= p.max(axis=-1, keepdims=True)) & (np.abs(p) > 1e-9)).astype(np.float64) if p.size else p
            thr = [0.5]
        else:
            thr = [float(self.threshold)]
        c = _confusion(p, label, w, thr)[:, 0, :]  # (4, classes)
        if self.tp is None:
            self.tp, self.fp, self.fn = (np.zeros(p.shape[1]) for _ in range(3))
        elif len(self.tp) != p.shape[1]:
            raise ValueError(f"{self.name}: {p.shape[1]} classes in this batch, {len(self.tp)} before")
        self.tp += c[0]
        self.fp += c[1]
        self.fn += c[3]

    def result(self):
        cast = np.float64 if self.dtype is None else np.dtype(self.dtype).type
        if self.tp is None:
            return cast(0.0) if self.average else np.zeros(0, dtype=cast)
        tp, fp, fn = self.tp, self.fp, self.fn
        support = tp + fn  # each class's weighted count of true labels
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        b2 = self.beta ** 2
        f = (1 + b2) * precision * recall / (b2 * precision + recall + _EPSILON)
        if self.average == "weighted":
            return float(cast(np.sum(f * support / (support.sum() + _EPSILON))))
        if self.average is not None:
            return float(cast(np.mean(f)))
        return f.astype(cast)

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold,
                "dtype": self.dtype}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1: 2 p r / (p + r + eps) (Keras 3's F1Score)."""
    name = "f1_score"

    def __init__(self, average=None, threshold=None, name=None, dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


class TopKCategoricalAccuracy(Metric):
    """Whether the true class (one-hot rows) is among the ``k`` highest scores; ties at the k-th
    score count as in (TensorFlow's in_top_k). Counted by the C++ op _C.top_k_hits."""
    name = "top_k_categorical_accuracy"

    def __init__(self, k=5, name=None):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"{type(self).__name__}: k must be a positive int, got {k!r}")
        self.k = k
        super().__init__(name)

    def _true_ids(self, y_true, y_pred):
        if _shape(y_true) != _shape(y_pred):
            raise ValueError(f"{self.name}: y_true has shape {_shape(y_true)} but y_pred has {_shape(y_pred)}; "
                             "one-hot rows are needed (SparseTopKCategoricalAccuracy takes class ids)")
        return y_true.argmax(-1)

    def per_sample(self, y_true, y_pred):
        if np.ndim(y_pred) < 2:
            raise ValueError(f"{self.name}: y_pred needs a class axis, got shape {_shape(y_pred)}")
        ids = np.asarray(self._true_ids(y_true, y_pred), dtype=np.int64)
        if len(y_pred) == 0:
            return np.zeros(0)
        p = np.ascontiguousarray(y_pred, dtype=np.float64).reshape(-1, y_pred.shape[-1])
        hit = np.asarray(_C.top_k_hits(_C.tensor(p, dtype=_C.float64), ids.reshape(-1).tolist(), self.k))
        return hit.reshape(len(y_pred), -1).mean(-1)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    name = "sparse_top_k_categorical_accuracy"

    def _true_ids(self, y_true, y_pred):
        return _class_ids(self.name, y_true, y_pred)


_STREAMING = (TruePositives, FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall, AUC, FBetaScore,
              F1Score, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy)
_ALL.update({c.name: c for c in _STREAMING})
_CLASSES.update({c.__name__: c for c in _STREAMING})


# ---------------------------------------------------------------- trackers (custom train_step, issue 10)
class Mean(Metric):
    """Keras's ``metrics.Mean``: the running (weighted) mean of the values given to
    ``update_state(values, sample_weight=None)`` — numbers, arrays or tensors (every element
    counts; ``sample_weight`` broadcasts against ``values``). A custom ``train_step`` tracks its
    losses with it; fit resets a model's trackers every epoch. A NaN value makes the mean NaN."""

    name = "mean"

    def update_state(self, values, sample_weight=None):
        v = _np(values).astype(np.float64)
        if sample_weight is None:
            w = np.ones_like(v)
        else:
            w = _np(sample_weight).astype(np.float64)
            try:
                v, w = np.broadcast_arrays(v, w)
            except ValueError:
                raise ValueError(f"{self.name}: sample_weight of shape {w.shape} does not broadcast against values "
                                 f"of shape {v.shape}") from None
        self.total += float(np.sum(v * w))
        self.count += float(np.sum(w))


class Sum(Metric):
    """Keras's ``metrics.Sum``: the running (weighted) sum of the values given to ``update_state``."""

    name = "sum"

    def update_state(self, values, sample_weight=None):
        v = _np(values).astype(np.float64)
        w = 1.0 if sample_weight is None else _np(sample_weight).astype(np.float64)
        self.total += float(np.sum(v * w))

    def result(self):
        return self.total


_CLASSES.update(Mean=Mean, Sum=Sum)
