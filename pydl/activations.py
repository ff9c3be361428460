"""Activation functions by Keras name; each is one C++ op with a fused gradient."""
from . import _C
from ._registry import lookup


def linear(x):
    return x


relu = _C.relu
sigmoid = _C.sigmoid
tanh = _C.tanh
elu = _C.elu


def leaky_relu(x, negative_slope=0.2):
    """Keras's default slope is 0.2 (PyTorch's 0.01)."""
    return _C.leaky_relu(x, negative_slope)


def softmax(x, axis=-1):
    return _C.softmax(x, axis)


_ALL = {"linear": linear, "relu": relu, "leaky_relu": leaky_relu, "elu": elu, "sigmoid": sigmoid,
        "tanh": tanh, "softmax": softmax}


def get(identifier):
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    return lookup("activation", _ALL, identifier)


def serialize(fn):
    for name, f in _ALL.items():
        if f is fn:
            return name
    raise ValueError(f"activation {fn!r} is not a built-in one and cannot be saved by name")
