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
# at every threshold; result() reads the counts of everything seen since reset_state(). A
# prediction counts as positive at threshold t when it is > t (Keras's rule).
_EPSILON = 1e-7  # Keras's backend epsilon: AUC's outer thresholds, F1's denominators


def _probabilities(name, y_true, y_pred, sample_weight):
    """y_true as 0/1 in y_pred's shape, y_pred checked to be probabilities, and one weight per
    element (a sample's weight on every one of its values), all flattened."""
    y_true = _same_shape(name, np.asarray(y_true), y_pred)
    if y_true.dtype != np.bool_:
        bad = ~((y_true == 0) | (y_true == 1))
        if bad.any():
            raise ValueError(f"{name}: y_true must hold 0/1 labels (binary targets or one-hot rows), found "
                             f"{float(y_true.reshape(-1)[np.argmax(bad.reshape(-1))]):g}; for class ids use one-hot rows "
                             "(pydl.utils.to_categorical)")
    p = np.asarray(y_pred, dtype=np.float64)
    if not np.isfinite(p).all() or p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"{name}: predictions must be probabilities in [0, 1], got values in "
                         f"[{np.nanmin(p)}, {np.nanmax(p)}]; a model ending without sigmoid/softmax gives logits "
                         "(AUC(from_logits=True) takes those)")
    n = len(p)
    if sample_weight is None:
        w = np.ones(p.shape)
    else:
        sw = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if len(sw) != n:
            raise ValueError(f"{name}: sample_weight has {len(sw)} entries for {n} samples")
        w = np.broadcast_to(sw.reshape((n,) + (1,) * (p.ndim - 1)), p.shape)
    return y_true.astype(bool), p, w


def _counts_over_thresholds(positive, pred, weight, thresholds):
    """(tp, fp, tn, fn) at each threshold (ascending), weighted: one pass with a binary search
    per value (the number of thresholds a value is above), then suffix sums."""
    k = np.searchsorted(thresholds, pred.reshape(-1), side="left")  # thresholds < pred
    pos, w = positive.reshape(-1), weight.reshape(-1)
    t = len(thresholds)
    hist_pos = np.bincount(k[pos], weights=w[pos], minlength=t + 1)
    hist_neg = np.bincount(k[~pos], weights=w[~pos], minlength=t + 1)
    # value above threshold j  <=>  k > j
    tp = np.cumsum(hist_pos[::-1])[::-1][1:]
    fp = np.cumsum(hist_neg[::-1])[::-1][1:]
    return tp, fp, hist_neg.sum() - fp, hist_pos.sum() - tp


def _thresholds_arg(name, thresholds, default=0.5):
    """(whether result() is one number, the thresholds ascending): None means [default]; a list
    gives one value per threshold (ascending, distinct)."""
    scalar = thresholds is None or np.ndim(thresholds) == 0
    t = np.atleast_1d(np.asarray(default if thresholds is None else thresholds, dtype=np.float64))
    if t.ndim != 1 or not t.size or not np.isfinite(t).all() or t.min() < 0 or t.max() > 1:
        raise ValueError(f"{name}: thresholds must be numbers in [0, 1], got {thresholds!r}")
    if np.any(np.diff(t) <= 0):
        raise ValueError(f"{name}: thresholds must be distinct and ascending, got {thresholds!r}")
    return scalar, t


