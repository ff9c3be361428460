"""The Layer base class, shaped like Keras's: weights are created in ``build(input_shape)``
on the first call (so a layer needs no input size up front), the maths lives in
``call(x, training)``, and ``get_config()`` describes the layer so saving needs no code.
"""
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


def _deprecated(kwargs, old, new, layer):
    """Keras 1 argument names (output_dim, init, ...) still work, with a warning."""
    if old in kwargs:
        warnings.warn(f"{layer}: '{old}' is the Keras 1 name; use '{new}'", DeprecationWarning, stacklevel=4)
        return kwargs.pop(old)
    return None


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
            w.copy_(_C.tensor(np.asarray(v), dtype=w.dtype))


class Layer:
    def __init__(self, name=None, trainable=True, input_shape=None, input_dim=None, batch_input_shape=None,
                 dtype=None, **kwargs):
        from .._registry import camel_to_snake
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        self.name = name or _unique_name(camel_to_snake(type(self).__name__))
        self.trainable = trainable
        self.dtype = _C.float64 if str(dtype) in ("float64", "pydl.float64") else _C.float32
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_dim is not None:
            input_shape = (int(input_dim),)
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self.built = False
        self._params = []  # (name, tensor, regularizer)
        self.losses = []   # regularisation terms of the last call
        self.input_shape = None
        self.output_shape = None

    # ---- weights
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, trainable=True):
        init = _init.get(initializer)
        values = np.asarray(init(tuple(shape), dtype=self.dtype.name), dtype=self.dtype.name)
        w = _C.tensor(values, dtype=self.dtype, requires_grad=trainable and self.trainable)
        w.name = f"{self.name}/{name}"
        self._params.append((name, w, _reg.get(regularizer)))
        return w

    @property
    def weights(self):
        return [w for _, w, _ in self._params]

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.requires_grad] if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not (self.trainable and w.requires_grad)]

    def get_weights(self):
        return [w.numpy().copy() for w in self.weights]

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
        if not isinstance(x, _C.Tensor):
            x = _C.tensor(np.asarray(x), dtype=self.dtype)
        shape = tuple(x.shape)[1:]
        if not self.built:
            self._build_for(shape)
        else:
            self._check_input(shape)
        return self.call(x, training=training)

    def _build_for(self, input_shape):
        input_shape = tuple(input_shape)
        self.build(input_shape)
        self.built = True
        self.input_shape = (None,) + input_shape
        self.output_shape = (None,) + tuple(self.compute_output_shape(input_shape))

    def _check_input(self, shape):
        if self.input_shape is not None and tuple(self.input_shape[1:]) != tuple(shape):
            raise ValueError(f"{self.name}: expected input of shape {self.input_shape}, got (batch,) + {shape}")

    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
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
