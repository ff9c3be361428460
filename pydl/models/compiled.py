"""compile and what it sets up, as a mixin of Model: the optimizer, the losses and metrics per
output (names, loss_weights, weighted_metrics), the fused output+loss ops, and one training
step's loss (``_loss_and_outputs``, ``_train_step``: the course's four steps). The loops that call
them (fit, evaluate, predict) stay in pydl/models/model.py."""
import math
import warnings

import numpy as np

from .. import _C
from .. import losses as _losses
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from ..autograd import no_grad
from ..layers.base import get_mask, set_mask
from ..layers.core import Activation, Dense


def _mask_lead(what, mask, out_shape, y_shape):
    """Check an output's mask (batch, time) against the output and its targets."""
    k = mask.ndim
    if len(out_shape) <= k or tuple(out_shape[:k]) != mask.shape:
        raise ValueError(f"{what}: the output of shape {tuple(out_shape)} carries a mask of shape {mask.shape}; a "
                         "masked output has the mask's axes then its own (batch, time, classes or features)")
    if tuple(y_shape[:k]) != mask.shape:
        raise ValueError(f"{what}: the targets of shape {tuple(y_shape)} do not match the output's masked axes "
                         f"{mask.shape} (output {tuple(out_shape)}): give one target per time step")


def _masked_loss_args(what, mask, out, y, w, reduction):
    """Keras's masked loss (losses/loss.py apply_mask): every masked position becomes a sample of
    its own, weighted by mask x sample weight; for the mean reductions the weights are scaled by
    positions / real positions, so the loss is sum(w l) over the real positions / their number.
    Returns (y, out, weights) with the masked axes flattened into one."""
    y = y.detach().numpy() if isinstance(y, _C.Tensor) else np.asarray(y)
    w = w.detach().numpy() if isinstance(w, _C.Tensor) else w
    _mask_lead(what, mask, out.shape, np.shape(y))
    k, n = mask.ndim, int(mask.size)
    out2 = out.reshape(n, *tuple(out.shape)[k:])
    y2 = np.ascontiguousarray(np.asarray(y).reshape((n,) + np.shape(y)[k:]))
    m = mask.astype(np.float64)
    if w is not None:  # one weight per sample, on each of its steps
        m = m * np.asarray(w, dtype=np.float64).reshape((-1,) + (1,) * (k - 1))
    if reduction in ("sum_over_batch_size", "mean"):
        valid = float(mask.sum())
        m = m * (n / valid) if valid else m
    return y2, out2, np.ascontiguousarray(m.reshape(n), dtype=out.dtype.name)


def _apply_loss(what, fn, y, out, w):
    """``fn(y, out, sample_weight=w)``, masked as Keras masks it when ``out`` carries a mask:
    the padded steps contribute nothing."""
    mask = get_mask(out)
    if mask is None:
        return fn(y, out, sample_weight=w)
    yb, ob, wb = _masked_loss_args(what, mask, out, y, w, getattr(fn, "reduction", "sum_over_batch_size"))
    return fn(_C.tensor(yb, dtype=out.dtype), ob, sample_weight=_C.from_numpy(wb))


def _masked_metric_args(what, mask, p, y, w):
    """The real positions only, each as a sample (with its sample's weight): a metric's mean is
    then over the real steps, as a masked loss is (Keras 2 masked every compiled metric this way;
    Keras 3 masks only weighted ones, so its 'accuracy' counts the padding)."""
    _mask_lead(what, mask, p.shape, np.shape(y))
    yb = np.asarray(y)[mask]
    wb = None if w is None else np.broadcast_to(
        np.asarray(w).reshape((-1,) + (1,) * (mask.ndim - 1)), mask.shape)[mask]
    return yb, p[mask], wb



def _dedupe(items):
    seen, out = set(), []
    for w in items:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


