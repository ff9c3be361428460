"""``Embedding``: token ids -> learned vectors (word vectors, issue 9).

The maths is the course's: a token id as a 1-of-N (one-hot) vector times the embedding matrix
``W`` (input_dim, output_dim) picks row ``id`` of W, and the gradient reaches only the rows of the
ids seen (the other rows of the one-hot are 0). pydl computes that product without building the
one-hot: ``pydl.take(W, ids, axis=0)`` copies the rows (a C++ gather), and its backward adds each
output row's gradient into the row it came from (a scatter-add; a repeated id accumulates), so it
costs batch x time x output_dim whatever the vocabulary's size.
"""
import numbers

import numpy as np

from .. import _C
from .. import initializers as _init
from .. import regularizers as _reg
from .base import Layer


class Embedding(Layer):
    """Keras's ``Embedding(input_dim, output_dim)``: integer ids in [0, input_dim) of any shape
    (batch, ...) -> (batch, ..., output_dim). Ids may come as integer or float arrays holding
    whole numbers (an id outside the range or not whole raises, naming the layer)."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        for arg, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise ValueError(f"Embedding: {arg} must be a positive int, got {v!r}")
        if not isinstance(mask_zero, (bool, np.bool_)):
            raise TypeError(f"Embedding: mask_zero must be True or False, got {mask_zero!r}")
        for arg, v in (("embeddings_constraint", embeddings_constraint), ("weights", weights),
                       ("lora_rank", lora_rank)):
            if v is not None:
                raise NotImplementedError(f"Embedding: {arg} is not implemented")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = _init.get(embeddings_initializer)
        self.embeddings_regularizer = _reg.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        self.embeddings = None

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer, self.embeddings_regularizer)

    def _check_input(self, shape):
        # any number of ids per sample, as Keras (a sentence of any length); the rank stays
        if self.input_shape is not None and len(shape) != len(self.input_shape) - 1:
            raise ValueError(f"{self.name}: Embedding was built for ids of sample shape {self.input_shape[1:]}, "
                             f"got (batch,) + {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _ids(self, x):
        """The ids as an int64 tensor, checked: whole numbers in [0, input_dim) (ValueError naming
        the layer otherwise, before anything is computed)."""
        if isinstance(x, _C.Tensor) and x.dtype == _C.int64:
            t, a = x, x.numpy()  # int64 tensors never require grad: numpy() is a view
        else:
            a = x.detach().numpy() if isinstance(x, _C.Tensor) else np.asarray(x)
            if a.dtype.kind == "f":
                if not np.isfinite(a).all() or np.any(a != np.round(a)):
                    bad = a.reshape(-1)[np.argmax((~np.isfinite(a) | (a != np.round(a))).reshape(-1))]
                    raise ValueError(f"{self.name}: Embedding takes integer token ids, got {bad} (input shape "
                                     f"{a.shape})")
            elif a.dtype.kind not in "iu":
                raise TypeError(f"{self.name}: Embedding takes integer token ids, got dtype {a.dtype}")
            t = None
        if a.size:
            lo, hi = a.min(), a.max()
            if lo < 0 or hi >= self.input_dim:
                bad = int(lo) if lo < 0 else int(hi)
                raise ValueError(f"{self.name}: token id {bad} is outside [0, {self.input_dim}) (input_dim "
                                 f"{self.input_dim}, input shape {a.shape})")
        return t if t is not None else _C.tensor(a.astype(np.int64), dtype=_C.int64)

    def _call(self, x, training=None, logits=False):
        # ids stay ids: checked and made int64 here, never cast to the layer's float dtype
        return super()._call(self._ids(x), training=training, logits=logits)

    def call(self, x, training=None):
        # row ids[...] of W for every id: (batch, ...) -> (batch, ..., output_dim)
        return _C.take(self.embeddings, self._ids(x), 0)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": _init.serialize(self.embeddings_initializer),
                "embeddings_regularizer": None if self.embeddings_regularizer is None
                else _reg.serialize(self.embeddings_regularizer), "mask_zero": self.mask_zero}

    def compute_mask(self, inputs, mask=None):
        """mask_zero=True: id 0 is padding, so the mask is ids != 0 (Keras's). Id 0 still has a row
        of the matrix (never trained by real steps), so input_dim counts it: vocabulary + 1."""
        if not self.mask_zero:
            return None
        ids = inputs.detach().numpy() if isinstance(inputs, _C.Tensor) else np.asarray(inputs)
        return ids != 0
