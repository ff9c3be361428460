"""Losses, with Keras's names and argument order: ``loss(y_true, y_pred, sample_weight=None)``.

Each loss is one fused C++ op (cpp/src/ops/loss.cpp): one graph node, one backward kernel.
The result is Keras's "sum_over_batch_size" reduction: the per-sample loss l_i (the mean over
the last axis; crossentropies sum over the class axis) weighted and averaged over the batch,
``sum_i w_i l_i / batch``. ``reduction='sum'`` or ``'none'`` (per-sample values) as in Keras.

    model.compile(loss='categorical_crossentropy', ...)       # by name
    loss_fn = CategoricalCrossentropy(from_logits=True)       # as an object
    loss = loss_fn(y_true, logits); loss.backward()

NumPy targets are converted to tensors of the prediction's dtype. The module-level functions
(``mean_squared_error(y_true, y_pred)``, ...) return per-sample losses as Keras's do.
A loss written as Keras writes it, ``fn(y_true, y_pred)`` returning per-sample (or per-element)
values built with pydl ops, becomes a Loss through ``LossFunctionWrapper`` (``compile`` does
this): sample weights multiply its values outside ``fn``, then the reduction applies.
"""
import numpy as np

from . import _C
from . import _registry


def _as_pred(y_pred):
    if isinstance(y_pred, _C.Tensor):
        return y_pred
    a = np.asarray(y_pred)
    return _C.tensor(a, dtype=_C.float64 if a.dtype == np.float64 else _C.float32)


def _as_target(y_true, y_pred):
    if isinstance(y_true, _C.Tensor):
        return y_true if y_true.dtype == y_pred.dtype else y_true.to(y_pred.dtype)
    return _C.tensor(np.asarray(y_true), dtype=y_pred.dtype)


class Loss:
    """The base: ``__call__(y_true, y_pred, sample_weight=None)`` -> a scalar tensor (or per-sample
    values with reduction='none'). Subclasses implement ``call(y_true, y_pred, sample_weight)``."""

    canonical_name = None  # the Keras function name ('mean_squared_error', ...)

    def __init__(self, reduction="sum_over_batch_size", name=None):
        if reduction not in ("sum_over_batch_size", "mean", "sum", "none", None):
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduction!r}; valid values: "
                             "'sum_over_batch_size', 'sum', 'none'")
        self.reduction = "none" if reduction is None else reduction
        self.name = name or self.canonical_name

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = _as_pred(y_pred)
        return self.call(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred, sample_weight):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class MeanSquaredError(Loss):
    """mean((y_pred - y_true)^2) over the last axis, per sample."""
    canonical_name = "mean_squared_error"

    def call(self, y_true, y_pred, sample_weight):
        return _C.mse_loss(y_pred, y_true, sample_weight=sample_weight, reduction=self.reduction)


class MeanAbsoluteError(Loss):
    """mean(|y_pred - y_true|) over the last axis, per sample."""
    canonical_name = "mean_absolute_error"

    def call(self, y_true, y_pred, sample_weight):
        return _C.mae_loss(y_pred, y_true, sample_weight=sample_weight, reduction=self.reduction)


