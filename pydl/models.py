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
from .layers.base import _shape_arg, _unique_name, assign_weights, keras1_names
from .layers.core import Activation, Dense, Input
from .saving import load_model, save_model, load_weights, save_weights, clone_model  # noqa: F401


def _as_array(name, a):
    if isinstance(a, _C.Tensor):
        a = a.detach().numpy()
    a = np.asarray(a)
    if a.dtype.kind in "US":
        first = str(a.flat[0]) if a.size else ""
        raise TypeError(f"{name} holds strings (e.g. {first!r}); encode them as numbers first: class labels "
                        "as integers 0..n-1, e.g. classes, y = np.unique(y, return_inverse=True)")
    if a.dtype == object:
        raise TypeError(f"{name}: could not convert the data to a numeric array")
    if a.ndim == 0:
        raise ValueError(f"{name} must be an array with a samples axis first, got the scalar {a.item()!r}")
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
        self._trainable = True
        self._compiled_trainable = None  # (model.trainable, {id(layer): layer.trainable}) at compile
        self._trained = []  # the weights fit trains (those trainable at compile)
        for layer in layers or []:
            self.add(layer)

    # ---------------------------------------------------------------- structure
    @property
    def layers(self):
        """The model's layers in order (an Input marker is not one)."""
        return self._stack

    def _restack(self):
        self._stack = [l for l in self._layers if not isinstance(l, Input)]
        self._optimizer_built = False  # the next step fixes the trained weights again (with any new layer's)

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
            self._input_shape = _shape_arg(f"{self.name}.build", "input_shape", input_shape)
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

    def _ensure_built(self, data_shape, name):
        """Build on the first data seen, else check it: ``name`` is the calling function."""
        if not self.layers:
            raise ValueError(f"{name}: {self.name} has no layers; add some with model.add(...)")
        data_shape = tuple(data_shape)
        shape = data_shape[1:]
        if self._input_shape is None:
            self._input_shape = shape
        elif shape != tuple(self._input_shape):
            if data_shape == tuple(self._input_shape):
                raise ValueError(f"{name}: x of shape {data_shape} has no batch axis: {self.name} takes samples "
                                 f"of shape {tuple(self._input_shape)}, so one sample is x[None]")
            raise ValueError(f"{name}: {self.name} expected input samples of shape {tuple(self._input_shape)}, "
                             f"got {shape} (x has shape {data_shape})")
        self.build()

    @property
    def trainable(self):
        """``model.trainable = False`` freezes every layer (it sets each layer's ``trainable``, as
        Keras does); as for a layer, call ``compile`` again for ``fit`` to see the change."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = self._trainable

    def parameters(self):
        """The trainable parameter tensors, now (for ``Adam(model.parameters())``). An optimizer
        holds the tensors it was given at its construction: after changing ``trainable``, make
        a new optimizer from ``model.parameters()`` (or, with ``compile``, compile again)."""
        if not self.trainable:
            return []
        return [w for l in self.layers for w in l.trainable_weights]

    @property
    def weights(self):
        return [w for l in self.layers for w in l.weights]

    @property
    def trainable_weights(self):
        return self.parameters()

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.parameters()}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def _input_dtype(self):
        """The dtype data is cast to: that of the first layer that fixes one (its own dtype
        argument, or weights), else float32."""
        for layer in self._layers:
            if layer._casts_inputs:
                return layer.dtype
        return _C.float32

    @property
    def _output_dtype(self):
        for layer in reversed(self._layers):
            if layer._casts_inputs:
                return layer.dtype
        return _C.float32

    def get_weights(self):
        return [w.detach().numpy().copy() for w in self.weights]

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
        return layer._call(x, training=training, logits=True)

    def __call__(self, x, training=False):
        if not isinstance(x, _C.Tensor):
            x = _C.tensor(_as_array(f"{self.name}: x", x), dtype=self._input_dtype)
        self._ensure_built(tuple(x.shape), self.name)
        return self._forward(x, training=training)

    # ---------------------------------------------------------------- compile
    _loss_weight = 1.0  # set by compile
    _metric_specs_all = ()
    _weighted_metric_names = ()
    _COMPILE_ARGS = ("optimizer", "loss", "metrics", "loss_weights", "weighted_metrics", "run_eagerly",
                     "steps_per_execution", "jit_compile", "auto_scale_loss")

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, *, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Keras's compile. ``loss``: a name, a Loss, or a function ``fn(y_true, y_pred)`` returning
        per-sample values (sample weights are applied outside it). ``loss_weights``: a scalar (or a
        list / dict of one) multiplying the loss (not the weight penalties), as Keras does.
        ``metrics`` are computed without sample weights, ``weighted_metrics`` with them (and with
        class_weight), as in Keras; a Metric object keeps one state for training, reset every epoch,
        and validation / evaluate work on fresh copies of it. pydl always runs eagerly, one C++ op per
        layer: ``run_eagerly``, ``jit_compile`` and ``auto_scale_loss`` (loss scaling only acts under
        mixed precision, which pydl does not have) are accepted and change nothing;
        ``steps_per_execution`` must be 1."""
        if kwargs:
            import difflib
            hints = [f"{k!r} (did you mean {difflib.get_close_matches(k, self._COMPILE_ARGS, 1)[0]!r}?)"
                     if difflib.get_close_matches(k, self._COMPILE_ARGS, 1) else repr(k) for k in sorted(kwargs)]
            raise TypeError(f"compile: unexpected argument(s) {', '.join(hints)}; valid arguments: "
                            f"{', '.join(self._COMPILE_ARGS)}")
        if loss is None:
            raise ValueError("compile: give a loss, e.g. loss='categorical_crossentropy'")
        for name, v in (("run_eagerly", run_eagerly), ("auto_scale_loss", auto_scale_loss)):
            if v is not None and not isinstance(v, (bool, np.bool_)):
                raise TypeError(f"compile: {name} must be True or False, got {v!r}")
        if jit_compile not in ("auto", True, False, None):
            raise ValueError(f"compile: jit_compile must be 'auto', True or False, got {jit_compile!r}")
        if steps_per_execution not in (1, None):
            raise ValueError(f"compile: steps_per_execution={steps_per_execution!r} is not supported: pydl runs one "
                             "training step per call (and the batch callbacks after each); use 1")
        optimizer = _optimizers.get(optimizer)
        loss = self._one_output("loss", loss)
        loss_obj = _losses.get(loss)
        if not isinstance(loss_obj, _losses.Loss):  # a Keras-style function fn(y_true, y_pred)
            loss_obj = _losses.LossFunctionWrapper(loss_obj)
        if loss_obj.reduction == "none":
            raise ValueError(f"compile: the loss {loss_obj!r} has reduction='none' (per-sample values); fit needs a "
                             "scalar: use reduction='sum_over_batch_size' (the default) or 'sum'")
        loss_weight = self._check_loss_weights(loss_weights)
        specs = self._metric_specs(metrics, "metrics") + self._metric_specs(weighted_metrics, "weighted_metrics")
        self.optimizer = optimizer
        self.loss = loss_obj
        self.loss_name = loss if isinstance(loss, str) else loss_obj.name
        self._loss_weight = loss_weight
        self._metric_names = [m for m, weighted in specs if not weighted]
        self._weighted_metric_names = [m for m, weighted in specs if weighted]
        self._metric_specs_all = specs
        self._make_metrics(None, "check")  # two metrics under one log name fail here, before training
        self._fused = self._find_fusion()
        self._optimizer_built = False
        self._compiled_trainable = (self.trainable, {id(l): l.trainable for l in self.layers})

    def _output_name(self):
        return self.layers[-1].name if self.layers else None

    def _one_output(self, arg, value):
        """The value for the model's one output from a dict keyed by its name (Keras's per-output
        form); ``loss`` and ``loss_weights`` also take a list of one."""
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) != self._output_name():
                raise ValueError(f"compile: {arg} {value!r} must have one entry, keyed by the model's output "
                                 f"name {self._output_name()!r} (the model has one output)")
            return next(iter(value.values()))
        if arg in ("loss", "loss_weights") and isinstance(value, (list, tuple)):
            if len(value) != 1:
                raise ValueError(f"compile: {arg} has {len(value)} entries but the model has one output")
            return value[0]
        return value

    def _check_loss_weights(self, loss_weights):
        """The scalar multiplier of the loss: a number, or a list / dict holding one (one output)."""
        w = self._one_output("loss_weights", loss_weights)
        if w is None:
            return 1.0
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, float, np.integer, np.floating)):
            raise TypeError(f"compile: loss_weights must be a number (or a list / dict of one), got {loss_weights!r}")
        if not math.isfinite(float(w)):
            raise ValueError(f"compile: loss_weights must be finite, got {w!r}")
        return float(w)

    def _metric_specs(self, metrics, arg):
        """(spec, weighted) pairs; a string or a single metric is one metric, not a sequence."""
        weighted = arg == "weighted_metrics"
        if metrics is None:
            return []
        if isinstance(metrics, dict):
            metrics = self._one_output(arg, metrics)
        if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        out = []
        for m in metrics:
            if isinstance(m, str):
                _metrics.get(m)  # unknown names fail here, before any training
            elif isinstance(m, type) and issubclass(m, _metrics.Metric):
                m = m()
            elif not (isinstance(m, _metrics.Metric) or callable(m)):
                raise TypeError(f"compile: {arg} entries must be metric names, Metric objects or functions "
                                f"fn(y_true, y_pred); got {m!r}")
            out.append((m, weighted))
        seen = set()
        for m, _ in out:
            if not isinstance(m, str):
                if id(m) in seen:
                    raise ValueError(f"compile: the metric object {m!r} is listed twice in {arg}")
                seen.add(id(m))
        return out

    def _find_fusion(self):
        """softmax + categorical crossentropy (or sigmoid + binary crossentropy) at the end of the
        model are computed together from the logits: stable, and one pass cheaper. The fused loss is
        the user's loss with from_logits=True and every other argument kept (label_smoothing,
        reduction, ...). A loss already from_logits=True is applied to the softmax's outputs as given
        (as Keras does; it warns), and a subclass is never fused (its call may differ)."""
        if not self.layers:
            return None
        last = self.layers[-1]
        act = getattr(last, "activation", None)
        if not isinstance(last, (Dense, Activation)) or act is None or type(self.loss) not in _losses._FUSABLE:
            return None
        from .activations import softmax, sigmoid
        binary = type(self.loss) is _losses.BinaryCrossentropy
        if not ((act is softmax and not binary) or (act is sigmoid and binary)):
            return None
        if self.loss.from_logits:
            warnings.warn(f"compile: the loss has from_logits=True but the last layer ({last.name}) applies "
                          f"{act.__name__}, so its outputs are probabilities, not logits; the loss treats them as "
                          "logits. Drop the activation, or use from_logits=False", UserWarning, stacklevel=3)
            return None
        return _losses.get_from_logits(self.loss)

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
            if self._loss_weight != 1.0:
                loss = loss * self._loss_weight
            out = None
            if outputs:  # the fused loss never formed the probabilities
                with no_grad():
                    out = self.layers[-1].activation(logits)
        else:
            out = self._forward(x, training=training)
            loss = self.loss(y, out, sample_weight=w)
            if self._loss_weight != 1.0:
                loss = loss * self._loss_weight
        if loss.dim() != 0:
            raise ValueError(f"{self.loss_name}: the loss gave shape {tuple(loss.shape)}, not a scalar; a loss "
                             "object must reduce its values (reduction 'sum_over_batch_size' or 'sum')")
        # loss_weights scale the compiled loss only, not the penalties (Keras's compute_loss).
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
            self._build_optimizer()
        # Frozen weights record no gradient for this step (backward skips their work).
        frozen = [w for w in self._frozen if w.requires_grad]
        for w in self._step_weights:
            w.grad = None
        for w in frozen:
            w.requires_grad = False
        # The forward pass itself updates state weights (BatchNormalization's moving statistics):
        # a step that fails puts them back, so that it changes no weight at all.
        state = [(w, w.detach().numpy().copy()) for w in self._state_weights]
        try:
            loss, out = self._loss_and_outputs(xb, yb, wb, training=True, outputs=outputs)
            if self._trained:
                loss.backward()
                # Only the compiled trainable weights, even if the optimizer also knows others
                # (one that trained this model before a layer was frozen and it was compiled again).
                try:
                    self.optimizer.apply([w.grad for w in self._trained], self._trained)
                except _optimizers.NonFiniteGradientError as e:  # no weight changed; say which layer
                    raise e.for_layers(self.layers, loss=float(loss.item())) from None
        except BaseException:
            with no_grad():
                for w, value in state:
                    w.copy_(_C.tensor(value, dtype=w.dtype))
            raise
        finally:
            for w in frozen:
                w.requires_grad = True
        return float(loss.item()), out

    def _compiled_parameters(self):
        """The weights that were trainable when the model was compiled (Keras fixes them then)."""
        if self._compiled_trainable is None:
            return self.parameters()
        model_trainable, flags = self._compiled_trainable
        if not model_trainable:
            return []
        return [w for l in self.layers for w in l._weights_trainable_when(flags.get(id(l), l.trainable))]

    def _build_optimizer(self):
        """Fix the weights ``fit`` trains (those trainable at compile: as in Keras, a change of
        ``trainable`` takes effect when the model is compiled again) and create their optimizer
        slots. Runs at the first training step after compile, or in load_model."""
        self._trained = self._compiled_parameters()
        # fixed with the trained list, so that each step does not derive them again
        trained = {id(w) for w in self._trained}
        self._step_weights = self.weights
        self._frozen = [w for w in self._step_weights if id(w) not in trained]
        # weights created non-trainable (moving statistics): the ones a forward pass may write
        self._state_weights = [w for l in self.layers for w in l.weights if w.name in getattr(l, "_untrainable", ())]
        self.optimizer.build(self._trained)
        self._optimizer_built = True

    def _warn_if_trainable_changed(self, name, stacklevel=3):
        if [id(w) for w in self.parameters()] != [id(w) for w in self._compiled_parameters()]:
            warnings.warn(f"{name}: the trainable weights changed since the model was compiled (a layer's or the "
                          "model's `trainable` was set), and this still trains the weights trainable then; call "
                          "model.compile(...) again for the change to take effect (as in Keras)", UserWarning,
                          stacklevel=stacklevel)

    # ---------------------------------------------------------------- data
    def _prepare(self, x, y=None, sample_weight=None, name="fit"):
        """Check and convert one call's data: x to the model's input dtype (uint8 images stay
        uint8 for a float32 model: the batcher converts them), y and sample_weight to its output
        dtype; rows must match and everything be finite. ``name`` starts every message."""
        if x is None:
            raise ValueError(f"{name}: x is missing (the input samples)")
        x = _as_array(f"{name}: x", x)
        if len(x) == 0:
            raise ValueError(f"{name}: x has no samples (shape {x.shape})")
        dtype = np.dtype(self._input_dtype.name)
        if x.dtype != dtype and not (x.dtype == np.uint8 and dtype == np.float32):
            x = x.astype(dtype)
        _check_finite(f"{name}: x", x)
        out_dtype = np.dtype(self._output_dtype.name)
        if y is not None:
            y = _as_array(f"{name}: y", y)
            if len(y) != len(x):
                raise ValueError(f"{name}: x has {len(x)} samples but y has {len(y)}; they must match "
                                 f"(x has shape {x.shape}, y {y.shape})")
            y = y.astype(out_dtype, copy=False)
            _check_finite(f"{name}: y", y)
        if sample_weight is not None:
            sample_weight = _as_array(f"{name}: sample_weight", sample_weight).astype(out_dtype).reshape(-1)
            if len(sample_weight) != len(x):
                raise ValueError(f"{name}: sample_weight has {len(sample_weight)} entries for {len(x)} samples")
            _check_finite(f"{name}: sample_weight", sample_weight)
        return x, y, sample_weight

    @staticmethod
    def _class_weights(name, y, class_weight):
        """Keras's class_weight: each sample weighs class_weight[its class] (classes not in the
        dict weigh 1); the class is the argmax of a one-hot row, else the rounded label."""
        if not isinstance(class_weight, dict):
            raise TypeError(f"{name}: class_weight must be a dict {{class index: weight}}, "
                            f"got {type(class_weight).__name__}")
        if y.ndim == 1 or y.shape[-1] == 1:
            labels = np.rint(y.reshape(len(y), -1)[:, 0]).astype(np.int64)
        else:
            labels = y.reshape(len(y), -1).argmax(-1)
        cw = np.array([float(class_weight.get(int(c), 1.0)) for c in labels], dtype=y.dtype)
        _check_finite(f"{name}: class_weight", cw)
        return cw

    @staticmethod
    def _verbose(verbose, name):
        if verbose == "auto":
            return 1
        if isinstance(verbose, str) or verbose not in (0, 1, 2):
            raise ValueError(f"{name}: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
        return int(verbose)

    @staticmethod
    def _check_batch_size(batch_size, name):
        if batch_size is None:
            return 32
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"{name}: batch_size must be a positive integer, got {batch_size!r}")
        return int(batch_size)

    # ---------------------------------------------------------------- fit
    @keras1_names(nb_epoch="epochs")
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            seed=None, **kwargs):
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
        verbose = self._verbose(verbose, "fit")
        x, y, sample_weight = self._prepare(x, y, sample_weight)
        if validation_data is None and validation_split > 0:
            n_val = int(math.ceil(len(x) * validation_split))
            if n_val >= len(x):
                raise ValueError("fit: validation_split leaves no training samples")
            validation_data = (x[-n_val:], y[-n_val:])
            x, y = x[:-n_val], y[:-n_val]
            if sample_weight is not None:
                sample_weight = sample_weight[:-n_val]
        if class_weight is not None:
            cw = self._class_weights("fit", y, class_weight)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        val = None
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight)")
            val = self._prepare(*validation_data[:2], *(validation_data[2:] or [None]), name="fit: validation_data")
        self._ensure_built(x.shape, "fit")
        if validation_data is not None:
            self._ensure_built(val[0].shape, "fit: validation_data")
        self._warn_if_trainable_changed("fit", stacklevel=4)  # fit is wrapped by keras1_names

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
        metric_objs = self._make_metrics(y, "train")
        cl.call("on_train_begin", {})
        for epoch in range(int(initial_epoch), int(epochs)):
            cl.call("on_epoch_begin", epoch, {})
            for m, _ in metric_objs:  # each epoch's training metrics start afresh (Keras)
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
                self._update_metrics(metric_objs, yb, out, wb)
                logs = {"loss": total / seen if math.isfinite(loss) else loss}
                logs.update({m.name: m.result() for m, _ in metric_objs})
                cl.call("on_train_batch_end", step, logs)
                if self.stop_training:
                    break
            if val is not None:
                vals = self._evaluate_arrays(*val, batch_size=batch_size, y_for_metrics=y, callbacks=cl)
                logs.update({"val_" + k: v for k, v in vals.items()})
            cl.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        cl.call("on_train_end", {})
        return self.history

    def _make_metrics(self, y, role):
        """(metric, weighted) pairs with a fresh state for one pass over data. role 'train': a Metric
        object given to compile is used itself (fit resets it every epoch); 'val' and 'evaluate'
        get copies of it, so training and validation never share a state ('check': compile's copies,
        to check the log names)."""
        import copy
        out_shape = self.layers[-1].output_shape if self.layers and self.layers[-1].built else None
        loss_key = _losses.canonical_name(self.loss) or (self.loss_name if isinstance(self.loss_name, str) else None)
        objs, names = [], set()
        for spec, weighted in self._metric_specs_all:
            if isinstance(spec, _metrics.Metric):
                m = spec if role == "train" else copy.deepcopy(spec)
            else:
                m = _metrics.get(spec, loss_name=loss_key, y_true=y, y_pred_shape=out_shape)
            m.reset_state()
            if weighted and m.name in names:  # Keras: a weighted twin of a metric is 'weighted_<name>'
                if role == "train" and m is spec:
                    m = copy.deepcopy(spec)
                m.name = "weighted_" + m.name
            if m.name in names or m.name == "loss":
                raise ValueError(f"compile: two metrics report under the name {m.name!r} (the loss is 'loss'); "
                                 "give one a name= (or list it once)")
            names.add(m.name)
            objs.append((m, weighted))
        return objs

    @staticmethod
    def _update_metrics(metric_objs, yb, out, wb):
        """Metrics see no sample weights; weighted_metrics see them (and class_weight), as in Keras."""
        if not metric_objs:
            return
        outn = out.detach().numpy()
        for m, weighted in metric_objs:
            m.update_state(yb, outn, wb if weighted else None)

    # ---------------------------------------------------------------- evaluate / predict
    def _evaluate_arrays(self, x, y, sample_weight=None, batch_size=32, y_for_metrics=None, callbacks=None):
        """The loss and metrics over (x, y); ``callbacks`` (a CallbackList) get Keras's on_test_* hooks,
        each batch's logs holding the running means so far."""
        metric_objs = self._make_metrics(y if y_for_metrics is None else y_for_metrics,
                                         "evaluate" if y_for_metrics is None else "val")
        cl = callbacks if callbacks is not None else _cb.CallbackList([], self, {})
        batch_logs = cl.has("on_test_batch_end")
        total, seen = 0.0, 0
        cl.call("on_test_begin", {})
        with no_grad():
            for step, batch in enumerate(BatchIterator(x, y, batch_size=batch_size, shuffle=False,
                                                       sample_weight=sample_weight)):
                xb, yb = batch[0], batch[1]
                wb = batch[2] if len(batch) > 2 else None
                cl.call("on_test_batch_begin", step, {"size": len(xb)})
                loss, out = self._loss_and_outputs(xb, yb, wb, training=False, outputs=bool(metric_objs))
                total += float(loss.item()) * len(xb)
                seen += len(xb)
                self._update_metrics(metric_objs, yb, out, wb)
                if batch_logs:
                    logs = {"loss": total / seen}
                    logs.update({m.name: m.result() for m, _ in metric_objs})
                    cl.call("on_test_batch_end", step, logs)
        logs = {"loss": total / max(seen, 1)}
        logs.update({m.name: m.result() for m, _ in metric_objs})
        cl.call("on_test_end", dict(logs))
        return logs

    def _callbacks(self, callbacks, verbose, steps):
        """The CallbackList of an evaluate or predict: the user's callbacks, then a progress bar."""
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(_cb.ProgbarLogger(verbose))
        return _cb.CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "steps": steps})

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, return_dict=False,
                 callbacks=None):
        """The loss, then each metric: a scalar without metrics, else a list (Keras's order).
        ``verbose``: 'auto' or 1 a progress bar, 2 one line, 0 silent. ``callbacks`` get
        on_test_begin/on_test_batch_begin/on_test_batch_end/on_test_end."""
        return self._evaluate("evaluate", x, y, batch_size, verbose, sample_weight, return_dict, callbacks)

    def _evaluate(self, name, x, y, batch_size, verbose, sample_weight, return_dict, callbacks):
        self._check_compiled(name)
        batch_size = self._check_batch_size(batch_size, name)
        verbose = self._verbose(verbose, name)
        if y is None:
            raise ValueError(f"{name}: y is missing")
        x, y, sample_weight = self._prepare(x, y, sample_weight, name=name)
        self._ensure_built(x.shape, name)
        cl = self._callbacks(callbacks, verbose, math.ceil(len(x) / batch_size))
        logs = self._evaluate_arrays(x, y, sample_weight, batch_size, callbacks=cl)
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=None, verbose="auto", callbacks=None):
        """The model's outputs as a NumPy array (in the model's dtype), computed in batches
        without a graph. ``verbose`` as in ``evaluate``; ``callbacks`` get on_predict_begin,
        on_predict_batch_begin, on_predict_batch_end (logs {'outputs': the batch's outputs}),
        on_predict_end."""
        return self._predict("predict", x, batch_size, verbose, callbacks)

    def _predict(self, name, x, batch_size, verbose, callbacks):
        batch_size = self._check_batch_size(batch_size, name)
        verbose = self._verbose(verbose, name)
        x = self._prepare(x, name=name)[0]
        self._ensure_built(x.shape, name)
        cl = self._callbacks(callbacks, verbose, math.ceil(len(x) / batch_size))
        outs = []
        cl.call("on_predict_begin", {})
        with no_grad():
            for step, (xb, _) in enumerate(BatchIterator(x, None, batch_size=batch_size, shuffle=False)):
                cl.call("on_predict_batch_begin", step, {"size": len(xb)})
                outs.append(self._forward(_C.from_numpy(xb), training=False).numpy().copy())
                cl.call("on_predict_batch_end", step, {"outputs": outs[-1]})
        cl.call("on_predict_end", {})
        return np.concatenate(outs)

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on (x, y); ``class_weight`` as in ``fit`` (multiplying ``sample_weight``)."""
        self._check_compiled("train_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, name="train_on_batch")
        self._ensure_built(x.shape, "train_on_batch")
        if class_weight is not None:
            cw = self._class_weights("train_on_batch", y, class_weight)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        self._warn_if_trainable_changed("train_on_batch")
        xb = np.ascontiguousarray(x, dtype=self._input_dtype.name)
        metric_objs = self._make_metrics(y, "train")
        loss, out = self._train_step(xb, np.ascontiguousarray(y), sample_weight, outputs=bool(metric_objs))
        logs = {"loss": loss}
        self._update_metrics(metric_objs, y, out, sample_weight)
        logs.update({m.name: m.result() for m, _ in metric_objs})
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        return self._evaluate("test_on_batch", x, y, max(len(x), 1), 0, sample_weight, return_dict, None)

    def predict_on_batch(self, x):
        return self._predict("predict_on_batch", x, max(len(x), 1), 0, None)

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
