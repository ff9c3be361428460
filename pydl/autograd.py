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


class GradientTape:
    """TensorFlow's ``GradientTape`` for the course's four steps written by hand::

        with pydl.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))

    pydl's autograd records every op on tensors that require grad (as PyTorch does), so the tape
    records nothing itself: ``gradient(target, sources)`` runs ``target.backward()`` and hands
    back the sources' gradients, leaving their ``.grad`` as it was before. A source the target
    does not depend on gets None (TensorFlow's default). Non-persistent (TensorFlow's default):
    a second ``gradient`` call raises; ``persistent=True`` keeps the graph for more."""

    def __init__(self, persistent=False):
        self.persistent = bool(persistent)
        self._used = False

    def __enter__(self):
        self._grad_mode = enable_grad().__enter__()
        return self

    def __exit__(self, *exc):
        self._grad_mode.__exit__(*exc)
        return False

    def gradient(self, target, sources):
        if self._used and not self.persistent:
            raise RuntimeError("GradientTape.gradient: this tape was already used; a non-persistent tape computes "
                               "gradients once (GradientTape(persistent=True) for more)")
        if not isinstance(target, _C.Tensor):
            raise TypeError(f"GradientTape.gradient: target must be a pydl Tensor, got {type(target).__name__}")
        single = isinstance(sources, _C.Tensor)
        srcs = [sources] if single else list(sources)
        for i, s in enumerate(srcs):
            if not isinstance(s, _C.Tensor) or not s.requires_grad:
                raise ValueError(f"GradientTape.gradient: source {i} is not a tensor that requires grad "
                                 "(a trainable weight)")
        saved = [s.grad for s in srcs]
        for s in srcs:
            s.grad = None
        try:
            target.backward(retain_graph=self.persistent)
            grads = [s.grad for s in srcs]
        finally:
            for s, g in zip(srcs, saved):
                s.grad = g
        self._used = True
        return grads[0] if single else grads
