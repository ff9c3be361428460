"""Optimizers: Keras 3's names, defaults and update rules, driven Keras's way or PyTorch's.

    model.compile(optimizer=Adam(learning_rate=1e-3), loss=...)     # Keras
    opt = SGD(model.parameters(), learning_rate=0.1)                # PyTorch-style, the
    opt.zero_grad(); loss = ...; loss.backward(); opt.step()        # course's four steps

Each class is a thin named constructor over one C++ update rule (cpp/src/optim/): the whole
step over every parameter is one call into C++ (``_C.optimizer_step``), which also applies
the gradient clipping (``clipnorm``, ``global_clipnorm``, ``clipvalue``) and the decoupled
weight decay (``p -= learning_rate * weight_decay * p``) on the fly; ``.grad`` is never
modified. Parameters whose ``grad`` is None are skipped.

A gradient holding NaN or inf never reaches the weights: the step checks every gradient first
and raises ``NonFiniteGradientError`` (naming each such parameter) before changing anything
(PyTorch would write the NaN into the weights; Keras too). ``fit`` reports the layer.
Hyperparameters are checked when given and whenever set later (``opt.learning_rate = -1``
raises ValueError naming the optimizer and the argument).

The update rules (g: gradient, lr: learning rate, t = iterations + 1):
    SGD       m = momentum m - lr g;  p += m  (nesterov: p += momentum m - lr g);  p -= lr g without momentum
    Adagrad   a += g^2;  p -= lr g / sqrt(a + eps)
    Adadelta  Eg = rho Eg + (1-rho) g^2;  d = -sqrt(Ed + eps) / sqrt(Eg + eps) g;
              Ed = rho Ed + (1-rho) d^2;  p += lr d        (learning_rate=1.0: Zeiler's rule)
    RMSprop   v = rho v + (1-rho) g^2  (centered: mg = rho mg + (1-rho) g, use v - mg^2);
              inc = lr g / sqrt(v + eps);  p -= inc  (momentum: m = momentum m + inc; p -= m)
    Adam      m += (g - m)(1 - beta_1);  v += (g^2 - v)(1 - beta_2)  (amsgrad: vhat = max(vhat, v));
              p -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + eps)
    AdamW     Adam with weight_decay=0.004
    Nadam     m, v as Adam;  u_k = beta_1 (1 - 0.5 * 0.96^k);  U_t = u_1 ... u_t;
              m_hat = u_{t+1} m / (1 - U_{t+1}) + (1 - u_t) g / (1 - U_t);  v_hat = v / (1 - beta_2^t);
              p -= lr m_hat / (sqrt(v_hat) + eps)
    Adamax    m as Adam;  u = max(beta_2 u, |g|);  p -= lr m / ((1 - beta_1^t) (u + eps))
"""
import inspect
import numbers
import warnings

import numpy as np

from . import _C

# Arguments every optimizer accepts after its own (Keras's base optimizer), with defaults.
_COMMON = {"weight_decay": None, "clipnorm": None, "clipvalue": None, "global_clipnorm": None, "name": None}


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


# Keras 3 base-optimizer arguments pydl does not implement: refused by name (never ignored).
_KERAS_UNSUPPORTED = {
    "use_ema": "keep a copy of the weights and average it yourself, or leave it out",
    "ema_momentum": "pydl keeps no moving average of the weights",
    "ema_overwrite_frequency": "pydl keeps no moving average of the weights",
    "loss_scale_factor": "pydl trains in float32 or float64, where loss scaling is not needed",
    "gradient_accumulation_steps": "accumulate by calling loss.backward() on several batches before step() "
                                   "(gradients add up until zero_grad()), scaling the loss by 1/steps",
}

# Hyperparameters that are on/off flags; every other one is a number (None: off, for the
# optional ones of _COMMON).
_FLAGS = ("nesterov", "centered", "amsgrad")


