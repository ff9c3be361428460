"""The Model base class: everything a model does whatever its wiring (Keras's trainer):
fit, evaluate, predict, train_on_batch, weights, trainable and freezing, saving; compile, the
losses and metrics and the training step are its CompileAPI mixin (compiled.py).

One training step (``_train_step``, in compiled.py) is the course's four steps:
    forward (each layer's C++ op)  ->  loss  ->  loss.backward()  ->  optimizer.step()
Python touches each layer once per step; the per-element work is all in C++.
Data is handled as lists (one array per input, one per output), so the same loop runs a
Sequential stack and a functional graph of several inputs and outputs.
"""
import math

import numpy as np

from .. import _C
from .. import callbacks as _cb
from .. import optimizers as _optimizers
from ..autograd import no_grad
from ..data import BatchIterator
from ..data import sequence as _sequence
from ..layers.base import Layer, _symbolic, _unique_name, keras1_names
from ..saving import load_weights, save_model, save_weights
from .compiled import CompileAPI, _dedupe
from .custom_step import CustomStepAPI
from .subclassing import SubclassingAPI


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



class Model(SubclassingAPI, CustomStepAPI, CompileAPI, Layer):
    """The base of every model: compile, fit, evaluate, predict, weights, trainable, summary,
    saving. A subclass says how its layers are wired by giving ``layers``, ``_input_names``,
    ``_output_names``, ``_ensure_built(shapes, name)`` and ``_run(inputs, training, logits)``.

    ``Model(inputs, outputs, name=None)`` is the functional API (it makes a ``Functional``, as
    Keras 3 does): ``inputs`` one ``pydl.Input(...)`` or a list of them, ``outputs`` one symbolic
    tensor or a list, computed from the inputs by calling layers on them.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model:
            from .functional import Functional
            return super().__new__(Functional)
        return super().__new__(cls)

    def _init_model(self, name, default_name):
        # The Layer attributes a model has (Layer.__init__ is not run: a model's trainable,
        # weights, shapes and dtype are its layers')
        self.name = name or _unique_name(default_name)
        self._dtype_given = False
        self.activity_regularizer = None
        self._params = []
        self._untrainable = set()
        self._inbound_nodes = []
        self._trainable = True
        self.optimizer = None
        self.loss = None
        self.compiled_metrics = []
        self.stop_training = False
        self.history = None
        self._compiled_trainable = None  # (model.trainable, {id(leaf layer): trainable}) at compile
        self._trained = []  # the weights fit trains (those trainable at compile)
        self._optimizer_built = False

    # ---------------------------------------------------------------- structure
    _single_input = True
    _single_output = True

    def _leaf_flags(self, trainable=True):
        """(layer, trainable) for every layer that is not a model, looking inside nested models;
        a layer is trainable when it and every model around it are."""
        out, seen = [], set()
        for layer in self.layers:
            if isinstance(layer, Model):
                inner = layer._leaf_flags(trainable and layer.trainable)
            else:
                inner = [(layer, trainable and layer.trainable)]
            for leaf, flag in inner:
                if id(leaf) not in seen:
                    seen.add(id(leaf))
                    out.append((leaf, flag))
        return out

    def _leaf_layers(self):
        return [leaf for leaf, _ in self._leaf_flags()]

    def get_layer(self, name=None, index=None):
        """A layer by its name, or by its index in ``model.layers`` (Keras's get_layer)."""
        if (name is None) == (index is None):
            raise ValueError(f"{self.name}.get_layer: give either name or index (exactly one), got name={name!r}, "
                             f"index={index!r}")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"{self.name}.get_layer: index must be an int, got {index!r}")
            if not -len(self.layers) <= index < len(self.layers):
                raise IndexError(f"{self.name}.get_layer: index {index} is out of range: the model has "
                                 f"{len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{self.name}.get_layer: no layer named {name!r}; the layers are "
                         f"{[l.name for l in self.layers]}")

    @property
    def trainable(self):
        """``model.trainable = False`` freezes every layer (it sets each layer's ``trainable``, as
        Keras does, inside nested models too); as for a layer, call ``compile`` again for ``fit``
        to see the change."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._all_layers():
            layer.trainable = self._trainable

    def _all_layers(self):
        return self.layers

    def parameters(self):
        """The trainable parameter tensors, now (for ``Adam(model.parameters())``). An optimizer
        holds the tensors it was given at its construction: after changing ``trainable``, make
        a new optimizer from ``model.parameters()`` (or, with ``compile``, compile again)."""
        return self._weights_trainable_when(self.trainable)

    def _weights_trainable_when(self, trainable):
        if not trainable:
            return []
        return _dedupe([w for leaf, flag in self._leaf_flags() for w in leaf._weights_trainable_when(flag)])

    @property
    def weights(self):
        return _dedupe([w for l in self.layers for w in l.weights])

    @property
    def trainable_weights(self):
        return self.parameters()

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.parameters()}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def losses(self):
        """The activity penalties and ``add_loss`` terms of the last call, from every layer inside
        (and a subclassed model's own ``add_loss`` terms)."""
        return [t for leaf in self._leaf_layers() for t in leaf.losses] + self._own_loss_terms()

    @losses.setter
    def losses(self, value):
        if list(value):
            raise ValueError(f"{self.name}: a model's losses are its layers'; they cannot be set")

    def regularization_losses(self):
        return [t for leaf in self._leaf_layers() for t in leaf.regularization_losses()]

    @property
    def _casts_inputs(self):
        return any(l._casts_inputs for l in self.layers)

    @property
    def dtype(self):
        return self._input_dtype

    @dtype.setter
    def dtype(self, value):
        raise AttributeError(f"{self.name}: a model's dtype is its layers'; give dtype= to its layers or its Input")

    def _symbolic_dtypes(self, inputs, n):
        return [self._output_dtype] * n

    # get_weights, set_weights and count_params are Layer's, over this model's `weights`.

    def _summary_check(self):
        if not self.built:
            raise ValueError(f"{self.name} has not been built yet: give the first layer an input_shape "
                             "(or start with Input(shape=...)), or call fit/predict first")

    def _summary_table(self, heads, rows, print_fn):
        w = [max(len(h), *(len(line) for r in rows for line in r[i].split("\n"))) + 2 for i, h in enumerate(heads)]
        line = "=" * sum(w)
        out = [f'Model: "{self.name}"', line, "".join(h.ljust(w[i]) for i, h in enumerate(heads)), line]
        for r in rows:
            parts = [c.split("\n") for c in r]
            for k in range(max(len(p) for p in parts)):
                out.append("".join((p[k] if k < len(p) else "").ljust(w[i]) for i, p in enumerate(parts)))
        total = self.count_params()
        trainable = sum(int(np.prod(p.shape)) for p in self.parameters())
        out += [line, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                f"Non-trainable params: {total - trainable:,}", "_" * sum(w)]
        print_fn("\n".join(out))

    # ---------------------------------------------------------------- calling
    def __call__(self, x, training=False):
        """On data (a tensor or array; a list for several inputs): the outputs, with a graph
        for autograd. On symbolic tensors: a node of a functional graph (a model used as a layer)."""
        if _symbolic(x):
            return self._symbolic_call(x, training=None if training is False else training)
        xs = self._split(x, self._input_names, "x", self.name)
        xs = [t if isinstance(t, _C.Tensor) else _C.tensor(_as_array(f"{self.name}: x", t), dtype=self._input_dtype)
              for t in xs]
        self._ensure_built([tuple(t.shape) for t in xs], self.name)
        outs = self._run(xs, training=training)
        return outs[0] if self._single_output else outs

    def _call(self, x, training=None, logits=False):
        """As a layer of another model. ``logits=True``: the output before its last layer's
        softmax/sigmoid, for the outer model's fused loss (only asked of a model of one output
        whose ``_fusable_output_layers`` found such a layer)."""
        if not logits:
            return self(x, training=bool(training))
        xs = self._split(x, self._input_names, "x", self.name)
        self._ensure_built([tuple(t.shape) for t in xs], self.name)
        return self._run(xs, training=bool(training), logits=[True])[0]

    def _inner_fusable(self):
        """The layer that can give this model's one output as logits (inside it), else None."""
        if not self._single_output or len(self._output_names) != 1:
            return None
        return self._fusable_output_layers()[0]

    def _build_for(self, input_shape):
        self.build(input_shape)

    # ---------------------------------------------------------------- data
    def _split(self, value, names, what, name):
        """One call's ``x`` (or ``y``, ``sample_weight``) as a list with one entry per input (or
        output): a dict keyed by their names, a list or tuple in their order, or, for a model of
        one input, the array itself."""
        if isinstance(value, dict):
            missing = [n for n in names if n not in value]
            extra = [k for k in value if k not in names]
            if missing or extra:
                kind = "inputs" if what == "x" else "outputs"
                raise ValueError(f"{name}: {what} is a dict with keys {list(value)}, but {self.name}'s {kind} are "
                                 f"{names}" + (f" (missing {missing})" if missing else "")
                                 + (f" (unknown {extra})" if extra else ""))
            return [value[n] for n in names]
        if len(names) == 1:
            if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], (np.ndarray, _C.Tensor)):
                return [value[0]]  # [x] for a model of one input (Keras flattens the structure too)
            return [value]
        if isinstance(value, (list, tuple)) and len(value) == len(names):
            return list(value)
        kind = "inputs" if what == "x" else "outputs"
        got = f"a list of {len(value)}" if isinstance(value, (list, tuple)) else type(value).__name__
        raise ValueError(f"{name}: {self.name} has {len(names)} {kind} {names}: give {what} as a list of "
                         f"{len(names)} arrays (in that order) or a dict keyed by those names, got {got}")

    def _prepare(self, x, y=None, sample_weight=None, name="fit"):
        """Check and convert one call's data into lists (one array per input, per output): x to
        the model's input dtype (uint8 images stay uint8 for a float32 model: the batcher converts
        them), y and sample_weight to its output dtype; rows must match and everything be finite.
        ``name`` starts every message."""
        if x is None:
            raise ValueError(f"{name}: x is missing (the input samples)")
        in_names, out_names = self._input_names, self._output_names
        xs = self._split(x, in_names, "x", name)
        label = (lambda what, i, names: what) if len(in_names) == 1 else \
            (lambda what, i, names: f"{what}[{names[i]!r}]")
        dtype = np.dtype(self._input_dtype.name)
        for i, xi in enumerate(xs):
            if xi is None:
                raise ValueError(f"{name}: {label('x', i, in_names)} is missing")
            xi = _as_array(f"{name}: {label('x', i, in_names)}", xi)
            if len(xi) == 0:
                raise ValueError(f"{name}: {label('x', i, in_names)} has no samples (shape {xi.shape})")
            if xi.dtype != dtype and not (xi.dtype == np.uint8 and dtype == np.float32):
                xi = xi.astype(dtype)
            _check_finite(f"{name}: {label('x', i, in_names)}", xi)
            if i and len(xi) != len(xs[0]):
                raise ValueError(f"{name}: {label('x', 0, in_names)} has {len(xs[0])} samples but "
                                 f"{label('x', i, in_names)} has {len(xi)}; every input needs one row per sample")
            xs[i] = xi
        n = len(xs[0])
        xdesc = "x" if len(in_names) == 1 else f"x[{in_names[0]!r}]"
        out_dtype = np.dtype(self._output_dtype.name)
        lab = (lambda what, i: what) if len(out_names) == 1 else (lambda what, i: f"{what}[{out_names[i]!r}]")
        ys = None
        if y is not None:
            ys = self._split(y, out_names, "y", name)
            for i, yi in enumerate(ys):
                if yi is None:
                    if self._output_losses_or_none(i) is not None:
                        raise ValueError(f"{name}: {lab('y', i)} is missing (the output has a loss)")
                    continue
                yi = _as_array(f"{name}: {lab('y', i)}", yi)
                if len(yi) != n:
                    raise ValueError(f"{name}: {xdesc} has {n} samples but {lab('y', i)} has {len(yi)}; they must "
                                     f"match (x has shape {xs[0].shape}, y {yi.shape})")
                yi = yi.astype(out_dtype, copy=False)
                _check_finite(f"{name}: {lab('y', i)}", yi)
                ys[i] = yi
        sws = None
        if sample_weight is not None:
            if isinstance(sample_weight, dict) or (len(out_names) > 1 and isinstance(sample_weight, (list, tuple))):
                sws = self._split(sample_weight, out_names, "sample_weight", name)
            else:  # one array weighs the samples of every output (Keras)
                sws = [sample_weight] * len(out_names)
            for i, wi in enumerate(sws):
                if wi is None:
                    continue
                wi = _as_array(f"{name}: {lab('sample_weight', i)}", wi).astype(out_dtype).reshape(-1)
                if len(wi) != n:
                    raise ValueError(f"{name}: {lab('sample_weight', i)} has {len(wi)} entries for {n} samples")
                _check_finite(f"{name}: {lab('sample_weight', i)}", wi)
                sws[i] = wi
        return xs, ys, sws

    def _output_losses_or_none(self, i):
        losses = getattr(self, "_output_losses", None)
        return None if losses is None else losses[i]

    def _batches(self, xs, ys, sws, batch_size, shuffle, seed=None):
        """The batches of one epoch as (xbs, ybs, wbs) lists. One input and one output: one
        BatchIterator; several: one per array, all with the same seed (the same order of rows)."""
        n_out = len(self._output_names)
        if len(xs) == 1 and n_out == 1:
            it = BatchIterator(xs[0], None if ys is None else ys[0], batch_size=batch_size, shuffle=shuffle,
                               seed=seed, sample_weight=None if sws is None else sws[0])
            return _Batches([it], 1, ys is not None, sws is not None)
        its = [BatchIterator(x, None, batch_size=batch_size, shuffle=shuffle, seed=seed) for x in xs]
        if ys is not None:
            dummy = np.zeros((len(xs[0]), 1), dtype=self._output_dtype.name)  # carries the row order only
            for i in range(n_out):
                y = ys[i] if ys[i] is not None else dummy
                w = None if sws is None or ys[i] is None else sws[i]
                its.append(BatchIterator(dummy, y, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                         sample_weight=w))
        return _Batches(its, len(xs), ys is not None, sws is not None, [y is None for y in (ys or [])])

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

    def _apply_class_weight(self, name, ys, sws, class_weight):
        if class_weight is None:
            return sws
        if len(self._output_names) > 1:
            raise ValueError(f"{name}: class_weight is for a model of one output ({self.name} has "
                             f"{len(self._output_names)}); weigh samples with sample_weight per output instead")
        cw = self._class_weights(name, ys[0], class_weight)
        return [cw] if sws is None else [sws[0] * cw]

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

    def _logs(self, total, seen, loss_sums, metric_objs, last_loss=None):
        """Keras's log names: 'loss' (the minimised total), then for several outputs each
        output's unweighted loss '<output>_loss', then the metrics ('<output>_<metric>')."""
        logs = {"loss": total / seen if last_loss is None or math.isfinite(last_loss) else last_loss}
        if len(self._output_names) > 1:
            for name, s in zip(self._output_names, loss_sums):
                if s is not None:
                    logs[f"{name}_loss"] = s / seen
        logs.update({m.name: m.result() for m, _, _ in metric_objs})
        return logs

    @staticmethod
    def _add_parts(loss_sums, parts, n):
        return [None if p is None else (s or 0.0) + p * n for s, p in zip(loss_sums, parts)]

    # ---------------------------------------------------------------- fit
    @keras1_names(nb_epoch="epochs")
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, seed=None, **kwargs):
        """Train for ``epochs`` over (x, y) arrays, or over batches from a generator or a
        ``pydl.data.Sequence`` given as ``x`` (then y is not given; see pydl/data/sequence.py:
        a generator needs ``steps_per_epoch``). ``validation_data`` may be one too
        (``validation_steps``)."""
        if kwargs:
            raise TypeError(f"fit: unexpected arguments {sorted(kwargs)}")
        if self._overrides("train_step"):
            from .custom_step import fit_custom
            return fit_custom(self, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
                              shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps,
                              seed)
        self._check_compiled("fit")
        batch_size = self._check_batch_size(batch_size, "fit")
        if int(epochs) != epochs or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        verbose = self._verbose(verbose, "fit")
        if seed is None:  # from pydl's generator: manual_seed repeats the shuffles too
            seed = int(_C.uniform([1], 0.0, 2.0 ** 31, dtype=_C.float64).numpy()[0])
        source = _sequence.is_batch_source(x)
        if source:
            for arg, value in (("y", y), ("sample_weight", sample_weight)):
                if value is not None:
                    raise ValueError(f"fit: x is a {type(x).__name__} of batches, which carry the targets (and sample "
                                     f"weights): yield (x, y) or (x, y, sample_weight) instead of passing {arg}")
            if validation_split:
                raise ValueError("fit: validation_split cannot split a generator or Sequence: give validation_data")
            src = _sequence.BatchSource(x, steps_per_epoch, "fit", "steps_per_epoch", shuffle=bool(shuffle),
                                        seed=seed)
            xs, ys, _ = self._prepare(*src.first)
        else:
            if steps_per_epoch is not None:
                raise ValueError("fit: steps_per_epoch is for a generator or Sequence x; with arrays an epoch is "
                                 "every sample once (choose batch_size)")
            if y is None:
                raise ValueError("fit: y is missing (the targets)")
            xs, ys, sws = self._prepare(x, y, sample_weight)
        val = None
        if validation_data is not None and _sequence.is_batch_source(validation_data):
            val = _sequence.BatchSource(validation_data, validation_steps, "fit: validation_data", "validation_steps")
            self._ensure_built([a.shape for a in self._prepare(*val.first, name="fit: validation_data")[0]],
                               "fit: validation_data")
            validation_data = None
        elif validation_steps is not None:
            raise ValueError("fit: validation_steps is for a generator or Sequence given as validation_data")
        if source:
            self._ensure_built([a.shape for a in xs], "fit")
            if validation_data is not None:  # arrays, beside a generator or Sequence for training
                val = self._validation_arrays(validation_data)
            self._warn_if_trainable_changed("fit", stacklevel=4)
            batches = _SourceBatches(self, src, "fit", class_weight)
            return self._fit_loop(batches, ys, val, epochs, initial_epoch, verbose, callbacks, batch_size, src)
        n = len(xs[0])
        if val is None and validation_data is None and validation_split > 0:
            n_val = int(math.ceil(n * validation_split))
            if n_val >= n:
                raise ValueError("fit: validation_split leaves no training samples")
            cut = (lambda arrays, part: None if arrays is None else
                   [None if a is None else (a[-n_val:] if part else a[:-n_val]) for a in arrays])
            val = (cut(xs, True), cut(ys, True), None)
            xs, ys, sws = cut(xs, False), cut(ys, False), cut(sws, False)
        sws = self._apply_class_weight("fit", ys, sws, class_weight)
        self._ensure_built([a.shape for a in xs], "fit")
        if validation_data is not None:
            val = self._validation_arrays(validation_data)
        self._warn_if_trainable_changed("fit", stacklevel=4)  # fit is wrapped by keras1_names
        batches = self._batches(xs, ys, sws, batch_size, bool(shuffle), seed)
        return self._fit_loop(batches, ys, val, epochs, initial_epoch, verbose, callbacks, batch_size)

    def _validation_arrays(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("fit: validation_data must be (x_val, y_val), (x_val, y_val, sample_weight), a generator "
                             "or a Sequence")
        val = self._prepare(*validation_data[:2], *(validation_data[2:] or [None]), name="fit: validation_data")
        self._ensure_built([a.shape for a in val[0]], "fit: validation_data")
        return val

    def _fit_loop(self, batches, ys, val, epochs, initial_epoch, verbose, callbacks, batch_size, source=None):
        """The epochs of fit over ``batches`` (an epoch's (xbs, ybs, wbs) per iteration); ``val``
        arrays (xs, ys, sws) or a BatchSource; ``source``: the training BatchSource, told when
        an epoch ends (a Sequence's on_epoch_end)."""
        self.history = _cb.History()
        cbs = [self.history] + list(callbacks or [])
        if verbose:
            cbs.append(_cb.ProgbarLogger(verbose))
        params = {"epochs": int(epochs), "steps": len(batches), "batch_size": batch_size, "verbose": verbose}
        cl = _cb.CallbackList(cbs, self, params)
        self.stop_training = False
        metric_objs = self._make_metrics(ys, "train")
        cl.call("on_train_begin", {})
        for epoch in range(int(initial_epoch), int(epochs)):
            cl.call("on_epoch_begin", epoch, {})
            for m, _, _ in metric_objs:  # each epoch's training metrics start afresh (Keras)
                m.reset_state()
            total, seen, loss_sums = 0.0, 0, [None] * len(self._output_names)
            logs = {}
            for step, (xbs, ybs, wbs) in enumerate(batches):
                nb = len(xbs[0])
                cl.call("on_train_batch_begin", step, {"size": nb})
                try:
                    loss, outs, parts = self._train_step(xbs, ybs, wbs, outputs=bool(metric_objs))
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
                total += loss * nb
                seen += nb
                loss_sums = self._add_parts(loss_sums, parts, nb)
                self._update_metrics(metric_objs, ybs, outs, wbs)
                logs = self._logs(total, seen, loss_sums, metric_objs, last_loss=loss)
                cl.call("on_train_batch_end", step, logs)
                if self.stop_training:
                    break
            if source is not None:
                source.end_epoch()
            if isinstance(val, _sequence.BatchSource):
                vals = self._evaluate_arrays(None, None, y_for_metrics=ys, callbacks=cl,
                                             batches=_SourceBatches(self, val, "fit: validation_data"))
                val.end_epoch()
                logs.update({"val_" + k: v for k, v in vals.items()})
            elif val is not None:
                vals = self._evaluate_arrays(*val, batch_size=batch_size, y_for_metrics=ys, callbacks=cl)
                logs.update({"val_" + k: v for k, v in vals.items()})
            cl.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        cl.call("on_train_end", {})
        return self.history

    # ---------------------------------------------------------------- evaluate / predict
    def _evaluate_arrays(self, xs, ys, sws=None, batch_size=32, y_for_metrics=None, callbacks=None, batches=None):
        """The loss and metrics over (xs, ys); ``callbacks`` (a CallbackList) get Keras's on_test_*
        hooks, each batch's logs holding the running means so far."""
        if ys is None and y_for_metrics is None:  # batches from a source: its first batch's targets
            y_for_metrics = batches.first_ys
            role = "evaluate"
        else:
            role = "evaluate" if y_for_metrics is None else "val"
        metric_objs = self._make_metrics(ys if y_for_metrics is None else y_for_metrics, role)
        cl = callbacks if callbacks is not None else _cb.CallbackList([], self, {})
        batch_logs = cl.has("on_test_batch_end")
        total, seen, loss_sums = 0.0, 0, [None] * len(self._output_names)
        cl.call("on_test_begin", {})
        with no_grad():
            if batches is None:
                batches = self._batches(xs, ys, sws, batch_size, False)
            for step, (xbs, ybs, wbs) in enumerate(batches):
                nb = len(xbs[0])
                cl.call("on_test_batch_begin", step, {"size": nb})
                loss, outs, parts = self._loss_and_outputs(xbs, ybs, wbs, training=False,
                                                           outputs=bool(metric_objs))
                total += float(loss.item()) * nb
                seen += nb
                loss_sums = self._add_parts(loss_sums, self._part_values(parts), nb)
                self._update_metrics(metric_objs, ybs, outs, wbs)
                if batch_logs:
                    cl.call("on_test_batch_end", step, self._logs(total, seen, loss_sums, metric_objs))
        logs = self._logs(total, max(seen, 1), loss_sums, metric_objs)
        cl.call("on_test_end", dict(logs))
        return logs

    def _callbacks(self, callbacks, verbose, steps):
        """The CallbackList of an evaluate or predict: the user's callbacks, then a progress bar."""
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(_cb.ProgbarLogger(verbose))
        return _cb.CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "steps": steps})

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """The loss, then each metric: a scalar without metrics, else a list (Keras's order).
        ``verbose``: 'auto' or 1 a progress bar, 2 one line, 0 silent. ``callbacks`` get
        on_test_begin/on_test_batch_begin/on_test_batch_end/on_test_end."""
        if self._overrides("test_step"):
            from .custom_step import evaluate_custom
            return evaluate_custom(self, x, y, batch_size, verbose, sample_weight, return_dict, callbacks, steps)
        return self._evaluate("evaluate", x, y, batch_size, verbose, sample_weight, return_dict, callbacks, steps)

    def _evaluate(self, name, x, y, batch_size, verbose, sample_weight, return_dict, callbacks, steps=None):
        self._check_compiled(name)
        batch_size = self._check_batch_size(batch_size, name)
        verbose = self._verbose(verbose, name)
        if _sequence.is_batch_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError(f"{name}: x is a {type(x).__name__} of batches, which carry the targets: yield "
                                 "(x, y) or (x, y, sample_weight) instead of passing y or sample_weight")
            src = _sequence.BatchSource(x, steps, name, "steps")
            self._ensure_built([a.shape for a in self._prepare(*src.first, name=name)[0]], name)
            cl = self._callbacks(callbacks, verbose, src.steps)
            logs = self._evaluate_arrays(None, None, callbacks=cl, batches=_SourceBatches(self, src, name))
        else:
            if steps is not None:
                raise ValueError(f"{name}: steps is for a generator or Sequence x; with arrays every sample is used")
            if y is None:
                raise ValueError(f"{name}: y is missing")
            xs, ys, sws = self._prepare(x, y, sample_weight, name=name)
            self._ensure_built([a.shape for a in xs], name)
            cl = self._callbacks(callbacks, verbose, math.ceil(len(xs[0]) / batch_size))
            logs = self._evaluate_arrays(xs, ys, sws, batch_size, callbacks=cl)
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs as a NumPy array (in the model's dtype; a list of arrays for a
        model of several outputs), computed in batches without a graph. ``verbose`` as in
        ``evaluate``; ``callbacks`` get on_predict_begin, on_predict_batch_begin,
        on_predict_batch_end (logs {'outputs': the batch's outputs}), on_predict_end."""
        return self._predict("predict", x, batch_size, verbose, callbacks, steps)

    def _predict(self, name, x, batch_size, verbose, callbacks, steps=None):
        batch_size = self._check_batch_size(batch_size, name)
        verbose = self._verbose(verbose, name)
        if _sequence.is_batch_source(x):  # batches of x, or (x, y...) tuples whose x is used
            src = _sequence.BatchSource(x, steps, name, "steps", need_y=False)
            self._ensure_built([a.shape for a in self._prepare(src.first[0], name=name)[0]], name)
            batches = _SourceBatches(self, src, name, inputs_only=True)
            n_steps = src.steps
        else:
            if steps is not None:
                raise ValueError(f"{name}: steps is for a generator or Sequence x; with arrays every sample is used")
            xs = self._prepare(x, name=name)[0]
            self._ensure_built([a.shape for a in xs], name)
            batches = self._batches(xs, None, None, batch_size, False)
            n_steps = math.ceil(len(xs[0]) / batch_size)
        cl = self._callbacks(callbacks, verbose, n_steps)
        outs = []
        cl.call("on_predict_begin", {})
        with no_grad():
            for step, (xbs, _, _) in enumerate(batches):
                cl.call("on_predict_batch_begin", step, {"size": len(xbs[0])})
                batch = [o.numpy().copy() for o in self._run([_C.from_numpy(xb) for xb in xbs], training=False)]
                outs.append(batch)
                cl.call("on_predict_batch_end", step, {"outputs": batch[0] if self._single_output else batch})
        cl.call("on_predict_end", {})
        result = [np.concatenate([b[k] for b in outs]) for k in range(len(outs[0]))]
        return result[0] if self._single_output else result

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on (x, y); ``class_weight`` as in ``fit`` (multiplying ``sample_weight``)."""
        self._check_compiled("train_on_batch")
        xs, ys, sws = self._prepare(x, y, sample_weight, name="train_on_batch")
        self._ensure_built([a.shape for a in xs], "train_on_batch")
        sws = self._apply_class_weight("train_on_batch", ys, sws, class_weight)
        self._warn_if_trainable_changed("train_on_batch")
        xbs = [np.ascontiguousarray(a, dtype=self._input_dtype.name) for a in xs]
        ybs = [None if a is None else np.ascontiguousarray(a) for a in ys]
        wbs = sws or [None] * len(ybs)
        metric_objs = self._make_metrics(ys, "train")
        loss, outs, parts = self._train_step(xbs, ybs, wbs, outputs=bool(metric_objs))
        self._update_metrics(metric_objs, ybs, outs, wbs)
        logs = self._logs(loss, 1, parts, metric_objs)
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    def _n_rows(self, x):
        first = self._split(x, self._input_names, "x", self.name)[0]
        return max(len(first), 1)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        return self._evaluate("test_on_batch", x, y, self._n_rows(x), 0, sample_weight, return_dict, None)

    def predict_on_batch(self, x):
        return self._predict("predict_on_batch", x, self._n_rows(x), 0, None)

    # ---------------------------------------------------------------- saving
    def save(self, path):
        save_model(self, path)

    def save_weights(self, path):
        save_weights(self, path)

    def load_weights(self, path):
        load_weights(self, path)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class _Batches:
    """The batches of one epoch as (xbs, ybs, wbs): lists over inputs and outputs."""

    def __init__(self, iterators, n_inputs, has_y, has_w, y_missing=()):
        self._its = iterators
        self._n_in = n_inputs
        self._has_y = has_y
        self._has_w = has_w
        self._y_missing = list(y_missing)

    def __len__(self):
        return len(self._its[0])

    def __iter__(self):
        if len(self._its) == 1:  # one input and one output
            for batch in self._its[0]:
                yield [batch[0]], [batch[1]], [batch[2] if len(batch) > 2 else None]
            return
        for batches in zip(*self._its):
            xbs = [b[0] for b in batches[:self._n_in]]
            outs = batches[self._n_in:]
            ybs = [None if missing else b[1] for b, missing in zip(outs, self._y_missing)] if self._has_y else None
            wbs = [b[2] if len(b) > 2 else None for b in outs] if self._has_y else None
            yield xbs, ybs, wbs


class _SourceBatches:
    """An epoch of (xbs, ybs, wbs) from a BatchSource (a generator or Sequence): each batch is
    checked and converted as arrays given to fit are (``Model._prepare``)."""

    def __init__(self, model, source, name, class_weight=None, inputs_only=False):
        self._model, self._src, self._name = model, source, name
        self._class_weight, self._inputs_only = class_weight, inputs_only
        self.first_ys = None if inputs_only else model._prepare(*source.first, name=name)[1]

    def __len__(self):
        return self._src.steps

    def __iter__(self):
        m = self._model
        for step, x, y, sw in self._src.epoch():
            where = f"{self._name}: batch {step}"
            if self._inputs_only:
                xs, ys, sws = m._prepare(x, name=where)[0], None, None
            else:
                xs, ys, sws = m._prepare(x, y, sw, name=where)
                if self._class_weight is not None:
                    sws = m._apply_class_weight(where, ys, sws, self._class_weight)
            m._ensure_built([a.shape for a in xs], where)
            yield next(iter(m._batches(xs, ys, sws, len(xs[0]), False)))
