"""Grad mode switches and multi-root backward (the engine itself is C++)."""
import functools

from . import _C


class set_grad_enabled:
    """Turn gradient recording on or off, as a function call or a ``with`` block."""

    def __init__(self, mode):
        self.prev = _C.is_grad_enabled()
        self.mode = bool(mode)
        _C._set_grad_enabled(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


class _GradMode:
    mode = True

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False

    def __call__(self, fn):  # also a decorator
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """``with pydl.no_grad():`` ops inside record no graph (evaluation, weight updates)."""
    mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""
    mode = True


def backward(tensors, grad_tensors=None, retain_graph=False):
    """Back-propagate from several outputs at once (their gradients are summed)."""
    if isinstance(tensors, _C.Tensor):
        tensors = [tensors]
        if grad_tensors is not None and not isinstance(grad_tensors, (list, tuple)):
            grad_tensors = [grad_tensors]
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, _C.Tensor) for t in tensors):
        raise TypeError(f"backward: tensors must be a Tensor or a list of Tensors, got {type(tensors).__name__}")
    if grad_tensors is not None and not isinstance(grad_tensors, (list, tuple)):
        raise TypeError(f"backward: grad_tensors must be a list (one gradient per tensor), "
                        f"got {type(grad_tensors).__name__}")
    _C.backward(list(tensors), None if grad_tensors is None else list(grad_tensors), retain_graph)
