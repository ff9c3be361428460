"""Recurrent layers over (batch, time, features) sequences: SimpleRNN, LSTM, GRU. Each is one C++
op over the whole sequence (``pydl.functional.simple_rnn`` / ``lstm`` / ``gru``), whose backward is
full backpropagation through time; the equations are in those functions' docstrings and beside the
kernels (cpp/src/kernels/reference/rnn.cpp).

Weights are Keras's, in Keras's shapes and gate orders, so ``get_weights``/``set_weights`` move
them between pydl and Keras: SimpleRNN [kernel (in, u), recurrent_kernel (u, u), bias (u,)];
LSTM [kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,)], gates i, f, c, o; GRU (Keras 3's
reset_after=True) [kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u)], gates z, r, h.

Masks (``layer(x, mask=m)``, m (batch, time), True = keep, as Keras): a masked step carries the
states through unchanged and the output sequence holds the carried state there (Keras's default;
zeros with ``zero_output_for_mask=True``). ``dropout`` / ``recurrent_dropout``: masks drawn once per
call and fixed over the time steps, only in training (``fit``, or ``training=True``), from pydl's
seeded generator (``pydl.manual_seed``), or from the layer's own NumPy generator
(``default_rng(seed)``) when ``seed`` is given. As Keras 3 (3.8 on): ``dropout`` alone draws one
input mask (batch, features) for all gates; ``recurrent_dropout`` switches LSTM/GRU to Keras's
implementation 1, one mask per gate for h_{t-1} (batch, gates * units) and, with ``dropout`` too,
one input mask per gate (computed as the gate-stacked input times a block-diagonal kernel).
``stateful=True``: the last states of one batch start the next (same batch size), ``reset_states()``.

Not implemented yet (they raise when set, never silently ignored): GRU's reset_after=False,
constraints.
"""
import numbers

import numpy as np

from .. import _C
from .. import activations as _act
from .. import functional as _F
from .. import initializers as _init
from .. import regularizers as _reg
from .base import Layer

_ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")


def _activation_name(owner, name, value):
    """A Keras activation the fused kernels compute: 'tanh', 'sigmoid', 'relu', 'linear' (or None),
    given by name or as the pydl.activations function."""
    if value is None:
        return "linear"
    if callable(value):
        try:
            value = _act.serialize(value)
        except ValueError:
            value = getattr(value, "__name__", value)
    if isinstance(value, str) and value.lower() in _ACTIVATIONS:
        return value.lower()
    raise ValueError(f"{owner}: {name}={value!r} is not supported by the fused recurrent kernels; use one of "
                     f"{', '.join(repr(a) for a in _ACTIVATIONS)} (or None)")