class LossFunctionWrapper(Loss):
    """A Keras-style loss function ``fn(y_true, y_pred, **kwargs)`` -> per-sample (or per-element)
    values, as a Loss named after the function. y_true reaches ``fn`` as a tensor of y_pred's dtype.
    Sample weights (one per sample) multiply the values outside ``fn``; then, as Keras's
    ``reduce_weighted_values``: 'sum_over_batch_size' = sum of the weighted values / their count,
    'sum' = their sum, 'none' = the weighted values. A scalar from ``fn`` is scaled by the mean
    weight (Keras broadcasts it over the weights)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be callable, got {type(fn).__name__}")
        super().__init__(reduction=reduction, name=name or getattr(fn, "__name__", type(fn).__name__))
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred, sample_weight):
        values = self.fn(_as_target(y_true, y_pred), y_pred, **self.fn_kwargs)
        if not isinstance(values, _C.Tensor):
            raise TypeError(f"loss {self.name}: the function returned {type(values).__name__}, not a pydl Tensor; "
                            "compute it from y_pred with pydl ops (pydl.mean, pydl.square, ...) so it can be "
                            "differentiated")
        if sample_weight is not None:
            if isinstance(sample_weight, _C.Tensor):
                w = sample_weight.detach()
                w = w.to(values.dtype) if w.dtype != values.dtype else w
            else:
                w = _C.tensor(np.asarray(sample_weight, dtype=np.float64), dtype=values.dtype)
            n = w.numel()
            if w.dim() == 0:  # one weight for every sample
                values = values * w
            elif values.dim() == 0:
                values = values * w.mean()
            else:
                if values.shape[0] != n or not (w.dim() <= 1 or (w.dim() == 2 and w.shape[1] == 1)):
                    raise ValueError(f"loss {self.name}: sample_weight has shape {tuple(w.shape)} but the function "
                                     f"returned shape {tuple(values.shape)}; expected one weight per sample "
                                     "(the values' first axis)")
                values = values * w.reshape([n] + [1] * (values.dim() - 1))
        if self.reduction == "none" or values.dim() == 0:
            return values
        total = values.sum()
        if self.reduction == "sum":
            return total
        return total / float(values.numel()) if values.numel() else total  # Keras: divide_no_nan

    def get_config(self):
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn)), **self.fn_kwargs}


def _check_axis(owner, axis):
    # Keras's axis argument: pydl's crossentropies run over the last axis only
    if axis not in (-1, None):
        raise ValueError(f"{owner}: axis={axis!r} is not supported; pydl computes crossentropy over the last axis "
                         "(axis=-1): move the class axis last first (pydl.permute)")


class _Crossentropy(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0, reduction="sum_over_batch_size", name=None, *,
                 axis=-1):
        super().__init__(reduction=reduction, name=name)
        _check_axis(type(self).__name__, axis)
        if not 0.0 <= float(label_smoothing) <= 1.0:
            raise ValueError(f"{type(self).__name__}: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_Crossentropy):
    """-(t log p + (1 - t) log(1 - p)), p clipped to [1e-7, 1 - 1e-7]; from_logits=True uses the
    stable max(x, 0) - x t + log(1 + e^-|x|). label_smoothing s: t -> t (1 - s) + s / 2."""
    canonical_name = "binary_crossentropy"

    def call(self, y_true, y_pred, sample_weight):
        if self.label_smoothing:
            s = self.label_smoothing
            y_true = _as_target(y_true, y_pred) * (1.0 - s) + 0.5 * s
        return _C.binary_crossentropy(y_pred, y_true, from_logits=self.from_logits, sample_weight=sample_weight,
                                      reduction=self.reduction)


class CategoricalCrossentropy(_Crossentropy):
    """-sum_c t_c log p_c against one-hot targets; from_logits=True fuses a stable log-softmax.
    Integer labels need SparseCategoricalCrossentropy (or pydl.utils.to_categorical).
    label_smoothing s: t -> t (1 - s) + s / classes."""
    canonical_name = "categorical_crossentropy"

    def call(self, y_true, y_pred, sample_weight):
        if self.label_smoothing:
            s = self.label_smoothing
            y_true = _as_target(y_true, y_pred) * (1.0 - s) + s / y_pred.shape[-1]
        return _C.categorical_crossentropy(y_pred, y_true, from_logits=self.from_logits,
                                           sample_weight=sample_weight, reduction=self.reduction)


class SparseCategoricalCrossentropy(Loss):
    """Categorical crossentropy against integer class ids (shape (batch,) or (batch, 1)).
    ignore_class k (Keras): positions labelled k contribute nothing; with the default reduction
    the sum is divided by the number of the other positions (Keras: by valid + 1e-7)."""
    canonical_name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name=None, *, ignore_class=None,
                 axis=-1):
        super().__init__(reduction=reduction, name=name)
        _check_axis(type(self).__name__, axis)
        if ignore_class is not None and (isinstance(ignore_class, bool) or int(ignore_class) != ignore_class):
            raise ValueError(f"SparseCategoricalCrossentropy: ignore_class must be an integer class id or None, "
                             f"got {ignore_class!r}")
        self.from_logits = bool(from_logits)
        self.ignore_class = None if ignore_class is None else int(ignore_class)

    def call(self, y_true, y_pred, sample_weight):
        if self.ignore_class is None:
            return _C.sparse_categorical_crossentropy(y_pred, y_true, from_logits=self.from_logits,
                                                      sample_weight=sample_weight, reduction=self.reduction)
        return self._call_ignoring(y_true, y_pred, sample_weight)

    def _call_ignoring(self, y_true, y_pred, sample_weight):
        # per-position losses with the ignored labels replaced by class 0, then masked out
        y = np.asarray(y_true.detach().numpy() if isinstance(y_true, _C.Tensor) else y_true, dtype=np.float64)
        lead = tuple(y_pred.shape[:-1])
        if y.shape == lead + (1,):
            y = y.reshape(lead)
        valid = y != self.ignore_class
        per = _C.sparse_categorical_crossentropy(y_pred, np.where(valid, y, 0.0), from_logits=self.from_logits,
                                                 reduction="none")
        m = valid.astype(np.float64)
        if sample_weight is not None:
            w = np.asarray(sample_weight.detach().numpy() if isinstance(sample_weight, _C.Tensor) else sample_weight,
                           dtype=np.float64).reshape(-1)
            if w.size == 1:
                w = np.full(lead[0], w[0])
            if w.size != lead[0]:
                raise ValueError(f"sparse_categorical_crossentropy: sample_weight has shape {np.shape(sample_weight)} "
                                 f"but pred has shape {tuple(y_pred.shape)}; expected one weight per sample, shape "
                                 f"({lead[0]},)")
            m = m * w.reshape((-1,) + (1,) * (m.ndim - 1))
        values = per * _C.tensor(m, dtype=per.dtype)
        if self.reduction == "none":
            return values
        total = values.sum()
        if self.reduction == "sum":
            return total
        return total / (float(valid.sum()) + 1e-7)  # Keras: mask *= total / (valid + epsilon), then / total

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "ignore_class": self.ignore_class}


# ---------------------------------------------------------------- Keras's functions: per-sample values
def mean_squared_error(y_true, y_pred):
    return MeanSquaredError(reduction="none")(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError(reduction="none")(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryCrossentropy(from_logits, label_smoothing, reduction="none", axis=axis)(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return CategoricalCrossentropy(from_logits, label_smoothing, reduction="none", axis=axis)(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    return SparseCategoricalCrossentropy(from_logits, reduction="none", ignore_class=ignore_class,
                                         axis=axis)(y_true, y_pred)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy,
                                     CategoricalCrossentropy, SparseCategoricalCrossentropy)}
_NAMES = {"mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
          "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
          "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
          "sparse_categorical_crossentropy": SparseCategoricalCrossentropy}
_FUNCTIONS = {mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
              binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
              sparse_categorical_crossentropy: SparseCategoricalCrossentropy}


# ---------------------------------------------------------------- masked loss (issue 10: the recommender)
def _observed(owner, t, mask, mask_value):
    """The 0/1 array of observed entries of the target array t: ``mask`` (True = observed) or,
    without it, the entries that are not ``mask_value`` (NaN allowed as the missing marker)."""
    if mask is not None:
        m = mask.detach().numpy() if isinstance(mask, _C.Tensor) else np.asarray(mask)
        if m.shape != t.shape:
            raise ValueError(f"{owner}: the mask has shape {m.shape} but y_true has shape {t.shape}; give one "
                             "entry per rating (True = observed)")
        m = m.astype(bool)
    elif mask_value is not None and np.isnan(mask_value):
        m = ~np.isnan(t)
    else:
        m = t != mask_value
    if np.isnan(t[m]).any():
        raise ValueError(f"{owner}: y_true holds NaN at observed entries (shape {t.shape}); mark missing entries "
                         f"with the mask or mask_value, never with a NaN the loss would see")
    return m


def masked_mean_squared_error(y_true, y_pred, mask=None, mask_value=0.0):
    """Per sample, the mean of (y_pred - y_true)² over the observed entries only:
    Σ_j m_j (p_j - t_j)² / Σ_j m_j (0 for a sample with nothing observed). Missing entries (``mask``
    False, or y_true == ``mask_value`` when no mask is given) contribute nothing to the loss or
    its gradient: the recommender autoencoder's loss on a user-by-item rating matrix."""
    y_pred = _as_pred(y_pred)
    t = y_true.detach().numpy() if isinstance(y_true, _C.Tensor) else np.asarray(y_true, dtype=np.float64)
    if tuple(t.shape) != tuple(y_pred.shape):
        raise ValueError(f"masked_mean_squared_error: y_true has shape {tuple(t.shape)} but y_pred has shape "
                         f"{tuple(y_pred.shape)}")
    m = _observed("masked_mean_squared_error", t, mask, mask_value)
    dt = y_pred.dtype.name
    weight = _C.tensor(m.astype(dt), dtype=y_pred.dtype)
    target = _C.tensor(np.where(m, t, 0).astype(dt), dtype=y_pred.dtype)
    count = m.reshape(m.shape[0], -1).sum(axis=1) if m.ndim > 1 else m.astype(np.int64)
    inv = _C.tensor(np.where(count > 0, 1.0 / np.maximum(count, 1), 0.0).astype(dt), dtype=y_pred.dtype)
    diff = (y_pred - target) * weight
    sq = diff * diff
    if sq.dim() > 1:
        sq = sq.reshape(sq.shape[0], -1).sum(axis=1)
    return sq * inv


