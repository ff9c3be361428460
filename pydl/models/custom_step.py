"""fit and evaluate around a model's own ``train_step`` / ``test_step`` (Keras 3's way to train a
VAE or a GAN): the loop batches the arrays, hands each batch to the step as pydl tensors
(``x``, ``(x, y)`` or ``(x, y, sample_weight)``, as Keras does), and logs the dict the step
returns. At each epoch (and before evaluating) the model's ``metrics`` are reset, so trackers
such as ``pydl.metrics.Mean`` report epoch means. Callbacks, History and the progress bar work as
in the built-in loop (pydl/models/model.py), which this module leaves untouched.
"""
import math
import numbers

import numpy as np

from .. import _C
from .. import callbacks as _cb
from ..data import sequence as _sequence
from .compiled import _apply_loss


def unpack(data, what):
    """Keras's ``unpack_x_y_sample_weight``: a tuple (or list) of 1-3 items is (x, y, sample_weight);
    anything else is x alone."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError(f"{what}: data must be x, (x,), (x, y) or (x, y, sample_weight), got a tuple of {len(data)}")
    return tuple(data) + (None,) * (3 - len(data))


def _rows(what, name, a):
    """``a`` (an array, or a list / dict of arrays for several inputs) and its number of rows."""
    if a is None:
        return None, None
    if isinstance(a, dict):
        parts = {k: np.asarray(v) for k, v in a.items()}
        ns = {len(v) for v in parts.values()}
    elif isinstance(a, (list, tuple)):
        parts = [np.asarray(v) for v in a]
        ns = {len(v) for v in parts}
    else:
        if isinstance(a, _C.Tensor):
            a = a.detach().numpy()
        parts = np.asarray(a)
        if parts.ndim == 0:
            raise ValueError(f"{what}: {name} must have a batch axis, got a scalar")
        ns = {len(parts)}
    if len(ns) != 1:
        raise ValueError(f"{what}: the arrays of {name} have different numbers of rows: {sorted(ns)}")
    return parts, ns.pop()


def _take(parts, idx):
    if parts is None:
        return None
    if isinstance(parts, dict):
        return {k: v[idx] for k, v in parts.items()}
    if isinstance(parts, list):
        return [v[idx] for v in parts]
    return parts[idx]


def _to_tensors(model, parts):
    if parts is None:
        return None
    if isinstance(parts, dict):
        return {k: _to_tensors(model, v) for k, v in parts.items()}
    if isinstance(parts, list):
        return [_to_tensors(model, v) for v in parts]
    a = np.ascontiguousarray(parts)
    if a.dtype.kind == "f":
        return _C.tensor(a.astype(model._input_dtype.name, copy=False), dtype=model._input_dtype)
    return _C.tensor(a)


def _floats(what, logs):
    if not isinstance(logs, dict):
        raise TypeError(f"{what} must return a dict of logs ({{'loss': ...}}), got {type(logs).__name__}")
    out = {}
    for k, v in logs.items():
        if isinstance(v, _C.Tensor):
            v = v.detach()
            if v.numel() != 1:
                raise ValueError(f"{what}: log {k!r} is a tensor of shape {tuple(v.shape)}; log numbers (0-d values)")
            v = v.item()
        elif isinstance(v, np.ndarray):
            if v.size != 1:
                raise ValueError(f"{what}: log {k!r} is an array of shape {v.shape}; log numbers (0-d values)")
            v = v.reshape(-1)[0]
        if not isinstance(v, numbers.Real):
            raise TypeError(f"{what}: log {k!r} is {type(v).__name__}, not a number")
        out[str(k)] = float(v)
    return out


def _reset(model):
    for m in model.metrics:
        m.reset_state()


def _batch_data(model, xs, ys, ws, idx):
    x = _to_tensors(model, _take(xs, idx))
    if ys is None and ws is None:
        return x
    y = _to_tensors(model, _take(ys, idx))
    return (x, y) if ws is None else (x, y, _to_tensors(model, _take(ws, idx)))


def _arrays(what, x, y, sample_weight):
    xs, n = _rows(what, "x", x)
    if xs is None:
        raise ValueError(f"{what}: x is missing")
    ys, ny = _rows(what, "y", y)
    ws, nw = _rows(what, "sample_weight", sample_weight)
    for name, m in (("y", ny), ("sample_weight", nw)):
        if m is not None and m != n:
            raise ValueError(f"{what}: x has {n} rows but {name} has {m}")
    if ws is not None and ys is None:
        raise ValueError(f"{what}: sample_weight needs y")
    return xs, ys, ws, n


def fit_custom(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
               class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps, seed):
    what = f"fit ({type(model).__name__}.train_step)"
    if model.optimizer is None:
        raise RuntimeError(f"{what}: compile the model first: model.compile(optimizer=...)")
    for name, value in (("class_weight", class_weight), ("steps_per_epoch", steps_per_epoch),
                        ("validation_steps", validation_steps)):
        if value is not None:
            raise NotImplementedError(f"{what}: {name} is not supported with a custom train_step yet (it would be "
                                      "ignored); weight samples with sample_weight")
    if _sequence.is_batch_source(x) or _sequence.is_batch_source(validation_data):
        raise NotImplementedError(f"{what}: generators and Sequences are not supported with a custom train_step yet; "
                                  "give arrays")
    batch_size = model._check_batch_size(batch_size, "fit")
    if int(epochs) != epochs or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
    verbose = model._verbose(verbose, "fit")
    xs, ys, ws, n = _arrays(what, x, y, sample_weight)
    val = None
    if validation_data is not None:
        vx, vy, vw = unpack(validation_data, "fit: validation_data")
        val = _arrays("fit: validation_data", vx, vy, vw)
    elif validation_split > 0:
        n_val = int(math.ceil(n * validation_split))
        if n_val >= n:
            raise ValueError("fit: validation_split leaves no training samples")
        head, tail = np.arange(n - n_val), np.arange(n - n_val, n)
        val = (_take(xs, tail), _take(ys, tail), _take(ws, tail), n_val)
        xs, ys, ws, n = _take(xs, head), _take(ys, head), _take(ws, head), n - n_val
    if seed is None:  # from pydl's generator: manual_seed repeats the shuffles too
        seed = int(_C.uniform([1], 0.0, 2.0 ** 31, dtype=_C.float64).numpy()[0])
    rng = np.random.default_rng(seed)
    steps = max(1, math.ceil(n / batch_size)) if n else 0

    model.history = _cb.History()
    cbs = [model.history] + list(callbacks or [])
    if verbose:
        cbs.append(_cb.ProgbarLogger(verbose))
    cl = _cb.CallbackList(cbs, model, {"epochs": int(epochs), "steps": steps, "batch_size": batch_size,
                                       "verbose": verbose})
    model.stop_training = False
    cl.call("on_train_begin", {})
    for epoch in range(int(initial_epoch), int(epochs)):
        cl.call("on_epoch_begin", epoch, {})
        _reset(model)
        order = rng.permutation(n) if shuffle else np.arange(n)
        logs = {}
        for step in range(steps):
            idx = order[step * batch_size:(step + 1) * batch_size]
            cl.call("on_train_batch_begin", step, {"size": len(idx)})
            logs = _floats(f"{type(model).__name__}.train_step", model.train_step(_batch_data(model, xs, ys, ws, idx)))
            cl.call("on_train_batch_end", step, logs)
            if model.stop_training:
                break
        logs = dict(logs)
        if val is not None:
            vals = _evaluate_loop(model, *val, batch_size, cl)
            logs.update({"val_" + k: v for k, v in vals.items()})
        cl.call("on_epoch_end", epoch, logs)
        if model.stop_training:
            break
    cl.call("on_train_end", {})
    return model.history


def _evaluate_loop(model, xs, ys, ws, n, batch_size, cl=None):
    _reset(model)
    logs = {}
    if cl is not None:
        cl.call("on_test_begin", {})
    for step in range(max(1, math.ceil(n / batch_size)) if n else 0):
        idx = np.arange(step * batch_size, min(n, (step + 1) * batch_size))
        if cl is not None:
            cl.call("on_test_batch_begin", step, {"size": len(idx)})
        logs = _floats(f"{type(model).__name__}.test_step", model.test_step(_batch_data(model, xs, ys, ws, idx)))
        if cl is not None:
            cl.call("on_test_batch_end", step, logs)
    if cl is not None:
        cl.call("on_test_end", logs)
    return logs


def evaluate_custom(model, x, y, batch_size, verbose, sample_weight, return_dict, callbacks, steps):
    what = f"evaluate ({type(model).__name__}.test_step)"
    if steps is not None or _sequence.is_batch_source(x):
        raise NotImplementedError(f"{what}: generators, Sequences and steps are not supported with a custom "
                                  "test_step yet; give arrays")
    batch_size = model._check_batch_size(batch_size, "evaluate")
    model._verbose(verbose, "evaluate")
    xs, ys, ws, n = _arrays(what, x, y, sample_weight)
    cl = _cb.CallbackList(list(callbacks or []), model, {"steps": math.ceil(n / batch_size), "verbose": 0})
    logs = _evaluate_loop(model, xs, ys, ws, n, batch_size, cl)
    if return_dict:
        return logs
    vals = list(logs.values())
    return vals[0] if len(vals) == 1 else vals


class CustomStepAPI:
    """Mixed into Model: the methods a custom step is written with (Keras 3's ``train_step`` /
    ``test_step`` and what they call), and the defaults fit and evaluate fall back on."""

    def _overrides(self, method):
        return getattr(type(self), method) is not getattr(CustomStepAPI, method)

    def train_step(self, data):
        """What ``fit`` does with one batch. ``data`` is what fit's batches hold: ``x``, ``(x, y)`` or
        ``(x, y, sample_weight)`` as pydl tensors. Override it for a custom step (a VAE, a GAN):
        fit then calls yours for each batch and logs the dict it returns (numbers or 0-d
        tensors). The pattern, as Keras 3's PyTorch backend writes it::

            def train_step(self, data):
                x, y = data
                self.zero_grad()
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
                loss.backward()
                self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
                self.loss_tracker.update_state(loss)        # a pydl.metrics.Mean attribute
                return {"loss": self.loss_tracker.result()}

        This default runs the built-in step (``train_on_batch``) and returns its logs."""
        x, y, sw = unpack(data, "train_step")
        return self.train_on_batch(x, y, sample_weight=sw, return_dict=True)

    def test_step(self, data):
        """What ``evaluate`` (and fit's validation) does with one batch; override it beside a
        custom ``train_step`` (then evaluate calls it and logs its dict)."""
        x, y, sw = unpack(data, "test_step")
        return self.test_on_batch(x, y, sample_weight=sw, return_dict=True)

    def zero_grad(self):
        """Clear every weight's ``.grad`` (PyTorch's ``model.zero_grad()``), before ``backward``."""
        for w in self.weights:
            w.grad = None

    def _compiled_part(self, y, y_pred, sample_weight, what):
        """The compiled losses of (y, y_pred), each times its loss weight, summed; None if none."""
        preds = y_pred if isinstance(y_pred, (list, tuple)) else [y_pred]
        several = len(self._output_names) > 1
        ys = list(y) if several and isinstance(y, (list, tuple)) else [y]
        total = None
        for i, (fn, w) in enumerate(zip(self._output_losses, self._loss_weights)):
            if fn is None:
                continue
            if i >= len(preds) or i >= len(ys) or ys[i] is None:
                raise ValueError(f"{self.name}.{what}: output {i} has a compiled loss but no y / y_pred for it")
            part = _apply_loss(f"{self.name}.{what}", fn, ys[i], preds[i], None if several else sample_weight)
            part = part * w if w != 1.0 else part
            total = part if total is None else total + part
        return total

    @staticmethod
    def _plus(total, terms):
        for t in terms:
            total = t if total is None else total + t
        return total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras 3's ``compute_loss``: the compiled loss of (y, y_pred) times its loss weight, plus
        the weight penalties and the ``add_loss`` / activity terms of the last call. ``y_pred``
        is given (a custom train_step computed it) or, when None, computed as ``self(x)``."""
        if y_pred is None:
            if x is None:
                raise ValueError(f"{self.name}.compute_loss: give y_pred, or x to compute it from")
            y_pred = self(x, training=training)
        total = self._plus(self._compiled_part(y, y_pred, sample_weight, "compute_loss"), self._regularization())
        if total is None:
            raise ValueError(f"{self.name}.compute_loss: there is no loss: compile with loss=..., or compute the loss "
                             "in train_step yourself")
        return total

    def compiled_loss(self, y, y_pred, sample_weight=None, regularization_losses=None):
        """Keras 2's ``self.compiled_loss(y, y_pred, sample_weight, regularization_losses)``: the
        compiled loss(es) plus the terms given in ``regularization_losses`` (Keras 2 passes
        ``self.losses``; Keras 3 replaced this with ``compute_loss``)."""
        total = self._plus(self._compiled_part(y, y_pred, sample_weight, "compiled_loss"),
                           list(regularization_losses or []))
        if total is None:
            raise ValueError(f"{self.name}.compiled_loss: the model was compiled without a loss")
        return total
