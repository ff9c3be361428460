"""Merge layers: several inputs (a list) in, one out, as Keras's ``Add()([a, b])``.

Add, Subtract, Multiply, Average, Maximum and Minimum combine their inputs elementwise; the
sample shapes must agree, or broadcast (a size 1 against any size, same rank, as NumPy).
Concatenate joins them along one axis. Each is built from pydl's differentiable ops (add,
maximum, concatenate, ...), so backward is autograd's: the gradient of a broadcast input is
summed over the broadcast axes, that of Maximum goes to the larger input.
"""
import numbers

import numpy as np

from .. import _C
from .base import Layer, _is_shape_list


class _Merge(Layer):
    """The shared part: checks that the input is a list of at least ``_min_inputs`` tensors
    with compatible shapes; a subclass gives ``_combine(a, b)`` (or ``_merge(xs)``)."""

    _min_inputs = 2
    _max_inputs = None

    @property
    def _casts_inputs(self):
        # no weights: the layer keeps its inputs' dtype unless its own dtype was given
        return self._dtype_given

    def _check_list(self, input_shape):
        kind = type(self).__name__
        if not _is_shape_list(input_shape):
            raise ValueError(f"{self.name}: a {kind} layer is called on a list of tensors ({kind}()([a, b])), "
                             f"got one input of sample shape {tuple(input_shape)}")
        n = len(input_shape)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            want = (f"exactly {self._max_inputs}" if self._max_inputs == self._min_inputs
                    else f"at least {self._min_inputs}")
            raise ValueError(f"{self.name}: a {kind} layer takes {want} inputs, got {n} (sample shapes "
                             f"{[tuple(s) for s in input_shape]})")
        return [tuple(s) for s in input_shape]

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # the checks, before the layer counts as built

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        ranks = {len(s) for s in shapes}
        batch_shapes = [(None,) + s for s in shapes]
        if len(ranks) != 1:
            raise ValueError(f"{self.name}: {type(self).__name__} needs inputs of one rank, got shapes {batch_shapes}")
        out = []
        for dims in zip(*shapes):
            sizes = {d for d in dims if d != 1}
            if len(sizes) > 1:
                raise ValueError(f"{self.name}: {type(self).__name__} cannot combine inputs of shapes {batch_shapes}: "
                                 "each axis must have one size, or size 1 (broadcast)")
            out.append(sizes.pop() if sizes else 1)
        return tuple(out)

    def call(self, xs, training=None):
        out = xs[0]
        for x in xs[1:]:
            out = self._combine(out, x)
        return out

    # masks (Keras's): a step of the output is real where it is real in every masked input
    supports_masking = True

    def _masks(self, mask):
        ms = [m for m in (mask if isinstance(mask, list) else [mask]) if m is not None]
        if len({m.shape for m in ms}) > 1:
            raise ValueError(f"{self.name}: {type(self).__name__} got inputs with masks of different shapes "
                             f"{[m.shape for m in ms]}")
        return ms

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        ms = self._masks(mask)
        return np.logical_and.reduce(ms) if ms else None

    def _combine(self, a, b):
        raise NotImplementedError


class Add(_Merge):
    """The elementwise sum of its inputs: ``Add()([x, f(x)])`` is a residual connection."""

    def _combine(self, a, b):
        return a + b


class Subtract(_Merge):
    """``a - b`` of exactly two inputs."""

    _max_inputs = 2

    def _combine(self, a, b):
        return a - b


class Multiply(_Merge):
    """The elementwise product of its inputs."""

    def _combine(self, a, b):
        return a * b


class Average(_Merge):
    """The elementwise mean of its inputs."""

    def call(self, xs, training=None):
        return super().call(xs) * (1.0 / len(xs))

    def _combine(self, a, b):
        return a + b


class Maximum(_Merge):
    """The elementwise maximum of its inputs (the gradient goes to the larger one)."""

    def _combine(self, a, b):
        return _C.maximum(a, b)


class Minimum(_Merge):
    """The elementwise minimum of its inputs."""

    def _combine(self, a, b):
        return _C.minimum(a, b)


class Concatenate(_Merge):
    """Joins its inputs along ``axis`` (of the batched tensors, as Keras: -1 is the last, 0,
    the batch axis, is not allowed); every other size must agree."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"Concatenate: axis must be an int, got {axis!r}")
        if axis == 0:
            raise ValueError("Concatenate: axis=0 is the batch axis; concatenate samples along axis 1 or later "
                             "(axis=-1, the default, is the last)")
        self.axis = int(axis)

    def _sample_axis(self, rank, shapes):
        """The axis in sample shapes of ``rank`` dimensions (no batch axis)."""
        full = rank + 1
        axis = self.axis + full if self.axis < 0 else self.axis
        if not 1 <= axis < full:
            raise ValueError(f"{self.name}: axis {self.axis} is out of range for inputs of shapes "
                             f"{[(None,) + s for s in shapes]} (rank {full}; axis 0 is the batch axis)")
        return axis - 1

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        batch_shapes = [(None,) + s for s in shapes]
        if len({len(s) for s in shapes}) != 1:
            raise ValueError(f"{self.name}: Concatenate needs inputs of one rank, got shapes {batch_shapes}")
        a = self._sample_axis(len(shapes[0]), shapes)
        rest = {s[:a] + s[a + 1:] for s in shapes}
        if len(rest) != 1:
            raise ValueError(f"{self.name}: Concatenate(axis={self.axis}) needs inputs whose sizes agree on every "
                             f"axis but the concatenation axis, got shapes {batch_shapes}")
        s = shapes[0]
        return s[:a] + (sum(t[a] for t in shapes),) + s[a + 1:]

    def call(self, xs, training=None):
        return _C.concatenate(list(xs), self._sample_axis(xs[0].dim() - 1, []) + 1)

    def compute_mask(self, inputs, mask=None):
        """Along a masked axis (time) the masks are joined too (an input without one is real
        everywhere); along a later axis (features) a step is real where it is in every input."""
        if mask is None:
            return None
        ms = self._masks(mask)
        axis = self._sample_axis(inputs[0].dim() - 1, []) + 1
        if not ms or axis >= ms[0].ndim:
            return np.logical_and.reduce(ms) if ms else None
        lead = ms[0].ndim
        full = [np.ones(tuple(x.shape[:lead]), bool) if m is None else m for x, m in zip(inputs, mask)]
        return np.concatenate(full, axis=axis)

    def get_config(self):
        cfg = super().get_config()
        cfg["axis"] = self.axis
        return cfg