class MaskedMeanSquaredError(LossFunctionWrapper):
    """``masked_mean_squared_error`` as a Loss for ``compile``: entries of y_true equal to
    ``mask_value`` (default 0, "not rated"; NaN works too) are missing. The per-sample values are
    averaged over the batch as every Keras loss ('sum_over_batch_size'); sample weights apply."""

    canonical_name = "masked_mean_squared_error"

    def __init__(self, mask_value=0.0, reduction="sum_over_batch_size", name="masked_mean_squared_error"):
        if not isinstance(mask_value, (int, float)) or isinstance(mask_value, bool):
            raise TypeError(f"MaskedMeanSquaredError: mask_value must be a number, got {mask_value!r}")
        super().__init__(masked_mean_squared_error, reduction=reduction, name=name, mask_value=float(mask_value))
        self.mask_value = float(mask_value)

    def get_config(self):
        return {"reduction": self.reduction, "name": self.name, "mask_value": self.mask_value}


_CLASSES["MaskedMeanSquaredError"] = MaskedMeanSquaredError
_NAMES.update(masked_mean_squared_error=MaskedMeanSquaredError, masked_mse=MaskedMeanSquaredError)
_FUNCTIONS[masked_mean_squared_error] = MaskedMeanSquaredError


def get(identifier):
    """A loss from a Keras name ('mse', 'categorical_crossentropy', ...) or class name, a serialized
    dict, a Loss instance or a Keras-style function ``fn(y_true, y_pred)`` (returned as is;
    ``compile`` wraps it in ``LossFunctionWrapper``, which applies sample weights outside it).

    Names give a Loss object (reducing to a scalar, ready for ``compile``); Keras's
    functions (``pydl.losses.mse``) map to their Loss class as well. None gives None."""
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier.lower()) or _CLASSES.get(identifier)
        if cls is None:
            obj = _registry.get_registered_object(identifier)
            if obj is not None:  # a registered custom loss: a class gives an instance
                return obj() if isinstance(obj, type) else obj
            raise ValueError(f"Unknown loss '{identifier}'. Valid names: {', '.join(sorted(_NAMES))} "
                             f"(or a class name: {', '.join(sorted(_CLASSES))}; a custom loss needs "
                             "@pydl.saving.register_serializable())")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss {identifier!r}: give a name ({', '.join(sorted(_NAMES))}), "
                     "a Loss or a callable")


