"""Optimizers: Keras 3's names, defaults and update rules, driven Keras's way or PyTorch's.

    model.compile(optimizer=Adam(learning_rate=1e-3), loss=...)     # Keras
    opt = SGD(model.parameters(), learning_rate=0.1)                # PyTorch-style, the
    opt.zero_grad(); loss = ...; loss.backward(); opt.step()        # course's four steps

Each class is a thin named constructor over one C++ update rule (cpp/src/optim/): the whole
step over every parameter is one call into C++ (``_C.optimizer_step``), which also applies
the gradient clipping (``clipnorm``, ``global_clipnorm``, ``clipvalue``) and the decoupled
weight decay (``p -= learning_rate * weight_decay * p``) on the fly; ``.grad`` is never
modified. Parameters whose ``grad`` is None are skipped.

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
"""
import inspect
import numbers
import warnings

import numpy as np

from . import _C

# Arguments every optimizer accepts after its own (Keras's base optimizer), with defaults.
_COMMON = {"weight_decay": None, "clipnorm": None, "clipvalue": None, "global_clipnorm": None, "name": None}


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


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

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # help(Adam) and IDEs show the real arguments, not *args / **kwargs.
        P = inspect.Parameter
        params = [P("params", P.POSITIONAL_OR_KEYWORD, default=None)]
        params += [P(k, P.POSITIONAL_OR_KEYWORD, default=v) for k, v in cls._arguments().items()]
        cls.__signature__ = inspect.Signature(params)

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
        values = self._arguments()
        names = list(values)
        if len(args) > len(names):
            raise TypeError(f"{cls}() takes at most {len(names)} positional arguments ({len(args)} given)")
        for k, v in zip(names, args):
            values[k] = v
        for k, v in kwargs.items():
            if k not in values:
                raise TypeError(f"{cls}() got an unexpected keyword argument '{k}'; valid arguments: "
                                f"params, {', '.join(names)}")
            if k in names[:len(args)]:
                raise TypeError(f"{cls}() got multiple values for argument '{k}'")
            values[k] = v

        lr = values.pop("learning_rate")
        if not (_is_number(lr) or callable(lr)):
            raise TypeError(f"{cls}: learning_rate must be a number or a schedule, got {type(lr).__name__}")
        self._learning_rate = float(lr) if _is_number(lr) else lr
        self.name = values.pop("name") or _snake(cls)
        for k, v in values.items():
            setattr(self, k, v)
        self.decay = float(decay) if decay is not None else 0.0
        self.iterations = 0
        self._vars, self._slots, self._index = [], [], {}
        self._pending_state = None
        self.built = False
        _C.optimizer_check(self.rule, self._hyper_for_cpp(0.0))
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
        if not (_is_number(value) or callable(value)):
            raise TypeError(f"{type(self).__name__}: learning_rate must be a number or a schedule, "
                            f"got {type(value).__name__}")
        self._learning_rate = float(value) if _is_number(value) else value

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
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if pairs:
            grads, variables = zip(*pairs)
            self.apply(list(grads), list(variables))
        return self.iterations

    def apply(self, grads, variables):
        """One update of ``variables`` with ``grads`` (same order); None gradients are skipped."""
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for {len(variables)} variables")
        if not pairs:
            return
        missing = [v for _, v in pairs if hash(v) not in self._index]
        if missing:
            self.build(missing)
        params, gs, slots = [], [], []
        for g, v in pairs:
            if not isinstance(g, _C.Tensor):
                g = _C.tensor(np.asarray(g), dtype=v.dtype)
            params.append(v)
            gs.append(g)
            slots.append(self._slots[self._index[hash(v)]])
        _C.optimizer_step(self.rule, params, gs, slots, self._hyper_for_cpp(self.learning_rate))
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
            _C.optimizer_step(self.rule, params, grads, self._slots, self._hyper_for_cpp(self.learning_rate))
            self.iterations += 1
        else:
            self.apply(grads, params)
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not _is_number(self.weight_decay):
            raise ValueError(f"AdamW: `weight_decay` must be a float, got {self.weight_decay!r}")


_OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "adadelta": Adadelta, "rmsprop": RMSprop, "adam": Adam,
               "adamw": AdamW}


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


__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "get", "serialize", "deserialize"]
