"""Models the Keras way: ``Sequential([...])``, ``compile``, ``fit``, ``evaluate``, ``predict``.

One training step (``_train_step``) is the course's four steps:
    forward (each layer's C++ op)  ->  loss  ->  loss.backward()  ->  optimizer.step()
Python touches each layer once per step; the per-element work is all in C++.
"""
import math
import warnings

import numpy as np

from . import _C
from . import callbacks as _cb
from . import layers as _layers
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from .autograd import no_grad
from .data import BatchIterator
from .layers.base import _unique_name, assign_weights
from .layers.core import Activation, Dense, Input
from .saving import load_model, save_model, load_weights, save_weights  # noqa: F401


def _as_array(name, a):
    if isinstance(a, _C.Tensor):
        a = a.numpy()
    a = np.asarray(a)
    if a.dtype == object:
        raise TypeError(f"{name}: could not convert the data to a numeric array")
    return a


def _check_finite(name, a):
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a.reshape(len(a), -1)))[0][0] if a.ndim else 0
        raise ValueError(f"{name} contains NaN or inf (first at row {bad}); clean or impute the data first")


class Sequential:
    """A stack of layers, each feeding the next."""

    def __init__(self, layers=None, name=None):
        self.name = name or _unique_name("sequential")
        self._layers = []
        self._stack = []
        self.optimizer = None
        self.loss = None
        self.compiled_metrics = []
        self.stop_training = False
        self.history = None
        self._input_shape = None
        for layer in layers or []:
            self.add(layer)

    # ---------------------------------------------------------------- structure
    @property
    def layers(self):
        """The model's layers in order (an Input marker is not one)."""
        return self._stack

    def _restack(self):
        self._stack = [l for l in self._layers if not isinstance(l, Input)]

    def add(self, layer):
        if not isinstance(layer, _layers.Layer):
            raise TypeError(f"Sequential.add: expected a Layer, got {type(layer).__name__}")
        if not self._layers and layer._input_shape_arg is not None:
            self._input_shape = tuple(layer._input_shape_arg)
        elif isinstance(layer, Input):
            raise ValueError("Sequential.add: an Input layer can only come first")
        self._layers.append(layer)
        self._restack()
        if self._input_shape is not None:
            self.build()

    def pop(self):
        if not self.layers:
            raise ValueError("Sequential.pop: the model has no layers")
        layer = self._layers.pop()
        self._restack()
        return layer

    @property
    def built(self):
        return bool(self.layers) and all(l.built for l in self.layers)

    def build(self, input_shape=None):
        """Create every layer's weights for samples of ``input_shape`` (no batch axis)."""
        if input_shape is not None:
            self._input_shape = tuple(input_shape)
        if self._input_shape is None:
            raise ValueError(f"{self.name}: cannot build without knowing the input shape: give the first layer "
                             "input_shape=(...) (or input_dim=...), start with Input(shape=...), or call fit/predict")
        shape = self._input_shape
        for layer in self.layers:
            if not layer.built:
                layer._build_for(shape)
            elif tuple(layer.input_shape[1:]) != tuple(shape):
                raise ValueError(f"{layer.name}: was built for inputs {layer.input_shape[1:]} but gets {shape}")
            shape = tuple(layer.output_shape[1:])

    def _ensure_built(self, x):
        if not self.layers:
            raise ValueError(f"{self.name}: the model has no layers; add some with model.add(...)")
        shape = tuple(np.shape(x))[1:]
        if self._input_shape is None:
            self._input_shape = shape
        elif shape != tuple(self._input_shape):
            raise ValueError(f"{self.name}: expected input samples of shape {tuple(self._input_shape)}, "
                             f"got {shape} (data of shape {tuple(np.shape(x))})")
        self.build()

    def parameters(self):
        """The trainable parameter tensors (for ``Adam(model.parameters())``)."""
        return [w for l in self.layers for w in l.trainable_weights]

    @property
    def weights(self):
        return [w for l in self.layers for w in l.weights]

    @property
    def trainable_weights(self):
        return self.parameters()

    def get_weights(self):
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, values):
        assign_weights(self.name, self.weights, values)

    def count_params(self):
        return sum(l.count_params() for l in self.layers)

    def summary(self, print_fn=print):
        if not self.built:
            raise ValueError(f"{self.name} has not been built yet: give the first layer an input_shape "
                             "(or start with Input(shape=...)), or call fit/predict first")
        rows = [(f"{l.name} ({type(l).__name__})", str(l.output_shape), f"{l.count_params():,}") for l in self.layers]
        heads = ("Layer (type)", "Output Shape", "Param #")
        w = [max(len(h), *(len(r[i]) for r in rows)) + 2 for i, h in enumerate(heads)]
        line = "=" * sum(w)
        out = [f'Model: "{self.name}"', line, "".join(h.ljust(w[i]) for i, h in enumerate(heads)), line]
        for r in rows:
            out.append("".join(c.ljust(w[i]) for i, c in enumerate(r)))
        total = self.count_params()
        trainable = sum(int(np.prod(p.shape)) for p in self.parameters())
        out += [line, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                f"Non-trainable params: {total - trainable:,}", "_" * sum(w)]
        print_fn("\n".join(out))

    # ---------------------------------------------------------------- forward
    def _forward(self, x, training=False, logits=False):
        layers = self.layers
        for i, layer in enumerate(layers):
            if logits and i == len(layers) - 1:
                x = self._call_logits(layer, x, training)
            else:
                x = layer(x, training=training)
        return x

    @staticmethod
    def _call_logits(layer, x, training):
        if not layer.built:
            layer._build_for(tuple(x.shape)[1:])
        else:
            layer._check_input(tuple(x.shape)[1:])
        return layer.call(x, training=training, logits=True)

    def __call__(self, x, training=False):
        if not isinstance(x, _C.Tensor):
            x = _C.tensor(_as_array("call", x), dtype=_C.float32)
        self._ensure_built(x.numpy())
        return self._forward(x, training=training)

    # ---------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, **kwargs):
        if loss is None:
            raise ValueError("compile: give a loss, e.g. loss='categorical_crossentropy'")
        self.optimizer = _optimizers.get(optimizer)
        self.loss = _losses.get(loss)
        self.loss_name = loss if isinstance(loss, str) else getattr(self.loss, "name", type(self.loss).__name__)
        self._metric_names = list(metrics or [])
        for m in self._metric_names:  # unknown names fail here, before any training
            if isinstance(m, str):
                _metrics.get(m)
        self._fused = self._find_fusion()
        self._optimizer_built = False

    def _find_fusion(self):
        """softmax + categorical crossentropy (or sigmoid + binary crossentropy) at the end of the
        model are computed together from the logits: stable, and one pass cheaper."""
        if not self.layers:
            return None
        last = self.layers[-1]
        act = getattr(last, "activation", None)
        if not isinstance(last, (Dense, Activation)) or act is None:
            return None
        key = _losses.canonical_name(self.loss) if hasattr(_losses, "canonical_name") else self.loss_name
        from .activations import softmax, sigmoid
        if act is softmax and key in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
            return _losses.get_from_logits(key)
        if act is sigmoid and key == "binary_crossentropy":
            return _losses.get_from_logits(key)
        return None

    def _check_compiled(self, what):
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"{what}: compile the model first: model.compile(optimizer=..., loss=...)")

    # ---------------------------------------------------------------- one step
    def _loss_and_outputs(self, xb, yb, wb, training, outputs=True):
        """The loss of one batch and, when ``outputs`` (the metrics need them), the model's outputs."""
        x = _C.from_numpy(xb)
        y = _C.from_numpy(yb)
        w = None if wb is None else _C.from_numpy(wb)
        if self._fused is not None:
            logits = self._forward(x, training=training, logits=True)
            loss = self._fused(y, logits, sample_weight=w)
            out = None
            if outputs:  # the fused loss never formed the probabilities
                with no_grad():
                    out = self.layers[-1].activation(logits)
        else:
            out = self._forward(x, training=training)
            loss = self.loss(y, out, sample_weight=w)
        # The weight penalties are part of the loss (as Keras reports it, so val_loss and
        # EarlyStopping see them too); autograd adds their gradients to the weights'.
        for t in self._regularization():
            loss = loss + t
        return loss, out

    def _regularization(self):
        terms = []
        for l in self.layers:
            terms += l.regularization_losses()
            terms += list(l.losses)
        return terms

    def _train_step(self, xb, yb, wb=None, outputs=True):
        if not self._optimizer_built:
            self.optimizer.build(self.parameters())
            self._optimizer_built = True
        self.optimizer.zero_grad()
        loss, out = self._loss_and_outputs(xb, yb, wb, training=True, outputs=outputs)
        loss.backward()
        try:
            self.optimizer.step()
        except _optimizers.NonFiniteGradientError as e:  # no weight changed; say which layer
            raise e.for_layers(self.layers, loss=float(loss.item())) from None
        return float(loss.item()), out

    # ---------------------------------------------------------------- data
    def _prepare(self, x, y=None, sample_weight=None, name="fit"):
        x = _as_array(f"{name}: x", x)
        if x.dtype not in (np.float32, np.uint8):
            x = x.astype(np.float32)
        if y is not None:
            y = _as_array(f"{name}: y", y)
            if len(y) != len(x):
                raise ValueError(f"{name}: x has {len(x)} samples but y has {len(y)}; they must match")
            y = y.astype(np.float32, copy=False) if y.dtype != np.float32 else y
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float32).reshape(-1)
            if len(sample_weight) != len(x):
                raise ValueError(f"{name}: sample_weight has {len(sample_weight)} entries for {len(x)} samples")
        return x, y, sample_weight

    @staticmethod
    def _check_batch_size(batch_size, name):
        if batch_size is None:
            return 32
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"{name}: batch_size must be a positive integer, got {batch_size!r}")
        return int(batch_size)

    # ---------------------------------------------------------------- fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            seed=None, **kwargs):
        if "nb_epoch" in kwargs:
            warnings.warn("fit: 'nb_epoch' is the Keras 1 name; use 'epochs'", DeprecationWarning, stacklevel=2)
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit: unexpected arguments {sorted(kwargs)}")
        self._check_compiled("fit")
        batch_size = self._check_batch_size(batch_size, "fit")
        if int(epochs) != epochs or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
        if y is None:
            raise ValueError("fit: y is missing (the targets)")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        verbose = 1 if verbose == "auto" else int(verbose)
        x, y, sample_weight = self._prepare(x, y, sample_weight)
        _check_finite("fit: x", x)
        _check_finite("fit: y", y)
        if validation_data is None and validation_split > 0:
            n_val = int(math.ceil(len(x) * validation_split))
            if n_val >= len(x):
                raise ValueError("fit: validation_split leaves no training samples")
            validation_data = (x[-n_val:], y[-n_val:])
            x, y = x[:-n_val], y[:-n_val]
            if sample_weight is not None:
                sample_weight = sample_weight[:-n_val]
        if class_weight is not None:
            labels = y.reshape(-1).astype(np.int64) if (y.ndim == 1 or y.shape[-1] == 1) else y.argmax(-1)
            cw = np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=np.float32)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        val = None
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight)")
            val = self._prepare(*validation_data[:2], *(validation_data[2:] or [None]), name="fit (validation)")
        self._ensure_built(x)
        if validation_data is not None and tuple(val[0].shape[1:]) != tuple(self._input_shape):
            raise ValueError(f"fit: validation samples have shape {val[0].shape[1:]}, the model expects "
                             f"{tuple(self._input_shape)}")

        if seed is None:  # from pydl's generator: manual_seed repeats the shuffles too
            seed = int(_C.uniform([1], 0.0, 2.0 ** 31, dtype=_C.float64).numpy()[0])
        batches = BatchIterator(x, y, batch_size=batch_size, shuffle=bool(shuffle), seed=seed,
                                sample_weight=sample_weight)
        self.history = _cb.History()
        cbs = [self.history] + list(callbacks or [])
        if verbose:
            cbs.append(_cb.ProgbarLogger(verbose))
        params = {"epochs": int(epochs), "steps": len(batches), "batch_size": batch_size, "verbose": verbose}
        cl = _cb.CallbackList(cbs, self, params)
        self.stop_training = False
        metric_objs = self._make_metrics(y)
        cl.call("on_train_begin", {})
        for epoch in range(int(initial_epoch), int(epochs)):
            cl.call("on_epoch_begin", epoch, {})
            for m in metric_objs:
                m.reset_state()
            total, seen = 0.0, 0
            logs = {}
            for step, batch in enumerate(batches):
                xb, yb = batch[0], batch[1]
                wb = batch[2] if len(batch) > 2 else None
                cl.call("on_train_batch_begin", step, {"size": len(xb)})
                try:
                    loss, out = self._train_step(xb, yb, wb, outputs=bool(metric_objs))
                except _optimizers.NonFiniteGradientError as e:
                    # The step changed nothing. A non-finite loss goes to the callbacks first, so
                    # TerminateOnNaN ends training as in Keras; otherwise fit stops with the error.
                    if e.loss is None or math.isfinite(e.loss):
                        raise
                    logs = {"loss": e.loss}
                    cl.call("on_train_batch_end", step, logs)
                    if not self.stop_training:
                        raise
                    break
                total += loss * len(xb)
                seen += len(xb)
                if metric_objs:
                    outn = out.numpy()
                    for m in metric_objs:
                        m.update_state(yb, outn, wb)
                logs = {"loss": total / seen if math.isfinite(loss) else loss}
                logs.update({m.name: m.result() for m in metric_objs})
                cl.call("on_train_batch_end", step, logs)
                if self.stop_training:
                    break
            if val is not None:
                vals = self._evaluate_arrays(*val, batch_size=batch_size, y_for_metrics=y)
                logs.update({"val_" + k: v for k, v in vals.items()})
            cl.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        cl.call("on_train_end", {})
        return self.history

    def _make_metrics(self, y):
        out_shape = self.layers[-1].output_shape
        return [_metrics.get(m, loss_name=self.loss_name if isinstance(self.loss_name, str) else None,
                             y_true=y, y_pred_shape=out_shape) for m in self._metric_names]

    # ---------------------------------------------------------------- evaluate / predict
    def _evaluate_arrays(self, x, y, sample_weight=None, batch_size=32, y_for_metrics=None):
        metric_objs = self._make_metrics(y if y_for_metrics is None else y_for_metrics)
        total, seen = 0.0, 0
        with no_grad():
            for batch in BatchIterator(x, y, batch_size=batch_size, shuffle=False, sample_weight=sample_weight):
                xb, yb = batch[0], batch[1]
                wb = batch[2] if len(batch) > 2 else None
                loss, out = self._loss_and_outputs(xb, yb, wb, training=False, outputs=bool(metric_objs))
                total += float(loss.item()) * len(xb)
                seen += len(xb)
                if metric_objs:
                    outn = out.numpy()
                    for m in metric_objs:
                        m.update_state(yb, outn, wb)
        logs = {"loss": total / max(seen, 1)}
        logs.update({m.name: m.result() for m in metric_objs})
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, return_dict=False,
                 callbacks=None):
        """The loss, then each metric: a scalar without metrics, else a list (Keras's order)."""
        self._check_compiled("evaluate")
        batch_size = self._check_batch_size(batch_size, "evaluate")
        if y is None:
            raise ValueError("evaluate: y is missing")
        x, y, sample_weight = self._prepare(x, y, sample_weight, name="evaluate")
        _check_finite("evaluate: x", x)
        self._ensure_built(x)
        logs = self._evaluate_arrays(x, y, sample_weight, batch_size)
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=None, verbose=0, callbacks=None):
        """The model's outputs as a NumPy array, computed in batches without a graph."""
        batch_size = self._check_batch_size(batch_size, "predict")
        x = _as_array("predict: x", x)
        if x.dtype not in (np.float32, np.uint8):
            x = x.astype(np.float32)
        self._ensure_built(x)
        outs = []
        with no_grad():
            for (xb, _) in BatchIterator(x, None, batch_size=batch_size, shuffle=False):
                outs.append(self._forward(_C.from_numpy(xb), training=False).numpy().copy())
        if not outs:
            return np.zeros((0,) + tuple(self.layers[-1].output_shape[1:]), dtype=np.float32)
        return np.concatenate(outs)

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        self._check_compiled("train_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, name="train_on_batch")
        _check_finite("train_on_batch: x", x)
        self._ensure_built(x)
        xb = np.ascontiguousarray(x, dtype=np.float32)
        metric_objs = self._make_metrics(y)
        loss, out = self._train_step(xb, np.ascontiguousarray(y), sample_weight, outputs=bool(metric_objs))
        logs = {"loss": loss}
        for m in metric_objs:
            m.update_state(y, out.numpy(), sample_weight)
            logs[m.name] = m.result()
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        return self.evaluate(x, y, batch_size=max(len(x), 1), sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(len(x), 1))

    # ---------------------------------------------------------------- config and saving
    def get_config(self):
        return {"name": self.name, "layers": [_layers.serialize(l) for l in self._layers],
                "build_input_shape": None if self._input_shape is None else list(self._input_shape)}

    @classmethod
    def from_config(cls, config):
        model = cls(name=config.get("name"))
        for d in config.get("layers", []):
            model.add(_layers.deserialize(d))
        if config.get("build_input_shape") is not None and not model.built:
            model.build(tuple(config["build_input_shape"]))
        return model

    def save(self, path):
        save_model(self, path)

    def save_weights(self, path):
        save_weights(self, path)

    def load_weights(self, path):
        load_weights(self, path)


Model = Sequential