def canonical_name(loss):
    """The Keras function name of a loss name or object ('mse' -> 'mean_squared_error'); None if unknown."""
    if isinstance(loss, str):
        cls = _NAMES.get(loss.lower()) or _CLASSES.get(loss)
        return cls.canonical_name if cls else None
    if isinstance(loss, Loss):
        return loss.canonical_name
    cls = _FUNCTIONS.get(loss) if callable(loss) else None
    return cls.canonical_name if cls else None


_FUSABLE = (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)


def get_from_logits(loss):
    """The from-logits form of a crossentropy: what a model uses when its last activation is the
    matching softmax / sigmoid (stable, one pass cheaper). ``loss`` is a name
    ('categorical_crossentropy', ...) or a crossentropy object, whose every other argument
    (label_smoothing, reduction, name) the result keeps."""
    if isinstance(loss, Loss):
        if type(loss) not in _FUSABLE:  # a subclass may compute something else in call()
            raise ValueError(f"get_from_logits: {loss!r} is not one of pydl's crossentropies; valid: "
                             "BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy")
        return type(loss).from_config({**loss.get_config(), "from_logits": True})
    key = canonical_name(loss) if not isinstance(loss, str) else (canonical_name(loss) or loss)
    cls = _NAMES.get(key)
    if cls not in _FUSABLE:
        raise ValueError(f"get_from_logits: {loss!r} is not a crossentropy; valid: binary_crossentropy, "
                         "categorical_crossentropy, sparse_categorical_crossentropy")
    return cls(from_logits=True)


def serialize(loss):
    """``{"class_name", "config"}`` of a Loss; a custom loss (a Loss subclass or a plain
    function) also carries the registered name that finds it again."""
    return _registry.serialize(loss, _CLASSES)


def deserialize(config, custom_objects=None):
    """A Loss (or a custom loss function) from ``serialize``'s dict; custom ones are found in
    ``custom_objects`` or the registry."""
    return _registry.deserialize("loss", _CLASSES, config, custom_objects)


__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "mean_squared_error", "mean_absolute_error", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "mse", "mae", "get", "canonical_name",
           "get_from_logits", "serialize", "deserialize"]
