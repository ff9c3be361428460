"""Preparing sequences for recurrent networks, with Keras's names and semantics (issue 9).

- :func:`pad_sequences`: lists of token ids of different lengths -> one (N, maxlen) array.
- :func:`timeseries_dataset_from_array`: a series -> windows of ``sequence_length`` steps and
  their targets, as a ``pydl.data.Sequence`` of batches that ``fit`` reads.
- :func:`make_windows`: the same as two arrays, (inputs, targets): the next value(s) after each
  window (the course's price forecast).
- :class:`MinMaxScaler` / :class:`StandardScaler`: scale a series with statistics fitted on the
  training span only, and ``inverse_transform`` the predictions back.
"""
import numbers

import numpy as np

from ..data.sequence import Sequence


def _int_arg(name, arg, value, minimum=0, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: {arg} must be an int >= {minimum}, got {value!r}")
    return int(value)


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Keras's ``pad_sequences``: each sequence (a list of ids, or of feature vectors) cut or
    padded to ``maxlen`` (default: the longest), giving an array (N, maxlen, *features).

    padding 'pre' puts the ``value``s before the sequence (Keras's default: the last step, which
    a many-to-one RNN reads, is real data), 'post' after it; truncating 'pre' drops the start of a
    longer sequence, 'post' its end.
    """
    name = "pad_sequences"
    if isinstance(sequences, np.ndarray) and sequences.ndim >= 2:
        sequences = list(sequences)
    if not hasattr(sequences, "__len__"):
        raise TypeError(f"{name}: sequences must be a list of sequences, got {type(sequences).__name__}")
    for arg, v in (("padding", padding), ("truncating", truncating)):
        if v not in ("pre", "post"):
            raise ValueError(f"{name}: {arg} must be 'pre' or 'post', got {v!r}")
    maxlen = _int_arg(name, "maxlen", maxlen, 0, allow_none=True)
    arrays = []
    for i, s in enumerate(sequences):
        if isinstance(s, (str, bytes)) or not hasattr(s, "__len__"):
            raise ValueError(f"{name}: sequence {i} is {s!r}, not a sequence (a list of ids or feature vectors)")
        arrays.append(np.asarray(s))
    features = {a.shape[1:] for a in arrays if len(a)}
    if len(features) > 1:
        raise ValueError(f"{name}: the sequences' steps have different shapes {sorted(features)}")
    feature_shape = features.pop() if features else ()
    if maxlen is None:
        maxlen = max((len(a) for a in arrays), default=0)
    dt = np.dtype(dtype)
    if np.issubdtype(dt, np.integer) and (not np.isfinite(value) or value != int(value)):
        raise ValueError(f"{name}: value {value!r} cannot be stored in dtype {dt}")
    out = np.full((len(arrays), maxlen) + feature_shape, value, dtype=dt)
    for i, a in enumerate(arrays):
        if not len(a) or not maxlen:
            continue
        if np.issubdtype(dt, np.integer) and np.issubdtype(a.dtype, np.floating) and np.any(a != np.round(a)):
            raise ValueError(f"{name}: sequence {i} holds non-integer values for dtype {dt}")
        kept = a[-maxlen:] if truncating == "pre" else a[:maxlen]
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out


class TimeseriesWindows(Sequence):
    """Batches of windows over a series (what :func:`timeseries_dataset_from_array` returns):
    batch ``i`` is ``(x, y)`` with x of shape (batch, sequence_length, *features), or x alone
    without targets. ``starts`` holds each window's first index in ``data``."""

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size):
        self.data, self.targets, self.starts = data, targets, starts
        self.sequence_length, self.sampling_rate, self.batch_size = sequence_length, sampling_rate, batch_size
        self._offsets = np.arange(sequence_length) * sampling_rate

    def __len__(self):
        return -(-len(self.starts) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"TimeseriesWindows: batch {index} out of range for {len(self)} batches")
        starts = self.starts[index * self.batch_size:(index + 1) * self.batch_size]
        x = self.data[starts[:, None] + self._offsets]
        return x if self.targets is None else (x, self.targets[starts])


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None):
    """Keras's ``timeseries_dataset_from_array``: windows of ``sequence_length`` steps taken every
    ``sampling_rate`` steps of ``data`` (rows are time steps), starting every ``sequence_stride``
    rows from ``start_index`` up to ``end_index`` (exclusive); ``targets[i]`` is the target of the
    window that starts at row i (so for "the value after the window" pass
    ``targets=data[sequence_length:]``), or None for inputs only. ``shuffle`` mixes the windows
    once (seeded). Returns a ``pydl.data.Sequence`` of batches to give ``fit``/``predict``."""
    name = "timeseries_dataset_from_array"
    data = np.asarray(data)
    if data.ndim == 0 or len(data) == 0:
        raise ValueError(f"{name}: data must be a non-empty array of time steps, got shape {data.shape}")
    sequence_length = _int_arg(name, "sequence_length", sequence_length, 1)
    sequence_stride = _int_arg(name, "sequence_stride", sequence_stride, 1)
    sampling_rate = _int_arg(name, "sampling_rate", sampling_rate, 1)
    batch_size = _int_arg(name, "batch_size", batch_size, 1)
    start = _int_arg(name, "start_index", 0 if start_index is None else start_index, 0)
    end = _int_arg(name, "end_index", len(data) if end_index is None else end_index, 0)
    if end > len(data) or start >= end:
        raise ValueError(f"{name}: need 0 <= start_index < end_index <= len(data) = {len(data)}, got start_index="
                         f"{start}, end_index={end}")
    if targets is not None:
        targets = np.asarray(targets)
        if targets.ndim == 0:
            raise ValueError(f"{name}: targets must be an array with one entry per time step, got a scalar")
    span = (sequence_length - 1) * sampling_rate
    count = end - start - span
    if targets is not None:
        count = min(count, len(targets) - start)
    if count <= 0:
        raise ValueError(f"{name}: no window of {sequence_length} steps (sampling_rate {sampling_rate}) fits in "
                         f"rows {start}..{end} of data{'' if targets is None else ' with targets'} "
                         f"(len(data) {len(data)}{'' if targets is None else f', len(targets) {len(targets)}'})")
    starts = start + np.arange(0, count, sequence_stride)
    if shuffle:
        np.random.default_rng(seed).shuffle(starts)
    return TimeseriesWindows(data, targets, starts, sequence_length, sampling_rate, batch_size)