class NonFiniteGradientError(RuntimeError):
    """A gradient held NaN or inf, so the optimizer refused the step and changed no weight.

    ``indices`` lists the offending parameters' positions in the list the step updated (in
    order), ``parameters`` the tensors themselves, ``index``/``shape``/``name`` describe the
    first one (``name`` is None for a tensor without one). In ``fit``, ``layer`` names the
    first layer (in the model's order) holding such a parameter and ``loss`` is the batch's loss.
    """

    def __init__(self, message, indices, parameters, layer=None, loss=None):
        super().__init__(message)
        self.indices = list(indices)
        self.parameters = list(parameters)
        self.index = self.indices[0]
        self.shape = tuple(self.parameters[0].shape)
        self.name = _tensor_name(self.parameters[0])
        self.layer = layer
        self.loss = loss

    def for_layers(self, layers, loss=None):
        """The same error told in layers: the first of ``layers`` (objects with ``.name`` and
        ``.weights``) that owns a parameter with a non-finite gradient (what ``fit`` raises)."""
        bad = {hash(p) for p in self.parameters}
        for layer in layers:
            owned = [w for w in layer.weights if hash(w) in bad]
            if owned:
                w = owned[0]
                what = _describe(w)
                loss_note = f"; the batch's loss was {loss}" if loss is not None else ""
                message = (f"The gradient of layer '{layer.name}' ({type(layer).__name__}) is not finite "
                           f"(NaN or inf) in {what}{loss_note}. Training stopped before this step changed any "
                           "weight. Common causes: a learning rate too large, inputs not scaled, NaN or inf in "
                           "the data, a log or division of 0 in a custom loss.")
                return NonFiniteGradientError(message, self.indices, self.parameters, layer=layer.name, loss=loss)
        return NonFiniteGradientError(str(self), self.indices, self.parameters, loss=loss)


def _tensor_name(t):
    name = getattr(t, "name", None)
    return name if isinstance(name, str) else None


def _describe(t, index=None):
    name = _tensor_name(t)
    parts = [f"parameter {index}" if index is not None else "parameter"]
    if name:
        parts.append(f"'{name}'")
    return " ".join(parts) + f" (shape {tuple(t.shape)})"


def _is_params(x):
    """Whether a first positional argument is PyTorch-style parameters rather than a learning rate."""
    if isinstance(x, _C.Tensor):
        return True
    return x is not None and not _is_number(x) and not callable(x) and not isinstance(x, (str, bytes)) \
        and hasattr(x, "__iter__")