def _divide(a, b):
    """a / b, 0 where b is 0 (Keras's divide_no_nan)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


class _ConfusionMetric(Metric):
    """Counts at thresholds, optionally for one class (``class_id``: column of y_pred) or only the
    ``top_k`` predictions of each row (the others count as negative), as Keras's."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        self._scalar, self._thresholds = _thresholds_arg(type(self).__name__, thresholds)
        self.thresholds = thresholds
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"{type(self).__name__}: top_k must be None or a positive int, got {top_k!r}")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, int) or class_id < 0):
            raise ValueError(f"{type(self).__name__}: class_id must be None or a class index, got {class_id!r}")
        self.top_k, self.class_id = top_k, class_id
        super().__init__(name)

    def reset_state(self):
        t = len(self._thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(t) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        positive, p, w = _probabilities(self.name, _np(y_true), _np(y_pred), sample_weight)
        if self.top_k is not None:
            if p.ndim < 2:
                raise ValueError(f"{self.name}: top_k needs predictions with a class axis, got shape {p.shape}")
            kth = -np.sort(-p, axis=-1)[..., min(self.top_k, p.shape[-1]) - 1:min(self.top_k, p.shape[-1])]
            p = np.where(p >= kth, p, -1.0)  # outside the top k: never above a threshold
        if self.class_id is not None:
            if p.ndim < 2 or self.class_id >= p.shape[-1]:
                raise ValueError(f"{self.name}: class_id {self.class_id} out of range for predictions of shape "
                                 f"{p.shape}")
            positive, p, w = positive[..., self.class_id], p[..., self.class_id], w[..., self.class_id]
        for acc, new in zip((self.tp, self.fp, self.tn, self.fn),
                            _counts_over_thresholds(positive, p, w, self._thresholds)):
            acc += new

    def _out(self, values):
        return float(values[0]) if self._scalar else values.copy()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.thresholds, "top_k": self.top_k, "class_id": self.class_id}


def camel(name):
    return _registry.camel_to_snake(name)


def _count_metric(cls_name, attr, doc):
    def __init__(self, thresholds=None, name=None):
        _ConfusionMetric.__init__(self, thresholds=thresholds, name=name)

    def get_config(self):
        return {"name": self.name, "thresholds": self.thresholds}
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


class AUC(_ConfusionMetric):
    """Area under the ROC or precision-recall curve from counts at ``num_thresholds`` thresholds
    (Keras's: 0 - eps, then evenly spaced, then 1 + eps), summed by 'interpolation' (trapezoids
    for ROC; for PR Davis & Goadrich's interpolation, as Keras), 'minoring' or 'majoring'.
    ``from_logits``: apply a sigmoid first. One curve over all labels (multi_label=False)."""
    name = "auc"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds < 2:
            raise ValueError(f"AUC: num_thresholds must be an int > 1, got {num_thresholds!r}")
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or 'majoring', got "
                             f"{summation_method!r}")
        if multi_label or num_labels is not None or label_weights is not None:
            raise NotImplementedError("AUC: multi_label, num_labels and label_weights are not implemented yet "
                                      "(one curve over all labels only)")
        self.num_thresholds, self.curve, self.summation_method = num_thresholds, str(curve).upper(), summation_method
        self.from_logits, self.multi_label = bool(from_logits), False
        if thresholds is not None:
            inner = sorted(float(t) for t in np.atleast_1d(thresholds))
            self.num_thresholds = len(inner) + 2
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._given_thresholds = thresholds
        Metric.__init__(self, name)
        self._thresholds = np.array([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        self._scalar, self.top_k, self.class_id, self.thresholds = True, None, None, thresholds
        self.reset_state()

    def reset_state(self):
        if hasattr(self, "_thresholds"):
            _ConfusionMetric.reset_state(self)

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = _np(y_pred)
        if self.from_logits:
            p = 1.0 / (1.0 + np.exp(-np.asarray(p, dtype=np.float64)))
        positive, p, w = _probabilities(self.name, _np(y_true), p, sample_weight)
        for acc, new in zip((self.tp, self.fp, self.tn, self.fn),
                            _counts_over_thresholds(positive, p, w, self._thresholds)):
            acc += new

    def _sum(self, x, y):
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def result(self):
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        if self.curve == "ROC":
            return self._sum(_divide(fp, fp + tn), _divide(tp, tp + fn))
        if self.summation_method == "interpolation":  # Davis & Goadrich: precision between two points
            dtp = tp[:-1] - tp[1:]
            p = tp + fp
            dp = p[:-1] - p[1:]
            slope = _divide(dtp, np.maximum(dp, 0))
            intercept = tp[1:] - slope * p[1:]
            ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _divide(p[:-1], np.maximum(p[1:], 0)), 1.0)
            return float(np.sum(_divide(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))))
        return self._sum(_divide(tp, tp + fn), _divide(tp, tp + fp))

    def get_config(self):
        return {"name": self.name, "num_thresholds": self.num_thresholds,
                "curve": self.curve, "summation_method": self.summation_method,
                "thresholds": self._given_thresholds, "from_logits": self.from_logits}


