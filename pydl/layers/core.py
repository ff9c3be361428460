"""The core layers: Input (InputLayer), Dense, Activation, Dropout, Flatten, Reshape, Masking."""
import numpy as np

from .. import _C
from .. import activations as _act
from .. import initializers as _init
from .. import regularizers as _reg
from .base import KerasTensor, Layer, Node, _shape_arg, keras1_names


class InputLayer(Layer):
    """The layer behind ``pydl.Input``: no weights, it passes its input through. Its one output
    is a symbolic tensor, a functional model's input; as the first entry of a Sequential it
    fixes the sample shape (``Sequential([Input((4,)), Dense(3)])``)."""

    def __init__(self, shape=None, name=None, input_shape=None, **kwargs):
        if shape is not None and input_shape is not None:
            raise TypeError("Input: got both shape and input_shape (the same thing); give only shape")
        shape = input_shape if shape is None else shape
        if shape is None:
            raise ValueError("Input: give the shape of one sample, e.g. Input(shape=(784,)) or Input(shape=784)")
        super().__init__(name=name, input_shape=_shape_arg("Input", "shape", shape), **kwargs)
        self.built = True
        self.input_shape = self.output_shape = (None,) + self._input_shape_arg
        out = KerasTensor(self.output_shape, self.dtype, self, 0, 0)
        self._inbound_nodes.append(Node(self, [], [out]))

    def call(self, x, training=None):
        return x

    def get_config(self):
        cfg = super().get_config()
        cfg["shape"] = cfg.pop("input_shape")
        return cfg


class Input(KerasTensor):
    """``Input(shape, name=None, dtype=None)``: the symbolic input of a functional model, a
    KerasTensor of shape ``(None, *shape)`` made by an InputLayer (``x.node.layer``)::

        x = Input((784,)); h = Dense(64, activation="relu")(x); model = Model(x, Dense(10)(h))

    ``shape`` is one sample's shape (no batch axis); ``dtype`` 'float32' (default) or 'float64'
    is the dtype data is cast to. Also the first entry of a Sequential."""

    def __init__(self, shape=None, name=None, dtype=None, **kwargs):
        layer = InputLayer(shape=shape, name=name, dtype=dtype, **kwargs)
        super().__init__(layer.output_shape, layer.dtype, layer, 0, 0)
        layer._inbound_nodes[0].outputs[0] = self
        self._node = layer._inbound_nodes[0]

    @property
    def _input_shape_arg(self):
        return self._keras_history[0]._input_shape_arg

    def get_config(self):
        return self._keras_history[0].get_config()

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Dense(Layer):
    """y = activation(x · W + b) with W of shape (input features, units), as Keras stores it.

    The forward pass is one fused C++ op (``pydl.functional.linear``), the activation one more.
    """

    supports_masking = True  # per time step: a sequence's mask passes through

    @keras1_names(output_dim="units", init="kernel_initializer", W_regularizer="kernel_regularizer",
                  b_regularizer="bias_regularizer", bias="use_bias")
    def __init__(self, units=None, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if units is None or isinstance(units, bool) or int(units) != units or int(units) < 1:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = _act.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _init.get(kernel_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        self.kernel_regularizer = _reg.get(kernel_regularizer)
        self.bias_regularizer = _reg.get(bias_regularizer)
        self.kernel = None
        self.bias = None

    def build(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(f"{self.name}: Dense needs inputs with a feature axis, got sample shape {input_shape}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                                      self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)

    def _check_input(self, shape):
        if shape[-1:] != (self.kernel.shape[0],):
            raise ValueError(f"{self.name}: expected inputs with {self.kernel.shape[0]} features (the kernel is "
                             f"{tuple(self.kernel.shape)}), got samples of shape {shape}")

    def call(self, x, training=None, logits=False):
        y = _C.linear(x, self.kernel, self.bias)
        return y if logits else self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(units=self.units, activation=_act.serialize(self.activation), use_bias=self.use_bias,
                   kernel_initializer=_init.serialize(self.kernel_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer),
                   kernel_regularizer=None if self.kernel_regularizer is None else _reg.serialize(self.kernel_regularizer),
                   bias_regularizer=None if self.bias_regularizer is None else _reg.serialize(self.bias_regularizer),
                   activity_regularizer=None if self.activity_regularizer is None
                   else _reg.serialize(self.activity_regularizer))
        return cfg


class Activation(Layer):
    """Applies an activation by name: 'relu', 'sigmoid', 'softmax', ..."""

    supports_masking = True  # per time step: a sequence's mask passes through

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _act.get(activation)

    def call(self, x, training=None, logits=False):
        return x if logits else self.activation(x)

    def get_config(self):
        cfg = super().get_config()
        cfg["activation"] = _act.serialize(self.activation)
        return cfg


class Dropout(Layer):
    """Inverted dropout: in training each unit is zeroed with probability ``rate`` and the kept
    ones are scaled by 1/(1-rate); at inference the layer is the identity."""

    supports_masking = True  # per time step: a sequence's mask passes through

    @keras1_names(p="rate")
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"Dropout: rate is the fraction dropped, in [0, 1); got {rate}")
        self.rate = float(rate)

    def call(self, x, training=None):
        if not training or self.rate == 0.0:
            return x
        return _C.dropout(x, self.rate, True)

    def get_config(self):
        cfg = super().get_config()
        cfg["rate"] = self.rate
        return cfg


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1*d2*...)."""

    def call(self, x, training=None):
        return x.reshape(x.shape[0], -1) if x.ndim != 2 else x

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)

    def call(self, x, training=None):
        return x.reshape((x.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        n = int(np.prod(input_shape))
        shape = list(self.target_shape)
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1]))
            if known == 0 or n % known:
                raise ValueError(f"Reshape: cannot reshape samples of shape {input_shape} to {self.target_shape}")
            shape[shape.index(-1)] = n // known
        if int(np.prod(shape)) != n:
            raise ValueError(f"Reshape: cannot reshape samples of shape {input_shape} ({n} values) "
                             f"to {self.target_shape}")
        return tuple(shape)

    def get_config(self):
        cfg = super().get_config()
        cfg["target_shape"] = list(self.target_shape)
        return cfg


class Masking(Layer):
    """Keras's ``Masking(mask_value=0.0)``: a time step whose features all equal ``mask_value``
    is padding. The layer's output is its input with those steps set to 0 (as Keras), and it
    carries the mask (batch, time), True at the real steps, to the layers after it: a recurrent
    layer then skips the padded steps, and the loss and metrics of fit/evaluate leave them out."""

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float, np.integer, np.floating)):
            raise TypeError(f"Masking: mask_value must be a number, got {mask_value!r}")
        self.mask_value = float(mask_value)

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(f"{self.name}: Masking takes inputs with a feature axis, (batch, time, features); got "
                             f"sample shape {tuple(input_shape)}")
        return tuple(input_shape)

    def _keep(self, x):
        a = x.detach().numpy() if isinstance(x, _C.Tensor) else np.asarray(x)
        return np.any(a != self.mask_value, axis=-1)  # a step is padding when every feature is mask_value

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)  # Keras: the input's own mask, if any, is replaced

    def call(self, x, training=None):
        keep = self._keep(x)[..., None].astype(x.dtype.name)
        return x * _C.tensor(keep, dtype=x.dtype)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