def make_windows(series, window, horizon=1, stride=1):
    """A series (time first: (T,) or (T, features)) -> (inputs, targets): inputs of shape
    (n, window, features) (a 1-D series gets one feature) and the next ``horizon`` values after
    each window as targets, (n, horizon, features) squeezed to (n, horizon) for one feature and
    (n,) for horizon 1 of one feature (predict the next day's price from the last ``window``)."""
    name = "make_windows"
    s = np.asarray(series)
    window = _int_arg(name, "window", window, 1)
    horizon = _int_arg(name, "horizon", horizon, 1)
    stride = _int_arg(name, "stride", stride, 1)
    if s.ndim not in (1, 2):
        raise ValueError(f"{name}: series must be (T,) or (T, features), got shape {s.shape}")
    if np.issubdtype(s.dtype, np.floating) and not np.isfinite(s).all():
        bad = int(np.argwhere(~np.isfinite(s.reshape(len(s), -1)))[0][0])
        raise ValueError(f"{name}: the series holds NaN or inf (first at step {bad}); fill or drop it first")
    one = s.ndim == 1
    s2 = s[:, None] if one else s
    n = len(s2) - window - horizon + 1
    if n <= 0:
        raise ValueError(f"{name}: a series of {len(s2)} steps has no window of {window} followed by {horizon} "
                         "target step(s)")
    starts = np.arange(0, n, stride)
    x = s2[starts[:, None] + np.arange(window)]
    y = s2[starts[:, None] + window + np.arange(horizon)]
    if one:
        y = y[..., 0]
        if horizon == 1:
            y = y[:, 0]
    elif horizon == 1:
        y = y[:, 0]
    return x, y


