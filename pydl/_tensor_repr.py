"""Tensor.__repr__: the values as NumPy prints them, then shape, dtype and grad_fn."""
import numpy as np

from ._C import Tensor, dtype


def _repr(t):
    body = np.array2string(t.detach().numpy(), precision=4, separator=", ", prefix="tensor(", threshold=200)
    parts = [f"shape={tuple(t.shape)}", f"dtype={t.dtype.name}"]
    if t.grad_fn is not None:
        parts.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        parts.append("requires_grad=True")
    return f"tensor({body}, {', '.join(parts)})"


Tensor.__repr__ = _repr
Tensor.__str__ = _repr
dtype.__repr__ = dtype.__str__ = lambda d: f"pydl.{d.name}"
