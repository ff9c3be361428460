"""Layers around other layers, for sequences (issue 9): ``RepeatVector``, ``TimeDistributed`` and
``Bidirectional``, with Keras's names, arguments and weight order.

A wrapper owns the weights of the layer(s) it wraps: its ``weights`` are theirs (Bidirectional:
the forward layer's, then the backward one's), so saving, freezing and regularisation see them.
"""
import numbers

from .. import _C
from .base import Layer


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the vector repeated n times (the decoder's input
    in a sequence-to-sequence model)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"RepeatVector: n must be a positive int, got {n!r}")
        self.n = int(n)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"{self.name}: RepeatVector takes (batch, features) input, got sample shape "
                             f"{tuple(input_shape)}")
        return (self.n, input_shape[0])

    def call(self, x, training=None):
        b, f = x.shape
        return _C.broadcast_to(x.reshape(b, 1, f), [b, self.n, f])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class _Wrapper(Layer):
    """Shares the inner layers' weights: after building them, their weight lists are this layer's.
    The inner layers cast their inputs to their own dtype; the wrapper passes inputs on as given."""

    @property
    def _casts_inputs(self):
        return False

    def _adopt(self, *layers):
        self._params, self._untrainable = [], set()
        for layer in layers:
            self._params += layer._params
            self._untrainable |= layer._untrainable

    def regularization_losses(self):
        return [r for layer in self._inner() for r in layer.regularization_losses()]

    @staticmethod
    def _serialize(layer):
        from . import serialize
        return serialize(layer)

    @staticmethod
    def _deserialize(config):
        from . import deserialize
        return deserialize(config)


class TimeDistributed(_Wrapper):
    """Apply ``layer`` to every time step: (batch, time, ...) -> (batch, time, layer's output),
    with one set of weights shared by all steps (a Dense per step of a tagger). A mask
    (batch, time) passes through to the output, as in Keras; a mask of more axes (batch, time,
    ...) reaches the inner layer, step by step, when its call takes one."""

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed: expected a layer, got {type(layer).__name__}")
        super().__init__(**kwargs)
        self.layer = layer

    def _inner(self):
        return [self.layer]

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"{self.name}: TimeDistributed takes (batch, time, ...) input, got sample shape "
                             f"{tuple(input_shape)}")
        self.layer._build_for(tuple(input_shape[1:]))
        self._adopt(self.layer)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(self.layer.compute_output_shape(tuple(input_shape[1:])))

    def call(self, x, training=None, mask=None):
        b, t = x.shape[0], x.shape[1]
        flat = x.reshape(b * t, *x.shape[2:])
        if mask is not None and mask.ndim > 2 and self.layer._accepts_mask:
            y = self.layer._call(flat, training=training, mask=mask.reshape(b * t, *mask.shape[2:]))
        else:
            y = self.layer(flat, training=training)
        return y.reshape(b, t, *y.shape[1:])

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "layer": self._serialize(self.layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(cls._deserialize(config.pop("layer")), **config)


def _reverse_time(y):
    """y[:, ::-1] as a concatenation of one-step slices (each with its gradient)."""
    steps = [y[:, i:i + 1] for i in range(y.shape[1] - 1, -1, -1)]
    return steps[0] if len(steps) == 1 else _C.concatenate(steps, axis=1)


class Bidirectional(_Wrapper):
    """Run a recurrent layer over the sequence forwards and a copy of it backwards
    (``go_backwards`` flipped) and merge the two outputs: ``merge_mode`` 'concat' (default: the
    features side by side), 'sum', 'mul', 'ave', or None (a list of both). With
    ``return_sequences`` the backward layer's outputs are put back in time order first, so step
    t sees the past (forward) and the future (backward), as in Keras.

    A mask reaches both layers unchanged: the backward one, running with ``go_backwards``,
    reverses it with its input (Keras's way). With ``return_state=True`` in the wrapped layer the
    output is Keras's list ``[output] + forward states + backward states`` (merge_mode None:
    ``[forward output, backward output] + ...``). The output keeps the mask with
    ``return_sequences`` (each part of it with merge_mode None); the states carry none."""

    _MERGES = ("concat", "sum", "mul", "ave", None)

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        from .recurrent import _RNN
        if not isinstance(layer, _RNN):
            raise TypeError(f"Bidirectional: expected a recurrent layer (SimpleRNN, LSTM, GRU), got "
                            f"{type(layer).__name__}")
        if merge_mode not in self._MERGES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {self._MERGES}, got {merge_mode!r}")
        if weights is not None:
            raise NotImplementedError("Bidirectional: weights= is not implemented; call set_weights after building")
        kwargs.setdefault("name", None)
        super().__init__(**kwargs)
        cfg = layer.get_config()
        cfg["name"] = f"forward_{layer.name}"
        self.forward_layer = type(layer).from_config(cfg)
        if backward_layer is None:
            cfg = layer.get_config()
            cfg.update(name=f"backward_{layer.name}", go_backwards=not layer.go_backwards)
            backward_layer = type(layer).from_config(cfg)
        elif not isinstance(backward_layer, _RNN) or backward_layer.return_sequences != layer.return_sequences \
                or backward_layer.return_state != layer.return_state:
            raise ValueError("Bidirectional: backward_layer must be a recurrent layer with the same "
                             f"return_sequences and return_state as layer (layer: {layer.return_sequences}, "
                             f"{layer.return_state}; backward_layer: {getattr(backward_layer, 'return_sequences', None)}, "
                             f"{getattr(backward_layer, 'return_state', None)})")
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def _inner(self):
        return [self.forward_layer, self.backward_layer]

    def build(self, input_shape):
        self.forward_layer._build_for(input_shape)
        self.backward_layer._build_for(input_shape)
        self._adopt(self.forward_layer, self.backward_layer)

    def compute_output_shape(self, input_shape):
        fwd = self.forward_layer.compute_output_shape(input_shape)
        bwd = self.backward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:  # [output, *states] from each direction
            states = [tuple(s) for s in fwd[1:]] + [tuple(s) for s in bwd[1:]]
            fwd, bwd = fwd[0], bwd[0]
        out = tuple(fwd)
        if self.merge_mode is None:
            return [out, tuple(bwd)] + states
        if self.merge_mode == "concat":
            out = out[:-1] + (2 * out[-1],)
        return [out] + states if states else out

    def call(self, x, training=None, mask=None):
        # the same mask to both: the backward layer (go_backwards) reverses it with the steps
        y = self.forward_layer._call(x, training=training, mask=mask)
        y_rev = self.backward_layer._call(x, training=training, mask=mask)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = _reverse_time(y_rev)
        if self.merge_mode is None:
            return [y, y_rev] + states
        if self.merge_mode == "concat":
            out = _C.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "mul":
            out = y * y_rev
        else:  # 'ave'
            out = (y + y_rev) * 0.5
        return [out] + states if states else out

    def compute_mask(self, inputs, mask=None):
        """Keras's: the output keeps the sequence's mask with return_sequences (both parts with
        merge_mode None), none without; the states have none."""
        if isinstance(mask, list):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            outs += [None] * (2 * self.forward_layer._states)
        return outs if len(outs) > 1 else outs[0]

    def get_config(self):
        return {**super().get_config(), "layer": self._serialize(self.forward_layer), "merge_mode": self.merge_mode,
                "backward_layer": self._serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fwd = cls._deserialize(config.pop("layer"))
        bwd = cls._deserialize(config.pop("backward_layer"))
        fwd.name = fwd.name[len("forward_"):] if fwd.name.startswith("forward_") else fwd.name
        return cls(fwd, backward_layer=bwd, **config)
