"""The Layer base class, shaped like Keras's: weights are created in ``build(input_shape)``
on the first call (so a layer needs no input size up front), the maths lives in
``call(x, training)``, and ``get_config()`` describes the layer so saving needs no code.
"""
import functools
import inspect
import numbers
import warnings

import numpy as np

from .. import _C
from .. import initializers as _init
from .. import regularizers as _reg

_name_counts = {}


def _unique_name(base):
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def keras1_names(**aliases):
    """Let ``__init__`` (or ``fit``) take Keras 1 argument names, ``old="new"``: the old name
    still works with a DeprecationWarning, and giving both names at once raises TypeError
    (the old value must not silently win or lose)."""
    def wrap(fn):
        positional = [n for n, p in inspect.signature(fn).parameters.items()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        parts = fn.__qualname__.split(".")
        owner = parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]  # 'Dense', 'fit'

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in aliases.items():
                if old not in kwargs:
                    continue
                given_positionally = new in positional and positional.index(new) < len(args)
                if new in kwargs or given_positionally:
                    raise TypeError(f"{owner}: got both '{old}' (the Keras 1 name) and '{new}'; "
                                    f"give only '{new}'")
                warnings.warn(f"{owner}: '{old}' is the Keras 1 name; use '{new}'", DeprecationWarning,
                              stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)
        return wrapper
    return wrap


def _shape_arg(owner, what, shape):
    """A sample shape given as an int (784) or a sequence of ints ((28, 28)), as a tuple."""
    if isinstance(shape, (bool, np.bool_)) or not isinstance(shape, (numbers.Integral, tuple, list)):
        raise TypeError(f"{owner}: {what} must be an int or a tuple of ints, got {shape!r}")
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    for d in shape:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral):
            raise TypeError(f"{owner}: {what} must be an int or a tuple of ints, got {shape!r}")
        if d < 1:
            raise ValueError(f"{owner}: every size in {what} must be positive, got {shape!r}")
    return tuple(int(d) for d in shape)


def _dtype_arg(owner, dtype):
    """The layer dtype: None means float32; float32/float64 by name, pydl or NumPy dtype."""
    if dtype is None:
        return _C.float32
    if isinstance(dtype, _C.dtype):
        name = dtype.name
    elif isinstance(dtype, str):
        name = dtype.replace("pydl.", "")
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = getattr(dtype, "name", str(dtype))
    if name == "float32":
        return _C.float32
    if name == "float64":
        return _C.float64
    raise ValueError(f"{owner}: dtype must be 'float32' or 'float64', got {dtype!r}")


def assign_weights(owner, weights, values):
    """Copy arrays into weight tensors, checking every count and shape before changing any, so
    a mismatch leaves all weights as they were."""
    if len(values) != len(weights):
        raise ValueError(f"{owner}.set_weights: expected {len(weights)} arrays, got {len(values)}")
    for w, v in zip(weights, values):
        if tuple(np.shape(v)) != tuple(w.shape):
            raise ValueError(f"{owner}.set_weights: weight {w.name} has shape {tuple(w.shape)}, "
                             f"got an array of shape {tuple(np.shape(v))}")
    from ..autograd import no_grad
    with no_grad():
        for w, v in zip(weights, values):
            w.copy_(_C.tensor(v.detach() if isinstance(v, _C.Tensor) else np.asarray(v), dtype=w.dtype))