def _bool_arg(owner, name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")
    return bool(value)


def _rate(owner, name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{owner}: {name} is the fraction dropped, a float in [0, 1), got {value!r}")
    return float(value)


def _not_implemented(owner, name, value, default):
    if isinstance(default, float):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
            raise ValueError(f"{owner}: {name} must be a float in [0, 1), got {value!r}")
        if value != default:
            raise NotImplementedError(f"{owner}: {name}={value!r} is not implemented yet in pydl (only "
                                      f"{name}={default!r}); it would not be applied, so it is refused")
    elif value is not default and value != default:
        raise NotImplementedError(f"{owner}: {name}={value!r} is not implemented yet in pydl (only "
                                  f"{name}={default!r}); it would not be applied, so it is refused")


class _RNN(Layer):
    """What SimpleRNN, LSTM and GRU share: arguments, weights, output shapes, config."""

    _gates = 1
    _op = None  # the pydl.functional function
    _states = 1  # states returned with return_state (h; LSTM: h, c)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, zero_output_for_mask=False,
                 **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        if not isinstance(units, numbers.Integral) or isinstance(units, bool) or units < 1:
            raise ValueError(f"{cls}: units must be a positive int, got {units!r}")
        self.units = int(units)
        self.activation = _activation_name(cls, "activation", activation)
        self.recurrent_activation = _activation_name(cls, "recurrent_activation", recurrent_activation)
        self.use_bias = _bool_arg(cls, "use_bias", use_bias)
        self.kernel_initializer = _init.get(kernel_initializer)
        self.recurrent_initializer = _init.get(recurrent_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        self.kernel_regularizer = _reg.get(kernel_regularizer)
        self.recurrent_regularizer = _reg.get(recurrent_regularizer)
        self.bias_regularizer = _reg.get(bias_regularizer)
        for name, value in (("kernel_constraint", kernel_constraint), ("recurrent_constraint", recurrent_constraint),
                            ("bias_constraint", bias_constraint)):
            _not_implemented(cls, name, value, None)
        self.dropout = _rate(cls, "dropout", dropout)
        self.recurrent_dropout = _rate(cls, "recurrent_dropout", recurrent_dropout)
        self.stateful = _bool_arg(cls, "stateful", stateful)
        self.zero_output_for_mask = _bool_arg(cls, "zero_output_for_mask", zero_output_for_mask)
        self._state_values = None  # stateful: the states the next batch starts from (detached)
        self._pending_mask = None  # the mask given to __call__, read by call
        self.return_sequences = _bool_arg(cls, "return_sequences", return_sequences)
        self.return_state = _bool_arg(cls, "return_state", return_state)
        self.go_backwards = _bool_arg(cls, "go_backwards", go_backwards)
        # unroll only changes how Keras's graph is built, not what it computes: the fused op
        # always runs the loop over time in C++.
        self.unroll = _bool_arg(cls, "unroll", unroll)
        # seed (Keras's): the dropout masks come from the layer's own generator started at seed, so
        # they repeat from run to run whatever else draws random numbers; None: pydl's generator
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
            raise TypeError(f"{cls}: seed must be an int or None, got {seed!r}")
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(int(seed))

    # ---- shapes
    def __call__(self, x, initial_state=None, training=None, mask=None):
        """``initial_state`` (Keras's): the states to start from, ``[h]`` (LSTM: ``[h, c]``), each
        (batch, units); tensors or symbolic tensors (then the layer is a node of several inputs, as
        ``layer([x, h, c])``). None starts from zeros (or, stateful, from the last batch's states).
        ``mask`` (batch, time), bool or 0/1, True = keep: see the module's docstring."""
        if initial_state is not None:
            if isinstance(x, (list, tuple)):
                raise ValueError(f"{self.name}: give the initial states either in initial_state or after the "
                                 "sequence in one list, not both")
            x = [x] + (list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state])
        if mask is None:
            return super().__call__(x, training=training)
        if type(mask).__name__ == "KerasTensor":
            raise NotImplementedError(f"{self.name}: a symbolic mask given by hand is not supported yet; masks "
                                      "reach a recurrent layer of a model from Embedding(mask_zero=True) / Masking")
        self._pending_mask = mask
        try:
            return super().__call__(x, training=training)
        finally:
            self._pending_mask = None

    def _split_shapes(self, input_shape):
        """(sequence sample shape, [state sample shapes]); states only when given with the input."""
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            seq, states = tuple(input_shape[0]), [tuple(s) for s in input_shape[1:]]
            if len(states) != self._states:
                raise ValueError(f"{self.name}: {type(self).__name__} takes {self._states} initial state(s) "
                                 f"({'[h, c]' if self._states == 2 else '[h]'}), got {len(states)}")
            for st in states:
                if st != (self.units,):
                    raise ValueError(f"{self.name}: an initial state must have shape (batch, {self.units}), got "
                                     f"(batch,) + {st}")
        else:
            seq, states = tuple(input_shape), []
        if len(seq) != 2:
            raise ValueError(f"{self.name}: {type(self).__name__} takes sequences (batch, time, features), i.e. "
                             f"samples of shape (time, features), got sample shape {seq}")
        if any(d is not None and int(d) < 1 for d in seq):
            raise ValueError(f"{self.name}: {type(self).__name__} got samples of shape {seq}: the sequence "
                             "must have at least one time step and one feature")
        return seq, states

    def _bias_values(self, shape, dtype):
        return self.bias_initializer(shape, dtype=dtype)

    def build(self, input_shape):
        features = int(self._split_shapes(input_shape)[0][1])
        gu = self._gates * self.units
        self.kernel = self.add_weight("kernel", (features, gu), self.kernel_initializer, self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, gu), self.recurrent_initializer,
                                                self.recurrent_regularizer)
        self.bias = None
        if self.use_bias:
            shape = self._bias_shape()
            self.bias = self.add_weight("bias", shape, lambda s, dtype="float32": self._bias_values(s, dtype),
                                        self.bias_regularizer)
        self.built = True

    def _bias_shape(self):
        return (self._gates * self.units,)

    def compute_output_shape(self, input_shape):
        time = self._split_shapes(input_shape)[0][0]
        out = (time, self.units) if self.return_sequences else (self.units,)
        if self.return_state:
            return [out] + [(self.units,)] * self._states
        return out

    def compute_mask(self, inputs, mask=None):
        """Keras's: the output keeps the sequence's mask with return_sequences, none for the last
        step alone; the states (return_state) have none."""
        if isinstance(mask, list):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out] + [None] * self._states if self.return_state else out

    def _check_input(self, shape):
        # As Keras: the number of features is fixed when built, the number of time steps is not.
        if not self.built:
            return
        seq, _ = self._split_shapes(shape)
        want = int(self.kernel.shape[0])
        if int(seq[1]) != want:
            raise ValueError(f"{self.name}: {type(self).__name__} was built for sequences of {want} features "
                             f"(samples (time, {want})), got (batch,) + {seq}")

    # ---- the maths
    def _run(self, x, kernel, states, mask, rdrop):
        raise NotImplementedError

    def _dropout_mask(self, shape, rate, dtype):
        """A dropout mask of ones, zeroed with probability rate and scaled by 1/(1-rate)."""
        if self._rng is not None:
            keep = (self._rng.random(shape) >= rate) / (1.0 - rate)
            return _C.tensor(np.ascontiguousarray(keep, dtype=dtype.name), dtype=dtype)
        return _C.dropout(_C.ones(list(shape), dtype=dtype), rate, True)

    def call(self, x, training=None, mask=None):
        if self._pending_mask is not None:  # given to __call__ by hand: it wins over the input's
            mask = self._pending_mask
        if isinstance(mask, list):  # [sequence, *initial states]: the sequence's mask (Keras's)
            mask = mask[0]
        states = [None] * self._states
        if isinstance(x, list):
            x, states = x[0], list(x[1:])
        batch, steps, features = (int(d) for d in x.shape)
        if self.stateful and states[0] is None:
            states = self._stateful_states(batch, x.dtype)
        rdrop, kernel = None, self.kernel
        per_gate = self._gates > 1 and self.recurrent_dropout > 0  # Keras's cells then use implementation 1
        if training and self.dropout > 0:
            # masks per sample and feature, the same at every step (Keras's get_dropout_mask)
            if per_gate:
                # one input mask per gate: x' = [x * m_1, ..., x * m_G] (batch, time, G * features) times
                # the block-diagonal kernel' (rows q of the gate-q columns of the kernel) = [(x * m_q) W_q]_q
                G, gu = self._gates, self._gates * self.units
                parts = [x * self._dropout_mask((batch, features), self.dropout, x.dtype).reshape(
                    [batch, 1, features]) for _ in range(G)]
                x = _C.concatenate(parts, 2)
                blocks = []
                for q in range(G):
                    cols = np.zeros((features, gu), dtype=x.dtype.name)
                    cols[:, q * self.units:(q + 1) * self.units] = 1
                    blocks.append(kernel * _C.tensor(cols, dtype=x.dtype))
                kernel = _C.concatenate(blocks, 0)
            else:
                keep = self._dropout_mask((batch, features), self.dropout, x.dtype)
                x = x * keep.reshape([batch, 1, features])
        if training and self.recurrent_dropout > 0:
            # one mask per gate (Keras's cells with recurrent dropout, implementation 1)
            rdrop = self._dropout_mask((batch, self._gates * self.units), self.recurrent_dropout, x.dtype)
        seq, *states = self._run(x, kernel, states, mask, rdrop)
        if self.stateful:
            self._state_values = [s.detach().clone() for s in states]
        if self.return_sequences:
            out = seq
        elif self.zero_output_for_mask and mask is not None:
            # Keras returns the sequence's last step, zero where that step is masked
            m = np.asarray(mask.detach().numpy() if isinstance(mask, _C.Tensor) else mask, dtype=bool)
            last = m[:, 0 if self.go_backwards else steps - 1].astype(x.dtype.name).reshape(batch, 1)
            out = states[0] * _C.tensor(np.ascontiguousarray(last), dtype=x.dtype)
        else:
            out = states[0]
        if self.return_state:
            return [out] + states
        return out

    # ---- stateful
    def _stateful_states(self, batch, dtype):
        if self._state_values is None:
            self._state_values = [_C.zeros([batch, self.units], dtype=dtype) for _ in range(self._states)]
        have = int(self._state_values[0].shape[0])
        if have != batch:
            raise ValueError(f"{self.name}: stateful=True carries the states of {have} samples from batch to batch, "
                             f"got a batch of {batch}; feed batches of one fixed size (e.g. "
                             "fit(..., batch_size=n, shuffle=False) on a number of samples divisible by n) or call "
                             "reset_states() before changing it")
        return [s if s.dtype == dtype else s.to(dtype) for s in self._state_values]

    def reset_states(self, states=None):
        """stateful=True: start the next batch from zeros (``states=None``) or from ``states``,
        ``[h]`` (LSTM: ``[h, c]``), each (batch, units) (the batch size they set is then fixed)."""
        if not self.stateful:
            raise AttributeError(f"{self.name}: reset_states() is for stateful=True layers (this one keeps no states)")
        if states is None:
            if self._state_values is not None:
                self._state_values = [_C.zeros(list(s.shape), dtype=s.dtype) for s in self._state_values]
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(states) != self._states:
            raise ValueError(f"{self.name}: reset_states takes {self._states} state(s) "
                             f"({'[h, c]' if self._states == 2 else '[h]'}), got {len(states)}")
        vals = []
        for st in states:
            a = np.asarray(st.detach().numpy() if isinstance(st, _C.Tensor) else st, dtype=np.float64)
            if a.ndim != 2 or a.shape[1] != self.units or (vals and a.shape[0] != vals[0].shape[0]):
                raise ValueError(f"{self.name}: each state must have shape (batch, {self.units}), got {a.shape}")
            vals.append(a)
        self._state_values = [_C.tensor(np.ascontiguousarray(a)) for a in vals]

    def reset_state(self, states=None):
        """Keras 3's name for ``reset_states``."""
        self.reset_states(states)

    def get_config(self):
        cfg = super().get_config()
        ser = lambda r: None if r is None else _reg.serialize(r)  # noqa: E731
        cfg.update(units=self.units, activation=self.activation, use_bias=self.use_bias,
                   kernel_initializer=_init.serialize(self.kernel_initializer),
                   recurrent_initializer=_init.serialize(self.recurrent_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer),
                   kernel_regularizer=ser(self.kernel_regularizer),
                   recurrent_regularizer=ser(self.recurrent_regularizer),
                   bias_regularizer=ser(self.bias_regularizer),
                   dropout=self.dropout, recurrent_dropout=self.recurrent_dropout,
                   return_sequences=self.return_sequences, return_state=self.return_state,
                   go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll, seed=self.seed,
                   zero_output_for_mask=self.zero_output_for_mask)
        return cfg