class F1Score(Metric):
    """F1 over classes, from one-hot targets and per-class scores (Keras 3's F1Score): a row's
    predicted classes are its maximum (``threshold=None``) or the scores > ``threshold``;
    precision = tp / (tp + fp + eps), recall = tp / (tp + fn + eps), F1 = 2 p r / (p + r + eps)
    per class; ``average`` None (an array, one per class), 'micro' (from the summed counts),
    'macro' (the mean) or 'weighted' (by each class's true count)."""
    name = "f1_score"

    def __init__(self, average=None, threshold=None, name=None, dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"F1Score: average must be None, 'micro', 'macro' or 'weighted', got {average!r}")
        if threshold is not None and not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
            raise ValueError(f"F1Score: threshold must be None or a number in [0, 1], got {threshold!r}")
        self.average, self.threshold = average, threshold
        self._c = None
        super().__init__(name)

    def reset_state(self):
        self.tp = self.fp = self.fn = self.support = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        positive, p, w = _probabilities(self.name, _np(y_true), _np(y_pred), sample_weight)
        if p.ndim != 2:
            raise ValueError(f"{self.name}: expected one-hot targets and scores of shape (batch, classes), got "
                             f"{p.shape}")
        if self.threshold is None:
            pred = p == p.max(axis=-1, keepdims=True)
        else:
            pred = p > self.threshold
        if self.tp is None:
            self.tp, self.fp, self.fn, self.support = (np.zeros(p.shape[1]) for _ in range(4))
        elif len(self.tp) != p.shape[1]:
            raise ValueError(f"{self.name}: {p.shape[1]} classes in this batch, {len(self.tp)} before")
        self.tp += (w * (pred & positive)).sum(0)
        self.fp += (w * (pred & ~positive)).sum(0)
        self.fn += (w * (~pred & positive)).sum(0)
        self.support += (w * positive).sum(0)

    def result(self):
        if self.tp is None:
            return 0.0 if self.average else np.zeros(0)
        tp, fp, fn = self.tp, self.fp, self.fn
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        f1 = 2 * precision * recall / (precision + recall + _EPSILON)
        if self.average == "micro":
            return float(f1)
        if self.average == "macro":
            return float(np.mean(f1))
        if self.average == "weighted":
            return float(np.sum(f1 * self.support) / max(self.support.sum(), _EPSILON))
        return f1

    def get_config(self):
        return {**super().get_config(), "average": self.average, "threshold": self.threshold}


class TopKCategoricalAccuracy(Metric):
    """Whether the true class (one-hot rows) is among the ``k`` highest scores; ties at the k-th
    score count as in (TensorFlow's in_top_k)."""
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
        ids = self._true_ids(y_true, y_pred)
        true_score = np.take_along_axis(y_pred, ids[..., None], axis=-1)
        hit = (y_pred > true_score).sum(-1) < self.k
        return hit.reshape(len(y_pred), -1).mean(-1)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    name = "sparse_top_k_categorical_accuracy"

    def _true_ids(self, y_true, y_pred):
        return _class_ids(self.name, y_true, y_pred)


_STREAMING = (TruePositives, FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall, AUC, F1Score,
              TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy)
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