class _Scaler:
    def fit(self, x):
        x = self._check(x, "fit")
        self._fit(x.astype(np.float64))
        return self

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def _check(self, x, what):
        x = np.asarray(x)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"{type(self).__name__}.{what}: expected an array of samples, got shape {x.shape}")
        if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
            raise ValueError(f"{type(self).__name__}.{what}: values must be finite numbers")
        if what != "fit" and not hasattr(self, "_shift"):
            raise ValueError(f"{type(self).__name__}.{what}: call fit (on the training span) first")
        if what != "fit" and x.shape[1:] != self._shift.shape:
            raise ValueError(f"{type(self).__name__}.{what}: fitted on samples of shape {self._shift.shape}, got "
                             f"{x.shape[1:]}")
        return x

    def transform(self, x):
        x = self._check(x, "transform")
        out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        return ((x - self._shift) / self._scale).astype(out_dtype)

    def inverse_transform(self, x):
        x = self._check(x, "inverse_transform")
        out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        return (x * self._scale + self._shift).astype(out_dtype)


class MinMaxScaler(_Scaler):
    """Scale each feature to ``feature_range`` (default [0, 1]) using the min and max of the
    data given to ``fit`` (fit it on the training span only: the test span must not leak into
    the scaling). A constant feature maps to the range's low end."""

    def __init__(self, feature_range=(0.0, 1.0)):
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"MinMaxScaler: feature_range must be (low, high) with low < high, got {feature_range!r}")
        self.feature_range = (float(lo), float(hi))

    def _fit(self, x):
        lo, hi = self.feature_range
        mn, mx = x.min(axis=0), x.max(axis=0)
        width = np.where(mx > mn, mx - mn, 1.0)
        self._scale = width / (hi - lo)
        self._shift = mn - lo * self._scale


class StandardScaler(_Scaler):
    """Subtract each feature's mean and divide by its standard deviation, both from the data
    given to ``fit`` (the training span). A constant feature is only centred."""

    def _fit(self, x):
        self._shift = x.mean(axis=0)
        std = x.std(axis=0)
        self._scale = np.where(std > 0, std, 1.0)


def gradient_through_time(model, x, y, loss=None):
    """How much gradient reaches each time step: the norm of d loss / d x_t, the loss's
    gradient with respect to the input at step t, averaged over the batch, for sequences x
    (batch, time, features). A plain RNN's values shrink (or grow) geometrically towards the
    start of the sequence, an LSTM's much less (deck 004's vanishing and exploding gradients).
    ``loss``: a pydl loss name or object (default: the compiled loss). Returns an array of
    ``time`` norms. Runs in training mode, without changing any weight."""
    import pydl
    from .. import losses as _losses
    from ..autograd import enable_grad
    xa = np.asarray(x, dtype=np.float64 if model._input_dtype == pydl.float64 else np.float32)
    if xa.ndim != 3:
        raise ValueError(f"gradient_through_time: x must be sequences (batch, time, features), got shape {xa.shape}")
    fn = _losses.get(loss) if loss is not None else getattr(model, "loss", None)
    if fn is None:
        raise ValueError("gradient_through_time: give loss= or compile the model first")
    if isinstance(fn, str):
        fn = _losses.get(fn)
    xt = pydl.tensor(xa, dtype=model._input_dtype, requires_grad=True)
    saved = [(w, w.grad) for w in model.weights]  # the weights' gradients are put back as they were
    try:
        with enable_grad():
            out = model(xt, training=True)
            value = fn(pydl.tensor(np.asarray(y), dtype=out.dtype), out)
            (value.mean() if value.dim() else value).backward()
        grads = xt.grad
    finally:
        for w, g in saved:
            w.grad = g
    g = grads.numpy().astype(np.float64)
    return np.sqrt((g ** 2).sum(axis=2)).mean(axis=0)