class Optimizer:
    """The base of every optimizer. A subclass names its C++ ``rule`` and lists its own
    hyperparameters with Keras's defaults in ``_hyper`` (in Keras's argument order); this
    class does the rest: argument parsing, slot variables, the step, config and state.

    Constructor: ``Cls(params=None, <hyper...>, weight_decay=None, clipnorm=None,
    clipvalue=None, global_clipnorm=None, name=None)``. ``params`` may come first positionally
    (``Adam(model.parameters())``) or as ``params=``; Keras's positional order works as well
    (``SGD(0.1, 0.9)`` is learning_rate 0.1, momentum 0.9). ``learning_rate`` is a float or a
    schedule (called with the iteration number each step). Keras 1's ``lr=`` and Keras 2's
    ``decay=`` (lr / (1 + decay * iterations)) still work with a DeprecationWarning.
    """

    rule = None
    _hyper = {}
    _checked_names = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # help(Adam) and IDEs show the real arguments, not *args / **kwargs.
        P = inspect.Parameter
        params = [P("params", P.POSITIONAL_OR_KEYWORD, default=None)]
        params += [P(k, P.POSITIONAL_OR_KEYWORD, default=v) for k, v in cls._arguments().items()]
        cls.__signature__ = inspect.Signature(params)
        # the hyperparameters __setattr__ checks (not learning_rate: its property checks it)
        cls._checked_names = frozenset(cls._arguments()) - {"learning_rate", "name"}

    @classmethod
    def _arguments(cls):
        args = dict(cls._hyper)
        for k, v in _COMMON.items():
            args.setdefault(k, v)
        return args

    def __init__(self, *args, **kwargs):
        cls = type(self).__name__
        args = list(args)
        params = kwargs.pop("params", None)
        if args and _is_params(args[0]):
            if params is not None:
                raise TypeError(f"{cls}() got the parameters twice (positionally and as params=)")
            params = args.pop(0)
        if "lr" in kwargs:
            warnings.warn(f"{cls}: `lr` is deprecated (Keras 1); use `learning_rate`", DeprecationWarning, stacklevel=2)
            if "learning_rate" in kwargs:
                raise TypeError(f"{cls}() got both `lr` and `learning_rate`; use `learning_rate`")
            kwargs["learning_rate"] = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)
        if decay is not None:
            warnings.warn(f"{cls}: `decay` is deprecated (Keras 2); use a learning-rate schedule such as "
                          "pydl.schedules.InverseTimeDecay", DeprecationWarning, stacklevel=2)
            if not _is_number(decay) or not decay >= 0 or not np.isfinite(decay):
                raise ValueError(f"{cls}: `decay` must be a finite number >= 0, got {decay!r}")
        values = self._arguments()
        names = list(values)
        if len(args) > len(names):
            raise TypeError(f"{cls}() takes at most {len(names)} positional arguments ({len(args)} given)")
        for k, v in zip(names, args):
            values[k] = v
        for k, v in kwargs.items():
            if k in _KERAS_UNSUPPORTED:
                raise TypeError(f"{cls}(): `{k}` (a Keras 3 optimizer argument) is not supported by pydl; "
                                f"{_KERAS_UNSUPPORTED[k]}")
            if k not in values:
                raise TypeError(f"{cls}() got an unexpected keyword argument '{k}'; valid arguments: "
                                f"params, {', '.join(names)}")
            if k in names[:len(args)]:
                raise TypeError(f"{cls}() got multiple values for argument '{k}'")
            values[k] = v

        lr = values.pop("learning_rate")
        self._learning_rate = self._checked_learning_rate(lr)
        self.name = values.pop("name") or _snake(cls)
        for k, v in values.items():
            object.__setattr__(self, k, self._typed(k, v))
        self.decay = float(decay) if decay is not None else 0.0
        self.iterations = 0
        self._vars, self._slots, self._index = [], [], {}
        self._pending_state = None
        self.built = False
        self._check()
        self._ready = True  # from here on, setting a hyperparameter checks it (__setattr__)
        self._params = None
        if params is not None:
            self._params = [params] if isinstance(params, _C.Tensor) else list(params)
            for p in self._params:
                if not isinstance(p, _C.Tensor):
                    raise TypeError(f"{cls}: params must be pydl tensors, got {type(p).__name__} "
                                    "(parameter groups as dicts are not supported)")

    # ---------------------------------------------------------------- learning rate
    @property
    def learning_rate(self):
        """The learning rate this step uses (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        if callable(lr):
            lr = lr(self.iterations)
        lr = float(lr)
        if self.decay:
            lr = lr / (1.0 + self.decay * self.iterations)
        return lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = self._checked_learning_rate(value)

    # ---------------------------------------------------------------- checks
    def _checked_learning_rate(self, lr):
        """A float (checked: finite, >= 0) or a schedule (its values are checked every step)."""
        if not (_is_number(lr) or callable(lr)):
            raise TypeError(f"{type(self).__name__}: `learning_rate` must be a number or a schedule, "
                            f"got {type(lr).__name__}")
        if _is_number(lr):
            lr = float(lr)
            self._cpp_check({"learning_rate": lr})
        return lr

    def _cpp_check(self, hyper):
        try:
            _C.optimizer_check(self.rule, hyper)
        except ValueError as e:
            # C++ names the rule ("Adam: ..."); say the class the user wrote (AdamW)
            text, cls = str(e), type(self).__name__
            rule_name = text.split(":", 1)[0]
            if rule_name != cls and ":" in text:
                raise ValueError(cls + text[len(rule_name):]) from None
            raise

    def _typed(self, key, value):
        """A hyperparameter of the right type (flags bool, the rest float; None for the optional ones)."""
        cls = type(self).__name__
        if key in _FLAGS:
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{cls}: `{key}` must be True or False, got {value!r}")
            return bool(value)
        if value is None and key in _COMMON:
            return None
        if not _is_number(value):
            raise TypeError(f"{cls}: `{key}` must be a number, got {value!r} ({type(value).__name__})")
        return float(value)

    def _check(self):
        """Every hyperparameter's range, in C++ (ValueError naming the optimizer, argument and value)."""
        lr = self._learning_rate if _is_number(self._learning_rate) else 0.0
        self._cpp_check(self._hyper_for_cpp(lr))

    def __setattr__(self, key, value):
        # opt.momentum = 2.0 after construction raises as SGD(momentum=2.0) does, and changes nothing
        if key in self._checked_names and self.__dict__.get("_ready"):
            old = self.__dict__[key]
            object.__setattr__(self, key, self._typed(key, value))
            try:
                self._check()
            except Exception:
                object.__setattr__(self, key, old)
                raise
            return
        object.__setattr__(self, key, value)

    @property
    def lr(self):
        warnings.warn("`optimizer.lr` is deprecated; use `optimizer.learning_rate`", DeprecationWarning, stacklevel=2)
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        warnings.warn("`optimizer.lr` is deprecated; use `optimizer.learning_rate`", DeprecationWarning, stacklevel=2)
        self.learning_rate = value

    def _hyper_for_cpp(self, learning_rate):
        h = {k: getattr(self, k) for k in self._hyper if k != "learning_rate"}
        for k in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            h[k] = getattr(self, k)
        h["learning_rate"] = learning_rate
        h["iterations"] = self.iterations
        return h

    # ---------------------------------------------------------------- slots
    def build(self, variables):
        """Create the slot variables (momentum, velocity, ...) of each variable not seen yet.
        Without parameters given to the constructor, these variables are what ``step()`` updates."""
        specs = _C.optimizer_slot_specs(self.rule, self._hyper_for_cpp(0.0))
        self._slot_names = [name for name, _ in specs]
        for v in variables:
            if not isinstance(v, _C.Tensor):
                raise TypeError(f"{type(self).__name__}.build: expected pydl tensors, got {type(v).__name__}")
            if hash(v) in self._index:
                continue
            self._index[hash(v)] = len(self._vars)
            self._vars.append(v)
            self._slots.append([_C.full(tuple(v.shape), init, dtype=v.dtype) for _, init in specs])
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.set_state(state)

    def variables(self):
        """Every slot tensor, variable by variable, in slot order (what ``get_state`` saves)."""
        return [s for slots in self._slots for s in slots]

    # ---------------------------------------------------------------- the update
    def apply_gradients(self, grads_and_vars):
        """Keras's entry point: one update from (gradient, variable) pairs; None gradients are skipped."""
        pairs = list(grads_and_vars)
        self._apply([g for g, _ in pairs], [v for _, v in pairs], "apply_gradients")
        return self.iterations

    def apply(self, grads, variables):
        """One update of ``variables`` with ``grads`` (same order); None gradients are skipped."""
        self._apply(grads, variables, "apply")

    def _apply(self, grads, variables, what):
        grads, variables = list(grads), list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.{what}: got {len(grads)} gradients for {len(variables)} variables")
        own = self._vars
        if len(variables) == len(own) and all(v is o for v, o in zip(variables, own)) and \
                all(isinstance(g, _C.Tensor) for g in grads):
            # The common case (fit's step: this optimizer's own variables, in order, every
            # gradient a tensor): one C++ call, as step() makes.
            self._run(what, own, grads, self._slots)
            return
        positions = [i for i, g in enumerate(grads) if g is not None]
        if not positions:
            return
        missing = [variables[i] for i in positions if hash(variables[i]) not in self._index]
        if missing:
            self.build(missing)
        params, gs, slots = [], [], []
        for i in positions:
            g, v = grads[i], variables[i]
            if not isinstance(g, _C.Tensor):
                g = _C.tensor(np.asarray(g), dtype=v.dtype)
            params.append(v)
            gs.append(g)
            slots.append(self._slots[self._index[hash(v)]])
        self._run(what, params, gs, slots, positions)

    def _run(self, what, params, grads, slots, positions=None):
        """The one C++ call of a step; a NaN or inf gradient raises before any weight changes.
        ``positions[i]``: where params[i] stands in the caller's list (None gradients skipped)."""
        bad = _C.optimizer_step(self.rule, params, grads, slots, self._hyper_for_cpp(self.learning_rate))
        if bad:
            at = [positions[i] if positions is not None else i for i in bad]
            more = f"; so do those of parameters {', '.join(str(i) for i in at[1:])}" if len(at) > 1 else ""
            raise NonFiniteGradientError(
                f"{type(self).__name__}.{what}: the gradient of {_describe(params[bad[0]], at[0])} holds NaN or "
                f"inf{more}. No parameter was updated (a non-finite gradient would turn the weights into NaN).",
                at, [params[i] for i in bad])
        self._advance()

    def _advance(self):
        """Count one update (Nadam also advances its momentum-cache product)."""
        self.iterations += 1

    def _parameters(self, what):
        if self._params is not None:
            return self._params
        if self.built:
            return self._vars
        raise RuntimeError(f"{type(self).__name__}.{what}: this optimizer has no parameters; create it with "
                           f"{type(self).__name__}(model.parameters()) or call build(variables) first")

    def step(self, closure=None):
        """PyTorch's ``optimizer.step()``: update every parameter from its ``.grad``."""
        loss = closure() if closure is not None else None
        params = self._parameters("step")
        grads = [p.grad for p in params]
        if params is self._vars and not any(g is None for g in grads):
            # The common case (a built optimizer, every gradient present): one C++ call.
            self._run("step", params, grads, self._slots)
        else:
            self._apply(grads, params, "step")
        return loss

    def zero_grad(self, set_to_none=True):
        """Clear the gradients before the next ``backward()`` (they accumulate until cleared)."""
        for p in self._parameters("zero_grad"):
            if set_to_none:
                p.grad = None
            else:
                p.zero_grad()

    # ---------------------------------------------------------------- config and state
    def get_config(self):
        lr = self._learning_rate
        if callable(lr) and hasattr(lr, "get_config"):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        config = {"name": self.name, "learning_rate": lr}
        for k in self._arguments():
            if k not in ("learning_rate", "name"):
                config[k] = getattr(self, k)
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            from . import schedules
            config["learning_rate"] = schedules.deserialize(lr)
        decay = config.pop("decay", None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return cls(**config, **({"decay": decay} if decay else {}))

    def get_state(self):
        """{'iterations': int, 'slots': [arrays, in ``variables()`` order], 'slot_names': ['0/momentum', ...]}."""
        names = [f"{i}/{n}" for i in range(len(self._slots)) for n in self._slot_names] if self.built else []
        return {"iterations": int(self.iterations),
                "slots": [np.array(s.numpy(), copy=True) for s in self.variables()],
                "slot_names": names}

    def set_state(self, state):
        """Restore ``get_state()``'s output ('slots' a list in ``variables()`` order, or a dict by
        slot name). Before ``build`` it is kept and applied when the optimizer is built."""
        if not self.built:
            if self._params is None:
                self._pending_state = state
                return
            self.build(self._params)
        slots = state.get("slots", [])
        mine = self.variables()
        if isinstance(slots, dict):
            names = [f"{i}/{n}" for i in range(len(self._slots)) for n in self._slot_names]
            if set(slots) != set(names):
                raise ValueError(f"{type(self).__name__}.set_state: the saved slots {sorted(slots)} do not match "
                                 f"this optimizer's {names}")
            slots = [slots[n] for n in names]
        if len(slots) != len(mine):
            raise ValueError(f"{type(self).__name__}.set_state: got {len(slots)} slot arrays, this optimizer has "
                             f"{len(mine)} (same model and optimizer configuration?)")
        for i, (s, a) in enumerate(zip(mine, slots)):
            a = np.asarray(a)
            if tuple(a.shape) != tuple(s.shape):
                raise ValueError(f"{type(self).__name__}.set_state: slot {i} has shape {tuple(a.shape)}, "
                                 f"expected {tuple(s.shape)}")
        for s, a in zip(mine, slots):  # every check passed: now write
            s.numpy()[...] = np.asarray(a)
        self.iterations = int(state.get("iterations", 0))

    def __setstate__(self, state):
        # copy.deepcopy and pickle: the slot index is keyed by each variable's identity, so it
        # is rebuilt for the copied variables (else the copy would look up the original's).
        self.__dict__.update(state)
        self._index = {hash(v): i for i, v in enumerate(self._vars)}

    def __repr__(self):
        lr = self._learning_rate
        return f"{type(self).__name__}(learning_rate={lr!r}, iterations={self.iterations})"


def _snake(name):
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(c.lower())
    return "".join(out)


# ---------------------------------------------------------------- the named optimizers
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum (Keras 3 defaults)."""
    rule = "sgd"
    _hyper = {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}


class Adagrad(Optimizer):
    """Adagrad: per-coordinate rates shrinking with the accumulated squared gradients."""
    rule = "adagrad"
    _hyper = {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7}


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012); learning_rate=1.0 is the paper's rule, Keras's default is 0.001."""
    rule = "adadelta"
    _hyper = {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum (Keras 3 defaults: rho 0.9, eps 1e-7)."""
    rule = "rmsprop"
    _hyper = {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}


class Adam(Optimizer):
    """Adam with bias correction, optionally AMSGrad (Keras 3 defaults: epsilon 1e-7)."""
    rule = "adam"
    _hyper = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): the same C++ rule as Adam with
    ``p -= learning_rate * weight_decay * p`` first, as Keras applies it."""
    _hyper = {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
              "amsgrad": False}

    def _typed(self, key, value):
        if key == "weight_decay" and not _is_number(value):
            raise ValueError(f"AdamW: `weight_decay` must be a float, got {value!r}")
        return super()._typed(key, value)


class Nadam(Optimizer):
    """Nadam (Dozat 2015): Adam with Nesterov momentum, with Keras 3's momentum-cache schedule
    u_t = beta_1 (1 - 0.5 * 0.96^t) (Keras 3 defaults)."""
    rule = "nadam"
    _hyper = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}

    def _hyper_for_cpp(self, learning_rate):
        h = super()._hyper_for_cpp(learning_rate)
        h["u_product"] = self._u_product()
        return h

    def _u_product(self):
        # u_1 ... u_iterations, kept step by step as Keras keeps it (so a beta_1 changed during
        # training only affects later factors); recomputed when iterations was set from outside.
        cached = self.__dict__.get("_u_cache")
        if cached is None or cached[0] != self.iterations:
            cached = (self.iterations, _C.optimizer_nadam_u_product(self.beta_1, self.iterations))
            self._u_cache = cached
        return cached[1]

    def _advance(self):
        t = self.iterations + 1
        self._u_cache = (t, self._u_product() * self.beta_1 * (1.0 - 0.5 * 0.96 ** t))
        self.iterations = t


class Adamax(Optimizer):
    """Adamax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm (Keras 3 defaults)."""
    rule = "adamax"
    _hyper = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


_OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "adadelta": Adadelta, "rmsprop": RMSprop, "adam": Adam,
               "adamw": AdamW, "nadam": Nadam, "adamax": Adamax}


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    cls = _OPTIMIZERS.get(str(config.get("class_name", "")).lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer class {config.get('class_name')!r}. "
                         f"Valid names: {', '.join(sorted(_OPTIMIZERS))}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """An optimizer from a name ('adam', 'SGD', ...; a new instance with Keras's defaults), a
    serialized dict, an optimizer class, or an instance (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _OPTIMIZERS.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer '{identifier}'. Valid names: {', '.join(sorted(_OPTIMIZERS))}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer {identifier!r}: give a name "
                     f"({', '.join(sorted(_OPTIMIZERS))}) or an Optimizer instance")


__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Nadam", "Adamax",
           "NonFiniteGradientError", "get", "serialize", "deserialize"]