class Layer:
    """The base of every layer.

    ``trainable``: whether ``fit`` updates the layer's weights. As in Keras, ``compile`` fixes
    which weights a model's ``fit`` trains: after changing ``trainable`` call ``compile`` again
    (``fit`` warns if you did not). A layer shared by two models trains in the one compiled
    while it was trainable (the GAN recipe).
    ``dtype``: 'float32' (default) or 'float64'; the weights are created in it and floating
    inputs are cast to it (Keras's rule), so layers of different dtypes can be stacked.
    ``activity_regularizer``: a penalty on the layer's output (after its activation), added to
    the loss as Keras 3 adds it: ``activity_regularizer(output)``, summed over the batch (Keras 2
    divided it by the batch size; Keras 3 does not).
    """

    def __init__(self, name=None, trainable=True, input_shape=None, input_dim=None, batch_input_shape=None,
                 dtype=None, activity_regularizer=None, **kwargs):
        from .._registry import camel_to_snake
        cls = type(self).__name__
        if kwargs:
            raise TypeError(f"{cls}: unexpected arguments {sorted(kwargs)}")
        self.name = name or _unique_name(camel_to_snake(cls))
        self.trainable = trainable
        self.dtype = _dtype_arg(cls, dtype)
        self._dtype_given = dtype is not None
        self.activity_regularizer = _reg.get(activity_regularizer)
        shapes = []
        if input_shape is not None:
            shapes.append(("input_shape", _shape_arg(cls, "input_shape", input_shape)))
        if batch_input_shape is not None:
            if not isinstance(batch_input_shape, (tuple, list)) or len(batch_input_shape) < 2:
                raise TypeError(f"{cls}: batch_input_shape is (batch size or None, *sample shape), "
                                f"got {batch_input_shape!r}")
            shapes.append(("batch_input_shape", _shape_arg(cls, "batch_input_shape[1:]", batch_input_shape[1:])))
        if input_dim is not None:
            shapes.append(("input_dim", _shape_arg(cls, "input_dim", input_dim)))
        if len({s for _, s in shapes}) > 1:
            raise ValueError(f"{cls}: the sample shapes given disagree: "
                             + ", ".join(f"{n} -> {s}" for n, s in shapes))
        self._input_shape_arg = shapes[0][1] if shapes else None
        self.built = False
        self._params = []  # (name, tensor, regularizer)
        self._untrainable = set()  # names of weights created with trainable=False
        self.losses = []   # regularisation terms of the last call
        self.input_shape = None
        self.output_shape = None

    @property
    def _casts_inputs(self):
        """Whether the layer computes in its dtype: it has weights, or its dtype was given. A
        layer without either (Activation, Dropout, Flatten, ...) keeps its input's dtype."""
        return self._dtype_given or bool(self._params) or type(self).build is not Layer.build

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    # ---- weights
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, trainable=True):
        """A new weight. ``trainable=False`` makes it never trained (whatever ``self.trainable``)."""
        init = _init.get(initializer)
        values = np.asarray(init(tuple(shape), dtype=self.dtype.name), dtype=self.dtype.name)
        # A weight that may be trained records its gradient even while the layer is frozen, so
        # that unfreezing (trainable = True, then compile) needs nothing else.
        w = _C.tensor(values, dtype=self.dtype, requires_grad=bool(trainable))
        w.name = f"{self.name}/{name}"
        if not trainable:
            self._untrainable.add(w.name)
        self._params.append((name, w, _reg.get(regularizer)))
        return w

    @property
    def weights(self):
        return [w for _, w, _ in self._params]

    @property
    def trainable_weights(self):
        return self._weights_trainable_when(self.trainable)

    def _weights_trainable_when(self, trainable):
        """The weights that train when the layer's ``trainable`` is ``trainable``."""
        return [w for w in self.weights if w.name not in self._untrainable] if trainable else []

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def get_weights(self):
        return [w.detach().numpy().copy() for w in self.weights]

    def set_weights(self, values):
        assign_weights(self.name, self.weights, values)

    def count_params(self):
        if not self.built:
            raise ValueError(f"{self.name}: not built yet, so its weights do not exist: "
                             "give the first layer an input_shape or call the model on data")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    def regularization_losses(self):
        """The penalty terms of this layer's weights (a list of scalar tensors)."""
        return [r(w) for _, w, r in self._params if r is not None]

    # ---- the Keras protocol
    def build(self, input_shape):
        self.built = True

    def call(self, x, training=None):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape

    def __call__(self, x, training=None):
        return self._call(x, training)

    def _call(self, x, training=None, logits=False):
        """What ``__call__`` does: cast, build or check, ``call``, record the activity penalty.
        ``logits=True`` (for a model's fused softmax/sigmoid + crossentropy) returns the output
        before the activation; the penalty is still taken after it."""
        if not isinstance(x, _C.Tensor):
            x = _C.tensor(np.asarray(x), dtype=self.dtype)
        shape = tuple(x.shape)[1:]
        if not self.built:
            self._build_for(shape)
        else:
            self._check_input(shape)
        if x.dtype != self.dtype and self._casts_inputs and x.dtype.name in ("float32", "float64"):
            x = x.to(self.dtype)  # Keras's rule: a layer computes in its own dtype (the cast has a gradient)
        self.losses = []
        if logits:
            out = self.call(x, training=training, logits=True)
            if self.activity_regularizer is not None:
                self.losses.append(self.activity_regularizer(self.activation(out)))
        else:
            out = self.call(x, training=training)
            if self.activity_regularizer is not None:
                self.losses.append(self.activity_regularizer(out))
        return out

    def _build_for(self, input_shape):
        input_shape = tuple(input_shape)
        # A shape the layer refuses (in build or in compute_output_shape) leaves it unbuilt and
        # without weights, so that a later call with good data builds it properly (a pooling
        # layer's build succeeds and only its output shape finds a pool larger than the image).
        params, untrainable = list(self._params), set(self._untrainable)
        try:
            self.build(input_shape)
            output_shape = tuple(self.compute_output_shape(input_shape))
        except BaseException:
            self.built = False
            self._params, self._untrainable = params, untrainable
            raise
        self.built = True
        self.input_shape = (None,) + input_shape
        self.output_shape = (None,) + output_shape

    def _check_input(self, shape):
        if self.input_shape is not None and tuple(self.input_shape[1:]) != tuple(shape):
            raise ValueError(f"{self.name}: expected input of shape {self.input_shape}, got (batch,) + {shape}")

    def get_config(self):
        # dtype None: not given (a layer without weights then keeps its input's dtype)
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name if self._dtype_given else None}
        if self.activity_regularizer is not None:
            cfg["activity_regularizer"] = _reg.serialize(self.activity_regularizer)
        if self._input_shape_arg is not None:
            cfg["input_shape"] = list(self._input_shape_arg)
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __getstate__(self):
        # copy.deepcopy and pickle: `losses` holds the last call's penalty terms, tensors of that
        # call's graph (which cannot be copied); the copy starts without them, as before a call
        state = dict(self.__dict__)
        state["losses"] = []
        return state

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