class CompileAPI:
    """Model's compile, its losses and metrics, and the training step (see the module's docstring)."""

    # ---------------------------------------------------------------- compile
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
        ``steps_per_execution`` must be 1.

        A model of several outputs takes ``loss``, ``loss_weights``, ``metrics`` and
        ``weighted_metrics`` as a list (one entry per output, in order) or a dict keyed by output
        name (the name of the layer making it; an output left out of a dict has no loss or
        metrics); one loss (not a list) applies to every output. The loss fit minimises is the
        sum of each output's loss times its weight (plus the weight penalties)."""
        if kwargs:
            import difflib
            hints = [f"{k!r} (did you mean {difflib.get_close_matches(k, self._COMPILE_ARGS, 1)[0]!r}?)"
                     if difflib.get_close_matches(k, self._COMPILE_ARGS, 1) else repr(k) for k in sorted(kwargs)]
            raise TypeError(f"compile: unexpected argument(s) {', '.join(hints)}; valid arguments: "
                            f"{', '.join(self._COMPILE_ARGS)}")
        for name, v in (("run_eagerly", run_eagerly), ("auto_scale_loss", auto_scale_loss)):
            if v is not None and not isinstance(v, (bool, np.bool_)):
                raise TypeError(f"compile: {name} must be True or False, got {v!r}")
        if jit_compile not in ("auto", True, False, None):
            raise ValueError(f"compile: jit_compile must be 'auto', True or False, got {jit_compile!r}")
        if steps_per_execution not in (1, None):
            raise ValueError(f"compile: steps_per_execution={steps_per_execution!r} is not supported: pydl runs one "
                             "training step per call (and the batch callbacks after each); use 1")
        optimizer = _optimizers.get(optimizer)
        # loss=None: Keras 3 allows it (a custom train_step computes its own loss); the built-in
        # training step then refuses to run (_check_compiled)
        given = self._per_output("loss", loss, broadcast=True) if loss is not None else [None] * len(self._output_names)
        if loss is not None and all(l is None for l in given):
            raise ValueError(f"compile: loss {loss!r} gives no output a loss")
        loss_objs, loss_names = [], []
        for l in given:
            if l is None:
                loss_objs.append(None)
                loss_names.append(None)
                continue
            obj = _losses.get(l)
            if not isinstance(obj, _losses.Loss):  # a Keras-style function fn(y_true, y_pred)
                obj = _losses.LossFunctionWrapper(obj)
            if obj.reduction == "none":
                raise ValueError(f"compile: the loss {obj!r} has reduction='none' (per-sample values); fit needs a "
                                 "scalar: use reduction='sum_over_batch_size' (the default) or 'sum'")
            loss_objs.append(obj)
            loss_names.append(l if isinstance(l, str) else obj.name)
        loss_weight_list = self._check_loss_weights(loss_weights)
        specs = [self._metric_specs(m, "metrics") + self._metric_specs(wm, "weighted_metrics")
                 for m, wm in zip(self._per_output("metrics", metrics), self._per_output("weighted_metrics",
                                                                                          weighted_metrics))]
        self.optimizer = optimizer
        self._output_losses = loss_objs
        self._output_loss_names = loss_names
        self._loss_weights = loss_weight_list
        self._output_metric_specs = specs
        # the single-output view (what a Sequential model has always exposed)
        self.loss = loss_objs[0] if self._single_output else loss_objs
        self.loss_name = loss_names[0] if self._single_output else loss_names
        self._loss_weight = loss_weight_list[0]
        self._metric_names = [m for m, weighted in specs[0] if not weighted]
        self._weighted_metric_names = [m for m, weighted in specs[0] if weighted]
        self._metric_specs_all = specs[0]
        self._compile_args = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics}
        self._make_metrics(None, "check")  # two metrics under one log name fail here, before training
        self._fused = self._find_fusions()
        self._optimizer_built = False
        self._compiled_trainable = (self.trainable, {id(l): flag for l, flag in self._leaf_flags()})

    def _output_name(self):
        return self._output_names[0]

    def _per_output(self, arg, value, broadcast=False):
        """``value`` as a list with one entry per output. A dict is keyed by output name (an
        output left out gets None); a list or tuple has one entry per output (for one output,
        ``loss`` and ``loss_weights`` take a list of one; ``metrics`` a flat list); anything else
        is the one output's value (or, with ``broadcast``, every output's)."""
        names = self._output_names
        if isinstance(value, dict):
            unknown = [k for k in value if k not in names]
            if unknown:
                if len(names) == 1:
                    raise ValueError(f"compile: {arg} {value!r} must have one entry, keyed by the model's output "
                                     f"name {names[0]!r} (the model has one output)")
                raise ValueError(f"compile: {arg} has entries for {unknown}, which are not outputs of {self.name}; "
                                 f"the outputs are {names}")
            return [value.get(n) for n in names]
        if len(names) == 1:
            if arg in ("loss", "loss_weights") and isinstance(value, (list, tuple)):
                if len(value) != 1:
                    raise ValueError(f"compile: {arg} has {len(value)} entries but the model has one output")
                return [value[0]]
            return [value]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError(f"compile: {arg} has {len(value)} entries but {self.name} has {len(names)} outputs "
                                 f"{names}; give one entry per output (a list of them for several metrics), or a "
                                 "dict keyed by output name")
            return list(value)
        if value is None or broadcast:
            return [value] * len(names)
        raise ValueError(f"compile: {self.name} has {len(names)} outputs {names}: give {arg} as a list (one entry per "
                         f"output) or a dict keyed by output name, got {value!r}")

    def _check_loss_weights(self, loss_weights):
        """Each output's multiplier of its loss: a number, or a list / dict of them (one output: a
        list / dict of one)."""
        if loss_weights is not None and not isinstance(loss_weights, (dict, list, tuple)) \
                and len(self._output_names) > 1:
            ws = [loss_weights] * len(self._output_names)
        else:
            ws = self._per_output("loss_weights", loss_weights)
        out = []
        for w in ws:
            if w is None:
                out.append(1.0)
                continue
            if isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, float, np.integer, np.floating)):
                raise TypeError(f"compile: loss_weights must be a number (or a list / dict of them), got "
                                f"{loss_weights!r}")
            if not math.isfinite(float(w)):
                raise ValueError(f"compile: loss_weights must be finite, got {w!r}")
            out.append(float(w))
        return out

    def _metric_specs(self, metrics, arg):
        """(spec, weighted) pairs; a string or a single metric is one metric, not a sequence."""
        weighted = arg == "weighted_metrics"
        if metrics is None:
            return []
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

    def _find_fusions(self):
        self._fusion_layers = self._fusable_output_layers()
        return [self._find_fusion(layer, loss) if layer is not None and loss is not None else None
                for layer, loss in zip(self._fusion_layers, self._output_losses)]

    def _find_fusion(self, last, loss):
        """softmax + categorical crossentropy (or sigmoid + binary crossentropy) at the end of an
        output are computed together from the logits: stable, and one pass cheaper. The fused loss is
        the user's loss with from_logits=True and every other argument kept (label_smoothing,
        reduction, ...). A loss already from_logits=True is applied to the softmax's outputs as given
        (as Keras does; it warns), and a subclass is never fused (its call may differ)."""
        act = getattr(last, "activation", None)
        if not isinstance(last, (Dense, Activation)) or act is None or type(loss) not in _losses._FUSABLE:
            return None
        from ..activations import softmax, sigmoid
        binary = type(loss) is _losses.BinaryCrossentropy
        if not ((act is softmax and not binary) or (act is sigmoid and binary)):
            return None
        if loss.from_logits:
            warnings.warn(f"compile: the loss has from_logits=True but the last layer ({last.name}) applies "
                          f"{act.__name__}, so its outputs are probabilities, not logits; the loss treats them as "
                          "logits. Drop the activation, or use from_logits=False", UserWarning, stacklevel=4)
            return None
        return _losses.get_from_logits(loss)

    def _check_compiled(self, what):
        if self.optimizer is None:
            raise RuntimeError(f"{what}: compile the model first: model.compile(optimizer=..., loss=...)")
        if self.loss is None or (isinstance(self.loss, list) and all(l is None for l in self.loss)):
            raise RuntimeError(f"{what}: the model was compiled without a loss; give compile a loss=..., or override "
                               "train_step (and test_step) to compute your own")

    # ---------------------------------------------------------------- one step
    def _loss_and_outputs(self, xbs, ybs, wbs, training, outputs=True):
        """The loss of one batch, each output's (unweighted) loss value and, when ``outputs``
        (the metrics need them), the model's outputs."""
        xs = [_C.from_numpy(xb) for xb in xbs]
        logits = [f is not None for f in self._fused]
        outs = self._run(xs, training=training, logits=logits)
        loss, parts, results = None, [], []
        for i, out in enumerate(outs):
            fn = self._fused[i] if logits[i] else self._output_losses[i]
            mask = get_mask(out)
            if fn is not None:
                part = _apply_loss(f"loss of output {self._output_names[i]!r}", fn, _C.from_numpy(ybs[i]), out,
                                   None if wbs[i] is None else _C.from_numpy(wbs[i]))
                if part.dim() != 0:
                    raise ValueError(f"{self._output_loss_names[i]}: the loss gave shape {tuple(part.shape)}, not a "
                                     "scalar; a loss object must reduce its values (reduction "
                                     "'sum_over_batch_size' or 'sum')")
                parts.append(part)
                if self._loss_weights[i] != 1.0:
                    part = part * self._loss_weights[i]
                loss = part if loss is None else loss + part
            else:
                parts.append(None)
            if logits[i]:
                if outputs:  # the fused loss never formed the probabilities
                    with no_grad():
                        out = self._fusion_layers[i].activation(out)
                    set_mask(out, mask)  # for the metrics
                else:
                    out = None
            results.append(out)
        # loss_weights scale the compiled loss only, not the penalties (Keras's compute_loss).
        # The weight penalties are part of the loss (as Keras reports it, so val_loss and
        # EarlyStopping see them too); autograd adds their gradients to the weights'.
        for t in self._regularization():
            loss = loss + t
        return loss, results, parts

    def _regularization(self):
        terms = []
        for l in self._leaf_layers():
            terms += l.regularization_losses()
            terms += list(l.losses)
        return terms + self._own_loss_terms()

    def _train_step(self, xbs, ybs, wbs, outputs=True):
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
            loss, out, parts = self._loss_and_outputs(xbs, ybs, wbs, training=True, outputs=outputs)
            if self._trained:
                loss.backward()
                # Only the compiled trainable weights, even if the optimizer also knows others
                # (one that trained this model before a layer was frozen and it was compiled again).
                try:
                    self.optimizer.apply([w.grad for w in self._trained], self._trained)
                except _optimizers.NonFiniteGradientError as e:  # no weight changed; say which layer
                    raise e.for_layers(self._leaf_layers(), loss=float(loss.item())) from None
        except BaseException:
            with no_grad():
                for w, value in state:
                    w.copy_(_C.tensor(value, dtype=w.dtype))
            raise
        finally:
            for w in frozen:
                w.requires_grad = True
        return float(loss.item()), out, self._part_values(parts)

    def _part_values(self, parts):
        """Each output's loss as a float, for the logs of a model of several outputs (one output:
        its loss is 'loss', so no second read of it)."""
        if len(parts) == 1:
            return [None]
        return [None if p is None else float(p.item()) for p in parts]

    def _compiled_parameters(self):
        """The weights that were trainable when the model was compiled (Keras fixes them then)."""
        if self._compiled_trainable is None:
            return self.parameters()
        model_trainable, flags = self._compiled_trainable
        if not model_trainable:
            return []
        return _dedupe([w for leaf, now in self._leaf_flags()
                        for w in leaf._weights_trainable_when(flags.get(id(leaf), now))])

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
        self._state_weights = [w for l in self._leaf_layers() for w in l.weights
                               if w.name in getattr(l, "_untrainable", ())]
        self.optimizer.build(self._trained)
        self._optimizer_built = True

    def _warn_if_trainable_changed(self, name, stacklevel=3):
        if [id(w) for w in self.parameters()] != [id(w) for w in self._compiled_parameters()]:
            warnings.warn(f"{name}: the trainable weights changed since the model was compiled (a layer's or the "
                          "model's `trainable` was set), and this still trains the weights trainable then; call "
                          "model.compile(...) again for the change to take effect (as in Keras)", UserWarning,
                          stacklevel=stacklevel)

    def _make_metrics(self, ys, role):
        """(metric, weighted, output index) triples with a fresh state for one pass over data.
        role 'train': a Metric object given to compile is used itself (fit resets it every epoch);
        'val' and 'evaluate' get copies of it, so training and validation never share a state
        ('check': compile's copies, to check the log names). With several outputs a metric's
        name is '<output>_<metric>' (Keras 3)."""
        import copy
        objs, names = [], set()
        multi = len(self._output_names) > 1
        for k, specs in enumerate(self._output_metric_specs):
            shape = self._output_shape_of(k)
            loss = self._output_losses[k]
            loss_name = self._output_loss_names[k]
            loss_key = _losses.canonical_name(loss) if loss is not None else None
            loss_key = loss_key or (loss_name if isinstance(loss_name, str) else None)
            y = None if ys is None else ys[k]
            local = set()
            for spec, weighted in specs:
                if isinstance(spec, _metrics.Metric):
                    m = spec if role == "train" else copy.deepcopy(spec)
                else:
                    m = _metrics.get(spec, loss_name=loss_key, y_true=y, y_pred_shape=shape)
                m.reset_state()
                if weighted and m.name in local:  # Keras: a weighted twin of a metric is 'weighted_<name>'
                    if role == "train" and m is spec:
                        m = copy.deepcopy(spec)
                    m.name = "weighted_" + m.name
                local.add(m.name)
                if multi:
                    if m is spec:  # the user's object keeps its own name
                        m = copy.deepcopy(spec)
                    m.name = f"{self._output_names[k]}_{m.name}"
                if m.name in names or m.name == "loss" or (multi and m.name.endswith("_loss")
                                                            and m.name[:-5] in self._output_names):
                    raise ValueError(f"compile: two metrics report under the name {m.name!r} (the loss is 'loss'); "
                                     "give one a name= (or list it once)")
                names.add(m.name)
                objs.append((m, weighted, k))
        return objs

    def _output_shape_of(self, k):
        shapes = self._output_shapes()
        return None if shapes is None else shapes[k]

    @staticmethod
    def _update_metrics(metric_objs, ybs, outs, wbs):
        """Metrics see no sample weights; weighted_metrics see them (and class_weight), as in Keras."""
        if not metric_objs:
            return
        outn = {}
        for m, weighted, k in metric_objs:
            if k not in outn:
                outn[k] = outs[k].detach().numpy()
            mask = get_mask(outs[k])
            if mask is None:
                m.update_state(ybs[k], outn[k], wbs[k] if weighted else None)
                continue
            y, p, w = _masked_metric_args(f"metric {m.name}", mask, outn[k], ybs[k], wbs[k] if weighted else None)
            if len(p):  # a batch of padding only adds nothing
                m.update_state(y, p, w)