class SimpleRNN(_RNN):
    """Keras's SimpleRNN: h_t = activation(x_t kernel + h_{t-1} recurrent_kernel + bias).

    Returns the last h (batch, units), or the whole sequence (batch, time, units) with
    ``return_sequences=True``; ``return_state=True`` returns ``[output, h]``.
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", **kwargs):
        for name in ("recurrent_activation", "unit_forget_bias", "reset_after", "use_cudnn"):
            if name in kwargs:  # LSTM's / GRU's arguments, which Keras's SimpleRNN does not take
                raise TypeError(f"SimpleRNN: unexpected argument {name!r} (an LSTM / GRU argument)")
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer, **kwargs)

    def _run(self, x, kernel, states, mask, rdrop):
        return _F.simple_rnn(x, kernel, self.recurrent_kernel, self.bias, states[0], self.activation,
                             self.go_backwards, mask=mask, recurrent_dropout=rdrop,
                             zero_output_for_mask=self.zero_output_for_mask, return_sequences=self.return_sequences)


class LSTM(_RNN):
    """Keras's LSTM, gates i (input), f (forget), c (candidate), o (output):

    i, f, o = recurrent_activation(x W + h U + b) in their quarters, g = activation(...);
    c_t = f * c_{t-1} + i * g;  h_t = o * activation(c_t).

    ``unit_forget_bias=True`` (Keras's default) starts the forget quarter of the bias at 1.
    ``return_state=True`` returns ``[output, h, c]``.
    """

    _gates = 4
    _states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 unit_forget_bias=True, use_cudnn="auto", **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, **kwargs)
        self.unit_forget_bias = _bool_arg(type(self).__name__, "unit_forget_bias", unit_forget_bias)
        _use_cudnn(type(self).__name__, use_cudnn)

    def _bias_values(self, shape, dtype):
        u = self.units
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        # as Keras: bias_initializer for i, ones for f, bias_initializer for c and o
        return np.concatenate([np.asarray(self.bias_initializer((u,), dtype=dtype), dtype=dtype),
                               np.ones((u,), dtype=dtype),
                               np.asarray(self.bias_initializer((2 * u,), dtype=dtype), dtype=dtype)])

    def _run(self, x, kernel, states, mask, rdrop):
        init = None if states[0] is None else (states[0], states[1])
        return _F.lstm(x, kernel, self.recurrent_kernel, self.bias, init, self.activation,
                       self.recurrent_activation, self.go_backwards, mask=mask, recurrent_dropout=rdrop,
                       zero_output_for_mask=self.zero_output_for_mask, return_sequences=self.return_sequences)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(recurrent_activation=self.recurrent_activation, unit_forget_bias=self.unit_forget_bias)
        return cfg


class GRU(_RNN):
    """Keras 3's GRU (reset_after=True), gates z (update), r (reset), h (candidate):

    z = ra(x W_z + b_z + h U_z + b_rz),  r = ra(x W_r + b_r + h U_r + b_rr),
    hh = a(x W_h + b_h + r * (h U_h + b_rh)),  h_t = z * h_{t-1} + (1 - z) * hh;

    bias (2, 3 * units): row 0 the input bias, row 1 the recurrent bias. ``return_state=True``
    returns ``[output, h]``.
    """

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, use_cudnn="auto", **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, **kwargs)
        _not_implemented(type(self).__name__, "reset_after", _bool_arg(type(self).__name__, "reset_after",
                                                                       reset_after), True)
        self.reset_after = True
        _use_cudnn(type(self).__name__, use_cudnn)

    def _bias_shape(self):
        return (2, 3 * self.units)

    def _run(self, x, kernel, states, mask, rdrop):
        return _F.gru(x, kernel, self.recurrent_kernel, self.bias, states[0], self.activation,
                      self.recurrent_activation, self.go_backwards, mask=mask, recurrent_dropout=rdrop,
                      zero_output_for_mask=self.zero_output_for_mask, return_sequences=self.return_sequences)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(recurrent_activation=self.recurrent_activation, reset_after=self.reset_after)
        return cfg


def _use_cudnn(owner, value):
    # Keras's use_cudnn picks the cuDNN kernel on a GPU ('auto': when it can); pydl has none.
    if value == "auto" or value is False:
        return
    if value is True:
        raise NotImplementedError(f"{owner}: use_cudnn=True asks for the cuDNN kernel, which pydl does not have; "
                                  "leave it 'auto' (or False)")
    raise ValueError(f"{owner}: use_cudnn must be 'auto', True or False, got {value!r}")
